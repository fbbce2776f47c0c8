/**
 * `mlops promote`: advances the endpoint's deployment of the candidate as far as it can now
 * (package -> shadow -> bake -> cutover -> done) and exits 0 with the stage reached; run again
 * (a scheduled job, a person) it continues. Exit 1 when the bake failed (it rolled back by
 * itself) or SageMaker rolled the cutover back on an alarm; 3 when AWS or MLflow failed; 4 when
 * another promote or rollback holds the endpoint's lock. `--status` shows where it is; `--dry-run`
 * prints the calls it would make, in order, without making any that change something.
 */
import type { CommandContext, CommandResult, CommandRun } from '../cli/context.js';
import type { OptionsOf } from '../cli/commands.js';
import { InterruptedError, UserError } from '../core/errors.js';
import { openAuditLog } from '../adapters/audit-log.js';
import { MemorySageMaker } from '../adapters/sagemaker.js';
import { MemoryStore } from '../adapters/s3-store.js';
import { progressReporter } from '../adapters/progress.js';
import { deployAwsSettings, lockFor, wire, type Wiring } from '../app/deploy.js';
import { collectGarbage } from '../app/gc.js';
import { lastRunPath, readLastRun } from '../app/last-run.js';
import { statusOf } from '../app/status.js';
import { consoleLinks, linkLines, type ConsoleLinks } from '../core/console-links.js';
import { isTerminal, type DeploymentRecord, type ModelRef } from '../core/deployment.js';
import { deploymentStore } from '../core/deployment-store.js';
import type { DeployPorts } from '../core/ports.js';
import { inProgressError, promoteSummary, promoteVerdict, runPromote, type RunResult } from '../core/promote-run.js';

/** What the invocation names as the candidate, its MLflow run checked FINISHED. */
type Named = { kind: 'version'; ref: ModelRef } | { kind: 'run'; runId: string; modelUri?: string };

/**
 * The candidate named by --model-version, --run or .mlops/last-run.json (undefined when none),
 * read-only: a run that did not finish is refused here (exit 2), before the lock is taken or
 * anything is registered or written.
 */
async function namedCandidate(w: Wiring, opts: OptionsOf<'promote'>): Promise<Named | undefined> {
  const name = w.settings.registeredModel;
  if (typeof opts.modelVersion === 'string') {
    const ports = await w.ports();
    const v = await ports.registry.getVersion(name, opts.modelVersion);
    if (!v)
      throw new UserError('MODEL_VERSION_NOT_FOUND', `${name} version ${opts.modelVersion} does not exist in MLflow.`, {
        hint: 'Check --model-version.',
      });
    if (v.runId) await requireFinished(w, v.runId, `${name} version ${v.version}`);
    return { kind: 'version', ref: { registeredModel: name, version: v.version, runId: v.runId } };
  }
  const run = typeof opts.run === 'string' && opts.run ? { runId: opts.run.trim() } : await readLastRun(w.root);
  if (!run) return undefined;
  await requireFinished(w, run.runId, typeof opts.run === 'string' ? 'the --run candidate' : `the run recorded in ${lastRunPath(w.root)}`);
  return { kind: 'run', runId: run.runId, modelUri: 'modelUri' in run ? run.modelUri : undefined };
}

/** UserError (exit 2) unless the MLflow run exists and is FINISHED. */
async function requireFinished(w: Wiring, runId: string, what: string): Promise<void> {
  const mlflow = await w.mlflow();
  const found = await mlflow.getRun(runId);
  if (!found) {
    throw new UserError('CANDIDATE_NOT_FOUND', `Run ${runId} (${what}) does not exist in MLflow at ${mlflow.baseUrl}.`, {
      hint: 'Check --run / --model-version, or run `mlops train` again.',
    });
  }
  const status = found.info.status;
  if (status !== 'FINISHED') {
    throw new UserError(
      'CANDIDATE_NOT_FINISHED',
      `Run ${runId} (${what}) is ${status}, not FINISHED: only a training run that finished can be promoted. ${mlflow.runUrl(runId, found.info.experimentId)}`,
      {
        hint: 'Fix the training and run `mlops train` again (or pass --run with a FINISHED run). Nothing was registered or deployed.',
        details: { runId, status },
      },
    );
  }
}

