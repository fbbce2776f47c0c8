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
import { createReadStream, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Worker } from 'node:worker_threads';
import { ExternalError, InterruptedError, UserError } from '../core/errors.js';
import { awsFailure, type AwsSettings } from './aws.js';
import { capturedPair, type CapturedPair } from '../core/bake.js';
import { MAX_CAPTURE_LINE_BYTES } from '../core/capture.js';
import type { CapturePort } from '../core/ports.js';
import { joinKey, parseS3Uri } from '../core/s3-uri.js';
import { listAll } from './s3-store.js';
import { LiveSummary } from '../core/drift/evaluate.js';
import type { Profile } from '../core/drift/profile.js';
import type { BaselineGrid } from '../core/drift/live-numeric.js';
import { emptyScanStats, mergeScanStats, scanCapture as scanLines, type ScanStats } from '../core/drift/scan.js';

/** A batch of complete lines and where they came from. */
export interface LineBatch {
  source: string;
  lines: string[];
  /** Lines longer than MAX_CAPTURE_LINE_BYTES, skipped. */
  tooLong?: number;
}

/** A batch of whole lines as bytes (each ended by a newline, except perhaps a file's last), for the scan. */
export interface ByteBatch {
  source: string;
  bytes: Uint8Array;
  /** Lines longer than MAX_CAPTURE_LINE_BYTES, skipped. */
  tooLong?: number;
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
  /** A line-aligned byte range of a local file: [start, end). */
  range?: { start: number; end: number };
}

/**
 * Cuts a stream of byte (or string) chunks at line boundaries, without decoding: each batch holds
 * whole lines, each ended by a newline except perhaps the stream's last (a line cut by a chunk
 * boundary is joined first). A line longer than `maxLine` bytes is not kept: its bytes are dropped
 * as they arrive (memory stays flat, time linear) and it is counted in the batch's `tooLong`.
 */
export async function* splitLineChunks(
  chunks: AsyncIterable<Uint8Array | string>,
  source: string,
  signal?: AbortSignal,
  maxLine = MAX_CAPTURE_LINE_BYTES,
): AsyncGenerator<ByteBatch> {
  // The start of the current line, in pieces (joined once, when its newline arrives).
  let carry: Uint8Array[] = [];
  let carried = 0;
  // Inside a line already known to be too long: drop bytes up to its newline.
  let skipping = false;
  for await (const chunk of chunks) {
    if (signal?.aborted) throw new InterruptedError();
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const first = buf.indexOf(10);
    if (first < 0) {
      if (!skipping) {
        carry.push(buf);
        carried += buf.length;
        if (carried > maxLine) [skipping, carry, carried] = [true, [], 0];
      }
      continue;
    }
    let start = first + 1;
    if (skipping || carried + first > maxLine) yield { source, bytes: new Uint8Array(0), tooLong: 1 };
    else if (carried) yield { source, bytes: Buffer.concat([...carry, buf.subarray(0, first + 1)]) };
    else start = 0;
    [skipping, carry, carried] = [false, [], 0];
    const last = buf.lastIndexOf(10);
    if (last + 1 > start) yield* wholeLines(buf, start, last + 1, source, maxLine);
    const tail = buf.length - (last + 1);
    if (tail > maxLine) skipping = true;
    else if (tail > 0) [carry, carried] = [[buf.subarray(last + 1)], tail];
  }
  if (skipping) yield { source, bytes: new Uint8Array(0), tooLong: 1 };
  else if (carried) yield { source, bytes: Buffer.concat(carry) };
}

/** The lines buf[start, end) (each ended by a newline) as batches, without those longer than maxLine (only a chunk longer than maxLine can hold one). */
function* wholeLines(buf: Uint8Array, start: number, end: number, source: string, maxLine: number): Generator<ByteBatch> {
  if (end - start <= maxLine) {
    yield { source, bytes: buf.subarray(start, end) };
    return;
  }
  let kept = start;
  for (let s = start; s < end;) {
    const e = buf.indexOf(10, s);
    if (e - s > maxLine) {
      yield { source, bytes: buf.subarray(kept, s), tooLong: 1 };
      kept = e + 1;
    }
    s = e + 1;
  }
  if (end > kept) yield { source, bytes: buf.subarray(kept, end) };
}

