/**
 * `mlops monitor` over moto's S3 and CloudWatch through the real SDK: capture objects under the
 * SageMaker key layout (only the window's hours and the chosen variant are read), the
 * consecutive-drift count kept in S3, and the drift metrics readable back from CloudWatch.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { motoEnv } from '../support/peers.js';
import { cloudWatchMetrics } from '../../src/adapters/cloudwatch.js';
import { hourPrefixes } from '../../src/adapters/capture-source.js';
import { gaussian, mulberry32 } from '../support/random.js';

const id = randomUUID().slice(0, 8);
const bucket = `monitor-${id}`;
const endpoint = `ep-${id}`;
let dir: string;
let s3: S3Client;
let env: Record<string, string | undefined>;

function rows(n: number, seed: number, shift: number): number[][] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const a = gaussian(u) + shift;
    const b = 3 + gaussian(u);
    return [a, b, a + b > 3 ? 1 : 0];
  });
}

function capture(rs: number[][], hour: string): string {
  return rs
    .map((r, i) =>
      JSON.stringify({
        captureData: {
          endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: `${r[0]},${r[1]}`, encoding: 'CSV' },
          endpointOutput: {
            observedContentType: 'application/json',
            mode: 'OUTPUT',
            data: Buffer.from(JSON.stringify({ predictions: [r[2]] })).toString('base64'),
            encoding: 'BASE64',
          },
        },
        eventMetadata: {
          eventId: randomUUID(),
          inferenceTime: `${hour}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
        },
        eventVersion: '0',
      }),
    )
    .join('\n');
}

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

beforeAll(async () => {
  const motoUrl = inject('motoUrl');
  env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...motoEnv(motoUrl) };
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: motoUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-monitor-s3-'));
  const holdout = rows(2000, 1, 0);
  writeFileSync(path.join(dir, 'holdout.csv'), 'a,b,pred\n' + holdout.map((r) => r.join(',')).join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'mlops.config.yaml'),
    [
      'aws:',
      '  region: us-east-1',
      '  endpoints:',
      `    s3: ${motoUrl}`,
      `    cloudwatch: ${motoUrl}`,
      'monitor:',
      `  endpoint: ${endpoint}`,
      '  variant: AllTraffic',
      `  capture: s3://${bucket}/capture`,
      `  stateUri: s3://${bucket}/state`,
      '  baselineProfile: profile.json',
      '  consecutiveWindows: 2',
      '',
    ].join('\n'),
  );
  const p = await runCli(['profile', 'holdout.csv', '--prediction', 'pred', '--out', 'profile.json'], { cwd: dir, env });
  expect(p.code, p.stderr).toBe(0);
  // Window 10:00-12:00 on 2026-11-26: hours 10 and 11 hold baseline-like traffic, 13 and 14 shifted traffic.
  await put(`capture/${endpoint}/AllTraffic/2026/11/26/10/a.jsonl`, capture(rows(600, 2, 0), '2026-11-26T10'));
  await put(`capture/${endpoint}/AllTraffic/2026/11/26/11/b.jsonl`, capture(rows(600, 3, 0), '2026-11-26T11'));
  await put(`capture/${endpoint}/AllTraffic/2026/11/26/13/c.jsonl`, capture(rows(1500, 4, 1.5), '2026-11-26T13'));
  await put(`capture/${endpoint}/AllTraffic/2026/11/26/14/d.jsonl`, capture(rows(1500, 6, 1.5), '2026-11-26T14'));
  // Another variant in the same hours: never read for AllTraffic.
  await put(`capture/${endpoint}/Shadow/2026/11/26/10/s.jsonl`, capture(rows(600, 5, 5), '2026-11-26T10'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monitor on moto', () => {
  it('lists only the hour prefixes of the window (and the hour before it)', () => {
    expect(hourPrefixes({ from: Date.parse('2026-11-26T10:30:00Z'), to: Date.parse('2026-11-26T12:00:00Z') })).toEqual([
      '2026/11/26/09/',
      '2026/11/26/10/',
      '2026/11/26/11/',
    ]);
  });

  it('baseline-like window: no drift, metrics published, count 0 in S3', async () => {
    const r = await runCli(['monitor', '--from', '2026-11-26T10:00:00Z', '--to', '2026-11-26T12:00:00Z', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const o = r.json();
    expect(o.status).toBe('no-drift');
    expect(o.capture.files).toBe(2);
    expect(o.capture.records).toBe(1200);
    expect(o.metrics.published).toBeGreaterThan(0);
    const st = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `state/${endpoint}/monitor-state.json` }));
    expect(JSON.parse(await st.Body!.transformToString())).toMatchObject({ endpoint, variant: 'AllTraffic', consecutive: 0 });
  });

  it('shifted window: drift, exit 1, count 1 kept in S3, DriftScore readable from CloudWatch', async () => {
    const before = new Date(Date.now() - 5 * 60_000);
    const r = await runCli(['monitor', '--from', '2026-11-26T13:00:00Z', '--to', '2026-11-26T14:00:00Z', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    const o = r.json();
    expect(o.status).toBe('drift');
    expect(o.dataset.driftedInputs).toEqual(['a']);
    expect(o.consecutive).toBe(1);
    expect(o.rollback.due).toBe(false);
    const st = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `state/${endpoint}/monitor-state.json` }));
    expect(JSON.parse(await st.Body!.transformToString())).toMatchObject({ consecutive: 1 });

    const cw = await cloudWatchMetrics(
      new CloudWatchClient({
        region: 'us-east-1',
        endpoint: inject('motoUrl'),
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      }),
    );
    const q = {
      namespace: 'mlops',
      dimensions: { EndpointName: endpoint, VariantName: 'AllTraffic' },
      start: before,
      end: new Date(Date.now() + 5 * 60_000),
      period: 60,
      statistics: ['Maximum' as const],
    };
    const score = await cw.getMetricStatistics({ ...q, metricName: 'DriftScore' });
    expect(Math.max(...score.map((p) => p.maximum ?? 0))).toBeGreaterThanOrEqual(0.5);
    const dataset = await cw.getMetricStatistics({ ...q, metricName: 'DatasetDrift' });
    expect(Math.max(...dataset.map((p) => p.maximum ?? 0))).toBe(1);
    const feature = await cw.getMetricStatistics({ ...q, metricName: 'FeatureDrifted', dimensions: { ...q.dimensions, Feature: 'a' } });
    expect(Math.max(...feature.map((p) => p.maximum ?? 0))).toBe(1);
  });

  it('the second drifting window in a row makes the rollback due (here: --no-rollback, reported)', async () => {
    // The same hour again is not a second window (issue 17): it leaves the count at 1.
    const again = await runCli(['monitor', '--from', '2026-11-26T13:00:00Z', '--to', '2026-11-26T14:00:00Z', '--no-rollback', '--json'], {
      cwd: dir,
      env,
    });
    expect(again.json()).toMatchObject({ consecutive: 1, rollback: { due: false } });
    const r = await runCli(['monitor', '--from', '2026-11-26T14:00:00Z', '--to', '2026-11-26T15:00:00Z', '--no-rollback', '--json'], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ consecutive: 2, rollback: { due: true, performed: false } });
  });

  it("with a deploy section, the window verdict lands in the endpoint's audit chain and audit verify passes", async () => {
    const auditBucket = `monitor-audit-${id}`;
    await s3.send(new CreateBucketCommand({ Bucket: auditBucket, ObjectLockEnabledForBucket: true }));
    const base = readFileSync(path.join(dir, 'mlops.config.yaml'), 'utf8');
    writeFileSync(
      path.join(dir, 'deployed.yaml'),
      `${base}project: mon\ndeploy:
  endpointName: ${endpoint}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: img:1
  artifacts: s3://${bucket}/models
  dataCapture: { destination: 's3://${bucket}/capture' }
  state: { uri: 's3://${bucket}/state' }
  lock: { uri: 's3://${bucket}/locks' }
  audit: { uri: 's3://${auditBucket}/trail', retentionDays: 1 }
`,
    );
    const window = ['--from', '2026-11-26T10:00:00Z', '--to', '2026-11-26T12:00:00Z'];
    const r = await runCli(['monitor', '--config', 'deployed.yaml', ...window, '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('audit trail');
    // This project has no MLflow server: only the chain and the deployment records are checked.
    const verify = await runCli(['audit', 'verify', '--config', 'deployed.yaml', '--no-mlflow-anchors', '--json'], { cwd: dir, env });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ ok: true, records: 1 });
    const rec = await s3.send(new GetObjectCommand({ Bucket: auditBucket, Key: `trail/${endpoint}/000000000001.json` }));
    expect(JSON.parse(await rec.Body!.transformToString())).toMatchObject({
      kind: 'gate',
      action: 'monitor.no-drift',
      endpoint,
      details: {
        variant: 'AllTraffic',
        window: { from: '2026-11-26T10:00:00.000Z', to: '2026-11-26T12:00:00.000Z' },
        verdict: { status: 'no-drift', samples: 1200 },
        rollbackDue: false,
      },
    });
  });

  it('a monitor state in S3 that is not one (null, a wrong shape) is exit 3 with the recovery, never an internal error (issue 17)', async () => {
    const key = `state/${endpoint}/monitor-state.json`;
    const window = ['--from', '2026-11-26T10:00:00Z', '--to', '2026-11-26T12:00:00Z', '--no-publish', '--json'];
    for (const body of [
      'null',
      '{"schema":"mlops.monitor-state/v1","endpoint":"x","variant":"AllTraffic","consecutive":1,"updatedAt":"t","history":7}',
    ]) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const r = await runCli(['monitor', ...window], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error).toMatchObject({ code: 'MONITOR_STATE_INVALID' });
      expect(r.json().error.hint).toContain(`aws s3 rm s3://${bucket}/${key}`);
    }
  });
});
