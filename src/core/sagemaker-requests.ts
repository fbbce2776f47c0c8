/**
 * The SageMaker and CloudWatch requests promote and rollback send, built from the deploy target
 * and the deployment record. Pure: the shapes are SageMaker's own JSON, so --dry-run can list
 * exactly what would be sent.
 */
import type { DeployTarget } from './deploy-target.js';
import type { DeploymentRecord } from './deployment.js';
import { durationMs } from './duration.js';
import { DRIFT_DIMENSIONS, DRIFT_METRIC, MLOPS_NAMESPACE, SAGEMAKER_NAMESPACE } from './metric-names.js';
import type { DeploymentConfigSpec, EndpointConfigSpec, ModelSpec, ProductionVariantSpec } from './ports.js';

export const SHADOW_VARIANT = 'shadow';
/** The candidate's variant during the smoke test: weight 0, so only TargetVariant calls reach it. */
export const SMOKE_VARIANT = 'candidate';
export const warmVariantName = (variant: string) => `${variant}-warm`.slice(0, 63);

function variant(d: DeployTarget, name: string, model: string, weight: number): ProductionVariantSpec {
  return {
    VariantName: name,
    ModelName: model,
    InitialInstanceCount: d.instanceCount,
    InstanceType: d.instanceType,
    InitialVariantWeight: weight,
  };
}

function dataCapture(d: DeployTarget, samplingPercent = d.dataCapture.samplingPercent): EndpointConfigSpec['DataCaptureConfig'] {
  return {
    EnableCapture: true,
    InitialSamplingPercentage: samplingPercent,
    DestinationS3Uri: d.dataCapture.destination,
    CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
  };
}

export const tags = (r: DeploymentRecord) => [
  { Key: 'mlops:deployment', Value: r.id },
  { Key: 'mlops:model-version', Value: `${r.candidate.registeredModel}/${r.candidate.version}` },
];

/**
 * The container environment MLflow's own SageMaker deployment gives its pyfunc serving image
 * (`_get_deployment_config` in mlflow/sagemaker/__init__.py, sent by `_create_sagemaker_model`):
 * - MLFLOW_DEPLOYMENT_FLAVOR_NAME: the flavor the image's entrypoint serves (`_serve` in
 *   mlflow/models/container/__init__.py): python_function, the one `_get_preferred_deployment_flavor`
 *   picks and the only one mlops packages (the other, mleap, starts a Java server instead).
 * - SERVING_ENVIRONMENT: "SageMaker" (mlflow/sagemaker/__init__.py SAGEMAKER_SERVING_ENVIRONMENT),
 *   which tells the model where it runs; the image itself does not read it.
 * Not here, on purpose: the env manager (virtualenv by default) is baked into the image's
 * entrypoint by `mlflow sagemaker build-and-push-container` (mlflow/sagemaker/cli.py), not read
 * from the environment; and MLflow also copies the deploying machine's http(s)_proxy, which on a
 * CI runner says nothing about the endpoint's network.
 */
export const SERVING_ENVIRONMENT = { MLFLOW_DEPLOYMENT_FLAVOR_NAME: 'python_function', SERVING_ENVIRONMENT: 'SageMaker' } as const;

/** The candidate's SageMaker model: the serving image over the uploaded model.tar.gz. */
export function modelSpec(d: DeployTarget, r: DeploymentRecord): ModelSpec {
  return {
    ModelName: r.names.model,
    ExecutionRoleArn: d.executionRoleArn,
    PrimaryContainer: { Image: d.image, ModelDataUrl: r.artifact, Environment: { ...SERVING_ENVIRONMENT } },
    Tags: tags(r),
  };
}

/**
 * Production = the current model, shadow = the candidate, data capture on. SageMaker copies to a
 * shadow variant the share of requests given by its weight relative to the production variant's:
 * production weighs 1, the shadow `shadow.samplingPercent` / 100.
 */
export function shadowConfigSpec(d: DeployTarget, r: DeploymentRecord): EndpointConfigSpec {
  return {
    EndpointConfigName: r.names.shadowConfig,
    ProductionVariants: [variant(d, d.variantName, r.previous!.model, 1)],
    ShadowProductionVariants: [variant(d, SHADOW_VARIANT, r.names.model, d.shadow.samplingPercent / 100)],
    DataCaptureConfig: dataCapture(d),
    Tags: tags(r),
  };
}

/**
 * Production as it is, plus the candidate at weight 0 for the smoke test: SageMaker routes no
 * user request to a variant of weight 0, but InvokeEndpoint with TargetVariant reaches it.
 */
