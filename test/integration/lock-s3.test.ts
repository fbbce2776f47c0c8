/** The S3 store and the endpoint lock against real moto, through the real SDK. */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { acquireLock } from '../../src/adapters/lock.js';
import { s3Store, type ObjectStore } from '../../src/adapters/s3-store.js';
import { ConflictError } from '../../src/core/errors.js';

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
