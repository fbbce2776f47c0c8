/**
 * A narrow interface over S3 for the state, lock and audit objects: JSON with ETags, conditional
 * writes (If-None-Match: * / If-Match: etag), Object Lock retention, listing. Built on
 * @aws-sdk/client-s3 (`client.send(new XCommand(input))`), loaded lazily. Expected outcomes (a
 * missing object, a failed precondition) are values; anything else is an ExternalError (exit 3).
 */
import { Readable } from 'node:stream';
import { ExternalError, InterruptedError } from '../core/errors.js';
import { awsErrorName, awsFailure, awsHttpStatus } from './aws.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PutCondition, Retention, PutOutcome, ObjectStore, ObjectVersion, VersionListing } from '../core/ports.js';
export type {
  S3Location,
  PutCondition,
  Retention,
  PutOutcome,
  HeadResult,
  ObjectStore,
  ObjectVersion,
  VersionListing,
  StoredJson,
} from '../core/ports.js';

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

/**
 * The one ListObjectVersions paginator: every version and delete marker under the prefix, page
 * after page (key marker and version-id marker). The SDK returns versions and delete markers in
 * two lists, so only the order of versions within a key (newest first) is known, not how markers
 * interleave with them.
 */
export async function listVersionsAll(
  client: S3Client,
  q: { bucket: string; prefix: string; signal?: AbortSignal; pageSize?: number },
): Promise<VersionListing> {
  const { ListObjectVersionsCommand } = await import('@aws-sdk/client-s3');
  const versions: ObjectVersion[] = [];
  const deleteMarkers: ObjectVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  try {
    do {
      if (q.signal?.aborted) throw new InterruptedError();
      const out = await client.send(
        new ListObjectVersionsCommand({
          Bucket: q.bucket,
          Prefix: q.prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
          MaxKeys: q.pageSize,
        }),
        { abortSignal: q.signal },
      );
      for (const [from, to] of [
        [out.Versions, versions],
        [out.DeleteMarkers, deleteMarkers],
      ] as const) {
        for (const v of from ?? []) {
          if (v.Key) to.push({ key: v.Key, versionId: v.VersionId ?? 'null', latest: v.IsLatest ?? false, lastModified: v.LastModified });
        }
      }
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      versionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
    } while (keyMarker);
  } catch (e) {
    if (q.signal?.aborted) throw new InterruptedError();
    throw s3Error('ListObjectVersions', q.bucket, q.prefix, e);
  }
  return { versions, deleteMarkers };
}

/**
 * Downloads every object under s3://bucket/prefix into dest, keys relative to the prefix, each
 * streamed to a temporary name and renamed when complete; returns the relative paths written.
 */
