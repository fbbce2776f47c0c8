/**
 * promote's smoke test end to end: the model's input example is read from the real MLflow server,
 * sent with TargetVariant through the SageMaker emulator (which serves the real model), and a
 * candidate whose model fails is removed before any user request reaches it, while live traffic
 * runs. Models: "linear" predicts 2a + 3b + 1, both versions logged with an input example.
 */
import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startDeployBed, startTraffic, type DeployBed } from '../support/deploy-bed.js';
import { runPython } from '../support/python.js';

const id = randomUUID().slice(0, 8);
const EP = `smoke-${id}`;
const MODEL = `smoke-model-${id}`;
const bucket = `smoke-${id}`;
const auditBucket = `smoke-audit-${id}`;

let bed: DeployBed;

const promote = (...args: string[]) => runCli(['promote', '--wait', '120s', '--poll', '200ms', ...args], { cwd: bed.dir, env: bed.env });

async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${bed.emulator.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.ok, await res.text()).toBe(true);
}

/** Invocations of one variant of the endpoint since `from`, as SageMaker published them. */
async function invocations(variant: string, from: Date): Promise<number> {
  const out = await bed.cw.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocations',
      Dimensions: [
        { Name: 'EndpointName', Value: EP },
        { Name: 'VariantName', Value: variant },
      ],
      StartTime: new Date(from.getTime() - 60_000),
      EndTime: new Date(Date.now() + 60_000),
      Period: 3600,
      Statistics: ['Sum'],
    }),
  );
  return (out.Datapoints ?? []).reduce((t, d) => t + (d.Sum ?? 0), 0);
}

beforeAll(async () => {
  bed = await startDeployBed({ motoUrl: inject('motoUrl'), bucket, auditBucket, dirPrefix: 'mlops-smoke-' });
  await runPython(
    `
import mlflow, mlflow.sklearn, numpy as np, pandas as pd
from sklearn.linear_model import LinearRegression
mlflow.set_experiment("smoke-${id}")
x = pd.DataFrame([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], columns=["a", "b"])
for _ in range(2):
    with mlflow.start_run():
        mlflow.sklearn.log_model(LinearRegression().fit(x, 2 * x.a + 3 * x.b + 1), name="model", registered_model_name="${MODEL}", input_example=x.head(3))
`,
    { MLFLOW_TRACKING_URI: inject('mlflowUrl') },
    { timeoutMs: 180_000 },
  );
  writeFileSync(
    join(bed.dir, 'mlops.config.yaml'),
    `version: 1
project: ${MODEL}
mlflow:
  trackingUri: ${inject('mlflowUrl')}
  registeredModel: ${MODEL}
aws:
  region: us-east-1
  endpoints:
    sagemaker: ${bed.emulator.url}
    s3: ${inject('motoUrl')}
    cloudwatch: ${bed.emulator.cloudWatchUrl}
deploy:
  endpointName: ${EP}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:latest
  instanceType: ml.m5.large
  artifacts: s3://${bucket}/models
  dataCapture:
    destination: s3://${bucket}/capture
  smokeTest:
    rows: 2
  shadow:
    duration: 6s
  cutover:
    type: all-at-once
  terminationWait: 0s
  state:
    uri: s3://${bucket}/state
  lock:
    uri: s3://${bucket}/locks
  audit:
    uri: s3://${auditBucket}/trail
    retentionDays: 1
`,
  );
}, 300_000);

afterAll(async () => {
  await bed?.stop();
});

describe.sequential('the smoke test on the emulator', () => {
  it("a first deployment is smoke-tested with the model's input example before it is done", async () => {
    const r = await promote('--model-version', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      outcome: 'done',
      smoke: { passed: true, variant: 'AllTraffic', status: 200, source: `serving_input_example.json of ${MODEL} v1` },
    });
    // 2a + 3b + 1 on the example's first two rows.
    expect(JSON.parse(r.json().smoke.bodyExcerpt)).toEqual({ predictions: [1, 3] });
  }, 240_000);

  it('a candidate whose model fails is removed before any user request reaches it; exit 1 names the variant, status and body', async () => {
    await admin('POST', 'faults', { endpointName: EP, variantName: 'candidate', errorRate: 1 });
    const before = (await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointConfigName;
    const started = new Date();
    const load = startTraffic(bed, EP, (i) => ({ csv: `a,b\n${i % 7},${i % 5}\n` }), 40);
    const r = await promote('--model-version', '2', '--json');
    const answered = await load.stop();
    await admin('DELETE', 'faults');
    expect(r.code, r.stderr).toBe(1);
    expect(r.json()).toMatchObject({
      outcome: 'rolled-back',
      stage: 'rolled-back',
      smoke: { passed: false, variant: 'candidate', status: 500 },
    });
    expect(r.stderr).toMatch(/smoke test failed: variant "candidate" answered HTTP 500: ModelError: .*Injected fault/);
    const steps = (r.json().steps as string[]).join('\n');
    expect(steps).toMatch(/InvokeEndpoint \S+ TargetVariant=candidate \(smoke test: serving_input_example.json of \S+ v2\)/);
    expect(steps).not.toMatch(/-shadow/);
    expect((await bed.sm.send(new DescribeEndpointCommand({ EndpointName: EP }))).EndpointConfigName).toBe(before);
    // Live traffic ran the whole time; the candidate got the smoke request and nothing else.
    await admin('POST', 'flush');
    expect(answered).toBeGreaterThan(0);
    expect(await invocations('AllTraffic', started)).toBeGreaterThan(1);
    expect(await invocations('candidate', started)).toBe(1);
    const audit = (await runCli(['status', '--json'], { cwd: bed.dir, env: bed.env })).json().audit as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['smoke.failed', 'candidate.removed', 'rollback.done']));
  }, 240_000);
});
