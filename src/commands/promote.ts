/**
 * `mlops promote`: advances the endpoint's deployment of the candidate as far as it can now
 * (package -> shadow -> bake -> cutover -> done) and exits 0 with the stage reached; run again
 * (a scheduled job, a person) it continues. Exit 1 when the bake failed (it rolled back by
 * itself) or SageMaker rolled the cutover back on an alarm; 3 when AWS or MLflow failed; 4 when
 * another promote or rollback holds the endpoint's lock. `--status` shows where it is; `--dry-run`
 * prints the calls it would make, in order, without making any that change something.
 *
 * This file also holds the wiring that rollback, status and audit verify share.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import type { CommandContext, CommandResult, CommandRun } from '../cli/context.js';
import { ConflictError, UserError } from '../core/errors.js';
import type { Config, DeployConfig } from '../config/schema.js';
import { auditLogFor, openAuditLog, type AuditLog } from '../adapters/audit-log.js';
import { awsSettings, cloudWatchClient, s3Client, sageMakerClient } from '../adapters/aws.js';
import { detectCi } from '../adapters/ci.js';
import { cloudWatchMetrics, type MetricsPort } from '../adapters/cloudwatch.js';
import { acquireLock, type HeldLock } from '../adapters/lock.js';
import { mlflowPackager } from '../adapters/model-package.js';
import { MemorySageMaker, sageMakerPort, type SageMakerPort } from '../adapters/sagemaker.js';
import { MemoryStore, parseS3Uri, s3Store, type ObjectStore } from '../adapters/s3-store.js';
import { capturedPair, type CapturedPair } from '../core/bake.js';
import { durationMs, formatDuration } from '../core/duration.js';
import { isTerminal, stageTimings, type DeploymentRecord, type ModelRef } from '../core/deployment.js';
import {
  deploymentStore,
  rolledBackError,
  runPromote,
  type CapturePort,
  type DeployPorts,
  type DeploySettings,
  type RegistryPort,
  type RunResult,
} from '../core/deployment-run.js';
import { LAST_RUN_FILE } from '../core/last-run.js';
import type { AuditRecord } from '../core/audit.js';
import type { MlflowClient } from '../adapters/mlflow.js';

/** The deploy section, or a UserError saying how to add it. */
export function requireDeploy(config: Config): DeployConfig {
  if (!config.deploy) {
    throw new UserError('DEPLOY_NOT_CONFIGURED', 'The config has no deploy section.', {
      hint: 'Add deploy: { endpointName, executionRoleArn, image, artifacts, dataCapture, state, lock, audit } to mlops.config.yaml.',
    });
  }
  return config.deploy;
}

/** Blue/green limits SageMaker enforces at call time, checked before anything is deployed. */
export function checkDeployLimits(d: DeployConfig): void {
  const secs = (x: string | number) => Math.round(durationMs(x) / 1000);
  const wait = d.cutover.type === 'all-at-once' ? 0 : secs(d.cutover.wait);
  const termination = secs(d.terminationWait);
  const max = secs(d.maxExecutionTimeout);
  const problems: string[] = [];
  if (wait > 3600) problems.push(`deploy.cutover.wait is ${wait} s; SageMaker allows 0-3600`);
  if (termination > 3600) problems.push(`deploy.terminationWait is ${termination} s; SageMaker allows 0-3600`);
  if (max < 600 || max > 28_800) problems.push(`deploy.maxExecutionTimeout is ${max} s; SageMaker allows 600-28800`);
  if (max <= wait + termination)
    problems.push(`deploy.maxExecutionTimeout (${max} s) must be larger than cutover.wait + terminationWait (${wait + termination} s)`);
  if (problems.length) {
    throw new UserError('DEPLOY_CONFIG_INVALID', `The deploy config breaks SageMaker's blue/green limits: ${problems.join('; ')}.`, {
      hint: 'Fix these values in mlops.config.yaml.',
    });
  }
}

