/**
 * The local stack: a real MLflow tracking server (sqlite, proxied artifacts), moto (S3,
 * CloudWatch) and the SageMaker emulator, each on a free loopback port. One implementation for
 * the test bed (test/support/peers.ts), the demo and `mlops sandbox`.
 *
 * Two modes:
 * - attached: each server runs under a small Python watchdog that kills its process group and
 *   removes its temp folder when the parent (this Node process) goes away, so an interrupted test
 *   or demo leaves nothing behind;
 * - detached: each server leads its own process group and outlives the command; what runs where
 *   (pids, ports, URLs, folders) is written to `<dir>/state.json`, logs beside it
 *   (`mlops sandbox up` / `down`).
 *
 * The Python programs come from a virtual environment made by scripts/setup-venv.sh (the one
 * implementation of the pinned, hash-checked install): the repository's `.venv`, or for an
 * npm-installed mlops a cache folder (see resolveVenv).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers, startLocalServer, type LaunchSpec } from '../adapters/local-server.js';
import { groupAlive, killGroup, runProcess } from '../adapters/process.js';
import { pollUntil } from '../adapters/clock.js';
import { ExternalError } from '../core/errors.js';

/** The package root: two levels above this file (src/sandbox/ and dist/sandbox/ alike). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Dummy credentials and region that only moto and the emulator accept. */
export const SANDBOX_REGION = 'us-east-1';
export const SANDBOX_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export type StackMode = 'attached' | 'detached';

/** A running server: its base URL (no trailing slash) and how to stop it. */
export interface Peer {
  name: string;
  url: string;
  /** Process id of the watchdog (attached) or the server (detached); it leads the process group. */
  pid: number;
  /** Where its combined stdout/stderr goes. */
  logPath: string;
  /** Kills the whole process group (and, attached, removes the temp folder). Safe to call twice. */
  stop(): Promise<void>;
  /** The combined stdout/stderr so far (for error messages). */
  log(): string;
}

export interface PeerOptions {
  /** The Python virtual environment with mlflow and moto. */
  venv: string;
  /** attached (default): dies with this process; detached: outlives it. */
  mode?: StackMode;
  /** Folder for data and the log. Attached default: a new temp folder, removed on stop. Required when detached. */
  dir?: string;
  /** How long to wait for the server to answer (defaults: MLflow 90 s, moto 30 s, emulator 60 s). */
  readyTimeoutMs?: number;
  /** Extra environment for the server process. */
  env?: Record<string, string | undefined>;
  /** The base environment (default: this process's). */
  baseEnv?: Record<string, string | undefined>;
}

// --- the virtual environment --------------------------------------------------------------------

export interface VenvChoice {
  dir: string;
  /** Why this one: the --venv flag, MLOPS_SANDBOX_VENV, the repository's .venv, or the cache folder. */
  source: 'option' | 'env' | 'repo' | 'cache';
}

/** The venv to use: option > $MLOPS_SANDBOX_VENV > the package's .venv (a clone) > $XDG_CACHE_HOME/mlops/sandbox-venv (or ~/.cache/...). */
export function resolveVenv(env: Record<string, string | undefined>, option?: string): VenvChoice {
  if (option) return { dir: resolve(option), source: 'option' };
  if (env.MLOPS_SANDBOX_VENV) return { dir: resolve(env.MLOPS_SANDBOX_VENV), source: 'env' };
  const repo = join(PACKAGE_ROOT, '.venv');
  if (existsSync(join(repo, 'bin', 'mlflow'))) return { dir: repo, source: 'repo' };
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return { dir: join(cache, 'mlops', 'sandbox-venv'), source: 'cache' };
}

/** Whether the venv has the programs the stack runs. */
export function venvReady(venv: string): boolean {
  return ['python', 'mlflow', 'moto_server'].every((p) => existsSync(join(venv, 'bin', p)));
}

/**
 * Creates or updates the venv from the package's testbed/requirements.txt by running
 * scripts/setup-venv.sh (idempotent: a hash of the requirements file is kept in the venv, so a
 * current venv costs a second). Its progress lines go to `log`. Throws an ExternalError with the script's last
 * lines when it fails.
 */
