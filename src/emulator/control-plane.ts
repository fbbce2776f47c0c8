/**
 * SageMaker's control plane for models, endpoint configs and endpoints: the resources, their
 * status transitions on the emulator's clock, and blue/green deployments with auto-rollback on
 * CloudWatch alarms. Requests reach it already validated against the service model.
 */
import { createHash } from 'node:crypto';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import { captureSettings, type CaptureSettings } from './capture.js';
import type { Clock } from './clock.js';
import { ApiError, validation } from './errors.js';
import { ModelLoadError, parseS3Url, type ModelServer, type ModelServerPool } from './model-servers.js';

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

type Obj = Record<string, any>;

interface ModelRec {
  name: string;
  arn: string;
  created: Date;
  input: Obj;
}

interface ConfigRec {
  name: string;
  arn: string;
  created: Date;
  input: Obj;
}

interface StatusEntry {
  Status: string;
  StatusMessage?: string;
  StartTime: Date;
}

/** One variant of a fleet, with the model it serves (snapshotted when the fleet was made). */
export interface VariantRt {
  name: string;
  shadow: boolean;
  modelName: string;
  modelDataUrl: string;
  image: string;
  instanceType?: string;
  weight: number;
  desiredWeight: number;
  instanceCount: number;
  desiredInstanceCount: number;
  server?: ModelServer;
  status: StatusEntry[];
}

/** The instances serving one endpoint config. */
export interface Fleet {
  configName: string;
  variants: VariantRt[];
  shadows: VariantRt[];
  capture?: CaptureSettings;
}

export interface Pending {
  fleet: Fleet;
  /** Share of requests (0..1) the new fleet receives. */
  traffic: number;
  startTime: Date;
  phase: string;
}

export interface EndpointRec {
  name: string;
  arn: string;
  created: Date;
  lastModified: Date;
  status: string;
  failureReason?: string;
  active?: Fleet;
  pending?: Pending;
  lastDeploymentConfig?: Obj;
  task?: AbortController;
}

export interface ControlPlaneDeps {
  clock: Clock;
  pool: ModelServerPool;
  s3: S3Client;
  cloudWatch: CloudWatchClient;
  region: string;
  account: string;
  durations: Durations;
  log: (line: string) => void;
}

const toEpoch = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

class Aborted extends Error {}

function healthCheckFailure(variant: string): string {
  return `The primary container for production variant ${variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`;
}

export class ControlPlane {
  readonly models = new Map<string, ModelRec>();
  readonly configs = new Map<string, ConfigRec>();
  readonly endpoints = new Map<string, EndpointRec>();
  readonly tags = new Map<string, Array<{ Key: string; Value?: string }>>();
  /** Model names or ModelDataUrls whose containers fail the ping health check (admin knob). */
  readonly unhealthy = new Set<string>();
  /** Why scoring servers could not start (their log tails), newest last, for the admin API. */
  readonly modelErrors: Array<{ modelDataUrl: string; time: string; error: string }> = [];

  constructor(private readonly d: ControlPlaneDeps) {}

  private arn(kind: string, name: string) {
    return `arn:aws:sagemaker:${this.d.region}:${this.d.account}:${kind}/${name.toLowerCase()}`;
  }

  private getEndpoint(name: string): EndpointRec {
    const ep = this.endpoints.get(name);
    if (!ep) throw validation(`Could not find endpoint "${this.arn('endpoint', name)}".`);
    return ep;
  }

  private getConfig(name: string): ConfigRec {
    const c = this.configs.get(name);
    if (!c) throw validation(`Could not find endpoint configuration "${this.arn('endpoint-config', name)}".`);
    return c;
  }

  private getModel(name: string): ModelRec {
    const m = this.models.get(name);
    if (!m) throw validation(`Could not find model "${this.arn('model', name)}".`);
    return m;
  }

