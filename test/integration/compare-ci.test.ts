/**
 * `mlops compare` at home in CI, against the real MLflow server: the sticky pull request comment
 * through a GitHub API stand-in that checks every request against GitHub's OpenAPI description,
 * the merge request note through a GitLab notes stand-in, $GITHUB_OUTPUT, one annotation per
 * failed gate on its config line, and GitLab's JUnit and metrics reports parsed back.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { JSDOM } from 'jsdom';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { runPython } from '../support/python.js';
import { startGithubStandin, type GithubStandin } from '../support/github-standin.js';
import { startGitlabStandin, type GitlabStandin } from '../support/gitlab-standin.js';
import { mermaidBlocks, parseMermaid } from '../support/mermaid.js';

const url = inject('mlflowUrl');
const id = randomUUID().slice(0, 8);
const EXP = `compare-ci-${id}`;
const MODEL = `compare-ci-model-${id}`;
const TOKEN = 'ghs_standin-token-123';

let fx: { exp: string; base: string; good: string; bad: string; wide: string };
let dir: string;

const FIXTURES = `
import json, os
from mlflow import MlflowClient
c = MlflowClient(os.environ["URL"])
exp = c.create_experiment(os.environ["EXP"])
def run(name, metrics):
    r = c.create_run(exp, run_name=name)
    for k, v in metrics.items():
        c.log_metric(r.info.run_id, k, v)
    c.set_terminated(r.info.run_id, "FINISHED")
    return r.info.run_id
ids = {"exp": exp}
ids["base"] = run("base", {"accuracy": 0.9, "loss": 0.5})
ids["good"] = run("good", {"accuracy": 0.905, "loss": 0.45})
ids["bad"] = run("bad", {"accuracy": 0.85, "loss": 0.7})
ids["wide"] = run("wide", {"accuracy": 0.9, "loss": 0.5, **{f"eval/slice_{i:04d}/calibration_error_weighted": i / 3000 for i in range(1500)}})
c.create_registered_model(os.environ["MODEL"])
b = c.get_run(ids["base"])
mv = c.create_model_version(os.environ["MODEL"], b.info.artifact_uri + "/model", ids["base"])
c.set_registered_model_alias(os.environ["MODEL"], "production", mv.version)
print(json.dumps(ids))
`;

beforeAll(async () => {
  const out = await runPython(FIXTURES, { URL: url, EXP, MODEL });
  fx = JSON.parse(out.stdout.trim().split('\n').pop()!) as typeof fx;
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-compare-ci-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A repository folder holding one config; `compareExtra` lines go under compare:. */
function repo(opts: { project?: string; compareExtra?: string[] } = {}): string {
  const p = mkdtempSync(path.join(dir, 'repo-'));
  mkdirSync(path.join(p, '.git'));
  writeFileSync(
    path.join(p, 'mlops.config.yaml'),
    [
      'version: 1',
      `project: ${opts.project ?? 'churn'}`,
      'mlflow:',
      `  trackingUri: ${url}`,
      `  experiment: ${EXP}`,
      `  registeredModel: ${MODEL}`,
      '  retries: 0',
      'compare:',
      ...(opts.compareExtra ?? []).map((l) => `  ${l}`),
      '  gates:',
      '    - metric: accuracy',
      '      direction: higher',
      '      maxRelativeDrop: 0.01',
      '    - metric: loss',
      '      direction: lower',
      '      maxAbsoluteDrop: 0.05',
      '',
    ].join('\n'),
  );
  return p;
}

const baseEnv = () => ({ PATH: process.env.PATH, HOME: process.env.HOME });

