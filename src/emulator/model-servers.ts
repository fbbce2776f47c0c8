/**
 * Real inference: each distinct ModelDataUrl is downloaded from S3, unpacked, and served by one
 * `mlflow models serve` process shared by every variant (of every endpoint) that uses it.
 * Processes are reference-counted and stopped when the last fleet using them goes away.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { answers, LocalServerError, startLocalServer, type LocalServer } from '../adapters/local-server.js';
import { runProcess } from '../adapters/process.js';
import { archiveRefusal, environmentRefusal } from './serving-contract.js';

/** Why a model could not be served, worded as SageMaker's FailureReason. */
export class ModelLoadError extends Error {}

export interface InvokeResult {
  status: number;
  body: Buffer;
  contentType: string;
}

export interface ModelServer {
  readonly modelDataUrl: string;
  readonly url: string;
  invoke(body: Buffer, contentType: string, accept?: string): Promise<InvokeResult>;
  ping(): Promise<boolean>;
}

export interface ModelServerPoolOptions {
  s3: S3Client;
  mlflowBin: string;
  workDir: string;
  /** Real milliseconds to wait for `GET /ping` to answer 200 (default 180 s). */
  startTimeoutMs?: number;
  /** Environment of the scoring servers (the venv's bin folder is put first on PATH). */
  env: Record<string, string | undefined>;
  log?: (line: string) => void;
}

/** Parses `s3://bucket/key` (the only form SageMaker accepts for ModelDataUrl). */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new ModelLoadError(`Invalid S3 URL "${url}".`);
  return { bucket: m[1], key: m[2] };
}

class MlflowServer implements ModelServer {
  private server: LocalServer | undefined;
  /** Aborted by cancel(): a start in progress gives up and kills what it spawned. */
  private readonly cancel = new AbortController();

  constructor(
    readonly modelDataUrl: string,
    private readonly modelDir: string,
    private readonly opts: ModelServerPoolOptions,
  ) {}

  get url(): string {
    return this.server?.url ?? '';
  }

  async start(): Promise<void> {
    const binDir = dirname(this.opts.mlflowBin);
    const python = join(binDir, 'python');
    const path = this.opts.env.PATH ?? '';
    const timeoutMs = this.opts.startTimeoutMs ?? 180_000;
    try {
      this.server = await startLocalServer({
        name: 'mlflow models serve',
        launch: (port) => ({
          argv: [
            this.opts.mlflowBin,
            'models',
            'serve',
            '-m',
            this.modelDir,
            '--env-manager',
            'local',
            '-h',
            '127.0.0.1',
            '-p',
            String(port),
          ],
          cwd: dirname(this.modelDir),
          // uvicorn is started by name, so the venv's bin folder must come first on PATH.
          env: { ...this.opts.env, PATH: binDir === '.' ? path : `${binDir}:${path}`, PYTHONUNBUFFERED: '1' },
          logPath: join(dirname(this.modelDir), `serve-${port}.log`),
        }),
        readyPath: '/ping',
        readyTimeoutMs: timeoutMs,
        // A killed emulator leaves no scoring servers behind.
        watchdogPython: existsSync(python) ? python : undefined,
        signal: this.cancel.signal,
        stopGraceMs: 5_000,
      });
    } catch (err) {
      if (!(err instanceof LocalServerError)) throw err;
      if (err.kind === 'cancelled') throw new ModelLoadError('the emulator stopped while the model server was starting');
      if (err.kind === 'timeout') throw new ModelLoadError(`the model server did not answer /ping within ${timeoutMs / 1000} s`);
      throw new ModelLoadError(err.logTail.split('\n').slice(-40).join('\n'));
    }
  }

  async ping(): Promise<boolean> {
    if (!this.server || this.server.exited()) return false;
    return answers(`${this.server.url}/ping`);
  }

  async invoke(body: Buffer, contentType: string, accept?: string): Promise<InvokeResult> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (accept) headers.accept = accept;
    // SageMaker gives a container 60 s to answer an invocation.
    const res = await fetch(`${this.url}/invocations`, { method: 'POST', body, headers, signal: AbortSignal.timeout(60_000) });
    return {
      status: res.status,
      body: Buffer.from(await res.arrayBuffer()),
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
    };
  }

  /** Stops the server, also while it is still starting. */
  async cancelStart(): Promise<void> {
    this.cancel.abort();
    await this.stop();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  /** Synchronous last resort on process exit. */
  killNow(): void {
    this.server?.killNow();
  }
}

