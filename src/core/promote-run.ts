/**
 * Runs a promotion: observe, `decide`, act, record, repeat, until the deployment waits (for the
 * bake period, or longer than this run may wait) or ends. Every side effect goes through an
 * injected port (src/core/ports.ts), so unit tests drive it with in-memory fakes and the
 * commands with the real SDK clients.
 */
import { CheckFailedError, ExternalError } from './errors.js';
import type { DeploySettings, DeployTarget } from './deploy-target.js';
import type { DeployPorts } from './ports.js';
import { CaptureMatcher, compareCapture, judgeBake, type VariantStats } from './bake.js';
import { durationMs } from './duration.js';
import { advance, decide, isTerminal, newDeployment, type Action, type DeploymentRecord, type ModelRef } from './deployment.js';
import { deploymentStore, type DeploymentStore } from './deployment-store.js';
import { LOCK_HEARTBEAT_MS } from './lock.js';
import { bakeWait, endpointWait } from './wait-event.js';
import { SAGEMAKER_NAMESPACE } from './metric-names.js';
import {
  alarmSpecs,
  deploymentConfigSpec,
  finalConfigSpec,
  modelSpec,
  restoreConfigSpec,
  SHADOW_VARIANT,
  shadowConfigSpec,
  SMOKE_VARIANT,
  smokeConfigSpec,
  tags,
} from './sagemaker-requests.js';
import { excerpt, judgeSmoke, type SmokeOutcome } from './smoke.js';
import { auditHeadTagKey, auditHeadTagValue } from './audit.js';
import { printable } from './escape.js';

export type Outcome = 'advanced' | 'waiting' | 'nothing' | 'done' | 'rolled-back' | 'failed';

export interface RunResult {
  outcome: Outcome;
  deployment?: DeploymentRecord;
  /** What this run did, in order (SageMaker/CloudWatch/S3/MLflow calls with side effects). */
  steps: string[];
  waitingFor?: string;
}

/** Advances the endpoint's deployment of `candidate` as far as it can. The caller holds the lock. */
export async function runPromote(p: DeployPorts, s: DeploySettings, candidate: ModelRef): Promise<RunResult> {
  const anchor = registryAnchor(p, s);
  try {
    return await promoteSteps(p, s, candidate, anchor);
  } finally {
    await anchor.settle();
  }
}

async function promoteSteps(p: DeployPorts, s: DeploySettings, candidate: ModelRef, anchor: RegistryAnchor): Promise<RunResult> {
  const d = s.deploy;
  const states = deploymentStore(p.store, d);
  const steps: string[] = [];
  let rec = await states.current();

  if (rec && !isTerminal(rec.stage) && rec.candidate.version !== candidate.version)
    throw inProgressError(rec, `version ${candidate.version}`);
  if (rec && rec.stage === 'done' && rec.candidate.version === candidate.version && rec.aliasMoved) {
    return { outcome: 'nothing', deployment: rec, steps };
  }
  if (!rec || (isTerminal(rec.stage) && !(rec.stage === 'done' && rec.candidate.version === candidate.version))) {
    rec = await startDeployment(p, s, candidate, states, steps);
    await anchor.start(rec);
  }

  let advanced = false;
  const started = p.clock.now().getTime();
  // Waits are bounded by the wait budget; actions by a generous cap (a loop would be a bug).
  for (let acts = 0; acts < 200;) {
    if (p.signal?.aborted) break;
    const ep = await p.sagemaker.describeEndpoint(d.endpointName);
    const now = p.clock.now();
    const action = decide(
      rec,
      { now, endpoint: ep },
      { shadowDurationMs: durationMs(d.shadow.duration), maxUpdateAttempts: d.shadow.maxUpdateAttempts, smokeTest: smokePlanned(p, d) },
    );
    const budgetLeft = s.waitBudgetMs - (now.getTime() - started);
    switch (action.kind) {
      case 'nothing':
        return { outcome: rec.stage === 'done' ? 'done' : advanced ? 'advanced' : 'nothing', deployment: rec, steps };
      case 'wait-endpoint':
        if (budgetLeft <= 0) return { outcome: advanced ? 'advanced' : 'waiting', deployment: rec, steps, waitingFor: action.why };
        p.progress?.waiting(endpointWait(d, rec, action.status));
        await p.heartbeat?.();
        await p.clock.sleep(Math.min(s.pollMs, budgetLeft, LOCK_HEARTBEAT_MS), p.signal);
        continue;
      case 'wait-bake':
        if (action.remainingMs > budgetLeft) {
          return { outcome: advanced ? 'advanced' : 'waiting', deployment: rec, steps, waitingFor: `bake until ${action.until}` };
        }
        p.progress?.waiting(bakeWait(d, rec, action.until, action.remainingMs));
        await p.heartbeat?.();
        await p.clock.sleep(Math.min(action.remainingMs, s.pollMs * 10, LOCK_HEARTBEAT_MS), p.signal);
        continue;
      case 'fail': {
        rec = advance({ ...rec, reason: action.reason }, 'failed', now, action.reason);
        await states.save(rec);
        await p.audit.append({
          kind: 'stage',
          action: 'deployment.failed',
          deploymentId: rec.id,
          actor: s.actor,
          details: { reason: action.reason, ...(rec.updateAttempts && { updateAttempts: rec.updateAttempts }) },
        });
        await anchor.start(rec);
        if (action.check) {
          throw new CheckFailedError('DEPLOYMENT_FAILED', `deployment ${rec.id} failed: ${action.reason}`, {
            hint: 'The previous model keeps serving. Check why SageMaker rejects the candidate (the endpoint events and logs), then promote again.',
            details: { deployment: rec.id, stage: rec.stage, updateAttempts: rec.updateAttempts ?? {} },
          });
        }
        throw new ExternalError('DEPLOYMENT_FAILED', `deployment ${rec.id} failed: ${action.reason}`, {
          hint: 'Check the endpoint in the SageMaker console; the previous model keeps serving. Then promote again.',
        });
      }
      default:
        acts++;
        rec = await act(p, s, rec, action, steps, states);
        await anchor.start(rec);
        advanced = true;
        if (rec.stage === 'rolled-back') {
          return { outcome: 'rolled-back', deployment: rec, steps };
        }
    }
  }
  return { outcome: advanced ? 'advanced' : 'waiting', deployment: rec, steps };
}

