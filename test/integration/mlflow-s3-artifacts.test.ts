/**
 * An MLflow server whose artifacts live under an s3:// root and are not served (--no-serve-artifacts):
 * the model logged by MLflow's Python client to S3 (moto) is read straight from S3 by mlops, and
 * packaged into model.tar.gz as promote does.
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMlflowClient, type MlflowClient } from '../../src/adapters/mlflow.js';
import { mlflowPackager } from '../../src/adapters/model-package.js';
import { s3Store } from '../../src/adapters/s3-store.js';
import { exitCodeFor } from '../../src/core/errors.js';
import { startMlflow, type Peer } from '../../src/sandbox/local-stack.js';
import { runPython } from '../support/python.js';

const id = randomUUID().slice(0, 8);
const bucket = `mlart-${id}`;
const MODEL = `s3-model-${id}`;
const work = mkdtempSync(join(tmpdir(), 'mlops-s3-artifacts-'));
let server: Peer;
let s3: S3Client;
let client: MlflowClient;
let awsEnv: Record<string, string>;

beforeAll(async () => {
  const motoUrl = inject('motoUrl');
  awsEnv = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1', MLFLOW_S3_ENDPOINT_URL: motoUrl };
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: motoUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  server = await startMlflow({ venv: join(process.cwd(), '.venv'), artifactRoot: `s3://${bucket}/mlartifacts`, env: awsEnv });
  const logged = await runPython(
    `
import mlflow, mlflow.sklearn, numpy as np
from sklearn.linear_model import LinearRegression
mlflow.set_experiment("s3-artifacts-${id}")
x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
with mlflow.start_run():
    mlflow.sklearn.log_model(LinearRegression().fit(x, x[:, 0] + 1), name="model", registered_model_name="${MODEL}")
`,
    { MLFLOW_TRACKING_URI: server.url, ...awsEnv },
    { timeoutMs: 180_000 },
  );
  expect(logged.code, logged.stderr).toBe(0);
  client = await createMlflowClient({ trackingUri: server.url, env: awsEnv });
}, 240_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('artifacts under an s3:// root', () => {
  it('the registered model resolves to s3:// and downloads from S3 with every file', async () => {
    const uri = await client.getModelVersionDownloadUri(MODEL, '1');
    const resolved = await client.resolveArtifactUri(uri);
    expect(resolved).toMatch(new RegExp(`^s3://${bucket}/mlartifacts/`));
    const dest = join(work, 'download');
    const files = await client.downloadArtifacts(uri, dest);
    expect(files).toContain('MLmodel');
    // Every object MLflow's client wrote under the model's prefix, and nothing else.
    const prefix = resolved.slice(`s3://${bucket}/`.length).replace(/\/*$/, '/');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect([...files].sort()).toEqual((listed.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort());
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(readFileSync(join(dest, 'MLmodel'), 'utf8')).toMatch(/python_function/);
    expect(readdirNoPartials(dest)).toBe(true);
  }, 60_000);

  it("promote's packager builds model.tar.gz from it (MLmodel at the archive root)", async () => {
    const store = await s3Store(s3);
    await mlflowPackager(client, store).package({ registeredModel: MODEL, version: '1' }, `s3://${bucket}/deploy/model.tar.gz`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'deploy/model.tar.gz' }));
    const archive = join(work, 'model.tar.gz');
    writeFileSync(archive, await got.Body!.transformToByteArray());
    expect(execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n')).toContain('MLmodel');
  }, 60_000);

  it('without access to the bucket, the download is exit 3 naming the object', async () => {
    const noAccess = await createMlflowClient({
      trackingUri: server.url,
      env: { ...awsEnv, MLFLOW_S3_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    const err = await noAccess
      .downloadArtifacts(await client.getModelVersionDownloadUri(MODEL, '1'), join(work, 'nope'))
      .catch((e: unknown) => e);
    expect(exitCodeFor(err)).toBe(3);
    expect((err as Error).message).toContain(`s3://${bucket}/mlartifacts/`);
  }, 60_000);
});

/** No temporary `.part-` file left behind. */
function readdirNoPartials(dir: string): boolean {
  const out = execFileSync('find', [dir, '-name', '*.part-*'], { encoding: 'utf8' });
  return out.trim() === '' && existsSync(dir);
}
