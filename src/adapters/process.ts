/**
 * The one process runner. Every child process of mlops (and of the demo, the sandbox and the
 * SageMaker emulator) goes through `runProcess` (run to the end) or `startInBackground` (a server):
 * argv arrays only (never a shell), explicit cwd and env, output streamed to `io.passthrough`
 * (and kept, capped, for error classification), the command echoed (redacted) with --verbose,
 * abort forwarded as a signal, and a timeout. Expected outcomes (not found, non-zero exit, killed,
 * timed out) are values in the result, not exceptions.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** Where a child's output and the echoed command go (the CLI's Io fits; the demo passes its printer). */
export interface ProcessIo {
  /** The command line, shown with --verbose. */
  debug(line: string): void;
  /** The child's own output, as it arrives. */
  passthrough(text: string): void;
}

export interface RunProcessOptions {
  cwd: string;
  /** The child's whole environment (nothing is inherited implicitly). `PATH` here finds the binary. */
  env: Record<string, string | undefined>;
  /** Output object: child output is streamed to `io.passthrough`, the command echoed by `io.debug`. */
  io?: ProcessIo;
  /** Only echo what would run (`would run: ...`) and report success without running it. */
  dryRun?: boolean;
  /** Stream the child's stdout/stderr to `io.passthrough` (default: true when `io` is given). */
  stream?: boolean;
  /** Aborting it sends the child `abortSignal` (or the signal named by the abort reason). */
  signal?: AbortSignal;
  /** Aborting it (after `signal`, or alone) kills the child at once with SIGKILL: the user insisted. */
  hurry?: AbortSignal;
  /** Kill the child after this many milliseconds (SIGTERM, then SIGKILL after `killGraceMs`). */
  timeoutMs?: number;
  /** How long a child may take to exit after SIGTERM/SIGINT before SIGKILL. Default 10 s. */
  killGraceMs?: number;
  /** Signal sent on abort when the abort reason names none. Default SIGTERM. */
  abortSignal?: NodeJS.Signals;
  /** Keep at most this many characters of each of stdout/stderr (the tail). Default 256 KiB. */
  maxCapture?: number;
  /** Text written to the child's stdin (otherwise stdin is ignored: nothing ever prompts). */
  input?: string;
  /**
   * The child (and every process it starts) dies with mlops, even when mlops is killed with
   * SIGKILL: it runs as the leader of its own process group, watched by a tiny Node process that
   * stops the group once mlops is gone (see PARENT_WATCH). Signals go to the whole group.
   */
  dieWithParent?: boolean;
}

export interface ProcessResult {
  argv: string[];
  /** The exit code, when the process exited by itself (or after a signal handler exited). */
  exitCode?: number;
  /** The signal that ended the process, if any. */
  signal?: string;
  /** The binary could not be found (ENOENT) or not be run (EACCES). */
  notFound: boolean;
  /** Spawn error code (ENOENT, EACCES...) when the process never started. */
  spawnError?: string;
  timedOut: boolean;
  /** The abort signal fired while the process ran. */
  aborted: boolean;
  /** exitCode === 0 and nothing else went wrong. */
  ok: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived (capped tail). */
  output: string;
  durationMs: number;
}

const SIGNAL_NAMES = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGKILL']);

/** Quotes an argv for display (never for a shell: nothing is run through one). */
export function formatCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

