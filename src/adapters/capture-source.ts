/**
 * Where data-capture lines come from: SageMaker's S3 layout, or local files and folders.
 * Both stream: objects and files are read chunk by chunk and split into lines, never buffered
 * whole, and yielded in batches (one async step per chunk, not per line).
 *
 * S3 keys are `{prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/{file}.jsonl` (UTC hours): only the
 * hour prefixes that overlap the window are listed. Records are filtered by their inferenceTime by
 * the caller (the hour of a file is when it was written, so a record near an hour boundary may sit
 * in the neighbouring hour's file; one hour before the window is listed too for that reason).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { ExternalError, InterruptedError, UserError } from '../cli/errors.js';

/** A batch of complete lines and where they came from. */
export interface LineBatch {
  source: string;
  lines: string[];
}

export interface TimeWindow {
  /** Inclusive start, ms since the epoch. */
  from: number;
  /** Exclusive end, ms since the epoch. */
  to: number;
}

export interface CaptureFileRef {
  /** s3://bucket/key or a local path. */
  name: string;
  size?: number;
}

/** Splits a stream of byte or string chunks into batches of lines (the last line may lack its \n). */
export async function* splitLines(chunks: AsyncIterable<Uint8Array | string>, source: string, signal?: AbortSignal): AsyncGenerator<LineBatch> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of chunks) {
    if (signal?.aborted) throw new InterruptedError();
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    if (lines.length) yield { source, lines };
  }
  rest += decoder.decode();
  if (rest.trim() !== '') yield { source, lines: [rest] };
}

// ---- local -------------------------------------------------------------------------------------

/** Capture files under the given files and folders (folders walked recursively for *.jsonl), sorted. */
export async function localCaptureFiles(paths: string[]): Promise<CaptureFileRef[]> {
  const out: CaptureFileRef[] = [];
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new UserError('CAPTURE_NOT_FOUND', `Capture path ${p} does not exist.`, { hint: 'Pass a folder of data-capture .jsonl files (or files) to --capture-dir.' });
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) {
        const child = path.join(p, e.name);
        if (e.isDirectory()) await walk(child);
        else if (e.isFile() && /\.jsonl?$/i.test(e.name)) out.push({ name: child, size: (await stat(child)).size });
      }
    } else out.push({ name: p, size: st.size });
  };
  for (const p of paths) await walk(p);
  return out;
}

/** Streams the lines of local files. */
export async function* localCaptureLines(files: CaptureFileRef[], signal?: AbortSignal): AsyncGenerator<LineBatch> {
  for (const f of files) {
    const stream = createReadStream(f.name, { highWaterMark: 1 << 20 });
    try {
      yield* splitLines(stream as AsyncIterable<Uint8Array>, f.name, signal);
    } finally {
      stream.destroy();
    }
  }
}

// ---- S3 ----------------------------------------------------------------------------------------

export interface S3CaptureOptions {
  client: S3Client;
  bucket: string;
  /** The data-capture destination prefix (no leading/trailing slash). */
  prefix: string;
  endpoint: string;
  /** Variants to read; default: every variant found under the endpoint. */
  variants?: string[];
  window: TimeWindow;
  signal?: AbortSignal;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The yyyy/mm/dd/hh/ prefixes (UTC) of every hour overlapping [from - 1h, to). */
export function hourPrefixes(window: TimeWindow): string[] {
  const HOUR = 3_600_000;
  const out: string[] = [];
  for (let t = Math.floor(window.from / HOUR) * HOUR - HOUR; t < window.to; t += HOUR) {
    const d = new Date(t);
    out.push(`${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`);
  }
  return out;
}

function s3Failure(op: string, where: string, e: unknown): ExternalError {
  const name = (e as { name?: string })?.name ?? 'error';
  return new ExternalError('S3_ERROR', `S3 ${op} ${where} failed: ${name}: ${e instanceof Error ? e.message : String(e)}`, {
    hint: 'Check AWS credentials and region, the data-capture destination (deploy.dataCapture.destination or monitor.capture), and that the role may list and read it.',
    cause: e,
  });
}

const joinKey = (...parts: string[]) => parts.filter((p) => p !== '').join('/');

/** The variants that have capture data under the endpoint. */
export async function listVariants(o: Pick<S3CaptureOptions, 'client' | 'bucket' | 'prefix' | 'endpoint'>): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const base = joinKey(o.prefix, o.endpoint) + '/';
  const out: string[] = [];
  let token: string | undefined;
  try {
    do {
      const r = await o.client.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: base, Delimiter: '/', ContinuationToken: token }));
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix.slice(base.length).replace(/\/$/, ''));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  } catch (e) {
    throw s3Failure('ListObjectsV2', `s3://${o.bucket}/${base}`, e);
  }
  return out;
}

/** The capture objects of the window, in key (time) order. */
export async function listCaptureObjects(o: S3CaptureOptions): Promise<CaptureFileRef[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const variants = o.variants?.length ? o.variants : await listVariants(o);
  const out: CaptureFileRef[] = [];
  for (const variant of variants) {
    for (const hour of hourPrefixes(o.window)) {
      const prefix = joinKey(o.prefix, o.endpoint, variant, hour);
      let token: string | undefined;
      try {
        do {
          if (o.signal?.aborted) throw new InterruptedError();
          const r = await o.client.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: prefix, ContinuationToken: token }));
          for (const c of r.Contents ?? []) if (c.Key) out.push({ name: `s3://${o.bucket}/${c.Key}`, size: c.Size });
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
      } catch (e) {
        if (e instanceof InterruptedError) throw e;
        throw s3Failure('ListObjectsV2', `s3://${o.bucket}/${prefix}`, e);
      }
    }
  }
  return out;
}

/** Streams the lines of S3 objects (GetObject bodies read chunk by chunk). */
export async function* s3CaptureLines(client: S3Client, objects: CaptureFileRef[], signal?: AbortSignal): AsyncGenerator<LineBatch> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  for (const obj of objects) {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(obj.name)!;
    let body: AsyncIterable<Uint8Array>;
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }), { abortSignal: signal });
      body = r.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (e) {
      if (signal?.aborted) throw new InterruptedError();
      throw s3Failure('GetObject', obj.name, e);
    }
    try {
      yield* splitLines(body, obj.name, signal);
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      throw s3Failure('GetObject (reading the body of)', obj.name, e);
    } finally {
      (body as { destroy?: () => void }).destroy?.();
    }
  }
}
