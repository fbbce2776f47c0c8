/**
 * The SageMaker emulator: one HTTP server on loopback that speaks SageMaker's control-plane
 * protocol (awsJson1_1, `X-Amz-Target: SageMaker.<Op>`), SageMaker Runtime's InvokeEndpoint
 * (restJson1, `POST /endpoints/{name}/invocations`) and a small admin API under `/_emulator/`.
 * See SPEC.md beside this file.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureWriter } from './capture.js';
import { Clock } from './clock.js';
import { ControlPlane, DEFAULT_DURATIONS, type Durations } from './control-plane.js';
import { ApiError, runtimeValidation, serialization } from './errors.js';
import { AlarmEvaluator, handleCloudWatch, MetricStore } from './cloudwatch-front.js';
import { MetricsPublisher } from './metrics.js';
import { ModelServerPool } from './model-servers.js';
import { faultKey, Runtime, type VariantFault } from './runtime.js';
import { findBotocoreDataDir, loadServiceModel } from './service-model.js';
import { DEFAULT_TRAINING_DURATIONS, TrainingJobs, type TrainingDurations } from './training.js';
import { Validator } from './validate.js';

export { DEFAULT_DURATIONS, type Durations } from './control-plane.js';

/** The JSON body of an admin request (each route reads its own members). */
interface AdminBody {
  endpointName?: string;
  variantName?: string;
  latencyMs?: number;
  errorRate?: number;
  endpointConfigName?: string;
  model?: string;
  healthy?: boolean;
  timeScale?: unknown;
  seconds?: unknown;
  trainingJobName?: string;
  count?: unknown;
}

export interface EmulatorOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** S3 endpoint (moto) for model artifacts and data capture. */
  s3Endpoint: string;
  /** CloudWatch endpoint (moto) for alarms and metrics. */
  cloudWatchEndpoint: string;
  region?: string;
  /** The account id in ARNs (moto's default account). */
  account?: string;
  /** Credentials for S3 and CloudWatch (default: moto's dummy `testing` keys). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Emulated seconds per real second (default 1). */
  timeScale?: number;
  /** Emulated durations of the lifecycle phases, in seconds. */
  durations?: Partial<Durations>;
  /**
   * The Python virtual environment with botocore and mlflow (default: the package's `.venv`, as
   * the test bed makes it). Its `lib/python*\/site-packages/botocore/data` and `bin/mlflow` are used
   * unless the two options below say otherwise.
   */
  venv?: string;
  /** botocore's `data` folder (default: found in `venv`). */
  botocoreDataDir?: string;
  /** The `mlflow` executable (default: `venv/bin/mlflow`). */
  mlflowBin?: string;
  /** The Python that runs training jobs' entry points (default: `venv/bin/python`). */
  python?: string;
  /** Emulated durations of a training job's phases, in seconds. */
  trainingDurations?: Partial<TrainingDurations>;
  /** Where models are downloaded and unpacked (default: a temp folder, removed on stop). */
  workDir?: string;
  /** Environment for the scoring servers (default: this process's). */
  env?: Record<string, string | undefined>;
  /** How often (real ms) capture files that are due are written (default 1000). */
  captureFlushIntervalMs?: number;
  /** Emulated seconds a capture file collects records before it is written (default 60). */
  captureFileSeconds?: number;
  /** A capture file is written once it holds this many bytes (default 5 MiB). */
  captureFileMaxBytes?: number;
  /** Metrics batching interval in real ms (default 1000). */
  metricsFlushIntervalMs?: number;
  /**
   * Also publish each metric with EndpointName + EndpointConfigName + VariantName, as SageMaker
   * does (default true; queries through the emulator's CloudWatch front match dimensions exactly).
   */
  metricsWithEndpointConfigName?: boolean;
  /** How often alarms are evaluated, in emulated seconds (default 10; at least 50 ms of real time apart). */
  alarmEvaluationInterval?: number;
  /** Real ms to wait for a scoring server to answer /ping (default 180 000). */
  modelStartTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RunningEmulator {
  /** Base URL for the SageMaker client's `endpoint`. */
  url: string;
  /** Base URL for the SageMaker Runtime client's `endpoint` (the same server). */
  runtimeUrl: string;
  /** Base URL for the CloudWatch client's `endpoint`: the emulator's CloudWatch front over moto (the same server). */
  cloudWatchUrl: string;
  /** Flushes capture and metrics, stops every scoring server and the HTTP server. */
  stop(): Promise<void>;
}

