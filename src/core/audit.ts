/**
 * The audit trail's rules: record shape, canonical JSON, the SHA-256 chain and its verification.
 * Pure: the hasher is injected (the default uses Web Crypto, which Node and browsers both have).
 */

export type AuditKind = 'gate' | 'stage' | 'rollback' | 'drift' | 'lock';

/** What a caller appends; the chain fields are added by `sealRecord`. */
export interface AuditEvent {
  kind: AuditKind;
  /** e.g. "bake.passed", "cutover.started", "rollback.done", "compare.failed". */
  action: string;
  endpoint: string;
  deploymentId?: string;
  /** user@host, CI run URL: who did it. */
  actor: string;
  details?: Record<string, unknown>;
}

/** One record as stored: the event plus its place in the chain. */
export interface AuditRecord extends AuditEvent {
  /** 1, 2, 3...: the key is derived from it. */
  seq: number;
  /** ISO timestamp. */
  at: string;
  /** SHA-256 (hex) of the previous record's canonical JSON; GENESIS_HASH for the first. */
  prevHash: string;
  /** SHA-256 (hex) of this record's canonical JSON without this field. */
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export type Hasher = (text: string) => Promise<string>;

/** SHA-256 hex via Web Crypto (globalThis.crypto.subtle). */
export const sha256Hex: Hasher = async (text) => {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
};

/** JSON with object keys sorted at every level and no whitespace: the bytes that are hashed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The key of record `seq` under a chain's prefix: zero-padded so S3 lists in order. */
export function auditKey(prefix: string, seq: number): string {
  return `${prefix ? prefix + '/' : ''}${String(seq).padStart(12, '0')}.json`;
}

/** The sequence number a key names, or undefined for a key that is not a record. */
export function seqOfKey(key: string): number | undefined {
  const m = /(?:^|\/)(\d{12})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** Hash of a whole stored record (the next record's prevHash). */
export function hashOf(record: AuditRecord, hasher: Hasher = sha256Hex): Promise<string> {
  return hasher(canonicalJson(record));
}

/** Builds the next record after `previous` (undefined for the first). */
export async function sealRecord(
  event: AuditEvent,
  previous: AuditRecord | undefined,
  at: Date,
  hasher: Hasher = sha256Hex,
): Promise<AuditRecord> {
  const body = {
    ...event,
    details: event.details ?? {},
    seq: previous ? previous.seq + 1 : 1,
    at: at.toISOString(),
    prevHash: previous ? await hashOf(previous, hasher) : GENESIS_HASH,
  };
  return { ...body, hash: await hasher(canonicalJson(body)) };
}

export type ChainProblemKind = 'gap' | 'reordered' | 'altered' | 'broken-link' | 'unreadable';

export interface ChainProblem {
  kind: ChainProblemKind;
  seq?: number;
  key?: string;
  message: string;
}

export interface ChainReport {
  ok: boolean;
  records: number;
  /** seq and hash of the last record: quote it elsewhere to detect truncation of the tail. */
  head?: { seq: number; hash: string };
  problems: ChainProblem[];
}

/**
 * Walks a chain in key order. A missing sequence number is a gap; a record whose seq does not
 * match its key is a reordering; a record whose own hash does not match its content is altered;
 * a record whose prevHash is not the previous record's hash is a broken link (the previous one
 * was altered, or records were removed or inserted).
 */
export async function verifyChain(
  entries: { key: string; record: AuditRecord | undefined }[],
  hasher: Hasher = sha256Hex,
): Promise<ChainReport> {
  const problems: ChainProblem[] = [];
  let expectedSeq = 1;
  let prev: AuditRecord | undefined;
  let head: ChainReport['head'];
  for (const { key, record } of entries) {
    const keySeq = seqOfKey(key);
    if (keySeq === undefined) continue;
    if (!record || typeof record !== 'object') {
      problems.push({ kind: 'unreadable', seq: keySeq, key, message: `${key}: not a JSON audit record` });
      prev = undefined;
      expectedSeq = keySeq + 1;
      continue;
    }
    if (keySeq > expectedSeq) {
      problems.push({
        kind: 'gap',
        seq: expectedSeq,
        key,
        message: `records ${expectedSeq}..${keySeq - 1} are missing before ${key}`,
      });
    }
    if (record.seq !== keySeq) {
      problems.push({ kind: 'reordered', seq: keySeq, key, message: `${key} holds record seq ${record.seq}` });
    }
    const { hash, ...body } = record;
    const own = await hasher(canonicalJson(body));
    if (own !== hash) {
      problems.push({
        kind: 'altered',
        seq: keySeq,
        key,
        message: `${key}: content does not match its hash (edited after it was written)`,
      });
    }
    const expectedPrev = keySeq === 1 ? GENESIS_HASH : prev && prev.seq === keySeq - 1 ? await hashOf(prev, hasher) : undefined;
    if (expectedPrev !== undefined && record.prevHash !== expectedPrev) {
      problems.push({
        kind: 'broken-link',
        seq: keySeq,
        key,
        message: `${key}: prevHash does not match record ${keySeq - 1} (that record was altered or replaced)`,
      });
    }
    prev = record;
    head = { seq: keySeq, hash: record.hash };
    expectedSeq = keySeq + 1;
  }
  return { ok: problems.length === 0, records: entries.filter((e) => seqOfKey(e.key) !== undefined).length, head, problems };
}
