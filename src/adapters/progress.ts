/**
 * The progress reporter behind the ProgressPort: long waits (SageMaker updates of 5-15 minutes, a
 * shadow bake, servers starting) are never silent. On a terminal an ora spinner on stderr shows the
 * stage, the status and the elapsed time; elsewhere (CI, a pipe) one plain line every 30 s, e.g.
 * "[promote cutover] endpoint churn-prod still Updating (3m 12s), blue/green canary 10%". Nothing
 * goes to stdout, so --json stays one document; --quiet and --json show nothing (Io decides).
 *
 * Waits that poll (promote, rollback) report on every poll, on their own clock, so a compressed
 * clock in tests compresses the lines too. Waits that do not poll (`begin` then `end`) get a
 * real-time tick; the poll-driven ones get it as well, for a spinner's elapsed time between polls.
 */
import type { ProgressPort, WaitEvent } from '../core/ports.js';
import { formatDuration } from '../core/duration.js';

/** A running spinner (the CLI's Io makes ora ones). */
export interface Spinner {
  update(text: string): void;
  stop(): void;
}

/** What the reporter writes through (the CLI's Io). */
export interface ProgressOutput {
  /** Whether a live spinner may be drawn (TTY stderr, not CI, not --json/--quiet/--verbose). */
  readonly spinnerAllowed: boolean;
  spinnerMaker(): Promise<(text: string) => Spinner>;
  /** A line on stderr (nothing with --quiet or --json). */
  info(msg: string): void;
}

export interface ProgressOptions {
  /** Milliseconds since the epoch: the clock the waits run on (default Date.now). */
  now?: () => number;
  /** Without a TTY, at most one line per this many ms of a wait (default 30 s). */
  everyMs?: number;
  /** Real-time tick between polls (default 1 s on a terminal, 5 s elsewhere); 0: none. */
  tickMs?: number;
}

/** Elapsed time for people: 45s, 3m 12s, 1h 02m. */
export function formatElapsed(ms: number): string {
  return ms < 60_000 ? `${Math.floor(ms / 1000)}s` : formatDuration(Math.round(ms / 1000) * 1000);
}

/**
 * One line of a wait: `first` when it begins, `still` as a CI log repeats it, `live` as a
 * spinner's text ("[promote cutover] endpoint churn-prod still Updating (3m 12s), canary 10%").
 */
export function waitLine(e: WaitEvent, elapsedMs: number, form: 'first' | 'still' | 'live'): string {
  const body =
    form === 'first'
      ? `${e.subject} ${e.status}`
      : `${e.subject} ${form === 'still' ? 'still ' : ''}${e.status} (${formatElapsed(elapsedMs)})`;
  return `${e.stage ? `[${e.stage}] ` : ''}${body}${e.detail ? `, ${e.detail}` : ''}`;
}

/** Reports long waits; `end` it when the command ends (it stops the spinner and the tick). */
export class ProgressReporter implements ProgressPort {
  private current?: { key: string; event: WaitEvent; since: number; lastLine: number; held: boolean };
  private spinner?: Spinner;
  private timer?: ReturnType<typeof setInterval>;
  private readonly now: () => number;
  private readonly everyMs: number;
  private readonly tickMs: number;

  constructor(
    private readonly out: ProgressOutput,
    private readonly makeSpinner: ((text: string) => Spinner) | undefined,
    o: ProgressOptions = {},
  ) {
    this.now = o.now ?? Date.now;
    this.everyMs = o.everyMs ?? 30_000;
    this.tickMs = o.tickMs ?? (makeSpinner ? 1000 : 5000);
  }

  /** Called on every poll of a wait: a new subject or status starts a new wait. */
  waiting(e: WaitEvent): void {
    this.track(e, false);
  }

  private track(e: WaitEvent, held: boolean): void {
    const key = `${e.stage ?? ''}\u0000${e.subject}\u0000${e.status}`;
    const t = this.now();
    if (this.current?.key !== key) {
      this.stopSpinner();
      this.current = { key, event: e, since: t, lastLine: t, held };
      if (!this.makeSpinner) this.out.info(waitLine(e, 0, 'first'));
      this.startTick();
    } else {
      this.current.event = e;
    }
    this.show();
  }

  /** A wait that does not poll (servers starting): shown until `end`, refreshed by the tick, through log lines. */
  begin(e: WaitEvent): void {
    this.track(e, true);
  }

  /** The wait is over (a spinner is cleared; the next log line says what came of it). Call it in `finally` too. */
  end(): void {
    this.stopSpinner();
    this.current = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * A log line. A polled wait is over when its poller logs (it acts on what it saw), so its
   * spinner does not linger with a stale status; a `begin` wait's spinner comes back on the next tick.
   */
  log(msg: string): void {
    if (this.current && !this.current.held) this.end();
    else this.stopSpinner();
    this.out.info(msg);
  }

  private show(): void {
    const c = this.current;
    if (!c) return;
    const t = this.now();
    if (this.makeSpinner) {
      const text = waitLine(c.event, t - c.since, 'live');
      if (this.spinner) this.spinner.update(text);
      else this.spinner = this.makeSpinner(text);
    } else if (t - c.lastLine >= this.everyMs) {
      c.lastLine = t;
      this.out.info(waitLine(c.event, t - c.since, 'still'));
    }
  }

  private stopSpinner(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }

  private startTick(): void {
    if (this.timer || this.tickMs <= 0) return;
    this.timer = setInterval(() => this.show(), this.tickMs);
    // The tick never keeps the process alive on its own.
    this.timer.unref?.();
  }
}

/** The reporter for a command's output: spinners when Io allows them, else throttled lines. */
export async function progressReporter(out: ProgressOutput, o: ProgressOptions = {}): Promise<ProgressReporter> {
  return new ProgressReporter(out, out.spinnerAllowed ? await out.spinnerMaker() : undefined, o);
}
