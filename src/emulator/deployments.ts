/**
 * The deployment engine: what happens to an endpoint over time on the emulator's clock. Creation
 * (instances up, model served), blue/green UpdateEndpoint (ALL_AT_ONCE, CANARY or LINEAR steps,
 * wait intervals, termination wait, the execution timeout) with auto-rollback when a CloudWatch
 * alarm fires, weight changes, deletion, and the scoring servers each fleet holds.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Clock } from './clock.js';
import { validation } from './errors.js';
import { ModelLoadError, type ModelServerPool } from './model-servers.js';
import type {
  ApiOutput,
  CapacitySize,
  CreateEndpointInput,
  DeploymentConfig,
  EndpointRec,
  Fleet,
  TrafficRoutingConfig,
  UpdateEndpointInput,
  UpdateWeightsInput,
  VariantRt,
} from './records.js';
import { checkTags, type Resources } from './resources.js';

/** Emulated seconds each phase takes (SageMaker's are minutes; scale them with timeScale). */
export interface Durations {
  /** CreateEndpoint: instances up, model loaded (the real scoring server start adds to it). */
  createEndpoint: number;
  /** UpdateEndpoint: provisioning the new (green) fleet. */
  provisionFleet: number;
  /** Shifting one traffic step to the new fleet. */
  activateTraffic: number;
  /** Returning traffic to the old fleet and tearing the new one down. */
  rollback: number;
  /** UpdateEndpointWeightsAndCapacities. */
  updateWeights: number;
  /** DeleteEndpoint: the endpoint shows Deleting this long. */
  deleteEndpoint: number;
  /** How often alarms are read during a deployment. */
  alarmPollInterval: number;
}

export const DEFAULT_DURATIONS: Durations = {
  createEndpoint: 240,
  provisionFleet: 240,
  activateTraffic: 30,
  rollback: 120,
  updateWeights: 30,
  deleteEndpoint: 30,
  alarmPollInterval: 10,
};

export interface DeploymentDeps {
  clock: Clock;
  pool: ModelServerPool;
  cloudWatch: CloudWatchClient;
  durations: Durations;
  log: (line: string) => void;
}

/** Why a task stopped: the endpoint was deleted or the emulator shut down. */
export class Aborted extends Error {}

function healthCheckFailure(variant: string): string {
  return `The primary container for production variant ${variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`;
}

export class Deployments {
  /** Model names or ModelDataUrls whose containers fail the ping health check (admin knob). */
  readonly unhealthy = new Set<string>();
  /** Why scoring servers could not start (their log tails), newest last, for the admin API. */
  readonly modelErrors: Array<{ modelDataUrl: string; time: string; error: string }> = [];

  constructor(
    private readonly r: Resources,
    private readonly d: DeploymentDeps,
  ) {}

  createEndpoint(input: CreateEndpointInput): ApiOutput {
    const name: string = input.EndpointName;
    const arn = this.r.arn('endpoint', name);
    if (this.r.endpoints.has(name)) throw validation(`Cannot create already existing endpoint "${arn}".`);
    checkTags(input.Tags);
    const config = this.r.getConfig(input.EndpointConfigName);
    const fleet = this.r.fleetFor(config);
    const now = new Date();
    const ep: EndpointRec = {
      name,
      arn,
      created: now,
      lastModified: now,
      status: 'Creating',
      pending: { fleet, traffic: 0, startTime: now, phase: 'Creating' },
      lastDeploymentConfig: input.DeploymentConfig,
    };
    setStatus(fleet, 'Creating');
    this.r.endpoints.set(name, ep);
    this.r.tags.set(arn, [...(input.Tags ?? [])]);
    this.runTask(ep, async (signal) => {
      try {
        await Promise.all([this.d.clock.sleep(this.d.durations.createEndpoint, signal), this.provision(fleet, signal)]);
      } catch (err) {
        if (signal.aborted) throw err;
        ep.pending = undefined;
        this.transition(ep, 'Failed', reasonOf(err));
        return;
      }
      setStatus(fleet);
      ep.active = fleet;
      ep.pending = undefined;
      this.transition(ep, 'InService');
    });
    return { EndpointArn: arn };
  }