export async function ensureVenv(
  venv: string,
  opts: { env: Record<string, string | undefined>; log?: (line: string) => void; signal?: AbortSignal },
): Promise<void> {
  const script = join(PACKAGE_ROOT, 'scripts', 'setup-venv.sh');
  if (!existsSync(script)) throw new Error(`${script} is missing from the mlops package`);
  mkdirSync(dirname(venv), { recursive: true });
  const lines = {
    debug() {},
    passthrough: (text: string) => {
      for (const line of text.split('\n')) if (line.trim()) opts.log?.(line);
    },
  };
  const r = await runProcess(['bash', script], {
    cwd: PACKAGE_ROOT,
    env: { ...opts.env, MLOPS_VENV: venv, MLOPS_VENV_LOCK: `${venv}.lock` },
    io: lines,
    signal: opts.signal,
    maxCapture: 4000,
  });
  if (!r.ok) {
    const code = r.exitCode ?? (r.signal ? 128 : 1);
    // pip, Python or the folder failed, not mlops: exit 3 with the script's own last lines, never "a bug".
    throw new ExternalError(
      'VENV_SETUP_FAILED',
      `Setting up the Python environment at ${venv} failed (exit ${code}):\n${r.output.trimEnd()}`,
      {
        hint: "Fix what the lines above say, or pass --venv DIR (or set MLOPS_SANDBOX_VENV) to another folder: a new one, or an existing venv made from the same requirements, e.g. a clone's .venv.",
      },
    );
  }
}

// --- servers ------------------------------------------------------------------------------------

/**
 * The MLflow tracking server: sqlite backend and proxied artifacts in its folder, one worker. Ready
 * on GET /health. With artifactRoot (an s3:// URI), artifacts go there and are not served
 * (--no-serve-artifacts): clients read and write them in S3 themselves (MLFLOW_S3_ENDPOINT_URL in env).
 */
export function startMlflow(opts: PeerOptions & { artifactRoot?: string }): Promise<Peer> {
  const mlflow = requireVenvBin(opts.venv, 'mlflow');
  return startPeer('mlflow', opts, opts.readyTimeoutMs ?? 90_000, (port, dir) => {
    mkdirSync(join(dir, 'artifacts'), { recursive: true });
    const artifacts = opts.artifactRoot
      ? ['--default-artifact-root', opts.artifactRoot, '--no-serve-artifacts']
      : ['--serve-artifacts', '--artifacts-destination', join(dir, 'artifacts')];
    return {
      argv: [
        mlflow,
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        '1',
        '--backend-store-uri',
        `sqlite:///${join(dir, 'mlflow.db')}`,
        ...artifacts,
      ],
      // MLflow 3.x starts a job runner with seven huey consumers by default; nothing here needs it.
      env: { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
    };
  });
}

/** `moto_server` (S3, CloudWatch, ...). Ready on GET /moto-api/. */
export function startMoto(opts: PeerOptions): Promise<Peer> {
  const moto = requireVenvBin(opts.venv, 'moto_server');
  return startPeer('moto', opts, opts.readyTimeoutMs ?? 30_000, (port) => ({
    argv: [moto, '-H', '127.0.0.1', '-p', String(port)],
    env: {},
  }));
}

export interface EmulatorPeerOptions extends PeerOptions {
  motoUrl: string;
  /** Emulated seconds per real second. */
  timeScale?: number;
  /** Emulated durations of the lifecycle phases (seconds). */
  durations?: Record<string, number>;
}

/** The built emulator entry (dist/emulator/main.js). */
export function emulatorEntry(): string {
  return join(PACKAGE_ROOT, 'dist', 'emulator', 'main.js');
}

/** The SageMaker emulator as a child process `node dist/emulator/main.js`. Ready on GET /_emulator/health. */
export function startEmulatorPeer(opts: EmulatorPeerOptions): Promise<Peer> {
  const entry = emulatorEntry();
  if (!existsSync(entry)) throw new Error(`${entry} not found: build mlops first (npm run build)`);
  return startPeer('emulator', opts, opts.readyTimeoutMs ?? 60_000, (port) => ({
    argv: [
      process.execPath,
      entry,
      '--moto',
      opts.motoUrl,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--region',
      SANDBOX_REGION,
      '--venv',
      opts.venv,
      ...(opts.timeScale ? ['--time-scale', String(opts.timeScale)] : []),
      ...(opts.durations ? ['--durations', JSON.stringify(opts.durations)] : []),
    ],
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: SANDBOX_REGION },
  }));
}

