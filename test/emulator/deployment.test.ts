/**
 * The "done when" flow through the real SDK clients: create -> invoke (real MLflow
 * predictions) -> shadow -> canary update -> alarm-triggered rollback -> linear update -> delete,
 * with data capture read back from moto's S3 and metrics from moto's CloudWatch.
 *
 * Models: "linear" predicts 2a + 3b + 1 (9 for a=1, b=2), "constant" always 7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  ListEndpointsCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  waitUntilEndpointInService,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { startBed, status, waitForEndpoint, type Bed } from './helpers.js';

let bed: Bed;
const EP = 'churn-endpoint';
const ALARM = 'churn-endpoint-new-fleet-errors';
const CSV = Buffer.from('a,b\n1,2\n');

const variant = (name: string, model: string, extra: Partial<ProductionVariant> = {}): ProductionVariant => ({
  VariantName: name,
  ModelName: model,
  InstanceType: 'ml.m5.large',
  InitialInstanceCount: 2,
  InitialVariantWeight: 1,
  ...extra,
});

beforeAll(async () => {
  bed = await startBed(['linear', 'constant', 'broken'], {
    timeScale: 100,
    durations: {
      createEndpoint: 60,
      provisionFleet: 60,
      activateTraffic: 10,
      rollback: 30,
      updateWeights: 10,
      deleteEndpoint: 10,
      alarmPollInterval: 10,
    },
    captureFlushIntervalMs: 200,
    // A capture file stays open for an emulated hour (36 s here): the capture test sees batching.
    captureFileSeconds: 3600,
    metricsFlushIntervalMs: 200,
  });
  for (const [name, kind] of [
    ['model-v1', 'linear'],
    ['model-v2', 'constant'],
  ]) {
    await bed.sm.send(
      new CreateModelCommand({
        ModelName: name,
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/sagemaker',
        PrimaryContainer: { Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:3.17.2', ModelDataUrl: bed.models[kind] },
      }),
    );
  }
  await bed.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: ALARM,
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      // The new fleet's series, as SageMaker's deployment guardrails document it.
      Dimensions: [
        { Name: 'EndpointName', Value: EP },
        { Name: 'EndpointConfigName', Value: 'cfg-v2' },
        { Name: 'VariantName', Value: 'prod' },
      ],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0.2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    }),
  );
}, 400_000);

afterAll(async () => {
  await bed?.stop();
});

/** Invocations per variant as the runtime reported them (to check the published metrics). */
const served: Record<string, number> = {};
/** Requests the fault of the canary test failed (5XX on prod). */
let failed5xx = 0;

/** Waits until the emulator's alarm evaluation has moved an alarm to `state`. */
async function waitForAlarm(name: string, state: StateValue): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const a = (await bed.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];
    if (a?.StateValue === state) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`alarm ${name} never reached ${state}`);
}
/** While the shadow config serves, every request its production variant answers (9) is mirrored. */
let shadowLive = false;

async function invoke(body: Buffer, contentType: string, extra: { TargetVariant?: string; InferenceId?: string } = {}) {
  const out = await bed.runtime.send(
    new InvokeEndpointCommand({ EndpointName: EP, Body: body, ContentType: contentType, Accept: 'application/json', ...extra }),
  );
  served[out.InvokedProductionVariant!] = (served[out.InvokedProductionVariant!] ?? 0) + 1;
  const predictions = JSON.parse(Buffer.from(out.Body).toString('utf8')).predictions as number[];
  if (shadowLive && predictions[0] === 9) served.shadow = (served.shadow ?? 0) + 1;
  return {
    predictions,
    variant: out.InvokedProductionVariant,
    contentType: out.ContentType,
  };
}

