import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlflowClient } from '../../src/adapters/mlflow.js';
import { findAwsCredentials, versionAtLeast } from '../../src/adapters/probe.js';
import { runCli } from '../support/cli.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'mlops-doctor-'));
  dirs.push(d);
  return d;
}

/** A PATH holding only the tools asked for: real git and python3, and optionally a stand-in dvc. */
function toolPath(opts: { dvc: boolean }): string {
  const bin = tempDir();
  symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), path.join(bin, 'git'));
  // The interpreter itself, not a shim (pyenv's need bash and more on PATH).
  const python = execFileSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' }).trim();
  symlinkSync(python, path.join(bin, 'python3'));
  if (opts.dvc) {
    writeFileSync(path.join(bin, 'dvc'), '#!/bin/sh\necho 3.59.1\n');
    chmodSync(path.join(bin, 'dvc'), 0o755);
  }
  return bin;
}

/** A repo that uses DVC (so dvc is required) and trains with python3. */
function repo(config: string): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, '.git'));
  mkdirSync(path.join(dir, '.dvc'));
  writeFileSync(path.join(dir, 'mlops.config.yaml'), config);
  return dir;
}

/** Stands in for MLflow: /health and experiments/search, which wants `Bearer good-token-1234` when `token` is set. */
async function fakeMlflow(token?: string): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/health') return void res.end('OK');
    if (req.url?.startsWith('/api/2.0/mlflow/experiments/search')) {
      if (token && req.headers.authorization !== `Bearer ${token}`) {
        res.statusCode = 401;
        return void res.end('{"error_code":"UNAUTHENTICATED"}');
      }
      res.setHeader('content-type', 'application/json');
      return void res.end('{"experiments":[]}');
    }
    res.statusCode = 404;
    res.end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const config = (uri: string, extra = '') =>
  `project: demo\nmlflow:\n  trackingUri: ${uri}\ntrain:\n  command: [python3, train.py]\n${extra}`;

