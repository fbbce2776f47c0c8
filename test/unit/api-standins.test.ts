/** The GitHub and GitLab stand-ins reject what the real APIs would (so a passing comment test means something). */
import { afterEach, describe, expect, it } from 'vitest';
import { startGithubStandin, type GithubStandin } from '../support/github-standin.js';
import { startGitlabStandin, type GitlabStandin } from '../support/gitlab-standin.js';

const TOKEN = 't0ken';

describe('GitHub stand-in: requests checked against @octokit/openapi', () => {
  let gh: GithubStandin;
  afterEach(() => gh.close());
  const call = (method: string, p: string, body?: unknown) =>
    fetch(gh.url + p, {
      method,
      headers: { authorization: `token ${TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('serves a valid create / list / update and records the operations', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    const created = (await (await call('POST', '/repos/o/r/issues/3/comments', { body: 'hi' })).json()) as { id: number };
    expect((await call('PATCH', `/repos/o/r/issues/comments/${created.id}`, { body: 'there' })).status).toBe(200);
    const listed = (await (await call('GET', '/repos/o/r/issues/3/comments?per_page=100')).json()) as { body: string }[];
    expect(listed.map((c) => c.body)).toEqual(['there']);
    expect(gh.requests).toEqual(['POST issues/create-comment', 'PATCH issues/update-comment', 'GET issues/list-comments']);
    expect(gh.problems).toEqual([]);
  });

  it('rejects a body, a path parameter, a query parameter and a path the description does not allow', async () => {
    gh = await startGithubStandin({ token: TOKEN });
    expect((await call('POST', '/repos/o/r/issues/3/comments', { text: 'hi' })).status).toBe(422);
    expect((await call('POST', '/repos/o/r/issues/3/comments', { body: 42 })).status).toBe(422);
    expect((await call('PATCH', '/repos/o/r/issues/comments/abc', { body: 'x' })).status).toBe(422);
    expect((await call('GET', '/repos/o/r/issues/3/comments?perpage=5')).status).toBe(422);
    expect((await call('POST', '/repos/o/r/pulls/3/sticky', { body: 'x' })).status).toBe(404);
    expect(gh.problems).toHaveLength(5);
    expect(gh.problems[0]).toMatch(/issues\/create-comment.*body: data must have required property 'body'/);
    expect(gh.problems[2]).toMatch(/path parameter comment_id=abc: data must be integer/);
    expect(gh.comments).toEqual([]);
  });
});

describe('GitLab stand-in: the documented merge request notes endpoints', () => {
  let gl: GitlabStandin;
  afterEach(() => gl.close());
  const call = (method: string, p: string, body?: unknown) =>
    fetch(gl.apiUrl + p, {
      method,
      headers: { 'private-token': TOKEN, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('rejects undocumented paths, parameters and bodies', async () => {
    gl = await startGitlabStandin({ token: TOKEN });
    expect((await call('POST', '/projects/1/merge_requests/2/notes', { body: 'ok' })).status).toBe(201);
    expect((await call('POST', '/projects/1/merge_requests/2/notes', { note: 'x' })).status).toBe(400);
    expect((await call('PUT', '/projects/1/merge_requests/x/notes/5001', { body: 'x' })).status).toBe(400);
    expect((await call('GET', '/projects/1/merge_requests/2/notes?per_page=500')).status).toBe(400);
    expect((await call('POST', '/projects/1/merge_requests/2/discussions', { body: 'x' })).status).toBe(404);
    expect(gl.problems).toHaveLength(4);
    expect(gl.notes.map((n) => n.body)).toEqual(['ok']);
  });
});
