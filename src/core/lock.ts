/**
 * One writer per endpoint: the rules of the S3 lock object. Pure; the adapter
 * (src/adapters/lock.ts) does the conditional writes these decisions call for.
 */
import { printable as escaped } from './escape.js';

/** Who holds the lock, stored as the lock object's JSON body. */
export interface LockHolder {
  /** Random token of this acquisition: release and renew act only when it still matches. */
  token: string;
  /** user@host of the holder. */
  who: string;
  pid: number;
  /** CI run URL when the holder runs in CI. */
  ciRunUrl?: string;
  /** The command that holds it, e.g. "promote" or "rollback". */
  command: string;
  endpoint: string;
  /** ISO timestamps. */
  started: string;
  expires: string;
  /** When the holder last renewed it (ISO; absent in locks written before renewals were recorded). */
  renewed?: string;
}

/**
 * How often a waiting holder renews its lock at the latest. Every wait of promote and rollback
 * is cut into sleeps no longer than this, so a holder that is alive renews at least this often.
 */
export const LOCK_HEARTBEAT_MS = 10_000;
/** The shortest lock expiry: three heartbeats, so a live holder never lets its lock lapse. */
export const MIN_LOCK_EXPIRY_MS = 3 * LOCK_HEARTBEAT_MS;
/** The longest: a crashed holder blocks the endpoint at most this long (or until `mlops unlock`). */
export const MAX_LOCK_EXPIRY_MS = 24 * 3_600_000;

/** Why a lock expiry is out of range, or undefined when it is fine. */
export function lockExpiryProblem(ms: number): string | undefined {
  if (ms >= MIN_LOCK_EXPIRY_MS && ms <= MAX_LOCK_EXPIRY_MS) return undefined;
  return (
    `must be between ${MIN_LOCK_EXPIRY_MS / 1000}s and ${MAX_LOCK_EXPIRY_MS / 3_600_000}h: longer than three lock heartbeats ` +
    `(a holder renews every ${LOCK_HEARTBEAT_MS / 1000}s), so a live holder is never taken over`
  );
}

export type TakeDecision =
  { action: 'create' } | { action: 'take-over'; etag: string; previous: LockHolder } | { action: 'conflict'; holder: LockHolder };

/** Key of an endpoint's lock object under the configured prefix. */
export function lockKey(prefix: string, endpoint: string): string {
  return `${prefix ? prefix + '/' : ''}${endpoint}.lock.json`;
}

/** Whether a holder's lock has expired (a crashed holder does not block forever). */
export function isExpired(holder: Pick<LockHolder, 'expires'>, now: Date): boolean {
  const t = Date.parse(holder.expires);
  return !Number.isFinite(t) || t <= now.getTime();
}

/** What to do given the current lock object (if any): create it, take over an expired one, or give up. */
export function decideTake(current: { value: LockHolder; etag: string } | undefined, now: Date): TakeDecision {
  if (!current) return { action: 'create' };
  if (isExpired(current.value, now)) return { action: 'take-over', etag: current.etag, previous: current.value };
  return { action: 'conflict', holder: current.value };
}

/** A new holder record for this process. */
export function newHolder(me: Omit<LockHolder, 'started' | 'expires' | 'renewed'>, now: Date, expiryMs: number): LockHolder {
  return { ...me, started: now.toISOString(), renewed: now.toISOString(), expires: new Date(now.getTime() + expiryMs).toISOString() };
}

/** The problems of a value read as a lock object (empty when it is a holder record). */
export function lockHolderProblems(v: unknown): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`expected a JSON object, found ${v === null ? 'null' : typeof v}`];
  const o = v as Record<string, unknown>;
  const p: string[] = [];
  for (const k of ['token', 'who', 'command', 'endpoint', 'started', 'expires']) {
    if (typeof o[k] !== 'string' || o[k] === '') p.push(`${k}: expected a non-empty string`);
  }
  if (typeof o.pid !== 'number') p.push('pid: expected a number');
  for (const k of ['ciRunUrl', 'renewed']) if (o[k] !== undefined && typeof o[k] !== 'string') p.push(`${k}: expected a string`);
  if (typeof o.expires === 'string' && !Number.isFinite(Date.parse(o.expires))) p.push('expires: not a timestamp');
  return p;
}

/** When the holder last showed it was alive: its last renewal, else when it took the lock. */
export function lastSign(h: LockHolder): number {
  const t = Date.parse(h.renewed ?? h.started);
  return Number.isFinite(t) ? t : Number.NEGATIVE_INFINITY;
}

/** A time span for people, capped: "45 s", "12 min", "5 h", "3 days", "more than a year". */
export function humanSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86_400) return `${Math.round(s / 3600)} h`;
  if (s < 366 * 86_400) return `${Math.round(s / 86_400)} days`;
  return 'more than a year';
}

/** One line naming the holder for the conflict message. */
export function describeHolder(h: LockHolder, now: Date): string {
  const left = Date.parse(h.expires) - now.getTime();
  // The holder was read from S3: anyone who can write the lock object chooses these strings.
  const printable = (text: string) => escaped(text.length > 200 ? `${text.slice(0, 200)}...` : text);
  const where = h.ciRunUrl ? ` (${printable(h.ciRunUrl)})` : '';
  const expires = Number.isFinite(left) ? `expires ${printable(h.expires)} (in ${humanSpan(left)})` : `expiry unreadable`;
  return `${printable(h.who)} pid ${h.pid}${where}, running "${printable(h.command)}" since ${printable(h.started)}; ${expires}`;
}
