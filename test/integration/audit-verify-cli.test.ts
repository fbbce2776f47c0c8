/**
 * `mlops audit verify` as a user runs it, on moto and the real MLflow server: exit 0 with the
 * anchors it checked (deployment records and MLflow model version tags, counted per source), exit
 * 1 when a deployed model version lacks its tag, exit 3 when MLflow cannot be read (unless
 * --no-mlflow-anchors), exit 1 and the problem kinds in --json when a record was deleted, exit 3
 * when the audit bucket keeps no versions.
 */
import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { motoEnv } from '../support/peers.js';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { s3Store } from '../../src/adapters/s3-store.js';

const id = randomUUID().slice(0, 8);
const state = `verify-state-${id}`;
const locked = `verify-audit-${id}`;
const unversioned = `verify-unversioned-${id}`;
const endpoint = `ep-${id}`;
const model = `verify-model-${id}`;
const tagKey = `mlops.audit.head.${endpoint}`;
let s3: S3Client;
let dir: string;
let env: Record<string, string | undefined>;

const config = (auditBucket: string, trackingUri = inject('mlflowUrl')) => `project: verify
mlflow: { trackingUri: '${trackingUri}', registeredModel: ${model}, retries: 0 }
aws:
  region: us-east-1
  endpoints: { s3: ${inject('motoUrl')} }
deploy:
  endpointName: ${endpoint}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: img:1
  artifacts: s3://${state}/models
  dataCapture: { destination: 's3://${state}/capture' }
  state: { uri: 's3://${state}/state' }
  lock: { uri: 's3://${state}/locks' }
  audit: { uri: 's3://${auditBucket}/trail', retentionDays: 1 }
`;

beforeAll(async () => {
  const motoUrl = inject('motoUrl');
  env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...motoEnv(motoUrl) };
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: motoUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: state }));
  await s3.send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }));
  await s3.send(new CreateBucketCommand({ Bucket: unversioned }));
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-audit-verify-'));
  writeFileSync(path.join(dir, 'mlops.config.yaml'), config(locked));
  writeFileSync(path.join(dir, 'unversioned.yaml'), config(unversioned));
  // Nothing listens on port 9 (discard): MLflow is unreachable.
  writeFileSync(path.join(dir, 'no-mlflow.yaml'), config(locked, 'http://127.0.0.1:9'));

  const store = await s3Store(s3);
  const log = openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint, retentionDays: 1 });
  let last = { seq: 0, hash: '' };
  // What promote appends: its deployment.started names the candidate and the tag that quotes the head.
  const candidate = { registeredModel: model, version: '1' };
  await log.append({ kind: 'stage', action: 'deployment.started', actor: 'ana@laptop', details: { candidate, headTag: tagKey } });
  for (const action of ['bake.passed', 'stage.done']) last = await log.append({ kind: 'stage', action, actor: 'ana@laptop' });
  await store.putJson(state, `state/${endpoint}/deployments/d1.json`, {
    id: 'd1',
    candidate: { registeredModel: model, version: '1' },
    auditHead: { seq: last.seq, hash: last.hash },
  });
  // Version 1 was deployed by that promote, which tagged it with the head; version 2 never was.
  await mlflowPost('registered-models/create', { name: model });
  for (const _ of [1, 2]) await mlflowPost('model-versions/create', { name: model, source: `s3://${state}/models/m` });
  await mlflowPost('model-versions/set-tag', { name: model, version: '1', key: tagKey, value: `${last.seq}:${last.hash}` });
});

async function mlflowPost(api: string, body: object): Promise<void> {
  const res = await fetch(`${inject('mlflowUrl')}/api/2.0/mlflow/${api}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.ok, await res.text()).toBe(true);
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('mlops audit verify', () => {
  it('exit 0 on an intact chain, naming the anchors it checked', async () => {
    const r = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      ok: true,
      records: 3,
      anchors: 2,
      anchorsBySource: { 'deployment-record': 1, mlflow: 1 },
      mlflowAnchors: 'checked',
      checkedAnchors: [
        { source: `s3://${state}/state/${endpoint}/deployments/d1.json`, seq: 3 },
        { source: `mlflow:models:/${model}/1`, seq: 3 },
      ],
      head: { seq: 3 },
      problems: [],
      location: `s3://${locked}/trail/${endpoint}/`,
    });
    expect(r.stderr).toMatch(/2 anchor\(s\) checked: 1 deployment record\(s\), 1 MLflow model version\(s\)/);
  });

  it('exit 1 when a version the chain deployed carries no head tag; 0 once it does', async () => {
    const store = await s3Store(s3);
    const log = openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint, retentionDays: 1 });
    const candidate = { registeredModel: model, version: '2' };
    const head = await log.append({
      kind: 'stage',
      action: 'deployment.started',
      actor: 'ana@laptop',
      details: { candidate, headTag: tagKey },
    });
    await store.putJson(state, `state/${endpoint}/deployments/d2.json`, {
      id: 'd2',
      candidate,
      auditHead: { seq: head.seq, hash: head.hash },
    });
    const r = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.json().problems).toEqual([
      {
        kind: 'anchor-missing',
        message: `mlflow:models:/${model}/2 was deployed to ${endpoint} but carries no ${tagKey} tag`,
      },
    ]);
    expect(r.stderr).toContain(`anchor-missing: mlflow:models:/${model}/2 was deployed`);

    await mlflowPost('model-versions/set-tag', {
      name: model,
      version: '2',
      key: tagKey,
      value: `${head.seq}:${head.hash}`,
    });
    const fixed = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.json().anchorsBySource).toEqual({ 'deployment-record': 2, mlflow: 2 });
  });

  it('exit 3 when MLflow cannot be read (fail closed); --no-mlflow-anchors checks the rest and says the MLflow anchors were not', async () => {
    const r = await runCli(['audit', 'verify', '--config', 'no-mlflow.yaml', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'AUDIT_ANCHORS_UNREADABLE' });
    expect(r.stderr).toMatch(/Cannot read the audit anchors on the MLflow model versions: Cannot reach MLflow at http:\/\/127\.0\.0\.1:9/);
    expect(r.stderr).toContain('--no-mlflow-anchors');

    const skipped = await runCli(['audit', 'verify', '--config', 'no-mlflow.yaml', '--no-mlflow-anchors', '--json'], { cwd: dir, env });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.json()).toMatchObject({
      ok: true,
      mlflowAnchors: 'not-checked',
      anchorsBySource: { 'deployment-record': 2, mlflow: 0 },
    });
    expect(skipped.stderr).toMatch(/MLflow anchors were not checked \(--no-mlflow-anchors\)/);
    expect(skipped.stderr).toMatch(/2 deployment record\(s\), MLflow model versions not checked/);
  });

  it('exit 1 when a record was deleted (a delete marker), with the problem in --json and on stderr', async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: locked, Key: `trail/${endpoint}/000000000003.json` }));
    const r = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, records: 4, anchors: 4, problems: [{ kind: 'deleted', seq: 3 }] });
    expect(r.stderr).toMatch(/deleted: trail\/.*000000000003\.json is deleted/);
  });

  it('exit 3 with the reason when the audit bucket has no versioning', async () => {
    const r = await runCli(['audit', 'verify', '--config', 'unversioned.yaml', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`s3://${unversioned} has versioning off`));
  });
});