/**
 * splitLineChunks, decoded: batches of lines (without their newlines; the last line may have
 * lacked one, and is left out when blank). A newline byte is never part of a multi-byte UTF-8
 * sequence, so whole lines decode without splitting a character.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array | string>,
  source: string,
  signal?: AbortSignal,
  maxLine = MAX_CAPTURE_LINE_BYTES,
): AsyncGenerator<LineBatch> {
  for await (const b of splitLineChunks(chunks, source, signal, maxLine)) {
    const n = b.bytes.length;
    const lines = n ? utf8.decode(b.bytes).split('\n') : [];
    if (n && b.bytes[n - 1] === 10) lines.pop();
    else if (n && lines[lines.length - 1].trim() === '') lines.pop();
    if (lines.length || b.tooLong) yield b.tooLong ? { source, lines, tooLong: b.tooLong } : { source, lines };
  }
}

// Buffer#toString's decoding: a byte-order mark is kept, as the caller's bytes had it.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

// ---- local -------------------------------------------------------------------------------------

/** Capture files under the given files and folders (folders walked recursively for *.jsonl), sorted. */
export async function localCaptureFiles(paths: string[]): Promise<CaptureFileRef[]> {
  const out: CaptureFileRef[] = [];
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new UserError('CAPTURE_NOT_FOUND', `Capture path ${p} does not exist.`, {
        hint: 'Pass a folder of data-capture .jsonl files (or files) to --capture-dir.',
      });
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

/** Streams the lines of local files, as bytes. */
export async function* localCaptureLines(files: CaptureFileRef[], signal?: AbortSignal): AsyncGenerator<ByteBatch> {
  for (const f of files) {
    const stream = createReadStream(f.name, { highWaterMark: 1 << 18, ...(f.range ? { start: f.range.start, end: f.range.end - 1 } : {}) });
    try {
      yield* splitLineChunks(stream as AsyncIterable<Uint8Array>, f.name, signal);
    } finally {
      stream.destroy();
    }
  }
}

/**
 * Cuts local files larger than `target` bytes into line-aligned ranges (each cut moved to just
 * after the next newline), so that one big file can be scanned by several threads.
 */
export async function splitLocalFiles(files: CaptureFileRef[], target: number): Promise<CaptureFileRef[]> {
  const { open } = await import('node:fs/promises');
  const out: CaptureFileRef[] = [];
  for (const f of files) {
    const size = f.size ?? 0;
    if (f.range || size <= target * 1.5) {
      out.push(f);
      continue;
    }
    const fh = await open(f.name, 'r');
    try {
      const cuts = [0];
      const buf = Buffer.alloc(64 * 1024);
      for (let want = target; want < size; want += target) {
        let at = Math.max(want, cuts[cuts.length - 1]);
        let found = -1;
        while (found < 0 && at < size) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, at);
          if (bytesRead === 0) break;
          const nl = buf.subarray(0, bytesRead).indexOf(10);
          if (nl >= 0) found = at + nl + 1;
          else at += bytesRead;
        }
        if (found < 0 || found >= size) break;
        if (found > cuts[cuts.length - 1]) cuts.push(found);
      }
      cuts.push(size);
      for (let i = 0; i + 1 < cuts.length; i++)
        out.push({ name: f.name, size: cuts[i + 1] - cuts[i], range: { start: cuts[i], end: cuts[i + 1] } });
    } finally {
      await fh.close();
    }
  }
  return out;
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
  /** Skip objects last modified before this time (ms since the epoch). */
  skipModifiedBefore?: number;
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

function s3Failure(op: string, where: string, e: unknown) {
  return awsFailure('S3', op, e, {
    where,
    hint: 'Check AWS credentials and region, the data-capture destination (deploy.dataCapture.destination or monitor.capture), and that the role may list and read it.',
  });
}

/** The variants that have capture data under the endpoint. */
export async function listVariants(o: Pick<S3CaptureOptions, 'client' | 'bucket' | 'prefix' | 'endpoint' | 'signal'>): Promise<string[]> {
  const base = joinKey(o.prefix, o.endpoint) + '/';
  const { prefixes } = await listAll(o.client, { bucket: o.bucket, prefix: base, delimiter: '/', signal: o.signal });
  return prefixes.map((p) => p.slice(base.length).replace(/\/$/, ''));
}

/** The capture objects of the window, in key (time) order. */
export async function listCaptureObjects(o: S3CaptureOptions): Promise<CaptureFileRef[]> {
  const variants = o.variants?.length ? o.variants : await listVariants(o);
  const out: CaptureFileRef[] = [];
  for (const variant of variants) {
    for (const hour of hourPrefixes(o.window)) {
      const { objects } = await listAll(o.client, {
        bucket: o.bucket,
        prefix: joinKey(o.prefix, o.endpoint, variant, hour),
        signal: o.signal,
      });
      for (const c of objects) {
        // An object last modified before the window began holds no record from inside it.
        if (o.skipModifiedBefore !== undefined && c.lastModified && c.lastModified.getTime() < o.skipModifiedBefore) continue;
        out.push({ name: `s3://${o.bucket}/${c.key}`, size: c.size });
      }
    }
  }
  return out;
}

/** The bake's capture port, with the count of S3 requests it made (bench/promote prints it). */
export interface S3CapturePort extends CapturePort {
  readonly s3Requests: number;
}

