/** What both readers of config text (load.ts, the fast path; parse.ts, with positions) share. */
import { canonicalJson } from '../core/run-tags.js';

/** Config files are small; a larger one is a mistake (or an attack) that would take long to parse. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** How many alias expansions a config may make (yaml's default is 100; a config needs a handful). */
export const MAX_ALIAS_COUNT = 100;

/** The problem of a file above MAX_CONFIG_BYTES. */
export function tooLarge(size: number): string {
  return `the file is ${size} bytes; a config file may be at most ${MAX_CONFIG_BYTES} bytes (1 MiB). Check that --config names the config, not a data file`;
}

/**
 * The config's hash (the run tag mlops.config.hash): of its settings as written, before ${VAR}
 * interpolation, so a secret that reaches the config through the environment does not change it
 * (a hash of the secret would let anyone who reads MLflow test guesses offline). Keys are sorted,
 * so comments, formatting and key order do not change it either.
 */
export function hashConfigValue(raw: unknown): string {
  // Loaded here, not at import: a command that never reads the hash (all but train) does not pay
  // for loading node:crypto and its first digest, a few ms of start-up.
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(canonicalJson(raw)).digest('hex').slice(0, 16);
}

/** What a config reader returns, its fileHash computed on first read. */
export function withFileHash<T extends object>(result: T, raw: unknown): T & { readonly fileHash: string } {
  let hash: string | undefined;
  return Object.defineProperty(result, 'fileHash', { enumerable: true, get: () => (hash ??= hashConfigValue(raw)) }) as T & {
    readonly fileHash: string;
  };
}
