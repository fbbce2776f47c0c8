/**
 * The consecutive-drift count across monitoring windows, and when to roll back. Pure.
 * A drifting window adds one; a window without drift resets to 0; a window with insufficient data
 * leaves the count alone (it says nothing either way). After a rollback the count starts again.
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
  }>;
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
  const consecutive = verdict.status === 'drift' ? prev.consecutive + 1 : verdict.status === 'no-drift' ? 0 : prev.consecutive;
  const entry = { at: now.toISOString(), ...(window ?? {}), status: verdict.status, samples: verdict.samples, consecutive };
  return { ...prev, consecutive, updatedAt: now.toISOString(), history: [...prev.history, entry].slice(-20) };
}

/** Whether this window should roll back: it drifted, and the count reached the configured number of windows. */
export function rollbackDue(state: MonitorState, verdict: DatasetVerdict, consecutiveWindows: number): boolean {
  return verdict.status === 'drift' && state.consecutive >= consecutiveWindows;
}

/** The state after a rollback was performed: the count starts again. */
export function afterRollback(state: MonitorState): MonitorState {
  const history = state.history.slice();
  if (history.length) history[history.length - 1] = { ...history[history.length - 1], rolledBack: true };
  return { ...state, consecutive: 0, history };
}
