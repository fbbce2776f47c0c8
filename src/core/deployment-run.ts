/**
 * Runs a promotion or a rollback: observe, `decide`, act, record, repeat, until the deployment
 * waits (for the bake period, or longer than this run may wait) or ends. Every side effect goes
 * through an injected port, so unit tests drive it with in-memory fakes and the commands with the
 * real SDK clients. No node: imports. (The port types live with their adapters; only types are
 * imported from there.)
 */
import { ConflictError, CheckFailedError, ExternalError, UserError } from './errors.js';
import type { DeployConfig } from '../config/schema.js';
import type {
  AuditLog,
  MetricsPort,
  ObjectStore,
  DeploymentConfigSpec,
  EndpointConfigSpec,
  ProductionVariantSpec,
  SageMakerPort,
} from './ports.js';
import { judgeBake, matchPairs, type CapturedPair, type VariantStats } from './bake.js';
import { durationMs } from './duration.js';
import {
  advance,
  decide,
  decideRollback,
  isTerminal,
  newDeployment,
  type Action,
  type DeploymentRecord,
  type ModelRef,
  type Stage,
} from './deployment.js';
import { DRIFT_DIMENSIONS, DRIFT_METRIC, MLOPS_NAMESPACE, SAGEMAKER_NAMESPACE } from './metric-names.js';

/** The model registry calls promote makes (MLflow). */
export interface RegistryPort {
  getVersion(name: string, version: string): Promise<{ version: string; runId?: string } | undefined>;
  getAlias(name: string, alias: string): Promise<string | undefined>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  deleteAlias(name: string, alias: string): Promise<void>;
}

/** Packages a model version as model.tar.gz (MLmodel at the root) at an s3:// URI. */
export interface PackagerPort {
  package(candidate: ModelRef, destUri: string): Promise<void>;
}

/** Reads captured request/response pairs of one variant in a time window. */
export interface CapturePort {
  read(endpoint: string, variant: string, since: Date, until: Date): Promise<CapturedPair[]>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface DeployPorts {
  sagemaker: SageMakerPort;
  metrics: MetricsPort;
  store: ObjectStore;
  registry: RegistryPort;
  packager: PackagerPort;
  capture: CapturePort;
  audit: AuditLog;
  clock: Clock;
  log(msg: string): void;
  signal?: AbortSignal;
  /** Called while waiting: keeps the endpoint lock alive (throws when it was lost). */
  heartbeat?(): Promise<void>;
}

export interface DeploySettings {
  deploy: DeployConfig;
  registeredModel: string;
  /** user@host (and CI run URL) for audit records. */
  actor: string;
  /** How long this run may wait for SageMaker (status changes, a short bake) before exiting 0. */
  waitBudgetMs: number;
  pollMs: number;
  alias?: string;
}

export const SHADOW_VARIANT = 'shadow';
export const warmVariantName = (variant: string) => `${variant}-warm`.slice(0, 63);

export type Outcome = 'advanced' | 'waiting' | 'nothing' | 'done' | 'rolled-back' | 'failed';

export interface RunResult {
  outcome: Outcome;
  deployment?: DeploymentRecord;
  /** What this run did, in order (SageMaker/CloudWatch/S3/MLflow calls with side effects). */
  steps: string[];
  waitingFor?: string;
}

// --- deployment state in S3 -----------------------------------------------------------------

export class DeploymentStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly endpoint: string,
  ) {}
  private base() {
    return `${this.prefix ? this.prefix + '/' : ''}${this.endpoint}`;
  }
  recordKey(id: string) {
    return `${this.base()}/deployments/${id}.json`;
  }
  uri(id: string) {
    return `s3://${this.bucket}/${this.recordKey(id)}`;
  }
  /** The current (latest) deployment of the endpoint. */
  async current(): Promise<DeploymentRecord | undefined> {
    const ptr = await this.store.getJson<{ id: string }>(this.bucket, `${this.base()}/current.json`);
    if (!ptr) return undefined;
    return (await this.store.getJson<DeploymentRecord>(this.bucket, this.recordKey(ptr.value.id)))?.value;
  }
  async save(r: DeploymentRecord): Promise<void> {
    await this.store.putJson(this.bucket, this.recordKey(r.id), r);
  }
  async setCurrent(id: string): Promise<void> {
    await this.store.putJson(this.bucket, `${this.base()}/current.json`, { id });
  }
  async list(): Promise<string[]> {
    return this.store.list(this.bucket, `${this.base()}/deployments/`);
  }
}

