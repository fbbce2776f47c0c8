/**
 * A supervised server on a free loopback port: started through the process runner as the leader
 * of its own process group, probed until it answers, noticed when it exits, and stopped with its
 * whole group. One implementation for the local stack (MLflow, moto, the SageMaker emulator) and
 * the emulator's model servers.
 *
 * A free port is found by binding port 0 and closing it, so another process can take it before
 * the server binds; when the server exits because the address is in use, it starts again on another.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { startInBackground, type BackgroundProcess, type ProcessIo } from './process.js';
import { pollUntil } from './clock.js';

/** How to run the server once its port is known. */
export interface LaunchSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** Its combined stdout/stderr (appended). */
  logPath: string;
}

export interface LocalServerOptions {
  /** For messages ("mlflow exited before it was ready"). */
  name: string;
  /** The command for a port (called again with another port when the first was taken). */
  launch: (port: number) => LaunchSpec;
  /** GET this path answers 200 when the server is ready. */
  readyPath: string;
  readyTimeoutMs: number;
  /**
   * Run the server under a Python watchdog (this interpreter) that kills its group when this
   * process goes away, so an interrupted parent leaves no server behind. Without it the server
   * outlives this process (a detached sandbox).
   */
  watchdogPython?: string;
  /** Stop waiting for readiness: the start gives up, stops what it spawned and throws (kind `cancelled`). */
  signal?: AbortSignal;
  /** How long a stop waits after SIGTERM before SIGKILL (default 10 s). */
  stopGraceMs?: number;
  io?: Pick<ProcessIo, 'debug'>;
}

/** A running server: its base URL (no trailing slash) and how to stop it. */
export interface LocalServer {
  name: string;
  url: string;
  /** Process id of the group leader (the watchdog, or the server itself). */
  pid: number;
  logPath: string;
  /** Whether the server process has ended. */
  exited(): boolean;
  /** The combined stdout/stderr so far. */
  log(): string;
  /** Kills the whole process group (SIGTERM, then SIGKILL after the grace period). Safe to call twice. */
  stop(): Promise<void>;
  /** Synchronous last resort (on process exit): SIGKILL to the group. */
  killNow(): void;
}

/** Why a server could not be started: it exited, did not answer in time, or the start was cancelled. */
export class LocalServerError extends Error {
  constructor(
    message: string,
    readonly kind: 'exited' | 'timeout' | 'cancelled',
    /** The end of the server's log. */
    readonly logTail: string,
  ) {
    super(message);
  }
}

/**
 * The watchdog leads the process group and runs the server. A SIGTERM to the group reaches the
 * server, which the watchdog waits for (up to 15 s, then SIGKILL to the group); when its parent
 * goes away it stops the group itself, and removes its cwd when MLOPS_WATCHDOG_RMTREE=1.
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
if orphaned and os.environ.get("MLOPS_WATCHDOG_RMTREE") == "1":
    shutil.rmtree(os.getcwd(), ignore_errors=True)
sys.exit(code)
`;

const PORT_TAKEN = /address already in use|Errno 98|EADDRINUSE/i;

/** Starts the server and resolves once GET readyPath answers 200; retries on another port when its port was taken. */
export async function startLocalServer(opts: LocalServerOptions): Promise<LocalServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      const retry = err instanceof LocalServerError && err.kind === 'exited' && PORT_TAKEN.test(err.logTail) && attempt < 3;
      if (!retry) throw err;
    }
  }
}

async function startOnce(opts: LocalServerOptions): Promise<LocalServer> {
  const port = await freePort();
  const spec = opts.launch(port);
  const url = `http://127.0.0.1:${port}`;
  const argv = opts.watchdogPython ? [opts.watchdogPython, '-c', WATCHDOG, ...spec.argv] : spec.argv;
  const child: BackgroundProcess = startInBackground(argv, { cwd: spec.cwd, env: spec.env, logFile: spec.logPath, io: opts.io });
  const log = () => {
    try {
      return readFileSync(spec.logPath, 'utf8');
    } catch {
      return '';
    }
  };
  let stopping: Promise<void> | undefined;
  const server: LocalServer = {
    name: opts.name,
    url,
    pid: child.pid ?? 0,
    logPath: spec.logPath,
    exited: () => child.exit !== undefined,
    log,
    stop: () => (stopping ??= child.stopGroup(opts.stopGraceMs ?? 10_000)),
    killNow: () => child.killGroup('SIGKILL'),
  };

  const command = spec.argv.join(' ');
  const fail = async (message: string, kind: LocalServerError['kind']): Promise<never> => {
    const text = tail(log());
    await server.stop();
    throw new LocalServerError(`${message}; command: ${command}\n--- ${opts.name} log ---\n${text}`, kind, text);
  };
  const state = await pollUntil(
    async () => (child.exit ? ('exited' as const) : (await answers(url + opts.readyPath)) ? ('ready' as const) : undefined),
    { intervalMs: 200, timeoutMs: opts.readyTimeoutMs, signal: opts.signal },
  );
  if (state === 'ready') return server;
  if (child.exit) return fail(`${opts.name} exited before it was ready (code ${child.exit.code}, signal ${child.exit.signal})`, 'exited');
  if (opts.signal?.aborted) return fail(`${opts.name} was stopped while it was starting`, 'cancelled');
  return fail(`${opts.name} did not answer ${url}${opts.readyPath} within ${opts.readyTimeoutMs / 1000} s`, 'timeout');
}

/** Whether GET url answers 200 within 2 s. */
export async function answers(url: string): Promise<boolean> {
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
