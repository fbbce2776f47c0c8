/**
 * The wall clock behind the Clock port, and the one sleep with abort. Code that waits takes a
 * Clock, so tests run it on a fake one instead of sleeping.
 */
import type { Clock } from '../core/ports.js';

/** Resolves after `ms`, or at once when the signal aborts (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    // The listener goes when the timer fires: a wait polls many times on one signal, and leaked
    // listeners made Node print MaxListenersExceededWarning during every long promote.
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `check` until it returns something other than undefined, waiting `intervalMs` between
 * calls; undefined when `timeoutMs` passed or the signal aborted first. The one poll loop for
 * waits on the wall clock (servers starting, processes ending); deployment waits use the Clock.
 */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  o: { intervalMs: number; timeoutMs: number; signal?: AbortSignal },
): Promise<T | undefined> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (o.signal?.aborted || Date.now() >= deadline) return undefined;
    await sleep(Math.min(o.intervalMs, Math.max(0, deadline - Date.now())), o.signal);
  }
}

/** Real time. */
export const systemClock: Clock = { now: () => new Date(), sleep };
