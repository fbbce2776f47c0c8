/**
 * Helpers of the init/pull/train integration tests: temp git repos, the venv on PATH, the real
 * MLflow server read back over REST, and a built `bin/mlops.cjs` for tests that send real signals.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, VENV_BIN } from '../support/peers.js';

export { REPO_ROOT, VENV_BIN };

let seq = 0;
/** A name no other test (or test file running in parallel) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

/** A fresh temp folder with `git init` done (identity set in the repo only, never globally). */
export function makeGitRepo(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `mlops-${prefix}-`));
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.email', 'test@example.com']);
  git(dir, ['config', 'user.name', 'mlops test']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  return dir;
}

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
}

/** The environment of a CLI run: the venv first on PATH (so `python` and `dvc` are the venv's). */
export function venvEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PATH: `${VENV_BIN}${path.delimiter}${process.env.PATH}`,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    LANG: process.env.LANG,
    PYTHONDONTWRITEBYTECODE: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    ...extra,
  };
}

/** Runs a venv tool (dvc, python) in cwd; throws with its output when it fails. */
export function venv(cwd: string, tool: string, args: string[], env: Record<string, string | undefined> = venvEnv()): string {
  const r = spawnSync(path.join(VENV_BIN, tool), args, { cwd, env: env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** GET/POST against the MLflow REST API of the test bed. */
export async function mlflowApi<T = any>(base: string, endpoint: string, body?: unknown): Promise<T> {
  const url = `${base}/api/2.0/mlflow/${endpoint}`;
  const res = await fetch(
    url,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const text = await res.text();
  if (!res.ok) throw new Error(`${endpoint}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface RestRun {
  info: { run_id: string; status: string; experiment_id: string; end_time?: number };
  data: { metrics?: { key: string; value: number }[]; params?: { key: string; value: string }[]; tags?: { key: string; value: string }[] };
}

export async function getRun(
  base: string,
  runId: string,
): Promise<{ run: RestRun; metrics: Record<string, number>; params: Record<string, string>; tags: Record<string, string> }> {
  const { run } = await mlflowApi<{ run: RestRun }>(base, `runs/get?run_id=${encodeURIComponent(runId)}`);
  const kv = <V>(l: { key: string; value: V }[] | undefined) =>
    Object.fromEntries((l ?? []).map((e) => [e.key, e.value])) as Record<string, V>;
  return { run, metrics: kv(run.data.metrics), params: kv(run.data.params), tags: kv(run.data.tags) };
}

/** Every run of an experiment (by name), with its status. [] when the experiment does not exist. */
export async function runsOfExperiment(base: string, name: string): Promise<RestRun[]> {
  let experimentId: string;
  try {
    const r = await mlflowApi<{ experiment: { experiment_id: string } }>(
      base,
      `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
    );
    experimentId = r.experiment.experiment_id;
  } catch {
    return [];
  }
  const r = await mlflowApi<{ runs?: RestRun[] }>(base, 'runs/search', { experiment_ids: [experimentId], max_results: 1000 });
  return r.runs ?? [];
}

/** Writes files from a path -> content literal. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** Waits until a file exists (a training script's "I am running" marker). */
export async function waitForFile(file: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > until) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * A runnable `mlops` bin for tests that need a real process (real signals). Uses the package's
 * bin/mlops.cjs when dist/ is newer than src/ (npm test builds it first), else builds src/ once
 * into a private folder under .tmp/, so a stale or half-written dist/ never decides a test.
 */
export function builtBin(): string {
  const dist = path.join(REPO_ROOT, 'dist');
  if (existsSync(path.join(dist, 'cli', 'main.js')) && newestMtime(dist) >= newestMtime(path.join(REPO_ROOT, 'src'))) {
    return path.join(REPO_ROOT, 'bin', 'mlops.cjs');
  }
  const root = path.join(REPO_ROOT, '.tmp', `mlops-build-${process.pid}`);
  if (!existsSync(path.join(root, 'bin', 'mlops.cjs'))) {
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), '--outdir', path.join(root, 'dist')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('could not compile src/ for the bin test');
    copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(root, 'package.json'));
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync(path.join(REPO_ROOT, 'bin', 'mlops.cjs'), path.join(root, 'bin', 'mlops.cjs'));
  }
  return path.join(root, 'bin', 'mlops.cjs');
}

/** Removes the private build of `builtBin` (if this process made one). */
export function removeBuiltBin(): void {
  rmSync(path.join(REPO_ROOT, '.tmp', `mlops-build-${process.pid}`), { recursive: true, force: true });
}
