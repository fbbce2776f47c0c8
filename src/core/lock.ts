/**
 * One writer per endpoint: the rules of the S3 lock object. Pure; the adapter
 * (src/adapters/lock.ts) does the conditional writes these decisions call for.
 */
import { printable } from './escape.js';

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
export function newHolder(me: Omit<LockHolder, 'started' | 'expires'>, now: Date, expiryMs: number): LockHolder {
  return { ...me, started: now.toISOString(), expires: new Date(now.getTime() + expiryMs).toISOString() };
}

/** One line naming the holder for the conflict message. */
export function describeHolder(h: LockHolder, now: Date): string {
  const mins = Math.max(0, Math.round((Date.parse(h.expires) - now.getTime()) / 60_000));
  const where = h.ciRunUrl ? ` (${h.ciRunUrl})` : '';
  // The holder was read from S3: anyone who can write the lock object chooses these strings.
  return printable(`${h.who} pid ${h.pid}${where}, running "${h.command}" since ${h.started}; expires ${h.expires} (in ${mins} min)`);
}