export async function downloadPrefix(
  client: S3Client,
  q: { bucket: string; prefix: string; dest: string; signal?: AbortSignal },
): Promise<string[]> {
  const [{ GetObjectCommand }, { createWriteStream }, { mkdir, rename, rm }, path, { pipeline }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('node:fs'),
    import('node:fs/promises'),
    import('node:path'),
    import('node:stream/promises'),
  ]);
  const prefix = q.prefix.replace(/\/*$/, '/');
  const { objects } = await listAll(client, { bucket: q.bucket, prefix, signal: q.signal });
  // A single file's URI (no objects under it as a folder): download that object.
  const files = objects.length ? objects.map((o) => ({ key: o.key, rel: o.key.slice(prefix.length) })) : [{ key: q.prefix, rel: '' }];
  const written: string[] = [];
  for (const f of files) {
    if (f.key.endsWith('/')) continue; // folder placeholder objects
    const rel = f.rel.split('/').filter((p) => p && p !== '.' && p !== '..');
    const local = rel.length ? path.join(q.dest, ...rel) : q.dest;
    await mkdir(path.dirname(local), { recursive: true });
    const part = `${local}.part-${process.pid}`;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: q.bucket, Key: f.key }), { abortSignal: q.signal });
      await pipeline(out.Body as NodeJS.ReadableStream, createWriteStream(part));
      await rename(part, local);
    } catch (e) {
      await rm(part, { force: true });
      if (q.signal?.aborted) throw new InterruptedError();
      if (e instanceof ExternalError) throw e;
      throw s3Error('GetObject', q.bucket, f.key, e);
    }
    written.push(rel.join('/'));
  }
  return written;
}

/**
 * The most a state, lock or audit object may hold. mlops writes a few KiB; anyone who can write
 * the bucket could leave gigabytes, which would be read whole into memory.
 */
export const MAX_STORED_JSON_BYTES = 8 * 1024 * 1024;
/** The deepest nesting of such an object: mlops writes under 10 levels; deeper JSON overflows the stack of every recursive walk (hashing, printing). */
export const MAX_STORED_JSON_DEPTH = 64;

/** How deeply the JSON text nests objects and arrays (counted without parsing it). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Parses a stored object's text; S3_BAD_JSON naming the object when it is not JSON, or nests too deeply. */
function parseStoredJson(text: string, where: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ExternalError('S3_BAD_JSON', `${where} is not valid JSON`, { cause: e });
  }
  if (jsonDepth(text) > MAX_STORED_JSON_DEPTH)
    throw new ExternalError('S3_BAD_JSON', `${where} is not JSON mlops wrote: it nests deeper than ${MAX_STORED_JSON_DEPTH} levels`);
  return value;
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
    async getJson<T>(bucket: string, key: string, opts: { versionId?: string } = {}) {
      try {
        const out = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key, VersionId: opts.versionId }));
        if ((out.ContentLength ?? 0) > MAX_STORED_JSON_BYTES) {
          (out.Body as unknown as Readable | undefined)?.destroy?.();
          throw new ExternalError(
            'S3_BAD_JSON',
            `s3://${bucket}/${key} is not JSON mlops wrote: it is ${out.ContentLength} bytes, more than ${MAX_STORED_JSON_BYTES}`,
          );
        }
        const text = await out.Body!.transformToString('utf8');
        return {
          value: parseStoredJson(text, `s3://${bucket}/${key}`) as T,
          etag: out.ETag ?? '',
          versionId: out.VersionId,
          lockMode: out.ObjectLockMode,
          retainUntil: out.ObjectLockRetainUntilDate,
        };
      } catch (e) {
        if (e instanceof ExternalError) throw e;
        if (isNotFound(e)) return undefined;
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
    async putStream(bucket, key, body, opts = {}) {
      const { Upload } = await import('@aws-sdk/lib-storage');
      // 16 MiB parts, two in flight: at most ~32 MiB buffered whatever the size; 10,000 parts
      // (S3's limit) reach 160 GiB.
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: Readable.from(body), ContentType: opts.contentType ?? 'application/octet-stream' },
        partSize: 16 * 1024 * 1024,
        queueSize: 2,
        leavePartsOnError: false,
      });
      let parts = 0;
      upload.on('httpUploadProgress', (p) => {
        parts = Math.max(parts, p.part ?? 0);
        if (p.loaded !== undefined) opts.onProgress?.(p.loaded);
      });
      try {
        const out = await upload.done();
        return { etag: out.ETag ?? '', parts: Math.max(parts, 1) };
      } catch (e) {
        if (e instanceof ExternalError) throw e;
        throw s3Error('Upload', bucket, key, e);
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
    listVersions: (bucket, prefix) => listVersionsAll(client, { bucket, prefix }),
    async versioning(bucket) {
      try {
        const out = await client.send(new s3.GetBucketVersioningCommand({ Bucket: bucket }));
        return out.Status;
      } catch (e) {
        throw s3Error('GetBucketVersioning', bucket, '', e);
      }
    },
  };
}

/**
 * In-memory ObjectStore with the semantics of a versioned S3 bucket (ETags, conditions, a new
 * version per write, delete markers, retention that forbids removing a version), for unit tests
 * of the core and the commands.
 */
export class MemoryStore implements ObjectStore {
  /** Per bucket/key, its versions and delete markers, newest first. */
  readonly history = new Map<string, { versionId: string; body?: Uint8Array; etag: string; retention?: Retention }[]>();
  private n = 0;
  /** Every call, in order (tests assert on it). */
  readonly calls: string[] = [];
  constructor(private readonly now: () => Date = () => new Date()) {}

  private id(bucket: string, key: string) {
    return `${bucket}/${key}`;
  }

  /** The version a plain GET reads: undefined when there is none or the newest is a delete marker. */
  private current(bucket: string, key: string) {
    const v = this.history.get(this.id(bucket, key))?.[0];
    return v?.body && { ...v, body: v.body };
  }

