/**
 * `mlops monitor` end to end on the SageMaker emulator with real traffic: an endpoint serving the
 * promoted model (v1, then v2 through shadow, bake and canary) receives requests drawn from the
 * baseline (no drift), then shifted requests: drift is reported, the endpoint is rolled back to v1
 * by `mlops rollback`'s code path, and the audit trail records it. Capture is written by the
 * emulator in SageMaker's format (CSV with a header in, JSON out) to moto's S3.
 * Then, during a canary, the DriftScore monitor publishes is the metric promote's drift alarm
 * watches; the emulator's CloudWatch front evaluates the alarm on that datapoint (nobody sets it), and
 * the emulator's blue/green deployment rolls back on it.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { readFileSync } from 'node:fs';
import { cloudWatchMetrics } from '../../src/adapters/cloudwatch.js';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../support/cli.js';
import { startDeployBed, startTraffic, type DeployBed } from '../support/deploy-bed.js';
import { runPython } from '../support/python.js';

const id = randomUUID().slice(0, 8);
const EP = `drift-${id}`;
const MODEL = `drift-model-${id}`;
const bucket = `drift-${id}`;
const auditBucket = `drift-audit-${id}`;

let bed: DeployBed;
let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string | undefined>;

let sm: SageMakerClient;
let runtime: SageMakerRuntimeClient;
let cw: CloudWatchClient;

/** Sends CSV requests (with the header MLflow's scoring server needs) until stopped. */
const traffic = (shift: number) => startTraffic({ sm, runtime }, EP, (i) => ({ csv: `a,b\n${(i % 7) + shift},${(i % 5) + shift}\n` }), 30);

/** Runs traffic for `ms` and returns the window [from, to) that holds exactly it (second resolution). */
async function window(shift: number, ms: number): Promise<{ from: string; to: string; sent: number }> {
  const from = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
  await new Promise((r) => setTimeout(r, from.getTime() - Date.now()));
  const load = traffic(shift);
  await new Promise((r) => setTimeout(r, ms));
  const sent = await load.stop();
  const to = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
  // Let the capture flush and the next window start in a later second.
  await new Promise((r) => setTimeout(r, Math.max(1500, to.getTime() - Date.now() + 500)));
  return { from: from.toISOString(), to: to.toISOString(), sent };
}