describe('mlops doctor', () => {
  let healthyUrl: string;
  beforeAll(async () => {
    healthyUrl = await fakeMlflow();
  });

  it('without dvc on PATH and with MLflow unreachable: says what to do, exits 1', async () => {
    const port = await closedPort();
    const dir = repo(config(`http://127.0.0.1:${port}`));
    const r = await runCli(['doctor', '--timeout', '2'], { cwd: dir, env: { PATH: toolPath({ dvc: false }), HOME: tempDir() } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✔ node +\(required\) v\d+/);
    expect(r.stdout).toMatch(/✔ git +\(required\) git \d/);
    expect(r.stdout).toMatch(/✖ dvc +\(required\) dvc not found on PATH \(this repo uses DVC\) → Install DVC/);
    expect(r.stdout).toMatch(/✔ python +\(required\) python3 3\.\d+/);
    expect(r.stdout).toMatch(/✔ config +\(required\) .*mlops\.config\.yaml is valid/);
    expect(r.stdout).toMatch(
      new RegExp(`✖ mlflow +\\(required\\) http://127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED\\) → Start the MLflow server`),
    );
    expect(r.stdout).toMatch(/! aws +\(optional\) no credentials/);
    expect(r.stdout).toContain('2 required checks failed: dvc, mlflow.');
  });

  it('a server answering the REST path with an HTML page (a login page, a proxy) fails the mlflow check: the commands would fail', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html><body>Sign in</body></html>');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await runCli(['doctor', '--offline', '--timeout', '2'], {
      cwd: repo(config(url)),
      env: { PATH: toolPath({ dvc: true }), HOME: tempDir() },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✖ mlflow +\(required\) .*not MLflow's JSON/);
  });

  it('a malformed endpoint variable fails the config check naming it, and the other checks still use the config file', async () => {
    const r = await runCli(['doctor', '--offline', '--timeout', '2', '--json'], {
      cwd: repo(config(healthyUrl)),
      env: { PATH: toolPath({ dvc: true }), HOME: tempDir(), AWS_ENDPOINT_URL_S3: 'localhost 4566' },
    });
    expect(r.code).toBe(1);
    const checks = r.json().checks as Array<{ name: string; status: string; summary: string }>;
    expect(checks.find((c) => c.name === 'config')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('$AWS_ENDPOINT_URL_S3'),
    });
    // The tracking server of the file, not "no tracking server configured".
    expect(checks.find((c) => c.name === 'mlflow')).toMatchObject({ status: 'ok' });
  });

  it('healthy setup: every required check passes, exit 0; --json gives the list', async () => {
    const dir = repo(config(healthyUrl));
    const env = {
      PATH: toolPath({ dvc: true }),
      HOME: tempDir(),
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-real-secret-key',
      AWS_REGION: 'eu-west-1',
    };
    const text = await runCli(['doctor'], { cwd: dir, env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/✔ dvc +\(required\) dvc 3\.59\.1/);
    expect(text.stdout).toMatch(/✔ mlflow +\(required\) http:\/\/127\.0\.0\.1:\d+ answers/);
    expect(text.stdout).toMatch(/✔ aws +\(optional\) credentials from environment \(AWS_ACCESS_KEY_ID\), region eu-west-1/);
    expect(text.stdout).toContain('All required checks passed.');
    expect(text.stdout + text.stderr).not.toContain('not-a-real-secret-key');

    const json = await runCli(['doctor', '--json'], { cwd: dir, env });
    expect(json.code).toBe(0);
    const doc = json.json();
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c: { name: string }) => c.name)).toEqual(['node', 'git', 'dvc', 'python', 'config', 'mlflow', 'aws']);
    expect(doc.checks.every((c: { status: string }) => c.status === 'ok')).toBe(true);
  });

  it('MLflow auth: a rejected token fails with what to set, and the token is never printed', async () => {
    const url = await fakeMlflow('good-token-1234');
    const dir = repo(config(url));
    const base = { PATH: toolPath({ dvc: true }), HOME: tempDir() };
    const bad = await runCli(['doctor'], { cwd: dir, env: { ...base, MLFLOW_TRACKING_TOKEN: 'wrong-token-5678' } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✖ mlflow .* refused the credentials \(HTTP 401\) → Set MLFLOW_TRACKING_TOKEN/);
    expect(bad.stdout + bad.stderr).not.toContain('wrong-token-5678');
    const good = await runCli(['doctor', '--json'], { cwd: dir, env: { ...base, MLFLOW_TRACKING_TOKEN: 'good-token-1234' } });
    expect(good.json().checks.find((c: { name: string }) => c.name === 'mlflow').status).toBe('ok');
  });

  it('when the config names an endpoint AWS is required, and an S3 endpoint override must answer', async () => {
    const port = await closedPort();
    const aws = [
      'aws:',
      '  region: us-east-1',
      '  endpoints:',
      `    s3: http://127.0.0.1:${port}`,
      `    cloudwatch: ${healthyUrl}`,
      'monitor:',
      '  endpoint: demo-endpoint',
      '',
    ].join('\n');
    const dir = repo(config(healthyUrl, aws));
    const validate = await runCli(['config', 'validate'], { cwd: dir, env: { PATH: process.env.PATH } });
    // Keep this test about doctor: adapt the monitor block above if its schema changes.
    expect(validate.stderr).toBe(`✔ ${path.join(dir, 'mlops.config.yaml')} is valid\n`);
    const r = await runCli(['doctor', '--json'], { cwd: dir, env: { PATH: toolPath({ dvc: true }), HOME: tempDir() } });
    expect(r.code).toBe(1);
    const checks = r.json().checks as Array<{ name: string; required: boolean; status: string; summary: string }>;
    expect(checks.find((c) => c.name === 'aws')).toMatchObject({ required: true, status: 'fail' });
    expect(checks.find((c) => c.name === 'aws.s3')).toMatchObject({
      required: true,
      status: 'fail',
      summary: expect.stringContaining('ECONNREFUSED'),
    });
    expect(checks.find((c) => c.name === 'aws.cloudwatch')).toMatchObject({ status: 'ok' });
    // The account itself is not asked while the way to it is broken.
    expect(checks.find((c) => c.name === 'account')).toMatchObject({ required: false, status: 'skip' });
  });

  it('probes the endpoint of AWS_ENDPOINT_URL_S3 (what sandbox env exports) over the config file, and names it', async () => {
    const port = await closedPort();
    const aws = ['aws:', '  region: us-east-1', '  endpoints:', `    s3: ${healthyUrl}`, 'monitor:', '  endpoint: demo-endpoint', ''].join(
      '\n',
    );
    const dir = repo(config(healthyUrl, aws));
    const env = { PATH: toolPath({ dvc: true }), HOME: tempDir(), AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` };
    const r = await runCli(['doctor', '--json'], { cwd: dir, env });
    const checks = r.json().checks as Array<{ name: string; status: string; summary: string; fix?: string }>;
    expect(checks.find((c) => c.name === 'aws.s3')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining(`http://127.0.0.1:${port} ($AWS_ENDPOINT_URL_S3) is unreachable`),
    });
  });

  it('an invalid config is a failed required check, not a crash', async () => {
    const dir = repo('project: demo\nmlfow: {}\n');
    const r = await runCli(['doctor', '--json'], {
      cwd: dir,
      env: { PATH: toolPath({ dvc: true }), HOME: tempDir(), MLFLOW_TRACKING_URI: healthyUrl },
    });
    expect(r.code).toBe(1);
    const checks = r.json().checks as Array<{ name: string; status: string; summary: string }>;
    expect(checks.find((c) => c.name === 'config')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('did you mean "mlflow"'),
    });
    // The env still names the server, so that check runs.
    expect(checks.find((c) => c.name === 'mlflow')).toMatchObject({ status: 'ok' });
  });
});

