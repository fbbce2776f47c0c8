/**
 * The shapes of the control plane: the SageMaker requests it reads (already validated against
 * the service model, so only the members it uses are listed), and the records it keeps.
 */
import type { CaptureSettings, DataCaptureInput } from './capture.js';
import type { ModelServer } from './model-servers.js';

/** A response body (JSON); SageMaker's members in its own spelling. */
export type ApiOutput = Record<string, unknown>;

export interface Tag {
  Key: string;
  Value?: string;
}

export interface ContainerInput {
  Image?: string;
  ModelDataUrl?: string;
  Environment?: Record<string, string>;
}

export interface CreateModelInput {
  ModelName: string;
  PrimaryContainer?: ContainerInput;
  Containers?: ContainerInput[];
  Tags?: Tag[];
}

export interface VariantInput {
  VariantName: string;
  ModelName?: string;
  InstanceType?: string;
  InitialInstanceCount?: number;
  InitialVariantWeight?: number;
  ServerlessConfig?: unknown;
}

export interface CreateEndpointConfigInput {
  EndpointConfigName: string;
  ProductionVariants: VariantInput[];
  ShadowProductionVariants?: VariantInput[];
  DataCaptureConfig?: DataCaptureInput;
  Tags?: Tag[];
}

/** A traffic step's size: a share of the new fleet's capacity, or a number of its instances. */
export interface CapacitySize {
  Type: string;
  Value: number;
}

export interface TrafficRoutingConfig {
  Type: string;
  WaitIntervalInSeconds?: number;
  CanarySize?: CapacitySize;
  LinearStepSize?: CapacitySize;
}

export interface DeploymentConfig {
  BlueGreenUpdatePolicy?: {
    TrafficRoutingConfiguration?: TrafficRoutingConfig;
    TerminationWaitInSeconds?: number;
    MaximumExecutionTimeoutInSeconds?: number;
  };
  RollingUpdatePolicy?: {
    MaximumBatchSize: CapacitySize;
    WaitIntervalInSeconds: number;
    MaximumExecutionTimeoutInSeconds?: number;
    RollbackMaximumBatchSize?: CapacitySize;
  };
  AutoRollbackConfiguration?: { Alarms?: Array<{ AlarmName: string }> };
}

export interface CreateEndpointInput {
  EndpointName: string;
  EndpointConfigName: string;
  DeploymentConfig?: DeploymentConfig;
  Tags?: Tag[];
}

export interface UpdateEndpointInput {
  EndpointName: string;
  EndpointConfigName: string;
  DeploymentConfig?: DeploymentConfig;
  RetainDeploymentConfig?: boolean;
  RetainAllVariantProperties?: boolean;
  ExcludeRetainedVariantProperties?: Array<{ VariantPropertyType: string }>;
}

export interface UpdateWeightsInput {
  EndpointName: string;
  DesiredWeightsAndCapacities: Array<{ VariantName: string; DesiredWeight?: number; DesiredInstanceCount?: number }>;
}

/** The members of SageMaker's List* calls (and of the name lookups) the emulator reads. */
export interface ListInput {
  NameContains?: string;
  SortBy?: string;
  SortOrder?: string;
  MaxResults?: number;
  NextToken?: string;
  CreationTimeAfter?: number | string;
  CreationTimeBefore?: number | string;
  LastModifiedTimeAfter?: number | string;
  LastModifiedTimeBefore?: number | string;
  StatusEquals?: string;
}

export interface TagsInput {
  ResourceArn: string;
  Tags?: Tag[];
  TagKeys?: string[];
  NextToken?: string;
  MaxResults?: number;
}

export interface ModelRecord {
  name: string;
  arn: string;
  created: Date;
  input: Omit<CreateModelInput, 'Tags'>;
}

export interface EndpointConfigRecord {
  name: string;
  arn: string;
  created: Date;
  input: Omit<CreateEndpointConfigInput, 'Tags'>;
}

export interface StatusEntry {
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
  /** The container's Environment, read by MLflow's serving image. */
  environment: Record<string, string>;
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

/** A deployment in progress: the new (green) fleet and the share of traffic it has. */
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
  lastDeploymentConfig?: DeploymentConfig;
  task?: AbortController;
}