async function endpointConfig(): Promise<string> {
  return (await sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointConfigName!;
}

const promote = (...args: string[]) => runCli(['promote', '--wait', '120s', '--poll', '200ms', ...args], { cwd: dir, env });

beforeAll(async () => {
  const motoUrl = inject('motoUrl');
  bed = await startDeployBed({ motoUrl, bucket, auditBucket, dirPrefix: 'mlops-monitor-emu-' });
  ({ emulator, cw, sm, runtime, dir, env } = bed);
  await runPython(
    `
import mlflow, mlflow.sklearn, numpy as np
from sklearn.linear_model import LinearRegression
mlflow.set_experiment("drift-${id}")
x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
for _ in range(3):
    with mlflow.start_run():
        mlflow.sklearn.log_model(LinearRegression().fit(x, 2 * x[:, 0] + 3 * x[:, 1] + 1), name="model", registered_model_name="${MODEL}")
`,
    { MLFLOW_TRACKING_URI: inject('mlflowUrl') },
    { timeoutMs: 180_000 },
  );
  // The holdout the model was trained for: a in 0..6, b in 0..4, prediction 2a + 3b + 1.
  const holdout = Array.from({ length: 700 }, (_, i) => `${i % 7},${i % 5},${2 * (i % 7) + 3 * (i % 5) + 1}`);
  writeFileSync(join(dir, 'holdout.csv'), 'a,b,pred\n' + holdout.join('\n') + '\n');
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
    s3: ${motoUrl}
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
    duration: 6s
  bake:
    latencyStatistic: average
    maxLatencyRatio: 20
    minComparedSamples: 10
  cutover:
    type: all-at-once
  terminationWait: 0s
  maxExecutionTimeout: 2h
  state:
    uri: s3://${bucket}/state
  lock:
    uri: s3://${bucket}/locks
  audit:
    uri: s3://${auditBucket}/trail
    retentionDays: 1
monitor:
  baselineProfile: profile.json
  minSamples: 20
  consecutiveWindows: 1
`,
  );
  const p = await runCli(['profile', 'holdout.csv', '--prediction', 'pred', '--out', 'profile.json'], { cwd: dir, env });
  expect(p.code, p.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await bed?.stop();
});

describe.sequential('monitor on the emulator', () => {
  it('deploys v1, then promotes v2 through shadow and bake', async () => {
    const first = await promote('--model-version', '1', '--json');
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const load = traffic(0);
    const second = await promote('--model-version', '2', '--json');
    await load.stop();
    expect(second.code, second.stderr).toBe(0);
    expect(second.json().outcome).toBe('done');
    expect(await endpointConfig()).toMatch(/-v2-final$/);
  }, 300_000);

  it('baseline-like traffic: no drift, exit 0, nothing rolled back', async () => {
    const w = await window(0, 4000);
    expect(w.sent).toBeGreaterThanOrEqual(20);
    const r = await runCli(['monitor', '--from', w.from, '--to', w.to, '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const o = r.json();
    expect(o.status).toBe('no-drift');
    expect(o.capture.records).toBe(w.sent);
    expect(o.features.find((f: { name: string }) => f.name === 'pred').liveCount).toBe(w.sent);
    expect(o.rollback.performed).toBe(false);
    expect(await endpointConfig()).toMatch(/-v2-final$/);
  }, 120_000);

  it('shifted traffic: drift reported, the endpoint rolled back to v1, the rollback audited', async () => {
    const w = await window(6, 4000);
    const r = await runCli(['monitor', '--from', w.from, '--to', w.to, '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    const o = r.json();
    expect(o.status).toBe('drift');
    expect(o.dataset.driftedInputs).toEqual(['a', 'b']);
    expect(o.dataset.outputDrifted).toEqual(['pred']);
    expect(o.rollback).toMatchObject({ due: true, performed: true });
    expect(o.consecutive).toBe(0);
    expect(await endpointConfig()).toMatch(/-v1-final$/);
    const status = await runCli(['status', '--json'], { cwd: dir, env });
    expect(JSON.stringify(status.json().audit)).toMatch(/drift in 1 consecutive windows/);
  }, 180_000);

  it("during a canary, the DriftScore monitor publishes feeds promote's drift alarm; the alarm rolls the canary back", async () => {
    const cfg = join(dir, 'mlops.config.yaml');
    const original = readFileSync(cfg, 'utf8');
    writeFileSync(
      cfg,
      original
        .replace('  cutover:\n    type: all-at-once', '  cutover:\n    type: canary\n    size: 50\n    wait: 3600s')
        .replace('maxExecutionTimeout: 2h', 'maxExecutionTimeout: 8h'),
    );
    try {
      const load = traffic(0);
      let checked: { datapoint: number; threshold: number } | undefined;
      let monitorCode: number | undefined;
      let statusAfterMonitor: string | undefined;
      let done = false;
      const reasons = new Set<string>();
      const watcher = (async () => {
        for (let i = 0; i < 3000 && !done; i++) {
          const alarms = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: EP }));
          const drift = (alarms.MetricAlarms ?? []).find((a) => /-v3-drift$/.test(a.AlarmName!));
          const ep = await sm.send(new DescribeEndpointCommand({ EndpointName: EP })).catch(() => undefined);
          if (ep?.FailureReason) reasons.add(ep.FailureReason);
          if (!checked && drift && ep?.EndpointStatus === 'Updating') {
            // The canary is live: shifted traffic, then a monitor window (reporting only: promote holds the lock).
            const w = await window(6, 3000);
            const m = await runCli(['monitor', '--from', w.from, '--to', w.to, '--no-rollback', '--json'], { cwd: dir, env });
            monitorCode = m.code;
            statusAfterMonitor = (await sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointStatus;
            const metrics = await cloudWatchMetrics(cw);
            const points = await metrics.getMetricStatistics({
              namespace: drift.Namespace!,
              metricName: drift.MetricName!,
              dimensions: Object.fromEntries((drift.Dimensions ?? []).map((d) => [d.Name!, d.Value!])),
              start: new Date(Date.now() - 10 * 60_000),
              end: new Date(Date.now() + 60_000),
              period: 60,
              statistics: [drift.Statistic as 'Maximum'],
            });
            checked = { datapoint: Math.max(...points.map((p) => p.maximum ?? 0)), threshold: drift.Threshold! };
            // Nobody sets the alarm: the emulator's CloudWatch evaluation fires it on that datapoint.
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const r = await promote('--model-version', '3', '--json');
      done = true;
      await watcher;
      // The watcher is blocked while the monitor runs; if promote ended meanwhile, the reason is still
      // on the endpoint (SageMaker keeps FailureReason after an automatic rollback).
      const after = await sm.send(new DescribeEndpointCommand({ EndpointName: EP }));
      if (after.FailureReason) reasons.add(after.FailureReason);
      await load.stop();
      expect(monitorCode).toBe(1);
      expect(checked).toBeDefined();
      expect(checked!.datapoint).toBeGreaterThan(checked!.threshold);
      // The canary was live (Updating) when the monitor started; by the time monitor returns, the alarm may already
      // have fired on its datapoint (the emulated CloudWatch evaluates on its own clock), so RollingBack is fine too.
      // Not fine: the canary finished (InService on v3) before the drift reached CloudWatch.
      expect(['Updating', 'RollingBack'], 'the canary must still be on when the drift is published').toContain(statusAfterMonitor);
      expect(r.code, r.stderr).toBe(1);
      expect(r.json().outcome).toBe('rolled-back');
      const alarmsAfter = (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: EP }))).MetricAlarms ?? [];
      const drift = alarmsAfter.find((a) => /-v3-drift$/.test(a.AlarmName!))!;
      // SageMaker's reason for the rollback (FailureReason while it rolled back): the drift alarm.
      expect([...reasons].join('\n')).toContain(drift.AlarmName);
      expect(await endpointConfig()).toMatch(/-v1-final$/);
    } finally {
      writeFileSync(cfg, original);
    }
  }, 300_000);
});
