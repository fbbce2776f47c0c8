/**
 * SageMaker data capture: one JSON object per line, written to
 * `{DestinationS3Uri}/{endpoint}/{variant}/yyyy/mm/dd/hh/{mm}-{ss}-{mmm}-{uuid}.jsonl` (UTC, the
 * time of the file's first record). Records collect in one open file per variant, written when it
 * is old or large enough (CaptureWriter), so invocations do not wait for S3.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';

/** CreateEndpointConfig's DataCaptureConfig, as the service model requires it. */
export interface DataCaptureInput {
  EnableCapture?: boolean;
  InitialSamplingPercentage: number;
  DestinationS3Uri: string;
  KmsKeyId?: string;
  CaptureOptions?: Array<{ CaptureMode: string }>;
  CaptureContentTypeHeader?: { CsvContentTypes?: string[]; JsonContentTypes?: string[] };
}

export interface CaptureSettings {
  enabled: boolean;
  samplingPercentage: number;
  destinationS3Uri: string;
  captureInput: boolean;
  captureOutput: boolean;
  csvContentTypes: string[];
  jsonContentTypes: string[];
  kmsKeyId?: string;
}

/** Reads CreateEndpointConfig's DataCaptureConfig (undefined when absent). */
export function captureSettings(cfg: DataCaptureInput | undefined): CaptureSettings | undefined {
  if (!cfg) return undefined;
  const modes = (cfg.CaptureOptions ?? []).map((o) => o.CaptureMode);
  return {
    enabled: cfg.EnableCapture ?? true,
    samplingPercentage: cfg.InitialSamplingPercentage,
    destinationS3Uri: cfg.DestinationS3Uri,
    captureInput: modes.includes('Input') || modes.includes('InputAndOutput'),
    captureOutput: modes.includes('Output') || modes.includes('InputAndOutput'),
    csvContentTypes: cfg.CaptureContentTypeHeader?.CsvContentTypes ?? [],
    jsonContentTypes: cfg.CaptureContentTypeHeader?.JsonContentTypes ?? [],
    kmsKeyId: cfg.KmsKeyId,
  };
}

export interface Payload {
  contentType: string;
  body: Buffer;
}

const mediaType = (ct: string) => ct.split(';')[0].trim().toLowerCase();

function encodePayload(p: Payload, mode: 'INPUT' | 'OUTPUT', s: CaptureSettings) {
  const listed = (types: string[]) => types.some((t) => t === p.contentType || mediaType(t) === mediaType(p.contentType));
  const encoding = listed(s.csvContentTypes) ? 'CSV' : listed(s.jsonContentTypes) ? 'JSON' : 'BASE64';
  return {
    observedContentType: p.contentType,
    mode,
    data: encoding === 'BASE64' ? p.body.toString('base64') : p.body.toString('utf8'),
    encoding,
  };
}

/** One capture line, as SageMaker writes it. */
export function captureRecord(
  s: CaptureSettings,
  input: Payload,
  output: Payload,
  meta: { eventId: string; inferenceId?: string; time: Date },
): Record<string, unknown> {
  const captureData: Record<string, unknown> = {};
  if (s.captureInput) captureData.endpointInput = encodePayload(input, 'INPUT', s);
  if (s.captureOutput) captureData.endpointOutput = encodePayload(output, 'OUTPUT', s);
  const eventMetadata: Record<string, string> = { eventId: meta.eventId };
  if (meta.inferenceId) eventMetadata.inferenceId = meta.inferenceId;
  eventMetadata.inferenceTime = meta.time.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { captureData, eventMetadata, eventVersion: '0' };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The object key of a capture file for this destination, endpoint, variant and first-record time. */
export function captureKey(destinationS3Uri: string, endpoint: string, variant: string, t: Date): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(destinationS3Uri);
  if (!m) throw new Error(`bad DestinationS3Uri ${destinationS3Uri}`);
  const prefix = m[2].replace(/\/+$/, '');
  const hourPath = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}`;
  const file = `${pad(t.getUTCMinutes())}-${pad(t.getUTCSeconds())}-${pad(t.getUTCMilliseconds(), 3)}-${randomUUID()}.jsonl`;
  return { bucket: m[1], key: [prefix, endpoint, variant, hourPath, file].filter(Boolean).join('/') };
}

interface Batch {
  destination: string;
  endpoint: string;
  variant: string;
  first: Date;
  /** The UTC hour of the first record: a file never spans two hour prefixes. */
  hour: number;
  /** Emulated ms when the file was opened. */
  opened: number;
  bytes: number;
  lines: string[];
}

export interface CaptureFileOptions {
  /** How often (real ms) files due are written. */
  checkIntervalMs: number;
  /** Emulated seconds a file collects records before it is written. */
  fileSeconds: number;
  /** A file is written once its records reach this size. */
  maxFileBytes: number;
  /** Emulated time in ms (the emulator's clock). */
  now: () => number;
}

/**
 * One open capture file per destination, endpoint and variant, as SageMaker keeps one per variant:
 * records collect in it and it is written to S3 when it has been open `fileSeconds` (emulated),
 * reaches `maxFileBytes`, or the next record belongs to another UTC hour; and on flush and stop.
 */
export class CaptureWriter {
  private files = new Map<string, Batch>();
  private timer: NodeJS.Timeout;
  private inflight = new Set<Promise<void>>();
  /** Failures to write, kept for the admin API (capture never fails an invocation). */
  readonly errors: string[] = [];

  constructor(
    private readonly s3: S3Client,
    private readonly opts: CaptureFileOptions,
  ) {
    this.timer = setInterval(() => this.writeDue(), opts.checkIntervalMs);
    this.timer.unref();
  }

  add(destination: string, endpoint: string, variant: string, record: Record<string, unknown>, time: Date): void {
    const id = `${destination}\n${endpoint}\n${variant}`;
    const hour = Math.floor(time.getTime() / 3_600_000);
    let file = this.files.get(id);
    if (file && file.hour !== hour) {
      this.files.delete(id);
      this.write(file);
      file = undefined;
    }
    if (!file) {
      file = { destination, endpoint, variant, first: time, hour, opened: this.opts.now(), bytes: 0, lines: [] };
      this.files.set(id, file);
    }
    const line = JSON.stringify(record);
    file.lines.push(line);
    file.bytes += Buffer.byteLength(line) + 1;
    if (file.bytes >= this.opts.maxFileBytes) {
      this.files.delete(id);
      this.write(file);
    }
  }

  /** Writes every open file now and waits for all writes. */
  async flush(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    for (const f of files) this.write(f);
    await Promise.all([...this.inflight]);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Drops what is buffered (admin reset). */
  discard(): void {
    this.files.clear();
  }

  private writeDue(): void {
    const now = this.opts.now();
    for (const [id, f] of this.files) {
      if (now - f.opened >= this.opts.fileSeconds * 1000) {
        this.files.delete(id);
        this.write(f);
      }
    }
  }

  private write(b: Batch): void {
    const p = (async () => {
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      const { bucket, key } = captureKey(b.destination, b.endpoint, b.variant, b.first);
      await this.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${b.lines.join('\n')}\n`, ContentType: 'application/jsonlines' }),
      );
    })().catch((err) => {
      this.errors.push(`${b.destination}: ${(err as Error).message}`);
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}