/**
 * Quotes the audit chain's head on the deployed model version (the MLflow tag
 * `mlops.audit.head.<endpoint>` = `<seq>:<hash>`) after each step that appended to the chain: an
 * anchor outside both buckets, so rewriting the trail and the deployment records together is
 * still detected by `audit verify`. A failed write never fails the deployment: it is said once
 * and recorded in the trail (anchor.failed); this run then stops trying (MLflow is likely down)
 * and verify reports the version's anchor missing until a later run writes it.
 *
 * start() sends the tag and returns without waiting for MLflow, so the write overlaps the next
 * step; the next start() or settle() first ends the write in flight and records its failure, in
 * the caller's flow (audit appends never run concurrently). settle() before the run returns.
 */
export interface RegistryAnchor {
  start(rec: DeploymentRecord): Promise<void>;
  settle(): Promise<void>;
}

export function registryAnchor(p: DeployPorts, s: Pick<DeploySettings, 'deploy' | 'actor'>): RegistryAnchor {
  const key = auditHeadTagKey(s.deploy.endpointName);
  let written: string | undefined;
  let failed = false;
  type Outcome = { rec: DeploymentRecord; head: { seq: number; hash: string }; value: string; error?: { reason: string } };
  let inFlight: Promise<Outcome> | undefined;
  const settle = async () => {
    if (!inFlight) return;
    const w = inFlight;
    inFlight = undefined;
    const { rec, head, value, error } = await w;
    if (!error) {
      written = value;
      return;
    }
    if (p.signal?.aborted) return;
    failed = true;
    const { registeredModel, version } = rec.candidate;
    p.log(
      `warning: could not tag ${registeredModel} v${version} with the audit chain's head (${key}): ${error.reason}; the deployment goes on, and \`mlops audit verify\` will report this version's MLflow anchor missing until a later promote or rollback writes it`,
    );
    await p.audit.append({
      kind: 'anchor',
      action: 'anchor.failed',
      deploymentId: rec.id,
      actor: s.actor,
      details: { registeredModel, version, tag: key, head, reason: error.reason },
    });
  };
  const start = async (rec: DeploymentRecord) => {
    await settle();
    const head = p.audit.head();
    if (!head || failed || p.signal?.aborted) return;
    const value = auditHeadTagValue(head);
    if (value === written) return;
    const { registeredModel, version } = rec.candidate;
    inFlight = p.registry.setVersionTag(registeredModel, version, key, value).then(
      () => ({ rec, head, value }),
      (e: unknown) => ({ rec, head, value, error: { reason: e instanceof Error ? e.message : String(e) } }),
    );
  };
  return { start, settle };
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
  let restoreVariants: { name: string; model: string; weight: number }[] | undefined;
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
    // After a weights-only rollback the endpoint serves its config with other weights than the
    // config holds: going back to that config later would serve the rolled-back model again.
    // What is remembered is a copy with the weights that serve now.
    const served = (cfg?.productionVariants ?? []).map((v) => ({
      ...v,
      weight: ep.variants.find((x) => x.name === v.name)?.weight ?? v.weight ?? 1,
    }));
    if (served.some((v, i) => v.weight !== (cfg!.productionVariants[i].weight ?? 1))) restoreVariants = served;
  }
  const prevAlias = await p.registry.getAlias(s.registeredModel, s.alias);
  let rec = newDeployment({
    endpoint: d.endpointName,
    candidate,
    previous: previous && { ...previous, version: prevAlias },
    previousAliasVersion: prevAlias,
    artifactPrefix: d.artifacts,
    now: p.clock.now(),
  });
  if (restoreVariants && rec.previous) {
    const spec = restoreConfigSpec(d, rec, restoreVariants);
    await p.sagemaker.createEndpointConfig(spec);
    steps.push(`SageMaker CreateEndpointConfig ${spec.EndpointConfigName} (the weights serving now)`);
    rec = { ...rec, previous: { ...rec.previous, endpointConfig: spec.EndpointConfigName } };
  }
  await states.save(rec);
  await states.setCurrent(rec.id);
  steps.push(`S3 PutObject ${states.uri(rec.id)}`);
  await p.audit.append({
    kind: 'stage',
    action: 'deployment.started',
    deploymentId: rec.id,
    actor: s.actor,
    // headTag: this deployment quotes the chain's head on the candidate version; verify expects the tag.
    // What a rollback may restore (previous, previousAliasVersion) is named here, where the state
    // bucket cannot change it: verify checks later steps against it.
    details: {
      candidate,
      previous: rec.previous ?? null,
      previousAliasVersion: rec.previousAliasVersion ?? null,
      record: states.uri(rec.id),
      headTag: auditHeadTagKey(d.endpointName),
    },
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
    // The audit chain's head, anchored outside the audit bucket: `audit verify` checks it.
    const auditHead = p.audit.head();
    const next = { ...r, updatedAt: now().toISOString(), ...(auditHead && { auditHead }) };
    await states.save(next);
    return next;
  };
  const stageAudit = (action: string, details: Record<string, unknown> = {}) =>
    p.audit.append({ kind: 'stage', action, deploymentId: rec.id, actor: s.actor, details });
  const recordSmoke = async (smoke: SmokeOutcome) => {
    await p.audit.append({
      kind: 'gate',
      action: smoke.skipped ? 'smoke.unavailable' : smoke.passed ? 'smoke.passed' : 'smoke.failed',
      deploymentId: rec.id,
      actor: s.actor,
      details: { ...smoke },
    });
    p.log(
      smoke.skipped
        ? `smoke test could not run: ${smoke.reason}`
        : smoke.passed
          ? `smoke test of variant "${smoke.variant}" passed (${smoke.source})`
          : `smoke test failed: ${smoke.reason}`,
    );
    return save({ ...rec, smoke });
  };
  switch (a.kind) {
    case 'upload-artifact':
      p.log(printable(`packaging ${rec.candidate.registeredModel} v${rec.candidate.version} -> ${rec.artifact}`));
      await p.packager.package(rec.candidate, rec.artifact);
      steps.push(`S3 PutObject ${rec.artifact}`);
      return save({ ...rec, artifactUploaded: true });
    case 'create-model':
      await p.sagemaker.createModel(modelSpec(d, rec));
      steps.push(`SageMaker CreateModel ${rec.names.model}`);
      return save({ ...rec, modelCreated: true });
    case 'create-config':
      await p.sagemaker.createEndpointConfig(a.config === 'shadow' ? shadowConfigSpec(d, rec) : finalConfigSpec(d, rec));
      steps.push(`SageMaker CreateEndpointConfig ${a.config === 'shadow' ? rec.names.shadowConfig : rec.names.finalConfig}`);
      return rec;
    case 'create-endpoint':
      if (smokePlanned(p, d) && !(await smokeRows(p, d, rec))) {
        // Nothing to send: the test cannot run, so the candidate fails it before an endpoint is created for it.
        return recordSmoke(skippedSmoke(p, rec, d.variantName, now()));
      }
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
      if (a.config === 'smoke' && !(await smokeRows(p, d, rec))) {
        // Nothing to send: the test cannot run, so the candidate fails it (fail closed) before any config change.
        return recordSmoke(skippedSmoke(p, rec, SMOKE_VARIANT, now()));
      }
      if (a.config === 'shadow' || a.config === 'smoke') {
        const spec = a.config === 'shadow' ? shadowConfigSpec(d, rec) : smokeConfigSpec(d, rec);
        configName = spec.EndpointConfigName;
        await p.sagemaker.createEndpointConfig(spec);
        steps.push(`SageMaker CreateEndpointConfig ${configName}`);
        // Counted before the call: a run killed after it still counts the attempt.
        const attempts = { ...rec.updateAttempts, [configName]: (rec.updateAttempts?.[configName] ?? 0) + 1 };
        rec = await save({ ...rec, updateAttempts: attempts });
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
      if (a.config === 'previous')
        await stageAudit(rec.smoke?.passed === false ? 'candidate.removed' : 'shadow.removed', { config: configName, why: a.why });
      return rec;
    }
    case 'smoke-test':
      return recordSmoke(await smokeTest(p, d, rec, a.variant === 'smoke' ? SMOKE_VARIANT : d.variantName, now(), steps));
    case 'delete-endpoint':
      await p.sagemaker.deleteEndpoint(d.endpointName);
      steps.push(`SageMaker DeleteEndpoint ${d.endpointName} (${a.why})`);
      await stageAudit('candidate.removed', { endpoint: d.endpointName, why: a.why });
      return rec;
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
      await p.registry.setAlias(s.registeredModel, s.alias, rec.candidate.version);
      steps.push(`MLflow alias ${s.alias} -> ${s.registeredModel} v${rec.candidate.version}`);
      await stageAudit('alias.moved', {
        alias: s.alias,
        version: rec.candidate.version,
        previous: rec.previousAliasVersion ?? null,
      });
      return save({ ...rec, aliasMoved: true });
  }
}