export function deploymentStore(store: ObjectStore, deploy: DeployConfig): DeploymentStore {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(deploy.state.uri)!;
  return new DeploymentStore(store, m[1], m[2].replace(/\/+$/, ''), deploy.endpointName);
}

// --- SageMaker request shapes -----------------------------------------------------------------

function variant(d: DeployConfig, name: string, model: string, weight: number): ProductionVariantSpec {
  return {
    VariantName: name,
    ModelName: model,
    InitialInstanceCount: d.instanceCount,
    InstanceType: d.instanceType,
    InitialVariantWeight: weight,
  };
}

function dataCapture(d: DeployConfig, samplingPercent = d.dataCapture.samplingPercent): EndpointConfigSpec['DataCaptureConfig'] {
  return {
    EnableCapture: true,
    InitialSamplingPercentage: samplingPercent,
    DestinationS3Uri: d.dataCapture.destination,
    CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
  };
}

const tags = (r: DeploymentRecord) => [
  { Key: 'mlops:deployment', Value: r.id },
  { Key: 'mlops:model-version', Value: `${r.candidate.registeredModel}/${r.candidate.version}` },
];

/** Production = the current model, shadow = the candidate, data capture on. */
export function shadowConfigSpec(d: DeployConfig, r: DeploymentRecord): EndpointConfigSpec {
  return {
    EndpointConfigName: r.names.shadowConfig,
    ProductionVariants: [variant(d, d.variantName, r.previous!.model, 1)],
    ShadowProductionVariants: [variant(d, SHADOW_VARIANT, r.names.model, 1)],
    DataCaptureConfig: dataCapture(d, Math.max(d.dataCapture.samplingPercent, d.shadow.samplingPercent)),
    Tags: tags(r),
  };
}

/** The candidate alone (plus the previous model at weight 0 with the keep-warm strategy). */
export function finalConfigSpec(d: DeployConfig, r: DeploymentRecord): EndpointConfigSpec {
  const variants = [variant(d, d.variantName, r.names.model, 1)];
  if (d.rollback.strategy === 'keep-warm' && r.previous) variants.push(variant(d, warmVariantName(d.variantName), r.previous.model, 0));
  return { EndpointConfigName: r.names.finalConfig, ProductionVariants: variants, DataCaptureConfig: dataCapture(d), Tags: tags(r) };
}

export function deploymentConfigSpec(d: DeployConfig, alarms: string[]): DeploymentConfigSpec {
  const c = d.cutover;
  const secs = (x: string | number) => Math.round(durationMs(x) / 1000);
  const routing: DeploymentConfigSpec['BlueGreenUpdatePolicy']['TrafficRoutingConfiguration'] =
    c.type === 'all-at-once'
      ? { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }
      : c.type === 'canary'
        ? { Type: 'CANARY', WaitIntervalInSeconds: secs(c.wait), CanarySize: { Type: 'CAPACITY_PERCENT', Value: c.size } }
        : { Type: 'LINEAR', WaitIntervalInSeconds: secs(c.wait), LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: c.step } };
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: routing,
      TerminationWaitInSeconds: secs(d.terminationWait),
      MaximumExecutionTimeoutInSeconds: secs(d.maxExecutionTimeout),
    },
    AutoRollbackConfiguration: { Alarms: alarms.map((AlarmName) => ({ AlarmName })) },
  };
}

