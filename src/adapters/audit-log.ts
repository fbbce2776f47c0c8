/**
 * The audit trail in S3: each record its own object, key = zero-padded sequence number, written
 * with If-None-Match: * (two writers cannot both take a number) under Object Lock retention.
 * One chain per endpoint: {audit.uri}/{endpoint}/000000000001.json ...
 *
 * The bucket is versioned (Object Lock requires it), so a deleted record leaves a delete marker
 * over its versions and a record written over keeps its first version: appends number from every
 * version ever stored, and verify reads the whole version history.
 */
import { ExternalError } from '../core/errors.js';
import {
  anchorIn,
  auditKey,
  byAuditSeq,
  deployedModels,
  registryClaims,
  sealRecord,
  seqOfKey,
  verifyTrail,
  type AnchorClaim,
  type AuditAnchor,
  type AuditRecord,
  type StoredKey,
  type VersionRef,
} from '../core/audit.js';
import type { DeployTarget } from '../core/deploy-target.js';
import { deploymentStore } from '../core/deployment-store.js';
import { joinKey, parseS3Uri, type ObjectStore, type Retention, type S3Location } from './s3-store.js';
import type { AuditLog, RegistryPort } from '../core/ports.js';
export type { AuditLog } from '../core/ports.js';

export interface AuditLogOptions {
  store: ObjectStore;
  location: S3Location;
  endpoint: string;
  retentionDays: number;
  mode?: Retention['mode'];
  now?: () => Date;
}

/** The audit log of one endpoint from the deploy config. */
export function auditLogFor(store: ObjectStore, deploy: Pick<DeployTarget, 'audit' | 'endpointName'>, now?: () => Date): AuditLog {
  return openAuditLog({
    store,
    location: parseS3Uri(deploy.audit.uri),
    endpoint: deploy.endpointName,
    retentionDays: deploy.audit.retentionDays,
    mode: deploy.audit.mode,
    now,
  });
}

/** An endpoint's audit chain at a location. */
export function openAuditLog(o: AuditLogOptions): AuditLog {
  const now = o.now ?? (() => new Date());
  const mode = o.mode ?? 'COMPLIANCE';
  const { bucket } = o.location;
  const prefix = joinKey(o.location.prefix, o.endpoint);
  const where = `s3://${bucket}/${prefix}/`;
  // Only a record's own key is the chain's: anyone who can write the bucket can put a key that
  // merely ends like one further down (prefix/x/000000000009.json), and it must not steer appends,
  // status or verify.
  const inChain = (key: string) => {
    const seq = seqOfKey(key);
    return seq !== undefined && key === auditKey(prefix, seq);
  };
  const keys = async () => (await o.store.list(bucket, prefix + '/')).filter(inChain).sort(byAuditSeq);
  const read = async (key: string, versionId?: string) => (await o.store.getJson<AuditRecord>(bucket, key, { versionId }))?.value;
  const everStored = async (key: string) => {
    const { versions, deleteMarkers } = await o.store.listVersions(bucket, key);
    return [...versions, ...deleteMarkers].some((v) => v.key === key);
  };

  /**
   * The chain's last record from every version ever stored, deleted keys included: the next
   * number is past any key that ever existed. A deleted last record is chained onto through its
   * stored version (verify reports the deletion). A last record that cannot be chained onto (not
   * JSON, another seq, no version left) is passed over: anyone who can write the bucket can leave
   * one, Object Lock keeps it for years, and refusing to append after it stopped every promote and
   * rollback for that long. verify reports it on its own (unreadable, reordered, gap), and does
   * not check the link of the record after it.
   */
  const chainEnd = async (): Promise<AuditRecord | undefined> => {
    const { versions, deleteMarkers } = await o.store.listVersions(bucket, prefix + '/');
    let last: string | undefined;
    for (const v of [...versions, ...deleteMarkers]) {
      if (inChain(v.key) && (last === undefined || byAuditSeq(v.key, last) > 0)) last = v.key;
    }
    if (last === undefined) return undefined;
    // Versions of a key are listed newest first.
    const newest = versions.find((v) => v.key === last);
    const seq = seqOfKey(last)!;
    const previous: unknown =
      newest &&
      (await read(last, newest.versionId).catch((e: unknown) => {
        if (e instanceof ExternalError && e.code === 'S3_BAD_JSON') return undefined;
        throw e;
      }));
    if (previous && typeof previous === 'object' && (previous as AuditRecord).seq === seq) return previous as AuditRecord;
    // Only its number is known: the next record links to a stand-in for it.
    return { seq, unusable: last } as unknown as AuditRecord;
  };

  // The record this log appended last: the next append chains onto it after checking only that
  // the next key never existed; when it did (another writer, or a deleted record), it lists the
  // whole version history.
  let lastWritten: AuditRecord | undefined;
  return {
    location: { bucket, prefix },
    async append(event) {
      for (let attempt = 0; attempt < 10; attempt++) {
        const cached = attempt === 0 && lastWritten && !(await everStored(auditKey(prefix, lastWritten.seq + 1)));
        const previous = cached ? lastWritten : await chainEnd();
        const at = now();
        const record = await sealRecord({ ...event, endpoint: o.endpoint }, previous, at);
        const until = new Date(at.getTime() + o.retentionDays * 86_400_000);
        const put = await o.store.putJson(bucket, auditKey(prefix, record.seq), record, {
          ifNoneMatch: '*',
          retention: { mode, until },
        });
        if (put.ok) {
          lastWritten = record;
          return record;
        }
        // Another writer took this sequence number: chain onto its record instead.
      }
      throw new ExternalError('AUDIT_CONTENDED', `could not append to the audit trail ${where}`);
    },
    head: () => lastWritten && { seq: lastWritten.seq, hash: lastWritten.hash },
    async tail(n) {
      const all = await keys();
      const out: AuditRecord[] = [];
      for (const k of all.slice(-n)) {
        const r = await read(k);
        if (r) out.push(r);
      }
      return out;
    },
    async verify(anchors = []) {
      const status = await o.store.versioning(bucket);
      if (status !== 'Enabled') {
        throw new ExternalError(
          'AUDIT_NOT_VERSIONED',
          `the audit bucket s3://${bucket} has versioning ${status ? status.toLowerCase() : 'off'}: a deleted or overwritten record leaves no trace there, so ${where} cannot be verified`,
          {
            hint: 'Keep the audit trail in a bucket created with Object Lock enabled (that turns versioning on, for good).',
          },
        );
      }
      const { versions, deleteMarkers } = await o.store.listVersions(bucket, prefix + '/');
      const byKey = new Map<string, StoredKey & { newestId?: string }>();
      const entry = (key: string) => {
        let k = byKey.get(key);
        if (!k) byKey.set(key, (k = { key, versions: 0, deleteMarkers: 0, deleted: false }));
        return k;
      };
      for (const v of versions) {
        if (!inChain(v.key)) continue;
        const k = entry(v.key);
        k.versions++;
        k.newestId ??= v.versionId;
      }
      for (const m of deleteMarkers) {
        if (!inChain(m.key)) continue;
        const k = entry(m.key);
        k.deleteMarkers++;
        if (m.latest) k.deleted = true;
      }
      const stored = [...byKey.values()].sort((a, b) => byAuditSeq(a.key, b.key));
      for (const k of stored) {
        if (!k.newestId) continue;
        try {
          const got = await o.store.getJson<AuditRecord>(bucket, k.key, { versionId: k.newestId });
          k.newest = { record: got?.value, lockMode: got?.lockMode, retainUntil: got?.retainUntil };
        } catch (e) {
          if (!(e instanceof ExternalError && e.code === 'S3_BAD_JSON')) throw e;
          k.newest = { record: undefined };
        }
      }
      const records = stored.flatMap((k) => (k.newest?.record ? [k.newest.record] : []));
      const claims = typeof anchors === 'function' ? await anchors(records) : anchors;
      return verifyTrail(stored, { retention: { mode, days: o.retentionDays }, anchors: claims });
    },
  };
}

