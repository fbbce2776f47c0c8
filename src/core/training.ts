/**
 * Training behind one port: the local process and the SageMaker Training Job both take the MLflow
 * run mlops made and report how training ended, so `train` keeps one flow for the run's tags,
 * status, required metrics and record. Pure helpers of the SageMaker backend live here too.
 */

/** How training ended, whichever backend ran it. */
export interface TrainingOutcome {
  kind: 'succeeded' | 'failed' | 'not-found' | 'interrupted' | 'timed-out';
  durationMs: number;
  /** The local command's exit code or signal. */
  exitCode?: number;
  signal?: string;
  spawnError?: string;
  /** The tail of the training output (the local process's, or the job's last log lines). */
  output: string;
  /** A SageMaker job's FailureReason. */
  failureReason?: string;
  /** Facts for the run: tags (job ARN, instance type) and metrics (billable seconds, spot savings). */
  tags: Record<string, string>;
  metrics: Record<string, number>;
}

/** The run the training logs into. */
export interface TrainingRun {
  runId: string;
  experimentId: string;
  experimentName: string;
  trackingUri: string;
}

export interface TrainOptions {
  signal: AbortSignal;
  hurry?: AbortSignal;
  timeoutMs: number;
}

/** A training backend: runs the training into the given MLflow run. */
export interface TrainerPort {
  /** What it would do, for --dry-run (`timeout`: the formatted time limit). */
  plan(timeout: string): string[];
  /** Trains, streaming progress; expected endings are outcomes, not exceptions. */
  train(run: TrainingRun, opts: TrainOptions): Promise<TrainingOutcome>;
}

/** A SageMaker training job name (at most 63 of letters, digits, hyphens) unique per second. */
export function trainingJobName(project: string | undefined, now: Date, suffix: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = (project ?? 'mlops')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - stamp.length - suffix.length - 2);
  return `${base || 'mlops'}-${stamp}-${suffix}`.replace(/-+/g, '-');
}

/**
 * The job's hyperparameters in script mode: the user's, and what the framework image needs to find
 * the entry point, every value JSON-encoded as the SageMaker Python SDK sends them.
 */
export function scriptModeHyperparameters(
  user: Record<string, string | number | boolean>,
  o: { program: string; submitDirectory: string; region: string; jobName: string },
): Record<string, string> {
  const hps: Record<string, string> = {};
  for (const [k, v] of Object.entries(user)) hps[k] = JSON.stringify(v);
  hps.sagemaker_program = JSON.stringify(o.program);
  hps.sagemaker_submit_directory = JSON.stringify(o.submitDirectory);
  hps.sagemaker_region = JSON.stringify(o.region);
  hps.sagemaker_job_name = JSON.stringify(o.jobName);
  hps.sagemaker_container_log_level = '20';
  return hps;
}

/** Spot savings in percent, as the SageMaker console computes it: 1 - billable / training time. */
export function spotSavingsPercent(trainingSeconds: number, billableSeconds: number): number {
  if (!(trainingSeconds > 0)) return 0;
  return Math.round((1 - billableSeconds / trainingSeconds) * 1000) / 10;
}

/**
 * The content version of one channel's data: a short hash over the DVC content hashes of the
 * files (path relative to the channel) it holds. The same data gives the same S3 key.
 */
export function channelVersion(entries: Array<{ path: string; hash: string }>): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return fnv1a64(sorted.map((e) => `${e.path}\0${e.hash}\n`).join(''));
}

/** A 64-bit FNV-1a hash in hex (core has no crypto; this names data, it does not protect it). */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