/** The alarms on the new fleet: 5XX errors, model latency, and monitor's drift metric. */
export function alarmSpecs(d: DeployConfig, r: DeploymentRecord) {
  const period = Math.max(10, Math.round(durationMs(d.alarms.period) / 1000));
  const fleet = { EndpointName: d.endpointName, EndpointConfigName: r.names.finalConfig, VariantName: d.variantName };
  const [e5xx, latency, drift] = r.names.alarms;
  const common = {
    period,
    evaluationPeriods: d.alarms.evaluationPeriods,
    comparison: 'GreaterThanThreshold' as const,
    treatMissingData: 'notBreaching' as const,
  };
  return [
    {
      ...common,
      name: e5xx,
      description: `mlops ${r.id}: 5XX errors on the new fleet`,
      namespace: SAGEMAKER_NAMESPACE,
      metricName: 'Invocation5XXErrors',
      dimensions: fleet,
      statistic: 'Average' as const,
      threshold: d.alarms.errorRate5xx,
    },
    {
      ...common,
      name: latency,
      description: `mlops ${r.id}: model latency on the new fleet (microseconds)`,
      namespace: SAGEMAKER_NAMESPACE,
      metricName: 'ModelLatency',
      dimensions: fleet,
      statistic: 'Average' as const,
      threshold: d.alarms.latencyMs * 1000,
    },
    {
      ...common,
      name: drift,
      description: `mlops ${r.id}: drift published by mlops monitor`,
      namespace: MLOPS_NAMESPACE,
      metricName: DRIFT_METRIC,
      dimensions: { [DRIFT_DIMENSIONS[0]]: d.endpointName, [DRIFT_DIMENSIONS[1]]: d.variantName },
      statistic: 'Maximum' as const,
      threshold: d.alarms.drift,
    },
  ];
}

// --- promote ----------------------------------------------------------------------------------

/** Advances the endpoint's deployment of `candidate` as far as it can. The caller holds the lock. */
export async function runPromote(p: DeployPorts, s: DeploySettings, candidate: ModelRef): Promise<RunResult> {
  const d = s.deploy;
  const states = deploymentStore(p.store, d);
  const steps: string[] = [];
  const alias = s.alias ?? 'production';
  let rec = await states.current();

  if (rec && !isTerminal(rec.stage) && rec.candidate.version !== candidate.version) {
    throw new ConflictError(
      'DEPLOYMENT_IN_PROGRESS',
      `deployment ${rec.id} of version ${rec.candidate.version} is at stage ${rec.stage} on ${d.endpointName}`,
      {
        hint: 'Let it finish (run `mlops promote` without --run/--model-version), or `mlops rollback` it first.',
        details: { deployment: rec.id },
      },
    );
  }
  if (rec && rec.stage === 'done' && rec.candidate.version === candidate.version && rec.aliasMoved) {
    return { outcome: 'nothing', deployment: rec, steps };
  }
  if (!rec || (isTerminal(rec.stage) && !(rec.stage === 'done' && rec.candidate.version === candidate.version))) {
    rec = await startDeployment(p, s, candidate, states, steps);
  }

  let advanced = false;
  const started = p.clock.now().getTime();
  // Waits are bounded by the wait budget; actions by a generous cap (a loop would be a bug).
  for (let acts = 0; acts < 200;) {
    if (p.signal?.aborted) break;
    const ep = await p.sagemaker.describeEndpoint(d.endpointName);
    const now = p.clock.now();
    const action = decide(rec, { now, endpoint: ep }, { shadowDurationMs: durationMs(d.shadow.duration) });
    const budgetLeft = s.waitBudgetMs - (now.getTime() - started);
    switch (action.kind) {
      case 'nothing':
        return { outcome: rec.stage === 'done' ? 'done' : advanced ? 'advanced' : 'nothing', deployment: rec, steps };
      case 'wait-endpoint':
        if (budgetLeft <= 0) return { outcome: advanced ? 'advanced' : 'waiting', deployment: rec, steps, waitingFor: action.why };
        await p.heartbeat?.();
        await p.clock.sleep(Math.min(s.pollMs, budgetLeft), p.signal);
        continue;
      case 'wait-bake':
        if (action.remainingMs > budgetLeft) {
          return { outcome: advanced ? 'advanced' : 'waiting', deployment: rec, steps, waitingFor: `bake until ${action.until}` };
        }
        await p.heartbeat?.();
        await p.clock.sleep(Math.min(action.remainingMs, s.pollMs * 10), p.signal);
        continue;
      case 'fail': {
        rec = advance({ ...rec, reason: action.reason }, 'failed', now, action.reason);
        await states.save(rec);
        await p.audit.append({
          kind: 'stage',
          action: 'deployment.failed',
          deploymentId: rec.id,
          actor: s.actor,
          details: { reason: action.reason },
        });
        throw new ExternalError('DEPLOYMENT_FAILED', `deployment ${rec.id} failed: ${action.reason}`, {
          hint: 'Check the endpoint in the SageMaker console; the previous model keeps serving. Then promote again.',
        });
      }
      default:
        acts++;
        rec = await act(p, s, rec, action, steps, states);
        advanced = true;
        if (rec.stage === 'rolled-back') {
          return { outcome: 'rolled-back', deployment: rec, steps };
        }
    }
  }
  return { outcome: advanced ? 'advanced' : 'waiting', deployment: rec, steps };
}