/**
 * What the endpoint's deployment records quote: the chain head each holds (`auditHead`, written
 * by promote with every save), the anchors `audit verify` checks the chain against, and the
 * registered models they deployed (whose versions verify reads from MLflow).
 */
export async function deploymentAnchors(
  store: ObjectStore,
  deploy: Pick<DeployTarget, 'state' | 'endpointName'>,
): Promise<{ anchors: AuditAnchor[]; models: string[] }> {
  const { bucket } = parseS3Uri(deploy.state.uri);
  const anchors: AuditAnchor[] = [];
  const models = new Set<string>();
  for (const key of await deploymentStore(store, deploy).list()) {
    let value: unknown;
    try {
      value = (await store.getJson<unknown>(bucket, key))?.value;
    } catch (e) {
      // A deployment record that is not JSON quotes nothing (promote and status report it).
      if (e instanceof ExternalError && e.code === 'S3_BAD_JSON') continue;
      throw e;
    }
    const a = anchorIn(value, `s3://${bucket}/${key}`);
    if (a) anchors.push(a);
    const c = value && typeof value === 'object' ? (value as { candidate?: unknown }).candidate : undefined;
    const name = c && typeof c === 'object' ? (c as Record<string, unknown>).registeredModel : undefined;
    if (typeof name === 'string') models.add(name);
  }
  return { anchors, models: [...models] };
}

/**
 * The MLflow anchors, gathered once the chain is read: every version of the registered models
 * given (the configured one, those the deployment records name) and of those the chain names is
 * read with its tags; a version carrying the endpoint's head tag is an anchor, a version the
 * chain deployed with the tag but that lacks it an absent one. Errors (MLflow unreachable)
 * propagate: verify fails closed.
 */
export function registryAnchors(
  registry: Pick<RegistryPort, 'versionTags'>,
  endpoint: string,
  models: string[],
): (records: AuditRecord[]) => Promise<AnchorClaim[]> {
  return async (records) => {
    const versions: (VersionRef & { tags: Record<string, string> })[] = [];
    for (const name of new Set([...models, ...deployedModels(records)])) {
      for (const v of await registry.versionTags(name)) versions.push({ registeredModel: name, version: v.version, tags: v.tags });
    }
    return registryClaims(endpoint, versions, records);
  };
}
