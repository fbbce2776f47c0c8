/**
 * A narrow interface over S3 for the state, lock and audit objects: JSON with ETags, conditional
 * writes (If-None-Match: * / If-Match: etag), Object Lock retention, listing. Built on
 * @aws-sdk/client-s3 (`client.send(new XCommand(input))`), loaded lazily. Expected outcomes (a
 * missing object, a failed precondition) are values; anything else is an ExternalError (exit 3).
 */
import { ExternalError, InterruptedError } from '../core/errors.js';
import { awsErrorName, awsFailure, awsHttpStatus } from './aws.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PutCondition, Retention, PutOutcome, ObjectStore } from '../core/ports.js';
export type { S3Location, PutCondition, Retention, PutOutcome, HeadResult, ObjectStore } from '../core/ports.js';

export { joinKey, parseS3Uri } from '../core/s3-uri.js';

/** One listed object. */
export interface ListedObject {
  key: string;
  size?: number;
  lastModified?: Date;
}

/**
 * The one ListObjectsV2 paginator: every object under the prefix (and, with a delimiter, the
 * common prefixes), page after page. Failures are mapped by awsFailure; an abort is an interrupt.
 */
export async function listAll(
  client: S3Client,
  q: { bucket: string; prefix: string; delimiter?: string; signal?: AbortSignal },
): Promise<{ objects: ListedObject[]; prefixes: string[] }> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const objects: ListedObject[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  try {
    do {
      if (q.signal?.aborted) throw new InterruptedError();
      const out = await client.send(
        new ListObjectsV2Command({ Bucket: q.bucket, Prefix: q.prefix, Delimiter: q.delimiter, ContinuationToken: token }),
        { abortSignal: q.signal },
      );
      for (const o of out.Contents ?? []) if (o.Key) objects.push({ key: o.Key, size: o.Size, lastModified: o.LastModified });
      for (const p of out.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  } catch (e) {
    if (q.signal?.aborted) throw new InterruptedError();
    throw s3Error('ListObjectsV2', q.bucket, q.prefix, e);
  }
  return { objects, prefixes };
}

function isPreconditionFailed(e: unknown): boolean {
  // 412 PreconditionFailed; 409 ConditionalRequestConflict when two conditional writes race.
  return awsHttpStatus(e) === 412 || awsHttpStatus(e) === 409 || /PreconditionFailed|ConditionalRequestConflict/.test(awsErrorName(e));
}

function isNotFound(e: unknown): boolean {
  return awsHttpStatus(e) === 404 || /NoSuchKey|NotFound/.test(awsErrorName(e));
}

function s3Error(op: string, bucket: string, key: string, e: unknown) {
  return awsFailure('S3', op, e, {
    where: `s3://${bucket}/${key}`,
    hint: 'Check AWS credentials, the bucket name and region, and that the deploy role may access it.',
  });
}

/** An ObjectStore over a real S3 client. */
export async function s3Store(client: S3Client): Promise<ObjectStore> {
  const s3 = await import('@aws-sdk/client-s3');
  return {
    async getJson<T>(bucket: string, key: string) {
      try {
        const out = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
        const text = await out.Body!.transformToString('utf8');
        return { value: JSON.parse(text) as T, etag: out.ETag ?? '' };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        if (e instanceof SyntaxError) throw new ExternalError('S3_BAD_JSON', `s3://${bucket}/${key} is not valid JSON`, { cause: e });
        throw s3Error('GetObject', bucket, key, e);
      }
    },
    async putJson(bucket, key, value, opts = {}) {
      const body = JSON.stringify(value, null, 2);
      try {
        const out = await client.send(
          new s3.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
            ...(opts.ifNoneMatch ? { IfNoneMatch: opts.ifNoneMatch } : {}),
            ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}),
            ...(opts.retention
              ? { ObjectLockMode: opts.retention.mode, ObjectLockRetainUntilDate: opts.retention.until, ChecksumAlgorithm: 'SHA256' }
              : {}),
          }),
        );
        return { ok: true, etag: out.ETag ?? '', versionId: out.VersionId };
      } catch (e) {
        if (isPreconditionFailed(e)) return { ok: false, reason: 'precondition-failed' };
        throw s3Error('PutObject', bucket, key, e);
      }
    },
    async putBytes(bucket, key, body, contentType = 'application/octet-stream') {
      try {
        const out = await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
        return { etag: out.ETag ?? '' };
      } catch (e) {
        throw s3Error('PutObject', bucket, key, e);
      }
    },
    async head(bucket, key) {
      try {
        const out = await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: key }));
        return {
          etag: out.ETag ?? '',
          size: out.ContentLength ?? 0,
          versionId: out.VersionId,
          lockMode: out.ObjectLockMode,
          retainUntil: out.ObjectLockRetainUntilDate,
        };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw s3Error('HeadObject', bucket, key, e);
      }
    },
    async list(bucket, prefix) {
      const { objects } = await listAll(client, { bucket, prefix });
      return objects.map((o) => o.key).sort();
    },
    async delete(bucket, key, opts = {}) {
      try {
        await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: key, ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}) }));
        return { ok: true, etag: '' };
      } catch (e) {
        if (isPreconditionFailed(e)) return { ok: false, reason: 'precondition-failed' };
        if (isNotFound(e)) return { ok: true, etag: '' };
        throw s3Error('DeleteObject', bucket, key, e);
      }
    },
  };
}

