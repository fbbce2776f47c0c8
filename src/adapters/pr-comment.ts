/**
 * The sticky pull/merge request comment: GitHub issue comments through @octokit/rest, GitLab merge
 * request notes through @gitbeaker/rest. Where to post comes from the standard CI variables only
 * (passed in, never read from process.env). Every failure is an outcome, never an exception, so a
 * comment can never fail the gate.
 */
import { readFileSync } from 'node:fs';
import type { CommentOutcome, PullRequestCommentPort } from '../core/ports.js';

export interface CommentSettings {
  /** Name of the variable holding the token (compare.commentToken). */
  tokenVariable?: string;
  signal?: AbortSignal;
  /** Detail for --verbose. */
  debug?: (msg: string) => void;
}

/** The comment port for this CI job, or why there is none (not CI, not a PR/MR, no token). */
export function pullRequestComments(
  env: Record<string, string | undefined>,
  settings: CommentSettings = {},
): PullRequestCommentPort | { skipped: string } {
  if (env.GITHUB_ACTIONS === 'true') return github(env, settings);
  if (env.GITLAB_CI === 'true') return gitlab(env, settings);
  return { skipped: 'not running in GitHub Actions or GitLab CI' };
}

/** The PR number of the event that started the workflow (pull_request, pull_request_target, issue_comment on a PR). */
function pullRequestNumber(eventPath: string | undefined): number | undefined {
  if (!eventPath) return undefined;
  let event: { pull_request?: { number?: unknown }; issue?: { number?: unknown; pull_request?: unknown } };
  try {
    event = JSON.parse(readFileSync(eventPath, 'utf8')) as typeof event;
  } catch {
    return undefined;
  }
  const n = event.pull_request?.number ?? (event.issue?.pull_request ? event.issue.number : undefined);
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The HTTP status of a client error, if it has one. */
function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; cause?: { response?: { status?: unknown } } };
  if (typeof e?.status === 'number') return e.status;
  const s = e?.cause?.response?.status;
  return typeof s === 'number' ? s : undefined;
}

/** The variable naming each provider's API, for a failure that points at it. */
const API_VARIABLE: Record<string, string> = { GitHub: 'GITHUB_API_URL', GitLab: 'CI_API_V4_URL' };

function failure(provider: string, err: unknown, rateLimited: boolean): CommentOutcome {
  const e = err as { response?: unknown; message?: string; cause?: { code?: string; response?: unknown } };
  const answered = e?.response !== undefined || e?.cause?.response !== undefined;
  // Octokit turns a request that got no answer into status 500 without a response; fetch's own is a TypeError.
  if ((statusOf(err) !== undefined && !answered && !rateLimited) || (err instanceof TypeError && e.message === 'fetch failed')) {
    const why = e?.cause?.code ?? (err instanceof Error ? err.message : String(err));
    return { status: 'failed', reason: `${provider} could not be reached (${why}): check ${API_VARIABLE[provider]}` };
  }
  // An answer that is not the API's JSON (a login page, a proxy) fails inside the client's own parsing.
  if (statusOf(err) === undefined && !rateLimited && (err instanceof TypeError || err instanceof SyntaxError)) {
    return { status: 'failed', reason: `${provider} answered with something that is not its API's JSON: check ${API_VARIABLE[provider]}` };
  }
  // gitbeaker retries 429 itself and then throws an error without the response.
  const httpStatus = statusOf(err) ?? (rateLimited ? 429 : undefined);
  const why =
    rateLimited || httpStatus === 429
      ? 'rate limited'
      : httpStatus === 401 || httpStatus === 403
        ? 'not allowed (does the token have permission to comment?)'
        : httpStatus === 404
          ? 'not found (wrong repository, request number, or a token that cannot see it)'
          : err instanceof Error
            ? err.message.split('\n')[0]
            : String(err);
  return { status: 'failed', reason: `${provider} answered ${httpStatus ?? 'with an error'}: ${why}`, httpStatus };
}

