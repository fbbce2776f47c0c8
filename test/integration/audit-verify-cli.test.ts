/**
 * `mlops audit verify` as a user runs it, on moto: exit 0 with the anchors it checked, exit 1 and
 * the problem kinds in --json when a record was deleted, exit 3 when the audit bucket keeps no
 * versions.
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
let s3: S3Client;
let dir: string;
let env: Record<string, string | undefined>;

const config = (auditBucket: string) => `project: verify
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

  const store = await s3Store(s3);
  const log = openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint, retentionDays: 1 });
  let last = { seq: 0, hash: '' };
  for (const action of ['deployment.started', 'bake.passed', 'stage.done'])
    last = await log.append({ kind: 'stage', action, actor: 'ana@laptop' });
  await store.putJson(state, `state/${endpoint}/deployments/d1.json`, { id: 'd1', auditHead: { seq: last.seq, hash: last.hash } });
});

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
      anchors: 1,
      head: { seq: 3 },
      problems: [],
      location: `s3://${locked}/trail/${endpoint}/`,
    });
  });

  it('exit 1 when a record was deleted (a delete marker), with the problem in --json and on stderr', async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: locked, Key: `trail/${endpoint}/000000000003.json` }));
    const r = await runCli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, records: 3, anchors: 1, problems: [{ kind: 'deleted', seq: 3 }] });
    expect(r.stderr).toMatch(/deleted: trail\/.*000000000003\.json is deleted/);
  });

  it('exit 3 with the reason when the audit bucket has no versioning', async () => {
    const r = await runCli(['audit', 'verify', '--config', 'unversioned.yaml', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`s3://${unversioned} has versioning off`));
  });
});
