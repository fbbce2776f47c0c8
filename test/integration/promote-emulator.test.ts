/**
 * `mlops promote` / `rollback` / `status` / `audit verify` end to end, through the real AWS SDK
 * clients, against the SageMaker emulator (which validates every request against SageMaker's
 * service model, so any malformed call promote or rollback makes fails these tests), moto (S3 with
 * Object Lock, CloudWatch) and the real MLflow server.
 *
 * One endpoint lives through the file, in order: first deployment -> happy path (shadow, bake on
 * live traffic, canary, done) -> lock held (exit 4) -> rollback after done -> bake failure (the
 * shadow disagrees) -> alarm during the canary -> dry-run plan -> audit verified, then tampered.
 * Models: "linear" predicts 2a + 3b + 1; "constant" always 7.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { acquireLock } from '../../src/adapters/lock.js';
import { s3Store } from '../../src/adapters/s3-store.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../support/cli.js';
import { startDeployBed, startTraffic, type DeployBed } from '../support/deploy-bed.js';
import { runPython } from '../support/python.js';

const id = randomUUID().slice(0, 8);
const EP = `promote-${id}`;
const MODEL = `promote-model-${id}`;
const bucket = `promote-${id}`;
const auditBucket = `promote-audit-${id}`;

let bed: DeployBed;
let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string | undefined>;
let s3: S3Client;
let cw: CloudWatchClient;
let sm: SageMakerClient;
let runtime: SageMakerRuntimeClient;

/** `latencyStatistic: null` leaves the bake's default (p99); the others use the average, less noisy on a busy machine. */
function writeConfig(over: { shadow?: string; cutoverWait?: string; latencyStatistic?: string | null; maxLatencyRatio?: number } = {}) {
  const latency = over.latencyStatistic === null ? '' : `\n    latencyStatistic: ${over.latencyStatistic ?? 'average'}`;
  writeFileSync(
    join(dir, 'mlops.config.yaml'),
    `version: 1
project: ${MODEL}
mlflow:
  trackingUri: ${inject('mlflowUrl')}
  registeredModel: ${MODEL}
aws:
  region: us-east-1
  endpoints:
    sagemaker: ${emulator.url}
    s3: ${inject('motoUrl')}
    cloudwatch: ${emulator.cloudWatchUrl}
deploy:
  endpointName: ${EP}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:latest
  instanceType: ml.m5.large
  # The models here carry no input example and there is no train.holdout: no rows for a smoke test.
  smokeTest:
    enabled: false
  artifacts: s3://${bucket}/models
  dataCapture:
    destination: s3://${bucket}/capture
  shadow:
    duration: ${over.shadow ?? '6s'}
  bake:${latency}
    maxLatencyRatio: ${over.maxLatencyRatio ?? 20}
    minComparedSamples: 10
  cutover:
    type: canary
    size: 50
    wait: ${over.cutoverWait ?? '60s'}
  terminationWait: 0s
  maxExecutionTimeout: 2h
  state:
    uri: s3://${bucket}/state
  lock:
    uri: s3://${bucket}/locks
  audit:
    uri: s3://${auditBucket}/trail
    retentionDays: 1
`,
  );
}

const promote = (...args: string[]) => runCli(['promote', '--wait', '120s', '--poll', '200ms', ...args], { cwd: dir, env });

/** Sends CSV requests to the endpoint until stopped (some with an inference id, some without). */
const traffic = () =>
  startTraffic({ sm, runtime }, EP, (i) => ({ csv: `a,b\n${i % 7},${i % 5}\n`, inferenceId: i % 2 ? `req-${id}-${i}` : undefined }), 40);

/** Calls the emulator's admin API (faults). */
async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.ok, await res.text()).toBe(true);
}

