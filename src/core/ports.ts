/**
 * The ports: the interfaces through which core logic reaches the outside world. Adapters in
 * src/adapters implement them over the real services (and in-memory fakes for tests); core code
 * depends only on these types, never on an adapter.
 */
import type { EndpointView, ModelRef } from './deployment.js';
import type { AnchorClaim, AuditEvent, AuditHead, AuditRecord, ChainReport } from './audit.js';
import type { CapturedPair } from './bake.js';
import type { SmokeAnswer, SmokeRequest } from './smoke.js';
import type { LiveSummary } from './drift/evaluate.js';
import type { Profile } from './drift/profile.js';
import type { ScanStats } from './drift/scan.js';
import type { MonitorState } from './drift/windows.js';

// --- SageMaker (promote and rollback) ---

export interface Tag {
  Key: string;
  Value: string;
}

export interface ProductionVariantSpec {
  VariantName: string;
  ModelName: string;
  InitialInstanceCount: number;
  InstanceType: string;
  InitialVariantWeight: number;
}

export interface EndpointConfigSpec {
  EndpointConfigName: string;
  ProductionVariants: ProductionVariantSpec[];
  ShadowProductionVariants?: ProductionVariantSpec[];
  DataCaptureConfig?: {
    EnableCapture: boolean;
    InitialSamplingPercentage: number;
    DestinationS3Uri: string;
    CaptureOptions: { CaptureMode: 'Input' | 'Output' }[];
    CaptureContentTypeHeader?: { CsvContentTypes?: string[]; JsonContentTypes?: string[] };
  };
  Tags?: Tag[];
}

export interface ModelSpec {
  ModelName: string;
  ExecutionRoleArn: string;
  PrimaryContainer: { Image: string; ModelDataUrl: string; Environment?: Record<string, string> };
  Tags?: Tag[];
}

export interface DeploymentConfigSpec {
  BlueGreenUpdatePolicy: {
    TrafficRoutingConfiguration: {
      Type: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR';
      WaitIntervalInSeconds: number;
      CanarySize?: { Type: 'CAPACITY_PERCENT' | 'INSTANCE_COUNT'; Value: number };
      LinearStepSize?: { Type: 'CAPACITY_PERCENT' | 'INSTANCE_COUNT'; Value: number };
    };
    TerminationWaitInSeconds: number;
    MaximumExecutionTimeoutInSeconds: number;
  };
  AutoRollbackConfiguration?: { Alarms: { AlarmName: string }[] };
}

export interface UpdateEndpointSpec {
  EndpointName: string;
  EndpointConfigName: string;
  DeploymentConfig?: DeploymentConfigSpec;
}

export interface EndpointConfigView {
  name: string;
  productionVariants: { name: string; model: string; weight?: number }[];
  shadowVariants: { name: string; model: string }[];
}

/** The SageMaker port of promote and rollback. */
export interface SageMakerPort {
  createModel(spec: ModelSpec): Promise<void>;
  describeModel(name: string): Promise<{ name: string; modelDataUrl?: string } | undefined>;
  createEndpointConfig(spec: EndpointConfigSpec): Promise<void>;
  describeEndpointConfig(name: string): Promise<EndpointConfigView | undefined>;
  createEndpoint(spec: { EndpointName: string; EndpointConfigName: string; Tags?: Tag[] }): Promise<void>;
  describeEndpoint(name: string): Promise<(EndpointView & { arn: string }) | undefined>;
  updateEndpoint(spec: UpdateEndpointSpec): Promise<void>;
  updateEndpointWeightsAndCapacities(spec: {
    EndpointName: string;
    DesiredWeightsAndCapacities: { VariantName: string; DesiredWeight: number }[];
  }): Promise<void>;
  addTags(arn: string, tags: Tag[]): Promise<void>;
  listTags(arn: string): Promise<Tag[]>;
  deleteEndpointConfig(name: string): Promise<void>;
  /** Deletes a model; a model that does not exist counts as deleted. */
  deleteModel(name: string): Promise<void>;
  /** Deletes the endpoint (a first deployment whose smoke test failed); absent is success. */
  deleteEndpoint(name: string): Promise<void>;
}

