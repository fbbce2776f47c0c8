/**
 * `mlops promote`: advances the endpoint's deployment of the candidate as far as it can now
 * (package -> shadow -> bake -> cutover -> done) and exits 0 with the stage reached; run again
 * (a scheduled job, a person) it continues. Exit 1 when the bake failed (it rolled back by
 * itself) or SageMaker rolled the cutover back on an alarm; 3 when AWS or MLflow failed; 4 when
 * another promote or rollback holds the endpoint's lock. `--status` shows where it is; `--dry-run`
 * prints the calls it would make, in order, without making any that change something.
 */
import type { CommandContext, CommandResult, CommandRun } from '../cli/context.js';
import { UserError } from '../core/errors.js';
import { openAuditLog } from '../adapters/audit-log.js';
import { MemorySageMaker } from '../adapters/sagemaker.js';
import { MemoryStore } from '../adapters/s3-store.js';
import { lockFor, wire, type Wiring } from '../app/deploy.js';
import { readLastRun } from '../app/last-run.js';
import { statusOf } from '../app/status.js';
import { isTerminal, type DeploymentRecord, type ModelRef } from '../core/deployment.js';
import { deploymentStore } from '../core/deployment-store.js';
import type { DeployPorts } from '../core/ports.js';
import { rolledBackError, runPromote, type RunResult } from '../core/promote-run.js';

/** The candidate's run: --run, else the run `mlops train` recorded (undefined when neither). */
async function candidateRun(
  ctx: CommandContext,
  w: Wiring,
  opts: Record<string, unknown>,
): Promise<{ runId: string; modelUri?: string } | undefined> {
  if (typeof opts.run === 'string' && opts.run) return { runId: opts.run.trim() };
  const last = await readLastRun(w.root);
  if (last?.status && last.status !== 'FINISHED') ctx.io.warn(`the last training run is ${last.status}`);
  return last;
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
  const run = await candidateRun(ctx, w, opts);
  if (!run) return current ? current.candidate : undefined;
  const { runId, modelUri } = run;
  if (current?.candidate.runId === runId) return current.candidate;
  const mlflow = await w.mlflow();
  const latest = await mlflow.getLatestVersions(name).catch(() => []);
  const existing = latest.find((v) => v.runId === runId);
  if (existing) return { registeredModel: name, version: existing.version, runId };
  await mlflow.getOrCreateRegisteredModel(name);
  const created = await mlflow.createModelVersion({ name, source: modelUri ?? `runs:/${runId}/model`, runId });
  ctx.io.info(`registered run ${runId} as ${name} version ${created.version}`);
  return { registeredModel: name, version: created.version, runId };
}

export const run: CommandRun<'promote'> = async (ctx, _args, opts) => {
  if (opts.status) return statusOf(ctx);
  const w = await wire(ctx, opts);
  if (opts.dryRun) return dryRun(ctx, w, opts);
  const lock = await lockFor(w, 'promote');
  try {
    const ports = { ...(await w.ports()), heartbeat: () => lock.heartbeat() };
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
    clock: { now: () => w.clock.now(), sleep: async () => {} },
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
  const run = typeof opts.modelVersion === 'string' ? undefined : await candidateRun(ctx, w, opts);
  if (!run) return resolveCandidate(ctx, w, ports, opts, current);
  const { runId } = run;
  if (current?.candidate.runId === runId) return current.candidate;
  ctx.io.info(`(dry run) would register run ${runId} as a new version of ${w.settings.registeredModel}`);
  return { registeredModel: w.settings.registeredModel, version: 'next', runId };
}
