/**
 * The deployment test bed shared by the promote and monitor tests: moto's S3 (a bucket, and an
 * audit bucket with Object Lock) and CloudWatch (through the emulator's CloudWatch front, which
 * computes percentiles and evaluates alarms), the SageMaker emulator on a compressed clock, the
 * real SDK clients pointed at them, a temp project folder and the env a command runs with.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTraffic as startTrafficTo, type Traffic } from '../../src/adapters/traffic.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { motoEnv } from './peers.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface DeployBed {
  emulator: RunningEmulator;
  s3: S3Client;
  cw: CloudWatchClient;
  sm: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  /** The project folder commands run in. */
  dir: string;
  env: Record<string, string | undefined>;
  stop(): Promise<void>;
}

/** Creates the buckets, starts the emulator (100x clock, short lifecycle) and the clients. */
export async function startDeployBed(o: { motoUrl: string; bucket: string; auditBucket: string; dirPrefix: string }): Promise<DeployBed> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: o.motoUrl, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: o.bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: o.auditBucket, ObjectLockEnabledForBucket: true }));
  const emulator = await startEmulator({
    s3Endpoint: o.motoUrl,
    cloudWatchEndpoint: o.motoUrl,
    timeScale: 100,
    durations: { createEndpoint: 20, provisionFleet: 20, activateTraffic: 10, rollback: 10, updateWeights: 5, alarmPollInterval: 5 },
    captureFlushIntervalMs: 200,
    metricsFlushIntervalMs: 200,
    alarmEvaluationInterval: 5,
  });
  // CloudWatch through the emulator's front over moto: percentiles, and alarms that evaluate themselves.
  const cw = new CloudWatchClient({ region: 'us-east-1', endpoint: emulator.cloudWatchUrl, credentials });
  const sm = new SageMakerClient({ region: 'us-east-1', endpoint: emulator.url, credentials });
  const runtime = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emulator.runtimeUrl, credentials });
  const dir = mkdtempSync(join(tmpdir(), o.dirPrefix));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, USER: 'tester', ...motoEnv(o.motoUrl), AWS_ENDPOINT_URL: undefined };
  return {
    emulator,
    s3,
    cw,
    sm,
    runtime,
    dir,
    env,
    async stop() {
      await emulator.stop();
      for (const c of [s3, cw, sm, runtime]) c.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends CSV requests (with the header MLflow's scoring server needs) to an endpoint until stopped,
 * while it is InService or Updating, through the product's traffic generator; `request(i)` gives
 * the i-th body and optional inference id, `pauseMs` the time between two requests' starts.
 */
export function startTraffic(
  bed: Pick<DeployBed, 'sm' | 'runtime'>,
  endpoint: string,
  request: (i: number) => { csv: string; inferenceId?: string },
  pauseMs: number,
): Traffic {
  return startTrafficTo({
    runtime: bed.runtime,
    sagemaker: bed.sm,
    endpoint,
    request: (i) => {
      const { csv, inferenceId } = request(i);
      return { body: csv, inferenceId };
    },
    ratePerSecond: 1000 / pauseMs,
  });
}
