/**
 * Fuzzing the two readers of outside input (issue 17): the config loader and the capture reader
 * get random and mutated inputs, and must answer every one with a result, a listed problem, a
 * UserError/ExternalError, or a counted bad line; never an internal error. Bounded (a fixed number
 * of inputs) and reproducible: the seed is printed on failure; MLOPS_FUZZ_SEED=<n> replays it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeConfig, parseConfigText } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { CaptureLineError, decodeRecord, type CaptureRecord } from '../../src/core/capture.js';
import { LiveSummary } from '../../src/core/drift/evaluate.js';
import { ProfileBuilder } from '../../src/core/drift/profile.js';
import { scanCapture } from '../../src/core/drift/scan.js';
import { MlopsError } from '../../src/core/errors.js';

const SEED = Number(process.env.MLOPS_FUZZ_SEED ?? 20261130);
const INPUTS = 1000; // per reader: 2,000 in all, a few seconds

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number) {
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
type Rng = ReturnType<typeof rng>;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = readFileSync(path.join(root, 'mlops.config.example.yaml'), 'utf8');
const SMALL = 'project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:5000\ncompare:\n  gates:\n    - { metric: acc, min: 0.5 }\n';
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
const SCALARS: unknown[] = [null, true, 0, -1, Infinity, NaN, '', 'x', '1h', 's3://bucket/p', [], {}, [1, 'a'], { a: 1 }];

function mutateText(r: Rng, text: string): string {
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

function randomValue(r: Rng, depth = 0): unknown {
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

/** Runs the check; on failure, says which input (and seed) broke it. */
function expectNoInternalError(what: string, input: unknown, run: () => void): void {
  try {
    run();
  } catch (err) {
    const expected = err instanceof MlopsError && (err.source === 'user' || err.source === 'external');
    if (!expected) {
      throw new Error(
        `${what} failed on ${JSON.stringify(input).slice(0, 300)} (seed ${SEED}; replay with MLOPS_FUZZ_SEED=${SEED}): ${String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}

describe(`fuzz (seed ${SEED})`, () => {
  it(`the config loader: ${INPUTS} random and mutated inputs, no internal error`, () => {
    const r = rng(SEED);
    const env = { SECRET: 's3cr3t', X: '' };
    for (let i = 0; i < INPUTS; i++) {
      const kind = r.int(4);
      if (kind === 3) {
        const value = randomValue(r);
        expectNoInternalError('validateConfig', value, () => {
          const out = validateConfig(value);
          expect(out.config !== undefined || out.problems.length > 0).toBe(true);
        });
        continue;
      }
      const text =
        kind === 2
          ? Array.from({ length: r.int(200) }, () => String.fromCharCode(r.int(0x500))).join('')
          : mutateText(r, r.pick([EXAMPLE, SMALL]));
      const bytes = Buffer.from(text, 'utf8');
      if (r.next() < 0.2) bytes[r.int(bytes.length)] = 0x80 + r.int(0x80); // an invalid UTF-8 byte, sometimes
      expectNoInternalError('the config loader', text, () => {
        const decoded = decodeConfig(bytes);
        if ('problem' in decoded) return;
        const out = parseConfigText(decoded.text, '/repo/mlops.config.yaml', env);
        expect(out.config !== undefined || out.problems.length > 0).toBe(true);
        for (const p of out.problems) expect(typeof p.message).toBe('string');
      });
    }
  });

  it(`the capture reader: ${INPUTS} random and mutated lines, each read or counted as bad with its reason`, async () => {
    const r = rng(SEED + 1);
    const b = new ProfileBuilder({ outputs: ['y'] });
    b.setColumns(['x', 'c', 'y']);
    for (let i = 0; i < 200; i++) b.addRow([String(i % 50), ['p', 'q'][i % 2], String(i % 3)]);
    const profile = b.finish();
    const layout = { inputWidth: 2, outputWidth: 1, names: new Set(['x', 'c', 'y']) };
    const payloads = [
      { observedContentType: 'text/csv', mode: 'INPUT', data: '1,p', encoding: 'CSV' },
      { observedContentType: 'application/json', mode: 'INPUT', data: '{"instances":[[1,"p"],[2,"q"]]}', encoding: 'JSON' },
      { observedContentType: 'application/json', mode: 'INPUT', data: Buffer.from('[[1,"p"]]').toString('base64'), encoding: 'BASE64' },
      { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
      { observedContentType: 'application/json', mode: 'OUTPUT', data: '{"predictions":[0.5]}', encoding: 'JSON' },
    ];
    const lines: string[] = [];
    for (let i = 0; i < INPUTS; i++) {
      const rec = {
        captureData: { endpointInput: { ...r.pick(payloads) }, endpointOutput: { ...r.pick(payloads) } } as Record<
          string,
          Record<string, unknown>
        >,
        eventMetadata: { eventId: String(i), inferenceTime: '2026-11-26T10:00:00Z' },
      };
      // Mutate the record's structure, then (sometimes) its text.
      if (r.next() < 0.5)
        rec.captureData[r.pick(['endpointInput', 'endpointOutput'])][r.pick(['data', 'encoding', 'observedContentType'])] = r.pick(SCALARS);
      if (r.next() < 0.1) (rec as Record<string, unknown>).captureData = r.pick(SCALARS);
      let line = r.next() < 0.1 ? JSON.stringify(randomValue(r)) : JSON.stringify(rec);
      if (r.next() < 0.3) line = mutateText(r, line).replace(/\n/g, ' ');
      lines.push(line);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // counted as "not JSON" by the scan below
      }
      try {
        decodeRecord(parsed as CaptureRecord, layout);
      } catch (err) {
        if (!(err instanceof CaptureLineError)) {
          throw new Error(
            `decodeRecord failed on ${line.slice(0, 300)} (seed ${SEED}; replay with MLOPS_FUZZ_SEED=${SEED}): ${String(err)}`,
            { cause: err },
          );
        }
      }
    }
    const live = new LiveSummary(profile);
    const stats = await scanCapture(
      (async function* () {
        yield { source: 'fuzz', lines };
      })(),
      live,
    );
    const counted = Object.values(stats.badReasons).reduce((a, n) => a + (n ?? 0), 0);
    expect(counted, `seed ${SEED}`).toBe(stats.bad);
    expect(stats.records + stats.bad + stats.outsideWindow, `seed ${SEED}`).toBe(stats.lines);
    expect(stats.badExamples.join('\n'), `seed ${SEED}`).not.toMatch(/is not a function|Cannot read properties|is not iterable/);
  });
});