/** Whether candidates are smoke-tested: unless deploy.smokeTest.enabled is false; ports without a smoke port (core's unit tests) plan none, the commands always wire one. */
const smokePlanned = (p: DeployPorts, d: DeployTarget) => (d.smokeTest?.enabled ?? true) && p.smoke !== undefined;

/** The example rows of the candidate, or undefined when there are none (or no smoke port). */
const smokeRows = async (p: DeployPorts, d: DeployTarget, rec: DeploymentRecord) => p.smoke?.example(rec.candidate, d.smokeTest?.rows ?? 5);

/**
 * A smoke test that could not run (no example rows): a failure, so a candidate never reaches users
 * unchecked; deploy.smokeTest.enabled: false is the explicit way to deploy without one.
 */
function skippedSmoke(p: DeployPorts, rec: DeploymentRecord, variant: string, at: Date): SmokeOutcome {
  return {
    passed: false,
    skipped: true,
    variant,
    testedAt: at.toISOString(),
    reason: p.smoke
      ? `no example rows for ${rec.candidate.registeredModel} v${rec.candidate.version}: log the model with an input_example, or keep train.holdout as a CSV file with a header (or set deploy.smokeTest.enabled: false to deploy without a smoke test)`
      : 'no way to invoke the endpoint was wired',
  };
}