async function startDeployment(
  p: DeployPorts,
  s: DeploySettings,
  candidate: ModelRef,
  states: DeploymentStore,
  steps: string[],
): Promise<DeploymentRecord> {
  const d = s.deploy;
  const ep = await p.sagemaker.describeEndpoint(d.endpointName);
  let previous: DeploymentRecord['previous'];
  if (ep) {
    if (ep.status !== 'InService') {
      throw new ExternalError('ENDPOINT_BUSY', `endpoint ${d.endpointName} is ${ep.status}; a new deployment starts only from InService`, {
        hint: 'Wait for the endpoint to settle, then run promote again.',
      });
    }
    const cfg = await p.sagemaker.describeEndpointConfig(ep.configName);
    // The variant serving now: after a weights-only rollback that is the warm one, not variantName.
    const live = [...ep.variants].sort((x, y) => (y.weight ?? 0) - (x.weight ?? 0))[0]?.name;
    const prod =
      cfg?.productionVariants.find((v) => v.name === live) ??
      cfg?.productionVariants.find((v) => v.name === d.variantName) ??
      cfg?.productionVariants[0];
    if (!prod) throw new ExternalError('ENDPOINT_CONFIG_UNREADABLE', `cannot read the production variant of ${ep.configName}`);
    previous = { endpointConfig: ep.configName, model: prod.model };
  }
  const prevAlias = await p.registry.getAlias(s.registeredModel, s.alias ?? 'production');
  const rec = newDeployment({
    endpoint: d.endpointName,
    candidate,
    previous: previous && { ...previous, version: prevAlias },
    previousAliasVersion: prevAlias,
    artifactPrefix: d.artifacts,
    now: p.clock.now(),
  });
  await states.save(rec);
  await states.setCurrent(rec.id);
  steps.push(`S3 PutObject ${states.uri(rec.id)}`);
  await p.audit.append({
    kind: 'stage',
    action: 'deployment.started',
    deploymentId: rec.id,
    actor: s.actor,
    details: { candidate, previous: rec.previous ?? null, record: states.uri(rec.id) },
  });
  return rec;
}