  private write(bucket: string, key: string, body: Uint8Array | undefined, retention?: Retention) {
    const version = { versionId: `v${++this.n}`, body, etag: `"${this.n}"`, retention };
    this.history.set(this.id(bucket, key), [version, ...(this.history.get(this.id(bucket, key)) ?? [])]);
    return version;
  }

  async getJson<T>(bucket: string, key: string, opts: { versionId?: string } = {}) {
    this.calls.push(`getJson ${bucket}/${key}`);
    const o = opts.versionId
      ? this.history.get(this.id(bucket, key))?.find((v) => v.versionId === opts.versionId && v.body)
      : this.current(bucket, key);
    if (!o?.body) return undefined;
    return {
      value: parseStoredJson(new TextDecoder().decode(o.body), `s3://${bucket}/${key}`) as T,
      etag: o.etag,
      versionId: o.versionId,
      lockMode: o.retention?.mode,
      retainUntil: o.retention?.until,
    };
  }

  async putJson(bucket: string, key: string, value: unknown, opts: PutCondition & { retention?: Retention } = {}): Promise<PutOutcome> {
    this.calls.push(`putJson ${bucket}/${key}`);
    const cur = this.current(bucket, key);
    if (opts.ifNoneMatch && cur) return { ok: false, reason: 'precondition-failed' };
    if (opts.ifMatch && (!cur || cur.etag !== opts.ifMatch)) return { ok: false, reason: 'precondition-failed' };
    const v = this.write(bucket, key, new TextEncoder().encode(JSON.stringify(value, null, 2)), opts.retention);
    return { ok: true, etag: v.etag, versionId: v.versionId };
  }

  async putBytes(bucket: string, key: string, body: Uint8Array) {
    this.calls.push(`putBytes ${bucket}/${key}`);
    return { etag: this.write(bucket, key, body).etag };
  }

  async putStream(bucket: string, key: string, body: AsyncIterable<Uint8Array>) {
    this.calls.push(`putStream ${bucket}/${key}`);
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    return { etag: this.write(bucket, key, Buffer.concat(chunks)).etag, parts: 1 };
  }

  async head(bucket: string, key: string) {
    const o = this.current(bucket, key);
    if (!o) return undefined;
    return { etag: o.etag, size: o.body.length, versionId: o.versionId, lockMode: o.retention?.mode, retainUntil: o.retention?.until };
  }

  async list(bucket: string, prefix: string) {
    return this.keys(bucket, prefix).filter((k) => this.current(bucket, k));
  }

  /** Without a version id, as in a versioned bucket: a delete marker, allowed even under retention. */
  async delete(bucket: string, key: string, opts: { ifMatch?: string } = {}): Promise<PutOutcome> {
    this.calls.push(`delete ${bucket}/${key}`);
    const cur = this.current(bucket, key);
    if (!cur) return { ok: true, etag: '' };
    if (opts.ifMatch && cur.etag !== opts.ifMatch) return { ok: false, reason: 'precondition-failed' };
    this.write(bucket, key, undefined);
    return { ok: true, etag: '' };
  }

  /** Removes one version for good (S3 DeleteObject with a VersionId): refused under retention. */
  async deleteVersion(bucket: string, key: string, versionId: string): Promise<void> {
    const versions = this.history.get(this.id(bucket, key)) ?? [];
    const v = versions.find((x) => x.versionId === versionId);
    if (v?.retention && v.retention.until > this.now()) {
      throw new ExternalError('S3_ERROR', `s3://${bucket}/${key} version ${versionId} is under Object Lock retention`);
    }
    const left = versions.filter((x) => x !== v);
    if (left.length) this.history.set(this.id(bucket, key), left);
    else this.history.delete(this.id(bucket, key));
  }

  async listVersions(bucket: string, prefix: string): Promise<VersionListing> {
    const out: VersionListing = { versions: [], deleteMarkers: [] };
    for (const key of this.keys(bucket, prefix)) {
      this.history.get(this.id(bucket, key))!.forEach((v, i) => {
        (v.body ? out.versions : out.deleteMarkers).push({ key, versionId: v.versionId, latest: i === 0 });
      });
    }
    return out;
  }

  async versioning(): Promise<'Enabled'> {
    return 'Enabled';
  }

  private keys(bucket: string, prefix: string) {
    const p = `${bucket}/${prefix}`;
    return [...this.history.keys()]
      .filter((k) => k.startsWith(p))
      .map((k) => k.slice(bucket.length + 1))
      .sort();
  }
}
