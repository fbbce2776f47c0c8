/**
 * A loopback stand-in for GitLab's merge request notes API (REST v4), kept in memory. GitLab
 * publishes no machine-readable description of these endpoints on npm, so the requests are checked
 * against the documented ones written out here (docs.gitlab.com/api/notes/#merge-requests):
 *
 *   GET  /projects/:id/merge_requests/:merge_request_iid/notes            sort, order_by, page, per_page
 *   POST /projects/:id/merge_requests/:merge_request_iid/notes            body (required), internal, created_at, merge_request_diff_head_sha
 *   PUT  /projects/:id/merge_requests/:merge_request_iid/notes/:note_id   body (required)
 *
 * :id is an integer or a URL-encoded path, the iids and note ids are integers, body is a string of
 * 1 to 1,000,000 characters, per_page at most 100. Authentication: PRIVATE-TOKEN, JOB-TOKEN or
 * Authorization: Bearer. Anything else is answered 400/404 and recorded in `problems`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredNote {
  id: number;
  body: string;
  project: string;
  iid: number;
}

export interface GitlabStandin {
  /** What CI_API_V4_URL would hold. */
  apiUrl: string;
  notes: StoredNote[];
  requests: string[];
  problems: string[];
  /** The auth header seen last ("PRIVATE-TOKEN" / "JOB-TOKEN" / "Authorization"). */
  lastAuth?: string;
  failWith(failure?: { status: number; message: string }): void;
  close(): Promise<void>;
}

const NOTES = /^\/api\/v4\/projects\/([^/]+)\/merge_requests\/([^/]+)\/notes(?:\/([^/]+))?$/;
const QUERY: Record<string, (v: string) => boolean> = {
  sort: (v) => v === 'asc' || v === 'desc',
  order_by: (v) => v === 'created_at' || v === 'updated_at',
  page: (v) => /^[1-9]\d*$/.test(v),
  per_page: (v) => /^[1-9]\d*$/.test(v) && Number(v) <= 100,
};
const POST_FIELDS = ['body', 'internal', 'created_at', 'merge_request_diff_head_sha'];

/** Starts the stand-in on 127.0.0.1; requests must carry `token` (as any of GitLab's auth headers). */
export async function startGitlabStandin(opts: { token: string }): Promise<GitlabStandin> {
  const notes: StoredNote[] = [];
  const requests: string[] = [];
  const problems: string[] = [];
  let failure: { status: number; message: string } | undefined;
  let nextId = 5001;
  const state = { lastAuth: undefined as string | undefined };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, base: string) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    const reject = (status: number, why: string) => {
      problems.push(`${method} ${url.pathname}: ${why}`);
      return send(res, status, { message: why });
    };
    const m = NOTES.exec(url.pathname);
    if (!m) return reject(404, 'not a documented merge request notes endpoint');
    const [, project, iid, noteId] = m;
    const decodedProject = decodeURIComponent(project);
    if (!/^\d+$/.test(decodedProject) && !/^[\w.-]+(\/[\w.-]+)+$/.test(decodedProject))
      return reject(400, `id ${project} is not an integer or a URL-encoded path`);
    if (!/^\d+$/.test(iid)) return reject(400, `merge_request_iid ${iid} is not an integer`);
    if (noteId !== undefined && !/^\d+$/.test(noteId)) return reject(400, `note_id ${noteId} is not an integer`);
    const allowed = method === 'GET' && noteId === undefined ? ['GET'] : method === 'POST' && noteId === undefined ? ['POST'] : ['PUT'];
    if (!allowed.includes(method) || (method === 'PUT' && noteId === undefined)) return reject(405, `${method} is not documented here`);
    for (const [k, v] of url.searchParams) {
      if (method !== 'GET' || !QUERY[k]) return reject(400, `query parameter ${k} is not documented`);
      if (!QUERY[k](v)) return reject(400, `query parameter ${k}=${v} is invalid`);
    }
    let body: Record<string, unknown> = {};
    if (method !== 'GET') {
      const type = req.headers['content-type'] ?? '';
      try {
        body = type.startsWith('application/json')
          ? (JSON.parse(raw) as Record<string, unknown>)
          : Object.fromEntries(new URLSearchParams(raw));
      } catch {
        return reject(400, 'body is not JSON');
      }
      const fields = method === 'POST' ? POST_FIELDS : ['body'];
      const extra = Object.keys(body).filter((k) => !fields.includes(k));
      if (extra.length) return reject(400, `unknown field(s) ${extra.join(', ')}`);
      if (typeof body.body !== 'string' || body.body.length < 1 || body.body.length > 1_000_000) {
        return reject(400, 'body is required: a string of 1 to 1,000,000 characters');
      }
    }

    const given = req.headers['private-token'] ?? req.headers['job-token'] ?? req.headers.authorization?.replace(/^Bearer /, '');
    state.lastAuth = req.headers['private-token']
      ? 'PRIVATE-TOKEN'
      : req.headers['job-token']
        ? 'JOB-TOKEN'
        : req.headers.authorization
          ? 'Authorization'
          : undefined;
    if (given !== opts.token) return send(res, 401, { message: '401 Unauthorized' });
    if (failure) return send(res, failure.status, { message: failure.message });

    const view = (n: StoredNote) => ({
      id: n.id,
      type: null,
      body: n.body,
      author: { id: 1, username: 'project_1_bot', name: 'bot' },
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      system: false,
      noteable_id: 1,
      noteable_type: 'MergeRequest',
      noteable_iid: n.iid,
      resolvable: false,
      confidential: false,
      internal: false,
    });
    if (method === 'GET') {
      const all = notes.filter((n) => n.project === decodedProject && n.iid === Number(iid));
      const perPage = Number(url.searchParams.get('per_page') ?? 20);
      const page = Number(url.searchParams.get('page') ?? 1);
      const headers: Record<string, string> = {
        'x-page': String(page),
        'x-per-page': String(perPage),
        'x-total': String(all.length),
        'x-total-pages': String(Math.max(1, Math.ceil(all.length / perPage))),
      };
      if (page * perPage < all.length) {
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        headers['x-next-page'] = String(page + 1);
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return send(res, 200, all.slice((page - 1) * perPage, page * perPage).map(view), headers);
    }
    if (method === 'POST') {
      const n = { id: nextId++, body: body.body as string, project: decodedProject, iid: Number(iid) };
      notes.push(n);
      return send(res, 201, view(n));
    }
    const n = notes.find((x) => x.id === Number(noteId) && x.project === decodedProject && x.iid === Number(iid));
    if (!n) return send(res, 404, { message: '404 Not found' });
    n.body = body.body as string;
    return send(res, 200, view(n));
  };

  const server = createServer((req, res) => {
    handle(req, res, base).catch((err: unknown) => send(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${base}/api/v4`,
    notes,
    requests,
    problems,
    get lastAuth() {
      return state.lastAuth;
    },
    failWith: (f) => {
      failure = f;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
