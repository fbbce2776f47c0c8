/**
 * SIGKILL at every stage boundary, then run again: `node bin/mlops.cjs promote` (the built CLI, as
 * a scheduled CI job runs it) is killed the moment its deployment record shows a new stage, and
 * run again until it reports done. A killed holder leaves its lock behind: the next run exits 4;
 * the test then takes the dead lock over on a clock set past its expiry (the lock reads the
 * injected clock, so nothing waits real seconds for it) and releases it. Throughout, the endpoint
 * keeps a serving production variant, and at the end the audit chain is intact.
 *
 * Needs `npm run build` (dist/) first; the test builds it when dist/cli/main.js is missing.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { acquireLock } from '../../src/adapters/lock.js';
import { s3Store } from '../../src/adapters/s3-store.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../support/cli.js';
import { startDeployBed, startTraffic, type DeployBed } from '../support/deploy-bed.js';
import { REPO_ROOT } from '../support/peers.js';
import { runPython } from '../support/python.js';

const id = randomUUID().slice(0, 8);
const EP = `kill-${id}`;
const MODEL = `kill-model-${id}`;
const bucket = `kill-${id}`;
const auditBucket = `kill-audit-${id}`;
const LOCK_EXPIRY_MS = 30_000;

let bed: DeployBed;
let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string | undefined>;
let s3: S3Client;
let sm: SageMakerClient;
let runtime: SageMakerRuntimeClient;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
  const motoUrl = inject('motoUrl');
  bed = await startDeployBed({ motoUrl, bucket, auditBucket, dirPrefix: 'mlops-kill-' });
  ({ emulator, s3, sm, runtime, dir, env } = bed);
  await runPython(
    `
import mlflow, mlflow.sklearn, numpy as np
from sklearn.linear_model import LinearRegression
mlflow.set_experiment("kill-${id}")
x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
for _ in range(3):
    with mlflow.start_run():
        mlflow.sklearn.log_model(LinearRegression().fit(x, 2 * x[:, 0] + 3 * x[:, 1] + 1), name="model", registered_model_name="${MODEL}")
`,
    { MLFLOW_TRACKING_URI: inject('mlflowUrl') },
    { timeoutMs: 180_000 },
  );
  writeFileSync(
    join(dir, 'mlops.config.yaml'),
    `version: 1
project: ${MODEL}
mlflow: { trackingUri: '${inject('mlflowUrl')}', registeredModel: ${MODEL} }
aws:
  region: us-east-1
  endpoints: { sagemaker: '${emulator.url}', s3: '${motoUrl}', cloudwatch: '${motoUrl}' }
deploy:
  endpointName: ${EP}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: mlflow-pyfunc:latest
  artifacts: s3://${bucket}/models
  dataCapture: { destination: 's3://${bucket}/capture' }
  # The models here carry no input example and there is no holdout: no rows for a smoke test.
  smokeTest: { enabled: false }
  shadow: { duration: 4s }
  bake: { latencyStatistic: average, maxLatencyRatio: 20, minComparedSamples: 5 }
  cutover: { type: canary, size: 50, wait: 120s }
  terminationWait: 0s
  state: { uri: 's3://${bucket}/state' }
  lock: { uri: 's3://${bucket}/locks', expiry: ${LOCK_EXPIRY_MS / 1000}s }
  audit: { uri: 's3://${auditBucket}/trail', retentionDays: 1 }
`,
  );
}, 300_000);

afterAll(async () => {
  await bed?.stop();
});

async function stage(): Promise<string | undefined> {
  try {
    const ptr = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `state/${EP}/current.json` }));
    const { id: dep } = JSON.parse(await ptr.Body!.transformToString());
    const rec = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `state/${EP}/deployments/${dep}.json` }));
    const r = JSON.parse(await rec.Body!.transformToString());
    return `${r.candidate.version}:${r.stage}`;
  } catch {
    return undefined;
  }
}

/** Whether the endpoint has a production variant with traffic (and is not Failed). */
async function serving(): Promise<boolean> {
  const ep = await sm.send(new DescribeEndpointCommand({ EndpointName: EP }));
  // During a blue/green cutover the traffic may be on the new fleet (PendingDeploymentSummary).
  const variants = [...(ep.ProductionVariants ?? []), ...(ep.PendingDeploymentSummary?.ProductionVariants ?? [])];
  const ok = ep.EndpointStatus !== 'Failed' && variants.some((v) => (v.CurrentWeight ?? 0) > 0);
  if (!ok) console.log('NOT SERVING', JSON.stringify(ep));
  return ok;
}

