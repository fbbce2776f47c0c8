/**
 * The audit trail in S3: each record its own object, key = zero-padded sequence number, written
 * with If-None-Match: * (two writers cannot both take a number) under Object Lock retention.
 * One chain per endpoint: {audit.uri}/{endpoint}/000000000001.json ...
 */
import { ExternalError } from '../core/errors.js';
import { auditKey, sealRecord, seqOfKey, verifyChain, type AuditRecord } from '../core/audit.js';
import type { DeployTarget } from '../core/deploy-target.js';
import { joinKey, parseS3Uri, type ObjectStore, type Retention, type S3Location } from './s3-store.js';
import type { AuditLog } from '../core/ports.js';
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
  const { bucket } = o.location;
  const prefix = joinKey(o.location.prefix, o.endpoint);
  const keys = async () => (await o.store.list(bucket, prefix + '/')).filter((k) => seqOfKey(k) !== undefined);
  const read = async (key: string) => (await o.store.getJson<AuditRecord>(bucket, key))?.value;

  // The record this log appended last: the next append chains onto it without listing the
  // chain again; when another writer got there first (412), it lists and reads as usual.
  let lastWritten: AuditRecord | undefined;
  return {
    location: { bucket, prefix },
    async append(event) {
      for (let attempt = 0; attempt < 10; attempt++) {
        let lastKey: string | undefined;
        let previous: AuditRecord | undefined;
        if (lastWritten && attempt === 0) {
          previous = lastWritten;
          lastKey = auditKey(prefix, lastWritten.seq);
        } else {
          const all = await keys();
          lastKey = all[all.length - 1];
          previous = lastKey ? await read(lastKey) : undefined;
        }
        const at = now();
        const record = await sealRecord({ ...event, endpoint: o.endpoint }, previous, at);
        if (lastKey && previous && record.seq !== seqOfKey(lastKey)! + 1) {
          throw new ExternalError('AUDIT_CORRUPT', `audit record ${lastKey} holds seq ${previous.seq}; run \`mlops audit verify\``);
        }
        const until = new Date(at.getTime() + o.retentionDays * 86_400_000);
        const put = await o.store.putJson(bucket, auditKey(prefix, record.seq), record, {
          ifNoneMatch: '*',
          retention: { mode: o.mode ?? 'COMPLIANCE', until },
        });
        if (put.ok) {
          lastWritten = record;
          return record;
        }
        // Another writer took this sequence number: chain onto its record instead.
      }
      throw new ExternalError('AUDIT_CONTENDED', `could not append to the audit trail s3://${bucket}/${prefix}/`);
    },
    async tail(n) {
      const all = await keys();
      const out: AuditRecord[] = [];
      for (const k of all.slice(-n)) {
        const r = await read(k);
        if (r) out.push(r);
      }
      return out;
    },
    async verify() {
      const entries: { key: string; record: AuditRecord | undefined }[] = [];
      for (const key of await keys()) {
        let record: AuditRecord | undefined;
        try {
          record = await read(key);
        } catch {
          record = undefined;
        }
        entries.push({ key, record });
      }
      return verifyChain(entries);
    },
  };
}
