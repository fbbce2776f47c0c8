/**
 * SageMaker's control plane: one validated operation in, its response out. The resources
 * (models, endpoint configs, endpoints, tags: resources.ts) and the deployment engine (status
 * transitions on the emulator's clock, blue/green updates with auto-rollback on CloudWatch alarms:
 * deployments.ts) are separate rooms; this file dispatches to them and holds the admin view.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from './clock.js';
import { Aborted, Deployments, type Durations } from './deployments.js';
import { ApiError } from './errors.js';
import type { ModelServerPool } from './model-servers.js';
import type { ApiOutput, Fleet } from './records.js';
import { Resources } from './resources.js';

export { DEFAULT_DURATIONS, trafficSteps, type Durations } from './deployments.js';
export type { EndpointRec, Fleet, VariantRt } from './records.js';

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

export class ControlPlane {
  private readonly resources: Resources;
  private readonly deployments: Deployments;

  constructor(d: ControlPlaneDeps) {
    this.resources = new Resources(d);
    this.deployments = new Deployments(this.resources, d);
  }

  get endpoints() {
    return this.resources.endpoints;
  }

  /** Model names or ModelDataUrls whose containers fail the ping health check (admin knob). */
  get unhealthy(): Set<string> {
    return this.deployments.unhealthy;
  }

  /** Why scoring servers could not start, newest last, for the admin API. */
  get modelErrors() {
    return this.deployments.modelErrors;
  }

  /** Dispatches one validated control-plane operation. */
  async call(op: string, input: Record<string, unknown>): Promise<ApiOutput> {
    switch (op) {
      case 'CreateModel':
        return this.resources.createModel(input as never);
      case 'DescribeModel':
        return this.resources.describeModel(input as never);
      case 'DeleteModel':
        return this.resources.deleteModel(input as never);
      case 'CreateEndpointConfig':
        return this.resources.createEndpointConfig(input as never);
      case 'DescribeEndpointConfig':
        return this.resources.describeEndpointConfig(input as never);
      case 'DeleteEndpointConfig':
        return this.resources.deleteEndpointConfig(input as never);
      case 'CreateEndpoint':
        return this.deployments.createEndpoint(input as never);
      case 'DescribeEndpoint':
        return this.resources.describeEndpoint(input as never);
      case 'UpdateEndpoint':
        return this.deployments.updateEndpoint(input as never);
      case 'UpdateEndpointWeightsAndCapacities':
        return this.deployments.updateWeights(input as never);
      case 'DeleteEndpoint':
        return this.deployments.deleteEndpoint(input as never);
      case 'ListEndpoints':
        return this.resources.listEndpoints(input);
      case 'ListEndpointConfigs':
        return this.resources.listEndpointConfigs(input);
      case 'ListModels':
        return this.resources.listModels(input);
      case 'AddTags':
        return this.resources.addTags(input as never);
      case 'ListTags':
        return this.resources.listTags(input as never);
      case 'DeleteTags':
        return this.resources.deleteTags(input as never);
      default:
        throw new ApiError(400, 'UnknownOperationException', `The emulator does not implement ${op}.`);
    }
  }

  /** Cancels every background task and releases every fleet (stop and reset). */
  async shutdown(): Promise<void> {
    const fleets: Fleet[] = [];
    for (const ep of this.resources.endpoints.values()) {
      ep.task?.abort(new Aborted('shutdown'));
      if (ep.active) fleets.push(ep.active);
      if (ep.pending) fleets.push(ep.pending.fleet);
    }
    this.resources.endpoints.clear();
    this.resources.models.clear();
    this.resources.configs.clear();
    this.resources.tags.clear();
    this.deployments.unhealthy.clear();
    for (const f of fleets) await this.deployments.release(f);
  }

  /** Internal view for the admin API. */
  state(): ApiOutput {
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
      endpoints: [...this.resources.endpoints.values()].map((e) => ({
        name: e.name,
        status: e.status,
        failureReason: e.failureReason,
        active: e.active && fleet(e.active),
        pending: e.pending && { ...fleet(e.pending.fleet), traffic: e.pending.traffic, phase: e.pending.phase },
      })),
      models: [...this.resources.models.values()].map((m) => m.name),
      endpointConfigs: [...this.resources.configs.values()].map((c) => c.name),
      unhealthy: [...this.deployments.unhealthy],
    };
  }
}