// --- CloudWatch (monitor publishes drift; promote makes and reads alarms) ---

export type Dimensions = Record<string, string>;

export interface MetricDatum {
  name: string;
  value: number;
  dimensions: Dimensions;
  unit?: 'None' | 'Count' | 'Percent' | 'Seconds' | 'Milliseconds';
  timestamp?: Date;
}

export interface AlarmSpec {
  name: string;
  description?: string;
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
  statistic: 'Average' | 'Maximum' | 'Minimum' | 'Sum' | 'SampleCount';
  /** Seconds. */
  period: number;
  evaluationPeriods: number;
  threshold: number;
  comparison: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
  treatMissingData?: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
  tags?: Record<string, string>;
}

export interface AlarmState {
  name: string;
  /** OK, ALARM or INSUFFICIENT_DATA (kept a string: CloudWatch may add states). */
  state: string;
  reason?: string;
  namespace?: string;
  metricName?: string;
  dimensions: Dimensions;
  threshold?: number;
}

export interface MetricStatisticsQuery {
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
  start: Date;
  end: Date;
  /** Seconds. */
  period: number;
  statistics: Array<'Average' | 'Maximum' | 'Minimum' | 'Sum' | 'SampleCount'>;
  /** Percentiles such as "p50", "p99" (promote's bake compares latency with them). */
  extendedStatistics?: string[];
}

export interface Datapoint {
  timestamp: Date;
  average?: number;
  maximum?: number;
  minimum?: number;
  sum?: number;
  sampleCount?: number;
  /** Percentile values, by name ("p99"), when asked for. */
  extended?: Record<string, number>;
}

/** The CloudWatch calls mlops makes. */
export interface MetricsPort {
  /** Publishes data points (batched by 1000, CloudWatch's limit per call). */
  putMetricData(namespace: string, data: MetricDatum[]): Promise<void>;
  putMetricAlarm(spec: AlarmSpec): Promise<void>;
  /** Alarms by name (unknown names are simply absent). */
  describeAlarms(names: string[]): Promise<AlarmState[]>;
  /** Data points sorted by time. */
  getMetricStatistics(q: MetricStatisticsQuery): Promise<Datapoint[]>;
  /** Forces an alarm's state (rollback uses it to make SageMaker stop a blue/green cutover). */
  setAlarmState(name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', reason: string): Promise<void>;
  /** Deletes alarms by name (CloudWatch ignores unknown names; at most 100 per call). */
  deleteAlarms(names: string[]): Promise<void>;
}

// --- S3 (deployment state, lock, audit) ---

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ("" for the bucket root). */
  prefix: string;
}

export interface PutCondition {
  /** Write only if no object exists at the key (If-None-Match: *). */
  ifNoneMatch?: '*';
  /** Write only if the current object has this ETag (If-Match). */
  ifMatch?: string;
}

export interface Retention {
  mode: 'COMPLIANCE' | 'GOVERNANCE';
  until: Date;
}

export type PutOutcome = { ok: true; etag: string; versionId?: string } | { ok: false; reason: 'precondition-failed' };

export interface HeadResult {
  etag: string;
  size: number;
  versionId?: string;
  lockMode?: string;
  retainUntil?: Date;
}

/** One stored version of an object, or one delete marker. */
export interface ObjectVersion {
  key: string;
  versionId: string;
  /** The newest entry of its key: what a plain GET reads (or, for a delete marker, hides). */
  latest: boolean;
  lastModified?: Date;
}

/** Every version and delete marker under a prefix (ListObjectVersions). */
export interface VersionListing {
  /** Stored versions in key order; the versions of one key newest first. */
  versions: ObjectVersion[];
  deleteMarkers: ObjectVersion[];
}

/** A JSON object as read, with its version and Object Lock retention. */
export interface StoredJson<T> {
  value: T;
  etag: string;
  versionId?: string;
  lockMode?: string;
  retainUntil?: Date;
}

