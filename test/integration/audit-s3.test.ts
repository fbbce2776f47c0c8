/**
 * The audit trail against real moto: records under Object Lock COMPLIANCE retention, the chain
 * verified from the bucket's whole version history, and tampering detected.
 *
 * Tampering: under COMPLIANCE retention a locked version can be neither deleted nor overwritten
 * in place, but a versioned bucket accepts a *new version* on top of it, and a delete without a
 * version id leaves a *delete marker* over it; a plain GET then reads the new version or nothing.
 * Both are what moto (and S3) allow, so the tests do both and check that `verify` reports them
 * and that an append never takes a deleted key. A versioned bucket without Object Lock shows what
 * an attacker with write access can do there (remove versions for good, rewrite the tail with
 * recomputed hashes) being caught by the head anchored in a deployment record, and, when the
 * attacker rewrites the deployment records' anchors too, by the head tagged on the MLflow model
 * version (the real MLflow server).
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { deploymentAnchors, openAuditLog, registryAnchors } from '../../src/adapters/audit-log.js';
import { createMlflowClient } from '../../src/adapters/mlflow.js';
import { registryOver } from '../../src/app/deploy.js';
import { listVersionsAll, s3Store, type ObjectStore } from '../../src/adapters/s3-store.js';
import { auditHeadTagKey, auditHeadTagValue, canonicalJson, sealRecord, sha256Hex, type AuditRecord } from '../../src/core/audit.js';

let client: S3Client;
let store: ObjectStore;
const locked = `audit-${randomUUID().slice(0, 8)}`;
const plain = `audit-plain-${randomUUID().slice(0, 8)}`;
const unversioned = `audit-unversioned-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  client = new S3Client({
    region: 'us-east-1',
    endpoint: inject('motoUrl'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await client.send(new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }));
  await client.send(new CreateBucketCommand({ Bucket: plain }));
  await client.send(new PutBucketVersioningCommand({ Bucket: plain, VersioningConfiguration: { Status: 'Enabled' } }));
  await client.send(new CreateBucketCommand({ Bucket: unversioned }));
  store = await s3Store(client);
});

const ev = (action: string) => ({ kind: 'stage' as const, action, actor: 'ana@laptop', details: { deployment: 'd1' } });
const kinds = (r: { problems: { kind: string }[] }) => r.problems.map((p) => p.kind);
/** A log that writes without retention headers: a bucket without Object Lock rejects them. */
const unlockedLog = (bucket: string, endpoint: string) =>
  openAuditLog({
    store: { ...store, putJson: (b, k, v, o) => store.putJson(b, k, v, { ...o, retention: undefined }) },
    location: { bucket, prefix: '' },
    endpoint,
    retentionDays: 1,
  });
