/**
 * The SageMaker calls promote and rollback make, and nothing else: a narrow port that tests can
 * replace, implemented with `client.send(new XCommand(input))`. Inputs use SageMaker's own JSON
 * shapes so `--dry-run` can print exactly what would be sent. "Already exists" on a create is
 * success (every stage may be repeated); other failures are ExternalError (exit 3).
 */
import { ExternalError } from '../core/errors.js';
import { awsErrorName, awsFailure } from './aws.js';
import type { EndpointStatus } from '../core/deployment.js';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { Tag, EndpointConfigSpec, ModelSpec, DeploymentConfigSpec, UpdateEndpointSpec, SageMakerPort } from '../core/ports.js';
export type {
  Tag,
  ProductionVariantSpec,
  EndpointConfigSpec,
  ModelSpec,
  DeploymentConfigSpec,
  UpdateEndpointSpec,
  EndpointConfigView,
  SageMakerPort,
} from '../core/ports.js';

const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const alreadyExists = (e: unknown) => /already exist|Cannot create already existing/i.test(errMsg(e));
const notFound = (e: unknown) =>
  /ValidationException|ResourceNotFound/.test(awsErrorName(e)) && /(could not find|not found|does not exist)/i.test(errMsg(e));

function smError(op: string, e: unknown) {
  return awsFailure('SageMaker', op, e, {
    hint: "Check AWS credentials, the region, the deploy role's permissions and the names in deploy config.",
  });
}

/** The port over a real SageMaker client. */
export async function sageMakerPort(client: SageMakerClient): Promise<SageMakerPort> {
  const sm = await import('@aws-sdk/client-sagemaker');
  const call = async <T>(op: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw smError(op, e);
    }
  };
  return {
    async createModel(spec) {
      try {
        await client.send(new sm.CreateModelCommand(spec));
      } catch (e) {
        if (!alreadyExists(e)) throw smError('CreateModel', e);
      }
    },
    async describeModel(name) {
      try {
        const out = await client.send(new sm.DescribeModelCommand({ ModelName: name }));
        return { name: out.ModelName ?? name, modelDataUrl: out.PrimaryContainer?.ModelDataUrl };
      } catch (e) {
        if (notFound(e)) return undefined;
        throw smError('DescribeModel', e);
      }
    },
    async createEndpointConfig(spec) {
      try {
        await client.send(new sm.CreateEndpointConfigCommand(spec as never));
      } catch (e) {
        if (!alreadyExists(e)) throw smError('CreateEndpointConfig', e);
      }
    },
    async describeEndpointConfig(name) {
      try {
        const out = await client.send(new sm.DescribeEndpointConfigCommand({ EndpointConfigName: name }));
        return {
          name,
          productionVariants: (out.ProductionVariants ?? []).map((v) => ({
            name: v.VariantName!,
            model: v.ModelName!,
            weight: v.InitialVariantWeight,
          })),
          shadowVariants: (out.ShadowProductionVariants ?? []).map((v) => ({ name: v.VariantName!, model: v.ModelName! })),
        };
      } catch (e) {
        if (notFound(e)) return undefined;
        throw smError('DescribeEndpointConfig', e);
      }
    },
    async createEndpoint(spec) {
      try {
        await client.send(new sm.CreateEndpointCommand(spec));
      } catch (e) {
        if (!alreadyExists(e)) throw smError('CreateEndpoint', e);
      }
    },
    async describeEndpoint(name) {
      try {
        const out = await client.send(new sm.DescribeEndpointCommand({ EndpointName: name }));
        return {
          name,
          arn: out.EndpointArn ?? '',
          status: out.EndpointStatus ?? 'OutOfService',
          configName: out.EndpointConfigName ?? '',
          failureReason: out.FailureReason,
          variants: (out.ProductionVariants ?? []).map((v) => ({
            name: v.VariantName!,
            weight: v.CurrentWeight,
            instances: v.CurrentInstanceCount,
          })),
          shadowVariants: (out.ShadowProductionVariants ?? []).map((v) => ({ name: v.VariantName!, weight: v.CurrentWeight })),
        };
      } catch (e) {
        if (notFound(e)) return undefined;
        throw smError('DescribeEndpoint', e);
      }
    },
    updateEndpoint: (spec) => call('UpdateEndpoint', async () => void (await client.send(new sm.UpdateEndpointCommand(spec as never)))),
    updateEndpointWeightsAndCapacities: (spec) =>
      call(
        'UpdateEndpointWeightsAndCapacities',
        async () => void (await client.send(new sm.UpdateEndpointWeightsAndCapacitiesCommand(spec))),
      ),
    addTags: (arn, tags) => call('AddTags', async () => void (await client.send(new sm.AddTagsCommand({ ResourceArn: arn, Tags: tags })))),
    listTags: (arn) =>
      call('ListTags', async () => {
        const out = await client.send(new sm.ListTagsCommand({ ResourceArn: arn }));
        return (out.Tags ?? []).map((t) => ({ Key: t.Key!, Value: t.Value ?? '' }));
      }),
    async deleteEndpointConfig(name) {
      try {
        await client.send(new sm.DeleteEndpointConfigCommand({ EndpointConfigName: name }));
      } catch (e) {
        if (!notFound(e)) throw smError('DeleteEndpointConfig', e);
      }
    },
    async deleteModel(name) {
      try {
        await client.send(new sm.DeleteModelCommand({ ModelName: name }));
      } catch (e) {
        if (!notFound(e)) throw smError('DeleteModel', e);
      }
    },
    async deleteEndpoint(name) {
      try {
        await client.send(new sm.DeleteEndpointCommand({ EndpointName: name }));
      } catch (e) {
        if (!notFound(e)) throw smError('DeleteEndpoint', e);
      }
    },
  };
}