  updateEndpoint(input: UpdateEndpointInput): ApiOutput {
    const bg = input.DeploymentConfig?.BlueGreenUpdatePolicy;
    if (bg && input.DeploymentConfig?.RollingUpdatePolicy) {
      throw validation('Only one of BlueGreenUpdatePolicy and RollingUpdatePolicy can be specified in DeploymentConfig.');
    }
    if (bg?.MaximumExecutionTimeoutInSeconds !== undefined) {
      // SageMaker documents that the timeout must exceed the waits it has to contain.
      const waits = (bg.TrafficRoutingConfiguration?.WaitIntervalInSeconds ?? 0) + (bg.TerminationWaitInSeconds ?? 0);
      if (bg.MaximumExecutionTimeoutInSeconds <= waits) {
        throw validation(
          `MaximumExecutionTimeoutInSeconds (${bg.MaximumExecutionTimeoutInSeconds}) must be larger than the sum of WaitIntervalInSeconds and TerminationWaitInSeconds (${waits}).`,
        );
      }
    }
    const ep = this.r.getEndpoint(input.EndpointName);
    if (IN_PROGRESS.has(ep.status)) throw inProgress(ep);
    // UpdateRollbackFailed is left by a new UpdateEndpoint, as SageMaker's docs prescribe.
    if (ep.status !== 'InService' && ep.status !== 'UpdateRollbackFailed') {
      throw validation(`Cannot update endpoint "${ep.arn}" because it is in status ${ep.status}.`);
    }
    const config = this.r.getConfig(input.EndpointConfigName);
    const deployment: DeploymentConfig | undefined = input.RetainDeploymentConfig ? ep.lastDeploymentConfig : input.DeploymentConfig;
    const fleet = this.r.fleetFor(
      config,
      input.RetainAllVariantProperties ? ep.active : undefined,
      (input.ExcludeRetainedVariantProperties ?? []).map((p) => p.VariantPropertyType),
    );
    const plan = deploymentPlan(deployment, fleet);
    const alarms: string[] = (deployment?.AutoRollbackConfiguration?.Alarms ?? []).map((a) => a.AlarmName);
    const start = new Date();
    ep.pending = { fleet, traffic: 0, startTime: start, phase: 'Creating' };
    ep.failureReason = undefined;
    if (input.DeploymentConfig) ep.lastDeploymentConfig = input.DeploymentConfig;
    setStatus(fleet, 'Creating');
    this.transition(ep, 'Updating');
    const startEmu = this.d.clock.now();
    this.runTask(ep, async (signal) => {
      const old = ep.active!;
      const pending = ep.pending!;
      const checkTimeout = () => {
        if (plan.maxTime !== undefined && (this.d.clock.now() - startEmu) / 1000 > plan.maxTime) {
          throw new RollbackReason(`Endpoint update exceeded MaximumExecutionTimeoutInSeconds (${plan.maxTime} s) and was rolled back.`);
        }
      };
      try {
        try {
          await Promise.all([this.d.clock.sleep(this.d.durations.provisionFleet, signal), this.provision(fleet, signal)]);
        } catch (err) {
          if (signal.aborted) throw err;
          throw new RollbackReason(reasonOf(err));
        }
        for (const [i, share] of plan.steps.entries()) {
          checkTimeout();
          if (plan.rolling && i > 0) {
            // A rolling update provisions each batch of new instances in turn.
            pending.phase = `Creating ${i + 1}/${plan.steps.length}`;
            setStatus(fleet, 'Creating', `Provisioning batch ${i + 1} of ${plan.steps.length}.`);
            await this.watch(alarms, this.d.durations.provisionFleet, signal, checkTimeout);
          }
          pending.phase = `ActivatingTraffic ${i + 1}/${plan.steps.length}`;
          setStatus(fleet, 'ActivatingTraffic', `Shifting ${Math.round(share * 100)}% of traffic to the new fleet.`);
          await this.watch(alarms, this.d.durations.activateTraffic, signal, checkTimeout);
          pending.traffic = share;
          pending.phase = `Baking ${i + 1}/${plan.steps.length}`;
          setStatus(fleet, 'Baking', `${Math.round(share * 100)}% of traffic on the new fleet; baking for ${plan.wait} s.`);
          await this.watch(alarms, plan.wait, signal, checkTimeout);
        }
      } catch (err) {
        if (signal.aborted || !(err instanceof RollbackReason)) throw err;
        await this.rollBack(ep, old, fleet, err.message, signal, plan.rollbackBatches(pending.traffic));
        return;
      }
      // Cut over: the new fleet serves everything; the old one waits TerminationWait, then goes.
      setStatus(fleet);
      pending.phase = 'TerminationWait';
      setStatus(old, 'Deleting', `Terminating the old fleet after ${plan.terminationWait} s.`);
      await this.d.clock.sleep(plan.terminationWait, signal);
      ep.active = fleet;
      ep.pending = undefined;
      this.transition(ep, 'InService');
      await this.release(old);
    });
    return { EndpointArn: ep.arn };
  }