/** Lists the capture objects for a variant and parses every line. */
async function captureLines(prefix: string, variantName: string): Promise<{ keys: string[]; records: any[] }> {
  const listed = await bed.s3.send(new ListObjectsV2Command({ Bucket: bed.bucket, Prefix: `${prefix}/${EP}/${variantName}/` }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!);
  const records: any[] = [];
  for (const key of keys) {
    const obj = await bed.s3.send(new GetObjectCommand({ Bucket: bed.bucket, Key: key }));
    const text = await obj.Body!.transformToString();
    for (const line of text.split('\n').filter(Boolean)) records.push(JSON.parse(line));
  }
  return { keys, records };
}

describe('a deployment from creation to deletion', () => {
  it('creates an endpoint that serves real predictions', async () => {
    await bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg-v1', ProductionVariants: [variant('prod', 'model-v1')] }));
    const created = await bed.sm.send(new CreateEndpointCommand({ EndpointName: EP, EndpointConfigName: 'cfg-v1' }));
    expect(created.EndpointArn).toBe(`arn:aws:sagemaker:us-east-1:123456789012:endpoint/${EP}`);
    const creating = await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }));
    expect(creating.EndpointStatus).toBe('Creating');
    expect(creating.PendingDeploymentSummary?.ProductionVariants?.[0].VariantStatus?.[0].Status).toBe('Creating');

    const ready = await waitForEndpoint(bed.sm, EP, (d) => d.EndpointStatus !== 'Creating');
    expect(ready.EndpointStatus).toBe('InService');
    expect(ready.ProductionVariants?.[0]).toMatchObject({
      VariantName: 'prod',
      CurrentWeight: 1,
      DesiredWeight: 1,
      CurrentInstanceCount: 2,
      DesiredInstanceCount: 2,
    });
    expect(ready.PendingDeploymentSummary).toBeUndefined();
    const listed = await bed.sm.send(new ListEndpointsCommand({ StatusEquals: 'InService' }));
    expect(listed.Endpoints?.map((e) => e.EndpointName)).toEqual([EP]);

    const csv = await invoke(CSV, 'text/csv');
    expect(csv).toMatchObject({ predictions: [9], variant: 'prod', contentType: 'application/json' });
    const json = await invoke(
      Buffer.from(
        JSON.stringify({
          dataframe_split: {
            columns: ['a', 'b'],
            data: [
              [1, 2],
              [0, 0],
            ],
          },
        }),
      ),
      'application/json',
    );
    expect(json.predictions).toEqual([9, 1]);
    const inputs = await invoke(Buffer.from(JSON.stringify({ inputs: [[1, 1]] })), 'application/json');
    expect(inputs.predictions).toEqual([6]);
  }, 120_000);

  it('reports a request the model rejects as a ModelError with the original status', async () => {
    const err = await bed.runtime
      .send(new InvokeEndpointCommand({ EndpointName: EP, Body: Buffer.from('{"nope": 1}'), ContentType: 'application/json' }))
      .catch((e) => e);
    served.prod = (served.prod ?? 0) + 1;
    expect(err.name).toBe('ModelError');
    expect(err.$metadata.httpStatusCode).toBe(424);
    expect(err.OriginalStatusCode).toBe(400);
    expect(err.message).toMatch(/^Received client error \(400\) from primary with message "/);
  });

  it('mirrors requests to a shadow variant and captures both', async () => {
    await bed.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg-shadow',
        ProductionVariants: [variant('prod', 'model-v1')],
        ShadowProductionVariants: [variant('shadow', 'model-v2')],
        DataCaptureConfig: {
          InitialSamplingPercentage: 100,
          DestinationS3Uri: `s3://${bed.bucket}/capture`,
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
        },
      }),
    );
    await bed.sm.send(new UpdateEndpointCommand({ EndpointName: EP, EndpointConfigName: 'cfg-shadow' }));
    expect((await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointStatus).toBe('Updating');
    // The SDK's own waiter (botocore's waiters-2.json) sees it through.
    const waited = await waitUntilEndpointInService({ client: bed.sm, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { EndpointName: EP });
    expect(waited.state).toBe('SUCCESS');
    const d = await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }));
    expect(d.EndpointConfigName).toBe('cfg-shadow');
    expect(d.ShadowProductionVariants?.[0]).toMatchObject({ VariantName: 'shadow', CurrentWeight: 1 });
    expect(d.DataCaptureConfig).toMatchObject({
      EnableCapture: true,
      CaptureStatus: 'Started',
      CurrentSamplingPercentage: 100,
      DestinationS3Uri: `s3://${bed.bucket}/capture`,
    });

    shadowLive = true;
    for (let i = 0; i < 5; i++) {
      const r = await invoke(CSV, 'text/csv', { InferenceId: `req-${i}` });
      expect(r).toMatchObject({ predictions: [9], variant: 'prod' });
      // Longer than the writer's check interval: a writer that wrote every check would split the records.
      await new Promise((r) => setTimeout(r, 250));
    }
    await bed.admin('POST', 'flush');
    const prod = await captureLines('capture', 'prod');
    const shadow = await captureLines('capture', 'shadow');
    const keyPattern = new RegExp(`^capture/${EP}/(prod|shadow)/\\d{4}/\\d{2}/\\d{2}/\\d{2}/\\d{2}-\\d{2}-\\d{3}-[0-9a-f-]{36}\\.jsonl$`);
    for (const key of [...prod.keys, ...shadow.keys]) expect(key).toMatch(keyPattern);
    // One file per variant and hour prefix: the file stays open until it is old or large enough.
    const hours = (keys: string[]) => new Set(keys.map((k) => k.split('/').slice(3, 7).join('/'))).size;
    expect(prod.keys).toHaveLength(hours(prod.keys));
    expect(shadow.keys).toHaveLength(hours(shadow.keys));
    expect(prod.records).toHaveLength(5);
    expect(shadow.records).toHaveLength(5);
    const first = prod.records.find((r) => r.eventMetadata.inferenceId === 'req-0');
    expect(first).toEqual({
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: 'a,b\n1,2\n', encoding: 'CSV' },
        endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: '{"predictions": [9.0]}', encoding: 'JSON' },
      },
      eventMetadata: {
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        inferenceId: 'req-0',
        inferenceTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
      eventVersion: '0',
    });
    // The shadow saw the same requests and answered with its own model.
    const shadowFirst = shadow.records.find((r) => r.eventMetadata.inferenceId === 'req-0');
    expect(shadowFirst.eventMetadata.eventId).toBe(first.eventMetadata.eventId);
    expect(JSON.parse(shadowFirst.captureData.endpointOutput.data)).toEqual({ predictions: [7] });
  }, 120_000);

  it('rolls a canary update back when its alarm fires', async () => {
    await bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg-v2', ProductionVariants: [variant('prod', 'model-v2')] }));
    // CloudWatch starts an alarm in INSUFFICIENT_DATA; with no data, notBreaching evaluates it OK.
    await waitForAlarm(ALARM, 'OK');
    await bed.sm.send(
      new UpdateEndpointCommand({
        EndpointName: EP,
        EndpointConfigName: 'cfg-v2',
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 }, WaitIntervalInSeconds: 3600 },
            TerminationWaitInSeconds: 0,
            MaximumExecutionTimeoutInSeconds: 28800,
          },
          AutoRollbackConfiguration: { Alarms: [{ AlarmName: ALARM }] },
        },
      }),
    );
    // One instance of two: half the traffic goes to the new fleet while the canary bakes (an hour,
    // 36 s of real time at this scale: the test acts well within it).
    const baking = await waitForEndpoint(
      bed.sm,
      EP,
      (d) => d.PendingDeploymentSummary?.ProductionVariants?.[0].VariantStatus?.[0].Status === 'Baking',
    );
    expect(baking.EndpointStatus).toBe('Updating');
    expect(baking.EndpointConfigName).toBe('cfg-shadow');
    expect(baking.PendingDeploymentSummary?.EndpointConfigName).toBe('cfg-v2');
    expect(baking.PendingDeploymentSummary?.ProductionVariants?.[0]).toMatchObject({
      VariantName: 'prod',
      CurrentWeight: 0.5,
      DesiredWeight: 1,
    });
    expect(baking.ProductionVariants?.[0]).toMatchObject({ VariantName: 'prod', CurrentWeight: 0.5 });
    expect(baking.LastDeploymentConfig?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration?.Type).toBe('CANARY');

    // Old fleet (v1 + shadow v2) and new fleet (v2) share one scoring process per model.
    const servers = (await bed.admin('GET', 'state')).modelServers as Array<{ modelDataUrl: string; refs: number }>;
    expect(servers.map((m) => [m.modelDataUrl, m.refs]).sort()).toEqual([
      [bed.models.constant, 2],
      [bed.models.linear, 1],
    ]);

    const seen = new Set<number>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add((await invoke(CSV, 'text/csv')).predictions[0]);
    expect([...seen].sort()).toEqual([7, 9]);

    // The new fleet's model fails every request: its 5XX share crosses the alarm's threshold on its own.
    await bed.admin('POST', 'faults', { endpointName: EP, variantName: 'prod', errorRate: 1, endpointConfigName: 'cfg-v2' });
    let rolling = await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }));
    while (rolling.EndpointStatus === 'Updating') {
      await invoke(CSV, 'text/csv').catch((err: Error) => {
        expect(err.name).toBe('ModelError');
        served.prod += 1;
        failed5xx += 1;
      });
      rolling = await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }));
    }
    await bed.admin('DELETE', 'faults');
    expect(rolling.EndpointStatus).toBe('RollingBack');
    const alarm = (await bed.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }))).MetricAlarms![0];
    expect(alarm.StateValue).toBe('ALARM');
    expect(alarm.StateReason).toMatch(
      /^Threshold Crossed: 1 out of the last 1 datapoints \[[\d.]+\] was greater than the threshold \(0\.2\)/,
    );
    const back = await waitForEndpoint(bed.sm, EP, status('InService'));
    expect(back.EndpointConfigName).toBe('cfg-shadow');
    expect(back.FailureReason).toContain(ALARM);
    expect(back.PendingDeploymentSummary).toBeUndefined();
    for (let i = 0; i < 10; i++) expect((await invoke(CSV, 'text/csv')).predictions).toEqual([9]);
  }, 120_000);

  it('shows weight 0 and routes by TargetVariant', async () => {
    await bed.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg-ab',
        ProductionVariants: [variant('a', 'model-v1', { InitialInstanceCount: 1 }), variant('b', 'model-v2', { InitialInstanceCount: 1 })],
        DataCaptureConfig: {
          InitialSamplingPercentage: 0,
          DestinationS3Uri: `s3://${bed.bucket}/capture-sampled-out`,
          CaptureOptions: [{ CaptureMode: 'InputAndOutput' }],
        },
      }),
    );
    await bed.sm.send(new UpdateEndpointCommand({ EndpointName: EP, EndpointConfigName: 'cfg-ab' }));
    shadowLive = false;
    await waitForEndpoint(bed.sm, EP, status('InService'));
    await bed.sm.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: EP,
        DesiredWeightsAndCapacities: [{ VariantName: 'b', DesiredWeight: 0 }],
      }),
    );
    const updating = await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }));
    expect(updating.EndpointStatus).toBe('Updating');
    expect(updating.ProductionVariants?.find((v) => v.VariantName === 'b')).toMatchObject({ CurrentWeight: 1, DesiredWeight: 0 });
    const d = await waitForEndpoint(bed.sm, EP, status('InService'));
    expect(d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight, v.DesiredWeight])).toEqual([
      ['a', 1, 1],
      ['b', 0, 0],
    ]);
    for (let i = 0; i < 10; i++) expect(await invoke(CSV, 'text/csv')).toMatchObject({ predictions: [9], variant: 'a' });
    // Every production variant at weight 0 would leave no one to answer: refused.
    const allZero = await bed.sm
      .send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: EP,
          DesiredWeightsAndCapacities: [{ VariantName: 'a', DesiredWeight: 0 }],
        }),
      )
      .catch((e) => e);
    expect(allZero.name).toBe('ValidationException');
    expect(allZero.message).toContain('must be greater than 0');
    expect((await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointStatus).toBe('InService');
    expect(await invoke(CSV, 'text/csv', { TargetVariant: 'b' })).toMatchObject({ predictions: [7], variant: 'b' });
    // RetainAllVariantProperties keeps the running weights of variants with the same name.
    await bed.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg-ab2',
        ProductionVariants: [variant('a', 'model-v1', { InitialInstanceCount: 1 }), variant('b', 'model-v2', { InitialInstanceCount: 3 })],
      }),
    );
    await bed.sm.send(new UpdateEndpointCommand({ EndpointName: EP, EndpointConfigName: 'cfg-ab2', RetainAllVariantProperties: true }));
    const retained = await waitForEndpoint(bed.sm, EP, (x) => x.EndpointStatus === 'InService' && x.EndpointConfigName === 'cfg-ab2');
    expect(retained.ProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight, v.CurrentInstanceCount])).toEqual([
      ['a', 1, 1],
      ['b', 0, 1],
    ]);
    // Sampling at 0% captures nothing.
    await bed.admin('POST', 'flush');
    const none = await bed.s3.send(new ListObjectsV2Command({ Bucket: bed.bucket, Prefix: 'capture-sampled-out/' }));
    expect(none.KeyCount).toBe(0);
  }, 120_000);

  it('completes a linear update step by step', async () => {
    // No new data on the new fleet's series: the alarm returns to OK by itself.
    await waitForAlarm(ALARM, 'OK');
    await bed.sm.send(
      new UpdateEndpointCommand({
        EndpointName: EP,
        EndpointConfigName: 'cfg-v2',
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: {
              Type: 'LINEAR',
              LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 50 },
              WaitIntervalInSeconds: 3600,
            },
            TerminationWaitInSeconds: 600,
          },
          AutoRollbackConfiguration: { Alarms: [{ AlarmName: ALARM }] },
        },
      }),
    );
    // Each step bakes for an hour (36 s of real time): the admin clock skips it.
    for (const share of [0.5, 1]) {
      const d = await waitForEndpoint(
        bed.sm,
        EP,
        (x) =>
          x.PendingDeploymentSummary?.ProductionVariants?.[0].VariantStatus?.[0].Status === 'Baking' &&
          x.PendingDeploymentSummary.ProductionVariants[0].CurrentWeight === share,
      );
      expect(d.EndpointStatus).toBe('Updating');
      expect(d.ProductionVariants?.[0].CurrentWeight).toBe(1 - share);
      await bed.admin('POST', 'advance', { seconds: 3600 });
    }
    // Cut over; the old fleet waits TerminationWaitInSeconds before it goes.
    const terminating = await waitForEndpoint(bed.sm, EP, (x) => x.ProductionVariants?.[0].VariantStatus?.[0].Status === 'Deleting');
    expect(terminating.EndpointStatus).toBe('Updating');
    await bed.admin('POST', 'advance', { seconds: 600 });
    const done = await waitForEndpoint(bed.sm, EP, status('InService'));
    expect(done.EndpointConfigName).toBe('cfg-v2');
    expect(done.FailureReason).toBeUndefined();
    expect(done.ShadowProductionVariants).toBeUndefined();
    expect(done.DataCaptureConfig).toBeUndefined();
    for (let i = 0; i < 5; i++) expect((await invoke(CSV, 'text/csv')).predictions).toEqual([7]);
  }, 120_000);

  it('injects latency and errors per variant through the admin API', async () => {
    await bed.admin('POST', 'faults', { endpointName: EP, variantName: 'prod', errorRate: 1, latencyMs: 300 });
    const started = Date.now();
    const err = await bed.runtime.send(new InvokeEndpointCommand({ EndpointName: EP, Body: CSV, ContentType: 'text/csv' })).catch((e) => e);
    served.prod += 1;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(err.name).toBe('ModelError');
    expect(err.OriginalStatusCode).toBe(500);
    await bed.admin('DELETE', 'faults');
    expect((await invoke(CSV, 'text/csv')).predictions).toEqual([7]);
  });

  it('publishes invocation metrics to CloudWatch', async () => {
    await bed.admin('POST', 'flush');
    const stats = async (metric: string, variantName: string, stat: 'Sum' | 'Average') => {
      const out = await bed.cloudWatch.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/SageMaker',
          MetricName: metric,
          Dimensions: [
            { Name: 'EndpointName', Value: EP },
            { Name: 'VariantName', Value: variantName },
          ],
          StartTime: new Date(Date.now() - 3_600_000),
          EndTime: new Date(Date.now() + 60_000),
          Period: 3600,
          Statistics: [stat],
        }),
      );
      return out.Datapoints ?? [];
    };
    const sum = async (metric: string, variantName: string) =>
      (await stats(metric, variantName, 'Sum')).reduce((s, p) => s + (p.Sum ?? 0), 0);
    for (const name of ['prod', 'a', 'b', 'shadow']) expect(await sum('Invocations', name)).toBe(served[name]);
    // 1/instances per request: prod and shadow always ran 2 instances, a and b one each.
    expect(await sum('InvocationsPerInstance', 'prod')).toBeCloseTo(served.prod / 2, 6);
    expect(await sum('InvocationsPerInstance', 'shadow')).toBeCloseTo(served.shadow / 2, 6);
    expect(await sum('InvocationsPerInstance', 'a')).toBeCloseTo(served.a, 6);
    expect(await sum('Invocation4XXErrors', 'prod')).toBe(1);
    expect(await sum('Invocation5XXErrors', 'prod')).toBe(1 + failed5xx);
    expect(await sum('Invocation5XXErrors', 'a')).toBe(0);
    const latency = await stats('ModelLatency', 'prod', 'Average');
    expect(latency[0].Unit).toBe('Microseconds');
    expect(latency[0].Average).toBeGreaterThan(100);
    // Latencies are published as values, so percentiles exist (CloudWatch computes none from statistic sets).
    const window = { StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date(Date.now() + 60_000) };
    const dims = [
      { Name: 'EndpointName', Value: EP },
      { Name: 'VariantName', Value: 'prod' },
    ];
    const pct = await bed.cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/SageMaker',
        MetricName: 'ModelLatency',
        Dimensions: dims,
        ...window,
        Period: 3600,
        Statistics: ['Maximum', 'Minimum'],
        ExtendedStatistics: ['p50', 'p99', 'p100'],
      }),
    );
    const [point] = pct.Datapoints ?? [];
    const ext = point.ExtendedStatistics!;
    expect(ext.p100).toBe(point.Maximum);
    expect(ext.p50).toBeGreaterThanOrEqual(point.Minimum!);
    expect(ext.p99).toBeGreaterThanOrEqual(ext.p50);
    expect(ext.p99).toBeLessThanOrEqual(point.Maximum!);
    const data = await bed.cloudWatch.send(
      new GetMetricDataCommand({
        ...window,
        MetricDataQueries: [
          {
            Id: 'p99',
            MetricStat: { Metric: { Namespace: 'AWS/SageMaker', MetricName: 'ModelLatency', Dimensions: dims }, Period: 3600, Stat: 'p99' },
          },
        ],
      }),
    );
    expect(data.MetricDataResults?.[0].Values).toEqual([ext.p99]);
  });

  it('rolls an update back when the new model fails its health check, and reports a failed rollback', async () => {
    await bed.sm.send(
      new CreateModelCommand({ ModelName: 'model-sick', PrimaryContainer: { Image: 'mlflow-pyfunc', ModelDataUrl: bed.models.linear } }),
    );
    await bed.admin('POST', 'health-check', { model: 'model-sick', healthy: false });
    await bed.sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg-sick', ProductionVariants: [variant('a', 'model-sick')] }),
    );
    await bed.sm.send(new UpdateEndpointCommand({ EndpointName: EP, EndpointConfigName: 'cfg-sick' }));
    const back = await waitForEndpoint(bed.sm, EP, status('InService'));
    expect(back.EndpointConfigName).toBe('cfg-v2');
    expect(back.FailureReason).toBe(
      'The primary container for production variant a did not pass the ping health check. Please check CloudWatch logs for this endpoint.',
    );
    // Now the old fleet is sick too: the rollback itself fails.
    await bed.admin('POST', 'health-check', { model: bed.models.constant, healthy: false });
    await bed.sm.send(new UpdateEndpointCommand({ EndpointName: EP, EndpointConfigName: 'cfg-sick' }));
    const stuck = await waitForEndpoint(bed.sm, EP, status('UpdateRollbackFailed'));
    expect(stuck.FailureReason).toContain('The rollback failed');
    expect(
      (await bed.runtime.send(new InvokeEndpointCommand({ EndpointName: EP, Body: CSV, ContentType: 'text/csv' })))
        .InvokedProductionVariant,
    ).toBe('prod');
    served.prod += 1;
    const refused = await bed.sm
      .send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: EP,
          DesiredWeightsAndCapacities: [{ VariantName: 'prod', DesiredWeight: 2 }],
        }),
      )
      .catch((e) => e);
    expect(refused.name).toBe('ValidationException');
    // A new UpdateEndpoint is the way out.
    await bed.admin('POST', 'health-check', { model: bed.models.constant, healthy: true });
    await bed.sm.send(new UpdateEndpointCommand({ EndpointName: EP, EndpointConfigName: 'cfg-v2' }));
    const healed = await waitForEndpoint(bed.sm, EP, status('InService'));
    expect(healed.EndpointConfigName).toBe('cfg-v2');
    expect(healed.FailureReason).toBeUndefined();
  }, 60_000);

  it('deletes the endpoint and stops its scoring servers', async () => {
    await bed.sm.send(new DeleteEndpointCommand({ EndpointName: EP }));
    expect((await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointStatus).toBe('Deleting');
    const deadline = Date.now() + 30_000;
    let err: any;
    while (Date.now() < deadline) {
      err = await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP })).then(
        () => undefined,
        (e) => e,
      );
      if (err) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(err?.name).toBe('ValidationException');
    const state = await bed.admin('GET', 'state');
    expect(state.endpoints).toEqual([]);
    expect(state.modelServers).toEqual([]);
  }, 60_000);
});

