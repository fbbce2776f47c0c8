/**
 * Finds the config file, parses it with positions (yaml), interpolates ${VAR},
 * validates it against the schema and turns every problem into a message that names the file,
 * line, dotted path, what was expected and what was found, and how to fix it.
 *
 * Search: from the working directory upward to the repository root (the nearest folder holding
 * .git), first match wins; outside a repository only the working directory is searched. In each
 * folder the places are tried in the order of SEARCH_PLACES. No global (home-folder) config.
 *
 * Relative paths inside the config resolve against the folder of the config file (`root`), not
 * the working directory: use `resolveConfigPath`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { UserError } from '../core/errors.js';
import { canonicalJson } from '../core/run-tags.js';
import type { Config } from './schema.js';
import { applyEnvironment, type SettingSource } from './environment.js';
import { interpolateString, type InterpolationProblem } from './interpolate.js';
import { splitPath, validateConfig, type ConfigProblem } from './validate.js';

export type { ConfigProblem } from './validate.js';
export { closest } from './validate.js';

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
  /** The effective config: the file over the defaults, the environment over both (see environment.ts). */
  config: Config;
  /** Where each setting with an environment twin came from, e.g. { 'mlflow.trackingUri': 'env:MLFLOW_TRACKING_URI' }. */
  sources: Record<string, SettingSource>;
  /** Absolute path of the file it came from. */
  filepath: string;
  /** The directory holding the config: relative paths in it resolve from here. */
  root: string;
  /** Hash of the settings as written (before interpolation): the run tag mlops.config.hash. Absent for a config built without a file. */
  fileHash?: string;
}

export interface LoadOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  configPath?: string;
}

/**
 * Finds, loads and validates the config, then applies the environment over it (flags > environment
 * > file > defaults); throws UserError (exit 2) with every problem listed.
 */
export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  let filepath: string;
  if (opts.configPath) {
    filepath = path.resolve(opts.cwd, opts.configPath);
    if (!existsSync(filepath) || !statSync(filepath).isFile()) {
      throw new UserError('CONFIG_NOT_FOUND', `Config file ${filepath} (from --config ${opts.configPath}) does not exist.`, {
        hint: 'Check the --config path (relative paths start from the working directory), or run `npx mlops init` to create a config.',
        details: { file: filepath },
      });
    }
  } else {
    const found = findConfig(opts.cwd);
    if (!found) {
      const top = findRepoRoot(opts.cwd);
      throw new UserError(
        'CONFIG_NOT_FOUND',
        top
          ? `No mlops config found in ${opts.cwd} or its parents up to the repository root ${top}.`
          : `No mlops config found in ${opts.cwd} (not inside a git repository, so parent folders were not searched).`,
        {
          hint: `Run \`npx mlops init\` to create mlops.config.yaml, or pass --config PATH. Looked for: ${SEARCH_PLACES.join(', ')} (package.json: an "mlops" key).`,
          details: { cwd: opts.cwd, searched: SEARCH_PLACES },
        },
      );
    }
    filepath = found;
  }
  let bytes: Buffer;
  try {
    const size = statSync(filepath).size;
    if (size > MAX_CONFIG_BYTES) throw configError(filepath, [{ path: '', message: tooLarge(size) }]);
    bytes = await readFile(filepath);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError('CONFIG_UNREADABLE', `Cannot read the config file ${filepath}: ${(err as Error).message}`, {
      hint: 'Check its permissions, or pass another file with --config PATH.',
      details: { file: filepath },
    });
  }
  const decoded = decodeConfig(bytes);
  if ('problem' in decoded) throw configError(filepath, [decoded.problem]);
  const { config, problems, fileHash } = parseConfigText(decoded.text, filepath, opts.env);
  if (problems.length || !config) throw configError(filepath, problems);
  return { ...applyEnvironment(config, opts.env), filepath, root: path.dirname(filepath), fileHash };
}

/** Config files are small; a larger one is a mistake (or an attack) that would take long to parse. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** How many alias expansions a config may make (yaml's default is 100; a config needs a handful). */
const MAX_ALIAS_COUNT = 100;

