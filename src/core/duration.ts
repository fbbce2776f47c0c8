/** Durations as people write them in config and flags. Pure. */
import { UserError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The longest duration accepted anywhere (a timeout, a window, a bake): 365 days. Longer is a typo. */
export const MAX_DURATION_MS = 365 * UNIT_MS.d;

/** How a duration is written as a string: a number and a unit, "90s", "1.5h". */
export const DURATION_FORMAT = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Converts a duration (seconds as a number, or "250ms", "90s", "15m", "24h", "7d") to
 * milliseconds; a RangeError for anything else, a negative one, or one above MAX_DURATION_MS.
 */
export function durationMs(d: number | string): number {
  let ms: number;
  if (typeof d === 'number') ms = d * 1000;
  else {
    const m = DURATION_FORMAT.exec(d.trim());
    if (!m) throw new RangeError(`not a duration: "${d}" (use e.g. "90s", "15m", "24h")`);
    ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DURATION_MS) {
    throw new RangeError(`duration out of range: "${d}" (at most ${formatDuration(MAX_DURATION_MS)})`);
  }
  return ms;
}

/**
 * A duration given as a command-line flag, in milliseconds; anything durationMs refuses (and zero,
 * when `positive`) is bad input (exit 2) naming the flag, never an internal error.
 */
export function durationFlagMs(flag: string, value: string, example: string, positive = false): number {
  let ms: number;
  try {
    ms = durationMs(value);
  } catch (err) {
    throw new UserError('BAD_OPTION', `${flag}: ${(err as Error).message}`, { hint: `e.g. ${flag} ${example}` });
  }
  if (positive && ms === 0)
    throw new UserError('BAD_OPTION', `${flag} must be longer than 0, not "${value}".`, { hint: `e.g. ${flag} ${example}` });
  return ms;
}

/** Formats milliseconds compactly for people: 850ms, 12.3s, 4m 05s, 2h 10m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${String(totalS % 60).padStart(2, '0')}s`;
  const totalM = Math.round(totalS / 60);
  if (totalM < 1440) return `${Math.floor(totalM / 60)}h ${String(totalM % 60).padStart(2, '0')}m`;
  return `${Math.floor(totalM / 1440)}d ${Math.floor((totalM % 1440) / 60)}h`;
}
