/**
 * What is generated from the zod schema must be current, and the example config must cover it.
 * Regenerate with `npm run schema` (writes schema/mlops.config.schema.json and the README table).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/parse.js';
import {
  configJsonSchema,
  fieldRows,
  JSON_SCHEMA_FILE,
  jsonSchemaText,
  leafPaths,
  README_END,
  README_START,
  renderReference,
  replaceBetweenMarkers,
  type JsonNode,
} from '../../src/config/json-schema.js';
import { runCli } from '../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');
const REGENERATE = 'It is generated from src/config/schema.ts: run `npm run schema` and commit the result.';

describe('generated from the schema', () => {
  it(`${JSON_SCHEMA_FILE} is current`, () => {
    expect(read(JSON_SCHEMA_FILE) === jsonSchemaText(), `${JSON_SCHEMA_FILE} is stale. ${REGENERATE}`).toBe(true);
  });

  it("README.md's configuration reference is current", () => {
    const readme = read('README.md');
    expect(
      readme.includes(README_START) && readme.includes(README_END),
      `README.md needs the ${README_START} / ${README_END} markers`,
    ).toBe(true);
    const current = readme.slice(readme.indexOf(README_START) + README_START.length, readme.indexOf(README_END));
    expect(current === renderReference(), `The configuration reference in README.md is stale. ${REGENERATE}`).toBe(true);
  });

  it('every field has a description', () => {
    const missing: string[] = [];
    const walk = (n: JsonNode, at: string) => {
      for (const [k, v] of Object.entries(n.properties ?? {})) {
        if (!v.description) missing.push(at ? `${at}.${k}` : k);
        walk(v, at ? `${at}.${k}` : k);
      }
      for (const b of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) walk(b, at);
      if (n.items) walk(n.items, `${at}[]`);
      if (typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${at}.<name>`);
    };
    walk(configJsonSchema(), '');
    expect(missing, 'add .describe() to these fields in src/config/schema.ts').toEqual([]);
  });

  it('the JSON Schema is the input shape: fields with defaults are optional', () => {
    const schema = configJsonSchema();
    expect(schema.required ?? []).toEqual([]);
    expect(schema.properties!.mlflow.properties!.retries).toMatchObject({ type: 'integer', default: 3 });
    expect(schema.additionalProperties).toBe(false);
  });

  it('replaceBetweenMarkers touches only the text between the markers', () => {
    const text = `a\n${README_START}\nold\n${README_END}\nb\n`;
    expect(replaceBetweenMarkers(text, '\nnew\n')).toBe(`a\n${README_START}\nnew\n${README_END}\nb\n`);
    expect(() => replaceBetweenMarkers('no markers', 'x')).toThrow(/markers/);
  });

  it('the reference lists every field once', () => {
    const paths = fieldRows().map((r) => r.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toContain('compare.gates[].metric');
    expect(paths).toContain('mlflow.trackingUri');
  });
});

/**
 * The key paths written in a YAML file, including commented-out settings: a comment line
 * `<indent># key: value` counts as the key at <indent> (uncommenting means deleting "# ").
 * List items contribute `[]` (compare.gates[].metric).
 */
function examplePaths(text: string): string[] {
  const out: string[] = [];
  const stack: Array<{ indent: number; key: string }> = [];
  for (const raw of text.split('\n')) {
    const commented = /^(\s*)# (.*)$/.exec(raw);
    const line = commented ? commented[1] + commented[2] : raw;
    const m = /^(\s*)(- )?([A-Za-z_]\w*):(\s|$)/.exec(line);
    if (!m) continue;
    let indent = m[1].length;
    if (m[2]) {
      while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
      stack.push({ indent, key: '[]' });
      indent += 2;
    }
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    stack.push({ indent, key: m[3] });
    out.push(stack.map((f, i) => (f.key === '[]' || i === 0 ? f.key : `.${f.key}`)).join(''));
  }
  return out;
}

describe('mlops.config.example.yaml', () => {
  const file = path.join(root, 'mlops.config.example.yaml');
  const text = read('mlops.config.example.yaml');

  it('is a valid config', () => {
    const { problems } = parseConfigText(text, file, {});
    expect(problems).toEqual([]);
  });

  it('shows every field of the schema (set, or as a commented-out line)', () => {
    const written = examplePaths(text);
    const missing = leafPaths().filter((leaf) => {
      const pattern = new RegExp(`^${leaf.replace(/[.[\]]/g, (c) => `\\${c}`).replace(/<name>/g, '[^.\\[]+')}$`);
      return !written.some((p) => pattern.test(p));
    });
    expect(missing, 'document these fields in mlops.config.example.yaml').toEqual([]);
  });
});

describe('drift methods have a kind (a statistic of the other kind would be judged with the wrong sense)', () => {
  const monitor = (yaml: string) => parseConfigText(`project: demo\nmonitor:\n${yaml}`, 'mlops.config.yaml', {}).problems;

  it.each([
    ['numericMethod: chi2', 'monitor.numericMethod', '"ks", "psi", "wasserstein"', 'chi2'],
    ['numericMethod: linf', 'monitor.numericMethod', '"ks", "psi", "wasserstein"', 'linf'],
    ['categoricalMethod: ks', 'monitor.categoricalMethod', '"linf", "chi2", "js"', 'ks'],
    ['categoricalMethod: wasserstein', 'monitor.categoricalMethod', '"linf", "chi2", "js"', 'wasserstein'],
  ])('`%s` is rejected with the allowed values', (line, at, allowed, found) => {
    expect(monitor(`  ${line}\n`)).toEqual([
      expect.objectContaining({ path: at, line: 3, message: `expected one of ${allowed}, found the string "${found}"` }),
    ]);
  });

  it('each kind accepts its own methods', () => {
    for (const m of ['ks', 'psi', 'wasserstein']) expect(monitor(`  numericMethod: ${m}\n`)).toEqual([]);
    for (const m of ['linf', 'chi2', 'js']) expect(monitor(`  categoricalMethod: ${m}\n`)).toEqual([]);
  });

  it('a per-feature override takes a method of either kind (the kind comes from the profile), and nothing else', () => {
    expect(monitor('  features:\n    age:\n      method: chi2\n    plan:\n      method: ks\n')).toEqual([]);
    expect(monitor('  features:\n    age:\n      method: kl\n')).toEqual([
      expect.objectContaining({
        path: 'monitor.features.age.method',
        message: expect.stringContaining('"ks", "psi", "wasserstein", "linf", "chi2", "js"'),
      }),
    ]);
  });

  it('`mlops config validate` exits 2 and names the allowed values', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-schema-'));
    try {
      mkdirSync(path.join(dir, '.git'));
      writeFileSync(path.join(dir, 'mlops.config.yaml'), 'project: demo\nmonitor:\n  numericMethod: chi2\n  categoricalMethod: ks\n');
      const r = await runCli(['config', 'validate'], { cwd: dir, env: { PATH: process.env.PATH } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('monitor.numericMethod: expected one of "ks", "psi", "wasserstein", found the string "chi2"');
      expect(r.stderr).toContain('monitor.categoricalMethod: expected one of "linf", "chi2", "js", found the string "ks"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
