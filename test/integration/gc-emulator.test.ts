/**
 * `mlops gc` on the emulator and moto: five finished deployments' models, endpoint configs, alarms
 * and archives exist; with retain 2, the dry run lists what would go and deletes nothing, the real
 * run deletes only the old deployments' resources that nothing kept refers to, audits it, and a
 * second run has nothing left to do.
 */
import { DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
} from '@aws-sdk/client-sagemaker';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { s3Store } from '../../src/adapters/s3-store.js';
import { advance, newDeployment, type DeploymentRecord } from '../../src/core/deployment.js';
import { DeploymentStore } from '../../src/core/deployment-store.js';
import { runCli } from '../support/cli.js';
import { startDeployBed, type DeployBed } from '../support/deploy-bed.js';

const id = randomUUID().slice(0, 6);
const EP = `gc-${id}`;
const bucket = `gc-${id}`;
const auditBucket = `gc-audit-${id}`;
let bed: DeployBed;
const records: DeploymentRecord[] = [];

const exists = {
  model: (n: string) =>
    bed.sm.send(new DescribeModelCommand({ ModelName: n })).then(
      () => true,
      () => false,
    ),
  config: (n: string) =>
    bed.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: n })).then(
      () => true,
      () => false,
    ),
  alarm: async (n: string) => ((await bed.cw.send(new DescribeAlarmsCommand({ AlarmNames: [n] }))).MetricAlarms ?? []).length === 1,
  object: (uri: string) => {
    const [, b, k] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    return bed.s3.send(new HeadObjectCommand({ Bucket: b, Key: k })).then(
      () => true,
      () => false,
    );
  },
};

beforeAll(async () => {
  bed = await startDeployBed({ motoUrl: inject('motoUrl'), bucket, auditBucket, dirPrefix: 'mlops-gc-' });
  const states = new DeploymentStore(await s3Store(bed.s3), bucket, 'state', EP);
  for (let i = 0; i < 5; i++) {
    const before = records.at(-1);
    const r = newDeployment({
      endpoint: EP,
      candidate: { registeredModel: 'm', version: String(i + 1) },
      previous: before ? { endpointConfig: before.names.finalConfig, model: before.names.model } : undefined,
      artifactPrefix: `s3://${bucket}/models`,
      now: new Date(Date.UTC(2026, 10, 30, 9, i)),
    });
    const done = advance({ ...r, artifactUploaded: true, modelCreated: true }, 'done', new Date(Date.UTC(2026, 10, 30, 9, i, 30)));
    records.push(done);
    await states.save(done);
    const [, key] = /^s3:\/\/[^/]+\/(.+)$/.exec(done.artifact)!;
    await bed.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'archive' }));
    await bed.sm.send(
      new CreateModelCommand({
        ModelName: done.names.model,
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/deploy',
        PrimaryContainer: { Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:latest', ModelDataUrl: done.artifact },
      }),
    );
    for (const c of [done.names.shadowConfig, done.names.finalConfig, done.names.restoreConfig!]) {
      await bed.sm.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: c,
          ProductionVariants: [{ VariantName: 'main', ModelName: done.names.model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }],
        }),
      );
    }
    for (const a of done.names.alarms) {
      await bed.cw.send(
        new PutMetricAlarmCommand({
          AlarmName: a,
          Namespace: 'AWS/SageMaker',
          MetricName: 'Invocation5XXErrors',
          Dimensions: [{ Name: 'EndpointName', Value: EP }],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      );
    }
  }
  await states.setCurrent(records[4].id);
  writeFileSync(
    join(bed.dir, 'mlops.config.yaml'),
    `version: 1
project: gc
mlflow:
  trackingUri: ${inject('mlflowUrl')}
  registeredModel: m
aws:
  region: us-east-1
  endpoints:
    sagemaker: ${bed.emulator.url}
    s3: ${inject('motoUrl')}
    cloudwatch: ${bed.emulator.cloudWatchUrl}
deploy:
  endpointName: ${EP}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:latest
  instanceType: ml.m5.large
  artifacts: s3://${bucket}/models
  retain: 2
  dataCapture:
    destination: s3://${bucket}/capture
  state:
    uri: s3://${bucket}/state
  lock:
    uri: s3://${bucket}/locks
  audit:
    uri: s3://${auditBucket}/trail
    retentionDays: 1
`,
  );
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

describe.sequential('mlops gc', () => {
  it('--dry-run lists the resources of deployments older than retain, minus the rollback target, and deletes nothing', async () => {
    const r = await runCli(['gc', '--dry-run', '--json'], { cwd: bed.dir, env: bed.env });
    expect(r.code, r.stderr).toBe(0);
    const o = r.json();
    expect(o.kept.map((k: { deployment: string }) => k.deployment)).toEqual([records[4].id, records[3].id]);
    const pending = new Set<string>(o.pending.map((x: { name: string }) => x.name));
    for (const old of [records[0], records[1]]) {
      for (const n of [old.names.model, old.names.shadowConfig, old.names.finalConfig, ...old.names.alarms, old.artifact])
        expect(pending.has(n), n).toBe(true);
    }
    // records[3] (kept) rolls back to records[2]'s final config and model: they and the archive stay.
    for (const n of [records[2].names.finalConfig, records[2].names.model, records[2].artifact]) expect(pending.has(n), n).toBe(false);
    expect(pending.has(records[2].names.shadowConfig)).toBe(true);
    expect(await exists.model(records[0].names.model)).toBe(true);
    expect(await exists.alarm(records[0].names.alarms[0])).toBe(true);
  }, 60_000);

  it('deletes them for real, keeps everything in use, audits it; a second run finds nothing', async () => {
    const r = await runCli(['gc', '--json'], { cwd: bed.dir, env: bed.env });
    expect(r.json().pending, r.stdout).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    for (const old of [records[0], records[1]]) {
      expect(await exists.model(old.names.model)).toBe(false);
      expect(await exists.config(old.names.finalConfig)).toBe(false);
      expect(await exists.config(old.names.shadowConfig)).toBe(false);
      expect(await exists.alarm(old.names.alarms[2])).toBe(false);
      expect(await exists.object(old.artifact)).toBe(false);
    }
    expect(await exists.config(records[2].names.shadowConfig)).toBe(false);
    expect(await exists.config(records[2].names.finalConfig)).toBe(true);
    expect(await exists.model(records[2].names.model)).toBe(true);
    expect(await exists.object(records[2].artifact)).toBe(true);
    for (const kept of [records[3], records[4]]) {
      expect(await exists.model(kept.names.model)).toBe(true);
      expect(await exists.config(kept.names.shadowConfig)).toBe(true);
      expect(await exists.alarm(kept.names.alarms[0])).toBe(true);
    }
    const status = await runCli(['status', '--json'], { cwd: bed.dir, env: bed.env });
    expect(JSON.stringify(status.json().audit)).toContain('gc.deleted');
    const verify = await runCli(['audit', 'verify', '--json'], { cwd: bed.dir, env: bed.env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const again = await runCli(['gc', '--json'], { cwd: bed.dir, env: bed.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().deleted).toEqual([]);
    expect(again.json().pending).toEqual([]);
  }, 60_000);

  it('--retain 0 is refused with the allowed range (exit 2)', async () => {
    const r = await runCli(['gc', '--retain', '0'], { cwd: bed.dir, env: bed.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--retain must be a whole number of at least 1/);
  });
});