async function act(
  p: DeployPorts,
  s: DeploySettings,
  rec: DeploymentRecord,
  a: Exclude<Action, { kind: 'nothing' | 'wait-endpoint' | 'wait-bake' | 'fail' }>,
  steps: string[],
  states: DeploymentStore,
): Promise<DeploymentRecord> {
  const d = s.deploy;
  const now = () => p.clock.now();
  const save = async (r: DeploymentRecord) => {
    const next = { ...r, updatedAt: now().toISOString() };
    await states.save(next);
    return next;
  };
  const stageAudit = (action: string, details: Record<string, unknown> = {}) =>
    p.audit.append({ kind: 'stage', action, deploymentId: rec.id, actor: s.actor, details });
  switch (a.kind) {
    case 'upload-artifact':
      p.log(`packaging ${rec.candidate.registeredModel} v${rec.candidate.version} -> ${rec.artifact}`);
      await p.packager.package(rec.candidate, rec.artifact);
      steps.push(`S3 PutObject ${rec.artifact}`);
      return save({ ...rec, artifactUploaded: true });
    case 'create-model':
      await p.sagemaker.createModel({
        ModelName: rec.names.model,
        ExecutionRoleArn: d.executionRoleArn,
        PrimaryContainer: { Image: d.image, ModelDataUrl: rec.artifact },
        Tags: tags(rec),
      });
      steps.push(`SageMaker CreateModel ${rec.names.model}`);
      return save({ ...rec, modelCreated: true });
    case 'create-config':
      await p.sagemaker.createEndpointConfig(a.config === 'shadow' ? shadowConfigSpec(d, rec) : finalConfigSpec(d, rec));
      steps.push(`SageMaker CreateEndpointConfig ${a.config === 'shadow' ? rec.names.shadowConfig : rec.names.finalConfig}`);
      return rec;
    case 'create-endpoint':
      await p.sagemaker.createEndpointConfig(finalConfigSpec(d, rec));
      steps.push(`SageMaker CreateEndpointConfig ${rec.names.finalConfig}`);
      await p.sagemaker.createEndpoint({
        EndpointName: d.endpointName,
        EndpointConfigName: rec.names.finalConfig,
        Tags: [...tags(rec), { Key: 'mlops:state', Value: states.uri(rec.id) }],
      });
      steps.push(`SageMaker CreateEndpoint ${d.endpointName} (${rec.names.finalConfig})`);
      return rec;
    case 'update-endpoint': {
      let configName: string;
      if (a.config === 'shadow') {
        await p.sagemaker.createEndpointConfig(shadowConfigSpec(d, rec));
        steps.push(`SageMaker CreateEndpointConfig ${rec.names.shadowConfig}`);
        configName = rec.names.shadowConfig;
      } else if (a.config === 'final') {
        await p.sagemaker.createEndpointConfig(finalConfigSpec(d, rec));
        steps.push(`SageMaker CreateEndpointConfig ${rec.names.finalConfig}`);
        for (const spec of alarmSpecs(d, rec)) {
          await p.metrics.putMetricAlarm(spec);
          steps.push(`CloudWatch PutMetricAlarm ${spec.name}`);
        }
        configName = rec.names.finalConfig;
      } else {
        configName = rec.previous!.endpointConfig;
      }
      const blueGreen = a.config === 'final' ? { DeploymentConfig: deploymentConfigSpec(d, rec.names.alarms) } : {};
      await p.sagemaker.updateEndpoint({ EndpointName: d.endpointName, EndpointConfigName: configName, ...blueGreen });
      steps.push(
        `SageMaker UpdateEndpoint ${d.endpointName} -> ${configName}${a.config === 'final' ? ` (blue/green ${d.cutover.type})` : ''}`,
      );
      const ep = await p.sagemaker.describeEndpoint(d.endpointName);
      if (ep?.arn) {
        await p.sagemaker.addTags(ep.arn, [...tags(rec), { Key: 'mlops:state', Value: states.uri(rec.id) }]);
        steps.push(`SageMaker AddTags ${d.endpointName}`);
      }
      if (a.config === 'final') {
        await stageAudit('cutover.started', { config: configName, policy: d.cutover, alarms: rec.names.alarms });
        return save({ ...rec, cutoverIssuedAt: now().toISOString() });
      }
      if (a.config === 'previous') await stageAudit('shadow.removed', { config: configName, why: a.why });
      return rec;
    }
    case 'judge-bake': {
      const verdict = await bakeVerdict(p, d, rec);
      await p.audit.append({
        kind: 'gate',
        action: verdict.passed ? 'bake.passed' : 'bake.failed',
        deploymentId: rec.id,
        actor: s.actor,
        details: { reasons: verdict.reasons, measured: verdict.measured, criteria: d.bake },
      });
      p.log(verdict.passed ? 'bake passed' : `bake failed: ${verdict.reasons.join('; ')}`);
      return save({ ...rec, bake: { ...verdict, measured: { ...verdict.measured }, judgedAt: now().toISOString() } });
    }
    case 'advance': {
      let next = advance(rec, a.to, now(), a.note);
      if (a.to === 'bake') next = { ...next, shadowStartedAt: now().toISOString() };
      if (a.to === 'rolled-back') next = { ...next, reason: a.note };
      next = await save(next);
      await p.audit.append({
        kind: a.to === 'rolled-back' ? 'rollback' : 'stage',
        action: a.to === 'rolled-back' ? 'rollback.done' : `stage.${a.to}`,
        deploymentId: rec.id,
        actor: s.actor,
        details: { from: rec.stage, to: a.to, note: a.note ?? null },
      });
      steps.push(`stage ${rec.stage} -> ${a.to}`);
      return next;
    }
    case 'move-alias':
      await p.registry.setAlias(s.registeredModel, s.alias ?? 'production', rec.candidate.version);
      steps.push(`MLflow alias ${s.alias ?? 'production'} -> ${s.registeredModel} v${rec.candidate.version}`);
      await stageAudit('alias.moved', {
        alias: s.alias ?? 'production',
        version: rec.candidate.version,
        previous: rec.previousAliasVersion ?? null,
      });
      return save({ ...rec, aliasMoved: true });
  }
}

