/**
 * The control plane's resources: models, endpoint configs, endpoints and their tags, created,
 * described, listed and deleted as SageMaker does, with its validation and its error messages.
 * What happens to an endpoint over time (creation, blue/green updates, rollbacks) is the
 * deployment engine's (deployments.ts).
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { captureSettings, type CaptureSettings } from './capture.js';
import { validation } from './errors.js';
import { parseS3Url } from './model-servers.js';
import type {
  ApiOutput,
  ContainerInput,
  CreateEndpointConfigInput,
  CreateModelInput,
  EndpointConfigRecord,
  EndpointRec,
  Fleet,
  ListInput,
  ModelRecord,
  Tag,
  TagsInput,
  VariantInput,
  VariantRt,
} from './records.js';

/** Seconds since the epoch, as SageMaker's JSON protocol sends times. */
export const toEpoch = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

/**
 * A map keyed by resource name, compared case-insensitively: SageMaker's names are unique without
 * regard to case (the ARN holds the name in lower case), and a lookup in any case finds the resource.
 */
export class NameMap<V> extends Map<string, V> {
  override get(name: string) {
    return super.get(name.toLowerCase());
  }
  override has(name: string) {
    return super.has(name.toLowerCase());
  }
  override set(name: string, value: V) {
    return super.set(name.toLowerCase(), value);
  }
  override delete(name: string) {
    return super.delete(name.toLowerCase());
  }
}

/** Rejects tag keys with the prefix AWS reserves for its own tags (any case). */
export function checkTags(tags: Tag[] | undefined): void {
  const reserved = (tags ?? []).find((t) => t.Key.toLowerCase().startsWith('aws:'));
  if (reserved) throw validation(`Tag key "${reserved.Key}" is not valid: tag keys starting with "aws:" are reserved for AWS's own use.`);
}

export class Resources {
  readonly models = new NameMap<ModelRecord>();
  readonly configs = new NameMap<EndpointConfigRecord>();
  readonly endpoints = new NameMap<EndpointRec>();
  readonly tags = new Map<string, Tag[]>();

  constructor(private readonly d: { s3: S3Client; region: string; account: string }) {}

  arn(kind: string, name: string) {
    return `arn:aws:sagemaker:${this.d.region}:${this.d.account}:${kind}/${name.toLowerCase()}`;
  }

  getEndpoint(name: string): EndpointRec {
    const ep = this.endpoints.get(name);
    if (!ep) throw validation(`Could not find endpoint "${this.arn('endpoint', name)}".`);
    return ep;
  }

  getConfig(name: string): EndpointConfigRecord {
    const c = this.configs.get(name);
    if (!c) throw validation(`Could not find endpoint configuration "${this.arn('endpoint-config', name)}".`);
    return c;
  }

  getModel(name: string): ModelRecord {
    const m = this.models.get(name);
    if (!m) throw validation(`Could not find model "${this.arn('model', name)}".`);
    return m;
  }