export function registeredModelOf(config: Config): string {
  const name = config.mlflow.registeredModel ?? config.project;
  if (!name)
    throw new UserError('REGISTERED_MODEL_MISSING', 'No registered model name.', {
      hint: 'Set mlflow.registeredModel (or project) in the config.',
    });
  return name;
}

/** user@host, and the CI run URL when there is one. */
export function actorOf(ctx: CommandContext): { who: string; ciRunUrl?: string; actor: string } {
  let user = ctx.env.USER ?? ctx.env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  const who = `${user}@${hostname()}`;
  const ciRunUrl = detectCi(ctx.env).runUrl;
  return { who, ciRunUrl, actor: ciRunUrl ? `${who} (${ciRunUrl})` : who };
}

export function registryOver(mlflow: MlflowClient): RegistryPort {
  return {
    async getVersion(name, version) {
      const v = await mlflow.getModelVersion(name, version);
      return v && { version: v.version, runId: v.runId };
    },
    async getAlias(name, alias) {
      const r = await mlflow.getModelVersionByAlias(name, alias);
      return r.found ? r.version.version : undefined;
    },
    setAlias: (name, alias, version) => mlflow.setRegisteredModelAlias(name, alias, version),
    deleteAlias: (name, alias) => mlflow.deleteRegisteredModelAlias(name, alias),
  };
}

/**
 * Capture pairs of one variant from the data-capture destination in S3. Capture files are many
 * and small (SageMaker writes one per batch), so they are fetched 16 at a time.
 */
export function s3CapturePort(ctx: CommandContext, deploy: DeployConfig, client: Awaited<ReturnType<typeof s3Client>>): CapturePort {
  return {
    async read(endpoint, variant, since, until) {
      const { hourPrefixes } = await import('../adapters/capture-source.js');
      const { GetObjectCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const { bucket, prefix } = parseS3Uri(deploy.dataCapture.destination);
      const window = { from: since.getTime(), to: until.getTime() + 1 };
      // An object last modified before the window began holds no record from inside it.
      const objects: { name: string }[] = [];
      for (const hour of hourPrefixes(window)) {
        let token: string | undefined;
        do {
          const r = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: [prefix, endpoint, variant, hour].filter(Boolean).join('/'),
              ContinuationToken: token,
            }),
            { abortSignal: ctx.signal },
          );
          for (const c of r.Contents ?? []) {
            if (c.Key && (!c.LastModified || c.LastModified.getTime() >= window.from - 1000))
              objects.push({ name: `s3://${bucket}/${c.Key}` });
          }
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
      }
      const out: CapturedPair[] = [];
      let next = 0;
      const worker = async () => {
        while (next < objects.length) {
          const obj = objects[next++];
          const key = obj.name.slice(`s3://${bucket}/`.length);
          const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: ctx.signal });
          const text = await res.Body!.transformToString('utf8');
          for (const line of text.split('\n')) {
            const p = line.trim() ? capturedPair(line, window) : undefined;
            if (p) out.push(p);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(16, objects.length) }, worker));
      return out;
    },
  };
}

export interface Wiring {
  deploy: DeployConfig;
  store: ObjectStore;
  sagemaker: SageMakerPort;
  metrics: MetricsPort;
  audit: AuditLog;
  ports: () => Promise<DeployPorts>;
  settings: DeploySettings;
  actor: ReturnType<typeof actorOf>;
}

