/**
 * A promotion as a resumable state machine. Pure: `decide(record, observed, policy)` looks at the
 * deployment record (in S3) and at what SageMaker reports now, and names the one next action.
 * The promote command executes it, records the outcome, and asks again, so a run killed anywhere
 * and run again converges: every action is safe to repeat (creating what exists is skipped,
 * updating to the config the endpoint already has is skipped), and the endpoint always keeps a
 * serving production variant (a shadow is only ever added beside the current model).
 *
 *   package -> shadow -> bake -> cutover -> done        (first deployment: package -> cutover -> done)
 *                \          \-> rolled-back (bake failed, or SageMaker rolled back on an alarm)
 *                 \-> rolled-back (smoke test failed: the candidate never took a user request)
 *
 * The smoke test runs where the candidate is first InService and before any user request can
 * reach it: in the shadow stage on a config that adds it at weight 0 (before the shadow copies
 * traffic to it), and for a first deployment on the new endpoint before it is done.
 */

import type { SmokeOutcome } from './smoke.js';

export type Stage = 'package' | 'shadow' | 'bake' | 'cutover' | 'done' | 'rolled-back' | 'failed';
export const TERMINAL: readonly Stage[] = ['done', 'rolled-back', 'failed'];
export const isTerminal = (s: Stage) => TERMINAL.includes(s);

export type EndpointStatus =
  | 'OutOfService'
  | 'Creating'
  | 'Updating'
  | 'SystemUpdating'
  | 'RollingBack'
  | 'InService'
  | 'Deleting'
  | 'Failed'
  | 'UpdateRollbackFailed';

/** What DescribeEndpoint says, reduced to what the decisions need. */
export interface EndpointView {
  name: string;
  status: EndpointStatus;
  configName: string;
  failureReason?: string;
  variants: { name: string; weight?: number; instances?: number }[];
  shadowVariants?: { name: string; weight?: number }[];
}

export interface ModelRef {
  /** Registered model name and version in MLflow. */
  registeredModel: string;
  version: string;
  runId?: string;
}

/** The deployment record, one JSON object per deployment in S3. */
export interface DeploymentRecord {
  schema: 1;
  id: string;
  endpoint: string;
  stage: Stage;
  candidate: ModelRef;
  /** The endpoint config and model serving before this deployment (none for a new endpoint). */
  previous?: { endpointConfig: string; model: string; version?: string };
  /** The version the `production` alias pointed to before this deployment. */
  previousAliasVersion?: string;
  /** The audit chain's head when the record was saved, anchored outside the chain (`audit verify` checks it). */
  auditHead?: { seq: number; hash: string };
  /** Deterministic SageMaker names, fixed when the record is created. */
  names: { model: string; shadowConfig: string; finalConfig: string; restoreConfig?: string; smokeConfig?: string; alarms: string[] };
  /** s3:// URI of the packaged model.tar.gz. */
  artifact: string;
  artifactUploaded?: boolean;
  modelCreated?: boolean;
  shadowStartedAt?: string;
  /** The smoke test's outcome (absent: not run yet). */
  smoke?: SmokeOutcome;
  bake?: BakeOutcome;
  cutoverIssuedAt?: string;
  aliasMoved?: boolean;
  /** UpdateEndpoint calls issued per endpoint config (a shadow update SageMaker keeps failing is capped). */
  updateAttempts?: Record<string, number>;
  /** Why the deployment ended as rolled-back or failed. */
  reason?: string;
  /** Resources of this deployment that `mlops gc` deleted (names and archive URIs). */
  deleted?: string[];
  /** When each stage was entered. */
  history: { stage: Stage; at: string; note?: string }[];
  createdAt: string;
  updatedAt: string;
}

export interface BakeOutcome {
  passed: boolean;
  reasons: string[];
  measured: Record<string, number | null>;
  judgedAt: string;
}

export interface Observed {
  now: Date;
  endpoint?: EndpointView;
}

export interface Policy {
  shadowDurationMs: number;
  /** UpdateEndpoint calls to the shadow (or smoke) config before the deployment fails (default 3). */
  maxUpdateAttempts?: number;
  /** Whether the candidate is smoke-tested before any user request can reach it. */
  smokeTest?: boolean;
}

