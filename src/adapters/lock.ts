/**
 * The endpoint lock in S3: taken with If-None-Match: *, an expired one taken over with If-Match
 * on its ETag, renewed while its holder waits, released (deleted) only while it is still ours.
 * Every expiry is computed from the injected clock, never from the wall clock directly.
 */
import { ConflictError, ExternalError } from '../core/errors.js';
import {
  LOCK_HEARTBEAT_MS,
  decideTake,
  describeHolder,
  humanSpan,
  lastSign,
  lockHolderProblems,
  lockKey,
  newHolder,
  type LockHolder,
} from '../core/lock.js';
import type { Clock, ObjectStore, S3Location } from '../core/ports.js';

export interface HeldLock {
  holder: LockHolder;
  /** The expired holder this acquisition took the lock from (to be audited), if any. */
  tookOver?: LockHolder;
  /** Extends the expiry while the lock is still ours; false when it was lost. */
  renew(): Promise<boolean>;
  /** Renews once a heartbeat (or a third of the expiry) has passed since the last renewal; ConflictError when the lock was lost. */
  heartbeat(): Promise<void>;
  /** Deletes the lock if it is still ours. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  store: ObjectStore;
  location: S3Location;
  endpoint: string;
  me: Omit<LockHolder, 'started' | 'expires' | 'endpoint' | 'renewed'>;
  expiryMs: number;
  clock: Pick<Clock, 'now'>;
}

/** Reads the lock object; LOCK_INVALID (exit 3) when it is not a holder record. */
async function readLock(store: ObjectStore, bucket: string, key: string): Promise<{ value: LockHolder; etag: string } | undefined> {
  let got: { value: unknown; etag: string } | undefined;
  try {
    got = await store.getJson<unknown>(bucket, key);
  } catch (e) {
    if (e instanceof ExternalError && e.code === 'S3_BAD_JSON') throw invalidLock(bucket, key, ['not valid JSON']);
    throw e;
  }
  if (!got) return undefined;
  const problems = lockHolderProblems(got.value);
  if (problems.length) throw invalidLock(bucket, key, problems);
  return got as { value: LockHolder; etag: string };
}

function invalidLock(bucket: string, key: string, problems: string[]): ExternalError {
  return new ExternalError(
    'LOCK_INVALID',
    `The lock object s3://${bucket}/${key} is not a lock record: ${problems.slice(0, 5).join('; ')}.`,
    {
      hint: 'Nothing was changed. If no promote or rollback is running, remove it with `mlops unlock --force` (audited), then run again.',
    },
  );
}

/** Takes the endpoint's lock or throws ConflictError (exit 4) naming the holder. */
export async function acquireLock(o: AcquireOptions): Promise<HeldLock> {
  const now = () => o.clock.now();
  const { bucket } = o.location;
  const key = lockKey(o.location.prefix, o.endpoint);
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await readLock(o.store, bucket, key);
    const decision = decideTake(current, now());
    if (decision.action === 'conflict') throw conflict(decision.holder, now(), o.endpoint);
    const holder = newHolder({ ...o.me, endpoint: o.endpoint }, now(), o.expiryMs);
    const put =
      decision.action === 'create'
        ? await o.store.putJson(bucket, key, holder, { ifNoneMatch: '*' })
        : await o.store.putJson(bucket, key, holder, { ifMatch: decision.etag });
    if (put.ok) return held(o, bucket, key, holder, put.etag, decision.action === 'take-over' ? decision.previous : undefined);
    // Someone else wrote between our read and our write: read again and decide again.
  }
  const last = await readLock(o.store, bucket, key);
  if (last) throw conflict(last.value, now(), o.endpoint);
  throw new ExternalError('LOCK_CONTENDED', `could not take the lock s3://${bucket}/${key}: it keeps changing`);
}

function conflict(h: LockHolder, now: Date, endpoint: string): ConflictError {
  return new ConflictError('LOCK_HELD', `endpoint ${endpoint} is locked by ${describeHolder(h, now)}`, {
    hint: 'Wait for that run to finish (or for the lock to expire), then run again. If its holder is dead, `mlops unlock` breaks the lock.',
    details: { holder: h },
  });
}

