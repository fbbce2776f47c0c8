/**
 * The real peers of the test bed (MLflow tracking server, moto), started on free loopback ports
 * from the project's virtual environment (.venv, made by scripts/setup-venv.sh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above this file). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The bin folder of the project's virtual environment. */
export const VENV_BIN = join(REPO_ROOT, '.venv', 'bin');
/** The venv's Python interpreter. */
export const venvPython = join(VENV_BIN, 'python');

/** A running peer: its base URL (no trailing slash) and how to stop it. */
export interface Peer {
  url: string;
  /** Kills the peer's whole process group and removes its temp folder. Safe to call twice. */
  stop(): Promise<void>;
  /** The peer's combined stdout/stderr so far (for error messages). */
  log(): string;
}

export interface StartOptions {
  /** How long to wait for the peer to answer (default: 60 s for MLflow, 30 s for moto). */
  readyTimeoutMs?: number;
  /** Extra environment for the peer process. */
  env?: Record<string, string>;
}

/** Throws a clear error when the venv or one of its programs is missing. */
export function requireVenvBin(name: string): string {
  const bin = join(VENV_BIN, name);
  if (!existsSync(bin)) {
    throw new Error(
      `${bin} not found: the test bed's Python environment is missing or incomplete; ` +
        `run scripts/setup-venv.sh (npm test does it for you)`,
    );
  }
  return bin;
}

/** AWS settings that point the SDKs (JS and boto3) at moto with dummy credentials. */
export function motoEnv(motoUrl: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: motoUrl,
    MLFLOW_S3_ENDPOINT_URL: motoUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * Starts the real `mlflow server`: sqlite backend and proxied artifacts in a temp folder, one
 * worker, 127.0.0.1 on a free port. Ready when `GET /health` answers 200.
 */
export async function startMlflow(opts: StartOptions = {}): Promise<Peer> {
  const mlflow = requireVenvBin('mlflow');
  return startWithRetry('mlflow', (port, dir) => {
    mkdirSync(join(dir, 'artifacts'));
    return {
      argv: [
        mlflow, 'server',
        '--host', '127.0.0.1',
        '--port', String(port),
        '--workers', '1',
        '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`,
        '--serve-artifacts',
        '--artifacts-destination', join(dir, 'artifacts'),
      ],
      env: {
        // MLflow 3.x starts a job runner with seven huey consumers by default; tests need none
        // of it and this machine has two cores.
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
        ...opts.env,
      },
      readyPath: '/health',
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    };
  });
}

/** Starts `moto_server` on 127.0.0.1 and a free port. Ready when `GET /moto-api/` answers 200. */
export async function startMoto(opts: StartOptions = {}): Promise<Peer> {
  const moto = requireVenvBin('moto_server');
  return startWithRetry('moto', (port) => ({
    argv: [moto, '-H', '127.0.0.1', '-p', String(port)],
    env: { ...opts.env },
    readyPath: '/moto-api/',
    readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
  }));
}

interface LaunchSpec {
  argv: string[];
  env: Record<string, string>;
  readyPath: string;
  readyTimeoutMs: number;
}

/**
 * A free port is found by binding port 0 and closing it, so another process can take it before
 * the peer binds; when the peer exits because the address is in use, it starts again on another.
 */
async function startWithRetry(name: string, spec: (port: number, dir: string) => LaunchSpec): Promise<Peer> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(name, spec);
    } catch (err) {
      lastError = err;
      if (!(err instanceof PeerExitedError && /address already in use|Errno 98/i.test(err.message))) break;
    }
  }
  throw lastError;
}

class PeerExitedError extends Error {}

/**
 * Runs the peer under a small Python watchdog that leads a new process group: it kills the group
 * and removes the temp folder (its cwd) when its parent (this Node process) goes away, so an
 * interrupted test run leaves no servers behind.
 */
const WATCHDOG = `
import os, shutil, signal, subprocess, sys, time
parent = os.getppid()
signal.signal(signal.SIGTERM, lambda *_: None)
child = subprocess.Popen(sys.argv[1:])
orphaned = False
while child.poll() is None:
    if os.getppid() != parent:
        orphaned = True
        os.killpg(0, signal.SIGTERM)
        break
    time.sleep(0.5)
try:
    code = child.wait(timeout=15)
except subprocess.TimeoutExpired:
    code = 1
    os.killpg(0, signal.SIGKILL)
if orphaned:
    shutil.rmtree(os.getcwd(), ignore_errors=True)
sys.exit(code)
`;

async function startOnce(name: string, makeSpec: (port: number, dir: string) => LaunchSpec): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), `mlops-${name}-`));
  const port = await freePort();
  const spec = makeSpec(port, dir);
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(dir, `${name}.log`);
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(venvPython, ['-c', WATCHDOG, ...spec.argv], {
      cwd: dir,
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...spec.env },
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
  } finally {
    closeSync(logFd);
  }
  child.unref();

  let exited: { code: number | null; signal: string | null } | undefined;
  const exitPromise = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      res();
    });
    child.once('error', (err) => {
      exited = { code: null, signal: String(err) };
      res();
    });
  });

  const readLog = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited && child.pid) {
      killGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    }
    // Stragglers of the group (if the watchdog died first) get no second chance.
    if (child.pid) killGroup(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + spec.readyTimeoutMs;
  while (true) {
    if (exited) {
      const log = readLog();
      await stop();
      throw new PeerExitedError(
        `${name} exited before it was ready (code ${exited.code}, signal ${exited.signal}); ` +
          `command: ${spec.argv.join(' ')}\n--- ${name} log ---\n${tail(log)}`,
      );
    }
    if (await answers(url + spec.readyPath)) break;
    if (Date.now() > deadline) {
      const log = readLog();
      await stop();
      throw new Error(
        `${name} did not answer ${url}${spec.readyPath} within ${spec.readyTimeoutMs / 1000} s; ` +
          `command: ${spec.argv.join(' ')}\n--- ${name} log ---\n${tail(log)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, stop, log: readLog };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function tail(text: string, max = 4_000): string {
  return text.length > max ? '...' + text.slice(-max) : text;
}