/**
 * The bake's capture port: request/response pairs of one variant in a window, from the data
 * capture destination. The hour prefixes of the window are listed at once; capture files are many
 * and small (SageMaker writes one per batch), so `concurrency` of them are fetched at a time and
 * yielded in key (time) order: memory holds at most that many objects' pairs.
 */
export function s3CapturePort(client: S3Client, destination: string, signal?: AbortSignal, concurrency = 16): S3CapturePort {
  let requests = 0;
  const { bucket, prefix } = parseS3Uri(destination);
  const fetchPairs = async (obj: CaptureFileRef, window: TimeWindow): Promise<CapturedPair[]> => {
    requests++;
    const out: CapturedPair[] = [];
    for await (const batch of s3CaptureLines(client, [obj], signal)) {
      for (const line of batch.lines) {
        const p = line.trim() ? capturedPair(line, window) : undefined;
        if (p) out.push(p);
      }
    }
    return out;
  };
  return {
    get s3Requests() {
      return requests;
    },
    async *read(endpoint, variant, since, until) {
      const window = { from: since.getTime(), to: until.getTime() + 1 };
      // An object last modified before the window began holds no record from inside it.
      const notBefore = window.from - 1000;
      const listings = await Promise.all(
        hourPrefixes(window).map(async (hour) => {
          const r = await listAll(client, { bucket, prefix: joinKey(prefix, endpoint, variant, hour), signal });
          // ListObjectsV2 pages hold up to 1000 keys (no delimiter here: every key is an object).
          requests += Math.max(1, Math.ceil(r.objects.length / 1000));
          return r.objects;
        }),
      );
      const objects = listings
        .flat()
        .filter((c) => !(c.lastModified && c.lastModified.getTime() < notBefore))
        .map((c) => ({ name: `s3://${bucket}/${c.key}`, size: c.size }));
      // A sliding window of fetches in flight, consumed in order.
      const inFlight: Promise<CapturedPair[]>[] = [];
      let next = 0;
      const fill = () => {
        while (next < objects.length && inFlight.length < concurrency) {
          const p = fetchPairs(objects[next++], window);
          p.catch(() => undefined); // awaited below in order; this only keeps a later failure from being unhandled meanwhile
          inFlight.push(p);
        }
      };
      fill();
      while (inFlight.length) {
        const pairs = await inFlight.shift()!;
        fill();
        if (pairs.length) yield pairs;
      }
    },
  };
}

