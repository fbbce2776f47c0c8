/** The emulator's pure parts: clock, traffic steps, capture format, Java-pattern translation. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { captureKey, captureRecord, captureSettings } from '../../src/emulator/capture.js';
import { Clock } from '../../src/emulator/clock.js';
import { trafficSteps, type Fleet } from '../../src/emulator/control-plane.js';
import { deploymentPlan } from '../../src/emulator/deployments.js';
import { ApiError } from '../../src/emulator/errors.js';
import { findBotocoreDataDir, loadServiceModel } from '../../src/emulator/service-model.js';
import { Validator } from '../../src/emulator/validate.js';
import { REPO_ROOT } from '../support/peers.js';

describe('Clock', () => {
  it('wakes sleepers when emulated time is advanced, whatever the scale', async () => {
    const clock = new Clock(1);
    let woke = false;
    const p = clock.sleep(3600).then(() => {
      woke = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    clock.advance(3600);
    await p;
    expect(woke).toBe(true);
    clock.dispose();
  });

  it('runs faster with a larger time scale and rejects an aborted sleep', async () => {
    const clock = new Clock(1000);
    await clock.sleep(10); // 10 ms of real time
    const ctl = new AbortController();
    const p = clock.sleep(1_000_000, ctl.signal);
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(() => clock.setTimeScale(0)).toThrow();
    clock.dispose();
  });
});

describe('trafficSteps', () => {
  const fleet = (instances: number) => ({ configName: 'c', variants: [{ instanceCount: instances }], shadows: [] }) as unknown as Fleet;

  it('follows the routing type', () => {
    expect(trafficSteps(undefined, fleet(1))).toEqual([1]);
    expect(trafficSteps({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, fleet(1))).toEqual([1]);
    expect(trafficSteps({ Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 } }, fleet(1))).toEqual([0.1, 1]);
    expect(trafficSteps({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } }, fleet(4))).toEqual([0.25, 1]);
    expect(trafficSteps({ Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 20 } }, fleet(1))).toEqual([
      0.2, 0.4, 0.6, 0.8, 1,
    ]);
    expect(trafficSteps({ Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 30 } }, fleet(1))).toEqual([0.3, 0.6, 0.9, 1]);
  });

  it('rejects sizes SageMaker rejects', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as ApiError).code;
      }
      return 'none';
    };
    expect(code(() => trafficSteps({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } }, fleet(1)))).toBe(
      'ValidationException',
    );
    expect(code(() => trafficSteps({ Type: 'CANARY' }, fleet(2)))).toBe('ValidationException');
    expect(code(() => trafficSteps({ Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 5 } }, fleet(1)))).toBe(
      'ValidationException',
    );
    expect(code(() => trafficSteps({ Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 60 } }, fleet(1)))).toBe(
      'ValidationException',
    );
  });
});

describe('deploymentPlan', () => {
  const fleet = (instances: number) => ({ configName: 'c', variants: [{ instanceCount: instances }], shadows: [] }) as unknown as Fleet;

  it('moves a rolling update MaximumBatchSize instances per step and rolls back RollbackMaximumBatchSize at a time', () => {
    const plan = deploymentPlan(
      {
        RollingUpdatePolicy: {
          MaximumBatchSize: { Type: 'INSTANCE_COUNT', Value: 3 },
          WaitIntervalInSeconds: 300,
          MaximumExecutionTimeoutInSeconds: 3600,
          RollbackMaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 20 },
        },
      },
      fleet(10),
    );
    expect(plan).toMatchObject({ rolling: true, steps: [0.3, 0.6, 0.9, 1], wait: 300, terminationWait: 0, maxTime: 3600 });
    // 6 of 10 instances on the new fleet, 2 brought back per rollback batch: 3 batches.
    expect(plan.rollbackBatches(0.6)).toBe(3);
    // Without RollbackMaximumBatchSize the whole old capacity returns at once.
    const once = deploymentPlan(
      { RollingUpdatePolicy: { MaximumBatchSize: { Type: 'CAPACITY_PERCENT', Value: 50 }, WaitIntervalInSeconds: 0 } },
      fleet(4),
    );
    expect(once.steps).toEqual([0.5, 1]);
    expect(once.rollbackBatches(1)).toBe(1);
  });

  it('rejects rolling batches outside 5-50% of the fleet, and defaults to blue/green all at once', () => {
    const rolling = (Type: string, Value: number, instances: number) => () =>
      deploymentPlan({ RollingUpdatePolicy: { MaximumBatchSize: { Type, Value }, WaitIntervalInSeconds: 0 } }, fleet(instances));
    expect(rolling('INSTANCE_COUNT', 1, 1)).toThrow(/MaximumBatchSize must be between 5% and 50%/);
    expect(rolling('CAPACITY_PERCENT', 4, 10)).toThrow(/MaximumBatchSize/);
    expect(rolling('INSTANCE_COUNT', 1, 30)).toThrow(/MaximumBatchSize/);
    expect(deploymentPlan(undefined, fleet(1))).toMatchObject({ rolling: false, steps: [1], wait: 0, terminationWait: 0 });
  });
});

describe('data capture format', () => {
  const time = new Date('2026-03-04T05:06:07.089Z');

  it('base64-encodes payloads whose content type is not listed', () => {
    const s = captureSettings({
      InitialSamplingPercentage: 50,
      DestinationS3Uri: 's3://b/p',
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
    })!;
    const rec = captureRecord(
      s,
      { contentType: 'text/csv', body: Buffer.from('a\n1') },
      { contentType: 'application/json; charset=utf-8', body: Buffer.from('{"predictions":[1]}') },
      { eventId: 'e1', time },
    );
    expect(rec).toEqual({
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: Buffer.from('a\n1').toString('base64'), encoding: 'BASE64' },
        endpointOutput: {
          observedContentType: 'application/json; charset=utf-8',
          mode: 'OUTPUT',
          data: '{"predictions":[1]}',
          encoding: 'JSON',
        },
      },
      eventMetadata: { eventId: 'e1', inferenceTime: '2026-03-04T05:06:07Z' },
      eventVersion: '0',
    });
  });

  it('captures only what CaptureOptions ask for, base64 without a header config', () => {
    const s = captureSettings({ InitialSamplingPercentage: 100, DestinationS3Uri: 's3://b', CaptureOptions: [{ CaptureMode: 'Output' }] })!;
    const rec = captureRecord(
      s,
      { contentType: 'text/csv', body: Buffer.from('x') },
      { contentType: 'text/csv', body: Buffer.from('1') },
      { eventId: 'e', inferenceId: 'i', time },
    );
    expect(rec.captureData).toEqual({
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: 'MQ==', encoding: 'BASE64' },
    });
    expect(rec.eventMetadata).toEqual({ eventId: 'e', inferenceId: 'i', inferenceTime: '2026-03-04T05:06:07Z' });
  });

  it('lays keys out as {prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/{mm}-{ss}-{mmm}-{uuid}.jsonl', () => {
    expect(captureKey('s3://bucket/data/capture/', 'ep', 'AllTraffic', time).key).toMatch(
      /^data\/capture\/ep\/AllTraffic\/2026\/03\/04\/05\/06-07-089-[0-9a-f-]{36}\.jsonl$/,
    );
    const bare = captureKey('s3://bucket', 'ep', 'v', time);
    expect(bare.bucket).toBe('bucket');
    expect(bare.key).toMatch(/^ep\/v\/2026\/03\/04\/05\//);
  });
});

describe('validation of Java patterns', () => {
  const dataDir = findBotocoreDataDir([REPO_ROOT])!;
  const runtime = new Validator(loadServiceModel(dataDir, 'sagemaker-runtime'));

  it('finds botocore under the venv', () => {
    expect(dataDir).toBe(join(REPO_ROOT, '.venv', 'lib', 'python3.11', 'site-packages', 'botocore', 'data'));
  });

  it('translates \\A, \\z and \\p{Print}', () => {
    const check = (id: string) => {
      try {
        runtime.check('InvokeEndpoint', { EndpointName: 'ep', Body: 'x', InferenceId: id });
        return 'ok';
      } catch (err) {
        return (err as ApiError).message;
      }
    };
    expect(check('req-1 ok')).toBe('ok');
    expect(check(' leading-space')).toContain(
      "at 'inferenceId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\A\\S[\\p{Print}]*\\z",
    );
    expect(check('caf\u00e9')).toContain("at 'inferenceId'");
    expect(check('x'.repeat(65))).toContain('Member must have length less than or equal to 64');
  });
});
