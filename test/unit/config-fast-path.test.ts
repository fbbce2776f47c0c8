/**
 * The config's fast path (fast-yaml.ts + fast-validate.ts, no yaml, no zod) against the full reader
 * (yaml + zod), on every config the tests know: the example, what `mlops init` writes, the YAML
 * files and config texts in test/, the fuzz test's seeded mutations, and each field of two valid
 * configs set to each of a pool of values near the schema's limits. The fast path may decline (the
 * full reader then decides), but what it accepts must be valid, and equal to what zod returns, key
 * order included. The last test breaks one rule of the plan at a time and checks that this
 * comparison notices, so it is known to be able to fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import * as z from 'zod';
import CONFIG_PLAN from '../../src/config/config-plan.json' with { type: 'json' };
import { fastValidate, type PlanNode } from '../../src/config/fast-validate.js';
import { fastYaml, fastYamlText } from '../../src/config/fast-yaml.js';
import { fastConfigText } from '../../src/config/load.js';
import { parseConfigText } from '../../src/config/parse.js';
import { configPlan } from '../../src/config/plan.js';
import { configSchema } from '../../src/config/schema.js';
import { redactObject } from '../../src/core/redact.js';
import { renderTemplate } from '../../src/core/template.js';
import { EXAMPLE, mutateText, randomValue, rng, SCALARS, SMALL, YAML_SPELLINGS, yamlLines, yamlText } from '../support/fuzz-inputs.js';

const SEED = Number(process.env.MLOPS_FUZZ_SEED ?? 20261130);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PLAN = CONFIG_PLAN as PlanNode;
/** Config texts the random YAML writer makes for the differential test (a few seconds). */
const GENERATED = 3000;
const FILE = '/repo/mlops.config.yaml';
const ENV = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', AWS_REGION: 'eu-west-1', SECRET: 's3cr3t', X: '' };

function filesUnder(dir: string, test: (f: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The example with its commented-out train.sagemaker section in use (flow mappings: `channels: { train: data }`). */
function exampleWithSageMaker(): string {
  const lines = EXAMPLE.split('\n');
  const start = lines.indexOf('  # sagemaker:');
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('  #'));
  expect(start).toBeGreaterThan(0);
  return [...lines.slice(0, start), ...lines.slice(start, end).map((l) => l.replace(/^ {2}# /, '  ')), ...lines.slice(end)].join('\n');
}

/** What `mlops init` writes, with a few sets of answers. */
function initConfigs(): string[] {
  const template = readFileSync(path.join(root, 'templates/mlops.config.yaml'), 'utf8');
  const answers = [
    { name: 'demo', experiment: 'demo', model: 'demo', endpoint: 'demo', bucket: 'demo-bucket', auditBucket: 'demo-audit' },
    { name: 'churn-model', experiment: 'churn model/v2', model: 'Churn.Model_2', endpoint: 'churn', bucket: 'b.b-1', auditBucket: 'a1b' },
  ];
  return answers.map((a) => renderTemplate(template, { ...a, accountId: '123456789012', region: 'us-east-1', version: '0.1.0' }));
}

/** Config texts written inside the tests (string and template literals that hold top-level config keys). */
function configsInTests(): string[] {
  const out: string[] = [];
  const topKey = /(^|\n)(version|project|mlflow|data|train|compare|aws|deploy|monitor):/;
  for (const file of filesUnder(path.join(root, 'test'), (f) => f.endsWith('.ts'))) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/'((?:[^'\\\n]|\\.)*)'|`([^`]*)`/g)) {
      let text = m[1] !== undefined ? m[1].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c)) : m[2];
      if (m[2] !== undefined) text = text.replace(/\$\{[^}]*\}/g, 'x');
      if (text.includes('\n') && topKey.test(text)) out.push(text);
    }
  }
  return out;
}