/** Every version and delete marker of one key, as S3 lists them. */
async function history(bucket: string, key: string) {
  const out = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return {
    versions: (out.Versions ?? []).filter((v) => v.Key === key).map((v) => v.VersionId!),
    markers: (out.DeleteMarkers ?? []).filter((v) => v.Key === key).length,
  };
}

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
    // The forged version was written without retention, on top of the locked original.
    expect(kinds(report)).toEqual(['overwritten', 'altered', 'broken-link', 'retention-missing']);
    expect(report.problems[0].message).toMatch(/000000000002\.json has 2 versions/);
  });

  it('detects a rewritten record with a recomputed hash, and a deleted one (versioned bucket without Object Lock)', async () => {
    const log = unlockedLog(plain, 'ep3');
    for (const a of ['a', 'b', 'c', 'd']) await log.append(ev(a));
    // Without Object Lock no record carries retention; everything else is intact.
    let report = await log.verify();
    expect(kinds(report)).toEqual(Array(4).fill('retention-missing'));

    const key = 'ep3/000000000002.json';
    const rec = (await store.getJson<AuditRecord>(plain, key))!.value;
    const { hash: _old, ...body } = { ...rec, details: { deployment: 'forged' } };
    await store.putJson(plain, key, { ...body, hash: await sha256Hex(canonicalJson(body)) });
    report = await log.verify();
    const tampering = (r: typeof report) => r.problems.filter((p) => !p.kind.startsWith('retention'));
    expect(tampering(report)).toEqual([
      expect.objectContaining({ kind: 'overwritten', seq: 2 }),
      expect.objectContaining({ kind: 'broken-link', seq: 3 }),
    ]);

    await client.send(new DeleteObjectCommand({ Bucket: plain, Key: 'ep3/000000000003.json' }));
    report = await log.verify();
    expect(tampering(report).map((p) => [p.kind, p.seq])).toEqual([
      ['overwritten', 2],
      ['deleted', 3],
      ['broken-link', 3],
    ]);
  });

  it('deleting the last records leaves delete markers: verify reports them, and the next append takes a new key', async () => {
    const log = () => openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint: 'ep4', retentionDays: 1 });
    for (const a of ['a', 'b', 'c', 'd']) await log().append(ev(a));
    // Under COMPLIANCE retention a delete without a version id is still accepted: it adds a marker.
    for (const seq of [4, 3]) await client.send(new DeleteObjectCommand({ Bucket: locked, Key: `trail/ep4/00000000000${seq}.json` }));
    expect(await store.getJson(locked, 'trail/ep4/000000000004.json')).toBeUndefined();

    const next = await log().append(ev('e'));
    expect(next.seq).toBe(5);
    expect(await history(locked, 'trail/ep4/000000000004.json')).toMatchObject({ markers: 1, versions: [expect.any(String)] });
    expect(await history(locked, 'trail/ep4/000000000003.json')).toMatchObject({ markers: 1, versions: [expect.any(String)] });

    const report = await log().verify();
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([
      ['deleted', 3],
      ['deleted', 4],
    ]);
    expect(report.head).toEqual({ seq: 5, hash: next.hash });
  });

  it('reports records retained for less than configured', async () => {
    const short = openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint: 'ep6', retentionDays: 1 });
    await short.append(ev('a'));
    await short.append(ev('b'));
    const configured = openAuditLog({ store, location: { bucket: locked, prefix: 'trail' }, endpoint: 'ep6', retentionDays: 30 });
    const report = await configured.verify();
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([
      ['retention-short', 1],
      ['retention-short', 2],
    ]);
  });

  it('a tail rewritten with recomputed hashes is caught by the head anchored in a deployment record', async () => {
    const log = unlockedLog(plain, 'ep5');
    for (const a of ['a', 'b', 'c', 'd', 'e']) await log.append(ev(a));
    // promote saved a deployment record when the chain's head was #3, another when it was #5.
    const state = { uri: `s3://${plain}/state`, endpointName: 'ep5' };
    const heads: Record<string, AuditRecord> = {};
    for (const seq of [3, 5]) heads[seq] = (await store.getJson<AuditRecord>(plain, `ep5/00000000000${seq}.json`))!.value;
    await store.putJson(plain, 'state/ep5/deployments/d1.json', { id: 'd1', auditHead: { seq: 3, hash: heads[3].hash } });
    await store.putJson(plain, 'state/ep5/deployments/d2.json', { id: 'd2', auditHead: { seq: 5, hash: heads[5].hash } });
    const tampering = async () =>
      (await log.verify((await deploymentAnchors(store, { state, endpointName: 'ep5' })).anchors)).problems.filter(
        (p) => !p.kind.startsWith('retention'),
      );
    expect(await tampering()).toEqual([]);

    // The attacker removes every version of records 3..5 for good and writes a consistent new
    // tail from #3 on: no overwritten key, no delete marker, every link holds.
    let prev = (await store.getJson<AuditRecord>(plain, 'ep5/000000000002.json'))!.value;
    for (const seq of [3, 4, 5]) {
      const key = `ep5/00000000000${seq}.json`;
      for (const v of (await history(plain, key)).versions)
        await client.send(new DeleteObjectCommand({ Bucket: plain, Key: key, VersionId: v }));
      prev = await sealRecord({ ...ev(`forged ${seq}`), endpoint: 'ep5' }, prev, new Date());
      await store.putJson(plain, key, prev);
    }
    expect(await tampering()).toEqual([
      expect.objectContaining({
        kind: 'anchor-mismatch',
        seq: 3,
        message: expect.stringContaining(`s3://${plain}/state/ep5/deployments/d1.json`),
      }),
      expect.objectContaining({
        kind: 'anchor-mismatch',
        seq: 5,
        message: expect.stringContaining(`s3://${plain}/state/ep5/deployments/d2.json`),
      }),
    ]);

    // Cutting the tail off instead (the last records gone for good) leaves the anchor pointing past the end.
    for (const seq of [4, 5]) {
      const key = `ep5/00000000000${seq}.json`;
      for (const v of (await history(plain, key)).versions)
        await client.send(new DeleteObjectCommand({ Bucket: plain, Key: key, VersionId: v }));
    }
    expect((await tampering()).map((p) => [p.kind, p.seq])).toEqual([
      ['anchor-mismatch', 3],
      ['anchor-missing', 5],
    ]);
  });

  it("a tail rewritten together with the deployment records' anchors is caught by the head tagged on the MLflow model version", async () => {
    const log = unlockedLog(plain, 'ep8');
    const model = `audit-model-${randomUUID().slice(0, 8)}`;
    const mlflow = await createMlflowClient({ trackingUri: inject('mlflowUrl'), retries: 0 });
    const registry = registryOver(mlflow);
    await mlflow.createRegisteredModel(model);
    await mlflow.createModelVersion({ name: model, source: `s3://${plain}/models/m` });
    // promote deployed v1: the chain's start, a deployment record and the version's tag quote head #4.
    for (const a of ['a', 'b', 'c']) await log.append(ev(a));
    const head = await log.append({
      ...ev('deployment.started'),
      details: { candidate: { registeredModel: model, version: '1' }, headTag: auditHeadTagKey('ep8') },
    });
    const target = { state: { uri: `s3://${plain}/state` }, endpointName: 'ep8' };
    const record = { id: 'd1', candidate: { registeredModel: model, version: '1' }, auditHead: { seq: head.seq, hash: head.hash } };
    await store.putJson(plain, 'state/ep8/deployments/d1.json', record);
    await registry.setVersionTag(model, '1', auditHeadTagKey('ep8'), auditHeadTagValue(head));
    const tampering = async () => {
      const s = await deploymentAnchors(store, target);
      const report = await log.verify(async (records) => [
        ...s.anchors,
        ...(await registryAnchors(registry, 'ep8', [model, ...s.models])(records)),
      ]);
      return report.problems.filter((p) => !p.kind.startsWith('retention'));
    };
    expect(await tampering()).toEqual([]);

    // The attacker with write access to both buckets removes records 3..4 for good, writes a
    // consistent new tail from #3 on, and makes the deployment record quote the forged head.
    let prev = (await store.getJson<AuditRecord>(plain, 'ep8/000000000002.json'))!.value;
    for (const seq of [3, 4]) {
      const key = `ep8/00000000000${seq}.json`;
      for (const v of (await history(plain, key)).versions)
        await client.send(new DeleteObjectCommand({ Bucket: plain, Key: key, VersionId: v }));
      prev = await sealRecord({ ...ev(`forged ${seq}`), endpoint: 'ep8' }, prev, new Date());
      await store.putJson(plain, key, prev);
    }
    await store.putJson(plain, 'state/ep8/deployments/d1.json', { ...record, auditHead: { seq: prev.seq, hash: prev.hash } });
    const s3Only = await log.verify((await deploymentAnchors(store, target)).anchors);
    expect(s3Only.problems.filter((p) => !p.kind.startsWith('retention'))).toEqual([]);
    expect(await tampering()).toEqual([
      expect.objectContaining({
        kind: 'anchor-mismatch',
        seq: 4,
        message: expect.stringMatching(new RegExp(`^mlflow:models:/${model}/1 anchors record #4 with hash ${head.hash}`)),
      }),
    ]);
  });

  it('refuses to verify a bucket without versioning (exit 3): deletions would leave no trace', async () => {
    const log = unlockedLog(unversioned, 'ep7');
    await log.append(ev('a'));
    await expect(log.verify()).rejects.toMatchObject({ code: 'AUDIT_NOT_VERSIONED', source: 'external' });
  });

  it('lists every version and delete marker page by page', async () => {
    const one = await listVersionsAll(client, { bucket: locked, prefix: 'trail/ep4/' });
    const paged = await listVersionsAll(client, { bucket: locked, prefix: 'trail/ep4/', pageSize: 2 });
    expect(one.versions).toHaveLength(5);
    expect(one.deleteMarkers.map((m) => m.key)).toEqual(['trail/ep4/000000000003.json', 'trail/ep4/000000000004.json']);
    expect(paged).toEqual(one);
  });
});