function tooLarge(size: number): string {
  return `the file is ${size} bytes; a config file may be at most ${MAX_CONFIG_BYTES} bytes (1 MiB). Check that --config names the config, not a data file`;
}

/**
 * The file's text, or a problem at the line of the first byte that is not UTF-8 (decoding it
 * leniently would turn it into U+FFFD and change a name or a secret without a word).
 */
export function decodeConfig(bytes: Uint8Array): { text: string } | { problem: ConfigProblem } {
  if (bytes.length > MAX_CONFIG_BYTES) return { problem: { path: '', message: tooLarge(bytes.length) } };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return {
      problem: {
        path: '',
        line,
        column: at - lineStart + 1,
        message: `byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')} is not UTF-8 text; save the file as UTF-8 (a config in another encoding, e.g. Latin-1, must be converted)`,
      },
    };
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}

/** Resolves a path from the config against the config file's folder. */
export function resolveConfigPath(loaded: Pick<LoadedConfig, 'root'>, p: string): string {
  return path.resolve(loaded.root, p);
}

/**
 * Walks up from cwd to the repository root (the folder with .git), like git does; outside a
 * repository only cwd is searched. Our own walk, not cosmiconfig's: its upward search stops at a
 * package.json (a Python repository has none) or, with stopDir, also reads a config from the
 * user's home folder; and its loaders give no positions for the messages parseConfigText writes.
 */