async function endpointConfig(): Promise<string> {
  return (await sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointConfigName!;
}

async function alias(): Promise<string | undefined> {
  const res = await fetch(`${inject('mlflowUrl')}/api/2.0/mlflow/registered-models/alias?name=${MODEL}&alias=production`);
  if (!res.ok) return undefined;
  return ((await res.json()) as { model_version: { version: string } }).model_version.version;
}

beforeAll(async () => {
  bed = await startDeployBed({ motoUrl: inject('motoUrl'), bucket, auditBucket, dirPrefix: 'mlops-promote-' });
  ({ emulator, s3, cw, sm, runtime, dir, env } = bed);
  // Four versions: linear, linear, constant (disagrees with production), linear.
  await runPython(
    `
import mlflow, mlflow.sklearn, numpy as np
from sklearn.linear_model import LinearRegression
mlflow.set_experiment("promote-${id}")
x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
for kind in ["linear", "linear", "constant", "linear"]:
    y = 2 * x[:, 0] + 3 * x[:, 1] + 1 if kind == "linear" else np.full(4, 7.0)
    with mlflow.start_run():
        mlflow.sklearn.log_model(LinearRegression().fit(x, y), name="model", registered_model_name="${MODEL}")
`,
    { MLFLOW_TRACKING_URI: inject('mlflowUrl') },
    { timeoutMs: 180_000 },
  );
  writeConfig();
}, 300_000);

afterAll(async () => {
  await bed?.stop();
});

/** POSTs to MLflow's REST API. */
async function mlflowPost<T>(path: string, body: object): Promise<T> {
  const res = await fetch(`${inject('mlflowUrl')}/api/2.0/mlflow/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.ok, await res.clone().text()).toBe(true);
  return (await res.json()) as T;
}

/** The audit chain head promote quoted on a model version (its mlops.audit.head.<endpoint> tag). */
async function headTag(version: string): Promise<string | undefined> {
  const res = await fetch(`${inject('mlflowUrl')}/api/2.0/mlflow/model-versions/get?name=${MODEL}&version=${version}`);
  const tags = ((await res.json()) as { model_version: { tags?: { key: string; value: string }[] } }).model_version.tags ?? [];
  return tags.find((t) => t.key === `mlops.audit.head.${EP}`)?.value;
}

/** The chain's head as `audit verify` reads it, in the tag's format. */
async function chainHead(): Promise<string> {
  const v = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
  expect(v.code, v.stderr).toBe(0);
  const { seq, hash } = v.json().head as { seq: number; hash: string };
  return `${seq}:${hash}`;
}

async function versionCount(): Promise<number> {
  const res = await fetch(`${inject('mlflowUrl')}/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name='${MODEL}'`)}`);
  return (((await res.json()) as { model_versions?: unknown[] }).model_versions ?? []).length;
}

async function keys(b: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((o) => o.Key!).sort();
}

describe.sequential('promote on the emulator', () => {
  it('a candidate run that did not finish is refused (exit 2) before anything is registered or written; --dry-run says the same', async () => {
    const exp = (await (
      await fetch(`${inject('mlflowUrl')}/api/2.0/mlflow/experiments/get-by-name?experiment_name=promote-${id}`)
    ).json()) as { experiment: { experiment_id: string } };
    const created = await mlflowPost<{ run: { info: { run_id: string } } }>('runs/create', {
      experiment_id: exp.experiment.experiment_id,
      start_time: Date.now(),
    });
    const failed = created.run.info.run_id;
    await mlflowPost('runs/update', { run_id: failed, status: 'FAILED', end_time: Date.now() });
    const [versions, stateKeys, auditKeys] = [await versionCount(), await keys(bucket), await keys(auditBucket)];
    mkdirSync(join(dir, '.mlops'), { recursive: true });
    writeFileSync(join(dir, '.mlops/last-run.json'), JSON.stringify({ runId: failed, status: 'FAILED' }));
    try {
      for (const argv of [['--run', failed], [], ['--run', failed, '--dry-run']]) {
        const r = await promote(...argv, '--json');
        expect(r.code, r.stderr).toBe(2);
        expect(r.json().error).toMatchObject({ code: 'CANDIDATE_NOT_FINISHED', details: { runId: failed, status: 'FAILED' } });
        expect(r.stderr).toMatch(new RegExp(`Run ${failed} .* is FAILED, not FINISHED`));
      }
    } finally {
      rmSync(join(dir, '.mlops/last-run.json'));
    }
    expect(await versionCount()).toBe(versions);
    expect(await keys(bucket)).toEqual(stateKeys);
    expect(await keys(auditBucket)).toEqual(auditKeys);
  });

  it('the first deployment creates the endpoint directly and moves the alias; $GITHUB_OUTPUT gets stage and deployment-id', async () => {
    const outputs = join(dir, 'github-output.txt');
    writeFileSync(outputs, '');
    const r = await runCli(['promote', '--wait', '120s', '--poll', '200ms', '--model-version', '1', '--json'], {
      cwd: dir,
      env: { ...env, GITHUB_OUTPUT: outputs },
    });

    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ outcome: 'done', stage: 'done' });
    expect(readFileSync(outputs, 'utf8')).toBe(`stage=done\ndeployment-id=${r.json().deployment}\n`);
    expect(r.json().steps.join('\n')).toMatch(/CreateEndpoint /);
    expect(r.json().steps.join('\n')).not.toMatch(/UpdateEndpoint/);
    expect(await alias()).toBe('1');
    // The chain's head, quoted on the deployed version in MLflow (outside both buckets).
    expect(await headTag('1')).toBe(await chainHead());
    const again = await promote('--model-version', '1', '--json');
    expect(again.json().outcome).toBe('nothing');
  }, 240_000);

  it('happy path: shadow -> bake on live traffic -> canary -> done', async () => {
    const load = traffic();
    const r = await promote('--model-version', '2', '--json');
    const sent = await load.stop();
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.outcome).toBe('done');
    expect(out.bake.passed).toBe(true);
    expect(out.bake.measured.comparedSamples).toBeGreaterThanOrEqual(10);
    expect(out.bake.measured.outputAgreement).toBe(1);
    expect(out.bake.measured.latencyRatio).toEqual(expect.any(Number));
    expect(out.links.sagemaker).toMatch(
      new RegExp(`^https://[\\w-]+\\.console\\.aws\\.amazon\\.com/sagemaker/home\\?region=[\\w-]+#/endpoints/${EP}$`),
    );
    // Every wait is on stderr (no TTY: plain lines), stdout is the one JSON document.
    expect(r.stderr).toContain(`[promote shadow] endpoint ${EP} Updating, adding v2 as a shadow`);
    expect(r.stderr).toContain(`[promote cutover] endpoint ${EP} Updating, blue/green canary 50%, the rest after 1m 00s`);
    expect(sent).toBeGreaterThan(10);
    expect(await endpointConfig()).toMatch(/-v2-final$/);
    expect(await alias()).toBe('2');
    const status = await runCli(['status', '--json'], { cwd: dir, env });
    expect(status.code).toBe(0);
    expect(status.json().deployment.history.map((h: { stage: string }) => h.stage)).toEqual([
      'package',
      'shadow',
      'bake',
      'cutover',
      'done',
    ]);
    expect(status.json().audit.length).toBeGreaterThan(0);
  }, 240_000);

  it('a promote while another holds the lock exits 4 naming the holder', async () => {
    const store = await s3Store(s3);
    const held = await acquireLock({
      store,
      location: { bucket, prefix: 'locks' },
      endpoint: EP,
      me: { token: 'other', who: 'someone@elsewhere', pid: 7, command: 'promote' },
      expiryMs: 60_000,
      clock: systemClock,
    });
    try {
      for (const argv of [['promote', '--model-version', '3'], ['rollback']]) {
        const r = await runCli(argv, { cwd: dir, env });
        expect(r.code).toBe(4);
        expect(r.stderr).toMatch(/locked by someone@elsewhere pid 7/);
      }
    } finally {
      await held.release();
    }
  });

  it('rollback after done restores the previous config and alias', async () => {
    const r = await runCli(['rollback', '--reason', 'test', '--wait', '120s', '--poll', '200ms', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().performed).toBe(true);
    expect(await endpointConfig()).toMatch(/-v1-final$/);
    expect(await alias()).toBe('1');
    // The rollback's records are anchored on the version it rolled back.
    expect(await headTag('2')).toBe(await chainHead());
  }, 240_000);

  it('a shadow that disagrees with production fails the bake, rolls back by itself, exits 1', async () => {
    const load = traffic();
    const r = await promote('--model-version', '3', '--json');
    await load.stop();
    expect(r.code, r.stderr).toBe(1);
    expect(r.json()).toMatchObject({ outcome: 'rolled-back', stage: 'rolled-back' });
    expect(r.json().bake.reasons.join()).toMatch(/agrees with production/);
    expect(await endpointConfig()).toMatch(/-v1-final$/);
    expect(await alias()).toBe('1');
  }, 240_000);

  it('a shadow slower than production by more than maxLatencyRatio fails the bake on p99 (the default statistic)', async () => {
    // 500 ms more per shadow request: its ModelLatency p99 is far above 2x production's, even
    // when production's own p99 is a slow outlier on a busy machine.
    await admin('POST', 'faults', { endpointName: EP, variantName: 'shadow', latencyMs: 500 });
    writeConfig({ latencyStatistic: null, maxLatencyRatio: 2 });
    const load = traffic();
    const r = await promote('--model-version', '4', '--json');
    await load.stop();
    await admin('DELETE', 'faults');
    writeConfig();
    expect(r.code, r.stderr).toBe(1);
    expect(r.json()).toMatchObject({ outcome: 'rolled-back', stage: 'rolled-back' });
    expect(r.json().bake.reasons).toEqual([expect.stringMatching(/^shadow latency is \d+\.\d\dx production's \(max 2x\)$/)]);
    expect(r.json().bake.measured.latencyRatio).toBeGreaterThan(2);
    expect(await endpointConfig()).toMatch(/-v1-final$/);
  }, 240_000);

  it("a canary whose model fails a share of requests is rolled back by SageMaker on promote's own 5XX alarm; promote exits 1", async () => {
    writeConfig({ cutoverWait: '1800s' });
    const load = traffic();
    // Once the canary is live (the pending config is the final one), the new fleet's model fails
    // half of its requests: the 5XX alarm promote created must fire on that traffic by itself.
    let faulted = false;
    let done = false;
    const reasons = new Set<string>();
    const breaker = (async () => {
      for (let i = 0; i < 3000 && !done; i++) {
        const ep = await sm.send(new DescribeEndpointCommand({ EndpointName: EP })).catch(() => undefined);
        if (ep?.FailureReason) reasons.add(ep.FailureReason);
        if (!faulted && ep?.EndpointStatus === 'Updating' && /-v4-final$/.test(ep.PendingDeploymentSummary?.EndpointConfigName ?? '')) {
          const pending = ep.PendingDeploymentSummary!;
          const variantName = pending.ProductionVariants![0].VariantName!;
          await admin('POST', 'faults', { endpointName: EP, variantName, errorRate: 0.5, endpointConfigName: pending.EndpointConfigName });
          faulted = true;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const r = await promote('--model-version', '4', '--json');
    done = true;
    await breaker;
    await load.stop();
    await admin('DELETE', 'faults');
    writeConfig();
    expect(faulted).toBe(true);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json().outcome).toBe('rolled-back');
    expect(r.stderr).toMatch(/rolled back/);
    const alarms = (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: EP }))).MetricAlarms ?? [];
    const e5xx = alarms.find((a) => /-v4-5xx$/.test(a.AlarmName!))!;
    // The alarm fired on the new fleet's own series (it is back in OK now that the fleet is gone).
    const errors = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: e5xx.Namespace,
        MetricName: e5xx.MetricName,
        Dimensions: e5xx.Dimensions,
        StartTime: new Date(Date.now() - 15 * 60_000),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['Average'],
      }),
    );
    expect(errors.Datapoints?.[0].Average).toBeGreaterThan(e5xx.Threshold!);
    // SageMaker's reason for the rollback (DescribeEndpoint's FailureReason while it rolled back): that alarm.
    expect([...reasons].join('\n')).toContain(e5xx.AlarmName);
    expect(await endpointConfig()).toMatch(/-v1-final$/);
    expect(await alias()).toBe('1');
    const status = await runCli(['status', '--json'], { cwd: dir, env });
    expect(JSON.stringify(status.json().audit)).toMatch(/rolled.back/i);
  }, 240_000);

  it('rollback from the bake, and from a cutover in flight (stopped through its alarm)', async () => {
    // Bake: a long shadow period leaves the deployment baking when promote exits.
    writeConfig({ shadow: '1h' });
    const load = traffic();
    let r = await promote('--model-version', '4', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ outcome: 'advanced', stage: 'bake' });
    let rb = await runCli(['rollback', '--wait', '120s', '--poll', '200ms', '--json'], { cwd: dir, env });
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.json().performed).toBe(true);
    expect(await endpointConfig()).toMatch(/-v1-final$/);

    // Cutover in flight: bake on traffic, then a short bake period and a promote that only starts
    // the (long) canary before it exits.
    r = await promote('--model-version', '4', '--json');
    expect(r.json().stage).toBe('bake');
    await new Promise((res) => setTimeout(res, 5_000)); // traffic for the bake to judge
    writeConfig({ shadow: '0s', cutoverWait: '1800s' });
    r = await runCli(['promote', '--wait', '1s', '--poll', '200ms', '--json'], { cwd: dir, env });
    await load.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().stage, JSON.stringify(r.json())).toBe('cutover');
    expect((await sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointStatus).toBe('Updating');
    rb = await runCli(['rollback', '--wait', '120s', '--poll', '200ms', '--json'], { cwd: dir, env });
    writeConfig();
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.json().performed).toBe(true);
    expect(rb.json().steps.join('\n')).toMatch(/SetAlarmState .*-v4-5xx ALARM/);
    expect(await endpointConfig()).toMatch(/-v1-final$/);
    expect(await alias()).toBe('1');
  }, 300_000);

  it('--dry-run prints the calls a new promotion would make, and changes nothing', async () => {
    const before = await endpointConfig();
    const tag = await headTag('2');
    const r = await runCli(['promote', '--model-version', '2', '--dry-run'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1\. S3 PutObject .*state/);
    expect(r.stdout).toMatch(/SageMaker CreateModel .*-v2-model/);
    expect(r.stdout).toMatch(/SageMaker CreateEndpointConfig .*-v2-shadow/);
    expect(r.stdout).toMatch(/SageMaker UpdateEndpoint .* -> .*-v2-shadow/);
    expect(await endpointConfig()).toBe(before);
    // The plan's chain is in memory: its head is not quoted on the version.
    expect(await headTag('2')).toBe(tag);
  }, 120_000);

  it('audit verify: the chain of everything above is intact; a forged record is detected', async () => {
    const ok = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().records).toBeGreaterThan(15);
    // Every version deployed above carries its tag, and each was checked.
    expect(ok.json()).toMatchObject({ mlflowAnchors: 'checked', anchorsBySource: { mlflow: 4 } });
    const key = `trail/${EP}/000000000003.json`;
    await s3.send(new PutObjectCommand({ Bucket: auditBucket, Key: key, Body: JSON.stringify({ forged: true }) }));
    const bad = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(bad.code).toBe(1);
    expect(bad.json().problems.map((p: { kind: string }) => p.kind)).toContain('broken-link');
  });
});