/** The S3 calls mlops makes. */
export interface ObjectStore {
  /**
   * The object (its latest version, or the given one), or undefined when there is none;
   * S3_BAD_JSON (exit 3) when it is not JSON mlops could have written (too large, nested too deep).
   */
  getJson<T>(bucket: string, key: string, opts?: { versionId?: string }): Promise<StoredJson<T> | undefined>;
  putJson(bucket: string, key: string, value: unknown, opts?: PutCondition & { retention?: Retention }): Promise<PutOutcome>;
  putBytes(bucket: string, key: string, body: Uint8Array, contentType?: string): Promise<{ etag: string }>;
  /** Streams a body of unknown length (multipart upload over S3's part size), reporting bytes sent. */
  putStream(
    bucket: string,
    key: string,
    body: AsyncIterable<Uint8Array>,
    opts?: { contentType?: string; onProgress?(uploadedBytes: number): void },
  ): Promise<{ etag: string; parts: number }>;
  head(bucket: string, key: string): Promise<HeadResult | undefined>;
  /** Every key under the prefix, in S3's (lexicographic) order. */
  list(bucket: string, prefix: string): Promise<string[]>;
  /** Deletes the object; with ifMatch, only if it still has that ETag. */
  delete(bucket: string, key: string, opts?: { ifMatch?: string }): Promise<PutOutcome>;
  /** Every version and delete marker under the prefix, deleted keys included. */
  listVersions(bucket: string, prefix: string): Promise<VersionListing>;
  /** The bucket's versioning status; undefined when it was never enabled. */
  versioning(bucket: string): Promise<'Enabled' | 'Suspended' | undefined>;
}

// --- Audit trail ---

export interface AuditLog {
  /** Seals the event onto the chain and writes it under a key that never existed before. */
  append(event: Omit<AuditEvent, 'endpoint'>): Promise<AuditRecord>;
  /** The record this log appended last, to be quoted outside the chain (a deployment record's `auditHead`). */
  head(): AuditHead | undefined;
  /** The last n records, oldest first. */
  tail(n: number): Promise<AuditRecord[]>;
  /**
   * Walks every stored version of the chain: continuity, deletions, overwrites, retention, and
   * the anchors given (heads quoted elsewhere), or gathered by a function of the records read
   * (the model versions they name). Throws an ExternalError on a bucket without versioning.
   */
  verify(anchors?: AnchorClaim[] | ((records: AuditRecord[]) => Promise<AnchorClaim[]>)): Promise<ChainReport>;
  location: S3Location;
}

// --- promote and rollback ---

/** The model registry calls promote makes (MLflow). */
export interface RegistryPort {
  getVersion(name: string, version: string): Promise<{ version: string; runId?: string } | undefined>;
  getAlias(name: string, alias: string): Promise<string | undefined>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  deleteAlias(name: string, alias: string): Promise<void>;
  /** Sets a tag on a model version (promote quotes the audit chain's head there). */
  setVersionTag(name: string, version: string, key: string, value: string): Promise<void>;
  /** Every version of a registered model with its tags; empty when there is no such model. */
  versionTags(name: string): Promise<{ version: string; tags: Record<string, string> }[]>;
}

/** Packages a model version as model.tar.gz (MLmodel at the root) at an s3:// URI. */
export interface PackagerPort {
  package(candidate: ModelRef, destUri: string): Promise<void>;
}

/** Streams captured request/response pairs of one variant in a time window, in batches, roughly in time order. */
export interface CapturePort {
  read(endpoint: string, variant: string, since: Date, until: Date): AsyncIterable<CapturedPair[]>;
}

/** What promote's smoke test needs: example rows for a model version, and a direct call to one variant. */
export interface SmokePort {
  /** Up to `rows` example rows of the version (its MLflow input example, else the holdout file); undefined when there are none. */
  example(candidate: ModelRef, rows: number): Promise<SmokeRequest | undefined>;
  /** InvokeEndpoint with TargetVariant; a model error is an answer (status and body), not an exception. */
  invoke(endpoint: string, variant: string, req: SmokeRequest): Promise<SmokeAnswer>;
}

/** Time, injected: tests and --dry-run run it compressed. */
export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** One poll of a long wait: what is awaited, its state now, and what the wait belongs to. */
export interface WaitEvent {
  /** What is awaited, e.g. "endpoint churn-prod". */
  subject: string;
  /** Its state now, e.g. "Updating"; a new subject or status starts a new wait (elapsed from 0). */
  status: string;
  /** The deployment stage (or step) the wait belongs to. */
  stage?: string;
  /** More to say, e.g. "canary 10%". */
  detail?: string;
}

