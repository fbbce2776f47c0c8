/**
 * Seeded inputs for fuzzing the config reader (test/unit/fuzz.test.ts) and for comparing its fast
 * path with zod (test/unit/config-fast-path.test.ts): one generator, so both see the same inputs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** mulberry32: small, seedable, good enough to pick mutations. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}
export type Rng = ReturnType<typeof rng>;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLE = readFileSync(path.join(root, 'mlops.config.example.yaml'), 'utf8');
export const SMALL = 'project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:5000\ncompare:\n  gates:\n    - { metric: acc, min: 0.5 }\n';
const YAML_TOKENS = [
  '&a ',
  '*a',
  '<<: *a\n',
  '!!binary ',
  '!!js/function ',
  '? ',
  ': ',
  '- ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '"',
  "'",
  '|\n',
  '>-\n',
  '\t',
  '\n  ',
  '#',
  '%YAML 1.2\n',
  '---\n',
  '...\n',
  '${SECRET}',
  '${X:-d}',
  '$$',
  '~',
  'null',
  '1e999',
  '-.inf',
  '.nan',
  '0x1F',
  '2h',
  '99999999999999999999d',
  's3://b/../x',
  '--help',
  '\u202e',
  '\u0000',
  '\ufeff',
  'é',
  '😀',
  'x'.repeat(200),
];
export const SCALARS: unknown[] = [null, true, 0, -1, Infinity, NaN, '', 'x', '1h', 's3://bucket/p', [], {}, [1, 'a'], { a: 1 }];

/** One to four random edits of YAML text: tokens in, characters out, a line repeated, a key with a scalar. */
export function mutateText(r: Rng, text: string): string {
  let t = text;
  for (let n = 1 + r.int(4); n > 0; n--) {
    const at = r.int(t.length + 1);
    switch (r.int(5)) {
      case 0:
        t = t.slice(0, at) + r.pick(YAML_TOKENS) + t.slice(at);
        break;
      case 1:
        t = t.slice(0, at) + t.slice(at + 1 + r.int(20));
        break;
      case 2: {
        const lines = t.split('\n');
        const i = r.int(lines.length);
        lines.splice(r.int(lines.length), 0, lines[i]);
        t = lines.join('\n');
        break;
      }
      case 3:
        t = t.slice(0, at) + String.fromCharCode(r.int(0x3000)) + t.slice(at + 1);
        break;
      default:
        t = t.slice(0, at) + ': ' + JSON.stringify(r.pick(SCALARS)) + '\n' + t.slice(at);
    }
  }
  return t;
}

/** A random value shaped loosely like a config. */
export function randomValue(r: Rng, depth = 0): unknown {
  if (depth > 3 || r.next() < 0.4) return r.pick(SCALARS);
  if (r.next() < 0.5) return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
  const keys = [
    'project',
    'mlflow',
    'trackingUri',
    'compare',
    'gates',
    'metric',
    'direction',
    'deploy',
    'monitor',
    'train',
    'timeout',
    'wait',
    'cutover',
    'type',
    'data',
    'remote',
    'x',
  ];
  return Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick(keys), randomValue(r, depth + 1)]));
}
