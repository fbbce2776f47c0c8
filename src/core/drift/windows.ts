/**
 * The consecutive-drift count across monitoring windows, and when to roll back. Pure.
 * A drifting window adds one; a window without drift resets to 0; a window with insufficient data
 * leaves the count alone (it says nothing either way). After a rollback the count starts again.
 * The count is of distinct windows: a window that overlaps one already judged (the same hour
 * monitored again) is recorded as a repeat and leaves the count alone.
 */
import type { DatasetVerdict } from './evaluate.js';

export const MONITOR_STATE_SCHEMA = 'mlops.monitor-state/v1';

export interface MonitorState {
  schema: typeof MONITOR_STATE_SCHEMA;
  endpoint: string;
  variant: string;
  /** Drifting windows in a row, up to and including the last one. */
  consecutive: number;
  updatedAt: string;
  /** The last few windows, newest last. */
  history: Array<{
    at: string;
    from?: string;
    to?: string;
    status: DatasetVerdict['status'];
    samples: number;
    consecutive: number;
    rolledBack?: boolean;
    /** This window overlapped one judged before: it did not change the count. */
    repeat?: boolean;
  }>;
}

export type MonitorHistoryEntry = MonitorState['history'][number];

/**
 * The earlier judgement (drift or no drift) of a window overlapping this one, if the history holds
 * one. Insufficient data judged nothing, so such a window may be monitored again and count.
 */
export function evaluatedBefore(state: MonitorState, window: { from?: string; to?: string } | undefined): MonitorHistoryEntry | undefined {
  if (!window?.from || !window.to) return undefined;
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  return [...state.history]
    .reverse()
    .find((h) => !h.repeat && h.from && h.to && h.status !== 'insufficient-data' && from < Date.parse(h.to) && to > Date.parse(h.from));
}

/**
 * What is wrong with a stored monitor state, or undefined when it is one (read from S3 or a file,
 * so anyone who can write there chooses its content; a wrong shape must not become a TypeError).
 */
export function monitorStateProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const s = v as Record<string, unknown>;
  if (s.schema !== MONITOR_STATE_SCHEMA) return `schema is ${JSON.stringify(s.schema)}, not "${MONITOR_STATE_SCHEMA}"`;
  if (typeof s.endpoint !== 'string' || typeof s.variant !== 'string') return 'endpoint and variant must be strings';
  if (typeof s.consecutive !== 'number' || !Number.isInteger(s.consecutive) || s.consecutive < 0) return 'consecutive must be a count';
  if (typeof s.updatedAt !== 'string') return 'updatedAt must be a string';
  if (!Array.isArray(s.history)) return 'history must be a list';
  for (const [i, h] of (s.history as unknown[]).entries()) {
    if (typeof h !== 'object' || h === null) return `history[${i}] is not an object`;
    const e = h as Record<string, unknown>;
    if (typeof e.at !== 'string' || typeof e.status !== 'string' || typeof e.consecutive !== 'number') {
      return `history[${i}] needs at, status and consecutive`;
    }
  }
  return undefined;
}

export function initialState(endpoint: string, variant: string, now: Date): MonitorState {
  return { schema: MONITOR_STATE_SCHEMA, endpoint, variant, consecutive: 0, updatedAt: now.toISOString(), history: [] };
}

/** The state after a window with this verdict. */
export function advanceState(
  prev: MonitorState,
  verdict: DatasetVerdict,
  now: Date,
  window?: { from?: string; to?: string },
): MonitorState {
  const repeat = evaluatedBefore(prev, window) !== undefined;
  const consecutive = repeat
    ? prev.consecutive
    : verdict.status === 'drift'
      ? prev.consecutive + 1
      : verdict.status === 'no-drift'
        ? 0
        : prev.consecutive;
  const entry = {
    at: now.toISOString(),
    ...(window ?? {}),
    status: verdict.status,
    samples: verdict.samples,
    consecutive,
    ...(repeat ? { repeat: true } : {}),
  };
  return { ...prev, consecutive, updatedAt: now.toISOString(), history: [...prev.history, entry].slice(-20) };
}

/** Whether this window should roll back: it drifted, and the count reached the configured number of windows. */
export function rollbackDue(state: MonitorState, verdict: DatasetVerdict, consecutiveWindows: number): boolean {
  return verdict.status === 'drift' && state.history.at(-1)?.repeat !== true && state.consecutive >= consecutiveWindows;
}

/** The state after a rollback was performed: the count starts again. */
export function afterRollback(state: MonitorState): MonitorState {
  const history = state.history.slice();
  if (history.length) history[history.length - 1] = { ...history[history.length - 1], rolledBack: true };
  return { ...state, consecutive: 0, history };
}
