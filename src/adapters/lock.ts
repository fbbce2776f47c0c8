/**
 * The endpoint lock in S3: taken with If-None-Match: *, an expired one taken over with If-Match
 * on its ETag, renewed while its holder waits, released (deleted) only while it is still ours.
 * Every expiry is computed from the injected clock, never from the wall clock directly.
 */
import { ConflictError, ExternalError } from '../core/errors.js';
import { decideTake, describeHolder, lockKey, newHolder, type LockHolder } from '../core/lock.js';
import type { Clock, ObjectStore, S3Location } from '../core/ports.js';

export interface HeldLock {
  holder: LockHolder;
  /** Extends the expiry while the lock is still ours; false when it was lost. */
  renew(): Promise<boolean>;
  /** Renews once a third of the expiry has passed since the last renewal; ConflictError when the lock was lost. */
  heartbeat(): Promise<void>;
  /** Deletes the lock if it is still ours. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  store: ObjectStore;
  location: S3Location;
  endpoint: string;
  me: Omit<LockHolder, 'started' | 'expires' | 'endpoint'>;
  expiryMs: number;
  clock: Pick<Clock, 'now'>;
}

/** Takes the endpoint's lock or throws ConflictError (exit 4) naming the holder. */
export async function acquireLock(o: AcquireOptions): Promise<HeldLock> {
  const now = () => o.clock.now();
  const { bucket } = o.location;
  const key = lockKey(o.location.prefix, o.endpoint);
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await o.store.getJson<LockHolder>(bucket, key);
    const decision = decideTake(current, now());
    if (decision.action === 'conflict') throw conflict(decision.holder, now(), o.endpoint);
    const holder = newHolder({ ...o.me, endpoint: o.endpoint }, now(), o.expiryMs);
    const put =
      decision.action === 'create'
        ? await o.store.putJson(bucket, key, holder, { ifNoneMatch: '*' })
        : await o.store.putJson(bucket, key, holder, { ifMatch: decision.etag });
    if (put.ok) return held(o, bucket, key, holder, put.etag);
    // Someone else wrote between our read and our write: read again and decide again.
  }
  const last = await o.store.getJson<LockHolder>(bucket, key);
  if (last) throw conflict(last.value, now(), o.endpoint);
  throw new ExternalError('LOCK_CONTENDED', `could not take the lock s3://${bucket}/${key}: it keeps changing`);
}

function conflict(h: LockHolder, now: Date, endpoint: string): ConflictError {
  return new ConflictError('LOCK_HELD', `endpoint ${endpoint} is locked by ${describeHolder(h, now)}`, {
    hint: 'Wait for that run to finish (or for the lock to expire), then run again.',
    details: { holder: h },
  });
}

function held(o: AcquireOptions, bucket: string, key: string, holder: LockHolder, etag: string): HeldLock {
  let current = holder;
  let currentEtag = etag;
  let released = false;
  let renewedAt = o.clock.now().getTime();
  const lock: HeldLock = {
    get holder() {
      return current;
    },
    async renew() {
      const at = o.clock.now();
      const next = { ...current, expires: new Date(at.getTime() + o.expiryMs).toISOString() };
      const put = await o.store.putJson(bucket, key, next, { ifMatch: currentEtag });
      if (!put.ok) return false;
      current = next;
      currentEtag = put.etag;
      renewedAt = at.getTime();
      return true;
    },
    async heartbeat() {
      if (o.clock.now().getTime() - renewedAt < o.expiryMs / 3) return;
      if (!(await lock.renew())) {
        throw new ConflictError('LOCK_LOST', `the endpoint lock expired and was taken over while this run waited`, {
          hint: 'Another promote or rollback now holds it; check `mlops status`.',
        });
      }
    },
    async release() {
      if (released) return;
      released = true;
      const cur = await o.store.getJson<LockHolder>(bucket, key);
      if (!cur || cur.value.token !== current.token) return;
      await o.store.delete(bucket, key, { ifMatch: cur.etag });
    },
  };
  return lock;
}