/**
 * The candidate as a registered version: the named one (a run is registered as a new version if
 * it has none), else the deployment in progress. A named run that is not the deployment in
 * progress is refused before anything is registered.
 */
async function resolveCandidate(
  ctx: CommandContext,
  w: Wiring,
  named: Named | undefined,
  inProgress: DeploymentRecord | undefined,
  dry: boolean,
): Promise<ModelRef | undefined> {
  if (!named) return inProgress?.candidate;
  if (named.kind === 'version') return named.ref;
  const { runId, modelUri } = named;
  if (inProgress?.candidate.runId === runId) return inProgress.candidate;
  if (inProgress) throw inProgressError(inProgress, `run ${runId}`);
  const name = w.settings.registeredModel;
  const mlflow = await w.mlflow();
  const latest = await mlflow.getLatestVersions(name).catch(() => []);
  const existing = latest.find((v) => v.runId === runId);
  if (existing) return { registeredModel: name, version: existing.version, runId };
  if (dry) {
    ctx.io.info(`(dry run) would register run ${runId} as a new version of ${name}`);
    return { registeredModel: name, version: 'next', runId };
  }
  await mlflow.getOrCreateRegisteredModel(name);
  const created = await mlflow.createModelVersion({ name, source: modelUri ?? `runs:/${runId}/model`, runId });
  ctx.io.info(`registered run ${runId} as ${name} version ${created.version}`);
  return { registeredModel: name, version: created.version, runId };
}

export const run: CommandRun<'promote'> = async (ctx, _args, opts) => {
  if (opts.status) return statusOf(ctx);
  if (opts.run !== undefined && opts.modelVersion !== undefined) {
    throw new UserError('BAD_OPTION', '--run and --model-version both name the candidate: give one of them.', {
      hint: '--model-version N promotes a registered version; --run RUN_ID registers the run as a new version first.',
    });
  }
  if (typeof opts.modelVersion === 'string' && !/^[1-9]\d*$/.test(opts.modelVersion.trim())) {
    throw new UserError('BAD_OPTION', `--model-version ${opts.modelVersion}: a registered model version is a whole number from 1.`, {
      hint: 'Give the version number MLflow shows for the registered model, e.g. --model-version 3.',
    });
  }
  const w = await wire(ctx, opts);
  const links = linksOf(ctx, w);
  const named = await namedCandidate(w, opts);
  if (opts.dryRun) return dryRun(ctx, w, named, links);
  const lock = await lockFor(w, 'promote');
  const progress = await progressReporter(ctx.io, { now: () => w.clock.now().getTime() });
  let result: RunResult;
  try {
    const ports = { ...(await w.ports(progress)), heartbeat: () => lock.heartbeat(), progress, log: (m: string) => progress.log(m) };
    const current = await deploymentStore(w.store, w.deploy).current();
    const candidate = await resolveCandidate(ctx, w, named, current && !isTerminal(current.stage) ? current : undefined, false);
    if (!candidate) {
      return {
        data: { outcome: 'nothing', endpoint: w.deploy.endpointName, deployment: current ?? null, links },
        text: `nothing to promote: no deployment in progress on ${w.deploy.endpointName} and no candidate (run \`mlops train\`, or pass --run/--model-version)`,
      };
    }
    try {
      result = await runPromote(ports, w.settings, candidate);
    } catch (e) {
      if (ctx.signal.aborted) throw interrupted(undefined, e);
      throw e;
    }
    if (result.deployment && isTerminal(result.deployment.stage) && !ctx.signal.aborted) await cleanUp(ctx, w);
  } finally {
    progress.end();
    await lock.release();
  }
  // Every step records its outcome before the next starts and the lock is released: the state
  // is consistent, and the next `mlops promote` continues from it.
  if (ctx.signal.aborted) throw interrupted(result.deployment);
  return shape(ctx, w, result, links);
};

