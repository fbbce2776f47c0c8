/**
 * MLflow REST client (tracking, model registry, proxied artifacts) over node:http(s), with one
 * kept-alive connection pool per client (a command's calls reuse their connections).
 *
 * - Auth, as the Python client does it: MLFLOW_TRACKING_USERNAME/PASSWORD (basic) when both are
 *   set, else MLFLOW_TRACKING_TOKEN (bearer); decided in one place, mlflowConnection. Credentials
 *   in the URI (http://u:p@host) become basic auth too. MLFLOW_TRACKING_INSECURE_TLS=true skips TLS
 *   verification.
 * - Each request has a timeout; connection errors, timeouts, 429 and 5xx are retried with
 *   exponential backoff (and Retry-After when the server sends one).
 * - MLflow's error codes become typed errors: MlflowNotFoundError, MlflowPermissionError,
 *   MlflowUnavailableError, MlflowApiError (all ExternalError, exit 3) and
 *   MlflowInvalidParameterError (UserError, exit 2: the input we passed on was rejected).
 *   Lookups whose "not found" is an expected outcome (getRun, getExperimentByName,
 *   getModelVersionByAlias, ...) return `undefined` (or a reason) instead of throwing.
 * - No message or error detail ever carries a header or credentials; URIs are shown without
 *   their user-info part.
 */
import { createWriteStream } from 'node:fs';
import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { ExternalError, InterruptedError, UserError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { checkEnvironment, envTwinValue } from '../config/environment.js';
import { durationMs } from '../core/duration.js';
import { printable } from '../core/escape.js';
import { sleep } from './clock.js';
import {
  isTrackingServerArn,
  managedTrackingServer,
  strictQueryString,
  trackingServerSigner,
  type ManagedTrackingServer,
  type RequestToSign,
} from './sigv4.js';

// ---------------------------------------------------------------------------------------------
// Types (camelCase views of MLflow's JSON)

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation?: string;
  lifecycleStage?: string;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  runName?: string;
  status: RunStatus;
  startTime?: number;
  endTime?: number;
  artifactUri?: string;
  lifecycleStage?: string;
  userId?: string;
}

export interface Run {
  info: RunInfo;
  data: {
    /** Latest value per metric key. NaN is NaN; MLflow stores +-Infinity as +-Number.MAX_VALUE. */
    metrics: Record<string, number>;
    params: Record<string, string>;
    tags: Record<string, string>;
  };
}

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch (default: now). */
  timestamp?: number;
  step?: number;
}

export interface ModelVersion {
  name: string;
  version: string;
  runId?: string;
  source?: string;
  status?: string;
  currentStage?: string;
  aliases: string[];
  creationTimestamp?: number;
  tags: Record<string, string>;
  /** MLflow 3 logged-model id, when the version was made from one. */
  modelId?: string;
}

export interface RegisteredModel {
  name: string;
  /** alias -> version */
  aliases: Record<string, string>;
  latestVersions: ModelVersion[];
  tags: Record<string, string>;
}

export interface ArtifactFile {
  path: string;
  isDir: boolean;
  fileSize?: number;
}

export interface SearchRunsRequest {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  /** Page size (MLflow's default 1000, maximum 50000). */
  maxResults?: number;
  pageToken?: string;
  runViewType?: ViewType;
}

export interface SearchRunsPage {
  runs: Run[];
  nextPageToken?: string;
}

/** Outcome of an alias lookup: the version, or why there is none. */
export type AliasLookup = { found: true; version: ModelVersion } | { found: false; reason: 'model-not-found' | 'alias-not-found' };

export interface MlflowClientOptions {
  trackingUri: string;
  /** Timeout of one request, in ms (default 30 s). */
  timeoutMs?: number;
  /** Retries after the first attempt on connection errors, timeouts, 429 and 5xx (default 3). */
  retries?: number;
  /** Where credentials come from (MLFLOW_TRACKING_TOKEN, _USERNAME, _PASSWORD, _INSECURE_TLS). */
  env?: Record<string, string | undefined>;
  /** First backoff delay in ms, doubled on each retry (default 500; tests use less). */
  backoffMs?: number;
  /** Aborts in-flight requests and backoff waits (InterruptedError). */
  signal?: AbortSignal;
  /** Told about each retry, e.g. to log it with --verbose. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; endpoint: string }) => void;
}

// ---------------------------------------------------------------------------------------------
// Errors

interface MlflowErrorFields {
  /** MLflow's error_code, e.g. RESOURCE_DOES_NOT_EXIST (absent for transport failures). */
  mlflowCode?: string;
  httpStatus?: number;
  /** The REST path that failed, e.g. runs/get. */
  endpoint: string;
}

/** MLflow answered with an error we do not special-case. Exit 3. */
export class MlflowApiError extends ExternalError implements MlflowErrorFields {
  readonly mlflowCode?: string;
  readonly httpStatus?: number;
  readonly endpoint: string;
  constructor(code: string, message: string, f: MlflowErrorFields, hint?: string) {
    super(code, message, { hint, details: { mlflowCode: f.mlflowCode, httpStatus: f.httpStatus, endpoint: f.endpoint } });
    this.mlflowCode = f.mlflowCode;
    this.httpStatus = f.httpStatus;
    this.endpoint = f.endpoint;
  }
}

/** RESOURCE_DOES_NOT_EXIST (or 404) where the caller did not expect "not found". Exit 3. */
export class MlflowNotFoundError extends MlflowApiError {}

/** 401/403, PERMISSION_DENIED, UNAUTHENTICATED. Exit 3. */
export class MlflowPermissionError extends MlflowApiError {}

/** Connection refused, DNS failure, timeout, or 5xx/429 after every retry. Exit 3. */
export class MlflowUnavailableError extends MlflowApiError {}

/** MLflow rejected a value we passed on (a filter, a name): bad input. Exit 2. */
export class MlflowInvalidParameterError extends UserError implements MlflowErrorFields {
  readonly mlflowCode?: string;
  readonly httpStatus?: number;
  readonly endpoint: string;
  constructor(message: string, f: MlflowErrorFields, hint?: string) {
    super('MLFLOW_INVALID_PARAMETER', message, {
      hint,
      details: { mlflowCode: f.mlflowCode, httpStatus: f.httpStatus, endpoint: f.endpoint },
    });
    this.mlflowCode = f.mlflowCode;
    this.httpStatus = f.httpStatus;
    this.endpoint = f.endpoint;
  }
}

export type MlflowError = MlflowApiError | MlflowInvalidParameterError;

/** Whether err is an MLflow "does not exist" answer. */
export function isMlflowNotFound(err: unknown): err is MlflowNotFoundError {
  return err instanceof MlflowNotFoundError;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** MLflow's log-batch limits per request. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

/** A URI without its user-info part (for messages and UI links). */
export function safeUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
}

