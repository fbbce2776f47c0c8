import { describe, expect, it } from 'vitest';
import { acquireLock, breakLock } from '../../src/adapters/lock.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { ConflictError } from '../../src/core/errors.js';
import { configSchema } from '../../src/config/schema.js';
import { ExternalError } from '../../src/core/errors.js';
import { LOCK_HEARTBEAT_MS, decideTake, describeHolder, isExpired, lockKey } from '../../src/core/lock.js';

const loc = { bucket: 'state', prefix: 'locks' };
const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
const me = (token: string) => ({ token, who: 'ana@laptop', pid: 42, command: 'promote' });

describe('lock rules', () => {
  it('creates when absent, takes over when expired, conflicts otherwise', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const holder = { ...me('a'), endpoint: 'ep', started: '2025-12-31T23:00:00Z', expires: '2026-01-01T00:10:00Z' };
    expect(decideTake(undefined, now)).toEqual({ action: 'create' });
    expect(decideTake({ value: holder, etag: 'e' }, now).action).toBe('conflict');
    expect(decideTake({ value: holder, etag: 'e' }, new Date('2026-01-01T00:10:00Z'))).toMatchObject({ action: 'take-over', etag: 'e' });
    expect(isExpired({ expires: 'garbage' }, now)).toBe(true);
    expect(lockKey('locks', 'ep')).toBe('locks/ep.lock.json');
  });
});

describe('acquireLock (in-memory store)', () => {
  it('a second taker gets ConflictError naming the holder; release frees it', async () => {
    const store = new MemoryStore();
    const a = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock });
    const err = await acquireLock({
      store,
      location: loc,
      endpoint: 'ep',
      me: { ...me('b'), who: 'bob@ci' },
      expiryMs: 60_000,
      clock,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toContain('ana@laptop');
    expect(err.message).toContain('expires');
    await a.release();
    const b = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('b'), expiryMs: 60_000, clock });
    expect(b.holder.token).toBe('b');
  });

  it('takes over an expired lock, and the old holder cannot release the new one', async () => {
    const store = new MemoryStore();
    let t = new Date('2026-01-01T00:00:00Z');
    const now = () => t;
    const a = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock: { now } });
    t = new Date('2026-01-01T00:02:00Z');
    const b = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('b'), expiryMs: 60_000, clock: { now } });
    await a.release();
    expect((await store.getJson<{ token: string }>('state', 'locks/ep.lock.json'))?.value.token).toBe('b');
    expect(await a.renew()).toBe(false);
    expect(await b.renew()).toBe(true);
  });

  it('two takers at once: exactly one wins', async () => {
    const store = new MemoryStore();
    const results = await Promise.allSettled([
      acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock }),
      acquireLock({ store, location: loc, endpoint: 'ep', me: me('b'), expiryMs: 60_000, clock }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof ConflictError)).toHaveLength(1);
  });
});

describe('the lock runs on the injected clock', () => {
  it('heartbeat renews once a heartbeat (10 s) has passed on that clock, with an expiry from it', async () => {
    const store = new MemoryStore();
    let t = Date.parse('2030-06-01T00:00:00Z');
    const fake = { now: () => new Date(t) };
    const lock = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock: fake });
    expect(lock.holder.expires).toBe('2030-06-01T00:01:00.000Z');
    t += LOCK_HEARTBEAT_MS - 1_000;
    await lock.heartbeat();
    expect(lock.holder.expires).toBe('2030-06-01T00:01:00.000Z');
    t += 2_000;
    await lock.heartbeat();
    expect(lock.holder.expires).toBe('2030-06-01T00:01:11.000Z');
    expect(lock.holder.renewed).toBe('2030-06-01T00:00:11.000Z');
    expect((await store.getJson<{ expires: string }>('state', 'locks/ep.lock.json'))?.value.expires).toBe('2030-06-01T00:01:11.000Z');
  });

  it('heartbeat throws LOCK_LOST (exit 4) once the lock expired on that clock and another run took it', async () => {
    const store = new MemoryStore();
    let t = Date.parse('2030-06-01T00:00:00Z');
    const fake = { now: () => new Date(t) };
    const a = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock: fake });
    t += 61_000;
    await acquireLock({ store, location: loc, endpoint: 'ep', me: me('b'), expiryMs: 60_000, clock: fake });
    const err = await a.heartbeat().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe('LOCK_LOST');
  });
});

describe('lock.expiry must outlast the heartbeat', () => {
  const deploy = (expiry: string) => ({
    deploy: {
      endpointName: 'ep',
      executionRoleArn: 'arn:aws:iam::123456789012:role/deploy',
      image: 'img:1',
      artifacts: 's3://models/ep',
      dataCapture: { destination: 's3://capture/ep' },
      state: { uri: 's3://state/deployments' },
      lock: { uri: 's3://state/locks', expiry },
      audit: { uri: 's3://audit/trail' },
    },
  });

  it.each(['0s', '29s', '25h'])('rejects %s with the allowed range', (expiry) => {
    const r = configSchema.safeParse(deploy(expiry));
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path.join('.') === 'deploy.lock.expiry');
    expect(issue?.message).toMatch(/between 30s and 24h/);
  });

  it.each(['30s', '30m', '24h'])('accepts %s', (expiry) => {
    expect(configSchema.safeParse(deploy(expiry)).success).toBe(true);
  });
});