/**
 * A behavioural in-memory SageMaker for unit tests and `--dry-run`: creates are idempotent,
 * an endpoint is Creating/Updating for `busyPolls` DescribeEndpoint calls before it is InService,
 * UpdateEndpoint is refused unless InService, and a blue/green update whose alarms are in ALARM
 * when it finishes rolls back to the old config (RollingBack, then InService with a
 * FailureReason), as SageMaker's AutoRollbackConfiguration does.
 */
export class MemorySageMaker implements SageMakerPort {
  readonly calls: { op: string; input: unknown }[] = [];
  readonly models = new Map<string, ModelSpec>();
  readonly configs = new Map<string, EndpointConfigSpec>();
  readonly endpoints = new Map<
    string,
    {
      arn: string;
      status: EndpointStatus;
      configName: string;
      pending?: { config: string; deployment?: DeploymentConfigSpec; polls: number; rollingBack?: boolean };
      failureReason?: string;
      weights: Map<string, number>;
      tags: Tag[];
    }
  >();
  constructor(readonly opts: { busyPolls?: number; alarmState?: (name: string) => string | Promise<string>; failUpdates?: boolean } = {}) {}

  private rec(op: string, input: unknown) {
    this.calls.push({ op, input });
  }
  private weightsOf(config: string) {
    return new Map((this.configs.get(config)?.ProductionVariants ?? []).map((v) => [v.VariantName, v.InitialVariantWeight]));
  }