/** Every path in a value, leaves and sections alike. */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = at.length ? [at] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function withValue(base: unknown, at: Array<string | number>, value: unknown, remove = false): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let node = copy;
  for (const seg of at.slice(0, -1)) node = node[seg] as Record<string | number, unknown>;
  const last = at[at.length - 1];
  if (remove) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

/** Values on and around the schema's limits and choices, by the kind of value they replace (every kind also gets ANY). */
const ANY: unknown[] = [null, true, 'x', '', 1, -1, [], {}];
const POOL: Record<'number' | 'string' | 'boolean' | 'array' | 'object', unknown[]> = {
  number: [
    0,
    0.5,
    1.5,
    2,
    3,
    7,
    8,
    9,
    10,
    11,
    16,
    17,
    49,
    50,
    51,
    99,
    100,
    101,
    1000,
    1001,
    2557,
    10000,
    10001,
    1e-6,
    -0.5,
    2 ** 53,
    '1h',
    '5',
  ],
  string: [
    ...[
      '1h',
      '10m',
      '5m',
      '0s',
      '30s',
      '90s',
      '61m',
      '1s',
      '999ms',
      '9m',
      '24h',
      '28d',
      '29d',
      '365d',
      '366d',
      '8h',
      '9h',
      '1.5h',
      '3 h',
      0,
      30,
    ],
    ...['p99', 'average', 'canary', 'linear', 'all-at-once', 'higher', 'lower', 'pass', 'fail', 'keep-warm', 'sagemaker', 'psi', 'chi2'],
    ...['COMPLIANCE', 's3://bucket/p', 's3://bucket/a/../x', 's3://bucket//x', 's3://Bad', 's3://bucket', 'ftp://x', 'a b', '-x'],
    ...['http://127.0.0.1:5000', 'https://x.example/p', ' http://x', 'http://x ', 'http:x', 'http://', '.mlops/x.md', '../x', '/abs'],
    ...['arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/abc', 'arn:aws:iam::123456789012:role/x', 'GITHUB_TOKEN'],
    ...['My-Endpoint-1', '-bad', '1x', 'a/../..'],
  ],
  boolean: [false, 'true', 0],
  array: [['a'], ['python', 'x.py'], [1], [{ metric: 'a' }, { metric: 'a', direction: 'lower' }], [{ metric: 'b', min: 1, max: 2 }]],
  object: [
    ...[{ alias: 'p' }, { x: 1 }, { type: 'linear' }, { type: 'canary', size: 60 }, { type: 'all-at-once' }, { filter: 'x' }],
    ...[{ runId: 'r', alias: 'a' }, { maxWait: '1h' }, { maxWait: '48h', checkpointS3Uri: 's3://b/c' }],
    ...[{ a: { method: 'ks', threshold: 0.1 } }, { a: { method: 'nope' } }],
  ],
};
const poolFor = (v: unknown): unknown[] => [...ANY, ...POOL[Array.isArray(v) ? 'array' : (typeof v as keyof typeof POOL)]];

/** A valid config with the optional sections the example leaves commented out. */
function fullConfig(example: Record<string, unknown>): unknown {
  let v: unknown = example;
  const set = (at: Array<string | number>, value: unknown) => (v = withValue(v, at, value));
  set(['data', 'remote'], 'storage');
  set(['data', 'jobs'], 4);
  set(['aws', 'region'], 'eu-west-1');
  for (const k of ['sagemaker', 'sagemakerRuntime', 's3', 'cloudwatch', 'iam', 'sts', 'ecr'])
    set(['aws', 'endpoints', k], 'http://127.0.0.1:4566');
  set(['train', 'sagemaker'], {
    image: 'img',
    maxRuntime: '2h',
    spot: { maxWait: '3h', checkpointS3Uri: 's3://bucket/ck' },
    hyperparameters: { C: 1, kernel: 'rbf', fast: true },
    role: 'arn:aws:iam::123456789012:role/t',
    include: ['requirements.txt'],
    channels: { train: 'data', 'val.1': 'v' },
    outputPath: 's3://bucket/training',
  });
  set(['compare', 'commentToken'], 'GITLAB_TOKEN');
  set(['compare', 'junitReport'], '.mlops/j.xml');
  set(['monitor', 'features'], { a: { method: 'psi', threshold: 0.2, critical: true }, b: { ignore: true } });
  set(['monitor', 'stateUri'], 's3://bucket/state');
  return v;
}