export type Action =
  | { kind: 'upload-artifact' }
  | { kind: 'create-model' }
  | { kind: 'create-endpoint'; config: 'final' }
  | { kind: 'create-config'; config: 'shadow' | 'final' }
  | { kind: 'update-endpoint'; config: 'smoke' | 'shadow' | 'final' | 'previous'; blueGreen: boolean; why: string }
  | { kind: 'smoke-test'; variant: 'smoke' | 'final' }
  | { kind: 'delete-endpoint'; why: string }
  | { kind: 'wait-endpoint'; status: EndpointStatus; why: string }
  | { kind: 'wait-bake'; until: string; remainingMs: number }
  | { kind: 'judge-bake' }
  | { kind: 'advance'; to: Stage; note?: string }
  | { kind: 'move-alias' }
  /** `check`: a limit said no (exit 1), not a service failure (exit 3). */
  | { kind: 'fail'; reason: string; check?: boolean }
  | { kind: 'nothing' };

const BUSY: EndpointStatus[] = ['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting'];

/** SageMaker names: letters, digits, hyphens, at most 63 characters; unique per deployment. */
export function resourceNames(endpoint: string, id: string, alarmsWanted = true): DeploymentRecord['names'] {
  const base = `${endpoint.slice(0, 63 - id.length - 8)}-${id}`;
  return {
    model: `${base}-model`.slice(0, 63),
    shadowConfig: `${base}-shadow`.slice(0, 63),
    finalConfig: `${base}-final`.slice(0, 63),
    restoreConfig: `${base}-restore`.slice(0, 63),
    smokeConfig: `${base}-smoke`.slice(0, 63),
    alarms: alarmsWanted ? [`${base}-5xx`, `${base}-latency`, `${base}-drift`] : [],
  };
}