  /** Dispatches one validated control-plane operation. */
  async call(op: string, input: Obj): Promise<Obj> {
    switch (op) {
      case 'CreateModel':
        return this.createModel(input);
      case 'DescribeModel':
        return this.describeModel(input);
      case 'DeleteModel':
        return this.deleteModel(input);
      case 'CreateEndpointConfig':
        return this.createEndpointConfig(input);
      case 'DescribeEndpointConfig':
        return this.describeEndpointConfig(input);
      case 'DeleteEndpointConfig':
        return this.deleteEndpointConfig(input);
      case 'CreateEndpoint':
        return this.createEndpoint(input);
      case 'DescribeEndpoint':
        return this.describeEndpoint(input);
      case 'UpdateEndpoint':
        return this.updateEndpoint(input);
      case 'UpdateEndpointWeightsAndCapacities':
        return this.updateWeights(input);
      case 'DeleteEndpoint':
        return this.deleteEndpoint(input);
      case 'ListEndpoints':
        return this.listEndpoints(input);
      case 'ListEndpointConfigs':
        return this.listEndpointConfigs(input);
      case 'ListModels':
        return this.listModels(input);
      case 'AddTags':
        return this.addTags(input);
      case 'ListTags':
        return this.listTags(input);
      case 'DeleteTags':
        return this.deleteTags(input);
      default:
        throw new ApiError(400, 'UnknownOperationException', `The emulator does not implement ${op}.`);
    }
  }

  // ---- models -------------------------------------------------------------------------------

  private async createModel(input: Obj): Promise<Obj> {
    const name: string = input.ModelName;
    const arn = this.arn('model', name);
    if (this.models.has(name)) throw validation(`Cannot create already existing model "${arn}".`);
    const containers: Obj[] = input.PrimaryContainer ? [input.PrimaryContainer] : (input.Containers ?? []);
    if (containers.length === 0) {
      throw validation('Either PrimaryContainer or Containers must be specified.');
    }
    for (const c of containers) {
      if (!c.ModelDataUrl) continue;
      // SageMaker checks at CreateModel time that the model data can be read.
      let bucket: string, key: string;
      try {
        ({ bucket, key } = parseS3Url(c.ModelDataUrl));
      } catch {
        throw validation(`Could not find model data at ${c.ModelDataUrl}.`);
      }
      const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
      try {
        await this.d.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      } catch {
        throw validation(`Could not find model data at ${c.ModelDataUrl}.`);
      }
    }
    const { Tags, ...rest } = input;
    this.models.set(name, { name, arn, created: new Date(), input: rest });
    this.tags.set(arn, [...(Tags ?? [])]);
    return { ModelArn: arn };
  }

  private describeModel(input: Obj): Obj {
    const m = this.getModel(input.ModelName);
    return { ...m.input, ModelArn: m.arn, CreationTime: toEpoch(m.created) };
  }

  private deleteModel(input: Obj): Obj {
    const m = this.getModel(input.ModelName);
    this.models.delete(m.name);
    this.tags.delete(m.arn);
    return {};
  }

  private listModels(input: Obj): Obj {
    const items = [...this.models.values()].map((m) => ({
      name: m.name,
      created: m.created,
      out: { ModelName: m.name, ModelArn: m.arn, CreationTime: toEpoch(m.created) },
    }));
    const page = paginate(items, input, 'NameContains');
    return { Models: page.items, ...(page.next ? { NextToken: page.next } : {}) };
  }

  // ---- endpoint configs ---------------------------------------------------------------------

  private createEndpointConfig(input: Obj): Obj {
    const name: string = input.EndpointConfigName;
    const arn = this.arn('endpoint-config', name);
    if (this.configs.has(name)) throw validation(`Cannot create already existing endpoint configuration "${arn}".`);
    const prod: Obj[] = input.ProductionVariants;
    const shadows: Obj[] = input.ShadowProductionVariants ?? [];
    const names = [...prod, ...shadows].map((v) => v.VariantName);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw validation(`Variant name "${dup}" is used more than once in endpoint configuration "${name}".`);
    if (shadows.length > 0 && (prod.length !== 1 || shadows.length !== 1)) {
      throw validation('An endpoint configuration with shadow variants must have exactly one production variant and one shadow variant.');
    }
    for (const v of [...prod, ...shadows]) {
      if (!v.ModelName) throw validation(`ModelName is required for production variant ${v.VariantName}.`);
      this.getModel(v.ModelName);
      if (!v.ServerlessConfig && (!v.InstanceType || v.InitialInstanceCount === undefined)) {
        throw validation(
          `Either ServerlessConfig or InstanceType and InitialInstanceCount must be specified for production variant ${v.VariantName}.`,
        );
      }
    }
    const { Tags, ...rest } = input;
    this.configs.set(name, { name, arn, created: new Date(), input: rest });
    this.tags.set(arn, [...(Tags ?? [])]);
    return { EndpointConfigArn: arn };
  }