  async createModel(spec: ModelSpec) {
    this.rec('CreateModel', spec);
    if (!this.models.has(spec.ModelName)) this.models.set(spec.ModelName, spec);
  }
  async describeModel(name: string) {
    const m = this.models.get(name);
    return m && { name, modelDataUrl: m.PrimaryContainer.ModelDataUrl };
  }
  async createEndpointConfig(spec: EndpointConfigSpec) {
    this.rec('CreateEndpointConfig', spec);
    for (const v of [...spec.ProductionVariants, ...(spec.ShadowProductionVariants ?? [])]) {
      if (!this.models.has(v.ModelName)) throw new ExternalError('SAGEMAKER_ERROR', `Could not find model "${v.ModelName}"`);
    }
    if (!this.configs.has(spec.EndpointConfigName)) this.configs.set(spec.EndpointConfigName, spec);
  }
  async describeEndpointConfig(name: string) {
    const c = this.configs.get(name);
    return (
      c && {
        name,
        productionVariants: c.ProductionVariants.map((v) => ({ name: v.VariantName, model: v.ModelName, weight: v.InitialVariantWeight })),
        shadowVariants: (c.ShadowProductionVariants ?? []).map((v) => ({ name: v.VariantName, model: v.ModelName })),
      }
    );
  }
  async createEndpoint(spec: { EndpointName: string; EndpointConfigName: string; Tags?: Tag[] }) {
    this.rec('CreateEndpoint', spec);
    if (this.endpoints.has(spec.EndpointName)) return;
    if (!this.configs.has(spec.EndpointConfigName))
      throw new ExternalError('SAGEMAKER_ERROR', `Could not find endpoint configuration "${spec.EndpointConfigName}"`);
    this.endpoints.set(spec.EndpointName, {
      arn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${spec.EndpointName.toLowerCase()}`,
      status: 'Creating',
      configName: spec.EndpointConfigName,
      pending: { config: spec.EndpointConfigName, polls: this.opts.busyPolls ?? 1 },
      weights: this.weightsOf(spec.EndpointConfigName),
      tags: spec.Tags ?? [],
    });
  }
  async describeEndpoint(name: string) {
    const e = this.endpoints.get(name);
    if (!e) return undefined;
    if (e.pending) {
      if (e.pending.polls > 0) e.pending.polls--;
      else if (e.pending.rollingBack) {
        e.status = 'InService';
        e.pending = undefined;
      } else {
        const alarms = e.pending.deployment?.AutoRollbackConfiguration?.Alarms ?? [];
        let fired: string | undefined;
        for (const a of alarms) if ((await this.opts.alarmState?.(a.AlarmName)) === 'ALARM') fired = a.AlarmName;
        if (fired || this.opts.failUpdates) {
          e.status = 'RollingBack';
          e.failureReason = fired ? `Rolled back: alarm ${fired} in ALARM` : 'update failed';
          e.pending = { config: e.configName, polls: this.opts.busyPolls ?? 1, rollingBack: true };
        } else {
          e.status = 'InService';
          e.configName = e.pending.config;
          e.weights = this.weightsOf(e.configName);
          e.failureReason = undefined;
          e.pending = undefined;
        }
      }
    }
    const cfg = this.configs.get(e.configName)!;
    return {
      name,
      arn: e.arn,
      status: e.status,
      configName: e.configName,
      failureReason: e.failureReason,
      variants: cfg.ProductionVariants.map((v) => ({
        name: v.VariantName,
        weight: e.weights.get(v.VariantName),
        instances: v.InitialInstanceCount,
      })),
      shadowVariants: (cfg.ShadowProductionVariants ?? []).map((v) => ({ name: v.VariantName, weight: v.InitialVariantWeight })),
    };
  }
  async updateEndpoint(spec: UpdateEndpointSpec) {
    this.rec('UpdateEndpoint', spec);
    const e = this.endpoints.get(spec.EndpointName);
    if (!e) throw new ExternalError('SAGEMAKER_ERROR', `Could not find endpoint "${spec.EndpointName}"`);
    if (e.status !== 'InService') throw new ExternalError('SAGEMAKER_ERROR', `Cannot update in-progress endpoint (${e.status})`);
    if (!this.configs.has(spec.EndpointConfigName))
      throw new ExternalError('SAGEMAKER_ERROR', `Could not find endpoint configuration "${spec.EndpointConfigName}"`);
    e.status = 'Updating';
    e.pending = { config: spec.EndpointConfigName, deployment: spec.DeploymentConfig, polls: this.opts.busyPolls ?? 1 };
  }
  async updateEndpointWeightsAndCapacities(spec: {
    EndpointName: string;
    DesiredWeightsAndCapacities: { VariantName: string; DesiredWeight: number }[];
  }) {
    this.rec('UpdateEndpointWeightsAndCapacities', spec);
    const e = this.endpoints.get(spec.EndpointName);
    if (!e || e.status !== 'InService') throw new ExternalError('SAGEMAKER_ERROR', 'endpoint not InService');
    for (const w of spec.DesiredWeightsAndCapacities) e.weights.set(w.VariantName, w.DesiredWeight);
  }
  async addTags(arn: string, tags: Tag[]) {
    this.rec('AddTags', { arn, tags });
    for (const e of this.endpoints.values()) {
      if (e.arn === arn) e.tags = [...e.tags.filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags];
    }
  }
  async listTags(arn: string) {
    return [...this.endpoints.values()].find((e) => e.arn === arn)?.tags ?? [];
  }
  async deleteEndpointConfig(name: string) {
    this.rec('DeleteEndpointConfig', { name });
    this.configs.delete(name);
  }
  async deleteModel(name: string) {
    this.rec('DeleteModel', { name });
    this.models.delete(name);
  }
  async deleteEndpoint(name: string) {
    this.rec('DeleteEndpoint', { name });
    this.endpoints.delete(name);
  }
}