/** A deployment id: sortable time + version, valid in SageMaker names. */
export function deploymentId(now: Date, version: string): string {
  const t = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${t}-v${version.replace(/[^a-zA-Z0-9]/g, '')}`.slice(0, 24);
}

/** A fresh record for a candidate. */
export function newDeployment(a: {
  endpoint: string;
  candidate: ModelRef;
  previous?: DeploymentRecord['previous'];
  previousAliasVersion?: string;
  artifactPrefix: string;
  now: Date;
}): DeploymentRecord {
  const id = deploymentId(a.now, a.candidate.version);
  const at = a.now.toISOString();
  return {
    schema: 1,
    id,
    endpoint: a.endpoint,
    stage: 'package',
    candidate: a.candidate,
    previous: a.previous,
    previousAliasVersion: a.previousAliasVersion,
    names: resourceNames(a.endpoint, id),
    artifact: `${a.artifactPrefix.replace(/\/+$/, '')}/${id}/model.tar.gz`,
    history: [{ stage: 'package', at }],
    createdAt: at,
    updatedAt: at,
  };
}

/** Moves a record to a stage (no-op when already there). */
export function advance(r: DeploymentRecord, to: Stage, now: Date, note?: string): DeploymentRecord {
  if (r.stage === to) return r;
  const at = now.toISOString();
  return { ...r, stage: to, history: [...r.history, { stage: to, at, ...(note ? { note } : {}) }], updatedAt: at };
}

/** The one next thing to do for this deployment. */
export function decide(r: DeploymentRecord, o: Observed, p: Policy): Action {
  const ep = o.endpoint;
  switch (r.stage) {
    case 'package': {
      if (!r.artifactUploaded) return { kind: 'upload-artifact' };
      if (!r.modelCreated) return { kind: 'create-model' };
      // A new endpoint has no production traffic to shadow: it is created serving the candidate.
      if (!r.previous) return { kind: 'advance', to: 'cutover', note: 'new endpoint: no shadow' };
      return { kind: 'advance', to: 'shadow' };
    }
    case 'shadow': {
      if (!ep) return { kind: 'fail', reason: `endpoint ${r.endpoint} disappeared` };
      if (BUSY.includes(ep.status)) return { kind: 'wait-endpoint', status: ep.status, why: `endpoint is ${ep.status}` };
      if (ep.status !== 'InService') return { kind: 'fail', reason: `endpoint is ${ep.status}: ${ep.failureReason ?? 'no reason given'}` };
      if (ep.configName === r.names.shadowConfig) return { kind: 'advance', to: 'bake', note: 'shadow in service' };
      if (r.smoke && !r.smoke.passed) {
        // Nothing reached users: drop the candidate's variant, then record the rollback.
        if (ep.configName !== r.previous!.endpointConfig) {
          return { kind: 'update-endpoint', config: 'previous', blueGreen: false, why: 'smoke test failed: remove the candidate' };
        }
        return { kind: 'advance', to: 'rolled-back', note: `smoke test failed: ${r.smoke.reason ?? 'see the deployment record'}` };
      }
      const smokeConfig = r.names.smokeConfig;
      if (p.smokeTest && smokeConfig && !r.smoke) {
        if (ep.configName === smokeConfig) return { kind: 'smoke-test', variant: 'smoke' };
        return (
          attemptsExhausted(r, smokeConfig, ep, p) ?? {
            kind: 'update-endpoint',
            config: 'smoke',
            blueGreen: false,
            why: 'add the candidate at weight 0 for the smoke test',
          }
        );
      }
      return (
        attemptsExhausted(r, r.names.shadowConfig, ep, p) ?? {
          kind: 'update-endpoint',
          config: 'shadow',
          blueGreen: false,
          why: 'add the candidate as a shadow variant',
        }
      );
    }
    case 'bake': {
      if (!ep) return { kind: 'fail', reason: `endpoint ${r.endpoint} disappeared` };
      if (BUSY.includes(ep.status)) return { kind: 'wait-endpoint', status: ep.status, why: `endpoint is ${ep.status}` };
      if (r.bake && !r.bake.passed) {
        // Bake failed: drop the shadow (back to the previous config), then record the rollback.
        if (ep.configName !== r.previous!.endpointConfig) {
          return { kind: 'update-endpoint', config: 'previous', blueGreen: false, why: 'bake failed: remove the shadow' };
        }
        return { kind: 'advance', to: 'rolled-back', note: 'bake failed' };
      }
      if (r.bake?.passed) return { kind: 'advance', to: 'cutover' };
      const started = Date.parse(r.shadowStartedAt ?? o.now.toISOString());
      const until = started + p.shadowDurationMs;
      if (o.now.getTime() < until) return { kind: 'wait-bake', until: new Date(until).toISOString(), remainingMs: until - o.now.getTime() };
      return { kind: 'judge-bake' };
    }
    case 'cutover': {
      if (!r.previous) {
        // First deployment: create the endpoint directly; a failed smoke test deletes it again.
        const smokeFailed = r.smoke !== undefined && !r.smoke.passed;
        if (!ep) {
          if (smokeFailed)
            return { kind: 'advance', to: 'rolled-back', note: `smoke test failed: ${r.smoke!.reason ?? 'see the deployment record'}` };
          return { kind: 'create-endpoint', config: 'final' };
        }
        if (BUSY.includes(ep.status)) return { kind: 'wait-endpoint', status: ep.status, why: `endpoint is ${ep.status}` };
        if (ep.status === 'InService' && ep.configName === r.names.finalConfig) {
          if (smokeFailed) return { kind: 'delete-endpoint', why: 'smoke test failed on the new endpoint' };
          if (p.smokeTest && !r.smoke) return { kind: 'smoke-test', variant: 'final' };
          return { kind: 'advance', to: 'done' };
        }
        return { kind: 'fail', reason: `new endpoint is ${ep.status}: ${ep.failureReason ?? 'no reason given'}` };
      }
      if (!ep) return { kind: 'fail', reason: `endpoint ${r.endpoint} disappeared` };
      if (BUSY.includes(ep.status))
        return { kind: 'wait-endpoint', status: ep.status, why: `blue/green cutover: endpoint is ${ep.status}` };
      if (ep.status === 'UpdateRollbackFailed' || ep.status === 'Failed') {
        return { kind: 'fail', reason: `endpoint is ${ep.status}: ${ep.failureReason ?? 'no reason given'}` };
      }
      if (ep.configName === r.names.finalConfig) return { kind: 'advance', to: 'done' };
      if (r.cutoverIssuedAt) {
        // We asked for the cutover and the endpoint is back on its old config: SageMaker rolled
        // back (an alarm fired). Drop the shadow that is still there, then record the rollback.
        if (ep.configName !== r.previous.endpointConfig) {
          return {
            kind: 'update-endpoint',
            config: 'previous',
            blueGreen: false,
            why: 'cutover rolled back by SageMaker: remove the shadow',
          };
        }
        return {
          kind: 'advance',
          to: 'rolled-back',
          note: `SageMaker rolled the cutover back${ep.failureReason ? ': ' + ep.failureReason : ''}`,
        };
      }
      return { kind: 'update-endpoint', config: 'final', blueGreen: true, why: 'blue/green cutover to the candidate' };
    }
    case 'done':
      return r.aliasMoved ? { kind: 'nothing' } : { kind: 'move-alias' };
    case 'rolled-back':
    case 'failed':
      return { kind: 'nothing' };
  }
}

/** A `fail` once the UpdateEndpoint calls to `config` reached the cap (SageMaker keeps failing them). */
function attemptsExhausted(r: DeploymentRecord, config: string, ep: EndpointView, p: Policy): Action | undefined {
  const tried = r.updateAttempts?.[config] ?? 0;
  const cap = p.maxUpdateAttempts ?? 3;
  if (tried < cap) return undefined;
  return {
    kind: 'fail',
    check: true,
    reason: `SageMaker did not put ${config} in service after ${tried} UpdateEndpoint attempts (limit ${cap}; last failure: ${ep.failureReason ?? 'none given'})`,
  };
}

/** Summary of a promotion's stage timings (ms spent in each stage so far). */
export function stageTimings(r: DeploymentRecord, now: Date): { stage: Stage; at: string; ms: number }[] {
  return r.history.map((h, i) => {
    const end = i + 1 < r.history.length ? Date.parse(r.history[i + 1].at) : isTerminal(h.stage) ? Date.parse(h.at) : now.getTime();
    return { stage: h.stage, at: h.at, ms: Math.max(0, end - Date.parse(h.at)) };
  });
}

// --- what rollback does, by stage ------------------------------------------------------------

export type RollbackAction =
  | { kind: 'nothing'; why: string }
  | { kind: 'wait-endpoint'; status: EndpointStatus }
  | { kind: 'stop-cutover' }
  | { kind: 'update-endpoint'; config: 'previous'; why: string }
  | { kind: 'weights'; why: string }
  | { kind: 'restore-alias' }
  | { kind: 'finish' };

/**
 * The next step of a rollback. `strategy` is the configured one; weights-only applies when the
 * final config keeps the previous model warm as a second variant.
 */
export function decideRollback(
  r: DeploymentRecord,
  o: Observed,
  a: { strategy: 'config' | 'keep-warm'; warmVariant?: string; aliasRestored: boolean },
): RollbackAction {
  const ep = o.endpoint;
  // At package nothing has touched the endpoint yet: ending the deployment abandons it (the
  // model and artifact it made stay, unused), whether or not there was a previous model.
  if (r.stage === 'package') return a.aliasRestored ? { kind: 'finish' } : { kind: 'restore-alias' };
  if (!r.previous) return { kind: 'nothing', why: 'the first deployment of an endpoint has no previous model to restore' };
  if (!ep) return { kind: 'nothing', why: `endpoint ${r.endpoint} does not exist` };
  if (r.stage === 'cutover' && r.cutoverIssuedAt && (ep.status === 'Updating' || ep.status === 'RollingBack')) {
    // A blue/green deployment in flight is stopped by SageMaker's own auto-rollback.
    return ep.status === 'Updating' ? { kind: 'stop-cutover' } : { kind: 'wait-endpoint', status: ep.status };
  }
  if (BUSY.includes(ep.status)) return { kind: 'wait-endpoint', status: ep.status };
  const servingPrevious = ep.configName === r.previous.endpointConfig;
  const warmServing =
    a.strategy === 'keep-warm' &&
    a.warmVariant !== undefined &&
    ep.configName === r.names.finalConfig &&
    ep.variants.some((v) => v.name === a.warmVariant && (v.weight ?? 0) > 0) &&
    ep.variants.every((v) => v.name === a.warmVariant || (v.weight ?? 0) === 0);
  if (!servingPrevious && !warmServing) {
    if (
      a.strategy === 'keep-warm' &&
      a.warmVariant &&
      ep.configName === r.names.finalConfig &&
      ep.variants.some((v) => v.name === a.warmVariant)
    ) {
      return { kind: 'weights', why: 'shift all traffic to the warm previous variant' };
    }
    return { kind: 'update-endpoint', config: 'previous', why: `restore ${r.previous.endpointConfig}` };
  }
  if (!a.aliasRestored) return { kind: 'restore-alias' };
  return { kind: 'finish' };
}