describe('GitHub: the sticky pull request comment', () => {
  let gh: GithubStandin;
  afterEach(async () => {
    expect(gh.problems, 'requests that GitHub would not accept').toEqual([]);
    await gh.close();
  });

  /** The environment of a pull_request job in GitHub Actions, with the stand-in as the API. */
  function prJob(p: string, event: object = { action: 'synchronize', number: 7, pull_request: { number: 7 } }) {
    const eventPath = path.join(p, 'event.json');
    writeFileSync(eventPath, JSON.stringify(event));
    writeFileSync(path.join(p, 'output.txt'), '');
    return {
      ...baseEnv(),
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'acme/churn-model',
      GITHUB_API_URL: gh.url,
      GITHUB_TOKEN: TOKEN,
      GITHUB_WORKSPACE: p,
      GITHUB_OUTPUT: path.join(p, 'output.txt'),
      GITHUB_STEP_SUMMARY: path.join(p, 'summary.md'),
    };
  }

  it('first run creates one comment, the second updates it in place; a second project keeps its own', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const p = repo();
    const first = await runCli(['compare', '--run', fx.good, '--comment'], { cwd: p, env: prJob(p) });
    expect(first.code, first.stderr).toBe(0);
    expect(gh.comments).toHaveLength(1);
    expect(first.stderr).toContain(
      'Comment created on GitHub acme/churn-model#7: https://github.com/acme/churn-model/pull/7#issuecomment-',
    );
    expect(gh.comments[0].body).toContain('<!-- mlops:compare project=churn -->');
    expect(gh.comments[0].body).toContain('### ✅ mlops compare: all 2 gates passed');

    const second = await runCli(['compare', '--run', fx.bad, '--comment'], { cwd: p, env: prJob(p) });
    expect(second.code, second.stderr).toBe(1); // the gate's verdict, whatever the comment did
    expect(gh.comments).toHaveLength(1);
    const body = gh.comments[0].body;
    expect(body).toContain('### ❌ mlops compare: regression in 2 of 2 gates');
    expect(body).toContain('| `accuracy` | 0.9 | 0.85 |');
    expect(body).not.toContain('all 2 gates passed');
    const charts = mermaidBlocks(body);
    expect(charts).toHaveLength(2);
    for (const c of charts) await expect(parseMermaid(c)).resolves.toMatchObject({ diagramType: 'xychart' });
    expect(charts[0]).toContain('bar [0.9, 0.85]');
    expect(body).toContain(`[Compare both runs in MLflow](${url}/#/compare-runs?runs=`);
    expect(second.stderr).toContain('Comment updated on GitHub acme/churn-model#7');
    expect(gh.requests).toEqual([
      'GET issues/list-comments',
      'POST issues/create-comment',
      'GET issues/list-comments',
      'PATCH issues/update-comment',
    ]);

    // Another model in the same repository, commenting by config rather than flag.
    const other = repo({ project: 'fraud', compareExtra: ['comment: true'] });
    const third = await runCli(['compare', '--run', fx.good], { cwd: other, env: prJob(other) });
    expect(third.code, third.stderr).toBe(0);
    expect(gh.comments.map((c) => c.body.split('\n')[0])).toEqual([
      '<!-- mlops:compare project=churn -->',
      '<!-- mlops:compare project=fraud -->',
    ]);
    expect(gh.comments[0].body).toBe(body); // churn's comment untouched
    expect(gh.comments.every((c) => c.issue === 7 && c.repo === 'acme/churn-model')).toBe(true);
    expect(gh.comments.map((c) => c.body).join('')).not.toContain(TOKEN);
  });

  it('$GITHUB_OUTPUT gets the verdict and both run ids; each failed gate is annotated on its line of the config', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const p = repo();
    const env = prJob(p);
    const r = await runCli(['compare', '--run', fx.bad], { cwd: p, env });
    expect(r.code, r.stderr).toBe(1);
    const outputs = Object.fromEntries(
      readFileSync(env.GITHUB_OUTPUT, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/=(.*)/s, 2)),
    );
    expect(outputs).toEqual({ verdict: 'fail', 'candidate-run-id': fx.bad, 'baseline-run-id': fx.base });
    const config = readFileSync(path.join(p, 'mlops.config.yaml'), 'utf8').split('\n');
    const lineOf = (text: string) => config.indexOf(text) + 1;
    const annotations = r.stderr.split('\n').filter((l) => l.startsWith('::error'));
    expect(annotations).toEqual([
      `::error file=mlops.config.yaml,line=${lineOf('    - metric: accuracy')},title=mlops compare%3A accuracy regressed::accuracy: worse by 5.556%25 (allowed 1%25) (baseline 0.9, candidate 0.85)`,
      `::error file=mlops.config.yaml,line=${lineOf('    - metric: loss')},title=mlops compare%3A loss regressed::loss: worse by 0.2 (allowed 0.05) (baseline 0.5, candidate 0.7)`,
    ]);
    expect(gh.requests).toEqual([]); // no --comment: nothing posted

    const pass = await runCli(['compare', '--run', fx.good], { cwd: p, env });
    expect(pass.code).toBe(0);
    expect(readFileSync(env.GITHUB_OUTPUT, 'utf8')).toContain(`verdict=pass\ncandidate-run-id=${fx.good}\nbaseline-run-id=${fx.base}\n`);
  });

  it('403, 404 and the rate limit are a warning: the exit code stays the gate’s own', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const p = repo();
    const failures = [
      { status: 403, message: 'Resource not accessible by integration', expect: /GitHub answered 403: not allowed/ },
      { status: 404, message: 'Not Found', expect: /GitHub answered 404: not found/ },
      {
        status: 403,
        message: 'API rate limit exceeded',
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1999999999' },
        expect: /GitHub answered 403: rate limited/,
      },
    ];
    for (const f of failures) {
      gh.failWith(f);
      for (const [run, code] of [
        [fx.good, 0],
        [fx.bad, 1],
      ] as const) {
        const r = await runCli(['compare', '--run', run, '--comment'], { cwd: p, env: prJob(p) });
        expect(r.code, r.stderr).toBe(code);
        expect(r.stderr).toMatch(f.expect);
        expect(r.stderr).toContain("The gate's verdict stands.");
        expect(r.stderr).toMatch(/^::warning::Could not comment on GitHub acme\/churn-model#7/m);
      }
    }
    expect(gh.comments).toEqual([]);
  });

  it('an API URL that answers an HTML page, or nothing, is a warning saying so (not a JavaScript error or "answered 500")', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const p = repo();
    const html = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html><body>Sign in</body></html>');
    });
    await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    try {
      const page = await runCli(['compare', '--run', fx.good, '--comment'], {
        cwd: p,
        env: { ...prJob(p), GITHUB_API_URL: `http://127.0.0.1:${(html.address() as AddressInfo).port}` },
      });
      expect(page.code, page.stderr).toBe(0);
      expect(page.stderr).toMatch(/Could not comment on GitHub .*: GitHub answered with something that is not its API's JSON/);
      expect(page.stderr).not.toMatch(/Cannot use 'in' operator/);
      const nothing = await runCli(['compare', '--run', fx.good, '--comment'], { cwd: p, env: { ...prJob(p), GITHUB_API_URL: closedUrl } });
      expect(nothing.code, nothing.stderr).toBe(0);
      expect(nothing.stderr).toMatch(/Could not comment on GitHub .*: GitHub could not be reached/);
      expect(nothing.stderr).not.toMatch(/answered 500/);
    } finally {
      html.closeAllConnections();
      await new Promise((r) => html.close(r));
    }
  });

  it('a report too long for a GitHub comment is posted without the ungated metrics (the file keeps them)', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const p = repo();
    const r = await runCli(['compare', '--run', fx.wide, '--comment'], { cwd: p, env: prJob(p) });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(p, '.mlops', 'compare-report.md'), 'utf8').length).toBeGreaterThan(65_536);
    expect(gh.comments).toHaveLength(1);
    const body = gh.comments[0].body;
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain('| `accuracy` | 0.9 | 0.9 |');
    expect(body).toContain('_1500 metrics no gate names left out here: see the full report in the job._');
    expect(mermaidBlocks(body)).toHaveLength(2);
  });

  it('outside a pull request: one notice, nothing posted', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const p = repo({ compareExtra: ['comment: true'] });
    const r = await runCli(['compare', '--run', fx.good], {
      cwd: p,
      env: { ...prJob(p, { ref: 'refs/heads/main' }), GITHUB_EVENT_NAME: 'push' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/notice: no pull\/merge request comment: this workflow run is not for a pull request \(push\)\./g)).toHaveLength(
      1,
    );
    expect(gh.requests).toEqual([]);
  });

  it('a pull_request run whose event file cannot be read says so, not that the run is not for a pull request', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const p = repo({ compareExtra: ['comment: true'] });
    const missing = path.join(p, 'no-event.json');
    const r = await runCli(['compare', '--run', fx.good], {
      cwd: p,
      env: { ...prJob(p), GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: missing },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `notice: no pull/merge request comment: the pull request's number could not be read from $GITHUB_EVENT_PATH (${missing})`,
    );
    expect(r.stderr).not.toContain('not for a pull request');
    expect(gh.requests).toEqual([]);
  });
});