export function findConfig(cwd: string): string | undefined {
  const stop = findRepoRoot(cwd) ?? path.resolve(cwd);
  let dir = path.resolve(cwd);
  for (;;) {
    const found = SEARCH_PLACES.map((place) => path.join(dir, place)).find(isConfigFile);
    if (found) return found;
    if (dir === stop) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** A file at a search place; package.json counts only with an `mlops` key. An empty config file counts (it is reported). */
function isConfigFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (path.basename(file) !== 'package.json') return true;
    return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null)?.mlops !== undefined;
  } catch {
    return false;
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

/**
 * Parses, interpolates and validates config text. Reads nothing: tests call it directly.
 * Interpolation and schema problems are reported together.
 */
export function parseConfigText(
  text: string,
  filepath: string,
  env: Record<string, string | undefined>,
): { config?: Config; problems: ConfigProblem[]; fileHash?: string } {
  if (text.length > MAX_CONFIG_BYTES) return { problems: [{ path: '', message: tooLarge(Buffer.byteLength(text)) }] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    let at = e.pos[0];
    // yaml reports an unclosed quote at the end of the text; the opening quote is the useful place.
    const quote = e.code === 'MISSING_CHAR' ? /closing (["'])/.exec(e.message)?.[1] : undefined;
    if (quote) at = Math.max(0, text.lastIndexOf(quote, at - 1));
    const pos = lineCounter.linePos(at);
    problems.push({ path: '', message: `YAML syntax error: ${firstLine(e.message)}; ${yamlFix(e.code)}`, line: pos.line, column: pos.col });
  }
  if (problems.length) return { problems };

  const isPackageJson = path.basename(filepath) === 'package.json';
  let root: Node | null = doc.contents;
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml refuses an alias "bomb" (aliases of aliases that expand exponentially) while converting.
    let first: Node | undefined;
    visit(doc, {
      Alias(_key, node) {
        first = node;
        return visit.BREAK;
      },
    });
    const pos = first?.range ? lineCounter.linePos(first.range[0]) : { line: 1, col: 1 };
    const what = /alias/i.test((err as Error).message)
      ? `its aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies`
      : `it cannot be read as data (${firstLine((err as Error).message)})`;
    return {
      problems: [
        { path: '', line: pos.line, column: pos.col, message: `YAML error: ${what}; write the values out instead of nesting aliases` },
      ],
    };
  }
  if (isPackageJson) {
    raw = (raw as Record<string, unknown> | null)?.mlops;
    root = isMap(doc.contents) ? ((doc.contents.get('mlops', true) as Node | undefined) ?? null) : null;
  }
  const place = (p: ConfigProblem): ConfigProblem => ({ ...p, ...positionOf(root, p.path, p.at ?? 'value', lineCounter) });

  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    const { problems: shape } = validateConfig(raw);
    return { problems: shape.map((p) => ({ ...p, line: p.line ?? positionOf(root, '', 'value', lineCounter).line ?? 1 })) };
  }

  const interp: Array<InterpolationProblem & { path: string }> = [];
  const value = interpolate(raw, env, '', interp);
  for (const p of interp) {
    problems.push(
      place({
        path: p.path,
        message: `environment variable ${p.variable} is not set (referenced as "${p.text}"); set it, or give a default with \${${p.variable}:-value}`,
      }),
    );
  }

  const result = validateConfig(value);
  // A value whose variable is unset is already reported; its empty stand-in would only add noise.
  const unset = new Set(interp.map((p) => p.path));
  for (const p of result.problems) if (!unset.has(p.path)) problems.push(place(p));
  // In file order, so the list reads top to bottom.
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (problems.length) return { problems };
  return { config: result.config, problems, fileHash: hashConfigValue(raw) };
}

/**
 * The config's hash (the run tag mlops.config.hash): of its settings as written, before ${VAR}
 * interpolation, so a secret that reaches the config through the environment does not change it
 * (a hash of the secret would let anyone who reads MLflow test guesses offline). Keys are sorted,
 * so comments, formatting and key order do not change it either.
 */
export function hashConfigValue(raw: unknown): string {
  return createHash('sha256').update(canonicalJson(raw)).digest('hex').slice(0, 16);
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

/** The line of each dotted path's key in a config file (for annotations); undefined when the file cannot be read. */
export function configLines(filepath: string, dottedPaths: string[]): (number | undefined)[] {
  let text: string;
  try {
    text = readFileSync(filepath, 'utf8');
  } catch {
    return dottedPaths.map(() => undefined);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return dottedPaths.map((p) => positionOf(doc.contents, p, 'key', lineCounter).line);
}

/**
 * Line and column of a dotted path in the YAML document. `at: 'key'` points at the key (unknown
 * keys, missing values); otherwise at the value. A path that does not exist (a missing key) points
 * at the key of its nearest existing parent.
 */
function positionOf(root: Node | null, dottedPath: string, at: 'key' | 'value', lc: LineCounter): { line?: number; column?: number } {
  let node: unknown = root;
  let target: unknown = root;
  const segs = splitPath(dottedPath);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      target = last && at === 'value' && pair.value ? pair.value : pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      target = item;
      node = item;
    } else break;
  }
  const range = (target as { range?: [number, number, number] } | null)?.range;
  if (!range) return {};
  const pos = lc.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

/** What to do about a YAML syntax error, by the parser's error code. */
function yamlFix(code: string): string {
  switch (code) {
    case 'MISSING_CHAR':
      return 'add the missing closing character';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a setting needs a colon after its key (`key: value`); check this line and the one before';
    case 'BLOCK_AS_IMPLICIT_KEY':
      return 'put a value that contains ": " in quotes';
    case 'DUPLICATE_KEY':
      return 'a key may appear once per mapping: remove or merge one of them';
    case 'BAD_INDENT':
      return 'indent nested settings by the same number of spaces, deeper than their parent key';
    default:
      return 'check indentation, colons and quotes on this line and the one before';
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

/** One UserError listing every problem as "file:line:col path: message". */
export function configError(filepath: string, problems: ConfigProblem[]): UserError {
  const lines = problems.map((p) => {
    const where = `${filepath}${p.line ? `:${p.line}` : ''}${p.line && p.column ? `:${p.column}` : ''}`;
    return `  ${where}  ${p.path ? `${p.path}: ` : ''}${p.message}`;
  });
  return new UserError(
    'CONFIG_INVALID',
    `Invalid config ${filepath} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    {
      hint: 'Fix the lines above and re-check with `mlops config validate`; mlops.config.example.yaml (in the mlops package) documents every field.',
      details: { file: filepath, problems: problems.map(({ at: _at, ...p }) => p) },
    },
  );
}