/**
 * In-memory ObjectStore with the same semantics (ETags, conditions, retention that forbids
 * overwriting and deleting), for unit tests of the core and the commands.
 */
export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, { body: Uint8Array; etag: string; retention?: Retention }>();
  private n = 0;
  /** Every call, in order (tests assert on it). */
  readonly calls: string[] = [];
  constructor(private readonly now: () => Date = () => new Date()) {}

  private id(bucket: string, key: string) {
    return `${bucket}/${key}`;
  }

  async getJson<T>(bucket: string, key: string) {
    this.calls.push(`getJson ${bucket}/${key}`);
    const o = this.objects.get(this.id(bucket, key));
    if (!o) return undefined;
    return { value: JSON.parse(new TextDecoder().decode(o.body)) as T, etag: o.etag };
  }

  async putJson(bucket: string, key: string, value: unknown, opts: PutCondition & { retention?: Retention } = {}): Promise<PutOutcome> {
    this.calls.push(`putJson ${bucket}/${key}`);
    const cur = this.objects.get(this.id(bucket, key));
    if (opts.ifNoneMatch && cur) return { ok: false, reason: 'precondition-failed' };
    if (opts.ifMatch && (!cur || cur.etag !== opts.ifMatch)) return { ok: false, reason: 'precondition-failed' };
    if (cur?.retention && cur.retention.until > this.now()) {
      throw new ExternalError('S3_ERROR', `s3://${bucket}/${key} is under Object Lock retention`);
    }
    const etag = `"${++this.n}"`;
    this.objects.set(this.id(bucket, key), {
      body: new TextEncoder().encode(JSON.stringify(value, null, 2)),
      etag,
      retention: opts.retention,
    });
    return { ok: true, etag };
  }

  async putBytes(bucket: string, key: string, body: Uint8Array) {
    this.calls.push(`putBytes ${bucket}/${key}`);
    const etag = `"${++this.n}"`;
    this.objects.set(this.id(bucket, key), { body, etag });
    return { etag };
  }

  async head(bucket: string, key: string) {
    const o = this.objects.get(this.id(bucket, key));
    if (!o) return undefined;
    return { etag: o.etag, size: o.body.length, lockMode: o.retention?.mode, retainUntil: o.retention?.until };
  }

  async list(bucket: string, prefix: string) {
    const p = `${bucket}/${prefix}`;
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(p))
      .map((k) => k.slice(bucket.length + 1))
      .sort();
  }

  async delete(bucket: string, key: string, opts: { ifMatch?: string } = {}): Promise<PutOutcome> {
    this.calls.push(`delete ${bucket}/${key}`);
    const cur = this.objects.get(this.id(bucket, key));
    if (!cur) return { ok: true, etag: '' };
    if (opts.ifMatch && cur.etag !== opts.ifMatch) return { ok: false, reason: 'precondition-failed' };
    if (cur.retention && cur.retention.until > this.now()) {
      throw new ExternalError('S3_ERROR', `s3://${bucket}/${key} is under Object Lock retention`);
    }
    this.objects.delete(this.id(bucket, key));
    return { ok: true, etag: '' };
  }
}