function held(o: AcquireOptions, bucket: string, key: string, holder: LockHolder, etag: string, tookOver?: LockHolder): HeldLock {
  let current = holder;
  let currentEtag = etag;
  let released = false;
  let renewedAt = o.clock.now().getTime();
  const every = Math.min(LOCK_HEARTBEAT_MS, o.expiryMs / 3);
  const lock: HeldLock = {
    get holder() {
      return current;
    },
    tookOver,
    async renew() {
      const at = o.clock.now();
      const next = { ...current, renewed: at.toISOString(), expires: new Date(at.getTime() + o.expiryMs).toISOString() };
      const put = await o.store.putJson(bucket, key, next, { ifMatch: currentEtag });
      if (!put.ok) return false;
      current = next;
      currentEtag = put.etag;
      renewedAt = at.getTime();
      return true;
    },
    async heartbeat() {
      if (o.clock.now().getTime() - renewedAt < every) return;
      if (!(await lock.renew())) {
        throw new ConflictError('LOCK_LOST', `the endpoint lock expired and was taken over while this run waited`, {
          hint: 'Another promote or rollback now holds it; check `mlops status`.',
        });
      }
    },
    async release() {
      if (released) return;
      released = true;
      // A lock object that is no holder record (written over by someone else) is not ours to
      // delete, and not a failure of the run that is releasing it.
      const cur = await o.store.getJson<Partial<LockHolder> | null>(bucket, key).catch((e: unknown) => {
        if (e instanceof ExternalError && e.code === 'S3_BAD_JSON') return undefined;
        throw e;
      });
      if (!cur || cur.value?.token !== current.token) return;
      await o.store.delete(bucket, key, { ifMatch: cur.etag });
    },
  };
  return lock;
}

export interface BreakOptions {
  store: ObjectStore;
  location: S3Location;
  endpoint: string;
  clock: Pick<Clock, 'now'>;
  /** Break it even when its holder renewed within the last heartbeat, or the object is unreadable. */
  force: boolean;
  dryRun: boolean;
}

export interface BreakResult {
  /** none: there was no lock; broken: it was deleted (or, in a dry run, would be). */
  outcome: 'none' | 'broken';
  uri: string;
  /** The holder that was removed (undefined for an unreadable lock object). */
  holder?: LockHolder;
  /** Problems of an unreadable lock object that --force removed. */
  problems?: string[];
}

/**
 * Breaks a dead writer's lock: deletes it (If-Match on what was read) unless its holder renewed
 * within the last heartbeat, which means it is alive (--force overrides, and is needed for a lock
 * object that is not a holder record).
 */
export async function breakLock(o: BreakOptions): Promise<BreakResult> {
  const { bucket } = o.location;
  const key = lockKey(o.location.prefix, o.endpoint);
  const uri = `s3://${bucket}/${key}`;
  let got: { value: unknown; etag: string } | undefined;
  try {
    got = await o.store.getJson<unknown>(bucket, key);
  } catch (e) {
    if (!(e instanceof ExternalError && e.code === 'S3_BAD_JSON')) throw e;
    if (!o.force) throw invalidLock(bucket, key, ['not valid JSON']);
    const head = await o.store.head(bucket, key);
    got = head && { value: undefined, etag: head.etag };
  }
  if (!got) return { outcome: 'none', uri };
  const problems = got.value === undefined ? ['not valid JSON'] : lockHolderProblems(got.value);
  if (problems.length && !o.force) throw invalidLock(bucket, key, problems);
  const holder = problems.length ? undefined : (got.value as LockHolder);
  const now = o.clock.now();
  if (holder && !o.force && now.getTime() - lastSign(holder) < LOCK_HEARTBEAT_MS) {
    throw new ConflictError(
      'LOCK_ALIVE',
      `endpoint ${o.endpoint} is locked by ${describeHolder(holder, now)}, which renewed it ${humanSpan(now.getTime() - lastSign(holder))} ago: it looks alive`,
      {
        hint: `A live holder renews every ${LOCK_HEARTBEAT_MS / 1000}s. Make sure it is dead (the CI job cancelled, the process gone), then run \`mlops unlock --force\`.`,
        details: { holder },
      },
    );
  }
  if (o.dryRun) return { outcome: 'broken', uri, holder, ...(problems.length ? { problems } : {}) };
  const del = await o.store.delete(bucket, key, { ifMatch: got.etag });
  if (!del.ok) {
    throw new ConflictError(
      'LOCK_CHANGED',
      `the lock ${uri} changed while it was being broken (its holder renewed it, or another run took it)`,
      {
        hint: 'Run `mlops status`, then `mlops unlock` again if the new holder is dead too.',
      },
    );
  }
  return { outcome: 'broken', uri, holder, ...(problems.length ? { problems } : {}) };
}