describe('lock objects read from S3 are validated', () => {
  it.each([null, [], { token: 'a' }, 'text'])(
    'a lock object %j is LOCK_INVALID (exit 3) naming the fix, not a TypeError',
    async (value) => {
      const store = new MemoryStore();
      await store.putJson('state', 'locks/ep.lock.json', value);
      const err = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExternalError);
      expect(err).toMatchObject({ code: 'LOCK_INVALID' });
      expect((err as ExternalError).hint).toMatch(/mlops unlock --force/);
    },
  );
});

describe('release after the lock object was written over', () => {
  it.each(['not json {', 'null', '"text"'])('release leaves a lock object %j alone and does not fail the run', async (body) => {
    const store = new MemoryStore();
    const a = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock });
    await store.putBytes('state', 'locks/ep.lock.json', new TextEncoder().encode(body));
    await expect(a.release()).resolves.toBeUndefined();
    expect((await store.head('state', 'locks/ep.lock.json'))?.size).toBe(body.length);
  });
});

describe('lock messages', () => {
  const holder = { ...me('a'), endpoint: 'ep', started: '2026-01-01T00:00:00Z', expires: '2053-05-19T00:00:00Z' };

  it('cap and format a far expiry instead of printing millions of minutes', () => {
    const line = describeHolder(holder, new Date('2026-01-01T00:00:00Z'));
    expect(line).not.toMatch(/\d{6,} min/);
    expect(line).toContain('(in more than a year)');
    expect(describeHolder({ ...holder, expires: '2026-01-01T00:10:00Z' }, new Date('2026-01-01T00:00:00Z'))).toContain('(in 10 min)');
    expect(describeHolder({ ...holder, expires: '2026-01-03T12:00:00Z' }, new Date('2026-01-01T00:00:00Z'))).toContain('(in 3 days)');
  });

  it('print no escape codes from the lock object', () => {
    const line = describeHolder({ ...holder, who: 'evil\u001b[31m@host' }, new Date('2026-01-01T00:00:00Z'));
    expect(line).not.toContain('\u001b');
  });
});

describe('a holder that renews is never preempted', () => {
  it('two holders on one injected clock: the renewing one keeps the lock through many expiries', async () => {
    const store = new MemoryStore();
    let t = Date.parse('2030-06-01T00:00:00Z');
    const fake = { now: () => new Date(t) };
    const expiryMs = 30_000;
    const a = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs, clock: fake });
    for (let i = 0; i < 20; i++) {
      t += LOCK_HEARTBEAT_MS;
      await a.heartbeat();
      const b = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('b'), expiryMs, clock: fake }).catch((e: unknown) => e);
      expect(b).toBeInstanceOf(ConflictError);
    }
    expect((await store.getJson<{ token: string }>('state', 'locks/ep.lock.json'))?.value.token).toBe('a');
  });

  it('a takeover of an expired lock says whom it took it from (the caller audits it)', async () => {
    const store = new MemoryStore();
    let t = Date.parse('2030-06-01T00:00:00Z');
    const fake = { now: () => new Date(t) };
    const a = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 30_000, clock: fake });
    expect(a.tookOver).toBeUndefined();
    t += 31_000;
    const b = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('b'), expiryMs: 30_000, clock: fake });
    expect(b.tookOver).toMatchObject({ token: 'a', who: 'ana@laptop' });
  });
});

describe('breakLock (mlops unlock)', () => {
  const setup = async () => {
    const store = new MemoryStore();
    let t = Date.parse('2030-06-01T00:00:00Z');
    const fake = { now: () => new Date(t) };
    await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 3_600_000, clock: fake });
    const brk = (o: { force?: boolean; dryRun?: boolean } = {}) =>
      breakLock({ store, location: loc, endpoint: 'ep', clock: fake, force: o.force ?? false, dryRun: o.dryRun ?? false });
    return { store, brk, advance: (ms: number) => (t += ms) };
  };
  const present = async (store: MemoryStore) => (await store.head(loc.bucket, 'locks/ep.lock.json')) !== undefined;

  it('refuses a lock whose holder renewed within the heartbeat (exit 4), unless --force', async () => {
    const { store, brk, advance } = await setup();
    advance(LOCK_HEARTBEAT_MS - 1_000);
    await expect(brk()).rejects.toMatchObject({ code: 'LOCK_ALIVE' });
    expect(await present(store)).toBe(true);
    expect(await brk({ force: true })).toMatchObject({ outcome: 'broken', holder: { token: 'a' } });
    expect(await present(store)).toBe(false);
  });

  it("breaks a dead holder's lock long before it expires; --dry-run leaves it", async () => {
    const { store, brk, advance } = await setup();
    advance(5 * 60_000);
    expect(await brk({ dryRun: true })).toMatchObject({ outcome: 'broken' });
    expect(await present(store)).toBe(true);
    expect(await brk()).toMatchObject({ outcome: 'broken', uri: 's3://state/locks/ep.lock.json' });
    expect(await present(store)).toBe(false);
    expect(await brk()).toMatchObject({ outcome: 'none' });
  });

  it('an unreadable lock object needs --force', async () => {
    const { store, brk } = await setup();
    await store.putJson('state', 'locks/ep.lock.json', null);
    await expect(brk()).rejects.toMatchObject({ code: 'LOCK_INVALID' });
    expect(await brk({ force: true })).toMatchObject({ outcome: 'broken', problems: [expect.stringMatching(/JSON object/)] });
  });
});