  /** Waits `seconds` of emulated time, reading the alarms as it goes; throws RollbackReason on ALARM. */
  private async watch(alarms: string[], seconds: number, signal: AbortSignal, checkTimeout: () => void): Promise<void> {
    const end = this.d.clock.now() + seconds * 1000;
    for (;;) {
      checkTimeout();
      if (alarms.length > 0) {
        const firing = await this.alarmsInAlarm(alarms);
        if (firing.length > 0) {
          throw new RollbackReason(
            `Endpoint update was rolled back because CloudWatch alarm(s) ${firing.join(', ')} entered the ALARM state during the deployment.`,
          );
        }
      }
      const left = (end - this.d.clock.now()) / 1000;
      if (left <= 0) return;
      const step = alarms.length > 0 ? Math.min(left, this.d.durations.alarmPollInterval) : left;
      // A real floor of 50 ms between reads keeps a high time scale from flooding CloudWatch.
      await Promise.all([this.d.clock.sleep(step, signal), alarms.length > 0 ? delay(50) : undefined]);
    }
  }

  private async alarmsInAlarm(names: string[]): Promise<string[]> {
    const { DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
    try {
      const res = await this.d.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: names }));
      return [...(res.MetricAlarms ?? []), ...(res.CompositeAlarms ?? [])].filter((a) => a.StateValue === 'ALARM').map((a) => a.AlarmName!);
    } catch (err) {
      this.d.log(`could not read alarms ${names.join(', ')}: ${(err as Error).message}`);
      return [];
    }
  }

  private async rollBack(ep: EndpointRec, old: Fleet, failed: Fleet, reason: string, signal: AbortSignal, batches = 1): Promise<void> {
    this.d.log(`${ep.name}: rolling back: ${reason}`);
    if (ep.pending) ep.pending.traffic = 0;
    setStatus(failed, 'Deleting', 'Rolling back: terminating the new fleet.');
    this.transition(ep, 'RollingBack', reason);
    // A rolling update's rollback brings the old capacity back batch by batch (RollbackMaximumBatchSize).
    await this.d.clock.sleep(this.d.durations.rollback * batches, signal);
    ep.pending = undefined;
    await this.release(failed);
    const sick = [...old.variants, ...old.shadows].find((v) => this.isUnhealthy(v));
    if (sick) {
      this.transition(ep, 'UpdateRollbackFailed', `${reason} The rollback failed: ${healthCheckFailure(sick.name)}`);
      return;
    }
    setStatus(old);
    this.transition(ep, 'InService', reason);
  }

  updateWeights(input: UpdateWeightsInput): ApiOutput {
    const ep = this.r.getEndpoint(input.EndpointName);
    if (ep.status !== 'InService' || !ep.active) throw inProgress(ep);
    const fleet = ep.active;
    const all = [...fleet.variants, ...fleet.shadows];
    const missing = input.DesiredWeightsAndCapacities.map((d) => d.VariantName).filter((n) => !all.some((v) => v.name === n));
    if (missing.length > 0) {
      throw validation(`The variant name(s) [${missing.join(', ')}] is/are not present in endpoint "${ep.name}".`);
    }
    const desired = (v: VariantRt) =>
      input.DesiredWeightsAndCapacities.find((d) => d.VariantName === v.name)?.DesiredWeight ?? v.desiredWeight;
    if (fleet.variants.every((v) => desired(v) === 0)) {
      throw validation('The sum of the DesiredWeight of the production variants must be greater than 0.');
    }
    for (const d of input.DesiredWeightsAndCapacities) {
      const v = all.find((x) => x.name === d.VariantName)!;
      if (d.DesiredWeight !== undefined) v.desiredWeight = d.DesiredWeight;
      if (d.DesiredInstanceCount !== undefined) v.desiredInstanceCount = d.DesiredInstanceCount;
      v.status = [{ Status: 'Updating', StartTime: new Date() }];
    }
    ep.failureReason = undefined;
    this.transition(ep, 'Updating');
    this.runTask(ep, async (signal) => {
      await this.d.clock.sleep(this.d.durations.updateWeights, signal);
      for (const v of all) {
        v.weight = v.desiredWeight;
        v.instanceCount = v.desiredInstanceCount;
        v.status = [];
      }
      this.transition(ep, 'InService');
    });
    return { EndpointArn: ep.arn };
  }

  deleteEndpoint(input: { EndpointName: string }): ApiOutput {
    const ep = this.r.getEndpoint(input.EndpointName);
    // SageMaker refuses to delete an endpoint while an operation on it runs, with its update wording.
    if (IN_PROGRESS.has(ep.status)) throw inProgress(ep);
    ep.task?.abort(new Aborted('deleted'));
    ep.task = undefined;
    this.transition(ep, 'Deleting');
    const fleets = [ep.active, ep.pending?.fleet].filter((f): f is Fleet => Boolean(f));
    const task = new AbortController();
    ep.task = task;
    void (async () => {
      try {
        await this.d.clock.sleep(this.d.durations.deleteEndpoint, task.signal);
      } catch {
        // stopped: remove at once
      }
      if (this.r.endpoints.get(ep.name) === ep) this.r.endpoints.delete(ep.name);
      this.r.tags.delete(ep.arn);
      for (const f of fleets) await this.release(f);
    })();
    return {};
  }

  isUnhealthy(v: VariantRt): boolean {
    return this.unhealthy.has(v.modelName) || this.unhealthy.has(v.modelDataUrl);
  }

  /** Starts (or shares) a scoring server for every variant; throws with SageMaker's FailureReason. */
  private async provision(fleet: Fleet, signal: AbortSignal): Promise<void> {
    const all = [...fleet.variants, ...fleet.shadows];
    const results = await Promise.allSettled(
      all.map(async (v) => {
        if (this.isUnhealthy(v)) throw new ModelLoadError(healthCheckFailure(v.name));
        if (!v.modelDataUrl) {
          throw new ModelLoadError(`Production variant ${v.name}: the emulator serves only models with a PrimaryContainer.ModelDataUrl.`);
        }
        try {
          v.server = await this.d.pool.acquire(v.modelDataUrl, v.environment);
        } catch (err) {
          this.d.log(`model ${v.modelName} (${v.modelDataUrl}) could not be served: ${(err as Error).message}`);
          this.modelErrors.push({ modelDataUrl: v.modelDataUrl, time: new Date().toISOString(), error: (err as Error).message });
          if (this.modelErrors.length > 20) this.modelErrors.shift();
          const msg = (err as Error).message;
          // SageMaker names download and unpack failures itself; a container that crashes (as
          // MLflow's image does on a model it cannot serve) only fails its ping health check.
          throw new ModelLoadError(/^Failed to |^Invalid S3/.test(msg) ? msg : healthCheckFailure(v.name));
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || signal.aborted) {
      await this.release(fleet);
      throw failed ? failed.reason : signal.reason;
    }
  }

  async release(fleet: Fleet): Promise<void> {
    for (const v of [...fleet.variants, ...fleet.shadows]) {
      if (v.server) {
        v.server = undefined;
        await this.d.pool.release(v.modelDataUrl);
      }
    }
  }

  private transition(ep: EndpointRec, status: string, failureReason?: string): void {
    ep.status = status;
    if (failureReason !== undefined) ep.failureReason = failureReason;
    ep.lastModified = new Date();
    this.d.log(`${ep.name}: ${status}${failureReason ? ` (${failureReason})` : ''}`);
  }

  private runTask(ep: EndpointRec, body: (signal: AbortSignal) => Promise<void>): void {
    const ctl = new AbortController();
    ep.task = ctl;
    void body(ctl.signal)
      .catch((err) => {
        if (ctl.signal.aborted) return;
        this.d.log(`${ep.name}: internal error: ${(err as Error).stack ?? err}`);
        this.transition(ep, 'Failed', `Internal error in the emulator: ${(err as Error).message}`);
      })
      .finally(() => {
        if (ep.task === ctl) ep.task = undefined;
      });
  }
}

class RollbackReason extends Error {}

/** Statuses in which an operation on the endpoint is still running. */
const IN_PROGRESS = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

/** SageMaker's answer to an update or delete of an endpoint whose last operation has not finished. */
const inProgress = (ep: EndpointRec) => validation(`Cannot update in-progress endpoint "${ep.arn}".`);

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function setStatus(fleet: Fleet, status?: string, message?: string): void {
  for (const v of [...fleet.variants, ...fleet.shadows]) {
    v.status = status ? [{ Status: status, ...(message ? { StatusMessage: message } : {}), StartTime: new Date() }] : [];
  }
}

/** How an UpdateEndpoint runs: traffic steps, bake, termination wait, timeout, rollback batches. */
export interface DeploymentPlan {
  rolling: boolean;
  steps: number[];
  wait: number;
  terminationWait: number;
  maxTime?: number;
  /** Rollback batches needed when `traffic` (0..1) of the capacity is on the new fleet. */
  rollbackBatches: (traffic: number) => number;
}

/**
 * The plan of an UpdateEndpoint. No DeploymentConfig is SageMaker's default (blue/green, all at
 * once, no bake). A rolling update moves MaximumBatchSize instances per step (documented: 5-50% of
 * the variant's instance count), bakes WaitIntervalInSeconds after each, terminates the old batch
 * as it goes (no termination wait) and rolls back RollbackMaximumBatchSize at a time (default all).
 */
export function deploymentPlan(deployment: DeploymentConfig | undefined, fleet: Fleet): DeploymentPlan {
  const rolling = deployment?.RollingUpdatePolicy;
  if (rolling) {
    const instances = fleetInstances(fleet);
    const size = rolling.MaximumBatchSize;
    const batch = batchInstances(size, instances);
    const percent = size.Type === 'INSTANCE_COUNT' ? (size.Value / instances) * 100 : size.Value;
    if (percent < 5 - 1e-9 || percent > 50 + 1e-9) {
      throw validation(`MaximumBatchSize must be between 5% and 50% of the total instance count of the new fleet (${instances}).`);
    }
    const steps: number[] = [];
    for (let k = 1; k * batch < instances; k++) steps.push(Math.round(((k * batch) / instances) * 1e6) / 1e6);
    steps.push(1);
    const rollbackBatch = rolling.RollbackMaximumBatchSize ? batchInstances(rolling.RollbackMaximumBatchSize, instances) : instances;
    return {
      rolling: true,
      steps,
      wait: rolling.WaitIntervalInSeconds,
      terminationWait: 0,
      maxTime: rolling.MaximumExecutionTimeoutInSeconds,
      rollbackBatches: (traffic) => Math.max(1, Math.ceil((traffic * instances) / Math.max(1, rollbackBatch))),
    };
  }
  const policy = deployment?.BlueGreenUpdatePolicy ?? {};
  return {
    rolling: false,
    steps: trafficSteps(policy.TrafficRoutingConfiguration, fleet),
    wait: policy.TrafficRoutingConfiguration?.WaitIntervalInSeconds ?? 0,
    terminationWait: policy.TerminationWaitInSeconds ?? 0,
    maxTime: policy.MaximumExecutionTimeoutInSeconds,
    rollbackBatches: () => 1,
  };
}

const fleetInstances = (fleet: Fleet) => fleet.variants.reduce((n, v) => n + v.instanceCount, 0) || 1;

/** A CapacitySize in instances of a fleet of `instances` (a percentage rounds up to whole instances). */
const batchInstances = (size: CapacitySize, instances: number) =>
  size.Type === 'INSTANCE_COUNT' ? size.Value : Math.ceil((size.Value / 100) * instances - 1e-9);

/**
 * The traffic shares of a blue/green deployment's steps: ALL_AT_ONCE [1], CANARY [c, 1],
 * LINEAR [s, 2s, ..., 1]. Sizes are checked as SageMaker documents them (canary at most 50%,
 * linear steps 10-50% of the new fleet's capacity).
 */
export function trafficSteps(routing: TrafficRoutingConfig | undefined, fleet: Fleet): number[] {
  if (!routing || routing.Type === 'ALL_AT_ONCE') return [1];
  const instances = fleetInstances(fleet);
  const share = (size: CapacitySize) => (size.Type === 'INSTANCE_COUNT' ? size.Value / instances : size.Value / 100);
  if (routing.Type === 'CANARY') {
    if (!routing.CanarySize) throw validation('CanarySize must be specified when the traffic routing type is CANARY.');
    const c = share(routing.CanarySize);
    if (c <= 0 || c > 0.5) {
      throw validation(`CanarySize must be greater than 0 and at most 50% of the total instance count of the new fleet (${instances}).`);
    }
    return [c, 1];
  }
  if (routing.Type === 'LINEAR') {
    if (!routing.LinearStepSize) throw validation('LinearStepSize must be specified when the traffic routing type is LINEAR.');
    const s = share(routing.LinearStepSize);
    if (s < 0.1 - 1e-9 || s > 0.5 + 1e-9) {
      throw validation(`LinearStepSize must be between 10% and 50% of the total instance count of the new fleet (${instances}).`);
    }
    const steps: number[] = [];
    for (let k = 1; k * s < 1 - 1e-9; k++) steps.push(Math.round(k * s * 1e6) / 1e6);
    steps.push(1);
    return steps;
  }
  return [1];
}
