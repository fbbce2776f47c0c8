/**
 * The deploy wiring that promote, rollback, status, audit verify, compare and monitor share: the
 * deploy section, AWS clients and ports built from config, the production model, the endpoint's
 * lock (on the injected clock) and its audit chain. Commands import this; no command imports
 * another.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { hostname, userInfo } from 'node:os';
import type { CommandContext } from '../cli/context.js';
import type { Config, DeployConfig } from '../config/schema.js';
import { auditLogFor, type AuditLog } from '../adapters/audit-log.js';
import { awsSettings, cloudWatchClient, s3Client, sageMakerClient, sageMakerRuntimeClient, type AwsSettings } from '../adapters/aws.js';
import { s3CapturePort } from '../adapters/capture-source.js';
import { detectCi } from '../adapters/ci.js';
import { systemClock } from '../adapters/clock.js';
import { progressReporter, type ProgressReporter } from '../adapters/progress.js';
import { cloudWatchMetrics, type MetricsPort } from '../adapters/cloudwatch.js';
import { acquireLock, breakLock, type HeldLock } from '../adapters/lock.js';
import type { MlflowClient } from '../adapters/mlflow.js';
import { mlflowPackager } from '../adapters/model-package.js';
import { sageMakerPort, type SageMakerPort } from '../adapters/sagemaker.js';
import { smokeTestPort } from '../adapters/smoke-test.js';
import { parseS3Uri, s3Store, type ObjectStore } from '../adapters/s3-store.js';
import type { DeploySettings } from '../core/deploy-target.js';
import { decideRollback } from '../core/deployment.js';
import { deploymentStore } from '../core/deployment-store.js';
import { durationFlagMs, durationMs } from '../core/duration.js';
import type { LockHolder } from '../core/lock.js';
import { UserError } from '../core/errors.js';
import type { Clock, DeployPorts, ProgressPort, RegistryPort, RollbackPort } from '../core/ports.js';
import { productionModel } from '../core/production-model.js';
import { runRollback } from '../core/rollback-run.js';
import { warmVariantName } from '../core/sagemaker-requests.js';

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

/** AWS settings for the deploy section: its region, else aws.region. */
export function deployAwsSettings(config: Config, deploy: DeployConfig, env: Record<string, string | undefined>): AwsSettings {
  return awsSettings({ ...config, aws: { ...config.aws, region: deploy.region ?? config.aws.region } }, env);
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

/** The registry port over the MLflow client. */
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
    setVersionTag: (name, version, key, value) => mlflow.setModelVersionTag(name, version, key, value),
    versionTags: async (name) => (await mlflow.searchModelVersions(name)).map((v) => ({ version: v.version, tags: v.tags })),
  };
}

export interface Wiring {
  config: Config;
  root: string;
  deploy: DeployConfig;
  store: ObjectStore;
  sagemaker: SageMakerPort;
  metrics: MetricsPort;
  audit: AuditLog;
  clock: Clock;
  /** Every port; MLflow is connected on the first call. */
  ports: (progress?: ProgressPort) => Promise<DeployPorts>;
  /** The MLflow client of `ports` (connected on the first call). */
  mlflow: () => Promise<MlflowClient>;
  settings: DeploySettings;
  actor: ReturnType<typeof actorOf>;
}