/** Sends the example rows to the candidate's variant (and to production's, when there is one) and judges the answers. */
async function smokeTest(
  p: DeployPorts,
  d: DeployTarget,
  rec: DeploymentRecord,
  variant: string,
  at: Date,
  steps: string[],
): Promise<SmokeOutcome> {
  const req = await smokeRows(p, d, rec);
  if (!p.smoke || !req) return skippedSmoke(p, rec, variant, at);
  const call = (target: string) => {
    steps.push(`SageMaker Runtime InvokeEndpoint ${d.endpointName} TargetVariant=${target} (smoke test: ${req.source})`);
    return p.smoke!.invoke(d.endpointName, target, req);
  };
  const candidate = await call(variant);
  const production = rec.previous ? await call(d.variantName) : undefined;
  const verdict = judgeSmoke({ variant, answer: candidate }, production && { variant: d.variantName, answer: production });
  return {
    passed: verdict.passed,
    variant,
    testedAt: at.toISOString(),
    source: req.source,
    status: candidate.status,
    bodyExcerpt: excerpt(candidate.body),
    ...(verdict.reason && { reason: verdict.reason }),
  };
}

async function bakeVerdict(p: DeployPorts, d: DeployTarget, rec: DeploymentRecord) {
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
    const [invocations, e5xx, e4xx, lat] = await Promise.all([
      q('Invocations', ['Sum']),
      q('Invocation5XXErrors', ['Sum']),
      q('Invocation4XXErrors', ['Sum']),
      stat === 'average' ? q('ModelLatency', ['Average']) : q('ModelLatency', [], [stat]),
    ]);
    const inv = sum(invocations);
    const err = sum(e5xx) + sum(e4xx);
    const vals = lat.map((x) => (stat === 'average' ? x.average : x.extended?.[stat])).filter((x): x is number => typeof x === 'number');
    return { invocations: inv, errors: err, latency: vals.length ? Math.max(...vals) : null };
  };
  // The metrics and the capture are read at once: the bake's time is its slowest read, not their sum.
  const [production, shadow, outputs] = await Promise.all([
    stats(d.variantName),
    stats(SHADOW_VARIANT),
    compareCapture(
      p.capture.read(d.endpointName, d.variantName, start, end),
      p.capture.read(d.endpointName, SHADOW_VARIANT, start, end),
      new CaptureMatcher(d.bake.outputTolerance, d.bake.maxPendingRecords),
    ),
  ]);
  return judgeBake(d.bake, { production, shadow }, outputs, {
    latencyStatistic: stat,
    from: start,
    to: end,
    production: d.variantName,
    shadow: SHADOW_VARIANT,
  });
}