  async createModel(input: CreateModelInput): Promise<ApiOutput> {
    const name: string = input.ModelName;
    const arn = this.arn('model', name);
    if (this.models.has(name)) throw validation(`Cannot create already existing model "${arn}".`);
    checkTags(input.Tags);
    const containers: ContainerInput[] = input.PrimaryContainer ? [input.PrimaryContainer] : (input.Containers ?? []);
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

  describeModel(input: { ModelName: string }): ApiOutput {
    const m = this.getModel(input.ModelName);
    return { ...m.input, ModelArn: m.arn, CreationTime: toEpoch(m.created) };
  }

  deleteModel(input: { ModelName: string }): ApiOutput {
    const m = this.getModel(input.ModelName);
    this.models.delete(m.name);
    this.tags.delete(m.arn);
    return {};
  }

  listModels(input: ListInput): ApiOutput {
    const items = [...this.models.values()].map((m) => ({
      name: m.name,
      created: m.created,
      out: { ModelName: m.name, ModelArn: m.arn, CreationTime: toEpoch(m.created) },
    }));
    const page = paginate(items, input, 'NameContains');
    return { Models: page.items, ...(page.next ? { NextToken: page.next } : {}) };
  }

  createEndpointConfig(input: CreateEndpointConfigInput): ApiOutput {
    const name: string = input.EndpointConfigName;
    const arn = this.arn('endpoint-config', name);
    if (this.configs.has(name)) throw validation(`Cannot create already existing endpoint configuration "${arn}".`);
    checkTags(input.Tags);
    const prod: VariantInput[] = input.ProductionVariants;
    const shadows: VariantInput[] = input.ShadowProductionVariants ?? [];
    const names = [...prod, ...shadows].map((v) => v.VariantName);
    const dup = names.find((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) !== i);
    if (dup) throw validation(`Variant name "${dup}" is used more than once in endpoint configuration "${name}".`);
    if (shadows.length > 0 && (prod.length !== 1 || shadows.length !== 1)) {
      throw validation('An endpoint configuration with shadow variants must have exactly one production variant and one shadow variant.');
    }
    if (prod.every((v) => v.InitialVariantWeight === 0)) {
      throw validation('The sum of the InitialVariantWeight of the production variants must be greater than 0.');
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

  describeEndpointConfig(input: { EndpointConfigName: string }): ApiOutput {
    const c = this.getConfig(input.EndpointConfigName);
    const withDefaults = (v: VariantInput) => ({ InitialVariantWeight: 1, ...v });
    return {
      ...c.input,
      ProductionVariants: c.input.ProductionVariants.map(withDefaults),
      ...(c.input.ShadowProductionVariants ? { ShadowProductionVariants: c.input.ShadowProductionVariants.map(withDefaults) } : {}),
      ...(c.input.DataCaptureConfig ? { DataCaptureConfig: { EnableCapture: true, ...c.input.DataCaptureConfig } } : {}),
      EndpointConfigArn: c.arn,
      CreationTime: toEpoch(c.created),
    };
  }

  deleteEndpointConfig(input: { EndpointConfigName: string }): ApiOutput {
    const c = this.getConfig(input.EndpointConfigName);
    // SageMaker lets a config in use be deleted: the endpoint keeps what it deployed.
    this.configs.delete(c.name);
    this.tags.delete(c.arn);
    return {};
  }

  listEndpointConfigs(input: ListInput): ApiOutput {
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
  fleetFor(config: EndpointConfigRecord, retainFrom?: Fleet, exclude: string[] = []): Fleet {
    const mk = (v: VariantInput, shadow: boolean): VariantRt => {
      // createEndpointConfig made sure every variant names a model.
      const model = this.getModel(v.ModelName ?? '');
      const container = model.input.PrimaryContainer ?? model.input.Containers?.[0] ?? {};
      const old = retainFrom && [...retainFrom.variants, ...retainFrom.shadows].find((o) => o.name === v.VariantName);
      const weight = old && !exclude.includes('DesiredWeight') ? old.weight : (v.InitialVariantWeight ?? 1);
      const count = old && !exclude.includes('DesiredInstanceCount') ? old.instanceCount : (v.InitialInstanceCount ?? 1);
      return {
        name: v.VariantName,
        shadow,
        modelName: model.name,
        modelDataUrl: container.ModelDataUrl ?? '',
        image: container.Image ?? '',
        environment: container.Environment ?? {},
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
      variants: config.input.ProductionVariants.map((v) => mk(v, false)),
      shadows: (config.input.ShadowProductionVariants ?? []).map((v) => mk(v, true)),
      capture: captureSettings(config.input.DataCaptureConfig),
    };
  }

  describeEndpoint(input: { EndpointName: string }): ApiOutput {
    const ep = this.getEndpoint(input.EndpointName);
    const out: ApiOutput = {
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
  variantSummary(v: VariantRt, share: number): ApiOutput {
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

  listEndpoints(input: ListInput): ApiOutput {
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

  tagsOf(arn: string) {
    const t = this.tags.get(arn);
    if (!t) throw validation(`Resource ${arn} does not exist.`);
    return t;
  }

  addTags(input: TagsInput): ApiOutput {
    const tags = this.tagsOf(input.ResourceArn);
    checkTags(input.Tags);
    for (const t of input.Tags as Array<{ Key: string; Value?: string }>) {
      const i = tags.findIndex((x) => x.Key === t.Key);
      if (i >= 0) tags[i] = t;
      else tags.push(t);
    }
    if (tags.length > 50) throw validation('You can have a maximum of 50 tags per resource.');
    return { Tags: input.Tags };
  }

  listTags(input: TagsInput): ApiOutput {
    const tags = this.tagsOf(input.ResourceArn);
    const start = tokenOffset(input.NextToken, tags.length);
    const max = input.MaxResults ?? 50;
    const page = tags.slice(start, start + max);
    return { Tags: page, ...(start + max < tags.length ? { NextToken: offsetToken(start + max) } : {}) };
  }

  deleteTags(input: TagsInput): ApiOutput {
    const tags = this.tagsOf(input.ResourceArn);
    const keep = tags.filter((t) => !(input.TagKeys ?? []).includes(t.Key));
    tags.splice(0, tags.length, ...keep);
    return {};
  }
}

function captureSummary(c: CaptureSettings): ApiOutput {
  return {
    EnableCapture: c.enabled,
    CaptureStatus: c.enabled ? 'Started' : 'Stopped',
    CurrentSamplingPercentage: c.samplingPercentage,
    DestinationS3Uri: c.destinationS3Uri,
    ...(c.kmsKeyId ? { KmsKeyId: c.kmsKeyId } : {}),
  };
}

function inTimeRange(t: Date, after?: number | string, before?: number | string): boolean {
  const ms = (x: number | string) => (typeof x === 'number' ? x * 1000 : Date.parse(x));
  if (after !== undefined && !(t.getTime() > ms(after))) return false;
  if (before !== undefined && !(t.getTime() < ms(before))) return false;
  return true;
}

/** SortBy/SortOrder/NameContains/MaxResults/NextToken as SageMaker's List* calls do them. */
export function paginate(
  items: Array<{ name: string; created: Date; status?: string; out: ApiOutput }>,
  input: ListInput,
  nameKey: 'NameContains',
) {
  let list = items;
  if (input[nameKey]) list = list.filter((i) => i.name.toLowerCase().includes(String(input[nameKey]).toLowerCase()));
  const by = input.SortBy ?? 'CreationTime';
  const dir = (input.SortOrder ?? 'Descending') === 'Ascending' ? 1 : -1;
  list = [...list].sort((a, b) => {
    const ka = by === 'Name' ? a.name : by === 'Status' ? (a.status ?? '') : a.created.getTime();
    const kb = by === 'Name' ? b.name : by === 'Status' ? (b.status ?? '') : b.created.getTime();
    return (ka < kb ? -1 : ka > kb ? 1 : 0) * dir;
  });
  const start = tokenOffset(input.NextToken, list.length);
  const max = input.MaxResults ?? 10;
  const page = list.slice(start, start + max).map((i) => i.out);
  return { items: page, next: start + max < list.length ? offsetToken(start + max) : undefined };
}

/** The NextToken of a page that starts at `offset` (opaque to callers). */
function offsetToken(offset: number): string {
  return Buffer.from(`emulator-offset:${offset}`).toString('base64');
}

/** The offset a NextToken stands for; a token this emulator did not issue is a ValidationException. */
function tokenOffset(token: string | undefined, length: number): number {
  if (!token) return 0;
  const text = Buffer.from(token, 'base64').toString();
  const m = /^emulator-offset:(\d+)$/.exec(text);
  const offset = m ? Number(m[1]) : NaN;
  if (Buffer.from(text).toString('base64') !== token || !(offset <= length)) {
    throw validation(`Invalid pagination token because "${token}" is not a token this call returned.`);
  }
  return offset;
}