/** Reports long waits as they go (a spinner on a terminal, a line every 30-60 s in CI); the adapter decides how often. */
export interface ProgressPort {
  /** Called on every poll while waiting. */
  waiting(e: WaitEvent): void;
}

export interface DeployPorts {
  sagemaker: SageMakerPort;
  metrics: MetricsPort;
  store: ObjectStore;
  registry: RegistryPort;
  packager: PackagerPort;
  capture: CapturePort;
  /** The smoke test's rows and calls (without it no smoke test is planned: core's unit tests; the commands always wire it). */
  smoke?: SmokePort;
  audit: AuditLog;
  clock: Clock;
  log(msg: string): void;
  signal?: AbortSignal;
  /** Called while waiting: keeps the endpoint lock alive (throws when it was lost). */
  heartbeat?(): Promise<void>;
  /** Told of every poll of a wait, so the person or the CI log sees it is alive. */
  progress?: ProgressPort;
}

// --- compare (baseline resolution) ---

export interface RunLike {
  info: { runId: string; experimentId: string; runName?: string; status: string; startTime?: number };
  data: { metrics: Record<string, number>; tags: Record<string, string> };
}

/** The MLflow calls baseline resolution needs (MlflowClient implements them). */
export interface BaselinePort {
  getRun(runId: string): Promise<RunLike | undefined>;
  getRegisteredModel(name: string): Promise<{ aliases: Record<string, string> } | undefined>;
  getModelVersionByAlias(
    name: string,
    alias: string,
  ): Promise<
    { found: true; version: { version: string; runId?: string } } | { found: false; reason: 'model-not-found' | 'alias-not-found' }
  >;
  getLatestVersions(name: string, stages?: string[]): Promise<{ version: string; runId?: string; currentStage?: string }[]>;
  getExperimentByName(name: string): Promise<{ experimentId: string; lifecycleStage?: string } | undefined>;
  searchRuns(req: { experimentIds: string[]; filter?: string; orderBy?: string[]; maxResults?: number }): Promise<{ runs: RunLike[] }>;
}

// --- monitor ---

/** What a rollback port gets and says. */
export interface RollbackRequest {
  endpoint: string;
  variant: string;
  reason: string;
  dryRun: boolean;
}
export interface RollbackOutcome {
  performed: boolean;
  detail: string;
}
export type RollbackPort = (req: RollbackRequest) => Promise<RollbackOutcome>;

/** Where the consecutive-drift count lives. */
export interface MonitorStateStore {
  describe: string;
  read(): Promise<MonitorState | undefined>;
  write(state: MonitorState): Promise<void>;
}

export interface MonitorPorts {
  baseline(): Promise<{ profile: Profile; source: string }>;
  /** Lists the capture files of the window and scans them into `live` (in parallel when large). */
  scan(
    live: LiveSummary,
    opts: { window?: { from: number; to: number }; signal?: AbortSignal; onProgress?: (n: number) => void },
  ): Promise<{ stats: ScanStats; files: number; bytes: number; describe: string }>;
  metrics?: MetricsPort;
  state: MonitorStateStore;
  rollback: RollbackPort;
  /** Appends the window's verdict to the endpoint's audit chain, when there is one. */
  audit?: (event: Omit<AuditEvent, 'endpoint' | 'actor'>) => Promise<void>;
  now(): Date;
}

// --- Pull/merge request comments (compare --comment) ---

/** What happened to the sticky comment; failures are values, since commenting never fails a gate. */
export type CommentOutcome =
  { status: 'created' | 'updated'; id: string; url?: string } | { status: 'failed'; reason: string; httpStatus?: number };

export interface PullRequestCommentPort {
  /** Where comments go, for messages ("GitHub owner/repo#12"). */
  readonly target: string;
  /** The longest comment the provider accepts, in characters. */
  readonly maxBodyLength: number;
  /** Updates the comment that holds `marker`, or creates one; never throws. */
  upsert(marker: string, body: string): Promise<CommentOutcome>;
}
