/**
 * Where `mlops train` records the run it made, for `compare` and `promote` to find:
 * `<config folder>/.mlops/last-run.json` (ignored by git; CI keeps it between steps of one job).
 */

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