interface Tally {
  fast: number;
  slow: number;
}

/** The fast validator and zod agree on this value: when the fast one accepts, zod accepts and returns the same. */
function validatorAgrees(value: unknown, plan: PlanNode, tally: Tally, showText = true): void {
  const fast = fastValidate(plan, value);
  if (!fast) {
    tally.slow++;
    return;
  }
  tally.fast++;
  const zod = configSchema.safeParse(value);
  const input = JSON.stringify(value).slice(0, 400);
  expect(zod.success, `the fast validator accepts what zod rejects (seed ${SEED}): ${input}\n${zod.error?.message ?? ''}`).toBe(true);
  expect(fast.value, `the fast validator returns another value than zod for ${input}`).toStrictEqual(zod.data);
  expect(JSON.stringify(fast.value), `key order differs from zod's for ${input}`).toBe(JSON.stringify(zod.data));
  if (showText) textOfConfigAgrees(fast.value);
}

/** What `mlops config show` prints for a config: fastYamlText, when it writes it, writes what yaml does. */
function textOfConfigAgrees(config: unknown): void {
  for (const v of [config, redactObject(config)]) {
    const text = fastYamlText(v);
    if (text !== undefined) expect(text).toBe(stringify(v));
  }
}

/** fast-yaml and yaml agree on this text, and the fast config path and the full reader agree on it. */
function textAgrees(text: string, tally: Tally): void {
  const fast = fastYaml(text);
  if (fast) {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    const shown = JSON.stringify(text.slice(0, 300));
    expect(
      doc.errors.map((e) => e.message),
      `fast-yaml reads text that yaml rejects: ${shown}`,
    ).toEqual([]);
    expect(fast.value, `fast-yaml reads ${shown} differently from yaml`).toStrictEqual(doc.toJS({ maxAliasCount: 100 }));
    expect(JSON.stringify(fast.value)).toBe(JSON.stringify(doc.toJS({ maxAliasCount: 100 })));
  }
  const quick = fastConfigText(text, FILE, ENV);
  if (!quick) {
    tally.slow++;
    return;
  }
  tally.fast++;
  const full = parseConfigText(text, FILE, ENV);
  expect(full.problems, `the fast path accepts a config the full reader rejects: ${text.slice(0, 300)}`).toEqual([]);
  expect(quick.config).toStrictEqual(full.config);
  expect(JSON.stringify(quick.config)).toBe(JSON.stringify(full.config));
  expect(quick.fileHash).toBe(full.fileHash);
  textOfConfigAgrees(quick.config);
}

const example = parseDocument(EXAMPLE).toJS() as Record<string, unknown>;
const interpolated = JSON.parse(JSON.stringify(example).replace(/\$\{MLFLOW_TRACKING_URI:-([^}]*)\}/g, '$1')) as Record<string, unknown>;

let variantsMade: unknown[] | undefined;

/** Each field (and section) of a valid config set to each value of the pool, or removed. */
function fieldVariants(): unknown[] {
  if (variantsMade) return variantsMade;
  const out: unknown[] = (variantsMade = []);
  for (const base of [interpolated, fullConfig(interpolated)]) {
    out.push(base);
    for (const at of paths(base)) {
      out.push(withValue(base, at, undefined, true));
      const current = at.reduce<unknown>((node, seg) => (node as Record<string | number, unknown>)[seg], base);
      for (const v of poolFor(current)) out.push(withValue(base, at, v));
    }
    out.push({ ...(base as object), unknownKey: 1 });
  }
  return out;
}

