/**
 * The MLflow REST client against the real tracking server (fixtures by the official Python client)
 * and against tiny loopback servers for the failure modes (refused, slow, 5xx, auth headers).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createMlflowClient,
  MlflowInvalidParameterError,
  MlflowNotFoundError,
  MlflowPermissionError,
  MlflowUnavailableError,
  splitBatch,
  type MlflowClient,
} from '../../src/adapters/mlflow.js';
import { exitCodeFor } from '../../src/core/errors.js';
import { runPython } from '../support/python.js';

const url = inject('mlflowUrl');
const uniq = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;
let client: MlflowClient;

beforeAll(async () => {
  client = await createMlflowClient({ trackingUri: url, timeoutMs: 10_000, retries: 1, backoffMs: 50 });
});

/** A loopback HTTP server with a handler; returns its URL and a closer. */
async function tinyServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('tracking', () => {
  it('creates, finds and reuses an experiment', async () => {
    const name = uniq('exp');
    expect(await client.getExperimentByName(name)).toBeUndefined();
    const id = await client.getOrCreateExperiment(name, { tags: { team: 'ml' } });
    expect(await client.getOrCreateExperiment(name)).toBe(id);
    const exp = await client.getExperimentByName(name);
    expect(exp).toMatchObject({ experimentId: id, name, tags: { team: 'ml' } });
  });

  it('creates a run, logs beyond the per-call limits, finishes it and reads it back', async () => {
    const expId = await client.getOrCreateExperiment(uniq('exp'));
    const run = await client.createRun({
      experimentId: expId,
      runName: 'r1',
      tags: { 'mlops.git.branch': 'main' },
      startTime: 1_700_000_000_000,
    });
    expect(run.info).toMatchObject({ experimentId: expId, runName: 'r1', status: 'RUNNING', startTime: 1_700_000_000_000 });
    const metrics = Array.from({ length: 1500 }, (_, i) => ({ key: `m${i % 3}`, value: i, step: i }));
    metrics.push({ key: 'nan', value: NaN, step: 0 });
    const params = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, String(i)]));
    const tags = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`t${i}`, `v${i}`]));
    await client.logBatch(run.info.runId, { metrics, params, tags });
    await client.setTag(run.info.runId, 'single', 'yes');
    await client.updateRun({ runId: run.info.runId, status: 'FINISHED', endTime: 1_700_000_100_000 });
    const got = await client.getRun(run.info.runId);
    expect(got?.info.status).toBe('FINISHED');
    expect(got?.info.endTime).toBe(1_700_000_100_000);
    expect(Object.keys(got!.data.params)).toHaveLength(150);
    expect(got!.data.tags).toMatchObject({ t119: 'v119', single: 'yes', 'mlops.git.branch': 'main' });
    expect(got!.data.metrics.m0).toBe(1497);
    expect(got!.data.metrics.nan).toBeNaN();
    expect(client.runUrl(run.info.runId, expId)).toBe(`${url}/#/experiments/${expId}/runs/${run.info.runId}`);
  });

  it('answers undefined for an unknown run', async () => {
    expect(await client.getRun('0123456789abcdef0123456789abcdef')).toBeUndefined();
  });

  it('searches with filter and order, and pages through every run', async () => {
    const expId = await client.getOrCreateExperiment(uniq('exp'));
    for (let i = 0; i < 7; i++) {
      const r = await client.createRun({ experimentId: expId, startTime: 1_000 + i, tags: { branch: i % 2 ? 'main' : 'dev' } });
      await client.updateRun({ runId: r.info.runId, status: i === 5 ? 'FAILED' : 'FINISHED', endTime: 2_000 + i });
    }
    const latest = await client.searchRuns({
      experimentIds: [expId],
      filter: "tags.branch = 'main' and attributes.status = 'FINISHED'",
      orderBy: ['attributes.start_time DESC'],
      maxResults: 1,
    });
    expect(latest.runs).toHaveLength(1);
    expect(latest.runs[0].info.startTime).toBe(1_003);
    const pages = [];
    for await (const page of client.searchRunsPages({ experimentIds: [expId], maxResults: 3 })) pages.push(page.runs.length);
    expect(pages).toEqual([3, 3, 1]);
  });

  it('turns a bad filter into an input error (exit 2)', async () => {
    const expId = await client.getOrCreateExperiment(uniq('exp'));
    const err = await client.searchRuns({ experimentIds: [expId], filter: 'this is not a filter' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowInvalidParameterError);
    expect(exitCodeFor(err)).toBe(2);
  });

  it('raises a typed not-found error where "not found" is not an expected value', async () => {
    const err = await client.createRun({ experimentId: '987654321' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowNotFoundError);
    expect(exitCodeFor(err)).toBe(3);
  });
});

