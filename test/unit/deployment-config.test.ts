import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';

const minimal = {
  endpointName: 'churn-prod',
  executionRoleArn: 'arn:aws:iam::123456789012:role/mlops-deploy',
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:2',
  artifacts: 's3://models/churn',
  dataCapture: { destination: 's3://capture/churn' },
  state: { uri: 's3://mlops-state/deployments' },
  lock: { uri: 's3://mlops-state/locks' },
  audit: { uri: 's3://mlops-audit/churn' },
};

describe('deploy config', () => {
  it('fills defaults for a minimal deploy section', () => {
    const c = configSchema.parse({ deploy: minimal });
    expect(c.deploy?.cutover).toEqual({ type: 'canary', size: 10, wait: '10m' });
    expect(c.deploy?.shadow.duration).toBe('24h');
    expect(c.deploy?.lock.expiry).toBe('30m');
    expect(c.deploy?.audit.mode).toBe('COMPLIANCE');
    expect(c.deploy?.rollback.strategy).toBe('config');
    expect(c.deploy?.variantName).toBe('AllTraffic');
  });
  it('fills defaults inside a chosen cutover type', () => {
    const c = configSchema.parse({ deploy: { ...minimal, cutover: { type: 'linear' } } });
    expect(c.deploy?.cutover).toEqual({ type: 'linear', step: 20, wait: '5m' });
  });
  it('rejects unknown cutover types and bad role ARNs', () => {
    expect(configSchema.safeParse({ deploy: { ...minimal, cutover: { type: 'yolo' } } }).success).toBe(false);
    expect(configSchema.safeParse({ deploy: { ...minimal, executionRoleArn: 'role' } }).success).toBe(false);
  });
  it('is optional', () => {
    expect(configSchema.parse({}).deploy).toBeUndefined();
  });
});

describe('blue/green limits', () => {
  it('rejects canary sizes above 50% and linear steps outside 10-50%', () => {
    expect(configSchema.safeParse({ deploy: { ...minimal, cutover: { type: 'canary', size: 60 } } }).success).toBe(false);
    expect(configSchema.safeParse({ deploy: { ...minimal, cutover: { type: 'linear', step: 5 } } }).success).toBe(false);
  });
  it('promote refuses a max execution timeout that does not exceed the waits', async () => {
    const { checkDeployLimits } = await import('../../src/app/deploy.js');
    const d = configSchema.parse({
      deploy: { ...minimal, cutover: { type: 'canary', size: 10, wait: '50m' }, terminationWait: '10m', maxExecutionTimeout: '1h' },
    }).deploy!;
    expect(() => checkDeployLimits(d)).toThrow(/must be larger than cutover.wait \+ terminationWait \(3600 s\)/);
    expect(() => checkDeployLimits(configSchema.parse({ deploy: minimal }).deploy!)).not.toThrow();
  });
});