  private describeEndpointConfig(input: Obj): Obj {
    const c = this.getConfig(input.EndpointConfigName);
    const withDefaults = (v: Obj) => ({ InitialVariantWeight: 1, ...v });
    return {
      ...c.input,
      ProductionVariants: c.input.ProductionVariants.map(withDefaults),
      ...(c.input.ShadowProductionVariants ? { ShadowProductionVariants: c.input.ShadowProductionVariants.map(withDefaults) } : {}),
      ...(c.input.DataCaptureConfig ? { DataCaptureConfig: { EnableCapture: true, ...c.input.DataCaptureConfig } } : {}),
      EndpointConfigArn: c.arn,
      CreationTime: toEpoch(c.created),
    };
  }

  private deleteEndpointConfig(input: Obj): Obj {
    const c = this.getConfig(input.EndpointConfigName);
    // SageMaker lets a config in use be deleted: the endpoint keeps what it deployed.
    this.configs.delete(c.name);
    this.tags.delete(c.arn);
    return {};
  }

  private listEndpointConfigs(input: Obj): Obj {
    const items = [...this.configs.values()]
      .filter((c) => inTimeRange(c.created, input.CreationTimeAfter, input.CreationTimeBefore))
      .map((c) => ({
        name: c.name,
        created: c.created,
        out: { EndpointConfigName: c.name, EndpointConfigArn: c.arn, CreationTime: toEpoch(c.created) },
      }));
    const page = paginate(items, input, 'NameContains');
    return { EndpointConfigs: page.items, ...(page.next ? { NextToken: page.next } : {}) };
  }

  /** Builds a fleet from a config as it is now (models resolved to their data URLs). */
  private fleetFor(config: ConfigRec, retainFrom?: Fleet, exclude: string[] = []): Fleet {
    const mk = (v: Obj, shadow: boolean): VariantRt => {
      const model = this.getModel(v.ModelName);
      const container = model.input.PrimaryContainer ?? model.input.Containers?.[0] ?? {};
      const old = retainFrom && [...retainFrom.variants, ...retainFrom.shadows].find((o) => o.name === v.VariantName);
      const weight = old && !exclude.includes('DesiredWeight') ? old.weight : (v.InitialVariantWeight ?? 1);
      const count = old && !exclude.includes('DesiredInstanceCount') ? old.instanceCount : (v.InitialInstanceCount ?? 1);
      return {
        name: v.VariantName,
        shadow,
        modelName: v.ModelName,
        modelDataUrl: container.ModelDataUrl ?? '',
        image: container.Image ?? '',
        instanceType: v.InstanceType,
        weight,
        desiredWeight: weight,
        instanceCount: count,
        desiredInstanceCount: count,
        status: [],
      };
    };
    return {
      configName: config.name,
      variants: config.input.ProductionVariants.map((v: Obj) => mk(v, false)),
      shadows: (config.input.ShadowProductionVariants ?? []).map((v: Obj) => mk(v, true)),
      capture: captureSettings(config.input.DataCaptureConfig),
    };
  }

  // ---- endpoints ----------------------------------------------------------------------------