/** The package root: two levels above this file in src/emulator/ and in dist/emulator/. */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const JSON_11 = 'application/x-amz-json-1.1';

/** Starts the emulator; resolves once it listens. */
export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const region = opts.region ?? 'us-east-1';
  const account = opts.account ?? '123456789012';
  const log = opts.log ?? (() => undefined);
  const venv = opts.venv ?? join(PACKAGE_ROOT, '.venv');
  const dataDir = opts.botocoreDataDir ?? findBotocoreDataDir([venv]);
  if (!dataDir) {
    throw new Error(`botocore's data folder was not found in ${venv}; pass venv or botocoreDataDir`);
  }
  const sageMakerModel = loadServiceModel(dataDir, 'sagemaker');
  const runtimeModel = loadServiceModel(dataDir, 'sagemaker-runtime');
  const controlValidator = new Validator(sageMakerModel);
  const runtimeValidator = new Validator(runtimeModel);
  const mlflowBin = opts.mlflowBin ?? join(venv, 'bin', 'mlflow');
  if (!existsSync(mlflowBin)) throw new Error(`mlflow not found at ${mlflowBin}; pass venv or mlflowBin`);

  const credentials = opts.credentials ?? { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
  const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
  const s3 = new S3Client({ region, endpoint: opts.s3Endpoint, forcePathStyle: true, credentials, maxAttempts: 3 });
  const cloudWatch = new CloudWatchClient({ region, endpoint: opts.cloudWatchEndpoint, credentials, maxAttempts: 3 });
  const logs = new CloudWatchLogsClient({ region, endpoint: opts.cloudWatchEndpoint, credentials, maxAttempts: 3 });

  const ownWorkDir = !opts.workDir;
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'mlops-sagemaker-emulator-'));
  const clock = new Clock(opts.timeScale ?? 1);
  const durations: Durations = { ...DEFAULT_DURATIONS, ...opts.durations };
  const pool = new ModelServerPool({
    s3,
    mlflowBin,
    workDir,
    log,
    env: opts.env ?? process.env,
    startTimeoutMs: opts.modelStartTimeoutMs,
  });
  const control = new ControlPlane({ clock, pool, s3, cloudWatch, region, account, durations, log });
  const training = new TrainingJobs({
    clock,
    s3,
    logs,
    region,
    account,
    python: opts.python ?? join(venv, 'bin', 'python'),
    workDir,
    env: opts.env ?? process.env,
    durations: { ...DEFAULT_TRAINING_DURATIONS, ...opts.trainingDurations },
    log,
  });
  const capture = new CaptureWriter(s3, {
    checkIntervalMs: opts.captureFlushIntervalMs ?? 1000,
    fileSeconds: opts.captureFileSeconds ?? 60,
    maxFileBytes: opts.captureFileMaxBytes ?? 5 * 1024 * 1024,
    now: () => clock.now(),
  });
  const metricStore = new MetricStore();
  const evaluator = new AlarmEvaluator({ cloudWatch, store: metricStore, clock, intervalSeconds: opts.alarmEvaluationInterval ?? 10, log });
  const metrics = new MetricsPublisher(cloudWatch, metricStore, {
    flushIntervalMs: opts.metricsFlushIntervalMs ?? 1000,
    withEndpointConfigName: opts.metricsWithEndpointConfigName,
  });
  const faults = new Map<string, VariantFault>();
  const runtime = new Runtime({ control, capture, metrics, faults, region, account });

  const admin = async (method: string, path: string, body: AdminBody): Promise<unknown> => {
    switch (`${method} ${path}`) {
      case 'GET /_emulator/health':
        return { ok: true };
      case 'GET /_emulator/state':
        return {
          timeScale: clock.timeScale,
          emulatedSeconds: clock.now() / 1000,
          durations,
          ...control.state(),
          ...training.state(),
          faults: Object.fromEntries(faults),
          modelServers: await pool.describe(),
          modelErrors: control.modelErrors,
          captureErrors: capture.errors,
          metricErrors: metrics.errors,
          alarmErrors: evaluator.errors,
        };
      case 'POST /_emulator/faults': {
        const { endpointName, variantName } = body;
        if (!endpointName || !variantName) throw new ApiError(400, 'BadRequest', 'endpointName and variantName are required');
        const key = faultKey(endpointName, variantName);
        if (!body.latencyMs && !body.errorRate) faults.delete(key);
        else faults.set(key, { latencyMs: body.latencyMs, errorRate: body.errorRate, endpointConfigName: body.endpointConfigName });
        return { faults: Object.fromEntries(faults) };
      }
      case 'POST /_emulator/spot-interruptions': {
        // The next spot jobs (or the named one) are interrupted this many times; see SPEC.md.
        const count = Number(body.count ?? 1);
        if (!(count >= 0)) throw new ApiError(400, 'BadRequest', 'count must be a number >= 0');
        training.spotFaults.set(body.trainingJobName ?? '*', count);
        return { spotInterruptions: Object.fromEntries(training.spotFaults) };
      }
      case 'DELETE /_emulator/faults':
        faults.clear();
        return { faults: {} };
      case 'POST /_emulator/health-check': {
        const model = body.model;
        if (!model) throw new ApiError(400, 'BadRequest', 'model (a model name or ModelDataUrl) is required');
        if (body.healthy === false) control.unhealthy.add(model);
        else control.unhealthy.delete(model);
        return { unhealthy: [...control.unhealthy] };
      }
      case 'POST /_emulator/time-scale':
        try {
          clock.setTimeScale(Number(body.timeScale));
        } catch (err) {
          throw new ApiError(400, 'BadRequest', (err as Error).message);
        }
        return { timeScale: clock.timeScale };
      case 'POST /_emulator/advance': {
        const seconds = Number(body.seconds);
        if (!(seconds >= 0)) throw new ApiError(400, 'BadRequest', 'seconds must be a number >= 0');
        clock.advance(seconds);
        return { emulatedSeconds: clock.now() / 1000 };
      }
      case 'POST /_emulator/flush':
        await runtime.drain();
        await Promise.all([capture.flush(), metrics.flush()]);
        return { flushed: true };
      case 'POST /_emulator/reset':
        await runtime.drain();
        await Promise.all([control.shutdown(), training.shutdown()]);
        faults.clear();
        capture.discard();
        metrics.discard();
        metricStore.clear();
        clock.setTimeScale(opts.timeScale ?? 1);
        return { reset: true };
      default:
        throw new ApiError(404, 'NotFound', `no admin route ${method} ${path}`);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err) => {
      log(`internal error: ${(err as Error).stack ?? err}`);
      if (!res.headersSent) sendError(res, new ApiError(500, 'InternalFailure', 'An internal error occurred in the emulator.'), JSON_11);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/_emulator/')) {
      try {
        const parsed = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as AdminBody;
        sendJson(res, 200, await admin(req.method ?? 'GET', url.pathname, parsed), 'application/json');
      } catch (err) {
        sendError(res, err instanceof ApiError ? err : new ApiError(400, 'BadRequest', (err as Error).message), 'application/json');
      }
      return;
    }
    const invocation = /^\/endpoints\/([^/]+)\/invocations$/.exec(url.pathname);
    if (invocation && req.method === 'POST') {
      await handleInvoke(decodeURIComponent(invocation[1]), req, res, body);
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const protocol = String(req.headers['smithy-protocol'] ?? req.headers['content-type'] ?? '');
    if (req.method === 'POST' && (target.startsWith('GraniteServiceVersion20100801.') || /cbor|x-www-form-urlencoded/.test(protocol))) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined && !['host', 'content-length', 'connection'].includes(k)) headers[k] = Array.isArray(v) ? v.join(',') : v;
      }
      const answer = await handleCloudWatch(
        { store: metricStore, cloudWatch, motoUrl: opts.cloudWatchEndpoint },
        headers,
        body,
        req.url ?? '/',
      );
      res.writeHead(answer.status, { ...answer.headers, 'Content-Length': answer.body.length });
      res.end(answer.body);
      return;
    }
    if (req.method === 'POST' && target.startsWith('SageMaker.')) {
      const op = target.slice('SageMaker.'.length);
      try {
        if (!sageMakerModel.operations[op]) throw new ApiError(400, 'UnknownOperationException', `Unknown operation ${target}`);
        let input: unknown;
        try {
          input = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
        } catch {
          throw serialization('The request body is not valid JSON.');
        }
        controlValidator.check(op, input);
        const request = input as Record<string, unknown>;
        sendJson(res, 200, await (training.call(op, request) ?? control.call(op, request)), JSON_11);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        sendError(res, err, JSON_11);
      }
      return;
    }
    sendError(res, new ApiError(404, 'UnknownOperationException', `No operation for ${req.method} ${url.pathname}`), JSON_11);
  }

  async function handleInvoke(endpointName: string, req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const header = (name: string) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const input = {
      EndpointName: endpointName,
      Body: body,
      ContentType: header('Content-Type'),
      Accept: header('Accept'),
      CustomAttributes: header('X-Amzn-SageMaker-Custom-Attributes'),
      TargetModel: header('X-Amzn-SageMaker-Target-Model'),
      TargetVariant: header('X-Amzn-SageMaker-Target-Variant'),
      InferenceId: header('X-Amzn-SageMaker-Inference-Id'),
    };
    try {
      try {
        runtimeValidator.check('InvokeEndpoint', input);
      } catch (err) {
        // The runtime reports constraint failures as ValidationError, not ValidationException.
        if (err instanceof ApiError) throw new ApiError(400, 'ValidationError', err.message);
        throw err;
      }
      if (body.length > 6 * 1024 * 1024) throw runtimeValidation('Request payload is too large: the limit is 6 MB.');
      const out = await runtime.invoke({
        endpointName,
        body,
        contentType: input.ContentType ?? 'application/octet-stream',
        accept: input.Accept,
        targetVariant: input.TargetVariant,
        inferenceId: input.InferenceId,
        customAttributes: input.CustomAttributes,
      });
      res.writeHead(200, {
        'Content-Type': out.contentType,
        'X-Amzn-Invoked-Production-Variant': out.variant,
        'x-amzn-RequestId': randomUUID(),
        'Content-Length': out.body.length,
      });
      res.end(out.body);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      sendError(res, err, 'application/json');
    }
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  log(`SageMaker emulator listening on ${url} (timeScale ${clock.timeScale})`);
  evaluator.start();

  let stopped: Promise<void> | undefined;
  return {
    url,
    runtimeUrl: url,
    cloudWatchUrl: url,
    stop: () => {
      stopped ??= (async () => {
        await evaluator.stop();
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await runtime.drain();
        await Promise.all([control.shutdown(), training.shutdown()]);
        await pool.stopAll();
        pool.dispose();
        await Promise.all([capture.stop(), metrics.stop()]);
        clock.dispose();
        s3.destroy();
        cloudWatch.destroy();
        logs.destroy();
        if (ownWorkDir) rmSync(workDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, data: unknown, contentType: string): void {
  const text = JSON.stringify(data ?? {});
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(text);
}

/** An error as AWS's JSON protocols carry it: `__type` plus message, and x-amzn-ErrorType. */
function sendError(res: ServerResponse, err: ApiError, contentType: string): void {
  const text = JSON.stringify({ __type: err.code, message: err.message, Message: err.message, ...err.fields });
  res.writeHead(err.status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-ErrorType': err.code,
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(text);
}