class Tail {
  text = '';
  constructor(private readonly max: number) {}
  push(s: string): void {
    this.text += s;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  value(): string {
    return this.text.length > this.max ? this.text.slice(-this.max) : this.text;
  }
}

/** Runs argv[0] with argv[1..] and resolves with what happened (never rejects for the child's sake). */
export async function runProcess(argv: string[], opts: RunProcessOptions): Promise<ProcessResult> {
  if (argv.length === 0) throw new Error('runProcess: empty argv');
  const { execa } = await import('execa');
  const started = Date.now();
  const io = opts.io;
  const stream = opts.stream ?? io !== undefined;
  const max = opts.maxCapture ?? 256 * 1024;
  const out = new Tail(max);
  const err = new Tail(max);
  const all = new Tail(max);
  if (!opts.dryRun) io?.debug(`$ ${formatCommand(argv)}${opts.cwd ? `   (in ${opts.cwd})` : ''}`);

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;

  let aborted = false;
  if (opts.signal?.aborted || opts.dryRun) {
    if (opts.dryRun) io?.debug(`would run: ${formatCommand(argv)}`);
    const dry = !opts.signal?.aborted;
    return {
      argv,
      ...(dry ? { exitCode: 0 } : {}),
      notFound: false,
      timedOut: false,
      aborted: !dry,
      ok: dry,
      stdout: '',
      stderr: '',
      output: '',
      durationMs: 0,
    };
  }

  const grace = opts.killGraceMs ?? 10_000;
  const group = opts.dieWithParent === true && process.platform !== 'win32';
  const child = execa(argv[0], argv.slice(1), {
    cwd: opts.cwd,
    env,
    extendEnv: false,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    killSignal: 'SIGTERM',
    forceKillAfterDelay: grace,
    windowsHide: true,
    detached: group,
  });
  const kill = (sig: NodeJS.Signals) => {
    if (group && child.pid) killGroup(child.pid, sig);
    else child.kill(sig);
  };
  const watcher = group && child.pid ? watchParent(child.pid, grace) : undefined;

  const attach = (s: NodeJS.ReadableStream | null, tail: Tail) => {
    if (!s) return;
    const decoder = new TextDecoder();
    s.on('data', (chunk: Buffer) => {
      const text = decoder.decode(chunk, { stream: true });
      if (!text) return;
      tail.push(text);
      all.push(text);
      if (stream) io?.passthrough(text);
    });
  };
  attach(child.stdout, out);
  attach(child.stderr, err);

  const onAbort = () => {
    aborted = true;
    const reason: unknown = opts.signal?.reason;
    const sig = typeof reason === 'string' && SIGNAL_NAMES.has(reason) ? (reason as NodeJS.Signals) : (opts.abortSignal ?? 'SIGTERM');
    io?.debug(`forwarding ${sig} to ${argv[0]} (pid ${child.pid ?? '?'})`);
    kill(sig);
    // A child that ignores the signal is killed for good after the grace period.
    escalation = setTimeout(() => kill('SIGKILL'), grace);
    escalation.unref();
  };
  let escalation: NodeJS.Timeout | undefined;
  // Our own timer, not execa's: Node's setTimeout fires at once past 2^31-1 ms (about 24.8 days).
  let timedOut = false;
  const timeout =
    opts.timeoutMs && opts.timeoutMs > 0
      ? setLongTimeout(() => {
          timedOut = true;
          io?.debug(`${argv[0]} (pid ${child.pid ?? '?'}) timed out after ${opts.timeoutMs}ms`);
          kill('SIGTERM');
          escalation = setTimeout(() => kill('SIGKILL'), grace);
          escalation.unref();
        }, opts.timeoutMs)
      : undefined;
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const onHurry = () => {
    aborted = true;
    io?.debug(`killing ${argv[0]} (pid ${child.pid ?? '?'}) now`);
    kill('SIGKILL');
  };
  if (opts.hurry?.aborted) onHurry();
  else opts.hurry?.addEventListener('abort', onHurry, { once: true });

  try {
    const r = await child;
    const spawnError = r.exitCode === undefined && r.signal === undefined && typeof r.code === 'string' ? r.code : undefined;
    return {
      argv,
      exitCode: r.exitCode,
      signal: r.signal,
      notFound: spawnError === 'ENOENT' || spawnError === 'EACCES',
      spawnError,
      timedOut,
      aborted,
      ok: r.exitCode === 0 && !timedOut && !aborted,
      stdout: out.value(),
      stderr: err.value(),
      output: all.value(),
      durationMs: Date.now() - started,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    opts.hurry?.removeEventListener('abort', onHurry);
    if (escalation) clearTimeout(escalation);
    timeout?.clear();
    // Stragglers the child left in its group go with it.
    if (group && child.pid) killGroup(child.pid, 'SIGKILL');
    watcher?.kill();
  }
}

/** The longest delay Node's timers take; a longer one overflows and fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout for any delay: a longer one is a chain of shorter timers. Unref'd, like the child it guards. */
export function setLongTimeout(fn: () => void, ms: number): { clear(): void } {
  let timer: NodeJS.Timeout;
  const at = Date.now() + ms;
  const arm = () => {
    const left = at - Date.now();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
    timer.unref();
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

/**
 * The watchdog of a `dieWithParent` child, run by this Node binary (always there, whatever the
 * training command is): every half second, when the process group it guards is gone it exits;
 * when its parent (mlops) is gone (it was re-parented) it sends the group SIGTERM, then SIGKILL
 * after the grace period. The same idea as local-server.ts's Python watchdog, without Python and
 * without standing between mlops and the child (exit codes and signals stay the child's own).
 * argv: parent pid, group leader pid, grace in ms.
 */
const PARENT_WATCH = `
const [parent, group, grace] = process.argv.slice(1).map(Number);
const signal = (s) => { try { process.kill(-group, s); return true; } catch (e) { return e.code === 'EPERM'; } };
const tick = setInterval(() => {
  if (!signal(0)) process.exit(0);
  if (process.ppid !== parent) {
    clearInterval(tick);
    signal('SIGTERM');
    setTimeout(() => { signal('SIGKILL'); process.exit(0); }, grace);
  }
}, 500);
`;

/** Starts the watchdog of the process group led by pid (see PARENT_WATCH). */
function watchParent(pid: number, graceMs: number): { kill(): void } {
  const watcher = spawn(process.execPath, ['-e', PARENT_WATCH, String(process.pid), String(pid), String(graceMs)], {
    stdio: 'ignore',
    // Its own group: a Ctrl-C to the terminal's group must not take the watchdog away first.
    detached: true,
  });
  watcher.on('error', () => {});
  watcher.unref();
  return {
    kill: () => {
      if (watcher.exitCode === null && watcher.signalCode === null) watcher.kill('SIGKILL');
    },
  };
}

/** Finds an executable on a PATH string, without running anything. */
export async function whichOnPath(name: string, pathEnv: string | undefined): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const path = await import('node:path');
  if (name.includes('/')) return name;
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface BackgroundOptions {
  cwd: string;
  /** The child's whole environment (nothing is inherited implicitly). */
  env: Record<string, string | undefined>;
  /** The child's stdout and stderr are appended to this file. */
  logFile: string;
  io?: Pick<ProcessIo, 'debug'>;
}

/** A child running in the background as the leader of its own process group (a server). */
export interface BackgroundProcess {
  readonly argv: string[];
  readonly pid: number | undefined;
  /** How it ended, once it has (a spawn failure counts, with the error as the signal). */
  readonly exit: { code: number | null; signal: string | null } | undefined;
  /** Resolves when it has ended. */
  readonly exited: Promise<void>;
  /** Signals its whole process group. */
  killGroup(signal: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after `graceMs` if it is still there, then SIGKILL to stragglers of the group. */
  stopGroup(graceMs: number): Promise<void>;
}

/** Starts argv detached from this process's group (so the whole group can be stopped), output to a log file. */
export function startInBackground(argv: string[], opts: BackgroundOptions): BackgroundProcess {
  if (argv.length === 0) throw new Error('startInBackground: empty argv');
  opts.io?.debug(`$ ${formatCommand(argv)}   (in ${opts.cwd}, log ${opts.logFile})`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
  const fd = openSync(opts.logFile, 'a');
  let child;
  try {
    child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  // The caller holds it through `exited`; it must not keep this process alive by itself.
  child.unref();
  const pid = child.pid;
  let exit: BackgroundProcess['exit'];
  const exited = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      res();
    });
    child.once('error', (err) => {
      exit ??= { code: null, signal: String(err) };
      res();
    });
  });
  const group = (signal: NodeJS.Signals) => {
    if (pid) killGroup(pid, signal);
  };
  return {
    argv,
    pid,
    get exit() {
      return exit;
    },
    exited,
    killGroup: group,
    async stopGroup(graceMs: number) {
      if (!exit) {
        group('SIGTERM');
        const timer = setTimeout(() => group('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      group('SIGKILL');
    },
  };
}

/** Sends a signal to a process group (by its leader's pid); a group that is gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Whether a process with this pid exists (one we may not signal counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether any process of the group led by pid is still alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
