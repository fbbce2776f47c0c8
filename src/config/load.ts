/**
 * Finds the config file, reads it, interpolates ${VAR}, validates it and applies the environment.
 * A valid file in the YAML that configs are written in takes the fast path (fast-yaml.ts,
 * fast-validate.ts), which loads neither yaml nor zod; anything else goes to the full reader
 * (parse.ts), which words every problem with its line, dotted path, what was expected and found.
 *
 * Search: from the working directory upward to the repository root (the nearest folder holding
 * .git), first match wins; outside a repository only the working directory is searched. In each
 * folder the places are tried in the order of SEARCH_PLACES. No global (home-folder) config.
 *
 * Relative paths inside the config resolve against the folder of the config file (`root`), not
 * the working directory: use `resolveConfigPath`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import type { Config } from './schema.js';
import CONFIG_PLAN from './config-plan.json' with { type: 'json' };
import { applyEnvironment, type SettingSource } from './environment.js';
import { fastValidate, type PlanNode } from './fast-validate.js';
import { fastYaml } from './fast-yaml.js';
import { interpolateValue, type InterpolationProblem } from './interpolate.js';
import { MAX_CONFIG_BYTES, tooLarge, withFileHash } from './text.js';
import type { ConfigProblem } from './validate.js';

export type { ConfigProblem } from './validate.js';
export { hashConfigValue, MAX_CONFIG_BYTES } from './text.js';

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
    if (existsSync(filepath) && statSync(filepath).isDirectory()) {
      throw new UserError('CONFIG_NOT_FOUND', `--config ${opts.configPath} names a folder (${filepath}), not a config file.`, {
        hint: `Name the file itself, e.g. --config ${path.join(opts.configPath, SEARCH_PLACES[0])}, or use --cwd ${opts.configPath} to run in that folder.`,
        details: { file: filepath },
      });
    }
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
    // Sync: a config is small, and node:fs/promises would be one more module to load at start-up.
    bytes = readFileSync(filepath);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError('CONFIG_UNREADABLE', `Cannot read the config file ${filepath}: ${(err as Error).message}`, {
      hint: 'Check its permissions, or pass another file with --config PATH.',
      details: { file: filepath },
    });
  }
  const decoded = decodeConfig(bytes);
  if ('problem' in decoded) throw configError(filepath, [decoded.problem]);
  const read =
    fastConfigText(decoded.text, filepath, opts.env) ?? (await import('./parse.js')).parseConfigText(decoded.text, filepath, opts.env);
  if (read.problems.length || !read.config) throw configError(filepath, read.problems);
  const loaded: LoadedConfig = { ...applyEnvironment(read.config, opts.env), filepath, root: path.dirname(filepath) };
  // Passed on unread: the hash is computed only if a command asks for it.
  return Object.defineProperty(loaded, 'fileHash', { enumerable: true, get: () => read.fileHash });
}

/**
 * The config of valid text, without yaml or zod; undefined when the full reader (parse.ts) must
 * decide: text outside fast-yaml's subset, an unset variable, anything the fast validator is not
 * sure of. What it returns is what parseConfigText returns for the same text.
 */
export function fastConfigText(
  text: string,
  filepath: string,
  env: Record<string, string | undefined>,
): { config: Config; problems: ConfigProblem[]; fileHash: string } | undefined {
  // package.json holds the config under a key, and JSON is not the subset fast-yaml reads.
  if (text.length > MAX_CONFIG_BYTES || path.basename(filepath) === 'package.json') return undefined;
  const parsed = fastYaml(text);
  const raw = parsed?.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const unset: Array<InterpolationProblem & { path: string }> = [];
  const value = interpolateValue(raw, env, '', unset);
  if (unset.length) return undefined;
  const valid = fastValidate(CONFIG_PLAN as PlanNode, value);
  if (!valid) return undefined;
  return withFileHash({ config: valid.value as Config, problems: [] }, raw);
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