export function smokeConfigSpec(d: DeployTarget, r: DeploymentRecord): EndpointConfigSpec {
  return {
    EndpointConfigName: r.names.smokeConfig!,
    ProductionVariants: [variant(d, d.variantName, r.previous!.model, 1), variant(d, SMOKE_VARIANT, r.names.model, 0)],
    DataCaptureConfig: dataCapture(d),
    Tags: tags(r),
  };
}

/** The candidate alone (plus the previous model at weight 0 with the keep-warm strategy). */
export function finalConfigSpec(d: DeployTarget, r: DeploymentRecord): EndpointConfigSpec {
  const variants = [variant(d, d.variantName, r.names.model, 1)];
  if (d.rollback.strategy === 'keep-warm' && r.previous) variants.push(variant(d, warmVariantName(d.variantName), r.previous.model, 0));
  return { EndpointConfigName: r.names.finalConfig, ProductionVariants: variants, DataCaptureConfig: dataCapture(d), Tags: tags(r) };
}

/** The endpoint's previous config with the weights that serve now (after a weights-only rollback). */
export function restoreConfigSpec(
  d: DeployTarget,
  r: DeploymentRecord,
  variants: { name: string; model: string; weight: number }[],
): EndpointConfigSpec {
  return {
    EndpointConfigName: r.names.restoreConfig ?? `${r.names.finalConfig.slice(0, 55)}-restore`,
    ProductionVariants: variants.map((v) => variant(d, v.name, v.model, v.weight)),
    DataCaptureConfig: dataCapture(d),
    Tags: tags(r),
  };
}

export function deploymentConfigSpec(d: DeployTarget, alarms: string[]): DeploymentConfigSpec {
  const c = d.cutover;
  const secs = (x: string | number) => Math.round(durationMs(x) / 1000);
  const routing: DeploymentConfigSpec['BlueGreenUpdatePolicy']['TrafficRoutingConfiguration'] =
    c.type === 'all-at-once'
      ? { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }
      : c.type === 'canary'
        ? { Type: 'CANARY', WaitIntervalInSeconds: secs(c.wait), CanarySize: { Type: 'CAPACITY_PERCENT', Value: c.size } }
        : { Type: 'LINEAR', WaitIntervalInSeconds: secs(c.wait), LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: c.step } };
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: routing,
      TerminationWaitInSeconds: secs(d.terminationWait),
      MaximumExecutionTimeoutInSeconds: secs(d.maxExecutionTimeout),
    },
    AutoRollbackConfiguration: { Alarms: alarms.map((AlarmName) => ({ AlarmName })) },
  };
}

/** The alarms on the new fleet: 5XX errors, model latency, and monitor's drift metric. */
export function alarmSpecs(d: DeployTarget, r: DeploymentRecord) {
  const period = Math.max(10, Math.round(durationMs(d.alarms.period) / 1000));
  const fleet = { EndpointName: d.endpointName, EndpointConfigName: r.names.finalConfig, VariantName: d.variantName };
  const [e5xx, latency, drift] = r.names.alarms;
  const common = {
    period,
    evaluationPeriods: d.alarms.evaluationPeriods,
    comparison: 'GreaterThanThreshold' as const,
    treatMissingData: 'notBreaching' as const,
  };
  return [
    {
      ...common,
      name: e5xx,
      description: `mlops ${r.id}: 5XX errors on the new fleet`,
      namespace: SAGEMAKER_NAMESPACE,
      metricName: 'Invocation5XXErrors',
      dimensions: fleet,
      statistic: 'Average' as const,
      threshold: d.alarms.errorRate5xx,
    },
    {
      ...common,
      name: latency,
      description: `mlops ${r.id}: model latency on the new fleet (microseconds)`,
      namespace: SAGEMAKER_NAMESPACE,
      metricName: 'ModelLatency',
      dimensions: fleet,
      statistic: 'Average' as const,
      threshold: d.alarms.latencyMs * 1000,
    },
    {
      ...common,
      name: drift,
      description: `mlops ${r.id}: drift published by mlops monitor`,
      namespace: MLOPS_NAMESPACE,
      metricName: DRIFT_METRIC,
      dimensions: { [DRIFT_DIMENSIONS[0]]: d.endpointName, [DRIFT_DIMENSIONS[1]]: d.variantName },
      statistic: 'Maximum' as const,
      threshold: d.alarms.drift,
    },
  ];
}