  private createEndpoint(input: Obj): Obj {
    const name: string = input.EndpointName;
    const arn = this.arn('endpoint', name);
    if (this.endpoints.has(name)) throw validation(`Cannot create already existing endpoint "${arn}".`);
    const config = this.getConfig(input.EndpointConfigName);
    const fleet = this.fleetFor(config);
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
    this.endpoints.set(name, ep);
    this.tags.set(arn, [...(input.Tags ?? [])]);
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

  private describeEndpoint(input: Obj): Obj {
    const ep = this.getEndpoint(input.EndpointName);
    const out: Obj = {
      EndpointName: ep.name,
      EndpointArn: ep.arn,
      EndpointStatus: ep.status,
      CreationTime: toEpoch(ep.created),
      LastModifiedTime: toEpoch(ep.lastModified),
    };
    const blueShare = ep.pending ? 1 - ep.pending.traffic : 1;
    if (ep.active) {
      out.EndpointConfigName = ep.active.configName;
      out.ProductionVariants = ep.active.variants.map((v) => this.variantSummary(v, blueShare));
      if (ep.active.shadows.length > 0) out.ShadowProductionVariants = ep.active.shadows.map((v) => this.variantSummary(v, 1));
      if (ep.active.capture) out.DataCaptureConfig = captureSummary(ep.active.capture);
    } else if (ep.pending) {
      out.EndpointConfigName = ep.pending.fleet.configName;
      if (ep.pending.fleet.capture) out.DataCaptureConfig = captureSummary(ep.pending.fleet.capture);
    }
    if (ep.failureReason) out.FailureReason = ep.failureReason;
    if (ep.lastDeploymentConfig) out.LastDeploymentConfig = ep.lastDeploymentConfig;
    if (ep.pending) {
      const p = ep.pending;
      out.PendingDeploymentSummary = {
        EndpointConfigName: p.fleet.configName,
        StartTime: toEpoch(p.startTime),
        ProductionVariants: p.fleet.variants.map((v) => ({
          ...this.variantSummary(v, p.traffic),
          ...(v.instanceType ? { InstanceType: v.instanceType } : {}),
        })),
        ...(p.fleet.shadows.length > 0
          ? {
              ShadowProductionVariants: p.fleet.shadows.map((v) => ({
                ...this.variantSummary(v, p.traffic),
                ...(v.instanceType ? { InstanceType: v.instanceType } : {}),
              })),
            }
          : {}),
      };
    }
    return out;
  }

  /** A ProductionVariantSummary; `share` scales CurrentWeight by the fleet's share of traffic. */
  private variantSummary(v: VariantRt, share: number): Obj {
    const digest = createHash('sha256').update(v.image).digest('hex');
    return {
      VariantName: v.name,
      DeployedImages: v.image
        ? [{ SpecifiedImage: v.image, ResolvedImage: `${v.image.split(':')[0]}@sha256:${digest}`, ResolutionTime: toEpoch(new Date()) }]
        : [],
      CurrentWeight: v.weight * share,
      DesiredWeight: v.desiredWeight,
      CurrentInstanceCount: v.instanceCount,
      DesiredInstanceCount: v.desiredInstanceCount,
      ...(v.status.length > 0 ? { VariantStatus: v.status.map((s) => ({ ...s, StartTime: toEpoch(s.StartTime) })) } : {}),
    };
  }

  private updateEndpoint(input: Obj): Obj {
    const bg = input.DeploymentConfig?.BlueGreenUpdatePolicy;
    if (bg?.MaximumExecutionTimeoutInSeconds !== undefined) {
      // SageMaker documents that the timeout must exceed the waits it has to contain.
      const waits = (bg.TrafficRoutingConfiguration?.WaitIntervalInSeconds ?? 0) + (bg.TerminationWaitInSeconds ?? 0);
      if (bg.MaximumExecutionTimeoutInSeconds <= waits) {
        throw validation(
          `MaximumExecutionTimeoutInSeconds (${bg.MaximumExecutionTimeoutInSeconds}) must be larger than the sum of WaitIntervalInSeconds and TerminationWaitInSeconds (${waits}).`,
        );
      }
    }
    const ep = this.getEndpoint(input.EndpointName);
    if (ep.status === 'Failed' || !ep.active) {
      throw validation(`Cannot update endpoint "${ep.arn}" because it is in status ${ep.status}.`);
    }
    // UpdateRollbackFailed is left by a new UpdateEndpoint, as SageMaker's docs prescribe.
    if (ep.status !== 'InService' && ep.status !== 'UpdateRollbackFailed') {
      throw validation(`Cannot update in-progress endpoint "${ep.arn}".`);
    }
    const config = this.getConfig(input.EndpointConfigName);
    const deployment: Obj | undefined = input.RetainDeploymentConfig ? ep.lastDeploymentConfig : input.DeploymentConfig;
    if (deployment?.RollingUpdatePolicy) {
      throw validation('The emulator does not implement RollingUpdatePolicy; use BlueGreenUpdatePolicy.');
    }
    const fleet = this.fleetFor(
      config,
      input.RetainAllVariantProperties ? ep.active : undefined,
      (input.ExcludeRetainedVariantProperties ?? []).map((p: Obj) => p.VariantPropertyType),
    );
    const steps = trafficSteps(deployment?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration, fleet);
    const policy = deployment?.BlueGreenUpdatePolicy ?? {};
    const wait: number = policy.TrafficRoutingConfiguration?.WaitIntervalInSeconds ?? 0;
    const terminationWait: number = policy.TerminationWaitInSeconds ?? 0;
    const maxTime: number | undefined = policy.MaximumExecutionTimeoutInSeconds;
    const alarms: string[] = (deployment?.AutoRollbackConfiguration?.Alarms ?? []).map((a: Obj) => a.AlarmName);
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
        if (maxTime !== undefined && (this.d.clock.now() - startEmu) / 1000 > maxTime) {
          throw new RollbackReason(`Endpoint update exceeded MaximumExecutionTimeoutInSeconds (${maxTime} s) and was rolled back.`);
        }
      };
      try {
        try {
          await Promise.all([this.d.clock.sleep(this.d.durations.provisionFleet, signal), this.provision(fleet, signal)]);
        } catch (err) {
          if (signal.aborted) throw err;
          throw new RollbackReason(reasonOf(err));
        }
        for (const [i, share] of steps.entries()) {
          checkTimeout();
          pending.phase = `ActivatingTraffic ${i + 1}/${steps.length}`;
          setStatus(fleet, 'ActivatingTraffic', `Shifting ${Math.round(share * 100)}% of traffic to the new fleet.`);
          await this.watch(alarms, this.d.durations.activateTraffic, signal, checkTimeout);
          pending.traffic = share;
          pending.phase = `Baking ${i + 1}/${steps.length}`;
          setStatus(fleet, 'Baking', `${Math.round(share * 100)}% of traffic on the new fleet; baking for ${wait} s.`);
          await this.watch(alarms, wait, signal, checkTimeout);
        }
      } catch (err) {
        if (signal.aborted || !(err instanceof RollbackReason)) throw err;
        await this.rollBack(ep, old, fleet, err.message, signal);
        return;
      }
      // Cut over: the new fleet serves everything; the old one waits TerminationWait, then goes.
      setStatus(fleet);
      pending.phase = 'TerminationWait';
      setStatus(old, 'Deleting', `Terminating the old fleet after ${terminationWait} s.`);
      await this.d.clock.sleep(terminationWait, signal);
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

  private async rollBack(ep: EndpointRec, old: Fleet, failed: Fleet, reason: string, signal: AbortSignal): Promise<void> {
    this.d.log(`${ep.name}: rolling back: ${reason}`);
    if (ep.pending) ep.pending.traffic = 0;
    setStatus(failed, 'Deleting', 'Rolling back: terminating the new fleet.');
    this.transition(ep, 'RollingBack', reason);
    await this.d.clock.sleep(this.d.durations.rollback, signal);
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

  private updateWeights(input: Obj): Obj {
    const ep = this.getEndpoint(input.EndpointName);
    if (ep.status !== 'InService' || !ep.active) throw validation(`Cannot update in-progress endpoint "${ep.arn}".`);
    const fleet = ep.active;
    const all = [...fleet.variants, ...fleet.shadows];
    const missing = input.DesiredWeightsAndCapacities.map((d: Obj) => d.VariantName).filter((n: string) => !all.some((v) => v.name === n));
    if (missing.length > 0) {
      throw validation(`The variant name(s) [${missing.join(', ')}] is/are not present in endpoint "${ep.name}".`);
    }
    for (const d of input.DesiredWeightsAndCapacities as Obj[]) {
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

  private deleteEndpoint(input: Obj): Obj {
    const ep = this.getEndpoint(input.EndpointName);
    if (ep.status === 'Deleting') return {};
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
      if (this.endpoints.get(ep.name) === ep) this.endpoints.delete(ep.name);
      this.tags.delete(ep.arn);
      for (const f of fleets) await this.release(f);
    })();
    return {};
  }

  private listEndpoints(input: Obj): Obj {
    const items = [...this.endpoints.values()]
      .filter((e) => inTimeRange(e.created, input.CreationTimeAfter, input.CreationTimeBefore))
      .filter((e) => inTimeRange(e.lastModified, input.LastModifiedTimeAfter, input.LastModifiedTimeBefore))
      .filter((e) => !input.StatusEquals || e.status === input.StatusEquals)
      .map((e) => ({
        name: e.name,
        created: e.created,
        status: e.status,
        out: {
          EndpointName: e.name,
          EndpointArn: e.arn,
          CreationTime: toEpoch(e.created),
          LastModifiedTime: toEpoch(e.lastModified),
          EndpointStatus: e.status,
        },
      }));
    const page = paginate(items, input, 'NameContains');
    return { Endpoints: page.items, ...(page.next ? { NextToken: page.next } : {}) };
  }

  // ---- tags ---------------------------------------------------------------------------------

  private tagsOf(arn: string) {
    const t = this.tags.get(arn);
    if (!t) throw validation(`Resource ${arn} does not exist.`);
    return t;
  }

  private addTags(input: Obj): Obj {
    const tags = this.tagsOf(input.ResourceArn);
    for (const t of input.Tags as Array<{ Key: string; Value?: string }>) {
      const i = tags.findIndex((x) => x.Key === t.Key);
      if (i >= 0) tags[i] = t;
      else tags.push(t);
    }
    if (tags.length > 50) throw validation('You can have a maximum of 50 tags per resource.');
    return { Tags: input.Tags };
  }

  private listTags(input: Obj): Obj {
    const tags = this.tagsOf(input.ResourceArn);
    const start = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64').toString()) : 0;
    const max = input.MaxResults ?? 50;
    const page = tags.slice(start, start + max);
    return { Tags: page, ...(start + max < tags.length ? { NextToken: Buffer.from(String(start + max)).toString('base64') } : {}) };
  }

  private deleteTags(input: Obj): Obj {
    const tags = this.tagsOf(input.ResourceArn);
    const keep = tags.filter((t) => !input.TagKeys.includes(t.Key));
    tags.splice(0, tags.length, ...keep);
    return {};
  }

  // ---- fleets and tasks ---------------------------------------------------------------------

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
          v.server = await this.d.pool.acquire(v.modelDataUrl);
        } catch (err) {
          this.d.log(`model ${v.modelName} (${v.modelDataUrl}) could not be served: ${(err as Error).message}`);
          this.modelErrors.push({ modelDataUrl: v.modelDataUrl, time: new Date().toISOString(), error: (err as Error).message });
          if (this.modelErrors.length > 20) this.modelErrors.shift();
          const msg = (err as Error).message;
          throw new ModelLoadError(/^Failed to |^Invalid S3|^No MLmodel/.test(msg) ? msg : healthCheckFailure(v.name));
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || signal.aborted) {
      await this.release(fleet);
      throw failed ? failed.reason : signal.reason;
    }
  }

