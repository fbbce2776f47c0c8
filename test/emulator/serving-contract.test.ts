/**
 * The serving contract of MLflow's SageMaker image (src/emulator/serving-contract.ts), through the
 * real SDK: SageMaker accepts each of these models at CreateModel (the data exists), and the
 * endpoint fails when its container cannot start, with SageMaker's health-check FailureReason; the
 * container's own complaint is in the admin API's modelErrors (CloudWatch logs on AWS).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  UpdateEndpointCommand,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBed, status, waitForEndpoint, type Bed } from './helpers.js';

let bed: Bed;
const work = mkdtempSync(join(tmpdir(), 'mlops-contract-'));
const PYFUNC_MLMODEL = 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n';
const healthCheck = (variant: string) =>
  `The primary container for production variant ${variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`;

/** Packs a file-tree literal with the system's tar, uploads it, returns its s3:// URL. */
async function archive(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  const top = [...new Set(Object.keys(files).map((f) => f.split('/')[0]))];
  const out = join(work, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', out, '-C', dir, ...top]);
  const key = `contract/${name}/model.tar.gz`;
  await bed.s3.send(new PutObjectCommand({ Bucket: bed.bucket, Key: key, Body: readFileSync(out) }));
  return `s3://${bed.bucket}/${key}`;
}

const variant = (model: string): ProductionVariant => ({
  VariantName: 'main',
  ModelName: model,
  InstanceType: 'ml.m5.large',
  InitialInstanceCount: 1,
});

/** CreateModel (accepted) + config + CreateEndpoint: the endpoint must end Failed. */
async function endpointFails(name: string, modelDataUrl: string, environment?: Record<string, string>) {
  const created = await bed.sm.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/sagemaker',
      PrimaryContainer: { Image: 'mlflow-pyfunc', ModelDataUrl: modelDataUrl, Environment: environment },
    }),
  );
  expect(created.ModelArn).toContain(`model/${name}`);
  await bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [variant(name)] }));
  await bed.sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
  const failed = await waitForEndpoint(bed.sm, name, (d) => d.EndpointStatus !== 'Creating');
  expect(failed.EndpointStatus).toBe('Failed');
  expect(failed.FailureReason).toBe(healthCheck('main'));
  await bed.sm.send(new DeleteEndpointCommand({ EndpointName: name }));
  const state = await bed.admin('GET', 'state');
  expect(state.modelServers).toEqual([]);
  return state.modelErrors.at(-1) as { modelDataUrl: string; error: string };
}

beforeAll(async () => {
  bed = await startBed(['linear'], {
    timeScale: 100,
    durations: { createEndpoint: 30, provisionFleet: 30, rollback: 10, deleteEndpoint: 5 },
  });
}, 300_000);

afterAll(async () => {
  await bed?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("models MLflow's pyfunc image would not start", () => {
  it('an archive whose MLmodel is in a folder, not at the root, fails the endpoint', async () => {
    const url = await archive('nested', { 'model/MLmodel': PYFUNC_MLMODEL, 'model/model.pkl': 'x' });
    expect(await endpointFails('contract-nested', url)).toMatchObject({
      modelDataUrl: url,
      error: expect.stringContaining('no MLmodel file at the root of the model data archive'),
    });
  });

  it('an MLmodel without the python_function flavor fails the endpoint', async () => {
    const url = await archive('no-pyfunc', { MLmodel: 'flavors:\n  sklearn:\n    pickled_model: model.pkl\n', 'model.pkl': 'x' });
    const env = { MLFLOW_DEPLOYMENT_FLAVOR_NAME: 'python_function', SERVING_ENVIRONMENT: 'SageMaker' };
    expect((await endpointFails('contract-no-pyfunc', url, env)).error).toContain(
      'MLmodel has no python_function flavor (flavors: sklearn)',
    );
  });

  it('an MLmodel that is not YAML fails the endpoint', async () => {
    const url = await archive('bad-yaml', { MLmodel: 'flavors: [python_function\n' });
    expect((await endpointFails('contract-bad-yaml', url)).error).toContain('MLmodel is not valid YAML');
  });

  it('MLFLOW_DEPLOYMENT_FLAVOR_NAME=mleap fails the endpoint (the image would start the MLeap Java server)', async () => {
    const url = await archive('mleap', { MLmodel: PYFUNC_MLMODEL, 'model.pkl': 'x' });
    const env = { MLFLOW_DEPLOYMENT_FLAVOR_NAME: 'mleap', SERVING_ENVIRONMENT: 'SageMaker' };
    expect((await endpointFails('contract-mleap', url, env)).error).toContain('MLFLOW_DEPLOYMENT_FLAVOR_NAME is "mleap"');
  });

  it('an update to a model that breaks the contract rolls back to the serving fleet', async () => {
    const env = { MLFLOW_DEPLOYMENT_FLAVOR_NAME: 'python_function', SERVING_ENVIRONMENT: 'SageMaker' };
    await bed.sm.send(
      new CreateModelCommand({
        ModelName: 'contract-good',
        PrimaryContainer: { Image: 'mlflow-pyfunc', ModelDataUrl: bed.models.linear, Environment: env },
      }),
    );
    await bed.sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: 'contract-good', ProductionVariants: [variant('contract-good')] }),
    );
    await bed.sm.send(new CreateEndpointCommand({ EndpointName: 'contract-update', EndpointConfigName: 'contract-good' }));
    await waitForEndpoint(bed.sm, 'contract-update', status('InService'), 240_000);

    const url = await archive('update-nested', { 'model/MLmodel': PYFUNC_MLMODEL });
    await bed.sm.send(
      new CreateModelCommand({
        ModelName: 'contract-bad',
        PrimaryContainer: { Image: 'mlflow-pyfunc', ModelDataUrl: url, Environment: env },
      }),
    );
    await bed.sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: 'contract-bad', ProductionVariants: [variant('contract-bad')] }),
    );
    await bed.sm.send(new UpdateEndpointCommand({ EndpointName: 'contract-update', EndpointConfigName: 'contract-bad' }));
    const back = await waitForEndpoint(bed.sm, 'contract-update', (d) => d.EndpointStatus === 'InService' && d.FailureReason !== undefined);
    expect(back.EndpointConfigName).toBe('contract-good');
    expect(back.FailureReason).toBe(healthCheck('main'));
    expect((await bed.admin('GET', 'state')).modelErrors.at(-1)).toMatchObject({ modelDataUrl: url });
  }, 300_000);
});