/** Throws a clear error when the venv or one of its programs is missing. */
export function requireVenvBin(venv: string, name: string): string {
  const bin = join(venv, 'bin', name);
  if (!existsSync(bin)) {
    throw new Error(
      `${bin} not found: the Python environment of the local stack is missing or incomplete; ` +
        `run scripts/setup-venv.sh in a clone (npm test and npm run demo do it), or \`mlops sandbox up\`, which makes it`,
    );
  }
  return bin;
}

type PeerName = 'mlflow' | 'moto' | 'emulator';

/** GET this path answers 200 once the server is ready. */
const READY_PATHS: Record<PeerName, string> = { mlflow: '/health', moto: '/moto-api/', emulator: '/_emulator/health' };

/**
 * Starts one server of the stack in its folder (a temp one, removed on stop, unless given):
 * attached, under the watchdog that stops it when this process goes away; detached, on its own.
 */
async function startPeer(
  name: PeerName,
  opts: PeerOptions,
  readyTimeoutMs: number,
  command: (port: number, dir: string) => { argv: string[]; env: Record<string, string> },
): Promise<Peer> {
  const mode = opts.mode ?? 'attached';
  if (mode === 'detached' && !opts.dir) throw new Error('a detached server needs a folder');
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `mlops-${name}-`));
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, `${name}.log`);
  const launch = (port: number): LaunchSpec => {
    const { argv, env: own } = command(port, dir);
    const env = { ...(opts.baseEnv ?? process.env), PYTHONUNBUFFERED: '1', ...own, ...opts.env };
    return { argv, cwd: dir, env: mode === 'attached' && ownDir ? { ...env, MLOPS_WATCHDOG_RMTREE: '1' } : env, logPath };
  };
  try {
    const server = await startLocalServer({
      name,
      launch,
      readyPath: READY_PATHS[name],
      readyTimeoutMs,
      watchdogPython: mode === 'attached' ? join(opts.venv, 'bin', 'python') : undefined,
    });
    return {
      name,
      url: server.url,
      pid: server.pid,
      logPath,
      log: () => server.log(),
      async stop() {
        await server.stop();
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// --- the whole stack ----------------------------------------------------------------------------

export interface StackOptions {
  venv: string;
  mode: StackMode;
  /** Detached: the state folder (`.mlops/sandbox`). Attached: optional; each server gets a temp folder. */
  dir?: string;
  timeScale?: number;
  durations?: Record<string, number>;
  baseEnv?: Record<string, string | undefined>;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface StackUrls {
  mlflow: string;
  moto: string;
  emulator: string;
}

export interface LocalStack {
  urls: StackUrls;
  peers: { mlflow: Peer; moto: Peer; emulator: Peer };
  /** Stops the emulator first (it flushes capture and metrics to moto), then MLflow and moto. */
  stop(): Promise<void>;
}

/** What `mlops sandbox up` leaves in `<dir>/state.json`. */
export interface SandboxState {
  version: 1;
  startedAt: string;
  dir: string;
  venv: string;
  timeScale: number;
  region: string;
  urls: StackUrls;
  processes: Array<{ name: string; pid: number; url: string; log: string }>;
}

export const SANDBOX_STATE_FILE = 'state.json';

/** Starts MLflow and moto in parallel, then the emulator (it needs moto); stops what started when one fails. */
export async function startLocalStack(opts: StackOptions): Promise<LocalStack> {
  const log = opts.log ?? (() => {});
  const sub = (name: string) => (opts.mode === 'detached' ? join(opts.dir!, name) : undefined);
  const common = { venv: opts.venv, mode: opts.mode, baseEnv: opts.baseEnv };
  log('starting MLflow and moto');
  const started = await Promise.allSettled([startMlflow({ ...common, dir: sub('mlflow') }), startMoto({ ...common, dir: sub('moto') })]);
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failed.length) {
    await Promise.all(ok.map((p) => p.stop()));
    throw failed.length === 1 ? failed[0] : new AggregateError(failed, failed.map((e) => e.message).join('\n'));
  }
  const [mlflow, moto] = ok as [Peer, Peer];
  log(`MLflow ready at ${mlflow.url}; moto ready at ${moto.url}`);
  log('starting the SageMaker emulator');
  let emulator: Peer;
  try {
    emulator = await startEmulatorPeer({
      ...common,
      dir: sub('emulator'),
      motoUrl: moto.url,
      timeScale: opts.timeScale,
      durations: opts.durations,
    });
  } catch (err) {
    await Promise.all([mlflow.stop(), moto.stop()]);
    throw err;
  }
  log(`SageMaker emulator ready at ${emulator.url}`);
  return {
    urls: { mlflow: mlflow.url, moto: moto.url, emulator: emulator.url },
    peers: { mlflow, moto, emulator },
    async stop() {
      await emulator.stop();
      await Promise.all([mlflow.stop(), moto.stop()]);
    },
  };
}

/** Writes `<dir>/state.json` for a detached stack. */
export function writeSandboxState(dir: string, stack: LocalStack, extra: { venv: string; timeScale: number }): SandboxState {
  const state: SandboxState = {
    version: 1,
    startedAt: new Date().toISOString(),
    dir,
    venv: extra.venv,
    timeScale: extra.timeScale,
    region: SANDBOX_REGION,
    urls: stack.urls,
    processes: Object.values(stack.peers).map((p) => ({ name: p.name, pid: p.pid, url: p.url, log: p.logPath })),
  };
  writeFileSync(join(dir, SANDBOX_STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  return state;
}

/** The recorded state of a sandbox, or undefined when there is none. */
export function readSandboxState(dir: string): SandboxState | undefined {
  const file = join(dir, SANDBOX_STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

/** Which recorded processes still run and which still answer. */
export async function probeSandbox(
  state: SandboxState,
): Promise<Array<{ name: string; pid: number; url: string; alive: boolean; answers: boolean }>> {
  return Promise.all(
    state.processes.map(async (p) => ({
      ...p,
      alive: groupAlive(p.pid),
      answers: await answers(p.url + (READY_PATHS[p.name as PeerName] ?? '/')),
    })),
  );
}

/** Stops the process groups a detached stack recorded (emulator first), SIGKILL after 10 s. Returns the names stopped. */
export async function stopSandbox(state: SandboxState): Promise<string[]> {
  const order = [...state.processes].sort((a, b) => (a.name === 'emulator' ? -1 : b.name === 'emulator' ? 1 : 0));
  const stopped: string[] = [];
  for (const batch of [order.filter((p) => p.name === 'emulator'), order.filter((p) => p.name !== 'emulator')]) {
    const live = batch.filter((p) => groupAlive(p.pid));
    for (const p of live) killGroup(p.pid, 'SIGTERM');
    await pollUntil(() => (live.some((p) => groupAlive(p.pid)) ? undefined : true), { intervalMs: 200, timeoutMs: 10_000 });
    for (const p of live) killGroup(p.pid, 'SIGKILL');
    stopped.push(...live.map((p) => p.name));
  }
  return stopped;
}

// --- what points clients at the stack -----------------------------------------------------------

/**
 * The environment that points mlops, the AWS CLI and SDKs (service-specific endpoint variables)
 * and MLflow at the stack, with dummy credentials.
 */
export function stackEnv(urls: StackUrls): Record<string, string> {
  return {
    MLFLOW_TRACKING_URI: urls.mlflow,
    AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
    AWS_REGION: SANDBOX_REGION,
    AWS_DEFAULT_REGION: SANDBOX_REGION,
    AWS_ENDPOINT_URL: urls.moto,
    AWS_ENDPOINT_URL_S3: urls.moto,
    // The emulator's CloudWatch front over moto: percentiles and alarms that evaluate themselves.
    AWS_ENDPOINT_URL_CLOUDWATCH: urls.emulator,
    AWS_ENDPOINT_URL_SAGEMAKER: urls.emulator,
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: urls.emulator,
    MLFLOW_S3_ENDPOINT_URL: urls.moto,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
