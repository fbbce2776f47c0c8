/**
 * Where `mlops train` records the run it made, for `compare` and `promote` to find:
 * `<config folder>/.mlops/last-run.json` (ignored by git; CI keeps it between steps of one job).
 * `parseLastRun` is the one reader of its contents (src/app/last-run.ts reads the file).
 */
import { UserError } from './errors.js';

/** Path of the record, relative to the folder of the config file. */
export const LAST_RUN_FILE = '.mlops/last-run.json';

export interface LastRun {
  runId: string;
  experimentId: string;
  experimentName: string;
  /** Tracking URI without credentials. */
  trackingUri: string;
  /** Link to the run in the MLflow UI. */
  runUrl: string;
  /** FINISHED only when training succeeded and every required metric was logged. */
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  startedAt: string;
  endedAt: string;
  /** `runs:/<runId>/model`, where src/train.py logs the model. */
  modelUri: string;
  gitCommit?: string;
  dataVersion?: string;
  configHash: string;
}

/** The fields the readers use; the rest of the record is informational. */
export type LastRunRef = Pick<LastRun, 'runId'> & Partial<Pick<LastRun, 'experimentId' | 'status' | 'modelUri'>>;

/** Validates the record's text: UserError (exit 2) for bad JSON or a missing runId. */
export function parseLastRun(text: string, file: string): LastRunRef {
  const hint = 'Run `mlops train` again, or pass --run RUN_ID.';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UserError('CANDIDATE_INVALID', `${file} is not valid JSON: ${(err as Error).message}`, { hint });
  }
  const doc = (parsed ?? {}) as Record<string, unknown>;
  if (typeof doc.runId !== 'string' || !doc.runId) throw new UserError('CANDIDATE_INVALID', `${file} has no "runId".`, { hint });
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const status = str(doc.status) as LastRun['status'] | undefined;
  return { runId: doc.runId, experimentId: str(doc.experimentId), status, modelUri: str(doc.modelUri) };
}