interface Entry {
  refs: number;
  server: Promise<MlflowServer>;
  /** The server once its process is being started (so stopAll can kill a start in progress). */
  instance?: MlflowServer;
  cancelled: boolean;
}

export class ModelServerPool {
  private entries = new Map<string, Entry>();
  private readonly onExit = () => {
    for (const e of this.entries.values())
      void e.server.then(
        (s) => s.killNow(),
        () => undefined,
      );
  };

  constructor(private readonly opts: ModelServerPoolOptions) {
    mkdirSync(opts.workDir, { recursive: true });
    process.once('exit', this.onExit);
  }

  /**
   * Starts (or shares) the scoring server for this model; throws ModelLoadError when it cannot,
   * or when MLflow's serving image would not start it with this container environment.
   */
  async acquire(modelDataUrl: string, environment: Record<string, string> = {}): Promise<ModelServer> {
    const refusal = environmentRefusal(environment);
    if (refusal) throw new ModelLoadError(refusal);
    let entry = this.entries.get(modelDataUrl);
    if (!entry) {
      const fresh: Entry = { refs: 0, server: Promise.resolve(undefined as never), cancelled: false };
      const server = this.launch(modelDataUrl, fresh);
      fresh.server = server;
      entry = fresh;
      this.entries.set(modelDataUrl, entry);
      server.catch(() => {
        if (this.entries.get(modelDataUrl)?.server === server) this.entries.delete(modelDataUrl);
      });
    }
    entry.refs++;
    try {
      return await entry.server;
    } catch (err) {
      entry.refs--;
      throw err;
    }
  }

  /** Drops one reference; the process stops when nobody uses it any more. */
  async release(modelDataUrl: string): Promise<void> {
    const entry = this.entries.get(modelDataUrl);
    if (!entry) return;
    entry.refs--;
    if (entry.refs > 0) return;
    this.entries.delete(modelDataUrl);
    await entry.server.then(
      (s) => s.stop(),
      () => undefined,
    );
  }

  /** What is running, for the admin API. */
  async describe(): Promise<Array<{ modelDataUrl: string; url: string; refs: number }>> {
    const out = [];
    for (const [modelDataUrl, e] of this.entries) {
      const s = await e.server.catch(() => undefined);
      if (s) out.push({ modelDataUrl, url: s.url, refs: e.refs });
    }
    return out;
  }

  async stopAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) {
      e.cancelled = true;
      void e.instance?.cancelStart();
    }
    await Promise.all(
      all.map((e) =>
        e.server.then(
          (s) => s.stop(),
          () => undefined,
        ),
      ),
    );
  }

  dispose(): void {
    process.removeListener('exit', this.onExit);
  }

  private async launch(modelDataUrl: string, entry: Entry): Promise<MlflowServer> {
    const dir = join(this.opts.workDir, createHash('sha256').update(modelDataUrl).digest('hex').slice(0, 16));
    rmSync(dir, { recursive: true, force: true });
    const modelDir = join(dir, 'model');
    mkdirSync(modelDir, { recursive: true });
    const archive = join(dir, 'model.tar.gz');
    const { bucket, key } = parseS3Url(modelDataUrl);
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const obj = await this.opts.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      await pipeline(obj.Body as Readable, createWriteStream(archive));
    } catch (err) {
      throw new ModelLoadError(
        `Failed to download model data (bucket: ${bucket}, key: ${key}): ${(err as Error).name}: ${(err as Error).message}`,
      );
    }
    const untar = await runProcess(['tar', '-xzf', archive, '-C', modelDir], { cwd: dir, env: this.opts.env });
    if (!untar.ok) {
      throw new ModelLoadError(
        `Failed to extract model data archive from URL "${modelDataUrl}". Please ensure that the object located at the URL is a valid tar.gz archive`,
      );
    }
    const refusal = archiveRefusal(modelDir);
    if (refusal) throw new ModelLoadError(refusal);
    if (entry.cancelled) throw new ModelLoadError('the emulator stopped while the model was being downloaded');
    this.opts.log?.(`starting mlflow scoring server for ${modelDataUrl}`);
    const server = new MlflowServer(modelDataUrl, modelDir, this.opts);
    entry.instance = server;
    await server.start();
    this.opts.log?.(`scoring server for ${modelDataUrl} ready at ${server.url}`);
    return server;
  }
}
