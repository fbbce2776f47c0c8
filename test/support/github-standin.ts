/**
 * A loopback stand-in for the GitHub REST API, as much of it as `mlops compare --comment` uses:
 * list, create and update issue comments, kept in memory. Every request is first checked against
 * GitHub's official OpenAPI description (npm @octokit/openapi): the method and path must match an
 * operation's template, the path and query parameters and the JSON body must match that
 * operation's schemas (ajv), and a comment body must fit GitHub's 65,536 characters (a limit the
 * description does not state). A request that fails the check is answered 422 and recorded in
 * `problems`, so a test can assert there were none.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: object;
}
interface Operation {
  operationId: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: object }> };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, Parameter> };
}

export interface StoredComment {
  id: number;
  body: string;
  repo: string;
  issue: number;
}

export interface GithubStandin {
  /** Base URL to pass as GITHUB_API_URL. */
  url: string;
  /** Every comment, in creation order. */
  comments: StoredComment[];
  /** Each request as "METHOD operationId" (or "METHOD path" when it matched none). */
  requests: string[];
  /** Requests that did not match the OpenAPI description, with why. */
  problems: string[];
  /** Answer every later request with this status and headers (undefined: behave normally). */
  failWith(failure?: { status: number; headers?: Record<string, string>; message: string }): void;
  close(): Promise<void>;
}

const SERVED = ['issues/list-comments', 'issues/create-comment', 'issues/update-comment'];

let loaded: { spec: Spec; ajv: Ajv; routes: { re: RegExp; names: string[]; template: string; literals: number }[] } | undefined;

/** GitHub's description of api.github.com, with a path matcher per template (loaded once: 13 MB). */
function description() {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  // The whole document is one schema so that operation schemas' $refs resolve; it is compiled only
  // where a test reaches. OpenAPI 3.0 keywords (example, discriminator...) are not JSON Schema: not strict.
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true, validateFormats: false });
  ajv.addSchema(spec, 'github');
  const routes = Object.keys(spec.paths).map((template) => {
    const names: string[] = [];
    const segs = template.split('/').filter(Boolean);
    const re = new RegExp(
      '^/' +
        segs
          .map((s) => {
            const m = /^\{(.+)\}$/.exec(s);
            if (!m) return s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
            names.push(m[1]);
            return '([^/]+)';
          })
          .join('/') +
        '$',
    );
    return { re, names, template, literals: segs.length - names.length };
  });
  // A literal segment beats a parameter where two templates match one path.
  routes.sort((a, b) => b.literals - a.literals);
  loaded = { spec, ajv, routes };
  return loaded;
}

const compiled = new Map<string, ValidateFunction>();
function validator(ajv: Ajv, key: string, schema: object): ValidateFunction {
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(key, v);
  }
  return v;
}