describe('endpoints while an operation runs, and rolling updates', () => {
  const BUSY = 'busy-endpoint';
  const arn = `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${BUSY}`;

  it('refuses to delete or update an endpoint that is still being created, in SageMaker words', async () => {
    // A nearly frozen clock keeps the endpoint in Creating while the test looks at it.
    await bed.admin('POST', 'time-scale', { timeScale: 0.001 });
    try {
      await bed.sm.send(new CreateEndpointCommand({ EndpointName: BUSY, EndpointConfigName: 'cfg-v1' }));
      expect((await bed.sm.send(new DescribeEndpointCommand({ EndpointName: BUSY }))).EndpointStatus).toBe('Creating');
      const del = await bed.sm.send(new DeleteEndpointCommand({ EndpointName: BUSY })).catch((e) => e);
      expect(del.name).toBe('ValidationException');
      expect(del.message).toBe(`Cannot update in-progress endpoint "${arn}".`);
      const upd = await bed.sm.send(new UpdateEndpointCommand({ EndpointName: BUSY, EndpointConfigName: 'cfg-v2' })).catch((e) => e);
      expect(upd.name).toBe('ValidationException');
      expect(upd.message).toBe(`Cannot update in-progress endpoint "${arn}".`);
      // Names are unique whatever their case, and found in any case.
      const dup = await bed.sm
        .send(new CreateEndpointCommand({ EndpointName: 'Busy-Endpoint', EndpointConfigName: 'cfg-v1' }))
        .catch((e) => e);
      expect(dup.message).toBe(`Cannot create already existing endpoint "${arn}".`);
      const upper = await bed.sm.send(new DescribeEndpointCommand({ EndpointName: 'BUSY-ENDPOINT' }));
      expect(upper).toMatchObject({ EndpointName: BUSY, EndpointArn: arn });
    } finally {
      await bed.admin('POST', 'time-scale', { timeScale: 100 });
    }
    await bed.admin('POST', 'advance', { seconds: 60 });
    await waitForEndpoint(bed.sm, BUSY, status('InService'));
  }, 120_000);

  it('rejects rolling batches outside 5-50% of the fleet and two update policies at once', async () => {
    const rolling = (value: number) => ({
      MaximumBatchSize: { Type: 'CAPACITY_PERCENT' as const, Value: value },
      WaitIntervalInSeconds: 60,
    });
    const tooBig = await bed.sm
      .send(
        new UpdateEndpointCommand({
          EndpointName: BUSY,
          EndpointConfigName: 'cfg-v2',
          DeploymentConfig: { RollingUpdatePolicy: rolling(60) },
        }),
      )
      .catch((e) => e);
    expect(tooBig.name).toBe('ValidationException');
    expect(tooBig.message).toContain('MaximumBatchSize must be between 5% and 50%');
    const both = await bed.sm
      .send(
        new UpdateEndpointCommand({
          EndpointName: BUSY,
          EndpointConfigName: 'cfg-v2',
          DeploymentConfig: {
            RollingUpdatePolicy: rolling(50),
            BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 } },
          },
        }),
      )
      .catch((e) => e);
    expect(both.name).toBe('ValidationException');
    expect((await bed.sm.send(new DescribeEndpointCommand({ EndpointName: BUSY }))).EndpointStatus).toBe('InService');
  });

  it('runs a rolling update batch by batch on the emulated clock', async () => {
    await bed.sm.send(
      new UpdateEndpointCommand({
        EndpointName: BUSY,
        EndpointConfigName: 'cfg-v2',
        DeploymentConfig: {
          RollingUpdatePolicy: {
            MaximumBatchSize: { Type: 'INSTANCE_COUNT', Value: 1 },
            WaitIntervalInSeconds: 3600,
            MaximumExecutionTimeoutInSeconds: 28800,
          },
        },
      }),
    );
    // Two instances, one per batch: half the capacity moves, bakes an hour, then the rest.
    for (const share of [0.5, 1]) {
      const d = await waitForEndpoint(
        bed.sm,
        BUSY,
        (x) =>
          x.PendingDeploymentSummary?.ProductionVariants?.[0].VariantStatus?.[0].Status === 'Baking' &&
          x.PendingDeploymentSummary.ProductionVariants[0].CurrentWeight === share,
      );
      expect(d.EndpointStatus).toBe('Updating');
      expect(d.ProductionVariants?.[0].CurrentWeight).toBe(1 - share);
      await bed.admin('POST', 'advance', { seconds: 3600 });
    }
    const done = await waitForEndpoint(bed.sm, BUSY, status('InService'));
    expect(done.EndpointConfigName).toBe('cfg-v2');
    expect(done.LastDeploymentConfig?.RollingUpdatePolicy?.MaximumBatchSize).toEqual({ Type: 'INSTANCE_COUNT', Value: 1 });
    // Deleting is in progress too: a second DeleteEndpoint is refused while the first runs.
    await bed.admin('POST', 'time-scale', { timeScale: 0.001 });
    try {
      await bed.sm.send(new DeleteEndpointCommand({ EndpointName: BUSY }));
      const again = await bed.sm.send(new DeleteEndpointCommand({ EndpointName: BUSY })).catch((e) => e);
      expect(again.message).toBe(`Cannot update in-progress endpoint "${arn}".`);
    } finally {
      await bed.admin('POST', 'time-scale', { timeScale: 100 });
    }
    await bed.admin('POST', 'advance', { seconds: 60 });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await bed.admin('GET', 'state')).endpoints.length > 0) await new Promise((r) => setTimeout(r, 50));
    expect((await bed.admin('GET', 'state')).endpoints).toEqual([]);
  }, 120_000);
});