/** Streams the lines of S3 objects (GetObject bodies read chunk by chunk). */
export async function* s3CaptureLines(client: S3Client, objects: CaptureFileRef[], signal?: AbortSignal): AsyncGenerator<LineBatch> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  for (const obj of objects) {
    const { bucket, prefix: key } = parseS3Uri(obj.name);
    let body: AsyncIterable<Uint8Array>;
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
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

// ---- scanning, in parallel when it pays --------------------------------------------------------

export type CaptureFiles = { kind: 'local'; files: CaptureFileRef[] } | { kind: 's3'; settings: AwsSettings; objects: CaptureFileRef[] };

/** What one worker thread scans: the shared queue of files (or ranges, or objects), taken one at a time. */
export interface ScanJob {
  /** LiveSummary#seed of the summary to fill. */
  profile: Profile;
  grids: Record<string, BaselineGrid>;
  window?: TimeWindow;
  source: CaptureFiles;
  /** Int32 [0]: the index of the next entry of source to scan (Atomics.add), shared by every worker. */
  next: SharedArrayBuffer;
}

export interface ScanOptions {
  window?: TimeWindow;
  signal?: AbortSignal;
  /** Worker threads to use at most (default: the machine's parallelism, up to 4). 1 scans in this thread. */
  workers?: number;
  /** Only input at least this large is split across threads (start-up of a worker costs ~50 ms). */
  minParallelBytes?: number;
  onProgress?: (records: number) => void;
  /** S3 client for in-thread S3 scans. */
  s3?: S3Client;
}

const WORKER_URL = new URL('./capture-source-worker.js', import.meta.url);

/** The worker threads a scan of `refs` uses: 0 (scan in this thread) below the size where threads pay, or without the built worker entry. */
function scanThreads(refs: CaptureFileRef[], opts: Pick<ScanOptions, 'workers' | 'minParallelBytes'>): number {
  const bytes = refs.reduce((s, f) => s + (f.size ?? 0), 0);
  const threads = opts.workers ?? Math.min(availableParallelism(), 4);
  if (threads < 2 || bytes < (opts.minParallelBytes ?? 32 * 1024 * 1024) || !existsSync(fileURLToPath(WORKER_URL))) return 0;
  return threads;
}

/** Scan workers started ahead of their scan (warmScanWorkers), waiting for their job. */
const warm: Worker[] = [];

/**
 * Starts the worker threads that scanCapture will use on these files, now: their start-up (a
 * Node isolate, the scanner's code) then overlaps the caller's own set-up (baseline, profile).
 * Idle, they do not keep the process alive; a scan takes them, or they end with the process.
 */
export async function warmScanWorkers(refs: CaptureFileRef[], opts: Pick<ScanOptions, 'workers' | 'minParallelBytes'> = {}): Promise<void> {
  const threads = scanThreads(refs, opts);
  if (threads < 2) return;
  const { Worker } = await import('node:worker_threads');
  while (warm.length < threads) {
    const w = new Worker(WORKER_URL);
    w.unref();
    // A worker that fails before its job is dropped from the pool (scanCapture starts another).
    const drop = () => {
      const i = warm.indexOf(w);
      if (i >= 0) warm.splice(i, 1);
    };
    w.once('error', drop);
    w.once('exit', drop);
    warm.push(w);
  }
}

/**
 * Scans capture files into `live`. Large inputs are scanned by worker threads: local files are
 * cut into line-aligned ranges of a few MB, and each worker takes the next range (or S3 object)
 * from a shared queue until none is left, so they finish together however the machine's load
 * falls. Each worker builds its own summary and the summaries are merged (bins, moments and grid
 * counts add up). The worker entry exists in the built package; elsewhere (tests on the sources)
 * the scan runs in this thread.
 */
export async function scanCapture(source: CaptureFiles, live: LiveSummary, opts: ScanOptions = {}): Promise<ScanStats> {
  let refs = source.kind === 'local' ? source.files : source.objects;
  const threads = scanThreads(refs, opts);
  const sources = new Set(refs.filter((f) => f.size !== 0).map((f) => f.name)).size;
  if (threads >= 2 && source.kind === 'local') {
    const bytes = refs.reduce((s, f) => s + (f.size ?? 0), 0);
    // Pieces small enough that the last ones even out the threads' finish, large enough that each costs little to start.
    const piece = Math.min(64 << 20, Math.max(256 << 10, Math.ceil(bytes / (threads * 16))));
    source = { kind: 'local', files: await splitLocalFiles(source.files, piece) };
    refs = source.files;
  }
  const workers = Math.min(threads, refs.length);
  if (workers < 2) {
    let batches: AsyncIterable<LineBatch | ByteBatch>;
    if (source.kind === 'local') batches = localCaptureLines(source.files, opts.signal);
    else {
      const client = opts.s3 ?? (await (await import('./aws.js')).s3Client(source.settings));
      batches = s3CaptureLines(client, source.objects, opts.signal);
    }
    return scanLines(batches, live, { window: opts.window, signal: opts.signal, onProgress: opts.onProgress });
  }
  const { Worker } = await import('node:worker_threads');
  const job: ScanJob = { ...live.seed(), window: opts.window, source, next: new SharedArrayBuffer(4) };
  const running = Array.from({ length: workers }, () => {
    const w = warm.shift() ?? new Worker(WORKER_URL);
    w.removeAllListeners();
    w.ref();
    const done = new Promise<{ state: ReturnType<LiveSummary['toState']>; stats: ScanStats }>((resolve, reject) => {
      w.once(
        'message',
        (m: {
          ok: boolean;
          state: ReturnType<LiveSummary['toState']>;
          stats: ScanStats;
          error?: { message: string; code?: string; source?: string; hint?: string };
        }) => {
          if (m.ok) resolve(m);
          else if (m.error?.source === 'user')
            reject(new UserError(m.error.code ?? 'CAPTURE_ERROR', m.error.message, { hint: m.error.hint }));
          else
            reject(
              new ExternalError(m.error?.code ?? 'CAPTURE_SCAN_FAILED', m.error?.message ?? 'capture scan failed', { hint: m.error?.hint }),
            );
        },
      );
      w.once('error', reject);
      w.once('exit', (code) =>
        reject(new ExternalError('CAPTURE_SCAN_FAILED', `a capture scan worker exited with code ${code} before it answered`)),
      );
    });
    w.postMessage(job);
    return { w, done };
  });
  const onAbort = () => running.forEach((r) => void r.w.terminate());
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let stats = emptyScanStats();
    const results = await Promise.all(running.map((r) => r.done));
    if (opts.signal?.aborted) throw new InterruptedError();
    for (const r of results) {
      live.mergeState(r.state);
      stats = mergeScanStats(stats, r.stats);
    }
    // Workers count the ranges they read; a file cut into ranges is one source.
    stats.sources = sources;
    opts.onProgress?.(stats.records);
    return stats;
  } catch (e) {
    if (opts.signal?.aborted) throw new InterruptedError();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(running.map((r) => r.w.terminate()));
  }
}