function kvList(obj: Record<string, string> | undefined): { key: string; value: string }[] {
  return Object.entries(obj ?? {}).map(([key, value]) => ({ key, value: String(value) }));
}

function kvRecord(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(list)) for (const t of list as { key: string; value?: string }[]) out[t.key] = t.value ?? '';
  return out;
}

/** MLflow's JSON numbers: numbers, or "NaN"/"Infinity"/"-Infinity" strings, or int64 as strings. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    return Number(v);
  }
  return NaN;
}

function optNum(v: unknown): number | undefined {
  return v === undefined || v === null || v === '' ? undefined : num(v);
}

/** JSON for MLflow: non-finite doubles as the strings protobuf's JSON mapping expects. */
function toJson(body: unknown): string {
  return JSON.stringify(body, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    return v;
  });
}

/** Parses an MLflow response body; tolerates bare NaN/Infinity tokens some servers emit. */
function parseBody(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(text.replace(/(?<=[:,[]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, '"$1"'));
    } catch {
      return undefined;
    }
  }
}

function parseRunInfo(i: Record<string, unknown>): RunInfo {
  return {
    runId: String(i.run_id ?? i.run_uuid),
    experimentId: String(i.experiment_id),
    runName: (i.run_name as string | undefined) ?? undefined,
    status: (i.status as RunStatus) ?? 'RUNNING',
    startTime: optNum(i.start_time),
    endTime: optNum(i.end_time),
    artifactUri: i.artifact_uri as string | undefined,
    lifecycleStage: i.lifecycle_stage as string | undefined,
    userId: i.user_id as string | undefined,
  };
}

function parseRun(r: Record<string, unknown>): Run {
  const data = (r.data ?? {}) as Record<string, unknown>;
  const metrics: Record<string, number> = {};
  if (Array.isArray(data.metrics)) for (const m of data.metrics as { key: string; value: unknown }[]) metrics[m.key] = num(m.value);
  return {
    info: parseRunInfo((r.info ?? {}) as Record<string, unknown>),
    data: { metrics, params: kvRecord(data.params), tags: kvRecord(data.tags) },
  };
}

function parseExperiment(e: Record<string, unknown>): Experiment {
  return {
    experimentId: String(e.experiment_id),
    name: String(e.name),
    artifactLocation: e.artifact_location as string | undefined,
    lifecycleStage: e.lifecycle_stage as string | undefined,
    tags: kvRecord(e.tags),
  };
}

function parseModelVersion(v: Record<string, unknown>): ModelVersion {
  return {
    name: String(v.name),
    version: String(v.version),
    runId: (v.run_id as string | undefined) || undefined,
    source: v.source as string | undefined,
    status: v.status as string | undefined,
    currentStage: v.current_stage as string | undefined,
    aliases: Array.isArray(v.aliases) ? (v.aliases as string[]) : [],
    creationTimestamp: optNum(v.creation_timestamp),
    tags: kvRecord(v.tags),
    modelId: (v.model_id as string | undefined) || undefined,
  };
}

function parseRegisteredModel(m: Record<string, unknown>): RegisteredModel {
  const aliases: Record<string, string> = {};
  if (Array.isArray(m.aliases)) for (const a of m.aliases as { alias: string; version: string }[]) aliases[a.alias] = String(a.version);
  return {
    name: String(m.name),
    aliases,
    latestVersions: Array.isArray(m.latest_versions) ? (m.latest_versions as Record<string, unknown>[]).map(parseModelVersion) : [],
    tags: kvRecord(m.tags),
  };
}

/** Transport error codes worth another attempt. */
const RETRYABLE_NET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

interface Failure {
  /** Whether another attempt may help. */
  retryable: boolean;
  /** Wait before the next attempt, from Retry-After. */
  retryAfterMs?: number;
  error: Error;
}

type Params = Record<string, string | number | boolean | undefined>;

/** One HTTP exchange as the client sends it: a path below the base URL, query, body, and how to read the answer. */
interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  url: string;
  params?: Params;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Answer the body as a stream (downloads) instead of text. */
  stream?: boolean;
}

interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  data: string | Readable;
}

/** Sends one request (no retries; those are the client's). Transport failures reject with Node's error codes. */
type HttpSend = (req: HttpRequest, signal?: AbortSignal) => Promise<HttpResponse>;

interface HttpTransport {
  send: HttpSend;
  /** Opens a connection now for the next request (see MlflowClient.preconnect). */
  preconnect(): void;
}

const MAX_REDIRECTS = 5;

/** The content-type header (the one header besides SigV4's own that is signed), if set. */
function contentTypeOf(h: Record<string, string>): Record<string, string> {
  const k = Object.keys(h).find((x) => x.toLowerCase() === 'content-type');
  return k ? { 'content-type': h[k] } : {};
}

/**
 * node:http(s) with a keep-alive agent: the calls of one command share their connections instead
 * of a TCP (and TLS) handshake each. The timeout is for inactivity, as a request waits on the
 * server; redirects are followed (at most 5, a 303 or a redirected POST becomes a GET, credentials
 * are not sent to another origin).
 *
 * preconnect() opens one spare connection to the tracking server, taken by the next request to it.
 * Why: `mlflow server` with more than one worker (its default is 4) answers on sockets without
 * TCP_NODELAY, writing the headers and the body apart, so on a kept-alive connection the body waits
 * for the client's delayed ACK of the headers: about 40 ms per reused request on Linux. The first
 * request on a connection is ACKed at once, so a request that follows up on another one's answer
 * is faster on a fresh connection, whose handshake the spare does while the first answer is awaited.
 */
