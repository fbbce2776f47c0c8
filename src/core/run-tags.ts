/** The tags `mlops train` puts on the MLflow run, and the metrics it requires. Pure. */

export interface RunTagInput {
  git: { available: boolean; commit?: string; branch?: string; dirty?: boolean };
  ci: { provider?: string; runUrl?: string; branch?: string; commit?: string; pullRequest?: string };
  dataVersion?: string;
  configHash: string;
  project?: string;
  /** The training command, formatted for people. */
  command: string;
  mlopsVersion: string;
  /** Relative path of the entry script, for MLflow's own `mlflow.source.name`. */
  sourceName?: string;
  /** The mlops process that owns the run: a later train or doctor closes the run when it is gone. */
  owner?: { pid: number; host: string };
}

/** Tag keys mlops writes (the `mlops.` prefix keeps them apart from MLflow's and the user's). */
export const TAG = {
  gitCommit: 'mlops.git.commit',
  gitBranch: 'mlops.git.branch',
  gitDirty: 'mlops.git.dirty',
  dataVersion: 'mlops.data.version',
  configHash: 'mlops.config.hash',
  ciProvider: 'mlops.ci.provider',
  ciUrl: 'mlops.ci.url',
  ciPullRequest: 'mlops.ci.pull_request',
  project: 'mlops.project',
  command: 'mlops.train.command',
  version: 'mlops.version',
  outcome: 'mlops.train.outcome',
  exitCode: 'mlops.train.exit_code',
  failure: 'mlops.train.failure',
  /** Set when the holdout's drift profile was logged (its artifact path). */
  profile: 'mlops.profile',
  /** pid and host of the mlops process that runs the training (see deadOwnerRuns). */
  pid: 'mlops.pid',
  host: 'mlops.host',
} as const;

/** Builds the run's tags; absent facts are left out rather than written as empty strings. */
export function buildRunTags(i: RunTagInput): Record<string, string> {
  const tags: Record<string, string> = {};
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== '') tags[k] = v.length > 5000 ? v.slice(0, 5000) : v;
  };
  // In CI the checkout is often a detached HEAD (or a merge commit of a PR): CI knows the branch.
  const commit = i.git.commit ?? i.ci.commit;
  const branch = i.ci.branch ?? i.git.branch;
  set(TAG.gitCommit, commit);
  set(TAG.gitBranch, branch);
  if (i.git.available && i.git.dirty !== undefined) set(TAG.gitDirty, String(i.git.dirty));
  set(TAG.dataVersion, i.dataVersion);
  set(TAG.configHash, i.configHash);
  set(TAG.ciProvider, i.ci.provider);
  set(TAG.ciUrl, i.ci.runUrl);
  set(TAG.ciPullRequest, i.ci.pullRequest);
  set(TAG.project, i.project);
  set(TAG.command, i.command);
  set(TAG.version, i.mlopsVersion);
  if (i.owner) {
    set(TAG.pid, String(i.owner.pid));
    set(TAG.host, i.owner.host);
  }
  // MLflow's own keys, so its UI shows the commit and branch.
  set('mlflow.source.git.commit', commit);
  set('mlflow.source.git.branch', branch);
  set('mlflow.source.type', 'LOCAL');
  set('mlflow.source.name', i.sourceName);
  return tags;
}

/** Every metric the run must have logged: the compare gates' metrics plus train.requiredMetrics, once each. */
export function requiredMetrics(gates: Array<{ metric: string }>, extra: string[]): string[] {
  return [...new Set([...gates.map((g) => g.metric), ...extra])];
}

/** The required metrics the run lacks (absent or NaN: a NaN metric cannot pass a gate). */
export function missingMetrics(required: string[], logged: Record<string, number>): string[] {
  return required.filter((m) => !(m in logged) || Number.isNaN(logged[m]));
}

/**
 * The RUNNING runs started by an mlops on this host whose process is gone: it was killed (SIGKILL,
 * a crash) before it could mark the run. A run from another host, or without the tags, is never
 * judged (its process cannot be seen from here).
 */
export function deadOwnerRuns<R extends { info: { status: string }; data: { tags: Record<string, string> } }>(
  runs: R[],
  host: string,
  isAlive: (pid: number) => boolean,
): R[] {
  return runs.filter((r) => {
    if (r.info.status !== 'RUNNING' || r.data.tags[TAG.host] !== host) return false;
    const pid = Number(r.data.tags[TAG.pid]);
    return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
  });
}

/** JSON with object keys sorted at every level: the same config always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