/** deploy.retain after a finished deployment; a failure is a warning, never the promotion's outcome. */
async function cleanUp(ctx: CommandContext, w: Wiring): Promise<void> {
  try {
    const r = await collectGarbage(w, { retain: w.deploy.retain, dryRun: false });
    if (r.deleted.length) ctx.io.info(`cleaned up ${r.deleted.length} resources of old deployments (deploy.retain ${r.retain})`);
    if (r.pending.length) ctx.io.warn(`${r.pending.length} resources of old deployments could not be deleted; \`mlops gc\` retries`);
  } catch (e) {
    ctx.io.warn(`cleaning up old deployments failed (${e instanceof Error ? e.message : String(e)}); \`mlops gc\` retries`);
  }
}

/** The endpoint's console links, printed as promote starts (human mode) and returned in the result. */
function linksOf(ctx: CommandContext, w: Wiring): ConsoleLinks {
  const links = consoleLinks(deployAwsSettings(w.config, w.deploy, ctx.env).region, w.deploy.endpointName);
  if (!ctx.globals.json) linkLines(links).forEach((l) => ctx.io.info(l));
  return links;
}

function interrupted(rec: DeploymentRecord | undefined, cause?: unknown): InterruptedError {
  const where = rec ? `deployment ${rec.id} stopped at stage ${rec.stage}` : 'promote stopped';
  return new InterruptedError(`Interrupted: ${where}; the lock is released. Run \`mlops promote\` again to continue.`, { cause });
}

function shape(ctx: CommandContext, w: Wiring, r: RunResult, links: ConsoleLinks, dry = false): CommandResult {
  const rec = r.deployment;
  const data = {
    outcome: r.outcome,
    endpoint: w.deploy.endpointName,
    stage: rec?.stage ?? null,
    deployment: rec?.id ?? null,
    candidate: rec?.candidate ?? null,
    waitingFor: r.waitingFor ?? null,
    smoke: rec?.smoke ?? null,
    bake: rec?.bake ?? null,
    steps: r.steps,
    dryRun: dry,
    links,
  };
  if (!dry) ctx.io.githubOutput({ stage: data.stage ?? '', 'deployment-id': data.deployment ?? '' });
  const text = promoteSummary(w.deploy.endpointName, r, dry);
  const verdict = dry ? undefined : promoteVerdict(r);
  if (verdict) {
    ctx.io.error(verdict.message, verdict.hint);
    return { data, text, exitCode: 1 };
  }
  return { data, text };
}

/**
 * The plan: the driver runs against in-memory copies seeded from what exists now (endpoint,
 * configs, the deployment record), reading real metrics and capture, so the listed calls are the
 * ones a real run would make next, up to the first wait.
 */
async function dryRun(ctx: CommandContext, w: Wiring, named: Named | undefined, links: ConsoleLinks): Promise<CommandResult> {
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
      deleteAlarms: (n) => memMetrics.deleteAlarms(n),
      describeAlarms: (n) => memMetrics.describeAlarms(n),
      putMetricData: async () => {},
      getMetricStatistics: (q) => w.metrics.getMetricStatistics(q),
    },
    // Nothing is written to MLflow either: the plan's audit chain (and so its head) is in memory.
    registry: { ...real.registry, setAlias: async () => {}, deleteAlias: async () => {}, setVersionTag: async () => {} },
    packager: { package: async () => {} },
    // The plan lists the smoke test's calls; it does not send them (the candidate is not deployed).
    smoke: {
      example: async () => ({ body: '', contentType: 'application/json', source: 'the model input example' }),
      invoke: async () => ({ status: 200, body: '[]' }),
    },
    audit: openAuditLog({
      store: memStore,
      location: { bucket: 'dry-run', prefix: '' },
      endpoint: w.deploy.endpointName,
      retentionDays: 1,
    }),
    clock: { now: () => w.clock.now(), sleep: async () => {} },
    log: (m) => ctx.io.debug(`(dry run) ${m}`),
  };
  const candidate = await resolveCandidate(ctx, w, named, current && !isTerminal(current.stage) ? current : undefined, true);
  if (!candidate) return { data: { outcome: 'nothing', steps, dryRun: true, links }, text: 'nothing to promote (dry run)' };
  const r = await runPromote(ports, { ...w.settings, waitBudgetMs: 0 }, candidate);
  return shape(ctx, w, r, links, true);
}