async function bakeVerdict(p: DeployPorts, d: DeployConfig, rec: DeploymentRecord) {
  const start = new Date(rec.shadowStartedAt ?? rec.updatedAt);
  const end = p.clock.now();
  const stat = d.bake.latencyStatistic;
  const stats = async (variantName: string): Promise<VariantStats> => {
    const q = (metricName: string, statistics: ('Sum' | 'Average')[], extended?: string[]) =>
      p.metrics.getMetricStatistics({
        namespace: SAGEMAKER_NAMESPACE,
        metricName,
        dimensions: { EndpointName: d.endpointName, VariantName: variantName },
        start,
        end: new Date(end.getTime() + 60_000),
        period: 60,
        statistics,
        extendedStatistics: extended,
      });
    const sum = (pts: { sum?: number }[]) => pts.reduce((t, x) => t + (x.sum ?? 0), 0);
    const inv = sum(await q('Invocations', ['Sum']));
    const err = sum(await q('Invocation5XXErrors', ['Sum'])) + sum(await q('Invocation4XXErrors', ['Sum']));
    const lat = stat === 'average' ? await q('ModelLatency', ['Average']) : await q('ModelLatency', [], [stat]);
    const vals = lat.map((x) => (stat === 'average' ? x.average : x.extended?.[stat])).filter((x): x is number => typeof x === 'number');
    return { invocations: inv, errors: err, latency: vals.length ? Math.max(...vals) : null };
  };
  const [production, shadow] = [await stats(d.variantName), await stats(SHADOW_VARIANT)];
  const prodPairs = await p.capture.read(d.endpointName, d.variantName, start, end);
  const shadowPairs = await p.capture.read(d.endpointName, SHADOW_VARIANT, start, end);
  return judgeBake(d.bake, { production, shadow }, matchPairs(prodPairs, shadowPairs));
}

// --- rollback ---------------------------------------------------------------------------------

/**
 * Puts the previous model back on the endpoint now, whatever the deployment's stage, restores
 * the alias and writes the audit record. The caller holds the lock.
 */