describe('models that cannot be served', () => {
  it('fails CreateEndpoint when the scoring server cannot load the model', async () => {
    await bed.sm.send(
      new CreateModelCommand({ ModelName: 'model-broken', PrimaryContainer: { Image: 'mlflow-pyfunc', ModelDataUrl: bed.models.broken } }),
    );
    await bed.sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg-broken', ProductionVariants: [variant('main', 'model-broken')] }),
    );
    await bed.sm.send(new CreateEndpointCommand({ EndpointName: 'broken-endpoint', EndpointConfigName: 'cfg-broken' }));
    const failed = await waitForEndpoint(bed.sm, 'broken-endpoint', (d) => d.EndpointStatus !== 'Creating');
    expect(failed.EndpointStatus).toBe('Failed');
    expect(failed.FailureReason).toBe(
      'The primary container for production variant main did not pass the ping health check. Please check CloudWatch logs for this endpoint.',
    );
    const invoked = await bed.runtime
      .send(new InvokeEndpointCommand({ EndpointName: 'broken-endpoint', Body: CSV, ContentType: 'text/csv' }))
      .catch((e) => e);
    expect(invoked.name).toBe('ValidationError');
    await bed.sm.send(new DeleteEndpointCommand({ EndpointName: 'broken-endpoint' }));
    const state = await bed.admin('GET', 'state');
    expect(state.modelServers).toEqual([]);
    // The scoring server's own complaint is kept for whoever debugs it.
    expect(state.modelErrors.at(-1)).toMatchObject({
      modelDataUrl: bed.models.broken,
      error: expect.stringContaining('no_such_module_anywhere'),
    });
  }, 90_000);
});

describe('stop', () => {
  /** Pids whose command line mentions the unpacked model of this ModelDataUrl. */
  const scoringPids = (modelDataUrl: string) => {
    const dir = createHash('sha256').update(modelDataUrl).digest('hex').slice(0, 16);
    return readdirSync('/proc').filter((pid) => {
      if (!/^\d+$/.test(pid)) return false;
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/model`);
      } catch {
        return false;
      }
    });
  };

  it('kills every scoring server, even one still starting', async () => {
    await bed.sm.send(new CreateEndpointCommand({ EndpointName: 'late-endpoint', EndpointConfigName: 'cfg-v1' }));
    const deadline = Date.now() + 60_000;
    while (scoringPids(bed.models.linear).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(scoringPids(bed.models.linear).length).toBeGreaterThan(0);
    await bed.emulator.stop();
    expect(scoringPids(bed.models.linear)).toEqual([]);
  }, 90_000);
});
