/** The S3 store and the endpoint lock against real moto, through the real SDK. */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { systemClock } from '../../src/adapters/clock.js';
import { acquireLock, breakLock } from '../../src/adapters/lock.js';
import { MAX_STORED_JSON_BYTES, s3Store, type ObjectStore } from '../../src/adapters/s3-store.js';
import { ConflictError } from '../../src/core/errors.js';
import { runCli } from '../support/cli.js';
import { motoEnv } from '../support/peers.js';

let client: S3Client;
let store: ObjectStore;
const bucket = `lock-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  client = new S3Client({
    region: 'us-east-1',
    endpoint: inject('motoUrl'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  store = await s3Store(client);
});

describe('s3 store on moto', () => {
  it('If-None-Match: * refuses to overwrite (412), If-Match needs the current ETag', async () => {
    const first = await store.putJson(bucket, 'k.json', { v: 1 }, { ifNoneMatch: '*' });
    expect(first.ok).toBe(true);
    expect(await store.putJson(bucket, 'k.json', { v: 2 }, { ifNoneMatch: '*' })).toEqual({ ok: false, reason: 'precondition-failed' });
    expect(await store.putJson(bucket, 'k.json', { v: 3 }, { ifMatch: '"not-the-etag"' })).toEqual({
      ok: false,
      reason: 'precondition-failed',
    });
    const got = await store.getJson<{ v: number }>(bucket, 'k.json');
    expect(got?.value).toEqual({ v: 1 });
    expect(got?.etag).toBe(first.ok ? first.etag : '');
    const second = await store.putJson(bucket, 'k.json', { v: 4 }, { ifMatch: got!.etag });
    expect(second.ok).toBe(true);
    expect(await store.getJson(bucket, 'missing.json')).toBeUndefined();
    expect(await store.head(bucket, 'missing.json')).toBeUndefined();
    expect(await store.list(bucket, 'k')).toEqual(['k.json']);
  });

  it('a lock, state or audit object larger than mlops writes is refused unread (S3_BAD_JSON), and unlock --force removes such a lock', async () => {
    // Valid JSON, one string: read whole, it would have been accepted (a 10 GB one, read into memory).
    const big = `"${'x'.repeat(MAX_STORED_JSON_BYTES)}"`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'locks/big.lock.json', Body: big }));
    await expect(store.getJson(bucket, 'locks/big.lock.json')).rejects.toMatchObject({
      code: 'S3_BAD_JSON',
      message: expect.stringMatching(/locks\/big\.lock\.json is not JSON mlops wrote: it is \d+ bytes, more than/),
    });
    const lock = { store, location: { bucket, prefix: 'locks' }, endpoint: 'big', clock: systemClock, dryRun: false };
    await expect(
      acquireLock({ ...lock, me: { token: 't', who: 'ana@laptop', pid: 1, command: 'promote' }, expiryMs: 60_000 }),
    ).rejects.toMatchObject({ code: 'LOCK_INVALID' });
    expect(await breakLock({ ...lock, force: true })).toMatchObject({ outcome: 'broken' });
    expect(await store.head(bucket, 'locks/big.lock.json')).toBeUndefined();
  });
});

describe('lock on moto', () => {
  const loc = () => ({ bucket, prefix: 'locks' });
  const me = (token: string, who = 'ana@laptop') => ({ token, who, pid: 1, command: 'promote' });

  it('two promotes at once: one holds it, the other gets exit-4 ConflictError naming the holder', async () => {
    const results = await Promise.allSettled([
      acquireLock({ store, location: loc(), endpoint: 'race', me: me('a', 'ana@laptop'), expiryMs: 60_000, clock: systemClock }),
      acquireLock({ store, location: loc(), endpoint: 'race', me: me('b', 'bob@ci'), expiryMs: 60_000, clock: systemClock }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].reason).toBeInstanceOf(ConflictError);
    const winner = won[0].value;
    expect(lost[0].reason.message).toContain(winner.holder.who);
    await winner.release();
    expect(await store.getJson(bucket, 'locks/race.lock.json')).toBeUndefined();
  });

  it('takes over an expired lock with If-Match; the old holder cannot release it', async () => {
    let t = new Date('2026-01-01T00:00:00Z');
    const now = () => t;
    const a = await acquireLock({ store, location: loc(), endpoint: 'stale', me: me('a'), expiryMs: 1_000, clock: { now } });
    t = new Date('2026-01-01T00:00:05Z');
    const b = await acquireLock({ store, location: loc(), endpoint: 'stale', me: me('b'), expiryMs: 60_000, clock: { now } });
    await a.release();
    expect((await store.getJson<{ token: string }>(bucket, 'locks/stale.lock.json'))?.value.token).toBe('b');
    await b.release();
    expect(await store.getJson(bucket, 'locks/stale.lock.json')).toBeUndefined();
  });
});

describe('mlops unlock and audited takeovers, on moto', () => {
  const EP = `unlock-${randomUUID().slice(0, 8)}`;
  const auditBucket = `unlock-audit-${randomUUID().slice(0, 8)}`;
  const location = () => ({ bucket, prefix: 'locks' });
  let dir: string;
  let env: Record<string, string | undefined>;
  const writeConfig = (expiry = '10m') =>
    writeFileSync(
      join(dir, 'mlops.config.yaml'),
      `version: 1