describe('the config fast path agrees with yaml and zod', () => {
  it('on the example, on what `mlops init` writes (taken by the fast path), and on the YAML and configs in the tests', () => {
    const tally = { fast: 0, slow: 0 };
    const [init, initWithSpaces] = initConfigs();
    for (const text of [EXAMPLE, init]) {
      expect(
        fastYamlText(redactObject(fastConfigText(text, FILE, ENV)?.config)),
        '`config show` of a typical config needs no yaml',
      ).toBeDefined();
    }
    for (const text of [EXAMPLE, init, initWithSpaces, exampleWithSageMaker()]) {
      expect(fastConfigText(text, FILE, ENV), 'a typical config takes the fast path').toBeDefined();
      textAgrees(text, tally);
    }
    const yamlFiles = [
      ...filesUnder(path.join(root, 'test'), (f) => /\.ya?ml$/.test(f)),
      ...filesUnder(path.join(root, 'templates'), (f) => /\.ya?ml$/.test(f)),
    ];
    for (const file of yamlFiles) textAgrees(readFileSync(file, 'utf8'), tally);
    const inTests = configsInTests();
    expect(inTests.length).toBeGreaterThan(30);
    for (const text of inTests) textAgrees(text, tally);
    expect(tally.fast).toBeGreaterThan(10);
  });

  it('on scalars of every YAML 1.2 core type and spelling, as values, list items, flow items and keys', () => {
    const tally = { fast: 0, slow: 0 };
    for (const v of YAML_SPELLINGS) {
      for (const text of [`k: ${v}\n`, `k:\n  - ${v}\n`, `k: [${v}, x]\n`, `k: { a: ${v} }\n`, `${v}: 1\n`, `- ${v}\n`, `k: ${v} # c\n`]) {
        textAgrees(text, tally);
      }
    }
  });

  it(`on the fuzz test's mutated texts and random values (seed ${SEED})`, () => {
    const r = rng(SEED);
    const tally = { fast: 0, slow: 0 };
    for (let i = 0; i < 600; i++) textAgrees(mutateText(r, r.pick([EXAMPLE, SMALL])), tally);
    for (let i = 0; i < 500; i++) validatorAgrees(randomValue(r), PLAN, tally);
    // Mutations that keep the text valid do take the fast path.
    expect(tally.fast).toBeGreaterThan(40);
  });

  it('on every field of two valid configs set to each of a pool of values near the limits, as values and as YAML text', () => {
    const tally = { fast: 0, slow: 0 };
    const variants = fieldVariants();
    // yaml's stringify is slow next to the rest: the printed text is compared on every fourth variant.
    variants.forEach((v, i) => validatorAgrees(v, PLAN, tally, i % 4 === 0));
    expect(tally.fast).toBeGreaterThan(variants.length / 10);
    expect(tally.slow).toBeGreaterThan(variants.length / 10);
    const r = rng(SEED + 2);
    const texts = { fast: 0, slow: 0 };
    for (let i = 0; i < 150; i++) textAgrees(stringifyYaml(r.pick(variants)), texts);
    expect(texts.fast).toBeGreaterThan(20);
  });

  it(`on 20000 short texts of random lines: keys, items, values, comments at random indentation (seed ${SEED})`, () => {
    const r = rng(SEED + 5);
    const tally = { fast: 0, slow: 0 };
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = yamlLines(r);
      if (fastYaml(text)) read++;
      try {
        textAgrees(text, tally);
      } catch (err) {
        throw new Error(`lines ${i} (seed ${SEED}; replay with MLOPS_FUZZ_SEED=${SEED}): ${JSON.stringify(text)}`, { cause: err });
      }
    }
    expect(read).toBeGreaterThan(500);
  });

  it('on texts that broke the fast path once (found by the random YAML writer below)', () => {
    const long = 'k'.repeat(1030);
    const texts = [
      // YAML's white space is space and tab only: after U+00A0 a colon is no key's end, a `#` no comment.
      'a:\n\u00a0 b: 1\n',
      'train:\u00a0\n',
      'project: churn-model\u00a0\n',
      'a: x\u00a0#y\n',
      'a: \u00a0v\n',
      '- \u00a0a: 1\n',
      'a: x\u3000\n',
      "variantName: 'AllTraffic'\u00a0\n",
      // yaml refuses a key of more than 1024 characters, quoted ones too.
      `"${long}": 1\n`,
      `- "${long}": 1\n`,
    ];
    const tally = { fast: 0, slow: 0 };
    for (const text of texts) {
      textAgrees(text, tally);
      expect(fastYaml(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('`config show` of values with long keys and strings: yaml folds a string after a long key onto the next line', () => {
    const longKey = { ['k'.repeat(100)]: 'v'.repeat(100) };
    expect(stringify(longKey)).toBe(`${'k'.repeat(100)}:\n  ${'v'.repeat(100)}\n`);
    expect(fastYamlText(longKey)).toBeUndefined();
    expect(fastYamlText({ ['k'.repeat(1030)]: 1 })).toBeUndefined();
    // A key that starts a line with `...` (a document end marker), an object met twice (an alias): yaml writes them otherwise.
    expect(fastYamlText({ '...': 1 })).toBeUndefined();
    const shared = { a: 1 };
    expect(fastYamlText({ x: shared, y: shared })).toBeUndefined();
    expect(fastYamlText([[], []])).toBe(stringify([[], []]));
    const r = rng(SEED + 4);
    const sizes = [1, 20, 21, 40, 55, 58, 59, 60, 61, 62, 70, 76, 77, 78, 79, 80, 81, 82, 100, 1030];
    const odd = [
      'a:b',
      'a:',
      ':a',
      '...',
      '---',
      '.',
      '/x',
      'x=',
      '1_000',
      '0o8',
      '1.',
      '.5',
      '-x',
      'yes',
      'True',
      'é',
      '***',
      'a b',
      'a#b',
    ];
    const leaves = [
      ...SCALARS,
      ...odd,
      2 ** 53,
      1e21,
      5e-7,
      -0,
      ...sizes.map((n) => 'v'.repeat(n)),
      ...sizes.map((n) => `s3://b/${'p'.repeat(n)}`),
    ];
    const keys = ['a', 'metric', ...odd, ...sizes.map((n) => 'k'.repeat(n))];
    let written = 0;
    for (let i = 0; i < 1500; i++) {
      const value = randomValue(r, 0, leaves, keys);
      const text = fastYamlText(value);
      if (text === undefined) continue;
      written++;
      expect(text, `fastYamlText(${JSON.stringify(value).slice(0, 300)}) (seed ${SEED})`).toBe(stringify(value));
    }
    expect(written).toBeGreaterThan(150);
  });

  it(`on ${GENERATED} config texts written in random YAML styles, with odd spellings mixed in (seed ${SEED})`, () => {
    const r = rng(SEED + 3);
    const tally = { fast: 0, slow: 0 };
    const variants = fieldVariants();
    const bases = [example, interpolated, fullConfig(interpolated)];
    for (let i = 0; i < GENERATED; i++) {
      const value = i % 3 === 0 ? r.pick(variants) : r.pick(bases);
      const text = yamlText(r, value, r.pick([0, 0.02, 0.05, 0.2]));
      try {
        textAgrees(text, tally);
      } catch (err) {
        throw new Error(`generated text ${i} (seed ${SEED}; replay with MLOPS_FUZZ_SEED=${SEED}): ${JSON.stringify(text)}`, { cause: err });
      }
    }
    // Both paths get plenty: clean valid configs, and texts the fast path must leave to yaml and zod.
    expect(tally.fast).toBeGreaterThan(GENERATED / 10);
    expect(tally.slow).toBeGreaterThan(GENERATED / 10);
  });

  it('on a union whose first alternative the plan cannot decide: it does not answer with a later one', () => {
    // zod takes the first alternative that accepts: here the URL one, which trims the value.
    const schemas = [z.union([z.string().url(), z.string()]), z.union([z.string().transform((s) => s.length), z.string()])];
    for (const schema of schemas) {
      const plan = configPlan(schema);
      for (const value of [' http://x.example ', 'http://x.example', 'x', 1]) {
        const fast = fastValidate(plan, value);
        const zod = schema.safeParse(value);
        if (fast) expect(fast.value, JSON.stringify(value)).toStrictEqual(zod.data);
      }
    }
    expect(fastValidate(configPlan(schemas[0]), 'http://x.example')).toEqual({ value: 'http://x.example' });
  });

  it('can fail: a plan with one rule broken disagrees with zod on some of these inputs', () => {
    const variants = fieldVariants();
    const breakages: Array<[string, (plan: PlanNode) => void]> = [
      ['a whole-number check dropped', (p) => dropChecks(p, (c) => c.c === 'int')],
      ['a limit moved by one', (p) => editChecks(p, (c) => (c.c === 'lt' && c.v === 10 ? { ...c, v: 11 } : c))],
      ['the S3 key rule dropped', (p) => dropChecks(p, (c) => c.c === 'rule' && c.name === 's3KeySegments')],
      ['the URL check dropped', (p) => dropChecks(p, (c) => c.c === 'url')],
      ['a default changed', (p) => editNodes(p, (n) => (n.t === 'default' && n.value === '30s' ? { ...n, value: '31s' } : n))],
    ];
    for (const [what, breakIt] of breakages) {
      const plan = structuredClone(PLAN);
      breakIt(plan);
      const caught = variants.some((v) => {
        try {
          validatorAgrees(v, plan, { fast: 0, slow: 0 }, false);
          return false;
        } catch {
          return true;
        }
      });
      expect(caught, `the comparison did not notice: ${what}`).toBe(true);
    }
  });
});

// --- helpers for the plan breakages and the YAML texts -------------------------------------------
type Check = NonNullable<PlanNode['checks']>[number];

function eachNode(n: PlanNode, visit: (n: PlanNode) => void): void {
  visit(n);
  const kids: PlanNode[] = [];
  if (n.t === 'object') kids.push(...Object.values(n.shape));
  if (n.t === 'optional' || n.t === 'default') kids.push(n.inner);
  if (n.t === 'union') kids.push(...n.options);
  if (n.t === 'array') kids.push(n.element);
  if (n.t === 'record') kids.push(n.key, n.value);
  for (const k of kids) eachNode(k, visit);
}

function editChecks(plan: PlanNode, edit: (c: Check) => Check): void {
  eachNode(plan, (n) => {
    if (n.checks) n.checks = n.checks.map(edit);
  });
}

function dropChecks(plan: PlanNode, drop: (c: Check) => boolean): void {
  eachNode(plan, (n) => {
    if (n.checks) n.checks = n.checks.filter((c) => !drop(c));
  });
}

function editNodes(plan: PlanNode, edit: (n: PlanNode) => PlanNode): void {
  eachNode(plan, (n) => {
    if (n.t !== 'object') return;
    for (const [k, child] of Object.entries(n.shape)) n.shape[k] = edit(child);
  });
}

/** Block YAML as people write it (one key per line, flow lists for short lists of scalars). */
function stringifyYaml(v: unknown, indent = ''): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const lines: string[] = [];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  if (!entries.length) return Array.isArray(v) ? '[]' : '{}';
  for (const [k, x] of entries) {
    const head = Array.isArray(v) ? `${indent}-` : `${indent}${String(k)}:`;
    if (x !== null && typeof x === 'object' && Object.keys(x).length) {
      if (Array.isArray(x) && x.every((e) => e === null || typeof e !== 'object'))
        lines.push(`${head} [${x.map((e) => JSON.stringify(e)).join(', ')}]`);
      else lines.push(head, stringifyYaml(x, `${indent}  `));
    } else lines.push(`${head} ${stringifyYaml(x)}`);
  }
  return lines.join('\n') + (indent ? '' : '\n');
}