function pointer(...parts: string[]): string {
  return '#/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** A path or query value as its schema expects it: URLs carry strings, integers are numbers. */
function coerce(raw: string, schema: { type?: string } | undefined): unknown {
  if ((schema?.type === 'integer' || schema?.type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (schema?.type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/** Starts the stand-in on 127.0.0.1; requests must carry `token`. */
export async function startGithubStandin(opts: { token: string }): Promise<GithubStandin> {
  const { spec, ajv, routes } = description();
  const comments: StoredComment[] = [];
  const requests: string[] = [];
  const problems: string[] = [];
  let failure: { status: number; headers?: Record<string, string>; message: string } | undefined;
  let nextId = 1_000_001;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, base: string) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', base);
    const method = (req.method ?? 'GET').toLowerCase();

    const route = routes.find((r) => r.re.test(url.pathname) && spec.paths[r.template][method]);
    if (!route) {
      requests.push(`${method.toUpperCase()} ${url.pathname}`);
      problems.push(`${method.toUpperCase()} ${url.pathname}: no operation in GitHub's OpenAPI description`);
      return send(res, 404, { message: 'Not Found' });
    }
    const op = spec.paths[route.template][method];
    requests.push(`${method.toUpperCase()} ${op.operationId}`);
    const found: string[] = [];
    const pathValues: Record<string, string> = {};
    const m = route.re.exec(url.pathname)!;
    route.names.forEach((n, i) => (pathValues[n] = decodeURIComponent(m[i + 1])));

    const params = (op.parameters ?? []).map((p) => ('$ref' in p ? spec.components.parameters[p.$ref.split('/').pop()!] : p));
    for (const p of params) {
      if (p.in !== 'path' && p.in !== 'query') continue;
      const value = p.in === 'path' ? pathValues[p.name] : (url.searchParams.get(p.name) ?? undefined);
      if (value === undefined) {
        if (p.required) found.push(`${p.in} parameter ${p.name} is required`);
        continue;
      }
      if (!p.schema) continue;
      const v = validator(ajv, `${op.operationId}:${p.in}:${p.name}`, p.schema);
      if (!v(coerce(value, p.schema))) found.push(`${p.in} parameter ${p.name}=${value}: ${ajv.errorsText(v.errors)}`);
    }
    for (const q of url.searchParams.keys()) {
      if (!params.some((p) => p.in === 'query' && p.name === q)) found.push(`query parameter ${q} is not in the operation`);
    }
    let body: unknown;
    const jsonSchema = op.requestBody?.content?.['application/json']?.schema;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        found.push('body is not JSON');
      }
      if (!jsonSchema) found.push('the operation takes no JSON body');
      else if (body !== undefined) {
        const v = validator(ajv, `${op.operationId}:body`, {
          $ref: 'github' + pointer('paths', route.template, method, 'requestBody', 'content', 'application/json', 'schema'),
        });
        if (!v(body)) found.push(`body: ${ajv.errorsText(v.errors)}`);
      }
    } else if (op.requestBody?.required) {
      found.push('body is required');
    }
    // A limit GitHub enforces that its description does not state.
    const text = (body as { body?: unknown } | undefined)?.body;
    if (typeof text === 'string' && text.length > 65_536) found.push(`body is too long (maximum is 65536 characters; got ${text.length})`);
    if (found.length) {
      problems.push(`${method.toUpperCase()} ${url.pathname} (${op.operationId}): ${found.join('; ')}`);
      return send(res, 422, { message: 'Validation Failed', errors: found });
    }

    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${opts.token}` && auth !== `Bearer ${opts.token}`) return send(res, 401, { message: 'Bad credentials' });
    if (failure) return send(res, failure.status, { message: failure.message }, failure.headers);
    if (!SERVED.includes(op.operationId)) return send(res, 501, { message: `the stand-in does not serve ${op.operationId}` });

    const repo = `${pathValues.owner}/${pathValues.repo}`;
    const view = (c: StoredComment) => ({
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${base}/repos/${c.repo}/issues/comments/${c.id}`,
      html_url: `https://github.com/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${base}/repos/${c.repo}/issues/${c.issue}`,
      body: c.body,
      user: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      author_association: 'NONE',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    });
    if (op.operationId === 'issues/list-comments') {
      const issue = Number(pathValues.issue_number);
      const all = comments.filter((c) => c.repo === repo && c.issue === issue);
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < all.length) {
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return send(res, 200, slice.map(view), headers);
    }
    if (op.operationId === 'issues/create-comment') {
      const c = { id: nextId++, body: (body as { body: string }).body, repo, issue: Number(pathValues.issue_number) };
      comments.push(c);
      return send(res, 201, view(c));
    }
    const c = comments.find((x) => x.id === Number(pathValues.comment_id) && x.repo === repo);
    if (!c) return send(res, 404, { message: 'Not Found' });
    c.body = (body as { body: string }).body;
    return send(res, 200, view(c));
  };

  const server = createServer((req, res) => {
    handle(req, res, base).catch((err: unknown) => send(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    comments,
    requests,
    problems,
    failWith: (f) => {
      failure = f;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