describe('doctor checks what the commands send', () => {
  /** Stands in for MLflow and records the Authorization header of every request. */
  async function recordingMlflow(
    runs: unknown[] = [],
  ): Promise<{ url: string; seen: Array<{ path: string; authorization?: string; ua?: string; body?: string }> }> {
    const seen: Array<{ path: string; authorization?: string; ua?: string; body?: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => answer(req, res, body));
    });
    const answer = (req: IncomingMessage, res: ServerResponse, body: string) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization, ua: req.headers['user-agent'], body });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/health') return void res.end('OK');
      if (req.url?.startsWith('/api/2.0/mlflow/runs/search')) return void res.end(JSON.stringify({ runs }));
      if (req.url?.startsWith('/api/2.0/mlflow/runs/update')) return void res.end('{"run_info":{"run_id":"x","status":"KILLED"}}');
      if (req.url?.startsWith('/api/2.0/mlflow/runs/set-tag')) return void res.end('{}');
      if (req.url?.startsWith('/api/2.0/mlflow/experiments/search')) return void res.end('{"experiments":[]}');
      if (req.url?.startsWith('/api/2.0/mlflow/experiments/get-by-name')) {
        return void res.end('{"experiment":{"experiment_id":"1","name":"demo","tags":[]}}');
      }
      res.statusCode = 404;
      res.end('{"error_code":"ENDPOINT_NOT_FOUND"}');
    };
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

  it.each([
    [
      "token and username/password: basic, as MLflow's Python client",
      { MLFLOW_TRACKING_TOKEN: 'tok-1234abcd', MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw-5678efgh' },
      basic('ann', 'pw-5678efgh'),
    ],
    ['token only: bearer', { MLFLOW_TRACKING_TOKEN: 'tok-1234abcd' }, 'Bearer tok-1234abcd'],
    [
      'a username without a password: bearer',
      { MLFLOW_TRACKING_TOKEN: 'tok-1234abcd', MLFLOW_TRACKING_USERNAME: 'ann' },
      'Bearer tok-1234abcd',
    ],
    ['nothing: no header', {}, undefined],
  ])('%s', async (_name, credentials, expected) => {
    const server = await recordingMlflow();
    const dir = repo(config(server.url));
    const env = { PATH: toolPath({ dvc: true }), HOME: tempDir(), ...credentials };
    const r = await runCli(['doctor', '--json'], { cwd: dir, env });
    expect(r.json().checks.find((c: { name: string }) => c.name === 'mlflow').status).toBe('ok');
    const fromDoctor = server.seen.filter((s) => s.path.startsWith('/api/'));
    server.seen.length = 0;

    const client = await createMlflowClient({ trackingUri: server.url, env, retries: 0 });
    await client.getExperimentByName('demo');
    const fromClient = server.seen.filter((s) => s.path.startsWith('/api/'));

    expect(fromDoctor.length).toBeGreaterThan(0);
    expect(fromClient.length).toBeGreaterThan(0);
    for (const req of [...fromDoctor, ...fromClient]) expect(req).toMatchObject({ authorization: expected, ua: 'mlops-cli' });
  });

  it('credentials in the URI: doctor reaches the server with them as basic auth, never printing them', async () => {
    const server = await recordingMlflow();
    const withUser = server.url.replace('http://', 'http://ann:pw-5678efgh@');
    const dir = repo(config(withUser));
    const r = await runCli(['doctor'], { cwd: dir, env: { PATH: toolPath({ dvc: true }), HOME: tempDir() } });
    expect(r.stdout).toMatch(/✔ mlflow +\(required\) http:\/\/127\.0\.0\.1:\d+ answers/);
    expect(r.stdout + r.stderr).not.toContain('pw-5678efgh');
    const api = server.seen.filter((s) => s.path.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(0);
    for (const req of api) expect(req.authorization).toBe(basic('ann', 'pw-5678efgh'));
  });

  it('closes (KILLED) the runs a killed mlops on this host left RUNNING, and says so (issue 17)', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = dead.stdout.trim();
    const run = (id: string, pid: string) => ({
      info: { run_id: id, experiment_id: '1', status: 'RUNNING' },
      data: {
        tags: [
          { key: 'mlops.pid', value: pid },
          { key: 'mlops.host', value: hostname() },
        ],
      },
    });
    const server = await recordingMlflow([run('orphan', deadPid), run('live', String(process.pid))]);
    const dir = repo(config(server.url));
    const r = await runCli(['doctor', '--json'], { cwd: dir, env: { PATH: toolPath({ dvc: true }), HOME: tempDir() } });
    expect(r.json().checks.find((c: { name: string }) => c.name === 'runs')).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('are now marked KILLED: orphan'),
    });
    const updates = server.seen
      .filter((s) => s.path.includes('runs/update'))
      .map((s) => JSON.parse(s.body!) as { run_id: string; status: string });
    expect(updates).toEqual([expect.objectContaining({ run_id: 'orphan', status: 'KILLED' })]);
  });
});

