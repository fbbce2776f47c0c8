/** Which CI system runs us, and the URL of this run, from the environment it sets. */

export interface CiInfo {
  provider?: 'github' | 'gitlab' | 'generic';
  /** Link to the CI run (job) that is running mlops. */
  runUrl?: string;
  /** The branch CI builds (a PR's head branch, where git itself is on a detached HEAD). */
  branch?: string;
  commit?: string;
  /** The pull/merge request number, when building one. */
  pullRequest?: string;
}

/** Reads GITHUB_* / GITLAB CI_* variables. Pure apart from taking the env as an argument. */
export function detectCi(env: Record<string, string | undefined>): CiInfo {
  if (env.GITHUB_ACTIONS === 'true') {
    const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
    const repo = env.GITHUB_REPOSITORY;
    const runId = env.GITHUB_RUN_ID;
    const attempt = env.GITHUB_RUN_ATTEMPT;
    let runUrl: string | undefined;
    if (repo && runId) runUrl = `${server}/${repo}/actions/runs/${runId}${attempt && attempt !== '1' ? `/attempts/${attempt}` : ''}`;
    const pr = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '')?.[1];
    return {
      provider: 'github',
      runUrl,
      branch: env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || undefined,
      commit: env.GITHUB_SHA || undefined,
      pullRequest: pr,
    };
  }
  if (env.GITLAB_CI === 'true') {
    return {
      provider: 'gitlab',
      runUrl: env.CI_JOB_URL || env.CI_PIPELINE_URL || undefined,
      branch: env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || env.CI_COMMIT_BRANCH || env.CI_COMMIT_REF_NAME || undefined,
      commit: env.CI_COMMIT_SHA || undefined,
      pullRequest: env.CI_MERGE_REQUEST_IID || undefined,
    };
  }
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return { provider: 'generic' };
  return {};
}
