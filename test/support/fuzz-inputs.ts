/**
 * Seeded inputs for fuzzing the config reader (test/unit/fuzz.test.ts) and for comparing its fast
 * path with zod (test/unit/config-fast-path.test.ts): one generator, so both see the same inputs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './random.js';

/** A seeded generator (mulberry32), good enough to pick mutations. */
export function rng(seed: number) {
  const next = mulberry32(seed);
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

const RANDOM_KEYS = ['project', 'mlflow', 'trackingUri', 'compare', 'gates', 'metric', 'direction', 'deploy', 'monitor', 'train'];

/** A random value shaped loosely like a config, its leaves from `scalars` and its keys from `keys`. */
export function randomValue(
  r: Rng,
  depth = 0,
  scalars: readonly unknown[] = SCALARS,
  keys: readonly string[] = [...RANDOM_KEYS, 'timeout', 'wait', 'cutover', 'type', 'data', 'remote', 'x'],
): unknown {
  if (depth > 3 || r.next() < 0.4) return r.pick(scalars);
  if (r.next() < 0.5) return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1, scalars, keys));
  return Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick(keys), randomValue(r, depth + 1, scalars, keys)]));
}

/**
 * Spellings of one-line YAML values, as they would be typed after `key: `: every YAML 1.2 core
 * scalar form and its near misses, quoting and escapes, `#` and `: ` inside values, flow
 * collections, interpolation, the constructs a reader must refuse (anchors, tags, block scalars)
 * and characters YAML does not count as white space (no-break spaces).
 */
export const YAML_SPELLINGS: readonly string[] = [
  ...['0x1F', '0o17', '017', '0b1', '1_000', '+1', '-0', '12', '-12', '1.', '.5', '-.5', '1.50', '1e3', '1E-3', '+1.5e+3', '2e', 'e2'],
  ...['010', '08', '0O17', '0X1F', '-0x1F', '+0o7', '1.e3', '.e3', '99999999999999999999', '1e999', '0.1', '2557', '0'],
  ...['.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN', '-.nan', 'nan', 'inf', '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True'],
  ...['TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n', '1h', '30s', '2h', 'a b', 'a#b', 'a #b', 'a:b'],
  ...['a: b', 'a:', ':a', '-a', '- a', '-', '?', '? x', 'a,b', 'a]', 'a}', 'x!', '---', '...', "it's", 'a "b #c"', 'C:\\p', '=', '<<'],
  ...['"x"', "'x'", '"a\\nb"', '"a\\tb"', '"\\u00e9"', '"\\x41"', '"\\/"', '"a\\"b"', '"a\\\\"', '"\\e"', '"a\\ b"', "'it''s'", "'a''"],
  ...['"a # b"', "'a: b'", '""', "''", '"1"', "'true'", '"x" # c', '"x"#c', "'x' 'y'", '"unclosed', "'unclosed", '"a"b'],
  ...['[a, b]', '[a,b]', '[ ]', '[]', '[a, ]', '[a, [b]]', '["a, b", c]', '[\'x\', "y"]', '[a #b]', '[a: b]', '[a:b]', '[a :b]'],
  ...['[1, 2.5, true, null, ~]', '[a, b] # c', '[a, b]#c', '[a', '[${X:-d}]', '[-]', '{ a: 1 }', '{a: 1}', '{}', '{ }', '{ a: 1, }'],
  ...['{ a: b c }', '{ a }', '{ "a": 1 }', '{"a":1}', '{ a: [1] }', '{ a: 1, a: 2 }', '{ 1: a }', '{ a: b: c }', '{ a: "x" } # c'],
  ...['http://127.0.0.1:5000', 'https://x.example/p?q=1#f', 's3://bucket/p', 's3://b/p', 's3://b/../x', 'arn:aws:iam::123456789012:role/x'],
  ...['${X:-d}', '${SECRET}', '"${SECRET}"', "'${X:-d}'", '$$', '${UNSET}', '${X-d}', 'pre${X:-d}post'],
  ...['*a', '&a x', '!!str 1', '!!int "1"', '!x', '|', '|-', '>', '>-', '%x', '@x', '`x', '# only a comment', ''],
  ...[
    'x\u00a0',
    '\u00a0x',
    'x\u00a0#c',
    'x\u3000',
    'x\u2003y',
    'é',
    '😀',
    'x'.repeat(90),
    'a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 a b',
  ],
];

/** Keys as they would be typed before `: `, including ones a reader must refuse or quote. */
const KEY_SPELLINGS: readonly string[] = [
  ...['a', 'x', 'k1', 'my_key', 'a.b', 'a-b', '$ref', '/p', '_', 'é', 'ключ', 'a b', '"a b"', "'a'", '"a"', '"x:y"', '"1"'],
  ...['1', '-1', '1e3', 'true', 'True', 'null', '~', '.inf', '__proto__', '"__proto__"', '<<', 'a#b', 'a #b', 'k ', '? k', '&a k'],
  ...['!!str k', '*a', '- k', '"k', 'k'.repeat(1001), 'k'.repeat(1002), `"${'k'.repeat(1030)}"`, `'${'k'.repeat(1000)}'`, 'a:b'],
];

/**
 * Random YAML text of a value, written in the styles people use and the ones they misuse: block or
 * flow collections, compact or indented sequences, indentation of 1 to 4, plain or quoted scalars,
 * comments and blank lines anywhere; now and then a leaf or key is swapped for a spelling from
 * YAML_SPELLINGS or KEY_SPELLINGS, and the document gets CRLF, a BOM, document markers, a tab or no
 * final newline. The text need not mean the value: it is read by both readers and compared.
 */