project: unlock
mlflow: { trackingUri: '${inject('mlflowUrl')}', registeredModel: unlock }
aws: { region: us-east-1, endpoints: { s3: '${inject('motoUrl')}', sagemaker: 'http://127.0.0.1:9', cloudwatch: '${inject('motoUrl')}' } }
deploy:
  endpointName: ${EP}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: img:1
  artifacts: s3://${bucket}/models
  dataCapture: { destination: 's3://${bucket}/capture' }
  state: { uri: 's3://${bucket}/state' }
  lock: { uri: 's3://${bucket}/locks', expiry: ${expiry} }
  audit: { uri: 's3://${auditBucket}/trail', retentionDays: 1 }
`,
    );
  const audit = () => openAuditLog({ store, location: { bucket: auditBucket, prefix: 'trail' }, endpoint: EP, retentionDays: 1 });
  /** A lock left by a holder that took it `agoMs` ago and never renewed it. */
  const deadLock = (agoMs: number, expiryMs = 600_000) =>
    acquireLock({
      store,
      location: location(),
      endpoint: EP,
      me: { token: randomUUID(), who: 'dead@ci', pid: 99, command: 'promote' },
      expiryMs,
      clock: { now: () => new Date(Date.now() - agoMs) },
    });

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: auditBucket, ObjectLockEnabledForBucket: true }));
    dir = mkdtempSync(join(tmpdir(), 'mlops-unlock-'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, USER: 'tester', ...motoEnv(inject('motoUrl')), AWS_ENDPOINT_URL: undefined };
    writeConfig();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a lock renewed within the heartbeat (exit 4) unless --force; breaks a dead one; audits each break', async () => {
    const live = await deadLock(0);
    const refused = await runCli(['unlock', '--json'], { cwd: dir, env });
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.json().error.code).toBe('LOCK_ALIVE');
    expect(refused.stderr).toMatch(/dead@ci pid 99.*looks alive/);
    const forced = await runCli(['unlock', '--force', '--json'], { cwd: dir, env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json()).toMatchObject({ outcome: 'broken', holder: { token: live.holder.token } });

    await deadLock(5 * 60_000);
    const dry = await runCli(['unlock', '--dry-run', '--json'], { cwd: dir, env });
    expect(dry.json()).toMatchObject({ outcome: 'broken', dryRun: true });
    expect(await store.getJson(bucket, `locks/${EP}.lock.json`)).toBeDefined();
    const broke = await runCli(['unlock'], { cwd: dir, env });
    expect(broke.code, broke.stderr).toBe(0);
    expect(broke.stdout).toMatch(/broke the lock s3:\/\/.*held by dead@ci/);
    expect(await store.getJson(bucket, `locks/${EP}.lock.json`)).toBeUndefined();
    expect((await runCli(['unlock', '--json'], { cwd: dir, env })).json()).toMatchObject({ outcome: 'none' });

    const records = await audit().tail(10);
    expect(records.filter((r) => r.action === 'lock.broken').map((r) => [r.kind, r.details?.force])).toEqual([
      ['lock', true],
      ['lock', false],
    ]);
    expect((await audit().verify()).ok).toBe(true);
  });

  it('taking over an expired lock is an audit record naming the previous holder', async () => {
    const old = await deadLock(11 * 60_000);
    // rollback takes the lock (over the expired one) before it finds nothing to roll back.
    const r = await runCli(['rollback', '--json'], { cwd: dir, env });
    expect(r.json().error.code).toBe('NO_DEPLOYMENT');
    const [last] = await audit().tail(1);
    expect(last).toMatchObject({
      kind: 'lock',
      action: 'lock.taken-over',
      details: { command: 'rollback', previous: { token: old.holder.token, who: 'dead@ci' } },
    });
    expect(await store.getJson(bucket, `locks/${EP}.lock.json`)).toBeUndefined();
  });

  it('lock.expiry of 0s is bad config (exit 2) with the allowed range', async () => {
    writeConfig('0s');
    try {
      const r = await runCli(['unlock'], { cwd: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/deploy\.lock\.expiry.*between 30s and 24h/);
    } finally {
      writeConfig();
    }
  });
});