/** Builds the real ports from config (AWS SDK clients, MLflow client), lazily. */
export async function wire(ctx: CommandContext, opts: Record<string, unknown> = {}): Promise<Wiring> {
  const { config, root } = await ctx.loadConfig();
  const deploy = requireDeploy(config);
  checkDeployLimits(deploy);
  const aws = deployAwsSettings(config, deploy, ctx.env);
  const s3 = await s3Client(aws);
  const store = await s3Store(s3);
  const sagemaker = await sageMakerPort(await sageMakerClient(aws));
  const metrics = await cloudWatchMetrics(await cloudWatchClient(aws));
  const clock = systemClock;
  const audit = auditLogFor(store, deploy, () => clock.now());
  const actor = actorOf(ctx);
  const { registeredModel, alias } = productionModel(config);
  const settings: DeploySettings = {
    deploy,
    registeredModel,
    alias,
    actor: actor.actor,
    waitBudgetMs: typeof opts.wait === 'string' ? durationFlagMs('--wait', opts.wait, '15m') : 15 * 60_000,
    // Zero would poll SageMaker in a busy loop (and be throttled).
    pollMs: typeof opts.poll === 'string' ? durationFlagMs('--poll', opts.poll, '5s', true) : 5_000,
  };
  let client: MlflowClient | undefined;
  const mlflow = async () => {
    const { mlflowFromConfig } = await import('../adapters/mlflow.js');
    client ??= await mlflowFromConfig(config, ctx.env, { signal: ctx.signal });
    return client;
  };
  const ports = async (progress?: ProgressPort): Promise<DeployPorts> => {
    const m = await mlflow();
    // The archive upload is the one long step that is not a SageMaker wait: its bytes are its progress.
    const uploaded = progress
      ? (bytes: number) =>
          progress.waiting({
            stage: 'package',
            subject: 'model.tar.gz',
            status: 'uploading',
            detail: `${(bytes / 1048576).toFixed(0)} MB sent`,
          })
      : undefined;
    return {
      sagemaker,
      metrics,
      store,
      registry: registryOver(m),
      packager: mlflowPackager(m, store, uploaded),
      capture: s3CapturePort(s3, deploy.dataCapture.destination, ctx.signal),
      smoke: smokeTestPort({
        runtime: await sageMakerRuntimeClient(aws),
        mlflow,
        holdout: config.train.holdout ? path.resolve(root, config.train.holdout) : undefined,
        signal: ctx.signal,
      }),
      audit,
      clock,
      log: (msg) => ctx.io.info(msg),
      signal: ctx.signal,
    };
  };
  return { config, root, deploy, store, sagemaker, metrics, audit, clock, ports, mlflow, settings, actor };
}

/**
 * Takes the endpoint's lock for a command (ConflictError, exit 4, when held). Taking over an
 * expired lock is appended to the audit trail: the previous holder may still be alive.
 */
export async function lockFor(w: Wiring, command: string): Promise<HeldLock> {
  const lock = await acquireLock({
    store: w.store,
    location: parseS3Uri(w.deploy.lock.uri),
    endpoint: w.deploy.endpointName,
    me: { token: randomUUID(), who: w.actor.who, pid: process.pid, ciRunUrl: w.actor.ciRunUrl, command },
    expiryMs: durationMs(w.deploy.lock.expiry),
    clock: w.clock,
  });
  if (lock.tookOver) {
    try {
      await w.audit.append({
        kind: 'lock',
        action: 'lock.taken-over',
        actor: w.settings.actor,
        details: { command, previous: lock.tookOver, holder: lock.holder },
      });
    } catch (e) {
      await lock.release();
      throw e;
    }
  }
  return lock;
}

export interface UnlockResult {
  outcome: 'none' | 'broken';
  endpoint: string;
  lock: string;
  holder: LockHolder | null;
  dryRun: boolean;
}

/** Breaks the endpoint's lock when its holder is dead (see breakLock), audited as lock.broken. */
export async function unlockEndpoint(ctx: CommandContext, req: { force: boolean; dryRun: boolean }): Promise<UnlockResult> {
  const w = await wire(ctx);
  const r = await breakLock({
    store: w.store,
    location: parseS3Uri(w.deploy.lock.uri),
    endpoint: w.deploy.endpointName,
    clock: w.clock,
    force: req.force,
    dryRun: req.dryRun,
  });
  if (r.outcome === 'broken' && !req.dryRun) {
    await w.audit.append({
      kind: 'lock',
      action: 'lock.broken',
      actor: w.settings.actor,
      details: { lock: r.uri, force: req.force, holder: r.holder ?? null, ...(r.problems ? { unreadable: r.problems } : {}) },
    });
  }
  return { outcome: r.outcome, endpoint: w.deploy.endpointName, lock: r.uri, holder: r.holder ?? null, dryRun: req.dryRun };
}