/** Builds the real ports from config (AWS SDK clients, MLflow client), lazily. */
export async function wire(ctx: CommandContext, opts: Record<string, unknown> = {}): Promise<Wiring> {
  const { config } = await ctx.loadConfig();
  const deploy = requireDeploy(config);
  checkDeployLimits(deploy);
  const aws = awsSettings({ ...config, aws: { ...config.aws, region: deploy.region ?? config.aws.region } }, ctx.env);
  const s3 = await s3Client(aws);
  const store = await s3Store(s3);
  const sagemaker = await sageMakerPort(await sageMakerClient(aws));
  const metrics = await cloudWatchMetrics(await cloudWatchClient(aws));
  const audit = auditLogFor(store, deploy);
  const actor = actorOf(ctx);
  const wait = typeof opts.wait === 'string' ? durationMs(opts.wait) : 15 * 60_000;
  const settings: DeploySettings = {
    deploy,
    registeredModel: registeredModelOf(config),
    actor: actor.actor,
    waitBudgetMs: wait,
    pollMs: typeof opts.poll === 'string' ? durationMs(opts.poll) : 5_000,
  };
  let mlflow: MlflowClient | undefined;
  const ports = async (): Promise<DeployPorts> => {
    const { mlflowFromConfig } = await import('../adapters/mlflow.js');
    mlflow ??= await mlflowFromConfig(config, ctx.env, { signal: ctx.signal });
    return {
      sagemaker,
      metrics,
      store,
      registry: registryOver(mlflow),
      packager: mlflowPackager(mlflow, store),
      capture: s3CapturePort(ctx, deploy, s3),
      audit,
      clock: { now: () => new Date(), sleep: (ms, signal) => sleep(ms, signal) },
      log: (m) => ctx.io.info(m),
      signal: ctx.signal,
    };
  };
  return { deploy, store, sagemaker, metrics, audit, ports, settings, actor };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    // The listener goes when the timer fires: a wait polls many times on one signal, and leaked
    // listeners made Node print MaxListenersExceededWarning during every long promote.
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Renews the lock at a third of its expiry while a run waits; ConflictError when it was lost. */
export function heartbeatFor(lock: HeldLock, expiryMs: number): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < expiryMs / 3) return;
    if (!(await lock.renew())) {
      throw new ConflictError('LOCK_LOST', `the endpoint lock expired and was taken over while this run waited`, {
        hint: 'Another promote or rollback now holds it; check `mlops status`.',
      });
    }
    last = Date.now();
  };
}

/** Takes the endpoint's lock for a command (ConflictError, exit 4, when held). */
export function lockFor(ctx: CommandContext, w: Wiring, command: string): Promise<HeldLock> {
  return acquireLock({
    store: w.store,
    location: parseS3Uri(w.deploy.lock.uri),
    endpoint: w.deploy.endpointName,
    me: { token: randomUUID(), who: w.actor.who, pid: process.pid, ciRunUrl: w.actor.ciRunUrl, command },
    expiryMs: durationMs(w.deploy.lock.expiry),
  });
}

/** The candidate: --model-version, else --run / .mlops/last-run.json (registered if needed), else the deployment in progress. */
async function resolveCandidate(
  ctx: CommandContext,
  w: Wiring,
  ports: DeployPorts,
  opts: Record<string, unknown>,
  current: DeploymentRecord | undefined,
): Promise<ModelRef | undefined> {
  const name = w.settings.registeredModel;
  if (typeof opts.modelVersion === 'string') {
    const v = await ports.registry.getVersion(name, opts.modelVersion);
    if (!v)
      throw new UserError('MODEL_VERSION_NOT_FOUND', `${name} version ${opts.modelVersion} does not exist in MLflow.`, {
        hint: 'Check --model-version.',
      });
    return { registeredModel: name, version: v.version, runId: v.runId };
  }
  const { root } = await ctx.loadConfig();
  let runId = typeof opts.run === 'string' ? opts.run : undefined;
  let modelUri: string | undefined;
  const lastRunFile = path.join(root, LAST_RUN_FILE);
  if (!runId && existsSync(lastRunFile)) {
    try {
      const last = JSON.parse(readFileSync(lastRunFile, 'utf8')) as { runId?: string; modelUri?: string; status?: string };
      if (last.status && last.status !== 'FINISHED') ctx.io.warn(`the last training run is ${last.status}`);
      runId = last.runId;
      modelUri = last.modelUri;
    } catch {
      throw new UserError('CANDIDATE_INVALID', `${lastRunFile} is not valid JSON.`, {
        hint: 'Run `mlops train` again, or pass --run RUN_ID.',
      });
    }
  }
  if (!runId) return current ? current.candidate : undefined;
  if (current?.candidate.runId === runId) return current.candidate;
  const { mlflowFromConfig } = await import('../adapters/mlflow.js');
  const mlflow = await mlflowFromConfig((await ctx.loadConfig()).config, ctx.env, { signal: ctx.signal });
  const latest = await mlflow.getLatestVersions(name).catch(() => []);
  const existing = latest.find((v) => v.runId === runId);
  if (existing) return { registeredModel: name, version: existing.version, runId };
  await mlflow.getOrCreateRegisteredModel(name);
  const created = await mlflow.createModelVersion({ name, source: modelUri ?? `runs:/${runId}/model`, runId });
  ctx.io.info(`registered run ${runId} as ${name} version ${created.version}`);
  return { registeredModel: name, version: created.version, runId };
}

