/**
 * Downloading proxied MLflow artifacts (promote's package stage) writes each listed name under the
 * target folder: a listing from a hostile or broken server must not steer a write outside it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMlflowClient } from '../../src/adapters/mlflow.js';
import { ExternalError, exitCodeFor } from '../../src/core/errors.js';

const servers: Server[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Listing = Record<string, { path: string; is_dir?: boolean }[]>;

/** The proxied artifact API of an MLflow server: listings by path, any file's body is its path. */
async function artifactServer(listing: Listing): Promise<string> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/api/2.0/mlflow-artifacts/artifacts') {
      res.end(JSON.stringify({ files: listing[url.searchParams.get('path') ?? ''] ?? [] }));
    } else if (url.pathname.startsWith('/api/2.0/mlflow-artifacts/artifacts/')) {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(decodeURIComponent(url.pathname.slice('/api/2.0/mlflow-artifacts/artifacts/'.length)));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function workDir(): { root: string; dest: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'mlops-artifact-names-'));
  dirs.push(root);
  return { root, dest: path.join(root, 'model') };
}

describe('proxied artifact download', () => {
  it('writes a tree of ordinary names under the target folder', async () => {
    const url = await artifactServer({
      '1/m': [{ path: 'MLmodel' }, { path: 'sub', is_dir: true }],
      '1/m/sub': [{ path: 'model.pkl' }],
    });
    const client = await createMlflowClient({ trackingUri: url, env: {}, retries: 0 });
    const { dest } = workDir();
    const written = await client.downloadArtifacts('mlflow-artifacts:/1/m', dest);
    expect(written.sort()).toEqual(['MLmodel', path.join('sub', 'model.pkl')]);
    expect(readFileSync(path.join(dest, 'sub', 'model.pkl'), 'utf8')).toBe('1/m/sub/model.pkl');
  });

  it.each([
    ['..', true],
    ['..', false],
    ['.', true],
    ['x/../../evil', false],
    ['..\\evil', false],
    ['', false],
  ])('a listed name %j (directory: %s) is refused before anything is written (exit 3, naming it)', async (name, isDir) => {
    const url = await artifactServer({
      '1/m': [{ path: 'MLmodel' }, { path: 'sub', is_dir: true }],
      '1/m/sub': [{ path: 'model.pkl' }, { path: name, is_dir: isDir }],
      '1/m/sub/..': [{ path: 'evil.txt' }],
      '1/m/sub/.': [{ path: 'model.pkl' }],
    });
    const client = await createMlflowClient({ trackingUri: url, env: {}, retries: 0 });
    const { root, dest } = workDir();
    const err = await client.downloadArtifacts('mlflow-artifacts:/1/m', dest).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExternalError);
    expect(exitCodeFor(err)).toBe(3);
    expect((err as ExternalError).code).toBe('MLFLOW_BAD_ARTIFACT_NAME');
    expect((err as ExternalError).message).toContain(JSON.stringify(name));
    expect((err as ExternalError).message).toContain('mlflow-artifacts:/1/m/sub');
    expect(readdirSync(root)).toEqual([]);
    expect(existsSync(dest)).toBe(false);
  });
});
