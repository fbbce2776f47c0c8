/** Shared set-up of the emulator's tests: moto, test models in its S3, the emulator, SDK clients. */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash, randomUUID } from 'node:crypto';
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

const SCRIPT = join(REPO_ROOT, 'test/emulator/fixtures/make-model.py');

/**
 * Trains the requested tiny models with the venv's Python (one process for all of them). Importing
 * MLflow and scikit-learn takes seconds (a minute on a busy machine), so the archives are cached in
 * the repo's ignored .tmp/ folder, keyed by the script and the venv's package versions.
 */
async function makeModels(kinds: ModelKind[]): Promise<Record<string, Buffer>> {
  const key = createHash('sha256')
    .update(readFileSync(SCRIPT))
    .update(readFileSync(join(REPO_ROOT, 'testbed', 'requirements.txt')))
    .update(kinds.join(','))
    .digest('hex')
    .slice(0, 16);
  const cache = join(REPO_ROOT, '.tmp', 'emulator-models', key);
  if (!existsSync(join(cache, 'done'))) {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-emulator-models-'));
    try {
      await promisify(execFile)(venvPython, [SCRIPT, dir, ...kinds], { timeout: 300_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`make-model.py failed: ${e.message}\n${e.stderr ?? ''}`, { cause: err });
    }
    mkdirSync(cache, { recursive: true });
    for (const k of kinds) copyFileSync(join(dir, k, 'model.tar.gz'), join(cache, `${k}.tar.gz`));
    writeFileSync(join(cache, 'done'), '');
    rmSync(dir, { recursive: true, force: true });
  }
  const files: Record<string, Buffer> = {};
  for (const k of kinds) files[k] = readFileSync(join(cache, `${k}.tar.gz`));
  return files;
}

/** Starts moto and the emulator, uploads the model archives, returns real SDK clients. */
export async function startBed(kinds: ModelKind[], opts: Partial<EmulatorOptions> = {}): Promise<Bed> {
  const [moto, made] = await Promise.all([startMoto(), kinds.length > 0 ? makeModels(kinds) : undefined]);
  const s3 = new S3Client({ region, endpoint: moto.url, forcePathStyle: true, credentials });
  const bucket = `emulator-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const models: Record<string, string> = {};
  for (const [kind, body] of Object.entries(made ?? {})) {
    const key = `models/${kind}/model.tar.gz`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    models[kind] = `s3://${bucket}/${key}`;
  }
  const emulator = await startEmulator({ s3Endpoint: moto.url, cloudWatchEndpoint: moto.url, region, ...opts });
  // CloudWatch through the emulator's front: percentiles and alarms evaluated on the emulated clock.
  const cloudWatch = new CloudWatchClient({ region, endpoint: emulator.cloudWatchUrl, credentials });
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
    moto,
    emulator,
    s3,
    cloudWatch,
    sm,
    runtime,
    bucket,
    models,
    admin,
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
