/**
 * Finds the config file (cosmiconfig), parses it with positions (yaml), interpolates ${VAR},
 * validates it against the schema and turns every problem into a message that names the file,
 * line, dotted path, what was expected and what was found.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../cli/errors.js';
import { configSchema, type Config } from './schema.js';
import { interpolateString, type InterpolationProblem } from './interpolate.js';

export const SEARCH_PLACES = [
  'mlops.config.yaml',
  'mlops.config.yml',
  '.mlopsrc',
  '.mlopsrc.yaml',
  '.mlopsrc.yml',
  '.mlopsrc.json',
  'package.json',
];

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file it came from. */
  filepath: string;
  /** The directory holding the config: relative paths in it resolve from here. */
  root: string;
}

export interface ConfigProblem {
  /** Dotted path, e.g. compare.gates[0].direction ("" for the whole file). */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface LoadOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  configPath?: string;
}

/** Finds, loads and validates the config; throws UserError (exit 2) with every problem listed. */
export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  const filepath = opts.configPath ? path.resolve(opts.cwd, opts.configPath) : await findConfig(opts.cwd);
  if (!filepath) {
    throw new UserError('CONFIG_NOT_FOUND', `No mlops config found in ${opts.cwd} or its parents (up to the repository root).`, {
      hint: 'Run `npx mlops init` to create mlops.config.yaml, or pass --config PATH.',
    });
  }
  if (!existsSync(filepath) || !statSync(filepath).isFile()) {
    throw new UserError('CONFIG_NOT_FOUND', `Config file ${filepath} does not exist.`, {
      hint: 'Check the --config path, or run `npx mlops init` to create one.',
    });
  }
  const text = readFileSync(filepath, 'utf8');
  const { config, problems } = parseConfigText(text, filepath, opts.env);
  if (problems.length || !config) throw configError(filepath, problems);
  return { config, filepath, root: path.dirname(filepath) };
}

/** Walks up from cwd to the repository root (the folder with .git), like git does. */
async function findConfig(cwd: string): Promise<string | undefined> {
  const explorer = cosmiconfig('mlops', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'global',
    stopDir: findRepoRoot(cwd) ?? cwd,
    // We only need to know where it is: parsing happens below, with positions.
    loaders: { '.yaml': () => ({}), '.yml': () => ({}), '.json': jsonKeyProbe, noExt: () => ({}) },
    cache: false,
  });
  const found = await explorer.search(cwd);
  return found?.filepath;
}

/** cosmiconfig skips package.json without an `mlops` key only if the loader says so. */
function jsonKeyProbe(filepath: string, content: string): unknown {
  if (path.basename(filepath) !== 'package.json') return {};
  try {
    const pkg = JSON.parse(content) as Record<string, unknown>;
    return pkg.mlops === undefined ? null : pkg;
  } catch {
    return null;
  }
}

/** The nearest ancestor of dir holding .git, if any. */
export function findRepoRoot(dir: string): string | undefined {
  let cur = path.resolve(dir);
  for (;;) {
    if (existsSync(path.join(cur, '.git'))) return cur;
    const parent = path.dirname(cur);
    if (parent === cur) return undefined;
    cur = parent;
  }
}

/** Parses and validates config text. Pure apart from reading nothing: tests call it directly. */
export function parseConfigText(
  text: string,
  filepath: string,
  env: Record<string, string | undefined>,
): { config?: Config; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.push({ path: '', message: `syntax error: ${firstLine(e.message)}`, line: pos?.line, column: pos?.col });
  }
  if (problems.length) return { problems };

  const isPackageJson = path.basename(filepath) === 'package.json';
  let root: Node | null = doc.contents as Node | null;
  let raw: unknown = doc.toJS();
  if (isPackageJson) {
    raw = (raw as Record<string, unknown> | null)?.mlops;
    root = isMap(doc.contents) ? ((doc.contents.get('mlops', true) as Node | undefined) ?? null) : null;
  }
  if (raw === null || raw === undefined) {
    return {
      problems: [
        {
          path: '',
          message: 'the config is empty; expected a mapping with at least `project` and `mlflow`',
          line: 1,
        },
      ],
    };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { problems: [{ path: '', message: `expected a mapping of settings, found ${describe(raw)}`, line: 1 }] };
  }

  const interp: Array<InterpolationProblem & { path: string }> = [];
  const value = interpolate(raw, env, '', interp);
  for (const p of interp) {
    const pos = positionOf(doc, root, p.path, lineCounter);
    problems.push({
      path: p.path,
      message: `environment variable ${p.variable} is not set (referenced as "${p.text}"); set it, or give a default with \${${p.variable}:-value}`,
      ...pos,
    });
  }
  if (problems.length) return { problems };

  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const p of explainIssue(issue, value)) {
        problems.push({ ...p, ...positionOf(doc, root, p.path, lineCounter) });
      }
    }
    return { problems };
  }
  return { config: parsed.data, problems };
}