export function yamlText(r: Rng, value: unknown, oddity = 0.05): string {
  const step = r.pick([2, 2, 2, 4, 1, 3]);
  const chance = (p: number) => r.next() < p;
  const comment = () => (chance(oddity) ? '#c' : r.pick([' # c', ' #c', ' # a: b', ' # "x', '  # - y', ' #']));
  const scalar = (v: unknown): string => {
    if (chance(oddity)) return r.pick(YAML_SPELLINGS);
    if (typeof v === 'string') {
      const style = r.int(6);
      if (style === 0) return `'${v.replace(/'/g, "''")}'`;
      if (style === 1) return JSON.stringify(v);
      return v;
    }
    if (v === null) return r.pick(['null', '~', '', 'Null', 'NULL']);
    if (typeof v === 'boolean') return r.pick([String(v), String(v), v ? 'True' : 'False', v ? 'TRUE' : 'FALSE']);
    if (typeof v === 'number')
      return r.pick([String(v), String(v), Number.isInteger(v) && v >= 0 ? `0x${v.toString(16)}` : String(v), v.toExponential()]);
    return JSON.stringify(v);
  };
  const key = (k: string): string => {
    if (chance(oddity)) return r.pick(KEY_SPELLINGS);
    return chance(0.1) ? r.pick([`"${k}"`, `'${k}'`]) : k;
  };
  const isScalar = (v: unknown) => v === null || typeof v !== 'object';
  const flow = (v: unknown): string | undefined => {
    if (Array.isArray(v) && v.every(isScalar)) return `[${v.map(scalar).join(r.pick([', ', ',', ' , ']))}]`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isScalar)) {
      const items = Object.entries(v).map(([k, x]) => `${key(k)}: ${scalar(x)}`);
      return items.length ? `{ ${items.join(', ')} }` : '{}';
    }
    return undefined;
  };
  const lines: string[] = [];
  const push = (line: string) => {
    if (chance(0.03)) lines.push(chance(0.5) ? '' : `${' '.repeat(r.int(6))}# note: x`);
    lines.push(chance(0.02) ? `${line}${r.pick(['  ', ' '])}` : chance(oddity / 5) ? `${line}${r.pick(['\t', '\u00a0'])}` : line);
  };
  /** `head` is the text before the value on its line ("key:" or "-"); `lead` what comes before it ("- " for a list's mapping). */
  const write = (v: unknown, indent: number, head: string, lead = ' '.repeat(indent)): void => {
    const f = !isScalar(v) && chance(0.25) ? flow(v) : undefined;
    if (isScalar(v) || f !== undefined || (typeof v === 'object' && Object.keys(v as object).length === 0)) {
      const text = f ?? (isScalar(v) ? scalar(v) : Array.isArray(v) ? '[]' : '{}');
      push(`${lead}${head}${text === '' ? '' : ` ${text}`}${chance(0.08) ? comment() : ''}`);
      return;
    }
    if (head) push(`${lead}${head}${chance(0.05) ? comment() : ''}`);
    // A list under a key may sit at the key's own indentation ("key:\n- a").
    const inner = head === '' ? indent : Array.isArray(v) && head !== '-' && chance(0.4) ? indent : indent + step;
    let first = head === '' ? lead : undefined;
    const next = () => {
      const l = first ?? ' '.repeat(inner);
      first = undefined;
      return l;
    };
    if (Array.isArray(v)) {
      for (const x of v) {
        if (x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length && chance(0.7)) {
          // "- key: value" with the mapping's other keys lined up under the first.
          const gap = r.pick([1, 1, 1, 3]);
          const dash = `${next()}-${' '.repeat(gap)}`;
          write(x, dash.length, '', dash);
        } else write(x, inner, '-', next());
      }
    } else for (const [k, x] of Object.entries(v as object)) write(x, inner, `${key(k)}:`, next());
  };
  write(value, 0, '');
  let text = lines.join('\n');
  if (chance(oddity)) {
    const at = r.int(text.length + 1);
    text =
      text.slice(0, at) +
      r.pick(['\t', '\u00a0', ' ', '\n', '#', ': ', '- ', '"', "'", '&a ', '*a', '!!str ', '|\n', '\r']) +
      text.slice(at);
  }
  if (chance(0.9)) text += '\n';
  if (chance(0.05)) text = text.replace(/\n/g, '\r\n');
  if (chance(0.02)) text = `\ufeff${text}`;
  if (chance(0.02)) text = `---\n${text}`;
  if (chance(0.02)) text = `${text}...\n`;
  return text;
}

/** A short YAML text of one to six lines of random kinds and indentation (0 to 5 spaces): the structure a reader must get right. */
export function yamlLines(r: Rng): string {
  const lines: string[] = [];
  for (let n = 1 + r.int(6); n > 0; n--) {
    const v = r.next() < 0.3 ? r.pick(YAML_SPELLINGS) : r.pick(['1', 'x', 'y z', '[1, 2]', '{ p: q }', '']);
    const k = r.next() < 0.3 ? r.pick([...YAML_SPELLINGS, ...KEY_SPELLINGS]) : r.pick(['a', 'b', 'c', '"a"', "'b'"]);
    const kinds = [`${k}:`, `${k}: ${v}`, `- ${v}`, `- ${k}: ${v}`, '-', `# ${v}`, `- ${k}:`, `-   ${k}: ${v}`, ''];
    lines.push(' '.repeat(r.pick([0, 0, 2, 2, 4, 1, 3, 5])) + r.pick(kinds));
  }
  return `${lines.join('\n')}\n`;
}