export const run: CommandRun<'promote'> = async (ctx, _args, opts) => {
  if (opts.status) {
    const { statusOf } = await import('./status.js');
    return statusOf(ctx);
  }
  const w = await wire(ctx, opts);
  if (opts.dryRun) return dryRun(ctx, w, opts);
  const lock = await lockFor(ctx, w, 'promote');
  try {
    const ports = { ...(await w.ports()), heartbeat: heartbeatFor(lock, durationMs(w.deploy.lock.expiry)) };
    const current = await deploymentStore(w.store, w.deploy).current();
    const candidate = await resolveCandidate(ctx, w, ports, opts, current && !isTerminal(current.stage) ? current : undefined);
    if (!candidate) {
      return {
        data: { outcome: 'nothing', endpoint: w.deploy.endpointName, deployment: current ?? null },
        text: `nothing to promote: no deployment in progress on ${w.deploy.endpointName} and no candidate (run \`mlops train\`, or pass --run/--model-version)`,
      };
    }
    const result = await runPromote(ports, w.settings, candidate);
    return shape(ctx, w, result);
  } finally {
    await lock.release();
  }
};

function shape(ctx: CommandContext, w: Wiring, r: RunResult, dry = false): CommandResult {
  const rec = r.deployment;
  const data = {
    outcome: r.outcome,
    endpoint: w.deploy.endpointName,
    stage: rec?.stage ?? null,
    deployment: rec?.id ?? null,
    candidate: rec?.candidate ?? null,
    waitingFor: r.waitingFor ?? null,
    bake: rec?.bake ?? null,
    steps: r.steps,
    dryRun: dry,
  };
  const lines = [
    ...(dry ? ['Plan (dry run: nothing was changed):', ...r.steps.map((s, i) => `  ${i + 1}. ${s}`)] : []),
    `${w.deploy.endpointName}: deployment ${rec?.id ?? '-'} ${rec ? `(v${rec.candidate.version})` : ''} at stage ${rec?.stage ?? '-'}: ${r.outcome}${r.waitingFor ? `, waiting for ${r.waitingFor}` : ''}`,
  ];
  if (r.outcome === 'rolled-back' && rec) {
    const err = rolledBackError(rec);
    if (!dry) ctx.io.error(err.message, err.hint);
    return { data, text: lines.join('\n'), exitCode: dry ? 0 : 1 };
  }
  return { data, text: lines.join('\n') };
}

/**
 * The plan: the driver runs against in-memory copies seeded from what exists now (endpoint,
 * configs, the deployment record), reading real metrics and capture, so the listed calls are the
 * ones a real run would make next, up to the first wait.
 */
