import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/adapters/lock.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { ConflictError } from '../../src/core/errors.js';
import { decideTake, isExpired, lockKey } from '../../src/core/lock.js';

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
  it('heartbeat renews once a third of the expiry has passed on that clock, with an expiry from it', async () => {
    const store = new MemoryStore();
    let t = Date.parse('2030-06-01T00:00:00Z');
    const fake = { now: () => new Date(t) };
    const lock = await acquireLock({ store, location: loc, endpoint: 'ep', me: me('a'), expiryMs: 60_000, clock: fake });
    expect(lock.holder.expires).toBe('2030-06-01T00:01:00.000Z');
    t += 10_000;
    await lock.heartbeat();
    expect(lock.holder.expires).toBe('2030-06-01T00:01:00.000Z');
    t += 15_000;
    await lock.heartbeat();
    expect(lock.holder.expires).toBe('2030-06-01T00:01:25.000Z');
    expect((await store.getJson<{ expires: string }>('state', 'locks/ep.lock.json'))?.value.expires).toBe('2030-06-01T00:01:25.000Z');
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