describe('model registry', () => {
  it('aliases, versions, download URIs and legacy stages', async () => {
    const name = uniq('model');
    const expName = uniq('exp');
    const out = await runPython(
      `
import mlflow, os, json
from mlflow import MlflowClient
mlflow.set_tracking_uri(os.environ["URL"])
mlflow.set_experiment(os.environ["EXP"])
with mlflow.start_run() as r:
    mlflow.log_text("hello", "model/MLmodel")
    mlflow.log_text("w", "model/sub/weights.txt")
c = MlflowClient()
c.create_registered_model(os.environ["NAME"])
mv = c.create_model_version(os.environ["NAME"], r.info.artifact_uri + "/model", r.info.run_id)
c.transition_model_version_stage(os.environ["NAME"], mv.version, "Staging")
print(json.dumps({"run": r.info.run_id, "version": mv.version}))
`,
      { URL: url, EXP: expName, NAME: name, MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT: 'true' },
    );
    const fx = JSON.parse(out.stdout.trim().split('\n').pop()!) as { run: string; version: string };

    expect(await client.getModelVersionByAlias(name, 'production')).toEqual({ found: false, reason: 'alias-not-found' });
    expect(await client.getModelVersionByAlias(uniq('nomodel'), 'production')).toEqual({ found: false, reason: 'model-not-found' });
    await client.setRegisteredModelAlias(name, 'production', fx.version);
    const byAlias = await client.getModelVersionByAlias(name, 'production');
    expect(byAlias.found && byAlias.version).toMatchObject({ name, version: fx.version, runId: fx.run, aliases: ['production'] });
    expect((await client.getRegisteredModel(name))?.aliases).toEqual({ production: fx.version });
    await client.deleteRegisteredModelAlias(name, 'production');
    expect((await client.getModelVersionByAlias(name, 'production')).found).toBe(false);

    expect(await client.getModelVersion(name, fx.version)).toMatchObject({ runId: fx.run, currentStage: 'Staging' });
    expect(await client.getModelVersion(name, '999')).toBeUndefined();
    const staged = await client.getLatestVersions(name, ['Staging']);
    expect(staged.map((v) => v.version)).toEqual([fx.version]);
    expect(await client.getLatestVersions(name, ['Production'])).toEqual([]);

    const uri = await client.getModelVersionDownloadUri(name, fx.version);
    expect(uri).toMatch(/^mlflow-artifacts:/);
    const listed = await client.listArtifacts(fx.run, 'model');
    expect(listed.map((f) => [f.path, f.isDir])).toEqual([
      ['model/MLmodel', false],
      ['model/sub', true],
    ]);

    const dest = mkdtempSync(path.join(tmpdir(), 'mlops-dl-'));
    try {
      const files = await client.downloadArtifacts(`models:/${name}/${fx.version}`, path.join(dest, 'model'));
      expect(files.sort()).toEqual(['MLmodel', path.join('sub', 'weights.txt')]);
      expect(readFileSync(path.join(dest, 'model', 'MLmodel'), 'utf8')).toBe('hello');
      expect(readFileSync(path.join(dest, 'model', 'sub', 'weights.txt'), 'utf8')).toBe('w');
      await client.downloadArtifacts(`runs:/${fx.run}/model/MLmodel`, path.join(dest, 'one'));
      expect(readFileSync(path.join(dest, 'one'), 'utf8')).toBe('hello');
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it('creates a registered model and a version from node', async () => {
    const name = uniq('model');
    const expId = await client.getOrCreateExperiment(uniq('exp'));
    const run = await client.createRun({ experimentId: expId });
    await client.createRegisteredModel(name);
    const v = await client.createModelVersion({ name, source: `${run.info.artifactUri}/model`, runId: run.info.runId });
    expect(v).toMatchObject({ name, version: '1', runId: run.info.runId });
    expect((await client.getOrCreateRegisteredModel(name)).name).toBe(name);
  });
});

describe('failures', () => {
  it('connection refused: retries, then MlflowUnavailableError (exit 3)', async () => {
    const port = await closedPort();
    const retries: number[] = [];
    const c = await createMlflowClient({
      trackingUri: `http://127.0.0.1:${port}`,
      retries: 2,
      backoffMs: 10,
      onRetry: (r) => retries.push(r.attempt),
    });
    const err = await c.getRun('abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect((err as MlflowUnavailableError).code).toBe('MLFLOW_UNREACHABLE');
    expect(exitCodeFor(err)).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it('a server slower than the timeout: MLFLOW_TIMEOUT', async () => {
    const slow = await tinyServer((_req, res) => {
      setTimeout(() => res.end('{}'), 2_000).unref();
    });
    try {
      const c = await createMlflowClient({ trackingUri: slow.url, timeoutMs: 200, retries: 0 });
      const err = await c.getExperimentByName('x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MlflowUnavailableError);
      expect((err as MlflowUnavailableError).code).toBe('MLFLOW_TIMEOUT');
    } finally {
      await slow.close();
    }
  });

  it('retries 503 and 429 then succeeds', async () => {
    let calls = 0;
    const flaky = await tinyServer((_req, res) => {
      calls++;
      if (calls === 1) {
        res.statusCode = 503;
        return res.end('<html>unavailable</html>');
      }
      if (calls === 2) {
        res.statusCode = 429;
        res.setHeader('Retry-After', '0');
        return res.end('{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}');
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"experiment":{"experiment_id":"7","name":"x"}}');
    });
    try {
      const c = await createMlflowClient({ trackingUri: flaky.url, retries: 3, backoffMs: 5 });
      expect((await c.getExperimentByName('x'))?.experimentId).toBe('7');
      expect(calls).toBe(3);
    } finally {
      await flaky.close();
    }
  });

  it("writes control characters of a server's error message as visible escapes (the message reaches the terminal)", async () => {
    const hostile = await tinyServer((_req, res) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message: 'bad\u001b[2J\u001b]8;;http://x\u0007 \u202eid' }));
    });
    try {
      const c = await createMlflowClient({ trackingUri: hostile.url, retries: 0 });
      const err = (await c.getRun('abc').catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(MlflowInvalidParameterError);
      for (const c of ['\u001b', '\u0007', '\u202e']) expect(err.message).not.toContain(c);
      expect(err.message).toContain('bad\\x1b[2J');
    } finally {
      await hostile.close();
    }
  });

  it('sends bearer or basic auth, and never puts a secret in an error', async () => {
    const seen: (string | undefined)[] = [];
    const denied = await tinyServer((req, res) => {
      seen.push(req.headers.authorization);
      res.statusCode = 403;
      res.end('{"error_code":"PERMISSION_DENIED","message":"Permission denied"}');
    });
    try {
      const token = 's3cr3t-token-value';
      const bearer = await createMlflowClient({ trackingUri: denied.url, env: { MLFLOW_TRACKING_TOKEN: token } });
      const err = (await bearer.getRun('abc').catch((e: unknown) => e)) as MlflowPermissionError;
      expect(err).toBeInstanceOf(MlflowPermissionError);
      expect(exitCodeFor(err)).toBe(3);
      expect(err.hint).toMatch(/MLFLOW_TRACKING_TOKEN/);
      expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toContain(token);
      expect(seen[0]).toBe(`Bearer ${token}`);

      const basic = await createMlflowClient({
        trackingUri: denied.url.replace('http://', 'http://alice:pw-in-url@'),
        env: {},
      });
      const err2 = (await basic.getRun('abc').catch((e: unknown) => e)) as Error;
      expect(seen[1]).toBe(`Basic ${Buffer.from('alice:pw-in-url').toString('base64')}`);
      expect(err2.message).not.toContain('pw-in-url');
      expect(basic.baseUrl).toBe(denied.url);

      const both = await createMlflowClient({
        trackingUri: denied.url,
        env: { MLFLOW_TRACKING_USERNAME: 'bob', MLFLOW_TRACKING_PASSWORD: 'hunter2', MLFLOW_TRACKING_TOKEN: token },
      });
      await both.getRun('abc').catch(() => undefined);
      expect(seen[2]).toBe(`Basic ${Buffer.from('bob:hunter2').toString('base64')}`);
    } finally {
      await denied.close();
    }
  });

  it('follows redirects (a moved server, a path prefix), sending credentials only to the origin they were set for', async () => {
    const seen: { path?: string; authorization?: string }[] = [];
    const other = await tinyServer((req, res) => {
      seen.push({ path: req.url, authorization: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      res.end('{"experiment":{"experiment_id":"9","name":"x"}}');
    });
    const front = await tinyServer((req, res) => {
      seen.push({ path: req.url, authorization: req.headers.authorization });
      // First to a prefix on the same server (credentials kept), then to another origin (dropped).
      res.statusCode = req.url?.startsWith('/prefix/') ? 302 : 307;
      res.setHeader('location', req.url?.startsWith('/prefix/') ? `${other.url}${req.url.slice('/prefix'.length)}` : `/prefix${req.url}`);
      res.end();
    });
    try {
      const c = await createMlflowClient({ trackingUri: front.url, env: { MLFLOW_TRACKING_TOKEN: 'tok' }, retries: 0 });
      expect((await c.getExperimentByName('x'))?.experimentId).toBe('9');
      expect(seen).toEqual([
        { path: '/api/2.0/mlflow/experiments/get-by-name?experiment_name=x', authorization: 'Bearer tok' },
        { path: '/prefix/api/2.0/mlflow/experiments/get-by-name?experiment_name=x', authorization: 'Bearer tok' },
        { path: '/api/2.0/mlflow/experiments/get-by-name?experiment_name=x', authorization: undefined },
      ]);
    } finally {
      await Promise.all([front.close(), other.close()]);
    }
  });

  it('a redirect to a host that cannot be reached names that host and the redirect, not the tracking URI', async () => {
    const front = await tinyServer((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', 'http://login.invalid/sso');
      res.end();
    });
    try {
      const c = await createMlflowClient({ trackingUri: front.url, retries: 0 });
      const err = (await c.getExperimentByName('x').catch((e: unknown) => e)) as MlflowUnavailableError;
      expect(err).toBeInstanceOf(MlflowUnavailableError);
      expect(err.message).not.toContain(`Cannot resolve the MLflow host of ${front.url}`);
      expect(err.message).toContain('login.invalid');
      expect(err.message).toContain(`${front.url} redirected`);
      expect(err.hint).toMatch(/redirect/);
    } finally {
      await front.close();
    }
  });

  it('a server that is not MLflow: a plain 404 or an HTML page is exit 3, never "not found"', async () => {
    const other = await tinyServer((req, res) => {
      if (req.url?.startsWith('/api/2.0/mlflow/runs/get')) {
        res.statusCode = 404;
        return res.end('Not Found');
      }
      res.setHeader('content-type', 'text/html');
      res.end('<html><body>Sign in</body></html>');
    });
    try {
      const c = await createMlflowClient({ trackingUri: other.url, retries: 0 });
      const notMlflow = await c.getRun('abc').catch((e: unknown) => e);
      expect(notMlflow).not.toBeInstanceOf(MlflowNotFoundError);
      expect(notMlflow).toMatchObject({ code: 'MLFLOW_ENDPOINT_NOT_FOUND' });
      expect(exitCodeFor(notMlflow)).toBe(3);
      const html = await c.getExperimentByName('x').catch((e: unknown) => e);
      expect(html).toMatchObject({ code: 'MLFLOW_BAD_RESPONSE' });
      expect(exitCodeFor(html)).toBe(3);
    } finally {
      await other.close();
    }
  });

  it('rejects a tracking URI that is not http(s) as bad input', async () => {
    const err = await createMlflowClient({ trackingUri: 'file:///tmp/mlruns' }).catch((e: unknown) => e);
    expect(exitCodeFor(err)).toBe(2);
  });
});

describe('connections', () => {
  /** A server answering every request with a run, counting the requests each connection carried (in connection order). */
  async function countingServer() {
    const perConnection: number[] = [];
    const index = new WeakMap<object, number>();
    const srv = await tinyServer((req, res) => {
      perConnection[index.get(req.socket)!]++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ run: { info: { run_id: 'r', experiment_id: '1', status: 'FINISHED' }, data: {} } }));
    });
    srv.server.on('connection', (socket) => index.set(socket, perConnection.push(0) - 1));
    const connections = async (n: number) => {
      while (perConnection.length < n) await new Promise((r) => setTimeout(r, 5));
    };
    return { ...srv, perConnection, connections };
  }

  it('sequential calls share one kept-alive connection; after preconnect() the next would-be reuse goes out on the fresh one', async () => {
    const srv = await countingServer();
    try {
      const c = await createMlflowClient({ trackingUri: srv.url, retries: 0 });
      await c.getRun('a');
      await c.getRun('b');
      expect(srv.perConnection).toEqual([2]);
      c.preconnect();
      await srv.connections(2);
      await c.getRun('c');
      expect(srv.perConnection).toEqual([2, 1]);
      // The spare carries one request; then the kept-alive connection again.
      await c.getRun('d');
      expect(srv.perConnection).toEqual([3, 1]);
    } finally {
      await srv.close();
    }
  });

  it('the spare never replaces a new connection: calls made at once each open their own, the spare waits for a follow-up', async () => {
    const srv = await countingServer();
    try {
      const c = await createMlflowClient({ trackingUri: srv.url, retries: 0 });
      c.preconnect();
      await srv.connections(1);
      await Promise.all([c.getRun('a'), c.getRun('b')]);
      expect(srv.perConnection).toEqual([0, 1, 1]);
      await c.getRun('follow-up');
      expect(srv.perConnection).toEqual([1, 1, 1]);
    } finally {
      await srv.close();
    }
  });
});

describe('splitBatch', () => {
  it('keeps every request within 1000 entities, 100 params and 100 tags', () => {
    const m = Array.from({ length: 2500 }, (_, i) => i);
    const p = Array.from({ length: 250 }, (_, i) => i);
    const t = Array.from({ length: 130 }, (_, i) => i);
    const chunks = splitBatch(m, p, t);
    for (const c of chunks) {
      expect(c.params.length).toBeLessThanOrEqual(100);
      expect(c.tags.length).toBeLessThanOrEqual(100);
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(chunks.flatMap((c) => c.metrics)).toEqual(m);
    expect(chunks.flatMap((c) => c.params)).toEqual(p);
    expect(chunks.flatMap((c) => c.tags)).toEqual(t);
  });
});