/**
 * A deployment of another version blocks a new candidate until it ends. Nothing is wrong and no
 * other writer runs (that is the lock's exit 4): the state says no, so it is a check, exit 1.
 */
export function inProgressError(rec: DeploymentRecord, wanted: string): CheckFailedError {
  return new CheckFailedError(
    'DEPLOYMENT_IN_PROGRESS',
    `cannot start ${wanted}: deployment ${rec.id} of version ${rec.candidate.version} is still in progress (stage ${rec.stage}) on ${rec.endpoint}`,
    {
      hint: 'Let it finish (`mlops promote` without --run/--model-version continues it), or end it with `mlops rollback`, then promote again.',
      details: { deployment: rec.id, stage: rec.stage, version: rec.candidate.version },
    },
  );
}

/**
 * promote's human result: the plan of a dry run, then where the deployment is. The id, version and
 * stage come from the record in S3, which anyone who can write the bucket can edit: each line is
 * shown through printable(), never obeyed by the terminal.
 */
export function promoteSummary(endpoint: string, r: RunResult, dryRun = false): string {
  const rec = r.deployment;
  return [
    ...(dryRun ? ['Plan (dry run: nothing was changed):', ...r.steps.map((s, i) => `  ${i + 1}. ${s}`)] : []),
    `${endpoint}: deployment ${rec?.id ?? '-'} ${rec ? `(v${rec.candidate.version})` : ''} at stage ${rec?.stage ?? '-'}: ${r.outcome}${r.waitingFor ? `, waiting for ${r.waitingFor}` : ''}`,
  ]
    .map(printable)
    .join('\n');
}
/**
 * The exit-1 error of a promotion whose check said no: it ended rolled back, or its smoke test or
 * bake failed and the candidate is still being removed (a later run records the rollback).
 * Undefined otherwise.
 */
export function promoteVerdict(r: RunResult): CheckFailedError | undefined {
  const rec = r.deployment;
  if (!rec) return undefined;
  const bakeFailed = rec.bake !== undefined && !rec.bake.passed;
  const smokeFailed = rec.smoke?.passed === false;
  const removing = (bakeFailed && rec.stage === 'bake') || (smokeFailed && !isTerminal(rec.stage));
  if (r.outcome !== 'rolled-back' && !removing) return undefined;
  const what =
    r.outcome === 'rolled-back'
      ? `was rolled back: ${rec.reason ?? 'see the audit trail'}`
      : smokeFailed
        ? `failed its smoke test (${rec.smoke!.reason}); the candidate is being removed`
        : 'failed its bake; the shadow is being removed';
  return new CheckFailedError('PROMOTION_ROLLED_BACK', `deployment ${rec.id} ${what}`, {
    hint: bakeFailed
      ? `bake: ${rec.bake!.reasons.join('; ')}`
      : smokeFailed
        ? `No user request reached the candidate; ${rec.previous ? 'the previous model keeps serving' : 'the new endpoint was deleted'}. Fix the candidate (try it with \`mlflow models serve\` and the same rows) and promote again.`
        : 'The previous model is serving. Fix the candidate and promote again.',
    details: { deployment: rec.id, stage: rec.stage },
  });
}
