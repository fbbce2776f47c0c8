/**
 * CloudWatch names shared by `mlops monitor` (which publishes drift) and `mlops promote` (whose
 * cutover alarms watch it). One place, so the publisher and the alarm cannot drift apart.
 */

/** Namespace of every metric mlops publishes itself. */
export const MLOPS_NAMESPACE = 'mlops';

/**
 * Drift of one monitoring window: the share of drifted features (0..1), or 1 when the output
 * drifted or a critical feature did. Published per endpoint and variant.
 */
export const DRIFT_METRIC = 'DriftScore';

/** Dimensions of DRIFT_METRIC, in this order: endpoint name, variant name. */
export const DRIFT_DIMENSIONS = ['EndpointName', 'VariantName'] as const;

/** SageMaker's own namespace for invocation metrics (Invocations, Invocation5XXErrors, ModelLatency). */
export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';