async function dryRun(ctx: CommandContext, w: Wiring, opts: Record<string, unknown>): Promise<CommandResult> {
  const real = await w.ports();
  const fakeSm = new MemorySageMaker({ busyPolls: 0 });
  const ep = await w.sagemaker.describeEndpoint(w.deploy.endpointName);
  if (ep) {
    const cfg = await w.sagemaker.describeEndpointConfig(ep.configName);
    for (const v of [...(cfg?.productionVariants ?? []), ...(cfg?.shadowVariants ?? [])]) {
      fakeSm.models.set(v.model, { ModelName: v.model, ExecutionRoleArn: '', PrimaryContainer: { Image: '', ModelDataUrl: '' } });
    }
    fakeSm.configs.set(ep.configName, {
      EndpointConfigName: ep.configName,
      ProductionVariants: (cfg?.productionVariants ?? []).map((v) => ({
        VariantName: v.name,
        ModelName: v.model,
        InitialInstanceCount: 1,
        InstanceType: '',
        InitialVariantWeight: v.weight ?? 1,
      })),
    });
    fakeSm.endpoints.set(ep.name, {
      arn: ep.arn,
      status: ep.status,
      configName: ep.configName,
      weights: new Map(ep.variants.map((v) => [v.name, v.weight ?? 1])),
      tags: [],
    });
  }
  const memStore = new MemoryStore();
  const states = deploymentStore(w.store, w.deploy);
  const current = await states.current();
  const memStates = deploymentStore(memStore, w.deploy);
  if (current) {
    await memStates.save(current);
    await memStates.setCurrent(current.id);
    // Resources the record says exist are in the copy too.
    if (current.modelCreated)
      fakeSm.models.set(current.names.model, {
        ModelName: current.names.model,
        ExecutionRoleArn: '',
        PrimaryContainer: { Image: '', ModelDataUrl: '' },
      });
  }
  const steps: string[] = [];
  const { MemoryMetrics } = await import('../adapters/cloudwatch.js');
  const memMetrics = new MemoryMetrics();
  const ports: DeployPorts = {
    ...real,
    sagemaker: fakeSm,
    store: memStore,
    metrics: {
      ...memMetrics,
      putMetricAlarm: (s) => memMetrics.putMetricAlarm(s),
      setAlarmState: (n, st) => memMetrics.setAlarmState(n, st),
      describeAlarms: (n) => memMetrics.describeAlarms(n),
      putMetricData: async () => {},
      getMetricStatistics: (q) => w.metrics.getMetricStatistics(q),
    },
    registry: { ...real.registry, setAlias: async () => {}, deleteAlias: async () => {} },
    packager: { package: async () => {} },
    audit: openAuditLog({
      store: memStore,
      location: { bucket: 'dry-run', prefix: '' },
      endpoint: w.deploy.endpointName,
      retentionDays: 1,
    }),
    clock: { now: () => new Date(), sleep: async () => {} },
    log: (m) => ctx.io.debug(`(dry run) ${m}`),
  };
  const candidate = await resolveCandidateDry(ctx, w, real, opts, current && !isTerminal(current.stage) ? current : undefined);
  if (!candidate) return { data: { outcome: 'nothing', steps, dryRun: true }, text: 'nothing to promote (dry run)' };
  const r = await runPromote(ports, { ...w.settings, waitBudgetMs: 0 }, candidate);
  return shape(ctx, w, r, true);
}

/** Like resolveCandidate, without registering anything. */
async function resolveCandidateDry(
  ctx: CommandContext,
  w: Wiring,
  ports: DeployPorts,
  opts: Record<string, unknown>,
  current?: DeploymentRecord,
): Promise<ModelRef | undefined> {
  if (typeof opts.modelVersion === 'string' || (!opts.run && !existsSync(path.join((await ctx.loadConfig()).root, LAST_RUN_FILE)))) {
    return resolveCandidate(ctx, w, ports, opts, current);
  }
  const runId =
    typeof opts.run === 'string'
      ? opts.run
      : (JSON.parse(readFileSync(path.join((await ctx.loadConfig()).root, LAST_RUN_FILE), 'utf8')) as { runId: string }).runId;
  if (current?.candidate.runId === runId) return current.candidate;
  ctx.io.info(`(dry run) would register run ${runId} as a new version of ${w.settings.registeredModel}`);
  return { registeredModel: w.settings.registeredModel, version: 'next', runId };
}

/** Renders a deployment's stage timings for people. */
export function renderTimings(rec: DeploymentRecord): string {
  return stageTimings(rec, new Date())
    .map((t) => `  ${t.stage.padEnd(12)} ${t.at}  ${isTerminal(t.stage) ? '' : formatDuration(t.ms)}`)
    .join('\n');
}

export function renderAudit(records: AuditRecord[]): string {
  return records.map((r) => `  #${r.seq} ${r.at} ${r.kind}/${r.action} by ${r.actor}`).join('\n');
}