describe('probes', () => {
  it('versionAtLeast', () => {
    expect(versionAtLeast('20.19.0', '20.19')).toBe(true);
    expect(versionAtLeast('20.9.0', '20.19')).toBe(false);
    expect(versionAtLeast('3.10.1', '3.9')).toBe(true);
    expect(versionAtLeast('3.8.18', '3.9')).toBe(false);
  });

  it('findAwsCredentials reads env, profiles and roles without a network call', () => {
    const home = tempDir();
    mkdirSync(path.join(home, '.aws'));
    writeFileSync(path.join(home, '.aws/credentials'), '[default]\naws_access_key_id = AKIA\naws_secret_access_key = x\n');
    writeFileSync(
      path.join(home, '.aws/config'),
      '[default]\nregion = eu-central-1\n[profile sso]\nsso_session = corp\nregion = us-west-2\n',
    );
    expect(findAwsCredentials({ HOME: home })).toEqual({
      source: `profile "default" in ${path.join(home, '.aws/credentials')}`,
      profile: 'default',
      region: 'eu-central-1',
    });
    expect(findAwsCredentials({ HOME: home, AWS_PROFILE: 'sso' })).toMatchObject({
      source: expect.stringContaining('SSO'),
      region: 'us-west-2',
    });
    expect(findAwsCredentials({ HOME: home, AWS_PROFILE: 'missing' }).source).toBeUndefined();
    expect(findAwsCredentials({ HOME: tempDir(), AWS_WEB_IDENTITY_TOKEN_FILE: '/t', AWS_ROLE_ARN: 'arn' }).source).toMatch(/web identity/);
  });

  it('half-set credential variables (a CI secret misnamed) are named, not "no credentials"', async () => {
    const home = tempDir();
    expect(findAwsCredentials({ HOME: home, AWS_ACCESS_KEY_ID: 'AKIA' }).incomplete).toBe(
      'AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not',
    );
    expect(findAwsCredentials({ HOME: home, AWS_SECRET_ACCESS_KEY: 's' }).incomplete).toBe(
      'AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not',
    );
    expect(findAwsCredentials({ HOME: home, AWS_ROLE_ARN: 'arn' }).incomplete).toBe(
      'AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not',
    );
    expect(findAwsCredentials({ HOME: home }).incomplete).toBeUndefined();
    const r = await runCli(['doctor', '--offline', '--timeout', '1'], {
      cwd: repo(config('http://127.0.0.1:9')),
      env: { PATH: toolPath({ dvc: false }), HOME: home, AWS_ACCESS_KEY_ID: 'AKIA' },
    });
    expect(r.stdout).toMatch(/aws +\(optional\) AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/);
  });
});

describe('doctor options', () => {
  it('a bad --timeout is a usage error (exit 2)', async () => {
    const r = await runCli(['doctor', '--timeout', 'soon'], { env: { PATH: process.env.PATH } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--timeout must be a number above 0, not "soon"');
  });
});