function github(env: Record<string, string | undefined>, settings: CommentSettings): PullRequestCommentPort | { skipped: string } {
  const tokenVariable = settings.tokenVariable ?? 'GITHUB_TOKEN';
  const token = env[tokenVariable];
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const issueNumber = pullRequestNumber(env.GITHUB_EVENT_PATH);
  if (!owner || !repo) return { skipped: 'GITHUB_REPOSITORY is not set' };
  if (!issueNumber) {
    const event = env.GITHUB_EVENT_NAME;
    // A pull_request run whose event file cannot be read is not "not for a pull request".
    return event?.startsWith('pull_request')
      ? { skipped: `the pull request's number could not be read from $GITHUB_EVENT_PATH (${env.GITHUB_EVENT_PATH || 'not set'})` }
      : { skipped: `this workflow run is not for a pull request (${event ?? 'unknown event'})` };
  }
  if (!token) return { skipped: `$${tokenVariable} is empty (pass it to the step: env: ${tokenVariable}: \${{ secrets.GITHUB_TOKEN }})` };
  const baseUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const debug = settings.debug ?? (() => {});
  return {
    target: `GitHub ${owner}/${repo}#${issueNumber}`,
    maxBodyLength: 65_536,
    async upsert(marker, body) {
      const { Octokit } = await import('@octokit/rest');
      // Octokit logs request warnings to the console by default; ours go through Io.
      const octokit = new Octokit({
        auth: token,
        baseUrl,
        userAgent: 'mlops',
        request: { signal: settings.signal },
        log: { debug, info: debug, warn: debug, error: debug },
      });
      try {
        const comments = await octokit.paginate(octokit.rest.issues.listComments, {
          owner,
          repo,
          issue_number: issueNumber,
          per_page: 100,
        });
        const mine = comments.find((c) => c.body?.includes(marker));
        if (mine) {
          const r = await octokit.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
          return { status: 'updated', id: String(r.data.id), url: r.data.html_url };
        }
        const r = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
        return { status: 'created', id: String(r.data.id), url: r.data.html_url };
      } catch (err) {
        const headers = (err as { response?: { headers?: Record<string, string | undefined> } }).response?.headers;
        return failure('GitHub', err, headers?.['x-ratelimit-remaining'] === '0');
      }
    },
  };
}

function gitlab(env: Record<string, string | undefined>, settings: CommentSettings): PullRequestCommentPort | { skipped: string } {
  const api = env.CI_API_V4_URL;
  const projectId = env.CI_PROJECT_ID;
  const iid = Number(env.CI_MERGE_REQUEST_IID);
  if (!api || !projectId) return { skipped: 'CI_API_V4_URL or CI_PROJECT_ID is not set' };
  if (!Number.isInteger(iid) || iid <= 0) return { skipped: 'this pipeline is not for a merge request (CI_MERGE_REQUEST_IID is not set)' };
  const tokenVariable = settings.tokenVariable ?? 'CI_JOB_TOKEN';
  const token = env[tokenVariable];
  if (!token) return { skipped: `$${tokenVariable} is empty` };
  // CI_JOB_TOKEN goes in the JOB-TOKEN header; any other variable holds a personal, project or group access token.
  const auth = tokenVariable === 'CI_JOB_TOKEN' ? { jobToken: token } : { token };
  const host = api.replace(/\/+$/, '').replace(/\/api\/v4$/, '');
  return {
    target: `GitLab project ${projectId}!${iid}`,
    maxBodyLength: 1_000_000,
    async upsert(marker, body) {
      const { MergeRequestNotes } = await import('@gitbeaker/rest');
      const notes = new MergeRequestNotes({ host, ...auth, queryTimeout: 30_000 });
      try {
        const all = await notes.all(projectId, iid, { perPage: 100 });
        const mine = all.find((n) => typeof n.body === 'string' && n.body.includes(marker));
        if (mine) {
          const r = await notes.edit(projectId, iid, mine.id, { body });
          return { status: 'updated', id: String(r.id) };
        }
        const r = await notes.create(projectId, iid, body);
        return { status: 'created', id: String(r.id) };
      } catch (err) {
        return failure('GitLab', err, /after \d+ retries, last status code: 429/.test(err instanceof Error ? err.message : ''));
      }
    },
  };
}