async function httpTransport(
  baseUrl: string,
  headers: Record<string, string>,
  timeoutMs: number,
  insecureTls: boolean,
  sign?: (req: RequestToSign) => Promise<Record<string, string>>,
): Promise<HttpTransport> {
  type Request = (url: URL, opts: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest;
  // One pool per protocol, made on first use (a promise, so calls that start together share it).
  const pools = new Map<string, Promise<{ request: Request; agent: Agent }>>();
  const makePool = async (protocol: string): Promise<{ request: Request; agent: Agent }> => {
    if (protocol === 'https:') {
      const https = await import('node:https');
      return { request: https.request, agent: new https.Agent({ keepAlive: true, rejectUnauthorized: !insecureTls }) };
    }
    const http = await import('node:http');
    return { request: http.request, agent: new http.Agent({ keepAlive: true }) };
  };
  const pool = (protocol: string) => {
    let p = pools.get(protocol);
    if (!p) pools.set(protocol, (p = makePool(protocol)));
    return p;
  };
  const timeout = () => Object.assign(new Error(`timeout of ${timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' });

  // The spare connection: its origin and, once open and while unused, its socket.
  type Spare = { origin: string; socket?: Socket; failed: boolean };
  let spare: Spare | undefined;
  const preconnect = () => {
    const url = new URL(baseUrl);
    if (spare || (url.protocol !== 'http:' && url.protocol !== 'https:')) return;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const s: Spare = { origin: url.origin, failed: false };
    spare = s;
    const opening =
      url.protocol === 'https:'
        ? import('node:tls').then((tls) =>
            tls.connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: !insecureTls }),
          )
        : Promise.resolve(netConnect({ host, port }));
    void opening.then((socket) => {
      // Unused, it must not keep the process alive; a failure before use only drops it.
      socket.unref();
      socket.on('error', () => (s.failed = true));
      socket.on('close', () => (s.failed = true));
      s.socket = socket;
    });
  };
  /** The spare, once, for a request to its origin that would reuse a kept-alive connection (never instead of a new one). */
  const takeSpare = (url: URL, agent: Agent): Socket | undefined => {
    const socket = spare?.socket;
    if (!spare || !socket || spare.failed || spare.origin !== url.origin) return undefined;
    if (!Object.values(agent.freeSockets).some((free) => free?.length)) return undefined;
    spare = undefined;
    return socket.ref();
  };

  const once = async (url: URL, opts: RequestOptions, body: string | Buffer | undefined, stream: boolean) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw Object.assign(new Error(`unsupported protocol ${url.protocol}`), { code: 'ERR_UNSUPPORTED_PROTOCOL' });
    }
    const { request, agent } = await pool(url.protocol);
    const socket = takeSpare(url, agent);
    // On the spare, without the agent: that connection carries this one request and is closed.
    const via: RequestOptions = socket ? { createConnection: () => socket } : { agent };
    return new Promise<{ res: IncomingMessage; data: string | Readable }>((resolve, reject) => {
      const req = request(url, { ...opts, ...via }, (res) => {
        if (stream) return resolve({ res, data: res });
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ res, data: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(timeout()));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection that the server closed while it was idle: the request never got there.
        if (req.reusedSocket && err.code === 'ECONNRESET' && !opts.signal?.aborted) once(url, opts, body, stream).then(resolve, reject);
        else reject(err);
      });
      req.end(body);
    });
  };

  const send: HttpSend = async (r, signal) => {
    let url = new URL(baseUrl + r.url);
    if (sign) {
      // SigV4 canonicalises the query with strict RFC 3986 escaping; send exactly those bytes.
      const qs = strictQueryString(r.params);
      if (qs) url = new URL(`${baseUrl}${r.url}?${qs}`);
    } else for (const [k, v] of Object.entries(r.params ?? {})) if (v !== undefined) url.searchParams.append(k, String(v));
    let method: string = r.method;
    let body = r.body;
    let h: Record<string, string> = { ...headers, ...r.headers };
    if (body !== undefined) h['Content-Length'] = String(Buffer.byteLength(body));
    for (let redirects = 0; ; redirects++) {
      const signed = sign ? await sign({ method, url: url.toString(), headers: contentTypeOf(h), body }) : {};
      const { res, data } = await once(url, { method, headers: { ...h, ...signed }, signal }, body, r.stream === true).catch(
        (err: unknown) => {
          // Past a redirect, the host that failed is not the tracking URI's: say which it was.
          throw redirects > 0 && err instanceof Error ? Object.assign(err, { redirectedTo: url.origin }) : err;
        },
      );
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status < 300 || status >= 400 || status === 304 || !location) return { status, headers: res.headers, data };
      if (typeof data !== 'string') data.resume();
      if (redirects >= MAX_REDIRECTS) {
        throw Object.assign(new Error('Maximum number of redirects exceeded'), { code: 'ERR_FR_TOO_MANY_REDIRECTS' });
      }
      const next = new URL(location, url);
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        h = Object.fromEntries(Object.entries(h).filter(([k]) => !/^content-/i.test(k)));
      }
      if (next.origin !== url.origin) h = Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'authorization'));
      url = next;
    }
  };
  return { send, preconnect };
}

// ---------------------------------------------------------------------------------------------
// The client

/** The MLflow operations mlops uses. Create it with createMlflowClient or mlflowFromConfig. */
export class MlflowClient {
  /** The tracking server's base URL, without credentials or trailing slash. */
  readonly baseUrl: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly http: HttpTransport,
    private readonly opts: MlflowClientOptions,
    baseUrl: string,
  ) {
    this.baseUrl = baseUrl;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Link to a run in the MLflow UI. */
  runUrl(runId: string, experimentId: string): string {
    return `${this.baseUrl}/#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}`;
  }

  /** Link to MLflow's compare-runs view of these runs (the UI's own URL form). */
  compareRunsUrl(runs: { runId: string; experimentId: string }[]): string {
    const q = (xs: string[]) => encodeURIComponent(JSON.stringify([...new Set(xs)]));
    return `${this.baseUrl}/#/compare-runs?runs=${q(runs.map((r) => r.runId))}&experiments=${q(runs.map((r) => r.experimentId))}`;
  }

  /** Link to a registered model version in the MLflow UI. */
  modelVersionUrl(name: string, version: string): string {
    return `${this.baseUrl}/#/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
  }

  // --- transport -------------------------------------------------------------------------------

  /**
   * Opens a connection now for a request the caller will make once the ones in flight answer (a
   * follow-up such as the run of an alias's version): it goes out on that fresh connection, whose
   * handshake overlaps the wait, instead of a reused one (see httpTransport for why that is faster).
   */
  preconnect(): void {
    this.http.preconnect();
  }

  /** One REST call with retries; returns the parsed body or throws a typed error. */
  private async request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    endpoint: string,
    payload?: { params?: Params; body?: unknown; api?: string },
  ): Promise<T> {
    const api = payload?.api ?? '/api/2.0/mlflow/';
    const req: HttpRequest = {
      method,
      url: api + endpoint,
      params: payload?.params,
      body: payload?.body === undefined ? undefined : toJson(payload.body),
      headers: payload?.body === undefined ? undefined : { 'Content-Type': 'application/json' },
    };
    const res = await this.send(req, endpoint);
    const body = parseBody(res.data as string);
    if (body === null || typeof body !== 'object') {
      throw new MlflowApiError(
        'MLFLOW_BAD_RESPONSE',
        `${this.baseUrl} answered ${endpoint} with something that is not MLflow's JSON.`,
        { endpoint, httpStatus: res.status },
        'Check that mlflow.trackingUri (or $MLFLOW_TRACKING_URI) points to the MLflow tracking server, not a login page or proxy.',
      );
    }
    return body as T;
  }

  /** Sends with retries; resolves with a 2xx response, else throws a typed error. */
  private async send(req: HttpRequest, endpoint: string): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      if (this.opts.signal?.aborted) throw new InterruptedError();
      let failure: Failure;
      try {
        const res = await this.http.send(req, this.opts.signal);
        if (res.status >= 200 && res.status < 300) return res;
        failure = await this.httpFailure(res, endpoint);
      } catch (err) {
        if (this.opts.signal?.aborted) throw new InterruptedError();
        failure = this.transportFailure(err, endpoint);
      }
      if (!failure.retryable || attempt >= this.retries) throw failure.error;
      const backoff = Math.min(this.backoffMs * 2 ** attempt, 10_000);
      const delayMs = Math.max(failure.retryAfterMs ?? 0, Math.round(backoff * (0.75 + Math.random() * 0.5)));
      this.opts.onRetry?.({ attempt: attempt + 1, delayMs, reason: failure.error.message, endpoint });
      await sleep(delayMs, this.opts.signal);
      if (this.opts.signal?.aborted) throw new InterruptedError();
    }
  }

  private transportFailure(err: unknown, endpoint: string): Failure {
    const e = err as { code?: string; message?: string; redirectedTo?: string };
    const code = e?.code ?? '';
    const f = { endpoint };
    const where = this.baseUrl;
    if (e?.redirectedTo) {
      return {
        retryable: RETRYABLE_NET.has(code),
        error: new MlflowUnavailableError(
          'MLFLOW_UNREACHABLE',
          `${where} redirected ${endpoint} to ${e.redirectedTo}, which cannot be reached (${code || 'network error'}).`,
          f,
          'A tracking URI that redirects elsewhere is often a proxy or a login page in front of MLflow: set mlflow.trackingUri ' +
            "(or $MLFLOW_TRACKING_URI) to the tracking server's own address, with MLFLOW_TRACKING_TOKEN if it needs one.",
        ),
      };
    }
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(e?.message ?? '')) {
      return {
        retryable: true,
        error: new MlflowUnavailableError(
          'MLFLOW_TIMEOUT',
          `MLflow at ${where} did not answer ${endpoint} within ${this.timeoutMs} ms.`,
          f,
          'Check that the tracking server is healthy, or raise mlflow.timeout in the config.',
        ),
      };
    }
    if (code === 'ENOTFOUND') {
      return {
        retryable: false,
        error: new MlflowUnavailableError(
          'MLFLOW_UNREACHABLE',
          `Cannot resolve the MLflow host of ${where}.`,
          f,
          'Check mlflow.trackingUri in the config or $MLFLOW_TRACKING_URI.',
        ),
      };
    }
    return {
      retryable: RETRYABLE_NET.has(code),
      error: new MlflowUnavailableError(
        'MLFLOW_UNREACHABLE',
        `Cannot reach MLflow at ${where} (${code || 'network error'}).`,
        f,
        'Check that the tracking server is running and that mlflow.trackingUri or $MLFLOW_TRACKING_URI points to it; ' +
          'for the local sandbox, `mlops sandbox status` (or `up`), then `eval "$(npx mlops sandbox env)"` again: its ports change.',
      ),
    };
  }

  private async httpFailure(res: HttpResponse, endpoint: string): Promise<Failure> {
    const status = res.status;
    const text = typeof res.data === 'string' ? res.data : await readSome(res.data);
    const body = parseBody(text) as { error_code?: string; message?: string } | undefined;
    const mlflowCode = body?.error_code;
    // Server messages may echo what we sent, never our headers; keep them short anyway. They reach the
    // terminal, so an escape sequence in one is shown, not obeyed.
    const serverMsg = printable((body?.message ?? (text && !/^\s*</.test(text) ? text : '')).trim().slice(0, 500));
    const f = { mlflowCode, httpStatus: status, endpoint };
    const detail = serverMsg ? `: ${serverMsg}` : '';
    const retryAfter = res.headers['retry-after'] ?? '';
    const retryAfterMs = /^\d+(\.\d+)?$/.test(retryAfter) ? Math.min(Number(retryAfter) * 1000, 30_000) : undefined;

    if (status === 429 || mlflowCode === 'REQUEST_LIMIT_EXCEEDED') {
      return {
        retryable: true,
        retryAfterMs,
        error: new MlflowUnavailableError(
          'MLFLOW_RATE_LIMITED',
          `MLflow rate-limited ${endpoint} (HTTP ${status})${detail}`,
          f,
          'Retry later, or raise mlflow.retries in the config.',
        ),
      };
    }
    if (status === 401 || status === 403 || mlflowCode === 'PERMISSION_DENIED' || mlflowCode === 'UNAUTHENTICATED') {
      return {
        retryable: false,
        error: new MlflowPermissionError(
          'MLFLOW_PERMISSION_DENIED',
          `MLflow denied ${endpoint} (HTTP ${status}${mlflowCode ? `, ${mlflowCode}` : ''})${detail}`,
          f,
          'Set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, to credentials allowed to do this.',
        ),
      };
    }
    if (mlflowCode === 'RESOURCE_DOES_NOT_EXIST') {
      return {
        retryable: false,
        error: new MlflowNotFoundError('MLFLOW_NOT_FOUND', serverMsg ? `MLflow: ${serverMsg}` : `MLflow: ${endpoint}: not found`, f),
      };
    }
    if (status === 404) {
      // A 404 without MLflow's error body is the URL, not the resource: a proxy prefix, another
      // service, or a server too old for this endpoint. Never "the run does not exist".
      return {
        retryable: false,
        error: new MlflowApiError(
          'MLFLOW_ENDPOINT_NOT_FOUND',
          `${this.baseUrl} answered 404 to ${endpoint}: not an MLflow REST endpoint.`,
          f,
          "Check that mlflow.trackingUri (or $MLFLOW_TRACKING_URI) is the MLflow tracking server's base URL, including any path prefix.",
        ),
      };
    }
    if (mlflowCode === 'INVALID_PARAMETER_VALUE' || mlflowCode === 'BAD_REQUEST' || mlflowCode === 'INVALID_STATE') {
      return { retryable: false, error: new MlflowInvalidParameterError(`MLflow rejected ${endpoint}${detail}`, f) };
    }
    if (mlflowCode === 'RESOURCE_ALREADY_EXISTS') {
      return {
        retryable: false,
        error: new MlflowApiError('MLFLOW_ALREADY_EXISTS', `MLflow: ${serverMsg || `${endpoint}: already exists`}`, f),
      };
    }
    if (status >= 500) {
      return {
        retryable: true,
        retryAfterMs,
        error: new MlflowUnavailableError(
          'MLFLOW_SERVER_ERROR',
          `MLflow failed on ${endpoint} (HTTP ${status}${mlflowCode ? `, ${mlflowCode}` : ''})${detail}`,
          f,
          'The tracking server had an internal error; check its logs and retry.',
        ),
      };
    }
    return {
      retryable: false,
      error: new MlflowApiError(
        `MLFLOW_${mlflowCode ?? `HTTP_${status}`}`,
        `MLflow refused ${endpoint} (HTTP ${status}${mlflowCode ? `, ${mlflowCode}` : ''})${detail}`,
        f,
      ),
    };
  }

  // --- experiments -----------------------------------------------------------------------------

  /** The experiment with this name, or undefined when there is none. */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.request<{ experiment: Record<string, unknown> }>('GET', 'experiments/get-by-name', {
        params: { experiment_name: name },
      });
      return parseExperiment(r.experiment);
    } catch (err) {
      if (isMlflowNotFound(err)) return undefined;
      throw err;
    }
  }

  async getExperiment(experimentId: string): Promise<Experiment | undefined> {
    try {
      const r = await this.request<{ experiment: Record<string, unknown> }>('GET', 'experiments/get', {
        params: { experiment_id: experimentId },
      });
      return parseExperiment(r.experiment);
    } catch (err) {
      if (isMlflowNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates an experiment and returns its id. */
  async createExperiment(name: string, opts: { artifactLocation?: string; tags?: Record<string, string> } = {}): Promise<string> {
    const r = await this.request<{ experiment_id: string }>('POST', 'experiments/create', {
      body: { name, artifact_location: opts.artifactLocation, tags: kvList(opts.tags) },
    });
    return String(r.experiment_id);
  }

  /** The experiment's id, creating it when missing (safe against a concurrent create). */
  async getOrCreateExperiment(name: string, opts: { artifactLocation?: string; tags?: Record<string, string> } = {}): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found) {
      if (found.lifecycleStage === 'deleted') {
        throw new UserError('MLFLOW_EXPERIMENT_DELETED', `MLflow experiment "${name}" is deleted.`, {
          hint: 'Restore it in the MLflow UI (or `mlflow experiments restore`), or use another experiment name.',
        });
      }
      return found.experimentId;
    }
    try {
      return await this.createExperiment(name, opts);
    } catch (err) {
      if (err instanceof MlflowApiError && err.mlflowCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getExperimentByName(name);
        if (again) return again.experimentId;
      }
      throw err;
    }
  }

  // --- runs ------------------------------------------------------------------------------------

  async createRun(req: {
    experimentId: string;
    startTime?: number;
    tags?: Record<string, string>;
    runName?: string;
    userId?: string;
  }): Promise<Run> {
    const r = await this.request<{ run: Record<string, unknown> }>('POST', 'runs/create', {
      body: {
        experiment_id: req.experimentId,
        start_time: req.startTime ?? Date.now(),
        tags: kvList(req.tags),
        run_name: req.runName,
        user_id: req.userId,
      },
    });
    return parseRun(r.run);
  }

  async updateRun(req: { runId: string; status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    const r = await this.request<{ run_info: Record<string, unknown> }>('POST', 'runs/update', {
      body: { run_id: req.runId, run_uuid: req.runId, status: req.status, end_time: req.endTime, run_name: req.runName },
    });
    return parseRunInfo(r.run_info ?? {});
  }

  /** The run, or undefined when it does not exist. */
  async getRun(runId: string): Promise<Run | undefined> {
    try {
      const r = await this.request<{ run: Record<string, unknown> }>('GET', 'runs/get', { params: { run_id: runId } });
      return parseRun(r.run);
    } catch (err) {
      if (isMlflowNotFound(err)) return undefined;
      // MLflow answers a malformed run id with INVALID_PARAMETER_VALUE on some stores.
      if (err instanceof MlflowInvalidParameterError && /not found|invalid run/i.test(err.message)) return undefined;
      throw err;
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.request('POST', 'runs/set-tag', { body: { run_id: runId, run_uuid: runId, key, value } });
  }

  /** Logs metrics, params and tags, split into requests within MLflow's limits (sequentially, in order). */
  async logBatch(
    runId: string,
    batch: { metrics?: Metric[]; params?: Record<string, string>; tags?: Record<string, string> },
  ): Promise<void> {
    const now = Date.now();
    const metrics = (batch.metrics ?? []).map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp ?? now, step: m.step ?? 0 }));
    const params = kvList(batch.params);
    const tags = kvList(batch.tags);
    for (const chunk of splitBatch(metrics, params, tags)) {
      await this.request('POST', 'runs/log-batch', { body: { run_id: runId, ...chunk } });
    }
  }

  /** One page of runs. */
  async searchRuns(req: SearchRunsRequest): Promise<SearchRunsPage> {
    const r = await this.request<{ runs?: Record<string, unknown>[]; next_page_token?: string }>('POST', 'runs/search', {
      body: {
        experiment_ids: req.experimentIds,
        filter: req.filter || undefined,
        run_view_type: req.runViewType ?? 'ACTIVE_ONLY',
        max_results: req.maxResults,
        order_by: req.orderBy,
        page_token: req.pageToken,
      },
    });
    return { runs: (r.runs ?? []).map(parseRun), nextPageToken: r.next_page_token || undefined };
  }

  /** Every page of a search, following page tokens. */
  async *searchRunsPages(req: SearchRunsRequest): AsyncGenerator<SearchRunsPage> {
    let pageToken = req.pageToken;
    for (;;) {
      const page = await this.searchRuns({ ...req, pageToken });
      yield page;
      if (!page.nextPageToken) return;
      pageToken = page.nextPageToken;
    }
  }

  // --- model registry --------------------------------------------------------------------------

  /** The registered model, or undefined when there is none by that name. */
  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    try {
      const r = await this.request<{ registered_model: Record<string, unknown> }>('GET', 'registered-models/get', { params: { name } });
      return parseRegisteredModel(r.registered_model);
    } catch (err) {
      if (isMlflowNotFound(err)) return undefined;
      throw err;
    }
  }

  async createRegisteredModel(name: string, opts: { tags?: Record<string, string>; description?: string } = {}): Promise<RegisteredModel> {
    const r = await this.request<{ registered_model: Record<string, unknown> }>('POST', 'registered-models/create', {
      body: { name, tags: kvList(opts.tags), description: opts.description },
    });
    return parseRegisteredModel(r.registered_model);
  }

  /** The registered model, created when missing (safe against a concurrent create). */
  async getOrCreateRegisteredModel(name: string): Promise<RegisteredModel> {
    const found = await this.getRegisteredModel(name);
    if (found) return found;
    try {
      return await this.createRegisteredModel(name);
    } catch (err) {
      if (err instanceof MlflowApiError && err.mlflowCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getRegisteredModel(name);
        if (again) return again;
      }
      throw err;
    }
  }

  /**
   * The version an alias points to. A missing model and a missing alias are values, not errors:
   * MLflow answers the first with RESOURCE_DOES_NOT_EXIST and the second with
   * INVALID_PARAMETER_VALUE "Registered model alias X not found".
   */
  async getModelVersionByAlias(name: string, alias: string): Promise<AliasLookup> {
    try {
      const r = await this.request<{ model_version: Record<string, unknown> }>('GET', 'registered-models/alias', {
        params: { name, alias },
      });
      return { found: true, version: parseModelVersion(r.model_version) };
    } catch (err) {
      if (isMlflowNotFound(err)) {
        return {
          found: false,
          reason: /alias/i.test(err.message) && !/registered model with name/i.test(err.message) ? 'alias-not-found' : 'model-not-found',
        };
      }
      if (err instanceof MlflowInvalidParameterError && /alias .* not found/i.test(err.message))
        return { found: false, reason: 'alias-not-found' };
      throw err;
    }
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.request('POST', 'registered-models/alias', { body: { name, alias, version: String(version) } });
  }

  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    // MLflow reads DELETE parameters from a JSON body, as its Python client sends them.
    await this.request('DELETE', 'registered-models/alias', { body: { name, alias } });
  }

  /** The version, or undefined when it (or its model) does not exist. */
  async getModelVersion(name: string, version: string): Promise<ModelVersion | undefined> {
    try {
      const r = await this.request<{ model_version: Record<string, unknown> }>('GET', 'model-versions/get', {
        params: { name, version: String(version) },
      });
      return parseModelVersion(r.model_version);
    } catch (err) {
      if (isMlflowNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Sets (or replaces) a tag on a model version (POST model-versions/set-tag). */
  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.request('POST', 'model-versions/set-tag', { body: { name, version: String(version), key, value } });
  }

  /** Every version of a registered model, tags included (GET model-versions/search, page by page); empty when there is none. */
  async searchModelVersions(name: string): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.request<{ model_versions?: Record<string, unknown>[]; next_page_token?: string }>(
        'GET',
        'model-versions/search',
        {
          params: { filter: `name='${name.replace(/'/g, "\\'")}'`, max_results: 1000, page_token: pageToken },
        },
      );
      out.push(...(r.model_versions ?? []).map(parseModelVersion));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** Latest version per legacy stage (deprecated in MLflow; kept for stage-based baselines). */
  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    try {
      const r = await this.request<{ model_versions?: Record<string, unknown>[] }>('POST', 'registered-models/get-latest-versions', {
        body: { name, stages },
      });
      return (r.model_versions ?? []).map(parseModelVersion);
    } catch (err) {
      if (isMlflowNotFound(err)) return [];
      throw err;
    }
  }

  async createModelVersion(req: {
    name: string;
    source: string;
    runId?: string;
    tags?: Record<string, string>;
    description?: string;
    runLink?: string;
    modelId?: string;
  }): Promise<ModelVersion> {
    const r = await this.request<{ model_version: Record<string, unknown> }>('POST', 'model-versions/create', {
      body: {
        name: req.name,
        source: req.source,
        run_id: req.runId,
        tags: kvList(req.tags),
        description: req.description,
        run_link: req.runLink,
        model_id: req.modelId,
      },
    });
    return parseModelVersion(r.model_version);
  }

  /** Where a version's files are (e.g. mlflow-artifacts:/1/models/m-.../artifacts). */
  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    const r = await this.request<{ artifact_uri: string }>('GET', 'model-versions/get-download-uri', {
      params: { name, version: String(version) },
    });
    return r.artifact_uri;
  }

  // --- artifacts -------------------------------------------------------------------------------

  /** Files directly under `path` of a run's artifacts (the server resolves the store). */
  async listArtifacts(runId: string, artifactPath?: string): Promise<ArtifactFile[]> {
    const out: ArtifactFile[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.request<{ files?: { path: string; is_dir?: boolean; file_size?: unknown }[]; next_page_token?: string }>(
        'GET',
        'artifacts/list',
        { params: { run_id: runId, run_uuid: runId, path: artifactPath || undefined, page_token: pageToken } },
      );
      for (const f of r.files ?? []) out.push({ path: f.path, isDir: Boolean(f.is_dir), fileSize: optNum(f.file_size) });
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /**
   * Turns runs:/, models:/ (name/version, name@alias, m-<id>) into a storage URI such as
   * mlflow-artifacts:/... ; other URIs are returned as they are.
   */
  async resolveArtifactUri(uri: string): Promise<string> {
    const runs = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(uri);
    if (runs) {
      const run = await this.getRun(runs[1]);
      if (!run?.info.artifactUri) {
        throw new MlflowNotFoundError('MLFLOW_NOT_FOUND', `MLflow run ${runs[1]} not found (from ${uri}).`, { endpoint: 'runs/get' });
      }
      return joinUri(run.info.artifactUri, runs[2]);
    }
    const models = /^models:\/(.+)$/.exec(uri);
    if (models) {
      const rest = models[1];
      const logged = /^(m-[0-9a-f]+)(?:\/(.*))?$/.exec(rest);
      if (logged) {
        const r = await this.request<{ model?: { info?: { artifact_uri?: string } } }>(
          'GET',
          `logged-models/${encodeURIComponent(logged[1])}`,
        );
        const base = r.model?.info?.artifact_uri;
        if (!base)
          throw new MlflowNotFoundError('MLFLOW_NOT_FOUND', `MLflow logged model ${logged[1]} has no artifact location.`, {
            endpoint: 'logged-models',
          });
        return joinUri(base, logged[2]);
      }
      const at = /^([^/@]+)@([^/]+)(?:\/(.*))?$/.exec(rest);
      if (at) {
        const found = await this.getModelVersionByAlias(at[1], at[2]);
        if (!found.found) {
          throw new MlflowNotFoundError('MLFLOW_NOT_FOUND', `Registered model ${at[1]} has no alias "${at[2]}" (${found.reason}).`, {
            endpoint: 'registered-models/alias',
          });
        }
        return joinUri(await this.getModelVersionDownloadUri(at[1], found.version.version), at[3]);
      }
      const nv = /^([^/]+)\/([^/]+)(?:\/(.*))?$/.exec(rest);
      if (nv) return joinUri(await this.getModelVersionDownloadUri(nv[1], nv[2]), nv[3]);
      throw new UserError('MLFLOW_BAD_URI', `Cannot resolve model URI ${uri}.`, {
        hint: 'Use models:/NAME/VERSION, models:/NAME@ALIAS or models:/m-ID.',
      });
    }
    return uri;
  }

  /** Files directly under an mlflow-artifacts: URI, via the server's proxied artifact API. */
  async listProxiedArtifacts(uri: string): Promise<ArtifactFile[]> {
    const rel = proxiedPath(uri);
    const r = await this.request<{ files?: { path: string; is_dir?: boolean; file_size?: unknown }[] }>('GET', 'artifacts', {
      api: '/api/2.0/mlflow-artifacts/',
      params: { path: rel || undefined },
    });
    return (r.files ?? []).map((f) => ({ path: f.path, isDir: Boolean(f.is_dir), fileSize: optNum(f.file_size) }));
  }

  /**
   * Downloads a file or a whole directory tree to `dest` (a directory is created at `dest`;
   * a file is written to `dest`). Accepts mlflow-artifacts:, runs:/, models:/, file: and local
   * paths. Returns the local files written, relative to dest (a file gives [""]).
   */
  async downloadArtifacts(uri: string, dest: string): Promise<string[]> {
    const resolved = await this.resolveArtifactUri(uri);
    if (/^file:/i.test(resolved) || path.isAbsolute(resolved)) {
      const src = /^file:/i.test(resolved) ? fileURLToPath(resolved) : resolved;
      await mkdir(path.dirname(dest), { recursive: true });
      await cp(src, dest, { recursive: true });
      return ['(copied)'];
    }
    if (/^s3:\/\//i.test(resolved)) return this.downloadFromS3(resolved, dest);
    if (!/^mlflow-artifacts:/i.test(resolved)) {
      throw new UserError(
        'MLFLOW_ARTIFACT_STORE_UNSUPPORTED',
        `Cannot download ${resolved}: only artifacts proxied by the tracking server (mlflow-artifacts:), s3:// and local files are supported.`,
        {
          hint: 'Run the tracking server with artifact serving (the default, or --serve-artifacts) so model files are reachable through it.',
        },
      );
    }
    // The whole tree is listed, and every name checked, before anything is written: a listed name
    // is joined to a local folder, so "..", "." or one with a separator would write elsewhere.
    const files: { rel: string; local: string }[] = [];
    const walk = async (rel: string, local: string): Promise<void> => {
      const listed = await this.listProxiedArtifacts(`mlflow-artifacts:/${rel}`);
      if (listed.length === 0) {
        files.push({ rel, local });
        return;
      }
      for (const f of listed) {
        // The server lists names relative to the listed directory (MLflow sends basenames).
        if (f.path === '' || f.path === '.' || f.path === '..' || /[/\\]/.test(f.path)) {
          throw new ExternalError(
            'MLFLOW_BAD_ARTIFACT_NAME',
            `MLflow listed an artifact named ${JSON.stringify(f.path)} in mlflow-artifacts:/${rel}: not a file or folder name, nothing was downloaded`,
            { hint: 'The tracking server or its artifact store answers with paths MLflow never writes: check what serves it.' },
          );
        }
        if (f.isDir) await walk(`${rel}/${f.path}`, path.join(local, f.path));
        else files.push({ rel: `${rel}/${f.path}`, local: path.join(local, f.path) });
      }
    };
    await walk(proxiedPath(resolved), dest);
    const written: string[] = [];
    for (const f of files) {
      await this.downloadProxiedFile(f.rel, f.local);
      written.push(path.relative(dest, f.local));
    }
    return written;
  }

  /**
   * Artifacts under an s3:// root (a server run with --no-serve-artifacts): read straight from S3
   * with the AWS credentials, as MLflow's own client does; MLFLOW_S3_ENDPOINT_URL (MLflow's variable)
   * points at another S3 endpoint.
   */
  private async downloadFromS3(uri: string, dest: string): Promise<string[]> {
    const env = this.opts.env ?? {};
    const [{ s3Client, envCredentials }, { downloadPrefix, parseS3Uri }] = await Promise.all([import('./aws.js'), import('./s3-store.js')]);
    const { bucket, prefix } = parseS3Uri(uri);
    const endpoint = env.MLFLOW_S3_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3 || undefined;
    const client = await s3Client({
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
      endpoints: endpoint ? { s3: endpoint } : {},
      credentials: envCredentials(env),
    });
    try {
      return await downloadPrefix(client, { bucket, prefix, dest, signal: this.opts.signal });
    } finally {
      client.destroy();
    }
  }

  /** Streams one proxied artifact file to a local path (written to a temp name, then renamed). */
  private async downloadProxiedFile(rel: string, local: string): Promise<void> {
    const endpoint = `mlflow-artifacts/artifacts/${rel}`;
    const res = await this.send(
      {
        method: 'GET',
        url: `/api/2.0/mlflow-artifacts/artifacts/${rel.split('/').map(encodeURIComponent).join('/')}`,
        stream: true,
      },
      endpoint,
    );
    await mkdir(path.dirname(local), { recursive: true });
    const tmp = `${local}.part-${process.pid}`;
    try {
      const { pipeline } = await import('node:stream/promises');
      await pipeline(res.data as Readable, createWriteStream(tmp));
      await rename(tmp, local);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new MlflowUnavailableError('MLFLOW_DOWNLOAD_FAILED', `Download of ${rel} from MLflow failed: ${(err as Error).message}`, {
        endpoint,
      });
    }
  }

  /**
   * Uploads one file into a run's artifacts at `artifactPath` (e.g. "mlops/profile.json"), through
   * the server's proxied artifact API (mlflow-artifacts:), or by writing it for a local file store.
   */
  async uploadArtifact(
    runId: string,
    artifactPath: string,
    content: string | Buffer,
    contentType = 'application/octet-stream',
  ): Promise<void> {
    const resolved = await this.resolveArtifactUri(`runs:/${runId}/${artifactPath.replace(/^\/+/, '')}`);
    if (/^file:/i.test(resolved) || path.isAbsolute(resolved)) {
      const local = /^file:/i.test(resolved) ? fileURLToPath(resolved) : resolved;
      await mkdir(path.dirname(local), { recursive: true });
      await writeFile(local, content);
      return;
    }
    if (!/^mlflow-artifacts:/i.test(resolved)) {
      throw new UserError(
        'MLFLOW_ARTIFACT_STORE_UNSUPPORTED',
        `Cannot upload to ${resolved}: only artifacts proxied by the tracking server (mlflow-artifacts:) and local files are supported.`,
        {
          hint: 'Run the tracking server with artifact serving (the default, or --serve-artifacts).',
        },
      );
    }
    const rel = proxiedPath(resolved);
    await this.send(
      {
        method: 'PUT',
        url: `/api/2.0/mlflow-artifacts/artifacts/${rel.split('/').map(encodeURIComponent).join('/')}`,
        body: content,
        headers: { 'Content-Type': contentType },
      },
      `mlflow-artifacts/artifacts/${rel}`,
    );
  }
}

function joinUri(base: string, sub?: string): string {
  if (!sub) return base;
  return `${base.replace(/\/+$/, '')}/${sub.replace(/^\/+/, '')}`;
}

/** The path inside the proxied store of an mlflow-artifacts: URI (no leading slash). */
function proxiedPath(uri: string): string {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/i.exec(uri);
  if (!m) throw new UserError('MLFLOW_BAD_URI', `Not an mlflow-artifacts: URI: ${uri}`);
  return m[1].replace(/\/+$/, '');
}

async function readSome(stream: Readable, limit = 4096): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.length >= limit) break;
  }
  stream.destroy();
  return text;
}

