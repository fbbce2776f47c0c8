/**
 * The audit trail against real moto: records under Object Lock COMPLIANCE retention, the chain
 * verified, and tampering detected.
 *
 * Tampering: under COMPLIANCE retention a locked version can be neither deleted nor overwritten
 * in place, but a versioned bucket accepts a *new version* on top of it, and a plain GET reads the
 * newest version. That is the realistic attack (and what moto allows), so the test writes a forged
 * new version and checks that `verify` reports it. A second bucket without Object Lock shows a
 * record rewritten with a recomputed hash being caught by the next record's prevHash.
 */
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { s3Store, type ObjectStore } from '../../src/adapters/s3-store.js';
import { canonicalJson, sha256Hex, type AuditRecord } from '../../src/core/audit.js';

let client: S3Client;
let store: ObjectStore;
const locked = `audit-${randomUUID().slice(0, 8)}`;
const plain = `audit-plain-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  client = new S3Client({
    region: 'us-east-1',
    endpoint: inject('motoUrl'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await client.send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }));
  await client.send(new CreateBucketCommand({ Bucket: plain }));
  store = await s3Store(client);
});

const ev = (action: string) => ({ kind: 'stage' as const, action, actor: 'ana@laptop', details: { deployment: 'd1' } });

describe('audit trail on moto', () => {
  it('appends records under COMPLIANCE retention that cannot be deleted, and verifies the chain', async () => {
    const log = openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint: 'ep1', retentionDays: 30 });
    await log.append(ev('package.done'));
    await log.append(ev('shadow.started'));
    await Promise.all([log.append(ev('concurrent.a')), log.append(ev('concurrent.b'))]);
    expect(await log.verify()).toMatchObject({ ok: true, records: 4, head: { seq: 4 } });

    const head = await store.head(locked, 'trail/ep1/000000000001.json');
    expect(head?.lockMode).toBe('COMPLIANCE');
    expect(head!.retainUntil!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const del = await client
      .send(new DeleteObjectCommand({ Bucket: locked, Key: 'trail/ep1/000000000001.json', VersionId: head!.versionId }))
      .then(
        () => 'deleted',
        (e: Error) => e.name,
      );
    expect(del).not.toBe('deleted');
  });

  it('detects a forged new version of a locked record', async () => {
    const log = openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint: 'ep2', retentionDays: 1 });
    for (const a of ['a', 'b', 'c']) await log.append(ev(a));
    const key = 'trail/ep2/000000000002.json';
    const original = (await store.getJson<AuditRecord>(locked, key))!.value;
    const forged = { ...original, action: 'bake.passed' };
    await client.send(new PutObjectCommand({ Bucket: locked, Key: key, Body: JSON.stringify(forged), ContentType: 'application/json' }));
    const report = await log.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toEqual(['altered', 'broken-link']);
  });

  it('detects a rewritten record with a recomputed hash, and a deleted one (bucket without Object Lock)', async () => {
    const log = openAuditLog({ store, location: { bucket: plain, prefix: '' }, endpoint: 'ep3', retentionDays: 1 });
    // A bucket without Object Lock rejects retention headers: write the chain by hand instead.
    const raw = openAuditLog({
      store: { ...store, putJson: (b, k, v, o) => store.putJson(b, k, v, { ...o, retention: undefined }) },
      location: { bucket: plain, prefix: '' },
      endpoint: 'ep3',
      retentionDays: 1,
    });
    for (const a of ['a', 'b', 'c', 'd']) await raw.append(ev(a));
    expect((await log.verify()).ok).toBe(true);

    const key = 'ep3/000000000002.json';
    const rec = (await store.getJson<AuditRecord>(plain, key))!.value;
    const { hash: _old, ...body } = { ...rec, details: { deployment: 'forged' } };
    await store.putJson(plain, key, { ...body, hash: await sha256Hex(canonicalJson(body)) });
    let report = await log.verify();
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'broken-link', seq: 3 })]);

    await client.send(new DeleteObjectCommand({ Bucket: plain, Key: 'ep3/000000000003.json' }));
    report = await log.verify();
    expect(report.problems.map((p) => p.kind)).toContain('gap');
  });
});
