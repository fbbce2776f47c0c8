/**
 * The audit trail's rules: record shape, canonical JSON, the SHA-256 chain and its verification.
 * Pure: the hasher is injected (the default uses Web Crypto, which Node and browsers both have).
 */

export type AuditKind = 'gate' | 'stage' | 'rollback' | 'drift' | 'lock' | 'cleanup' | 'anchor';

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

/** Digits a record key is padded to, so S3 lists a chain in order (up to the trillionth record). */
export const AUDIT_KEY_DIGITS = 12;

/** The key of record `seq` under a chain's prefix: zero-padded so S3 lists in order. */
export function auditKey(prefix: string, seq: number): string {
  return `${prefix ? prefix + '/' : ''}${String(seq).padStart(AUDIT_KEY_DIGITS, '0')}.json`;
}

/**
 * The sequence number a key names, or undefined for a key that is not a record. A number with
 * more digits than the padding is one (a forged key can push the numbering there, and the chain
 * must go on after it); one whose successor is past exact integers is not: nothing could follow it.
 */
export function seqOfKey(key: string): number | undefined {
  const m = /(?:^|\/)(\d{12,})\.json$/.exec(key);
  if (!m) return undefined;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq + 1) ? seq : undefined;
}

/** Orders record keys by the number they name (S3 lists 1000000000000.json before 999999999999.json); other keys by name, after them. */
export function byAuditSeq(a: string, b: string): number {
  const sa = seqOfKey(a);
  const sb = seqOfKey(b);
  if (sa !== undefined && sb !== undefined && sa !== sb) return sa - sb;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === undefined && sb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
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

export type ChainProblemKind =
  | 'gap'
  | 'reordered'
  | 'altered'
  | 'broken-link'
  | 'unreadable'
  | 'deleted'
  | 'overwritten'
  | 'retention-missing'
  | 'retention-mode'
  | 'retention-short'
  | 'anchor-missing'
  | 'anchor-mismatch'
  | 'contradicted'
  | 'numbered-past-padding';

export interface ChainProblem {
  kind: ChainProblemKind;
  seq?: number;
  key?: string;
  message: string;
}

/** The position of a chain's last record, as quoted outside the chain. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** A head quoted outside the chain, and where it was found (a deployment record's URI, a model version's). */
export interface AuditAnchor extends AuditHead {
  source: string;
}

/** A place that should quote the head but does not (a deployed model version without its tag): reported as anchor-missing. */
export interface AbsentAnchor {
  source: string;
  /** Why it counts as missing, for the report. */
  absent: string;
}

export type AnchorClaim = AuditAnchor | AbsentAnchor;

/** Where anchors were found: the deployment records in the state bucket, or the MLflow model versions. */
export type AnchorOrigin = 'deployment-record' | 'mlflow';

/** The origin of an anchor, from its source (`mlflow:models:/...` or `s3://...`). */
export function anchorOrigin(source: string): AnchorOrigin {
  return source.startsWith('mlflow:') ? 'mlflow' : 'deployment-record';
}

/**
 * The MLflow model version tag that quotes an endpoint's chain head. The endpoint is in the key
 * because each endpoint has its own chain and one version may be deployed to several; the value
 * is `<seq>:<sha256 hex>` of the last record appended (e.g. `42:9f86d0...`).
 */
export function auditHeadTagKey(endpoint: string): string {
  return `mlops.audit.head.${endpoint}`;
}

/** The tag value quoting a head: `<seq>:<hash>`. */
export function auditHeadTagValue(head: AuditHead): string {
  return `${head.seq}:${head.hash}`;
}

/** The source name of a model version's anchor, as verify reports it. */
export function modelVersionSource(registeredModel: string, version: string): string {
  return `mlflow:models:/${registeredModel}/${version}`;
}

/** A model version as the trail and the deployment records name it. */
export interface VersionRef {
  registeredModel: string;
  version: string;
}

/**
 * The model versions the chain says were deployed to the endpoint with their head tag: the
 * candidate of each deployment.started that names the tag (`details.headTag`, written since
 * promote anchors on MLflow; older deployments name none and are not expected to carry one).
 */
export function taggedDeployments(records: AuditRecord[], endpoint: string): VersionRef[] {
  const out: VersionRef[] = [];
  for (const r of records) {
    if (r.action !== 'deployment.started' || r.details?.headTag !== auditHeadTagKey(endpoint)) continue;
    const c = r.details.candidate;
    if (!c || typeof c !== 'object') continue;
    const { registeredModel, version } = c as Record<string, unknown>;
    if (typeof registeredModel === 'string' && typeof version === 'string') out.push({ registeredModel, version });
  }
  return out;
}

/** The registered models the chain names as deployment candidates. */
export function deployedModels(records: AuditRecord[]): string[] {
  const out = new Set<string>();
  for (const r of records) {
    const c = r.action === 'deployment.started' ? r.details?.candidate : undefined;
    const name = c && typeof c === 'object' ? (c as Record<string, unknown>).registeredModel : undefined;
    if (typeof name === 'string') out.add(name);
  }
  return [...out];
}

/**
 * The MLflow anchors of an endpoint's chain: every model version that carries the endpoint's
 * head tag quotes a head; every version the chain says was deployed with the tag
 * (taggedDeployments) but carries none is an absent anchor, with promote's own note when it
 * recorded that it could not write it (anchor.failed).
 */
export function registryClaims(
  endpoint: string,
  versions: (VersionRef & { tags: Record<string, string> })[],
  records: AuditRecord[],
): AnchorClaim[] {
  const deployed = taggedDeployments(records, endpoint);
  const key = auditHeadTagKey(endpoint);
  const claims: AnchorClaim[] = [];
  const id = (v: VersionRef) => `${v.registeredModel}\n${v.version}`;
  const tagged = new Set<string>();
  for (const v of versions) {
    const value = v.tags[key];
    if (value === undefined) continue;
    tagged.add(id(v));
    const source = modelVersionSource(v.registeredModel, v.version);
    const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(value);
    if (m && Number(m[1]) >= 1) claims.push({ source, seq: Number(m[1]), hash: m[2] });
    else claims.push({ source, absent: `its tag ${key} holds ${JSON.stringify(value.slice(0, 80))}, not <seq>:<sha256 hex>` });
  }
  const known = new Set(versions.map(id));
  const seen = new Set<string>();
  for (const v of deployed) {
    if (tagged.has(id(v)) || seen.has(id(v))) continue;
    seen.add(id(v));
    const failed = records.find(
      (r) => r.action === 'anchor.failed' && r.details?.registeredModel === v.registeredModel && r.details?.version === v.version,
    );
    const why = failed ? `; promote recorded that it could not write it (record #${failed.seq}: ${String(failed.details?.reason)})` : '';
    claims.push({
      source: modelVersionSource(v.registeredModel, v.version),
      absent: known.has(id(v))
        ? `was deployed to ${endpoint} but carries no ${key} tag${why}`
        : `was deployed to ${endpoint} but no longer exists in MLflow${why}`,
    });
  }
  return claims;
}

/** The head a stored object quotes in its `auditHead` field, if it holds a well-formed one. */
export function anchorIn(value: unknown, source: string): AuditAnchor | undefined {
  const head = value && typeof value === 'object' ? (value as { auditHead?: unknown }).auditHead : undefined;
  if (!head || typeof head !== 'object') return undefined;
  const { seq, hash } = head as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return { seq, hash, source };
}

const fields = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * Records that act on a deployment other than its `deployment.started` said. The chain cannot be
 * rewritten, but the deployment record in the state bucket can be edited between two runs, and
 * promote and rollback act on what it says: a record edited to name another config to go back to,
 * another alias version or another candidate, or a pointer moved back to an older deployment,
 * shows here as a later step that contradicts the start. Records without the fields (written
 * before they were recorded) are not checked.
 */
export function contradictions(records: unknown[]): ChainProblem[] {
  const started = new Map<string, { seq: number; details: Record<string, unknown> }>();
  let latest: string | undefined;
  const problems: ChainProblem[] = [];
  for (const raw of records) {
    const r = fields(raw);
    if (!r || typeof r.deploymentId !== 'string' || typeof r.seq !== 'number') continue;
    const id = r.deploymentId;
    const d = fields(r.details) ?? {};
    if (r.action === 'deployment.started') {
      // The first start of an id is the one a later forged start (an append) cannot replace.
      if (!started.has(id)) started.set(id, { seq: r.seq, details: d });
      latest = id;
      continue;
    }
    const start = started.get(id);
    if (!start) continue;
    const seq = r.seq;
    const says = (what: string, want: unknown, found: unknown) =>
      problems.push({
        kind: 'contradicted',
        seq,
        message: `record #${seq} (${String(r.action)}) of deployment ${id} ${what} ${JSON.stringify(found)}, but its deployment.started (record #${start.seq}) says ${JSON.stringify(want)}: the deployment record was edited between runs`,
      });
    const previous = fields(start.details.previous);
    const candidate = fields(start.details.candidate);
    if (r.action === 'rollback.started' && latest !== id) {
      problems.push({
        kind: 'contradicted',
        seq,
        message: `record #${seq} rolls back deployment ${id}, but deployment ${latest} started after it (record #${started.get(latest!)?.seq}): the state's pointer was moved back`,
      });
    }
    const backTo = ['shadow.removed', 'candidate.removed', 'rollback.done'].includes(String(r.action));
    if (backTo && typeof d.config === 'string' && previous && d.config !== previous.endpointConfig)
      says('went back to endpoint config', previous.endpointConfig, d.config);
    if (
      r.action === 'rollback.done' &&
      'alias' in d &&
      'previousAliasVersion' in start.details &&
      d.alias !== start.details.previousAliasVersion
    )
      says('restored the alias to', start.details.previousAliasVersion, d.alias);
    if (r.action === 'alias.moved' && candidate && d.version !== candidate.version)
      says('moved the alias to version', candidate.version, d.version);
  }
  return problems;
}

export interface ChainReport {
  ok: boolean;
  records: number;
  /** seq and hash of the last record: quote it elsewhere to detect truncation of the tail. */
  head?: AuditHead;
  /** How many anchors (heads quoted outside the chain) were checked. */
  anchors?: number;
  /** The anchors checked, by where they were found. */
  anchorsBySource?: Record<AnchorOrigin, number>;
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
  let pastPadding = false;
  let prev: AuditRecord | undefined;
  let head: ChainReport['head'];
  for (const { key, record } of entries) {
    const keySeq = seqOfKey(key);
    if (keySeq === undefined) continue;
    if (keySeq >= 10 ** AUDIT_KEY_DIGITS && !pastPadding) {
      pastPadding = true;
      problems.push({
        kind: 'numbered-past-padding',
        seq: keySeq,
        key,
        message: `${key}: record numbers from ${keySeq} on have more than ${AUDIT_KEY_DIGITS} digits, which no chain reaches one append at a time: a key was forged ahead of the chain, and later records are numbered after it`,
      });
    }
    // Before an unreadable record too: a forged key far ahead must not hide the numbers it skips.
    if (keySeq > expectedSeq) {
      problems.push({
        kind: 'gap',
        seq: expectedSeq,
        key,
        message: `records ${expectedSeq}..${keySeq - 1} are missing before ${key}`,
      });
    }
    if (!record || typeof record !== 'object') {
      problems.push({ kind: 'unreadable', seq: keySeq, key, message: `${key}: not a JSON audit record` });
      prev = undefined;
      expectedSeq = keySeq + 1;
      continue;
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

/** The Object Lock retention every record must carry. */
export interface RetentionPolicy {
  mode: string;
  days: number;
}

/** One record key of a chain as its version history shows it. */
export interface StoredKey {
  key: string;
  /** How many versions are stored (more than one: the key was written over). */
  versions: number;
  /** How many delete markers it has. */
  deleteMarkers: number;
  /** The newest entry is a delete marker: a plain GET no longer finds the record. */
  deleted: boolean;
  /** The newest stored version, read: the record the chain is walked with. */
  newest?: { record: AuditRecord | undefined; lockMode?: string; retainUntil?: Date };
}

// S3 may keep retain-until dates to the second; a record sealed at .999 s must not be reported short.
const RETENTION_SLACK_MS = 1000;

/**
 * Verifies a chain from its whole version history: the chain walk of `verifyChain` over each
 * key's newest stored version (so a deleted record still links its neighbours), plus every
 * delete marker, every key written more than once, every record without the configured Object
 * Lock retention, and every anchor whose record is missing or has another hash.
 */
export async function verifyTrail(
  keys: StoredKey[],
  opts: { retention?: RetentionPolicy; anchors?: AnchorClaim[] } = {},
  hasher: Hasher = sha256Hex,
): Promise<ChainReport> {
  const problems: ChainProblem[] = [];
  for (const k of keys) {
    const seq = seqOfKey(k.key);
    if (k.deleteMarkers > 0) {
      const now = k.deleted ? 'is deleted' : 'was deleted and written again';
      problems.push({ kind: 'deleted', seq, key: k.key, message: `${k.key} ${now} (${k.deleteMarkers} delete marker(s))` });
    }
    if (k.versions > 1) {
      problems.push({
        kind: 'overwritten',
        seq,
        key: k.key,
        message: `${k.key} has ${k.versions} versions: it was written over after it was appended`,
      });
    }
  }
  const walked = keys.flatMap((k) => (k.newest ? [{ key: k.key, record: k.newest.record }] : []));
  const chain = await verifyChain(walked, hasher);
  problems.push(...chain.problems, ...contradictions(walked.map((w) => w.record)));

  if (opts.retention) {
    const { mode, days } = opts.retention;
    for (const k of keys) {
      const seq = seqOfKey(k.key);
      if (!k.newest?.record) continue;
      const { lockMode, retainUntil } = k.newest;
      if (!lockMode || !retainUntil) {
        problems.push({ kind: 'retention-missing', seq, key: k.key, message: `${k.key} has no Object Lock retention` });
        continue;
      }
      if (lockMode !== mode) {
        problems.push({ kind: 'retention-mode', seq, key: k.key, message: `${k.key} is retained in ${lockMode} mode, not ${mode}` });
      }
      const sealed = Date.parse(k.newest.record.at);
      const due = sealed + days * 86_400_000;
      if (Number.isFinite(sealed) && retainUntil.getTime() + RETENTION_SLACK_MS < due) {
        problems.push({
          kind: 'retention-short',
          seq,
          key: k.key,
          message: `${k.key} is retained until ${retainUntil.toISOString()}, short of ${days} days after ${k.newest.record.at}`,
        });
      }
    }
  }

  const bySeq = new Map<number, AuditRecord>();
  for (const w of walked) {
    const seq = seqOfKey(w.key);
    if (seq !== undefined && w.record) bySeq.set(seq, w.record);
  }
  const anchorsBySource: Record<AnchorOrigin, number> = { 'deployment-record': 0, mlflow: 0 };
  for (const a of opts.anchors ?? []) {
    anchorsBySource[anchorOrigin(a.source)]++;
    if ('absent' in a) {
      problems.push({ kind: 'anchor-missing', message: `${a.source} ${a.absent}` });
      continue;
    }
    const r = bySeq.get(a.seq);
    // The hash of the content, not the stored `hash` field: an edit that kept the field must not match.
    const { hash: _stored, ...body } = r ?? { hash: '' };
    const actual = r && (await hasher(canonicalJson(body)));
    if (!r) {
      problems.push({
        kind: 'anchor-missing',
        seq: a.seq,
        message: `${a.source} anchors record #${a.seq}, which the chain does not hold (records were removed)`,
      });
    } else if (actual !== a.hash) {
      problems.push({
        kind: 'anchor-mismatch',
        seq: a.seq,
        message: `${a.source} anchors record #${a.seq} with hash ${a.hash}, but the chain's record #${a.seq} hashes to ${actual} (rewritten)`,
      });
    }
  }
  return {
    ok: problems.length === 0,
    records: chain.records,
    head: chain.head,
    anchors: opts.anchors?.length ?? 0,
    anchorsBySource,
    problems,
  };
}