export async function runRollback(p: DeployPorts, s: DeploySettings, reason: string): Promise<RunResult> {
  const d = s.deploy;
  const states = deploymentStore(p.store, d);
  const steps: string[] = [];
  const alias = s.alias ?? 'production';
  let rec = await states.current();
  if (!rec)
    throw new UserError('NO_DEPLOYMENT', `no deployment of ${d.endpointName} is recorded in ${d.state.uri}`, {
      hint: 'Nothing to roll back.',
    });
  if (rec.stage === 'rolled-back' || rec.stage === 'failed') return { outcome: 'nothing', deployment: rec, steps };
  let aliasRestored = !rec.aliasMoved;
  const started = p.clock.now().getTime();
  await p.audit.append({
    kind: 'rollback',
    action: 'rollback.started',
    deploymentId: rec.id,
    actor: s.actor,
    details: { stage: rec.stage, reason },
  });
  let stopped = false;
  // Waits are bounded by the wait budget; each other step is taken at most a few times.
  for (let acts = 0; acts < 50;) {
    if (p.signal?.aborted) break;
    const ep = await p.sagemaker.describeEndpoint(d.endpointName);
    const a = decideRollback(
      rec,
      { now: p.clock.now(), endpoint: ep },
      { strategy: d.rollback.strategy, warmVariant: warmVariantName(d.variantName), aliasRestored },
    );
    switch (a.kind) {
      case 'nothing':
        p.log(a.why);
        return { outcome: 'nothing', deployment: rec, steps };
      case 'wait-endpoint':
        if (p.clock.now().getTime() - started > s.waitBudgetMs) {
          return { outcome: 'waiting', deployment: rec, steps, waitingFor: `endpoint is ${a.status}` };
        }
        await p.heartbeat?.();
        await p.clock.sleep(s.pollMs, p.signal);
        continue;
      case 'stop-cutover':
        if (!stopped) {
          // SageMaker has no "stop deployment" call: an alarm in ALARM makes it roll back itself.
          await p.metrics.setAlarmState(rec.names.alarms[0], 'ALARM', `mlops rollback: ${reason}`);
          steps.push(`CloudWatch SetAlarmState ${rec.names.alarms[0]} ALARM`);
          stopped = true;
        }
        await p.clock.sleep(s.pollMs, p.signal);
        continue;
      case 'update-endpoint':
        acts++;
        await p.sagemaker.updateEndpoint({ EndpointName: d.endpointName, EndpointConfigName: rec.previous!.endpointConfig });
        steps.push(`SageMaker UpdateEndpoint ${d.endpointName} -> ${rec.previous!.endpointConfig}`);
        continue;
      case 'weights':
        acts++;
        await p.sagemaker.updateEndpointWeightsAndCapacities({
          EndpointName: d.endpointName,
          DesiredWeightsAndCapacities: [
            { VariantName: d.variantName, DesiredWeight: 0 },
            { VariantName: warmVariantName(d.variantName), DesiredWeight: 1 },
          ],
        });
        steps.push(`SageMaker UpdateEndpointWeightsAndCapacities ${d.endpointName} ${warmVariantName(d.variantName)}=1 ${d.variantName}=0`);
        continue;
      case 'restore-alias': {
        acts++;
        const cur = await p.registry.getAlias(s.registeredModel, alias);
        if (cur === rec.candidate.version) {
          if (rec.previousAliasVersion) await p.registry.setAlias(s.registeredModel, alias, rec.previousAliasVersion);
          else await p.registry.deleteAlias(s.registeredModel, alias);
          steps.push(`MLflow alias ${alias} -> ${rec.previousAliasVersion ? 'v' + rec.previousAliasVersion : '(removed)'}`);
        }
        aliasRestored = true;
        continue;
      }
      case 'finish': {
        const from = rec.stage;
        rec = advance({ ...rec, reason, aliasMoved: false }, 'rolled-back', p.clock.now(), reason);
        await states.save(rec);
        await p.audit.append({
          kind: 'rollback',
          action: 'rollback.done',
          deploymentId: rec.id,
          actor: s.actor,
          details: { from, reason, steps },
        });
        return { outcome: 'rolled-back', deployment: rec, steps };
      }
    }
  }
  return { outcome: 'waiting', deployment: rec, steps };
}

/** Throws the exit-1 error for a promotion that ended rolled back. */
export function rolledBackError(rec: DeploymentRecord): CheckFailedError {
  return new CheckFailedError('PROMOTION_ROLLED_BACK', `deployment ${rec.id} was rolled back: ${rec.reason ?? 'see the audit trail'}`, {
    hint:
      rec.bake && !rec.bake.passed
        ? `bake: ${rec.bake.reasons.join('; ')}`
        : 'The previous model is serving. Fix the candidate and promote again.',
    details: { deployment: rec.id, stage: rec.stage },
  });
}