function interpolate(
  v: unknown,
  env: Record<string, string | undefined>,
  at: string,
  problems: Array<InterpolationProblem & { path: string }>,
): unknown {
  if (typeof v === 'string') {
    const local: InterpolationProblem[] = [];
    const out = interpolateString(v, env, local);
    for (const p of local) problems.push({ ...p, path: at });
    return out;
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, `${at}[${i}]`, problems));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = interpolate(x, env, at ? `${at}.${k}` : k, problems);
    return out;
  }
  return v;
}

function dotted(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function splitPath(p: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

function getAt(value: unknown, p: Array<string | number>): unknown {
  let cur: unknown = value;
  for (const seg of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Turns one zod issue into messages with "expected ... found ...", and suggestions for unknown keys. */
function explainIssue(issue: z.core.$ZodIssue, value: unknown): Array<{ path: string; message: string }> {
  const at = dotted(issue.path);
  const found = getAt(value, issue.path as Array<string | number>);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(issue.path as Array<string | number>);
      return issue.keys.map((key) => {
        const suggestion = closest(key, known);
        return {
          path: at ? `${at}.${key}` : key,
          message:
            `unknown key "${key}"` +
            (suggestion ? `; did you mean "${suggestion}"?` : known.length ? `; expected one of: ${known.join(', ')}` : ''),
        };
      });
    }
    case 'invalid_type':
      return [
        {
          path: at,
          message:
            found === undefined
              ? `required value is missing (expected ${issue.expected})`
              : `expected ${issue.expected}, found ${describe(found)}`,
        },
      ];
    case 'invalid_value':
      return [{ path: at, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${describe(found)}` }];
    case 'invalid_union': {
      // Report the branch that got furthest, or a summary.
      return [{ path: at, message: `${issue.message}; found ${describe(found)}` }];
    }
    default:
      return [{ path: at, message: `${issue.message}${found !== undefined ? `, found ${describe(found)}` : ''}` }];
  }
}

/** The keys the schema allows at a path (for "did you mean"). */
function knownKeysAt(p: Array<string | number>): string[] {
  let schema: unknown = configSchema;
  for (const seg of p) {
    schema = unwrap(schema);
    const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (typeof seg === 'number' && def?.type === 'array') schema = def.element;
    else if (def?.shape && typeof seg === 'string') schema = def.shape[seg];
    else return [];
  }
  schema = unwrap(schema);
  const def = (schema as { def?: { shape?: Record<string, unknown>; options?: unknown[] } }).def;
  if (def?.shape) return Object.keys(def.shape);
  if (def?.options) return def.options.flatMap((o) => Object.keys((unwrap(o) as { def?: { shape?: object } }).def?.shape ?? {}));
  return [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { type?: string; innerType?: unknown } };
  while (s?.def && ['default', 'optional', 'nullable', 'prefault', 'catch'].includes(s.def.type ?? '')) {
    s = s.def.innerType as typeof s;
  }
  return s;
}

/** Closest candidate by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function positionOf(
  doc: Document,
  root: Node | null,
  dottedPath: string,
  lc: LineCounter,
): { line?: number; column?: number } {
  let node: unknown = root;
  let lastGood: unknown = root;
  for (const seg of splitPath(dottedPath)) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === seg);
      if (!pair) break;
      // Point at the key when the value is absent or is the thing in question.
      lastGood = pair.value ?? pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      lastGood = item;
      node = item;
    } else break;
  }
  const range = (lastGood as { range?: [number, number, number] } | null)?.range;
  if (!range) return doc.contents ? { line: 1 } : {};
  const pos = lc.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** One UserError listing every problem as "file:line:col path: message". */
export function configError(filepath: string, problems: ConfigProblem[]): UserError {
  const lines = problems.map((p) => {
    const where = `${filepath}${p.line ? `:${p.line}` : ''}${p.line && p.column ? `:${p.column}` : ''}`;
    return `  ${where}  ${p.path ? `${p.path}: ` : ''}${p.message}`;
  });
  return new UserError(
    'CONFIG_INVALID',
    `Invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    {
      hint: 'Fix the lines above; `mlops config validate` re-checks, and mlops.config.example.yaml documents every field.',
      details: { file: filepath, problems },
    },
  );
}
