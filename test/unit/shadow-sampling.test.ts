/**
 * `deploy.shadow.samplingPercent` is the share of production requests SageMaker copies to the
 * shadow: a shadow variant gets the share given by its weight relative to the production
 * variant's, so the shadow weighs samplingPercent / 100 against production's 1. Data capture
 * keeps its own sampling (`deploy.dataCapture.samplingPercent`).
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { DeploymentRecord } from '../../src/core/deployment.js';
import { shadowConfigSpec } from '../../src/core/sagemaker-requests.js';

const target = (shadowPercent: number, capturePercent: number) =>
  configSchema.parse({
    deploy: {
      endpointName: 'churn',
      executionRoleArn: 'arn:aws:iam::123456789012:role/deploy',
      image: 'img:1',
      artifacts: 's3://models/churn',
      dataCapture: { destination: 's3://capture/churn', samplingPercent: capturePercent },
      state: { uri: 's3://state/deployments' },
      lock: { uri: 's3://state/locks' },
      audit: { uri: 's3://audit/trail' },
      shadow: { duration: '1h', samplingPercent: shadowPercent },
    },
  }).deploy!;

const record = {
  id: 'd-1',
  candidate: { registeredModel: 'churn', version: '2' },
  previous: { endpointConfig: 'churn-v1-final', model: 'churn-v1-model' },
  names: { model: 'churn-v2-model', shadowConfig: 'churn-v2-shadow', finalConfig: 'churn-v2-final', alarms: [] },
} as unknown as DeploymentRecord;

describe('shadow sampling', () => {
  it('weighs the shadow variant samplingPercent / 100 against production, capture sampling unchanged', () => {
    const spec = shadowConfigSpec(target(25, 60), record);
    expect(spec.ProductionVariants.map((v) => v.InitialVariantWeight)).toEqual([1]);
    expect(spec.ShadowProductionVariants?.map((v) => [v.VariantName, v.InitialVariantWeight])).toEqual([['shadow', 0.25]]);
    expect(spec.DataCaptureConfig?.InitialSamplingPercentage).toBe(60);
    expect(shadowConfigSpec(target(100, 10), record).ShadowProductionVariants?.[0].InitialVariantWeight).toBe(1);
  });
});