describe('GitLab: the sticky merge request note and the report files', () => {
  let gl: GitlabStandin;
  afterEach(async () => {
    expect(gl.problems, 'requests outside the documented notes API').toEqual([]);
    await gl.close();
  });

  const mrJob = (extra: Record<string, string> = {}) => ({
    ...baseEnv(),
    CI: 'true',
    GITLAB_CI: 'true',
    CI_API_V4_URL: gl.apiUrl,
    CI_PROJECT_ID: '42',
    CI_MERGE_REQUEST_IID: '3',
    CI_JOB_TOKEN: TOKEN,
    ...extra,
  });

  it('one note created then updated in place; JUnit (a test case per gate) and metrics reports written and parsed back', async () => {
    gl = await startGitlabStandin({ token: TOKEN });
    const p = repo();
    const first = await runCli(['compare', '--run', fx.good, '--comment'], { cwd: p, env: mrJob() });
    expect(first.code, first.stderr).toBe(0);
    expect(gl.lastAuth).toBe('JOB-TOKEN');
    const second = await runCli(['compare', '--run', fx.bad, '--comment'], { cwd: p, env: mrJob() });
    expect(second.code, second.stderr).toBe(1);
    expect(gl.notes).toHaveLength(1);
    expect(gl.notes[0]).toMatchObject({ project: '42', iid: 3 });
    expect(gl.notes[0].body).toMatch(/^<!-- mlops:compare project=churn -->\n### ❌ mlops compare: regression in 2 of 2 gates/);
    for (const c of mermaidBlocks(gl.notes[0].body)) await parseMermaid(c);
    expect(second.stderr).toContain('Comment updated on GitLab project 42!3');
    expect(gl.requests.map((r) => r.split(' ')[0])).toEqual(['GET', 'POST', 'GET', 'PUT']);

    const junit = new new JSDOM('').window.DOMParser().parseFromString(
      readFileSync(path.join(p, '.mlops', 'compare-junit.xml'), 'utf8'),
      'application/xml',
    );
    expect(junit.getElementsByTagName('parsererror')).toHaveLength(0);
    const cases = [...junit.getElementsByTagName('testcase')].map((c) => ({
      name: c.getAttribute('name'),
      failure: c.getElementsByTagName('failure')[0]?.getAttribute('message') ?? null,
    }));
    expect(cases).toEqual([
      { name: 'accuracy (drop ≤ 1%)', failure: 'worse by 5.556% (allowed 1%)' },
      { name: 'loss (rise ≤ 0.05)', failure: 'worse by 0.2 (allowed 0.05)' },
    ]);
    const metrics = Object.fromEntries(
      readFileSync(path.join(p, '.mlops', 'compare-metrics.txt'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => l.split(' ')),
    );
    expect(metrics).toEqual({
      'accuracy{run="candidate"}': '0.85',
      'accuracy{run="baseline"}': '0.9',
      'loss{run="candidate"}': '0.7',
      'loss{run="baseline"}': '0.5',
      mlops_gates_failed: '2',
    });
  });

  it('a configured token variable is sent as PRIVATE-TOKEN; configured report paths; 403 and the rate limit are warnings', async () => {
    gl = await startGitlabStandin({ token: TOKEN });
    const p = repo({
      compareExtra: ['comment: true', 'commentToken: GL_NOTES_TOKEN', 'junitReport: out/junit.xml', 'metricsReport: out/metrics.txt'],
    });
    const r = await runCli(['compare', '--run', fx.good], { cwd: p, env: mrJob({ CI_JOB_TOKEN: 'not-this-one', GL_NOTES_TOKEN: TOKEN }) });
    expect(r.code, r.stderr).toBe(0);
    expect(gl.lastAuth).toBe('PRIVATE-TOKEN');
    expect(gl.notes).toHaveLength(1);
    expect(readFileSync(path.join(p, 'out', 'junit.xml'), 'utf8')).toContain('failures="0"');
    expect(readFileSync(path.join(p, 'out', 'metrics.txt'), 'utf8')).toContain('mlops_gates_failed 0');

    gl.failWith({ status: 403, message: '403 Forbidden' });
    const denied = await runCli(['compare', '--run', fx.bad], { cwd: p, env: mrJob({ GL_NOTES_TOKEN: TOKEN }) });
    expect(denied.code, denied.stderr).toBe(1);
    expect(denied.stderr).toContain('Could not comment on GitLab project 42!3: GitLab answered 403: not allowed');

    gl.failWith({ status: 429, message: 'Retry later' });
    const limited = await runCli(['compare', '--run', fx.good], { cwd: p, env: mrJob({ GL_NOTES_TOKEN: TOKEN }) });
    expect(limited.code, limited.stderr).toBe(0);
    expect(limited.stderr).toContain('Could not comment on GitLab project 42!3: GitLab answered 429: rate limited');
  });

  it('a pipeline that is not for a merge request: a notice, nothing posted', async () => {
    gl = await startGitlabStandin({ token: TOKEN });
    const p = repo();
    const r = await runCli(['compare', '--run', fx.good, '--comment'], { cwd: p, env: mrJob({ CI_MERGE_REQUEST_IID: '' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('notice: no pull/merge request comment: this pipeline is not for a merge request');
    expect(gl.requests).toEqual([]);
  });
});