/** Takes the dead holder's lock over on a clock past its expiry, as the next run would later, and frees it. */
async function takeOverDeadLock(): Promise<void> {
  const later = { now: () => new Date(Date.now() + LOCK_EXPIRY_MS + 1_000) };
  const lock = await acquireLock({
    store: await s3Store(s3),
    location: { bucket, prefix: 'locks' },
    endpoint: EP,
    me: { token: randomUUID(), who: 'test@kill', pid: process.pid, command: 'promote' },
    expiryMs: LOCK_EXPIRY_MS,
    clock: later,
  });
  await lock.release();
}

it('killed at every stage boundary and run again, promote converges to done, always serving', async () => {
  // The lock (30 s) is renewed while a run waits, so one run may wait far longer than its expiry.
  const first = await runCli(['promote', '--model-version', '1', '--wait', '120s', '--poll', '200ms', '--json'], { cwd: dir, env });
  expect(first.code, first.stderr).toBe(0);
  expect(first.json().stage).toBe('done');

  const load = startTraffic({ sm, runtime }, EP, (i) => ({ csv: `a,b\n${i % 7},${i % 5}\n` }), 40);

  const kills: string[] = [];
  const exits: number[] = [];
  let done = false;
  for (let run = 0; run < 60 && !done; run++) {
    const before = await stage();
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin/mlops.cjs'), 'promote', '--model-version', '2', '--wait', '2s', '--poll', '100ms', '--json'],
      {
        cwd: dir,
        env: env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const exited = new Promise<number>((res) => child.once('exit', (code, sig) => res(code ?? (sig ? 137 : 1))));
    let killedAt: string | undefined;
    // Kill the moment the record shows a stage this run did not start from.
    const watcher = (async () => {
      for (;;) {
        const now = await stage();
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (now && now !== before && !now.endsWith(':done') && !kills.includes(now)) {
          child.kill('SIGKILL');
          killedAt = now;
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const code = await exited;
    await watcher;
    expect(await serving()).toBe(true);
    if (killedAt) {
      kills.push(killedAt);
      // The killed run's lock stays: the next run is refused until it expires.
      const refused = await runCli(['promote', '--model-version', '2', '--wait', '0s', '--json'], { cwd: dir, env });
      expect(refused.code, refused.stderr).toBe(4);
      await takeOverDeadLock();
      continue;
    }
    exits.push(code);
    expect(code, stdout).toBe(0);
    if (JSON.parse(stdout).stage === 'done') done = true;
  }
  await load.stop();
  console.info(`killed at ${kills.join(', ')}; later runs exited ${exits.join(', ')}`);
  expect(done).toBe(true);
  expect(kills).toEqual(expect.arrayContaining(['2:shadow', '2:bake', '2:cutover']));
  const status = await runCli(['status', '--json'], { cwd: dir, env });
  expect(status.json().deployment).toMatchObject({ stage: 'done', candidate: { version: '2' } });
  expect(status.json().endpoint.configName).toMatch(/-v2-final$/);
  const verify = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
  expect(verify.code, verify.stderr).toBe(0);
}, 600_000);

it('SIGTERM during promote exits 130 once the step in flight is recorded; the lock is free and the next run continues', async () => {
  const load = startTraffic({ sm, runtime }, EP, (i) => ({ csv: `a,b\n${i % 7},${i % 5}\n` }), 40);
  try {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin/mlops.cjs'), 'promote', '--model-version', '3', '--wait', '120s', '--poll', '100ms', '--json'],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.once('exit', (code, signal) => res({ code, signal })),
    );
    // Interrupt it while it waits out the bake (or whatever stage it reached first after package).
    let at: string | undefined;
    while (child.exitCode === null) {
      at = await stage();
      if (at === '3:shadow' || at === '3:bake') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect(signal, stderr).toBeNull();
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/Interrupted: deployment \S+ stopped at stage (shadow|bake)/);
    expect(await serving()).toBe(true);
    // The state is one the next run continues from, and the lock was released on the way out.
    expect(await stage()).toMatch(/^3:(shadow|bake)$/);
    const lock = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `locks/${EP}.lock.json` })).catch((e: Error) => e);
    expect(lock).toBeInstanceOf(Error);
    const next = await runCli(['promote', '--wait', '120s', '--poll', '100ms', '--json'], { cwd: dir, env });
    expect(next.code, next.stderr).toBe(0);
    expect(next.json()).toMatchObject({ stage: 'done', candidate: { version: '3' } });
  } finally {
    await load.stop();
  }
}, 300_000);