/** Splits a log-batch into requests within MLflow's per-request limits. */
export function splitBatch<M, P, T>(metrics: M[], params: P[], tags: T[]): { metrics: M[]; params: P[]; tags: T[] }[] {
  const out: { metrics: M[]; params: P[]; tags: T[] }[] = [];
  let mi = 0;
  let pi = 0;
  let ti = 0;
  while (mi < metrics.length || pi < params.length || ti < tags.length) {
    const p = params.slice(pi, pi + LOG_BATCH_LIMITS.params);
    const t = tags.slice(ti, ti + LOG_BATCH_LIMITS.tags);
    const room = Math.min(LOG_BATCH_LIMITS.metrics, LOG_BATCH_LIMITS.total - p.length - t.length);
    const m = metrics.slice(mi, mi + room);
    pi += p.length;
    ti += t.length;
    mi += m.length;
    out.push({ metrics: m, params: p, tags: t });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Factories

/** What every request to the tracking server carries: where it goes and its headers (auth included). */
export interface MlflowConnection {
  /** The tracking URI without user-info or trailing slash. */
  baseUrl: string;
  headers: Record<string, string>;
  /** MLFLOW_TRACKING_INSECURE_TLS=true: do not verify the server's certificate. */
  insecureTls: boolean;
  /** Set for a SageMaker-managed tracking server (the URI is its ARN): requests are SigV4-signed. */
  managed?: ManagedTrackingServer;
}

/**
 * The one place MLflow auth is decided, used by the client and by `mlops doctor` (so doctor checks
 * exactly what the commands send). Precedence as in MLflow's Python client (mlflow/utils/rest_utils.py,
 * `http_request`, MLflow 3.17): basic auth when a username and a password are both set, else the
 * bearer token MLFLOW_TRACKING_TOKEN. The username and password come from
 * MLFLOW_TRACKING_USERNAME/PASSWORD, else from the URI's user-info (http://user:pass@host).
 * Throws UserError (exit 2) when the URI is not http(s).
 */
export function mlflowConnection(trackingUri: string, env: Record<string, string | undefined>): MlflowConnection {
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'mlops-cli' };
  if (isTrackingServerArn(trackingUri)) {
    // A SageMaker-managed tracking server: no basic or bearer auth, every request SigV4-signed.
    const managed = managedTrackingServer(trackingUri, env);
    return {
      baseUrl: managed.baseUrl,
      headers: { ...headers, 'x-mlflow-sm-tracking-server-arn': managed.arn },
      insecureTls: false,
      managed,
    };
  }
  let url: URL;
  try {
    url = new URL(trackingUri);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError('MLFLOW_URI_INVALID', `The MLflow tracking URI "${safeUri(trackingUri)}" is not an http(s) URL.`, {
      hint: 'mlops talks to a tracking server over REST: set mlflow.trackingUri (or $MLFLOW_TRACKING_URI) to e.g. http://mlflow.internal:5000, or to a SageMaker MLflow tracking server ARN.',
    });
  }
  const user = env.MLFLOW_TRACKING_USERNAME || decodeURIComponent(url.username);
  const pass = env.MLFLOW_TRACKING_PASSWORD || decodeURIComponent(url.password);
  if (user && pass) headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  else if (env.MLFLOW_TRACKING_TOKEN) headers.Authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  url.username = '';
  url.password = '';
  return {
    baseUrl: url.toString().replace(/\/+$/, ''),
    headers,
    insecureTls: /^(true|1)$/i.test(env.MLFLOW_TRACKING_INSECURE_TLS ?? ''),
  };
}

/** Builds a client: validates the URI, sets auth from env. */
export async function createMlflowClient(opts: MlflowClientOptions): Promise<MlflowClient> {
  const { baseUrl, headers, insecureTls, managed } = mlflowConnection(opts.trackingUri, opts.env ?? {});
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const sign = managed ? trackingServerSigner(managed, opts.env ?? {}) : undefined;
  return new MlflowClient(await httpTransport(baseUrl, headers, timeoutMs, insecureTls, sign), { ...opts, timeoutMs }, baseUrl);
}

/**
 * The tracking URI: the effective config's (loadConfig put $MLFLOW_TRACKING_URI over the file),
 * else the variable (a config built without a file); undefined when neither is set.
 */
export function trackingUriOf(config: Config | undefined, env: Record<string, string | undefined>): string | undefined {
  return config?.mlflow.trackingUri || envTwinValue('mlflow.trackingUri', env)?.value;
}

/** The tracking URI (see trackingUriOf); a UserError (exit 2) when none is set. */
export function trackingUriFrom(config: Config, env: Record<string, string | undefined>): string {
  const uri = trackingUriOf(config, env);
  if (!uri) {
    throw new UserError('MLFLOW_URI_MISSING', 'No MLflow tracking server configured.', {
      hint:
        'Set mlflow.trackingUri in mlops.config.yaml, or export MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000); ' +
        'for the local sandbox, `eval "$(npx mlops sandbox env)"` sets it.',
    });
  }
  // A malformed $MLFLOW_TRACKING_URI, about to be used: bad input naming the variable.
  checkEnvironment(env, (p, value) => p === 'mlflow.trackingUri' && value === uri);
  return uri;
}

/**
 * Marks KILLED the runs of an experiment that an mlops on this host left RUNNING when it was
 * killed (its pid, tagged on the run, is gone); returns them. Used by `train` and `doctor`.
 */
export async function closeRunsOfDeadMlops(
  client: Pick<MlflowClient, 'searchRuns' | 'updateRun' | 'setTag'>,
  experimentId: string,
): Promise<Run[]> {
  const [{ hostname }, { processAlive }, { deadOwnerRuns, TAG }] = await Promise.all([
    import('node:os'),
    import('./process.js'),
    import('../core/run-tags.js'),
  ]);
  const page = await client.searchRuns({ experimentIds: [experimentId], filter: "attributes.status = 'RUNNING'", maxResults: 1000 });
  const dead = deadOwnerRuns(page.runs, hostname(), processAlive);
  for (const r of dead) {
    await client.setTag(r.info.runId, TAG.failure, 'mlops-killed');
    await client.updateRun({ runId: r.info.runId, status: 'KILLED', endTime: Date.now() });
  }
  return dead;
}

/** The client every command uses: URI, timeout and retries from config, credentials from env. */
export async function mlflowFromConfig(
  config: Config,
  env: Record<string, string | undefined>,
  extra: Pick<MlflowClientOptions, 'signal' | 'onRetry' | 'backoffMs'> = {},
): Promise<MlflowClient> {
  return createMlflowClient({
    trackingUri: trackingUriFrom(config, env),
    timeoutMs: durationMs(config.mlflow.timeout),
    retries: config.mlflow.retries,
    env,
    ...extra,
  });
}
