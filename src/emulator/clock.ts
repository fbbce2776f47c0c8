/**
 * The emulator's compressible clock. Emulated time runs `timeScale` times faster than the wall
 * clock and can be pushed forward by hand (`advance`), so a 10-minute deployment step or a 24 h
 * bake takes milliseconds in a test. Only durations are compressed: timestamps the emulator
 * reports (CreationTime, inferenceTime, metric timestamps) are wall-clock times.
 */

interface Waiter {
  due: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Clock {
  private realBase = Date.now();
  private emuBase = 0;
  private waiters = new Set<Waiter>();
  /** Every (real, emulated) anchor since the start, so a wall-clock timestamp maps to emulated time. */
  private anchors: Array<{ real: number; emu: number; scale: number }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private scale = 1) {
    if (!(scale > 0)) throw new Error(`timeScale must be > 0, got ${scale}`);
    this.anchors.push({ real: this.realBase, emu: 0, scale });
  }

  get timeScale(): number {
    return this.scale;
  }

  /** Emulated milliseconds since the clock started. */
  now(): number {
    return this.emuBase + (Date.now() - this.realBase) * this.scale;
  }

  /**
   * The emulated time (ms) at a wall-clock time (ms since the epoch): how the emulator places
   * timestamped metrics on its own clock. Times before the start extrapolate at the first scale.
   */
  emulatedAt(wallMs: number): number {
    let a = this.anchors[0];
    for (const x of this.anchors) if (x.real <= wallMs) a = x;
    return a.emu + (wallMs - a.real) * a.scale;
  }

  setTimeScale(scale: number): void {
    if (!(scale > 0)) throw new Error(`timeScale must be > 0, got ${scale}`);
    this.emuBase = this.now();
    this.realBase = Date.now();
    this.scale = scale;
    this.anchors.push({ real: this.realBase, emu: this.emuBase, scale });
    this.reschedule();
  }

  /** Moves emulated time forward by `seconds`, waking every sleeper that is now due. */
  advance(seconds: number): void {
    this.emuBase = this.now() + seconds * 1000;
    this.realBase = Date.now();
    this.anchors.push({ real: this.realBase, emu: this.emuBase, scale: this.scale });
    this.reschedule();
  }

  /** Resolves after `seconds` of emulated time; rejects with the signal's reason when aborted. */
  sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        due: this.now() + Math.max(0, seconds) * 1000,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.reschedule();
    });
  }

  /** Stops the timer; pending sleepers stay pending (their owners abort them). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private reschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    let next = Infinity;
    for (const w of [...this.waiters]) {
      if (w.due <= now) {
        this.waiters.delete(w);
        w.resolve();
      } else {
        next = Math.min(next, w.due);
      }
    }
    if (next === Infinity) return;
    // Wake at most every second of real time, so a change of scale is never missed for long.
    const delay = Math.min(1000, Math.max(1, Math.ceil((next - now) / this.scale)));
    this.timer = setTimeout(() => this.reschedule(), delay);
    this.timer.unref?.();
  }
}

/** The signal's reason as an Error (an abort without a reason already gives one). */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}