  private async release(fleet: Fleet): Promise<void> {
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

  /** Cancels every background task and releases every fleet (stop and reset). */
  async shutdown(): Promise<void> {
    const fleets: Fleet[] = [];
    for (const ep of this.endpoints.values()) {
      ep.task?.abort(new Aborted('shutdown'));
      if (ep.active) fleets.push(ep.active);
      if (ep.pending) fleets.push(ep.pending.fleet);
    }
    this.endpoints.clear();
    this.models.clear();
    this.configs.clear();
    this.tags.clear();
    this.unhealthy.clear();
    for (const f of fleets) await this.release(f);
  }

  /** Internal view for the admin API. */
  state(): Obj {
    const fleet = (f: Fleet) => ({
      configName: f.configName,
      variants: f.variants.map((v) => ({
        name: v.name,
        model: v.modelName,
        modelDataUrl: v.modelDataUrl,
        weight: v.weight,
        serverUrl: v.server?.url,
      })),
      shadows: f.shadows.map((v) => ({
        name: v.name,
        model: v.modelName,
        modelDataUrl: v.modelDataUrl,
        weight: v.weight,
        serverUrl: v.server?.url,
      })),
    });
    return {
      endpoints: [...this.endpoints.values()].map((e) => ({
        name: e.name,
        status: e.status,
        failureReason: e.failureReason,
        active: e.active && fleet(e.active),
        pending: e.pending && { ...fleet(e.pending.fleet), traffic: e.pending.traffic, phase: e.pending.phase },
      })),
      models: [...this.models.keys()],
      endpointConfigs: [...this.configs.keys()],
      unhealthy: [...this.unhealthy],
    };
  }
}

class RollbackReason extends Error {}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function setStatus(fleet: Fleet, status?: string, message?: string): void {
  for (const v of [...fleet.variants, ...fleet.shadows]) {
    v.status = status ? [{ Status: status, ...(message ? { StatusMessage: message } : {}), StartTime: new Date() }] : [];
  }
}

function captureSummary(c: CaptureSettings): Obj {
  return {
    EnableCapture: c.enabled,
    CaptureStatus: c.enabled ? 'Started' : 'Stopped',
    CurrentSamplingPercentage: c.samplingPercentage,
    DestinationS3Uri: c.destinationS3Uri,
    ...(c.kmsKeyId ? { KmsKeyId: c.kmsKeyId } : {}),
  };
}

/**
 * The traffic shares of a blue/green deployment's steps: ALL_AT_ONCE [1], CANARY [c, 1],
 * LINEAR [s, 2s, ..., 1]. Sizes are checked as SageMaker documents them (canary at most 50%,
 * linear steps 10-50% of the new fleet's capacity).
 */
export function trafficSteps(routing: Obj | undefined, fleet: Fleet): number[] {
  if (!routing || routing.Type === 'ALL_AT_ONCE') return [1];
  const instances = fleet.variants.reduce((n, v) => n + v.instanceCount, 0) || 1;
  const share = (size: Obj) => (size.Type === 'INSTANCE_COUNT' ? size.Value / instances : size.Value / 100);
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

function inTimeRange(t: Date, after?: number | string, before?: number | string): boolean {
  const ms = (x: number | string) => (typeof x === 'number' ? x * 1000 : Date.parse(x));
  if (after !== undefined && !(t.getTime() > ms(after))) return false;
  if (before !== undefined && !(t.getTime() < ms(before))) return false;
  return true;
}

/** SortBy/SortOrder/NameContains/MaxResults/NextToken as SageMaker's List* calls do them. */
function paginate(items: Array<{ name: string; created: Date; status?: string; out: Obj }>, input: Obj, nameKey: string) {
  let list = items;
  if (input[nameKey]) list = list.filter((i) => i.name.toLowerCase().includes(String(input[nameKey]).toLowerCase()));
  const by = input.SortBy ?? 'CreationTime';
  const dir = (input.SortOrder ?? 'Descending') === 'Ascending' ? 1 : -1;
  list = [...list].sort((a, b) => {
    const ka = by === 'Name' ? a.name : by === 'Status' ? (a.status ?? '') : a.created.getTime();
    const kb = by === 'Name' ? b.name : by === 'Status' ? (b.status ?? '') : b.created.getTime();
    return (ka < kb ? -1 : ka > kb ? 1 : 0) * dir;
  });
  const start = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64').toString()) || 0 : 0;
  const max = input.MaxResults ?? 10;
  const page = list.slice(start, start + max).map((i) => i.out);
  return { items: page, next: start + max < list.length ? Buffer.from(String(start + max)).toString('base64') : undefined };
}
