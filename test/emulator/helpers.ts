/** Shared set-up of the emulator's tests: moto, test models in its S3, the emulator, SDK clients. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointCommand, SageMakerClient, type DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import { REPO_ROOT, startMoto, venvPython, type Peer } from '../support/peers.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const region = 'us-east-1';

export type ModelKind = 'linear' | 'constant' | 'broken';

export interface Bed {
  moto: Peer;
  emulator: RunningEmulator;
  s3: S3Client;
  cloudWatch: CloudWatchClient;
  sm: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  bucket: string;
  /** s3:// URLs of the uploaded model archives by kind. */
  models: Record<string, string>;
  admin(method: string, path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

/** Trains the requested tiny models with the venv's Python (one process for all of them). */
async function makeModels(kinds: ModelKind[]): Promise<{ dir: string; files: Record<string, Buffer> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-emulator-models-'));
  await promisify(execFile)(venvPython, [join(REPO_ROOT, 'test/emulator/fixtures/make-model.py'), dir, ...kinds], {
    timeout: 120_000,
  });
  const files: Record<string, Buffer> = {};
  for (const k of kinds) files[k] = readFileSync(join(dir, k, 'model.tar.gz'));
  return { dir, files };
}

/** Starts moto and the emulator, uploads the model archives, returns real SDK clients. */
export async function startBed(kinds: ModelKind[], opts: Partial<EmulatorOptions> = {}): Promise<Bed> {
  const [moto, made] = await Promise.all([startMoto(), kinds.length > 0 ? makeModels(kinds) : undefined]);
  const s3 = new S3Client({ region, endpoint: moto.url, forcePathStyle: true, credentials });
  const cloudWatch = new CloudWatchClient({ region, endpoint: moto.url, credentials });
  const bucket = `emulator-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const models: Record<string, string> = {};
  for (const [kind, body] of Object.entries(made?.files ?? {})) {
    const key = `models/${kind}/model.tar.gz`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    models[kind] = `s3://${bucket}/${key}`;
  }
  if (made) rmSync(made.dir, { recursive: true, force: true });
  const emulator = await startEmulator({ s3Endpoint: moto.url, cloudWatchEndpoint: moto.url, region, ...opts });
  const sm = new SageMakerClient({ region, endpoint: emulator.url, credentials, maxAttempts: 1 });
  const runtime = new SageMakerRuntimeClient({ region, endpoint: emulator.runtimeUrl, credentials, maxAttempts: 1 });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emulator.url}/_emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    moto, emulator, s3, cloudWatch, sm, runtime, bucket, models, admin,
    stop: async () => {
      await emulator.stop();
      for (const c of [s3, cloudWatch, sm, runtime]) c.destroy();
      await moto.stop();
    },
  };
}

/** Polls DescribeEndpoint until `until` holds (real-time limit), returning the last answer. */
export async function waitForEndpoint(
  sm: SageMakerClient,
  name: string,
  until: (d: DescribeEndpointCommandOutput) => boolean,
  timeoutMs = 90_000,
): Promise<DescribeEndpointCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  let last: DescribeEndpointCommandOutput | undefined;
  while (Date.now() < deadline) {
    last = await sm.send(new DescribeEndpointCommand({ EndpointName: name }));
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`endpoint ${name} did not reach the expected state; last: ${JSON.stringify(last)}`);
}

export const status = (s: string) => (d: DescribeEndpointCommandOutput) => d.EndpointStatus === s;