export interface RollbackRequest {
  reason: string;
  dryRun?: boolean;
  /** Overrides how long to wait for SageMaker (ms). */
  waitMs?: number;
  /** Where the waits and log lines go (the command's progress reporter). */
  progress?: ProgressReporter;
}

export interface RollbackResult {
  performed: boolean;
  detail: string;
  steps: string[];
  deployment?: string;
}

/** Rolls the configured endpoint back (takes the lock; ConflictError when held). */
export async function rollbackEndpoint(
  ctx: CommandContext,
  req: RollbackRequest,
  opts: Record<string, unknown> = {},
): Promise<RollbackResult> {
  const w = await wire(ctx, opts);
  if (req.dryRun) {
    const rec = await deploymentStore(w.store, w.deploy).current();
    if (!rec) return { performed: false, detail: 'no deployment recorded: nothing to roll back', steps: [] };
    const ep = await w.sagemaker.describeEndpoint(w.deploy.endpointName);
    const a = decideRollback(
      rec,
      { now: w.clock.now(), endpoint: ep },
      { strategy: w.deploy.rollback.strategy, warmVariant: warmVariantName(w.deploy.variantName), aliasRestored: !rec.aliasMoved },
    );
    return { performed: false, detail: `(dry run) next step: ${a.kind}${'why' in a ? ` (${a.why})` : ''}`, steps: [], deployment: rec.id };
  }
  const lock = await lockFor(w, 'rollback');
  try {
    const progress = req.progress;
    const ports = {
      ...(await w.ports()),
      heartbeat: () => lock.heartbeat(),
      ...(progress && { progress, log: (m: string) => progress.log(m) }),
    };
    const settings = req.waitMs !== undefined ? { ...w.settings, waitBudgetMs: req.waitMs } : w.settings;
    const r = await runRollback(ports, settings, req.reason);
    const detail =
      r.outcome === 'rolled-back'
        ? r.deployment?.previous
          ? `rolled back deployment ${r.deployment.id} to ${r.deployment.previous.endpointConfig}`
          : `abandoned deployment ${r.deployment?.id} (it had not touched the endpoint)`
        : r.outcome === 'waiting'
          ? `rollback of ${r.deployment?.id} started; waiting for ${r.waitingFor} (run again to finish)`
          : `nothing to roll back (deployment ${r.deployment?.id} is ${r.deployment?.stage})`;
    return { performed: r.outcome === 'rolled-back', detail, steps: r.steps, deployment: r.deployment?.id };
  } finally {
    await lock.release();
  }
}

/**
 * monitor's rollback port: rollbackEndpoint for the endpoint the deploy section manages.
 * Monitoring another endpoint, or a config without a deploy section, cannot roll back: that is
 * said plainly rather than skipped.
 */
export function monitorRollbackPort(ctx: CommandContext, config: Config): RollbackPort {
  return async (req) => {
    if (!config.deploy) {
      throw new UserError(
        'ROLLBACK_NOT_CONFIGURED',
        `Drift passed the guards and a rollback of ${req.endpoint} is due, but the config has no deploy section to roll back with.`,
        {
          hint: 'Add the deploy section (the endpoint `mlops promote` manages), or run with --no-rollback (monitor.rollback: false) to only report.',
        },
      );
    }
    if (config.deploy.endpointName !== req.endpoint) {
      throw new UserError(
        'ROLLBACK_NOT_CONFIGURED',
        `Drift on ${req.endpoint} is due a rollback, but deploy manages ${config.deploy.endpointName}; monitor rolls back only that endpoint.`,
        { hint: 'Monitor deploy.endpointName, or run with --no-rollback.' },
      );
    }
    const progress = await progressReporter(ctx.io);
    try {
      const r = await rollbackEndpoint(ctx, { reason: req.reason, dryRun: req.dryRun, progress });
      return { performed: r.performed, detail: r.detail };
    } finally {
      progress.end();
    }
  };
}
