/**
 * How the person typed mlops, so that the commands we print (`eval "$(... sandbox env)"`) work
 * when pasted: `npx mlops` for npx and a project-local install (a bare `mlops` is not on PATH
 * there), `mlops` for a global install or a linked clone, `node <path>/bin/mlops.cjs` for a clone
 * run by path.
 */
import { basename, relative, sep } from 'node:path';

export interface InvocationFacts {
  /** process.argv[1]: the script node was given (a bin link keeps its own path). */
  argv1: string | undefined;
  /** The environment npm sets for npx / npm exec / npm run (npm_command, npm_lifecycle_event). */
  env: Record<string, string | undefined>;
  /** The mlops package's own folder. */
  packageRoot: string;
  /** The working directory, to shorten a clone's path. */
  cwd: string;
}

/**
 * The rule, first match wins: started by npx or `npm exec` -> `npx mlops`; through a
 * `node_modules/.bin` link (npm scripts, a local install) -> `npx mlops`; the package lives in a
 * node_modules folder and was started as `mlops` from elsewhere on PATH (a global install) ->
 * `mlops`; a clone started as `mlops` (npm link) -> `mlops`; otherwise the script as node was
 * given it (a clone run by path).
 */
export function mlopsInvocation(f: InvocationFacts): string {
  if (f.env.npm_command === 'exec' || f.env.npm_lifecycle_event === 'npx') return 'npx mlops';
  const script = f.argv1 ?? '';
  const parts = script.split(/[\\/]/);
  const dotBin = parts.length >= 3 && parts[parts.length - 3] === 'node_modules' && parts[parts.length - 2] === '.bin';
  if (dotBin) return 'npx mlops';
  const installed = f.packageRoot.split(sep).includes('node_modules');
  const byName = /^mlops(\.cmd|\.ps1)?$/i.test(basename(script));
  if (byName) return 'mlops';
  if (installed) return 'npx mlops';
  if (!script) return 'mlops';
  const rel = relative(f.cwd, script);
  const shown = rel && !rel.startsWith('..') && rel.length < script.length ? rel : script;
  return `node ${/^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`}`;
}
