/**
 * Requests SageMaker would reject are rejected with the same error code and wording, through the
 * real SDK clients; plus the control plane's resource bookkeeping (no scoring servers needed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteTagsCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  type SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { startEmulator } from '../../src/emulator/index.js';
import { main } from '../../src/emulator/main.js';

const startEmulatorFor = (motoUrl: string) => startEmulator({ s3Endpoint: motoUrl, cloudWatchEndpoint: motoUrl });
import { startBed, type Bed } from './helpers.js';

let bed: Bed;
let modelUrl: string;

beforeAll(async () => {
  bed = await startBed([], { timeScale: 1000 });
  // CreateModel only checks that the archive exists; nothing is served in this file.
  modelUrl = `s3://${bed.bucket}/models/dummy/model.tar.gz`;
  await bed.s3.send(new PutObjectCommand({ Bucket: bed.bucket, Key: 'models/dummy/model.tar.gz', Body: 'x' }));
  await bed.sm.send(new CreateModelCommand({ ModelName: 'm1', PrimaryContainer: { Image: 'mlflow-pyfunc:3', ModelDataUrl: modelUrl } }));
});

afterAll(async () => {
  await bed?.stop();
});

async function rejection(p: Promise<unknown>): Promise<SageMakerServiceException> {
  try {
    await p;
  } catch (err) {
    return err as SageMakerServiceException;
  }
  throw new Error('expected the call to be rejected');
}

const variant = { VariantName: 'AllTraffic', ModelName: 'm1', InstanceType: 'ml.m5.large' as const, InitialInstanceCount: 1 };

describe('validation against the service model', () => {
  it('rejects a missing required field', async () => {
    const err = await rejection(bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c-missing' } as any)));
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe(
      "1 validation error detected: Value null at 'productionVariants' failed to satisfy constraint: Member must not be null",
    );
  });

  it('rejects an invalid name with the pattern from the model', async () => {
    const err = await rejection(
      bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'bad_name!', ProductionVariants: [variant] })),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(
      "1 validation error detected: Value 'bad_name!' at 'endpointConfigName' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}',
    );
  });

  it('rejects an out-of-range wait interval, and lists every failure', async () => {
    await bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c-ok', ProductionVariants: [variant] }));
    const err = await rejection(
      bed.sm.send(
        new UpdateEndpointCommand({
          EndpointName: 'ep-none',
          EndpointConfigName: 'c-ok',
          DeploymentConfig: {
            BlueGreenUpdatePolicy: {
              TrafficRoutingConfiguration: {
                Type: 'CANARY',
                WaitIntervalInSeconds: 4000,
                CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
              },
              MaximumExecutionTimeoutInSeconds: 60,
            },
            AutoRollbackConfiguration: { Alarms: [] },
          },
        }),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/^3 validation errors detected: /);
    expect(err.message).toContain(
      "Value '4000' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600",
    );
    expect(err.message).toContain(
      "Value '60' at 'deploymentConfig.blueGreenUpdatePolicy.maximumExecutionTimeoutInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 600",
    );
    expect(err.message).toContain(
      "Value '[]' at 'deploymentConfig.autoRollbackConfiguration.alarms' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  it('rejects a maximum execution time shorter than the waits it must contain', async () => {
    const err = await rejection(
      bed.sm.send(
        new UpdateEndpointCommand({
          EndpointName: 'ep-none',
          EndpointConfigName: 'c-ok',
          DeploymentConfig: {
            BlueGreenUpdatePolicy: {
              TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 600 },
              TerminationWaitInSeconds: 300,
              MaximumExecutionTimeoutInSeconds: 900,
            },
          },
        }),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain('MaximumExecutionTimeoutInSeconds (900) must be larger than');
  });

  it('checks enums and nested list members with their index', async () => {
    const err = await rejection(
      bed.sm.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'c-enum',
          ProductionVariants: [variant, { ...variant, VariantName: 'x_y', InitialVariantWeight: -1 }],
          DataCaptureConfig: {
            InitialSamplingPercentage: 101,
            DestinationS3Uri: 's3://b/p',
            CaptureOptions: [{ CaptureMode: 'Both' as any }],
          },
        }),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain(
      "at 'productionVariants.2.member.variantName' failed to satisfy constraint: Member must satisfy regular expression pattern",
    );
    expect(err.message).toContain(
      "Value '-1' at 'productionVariants.2.member.initialVariantWeight' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
    expect(err.message).toContain(
      "Value '101' at 'dataCaptureConfig.initialSamplingPercentage' failed to satisfy constraint: Member must have value less than or equal to 100",
    );
    expect(err.message).toContain(
      "Value 'Both' at 'dataCaptureConfig.captureOptions.1.member.captureMode' failed to satisfy constraint: Member must satisfy enum value set: [Input, Output, InputAndOutput]",
    );
  });

  it('validates runtime requests against the runtime model (ValidationError)', async () => {
    const err = await rejection(
      bed.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'no-such',
          Body: Buffer.from('a\n1'),
          ContentType: 'text/csv',
          TargetVariant: 'bad_variant',
        }),
      ),
    );
    expect(err.name).toBe('ValidationError');
    expect(err.message).toContain("at 'targetVariant' failed to satisfy constraint");
    const missing = await rejection(
      bed.runtime.send(new InvokeEndpointCommand({ EndpointName: 'no-such', Body: Buffer.from('a\n1'), ContentType: 'text/csv' })),
    );
    expect(missing.name).toBe('ValidationError');
    expect(missing.message).toBe('Endpoint no-such of account 123456789012 not found.');
  });
});

describe('resources', () => {
  it('reports missing and duplicate resources as SageMaker does', async () => {
    const noEp = await rejection(bed.sm.send(new DescribeEndpointCommand({ EndpointName: 'nope' })));
    expect(noEp.name).toBe('ValidationException');
    expect(noEp.message).toBe('Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/nope".');
    const noCfg = await rejection(bed.sm.send(new CreateEndpointCommand({ EndpointName: 'ep1', EndpointConfigName: 'nope' })));
    expect(noCfg.message).toBe('Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/nope".');
    const dup = await rejection(
      bed.sm.send(new CreateModelCommand({ ModelName: 'm1', PrimaryContainer: { Image: 'i', ModelDataUrl: modelUrl } })),
    );
    expect(dup.name).toBe('ValidationException');
    expect(dup.message).toBe('Cannot create already existing model "arn:aws:sagemaker:us-east-1:123456789012:model/m1".');
    const noData = await rejection(
      bed.sm.send(
        new CreateModelCommand({ ModelName: 'm-nodata', PrimaryContainer: { Image: 'i', ModelDataUrl: `s3://${bed.bucket}/none.tar.gz` } }),
      ),
    );
    expect(noData.message).toBe(`Could not find model data at s3://${bed.bucket}/none.tar.gz.`);
    const noModel = await rejection(
      bed.sm.send(
        new CreateEndpointConfigCommand({ EndpointConfigName: 'c-nomodel', ProductionVariants: [{ ...variant, ModelName: 'ghost' }] }),
      ),
    );
    expect(noModel.message).toBe('Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/ghost".');
  });

  it('describes, lists, tags and deletes models and configs', async () => {
    const model = await bed.sm.send(new DescribeModelCommand({ ModelName: 'm1' }));
    expect(model.ModelArn).toBe('arn:aws:sagemaker:us-east-1:123456789012:model/m1');
    expect(model.PrimaryContainer?.ModelDataUrl).toBe(modelUrl);
    expect(model.CreationTime).toBeInstanceOf(Date);

    await bed.sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'c-tags',
        ProductionVariants: [variant],
        Tags: [{ Key: 'team', Value: 'ml' }],
      }),
    );
    const cfg = await bed.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'c-tags' }));
    expect(cfg.ProductionVariants?.[0].InitialVariantWeight).toBe(1);
    const arn = cfg.EndpointConfigArn!;
    await bed.sm.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: 'stage', Value: 'prod' }] }));
    expect((await bed.sm.send(new ListTagsCommand({ ResourceArn: arn }))).Tags).toEqual([
      { Key: 'team', Value: 'ml' },
      { Key: 'stage', Value: 'prod' },
    ]);
    await bed.sm.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['team'] }));
    expect((await bed.sm.send(new ListTagsCommand({ ResourceArn: arn }))).Tags).toEqual([{ Key: 'stage', Value: 'prod' }]);

    const list = await bed.sm.send(new ListEndpointConfigsCommand({ NameContains: 'c-', SortBy: 'Name', SortOrder: 'Ascending' }));
    expect(list.EndpointConfigs?.map((c) => c.EndpointConfigName)).toEqual(['c-ok', 'c-tags']);
    const page = await bed.sm.send(new ListEndpointConfigsCommand({ MaxResults: 1, SortBy: 'Name', SortOrder: 'Ascending' }));
    expect(page.EndpointConfigs).toHaveLength(1);
    expect(page.NextToken).toBeTruthy();

    await bed.sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'c-tags' }));
    const gone = await rejection(bed.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'c-tags' })));
    expect(gone.name).toBe('ValidationException');
    await bed.sm.send(new CreateModelCommand({ ModelName: 'm-del', PrimaryContainer: { Image: 'i', ModelDataUrl: modelUrl } }));
    await bed.sm.send(new DeleteModelCommand({ ModelName: 'm-del' }));
    expect((await rejection(bed.sm.send(new DescribeModelCommand({ ModelName: 'm-del' })))).name).toBe('ValidationException');
  });

  it('rejects canary sizes over 50% and shadow configs with more than one production variant', async () => {
    await bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c-shadow-bad-base', ProductionVariants: [variant] }));
    const shadowErr = await rejection(
      bed.sm.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'c-shadow-bad',
          ProductionVariants: [variant, { ...variant, VariantName: 'second' }],
          ShadowProductionVariants: [{ ...variant, VariantName: 'shadow' }],
        }),
      ),
    );
    expect(shadowErr.name).toBe('ValidationException');
  });
});

describe('admin API', () => {
  it('resets every resource and the time scale, and rejects bad input', async () => {
    const own = await startEmulatorFor(bed.moto.url);
    try {
      const sm = new SageMakerClient({ region: 'us-east-1', endpoint: own.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      await sm.send(new CreateModelCommand({ ModelName: 'temp', PrimaryContainer: { Image: 'i', ModelDataUrl: modelUrl } }));
      const post = (path: string, body: unknown) => fetch(`${own.url}/_emulator/${path}`, { method: 'POST', body: JSON.stringify(body) });
      expect((await post('time-scale', { timeScale: 500 })).status).toBe(200);
      expect((await post('time-scale', { timeScale: -1 })).status).toBe(400);
      expect((await post('advance', { seconds: 'soon' })).status).toBe(400);
      expect((await post('reset', {})).status).toBe(200);
      const state = (await (await fetch(`${own.url}/_emulator/state`)).json()) as { models: string[]; timeScale: number };
      expect(state).toMatchObject({ models: [], timeScale: 1 });
      expect((await rejection(sm.send(new DescribeModelCommand({ ModelName: 'temp' })))).name).toBe('ValidationException');
      sm.destroy();
    } finally {
      await own.stop();
    }
  });
});

describe('the CLI entry', () => {
  const sink = () => {
    const out = { text: '', write: (c: string) => ((out.text += c), true) };
    return out;
  };

  it('starts from flags, prints its URL, and stops on the signal', async () => {
    const stdout = sink();
    const stderr = sink();
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    const running = main(['--moto', bed.moto.url, '--time-scale', '60', '--verbose'], {
      stdout,
      stderr,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stopSignal,
    });
    const deadline = Date.now() + 20_000;
    while (!stdout.text.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const url = stdout.text.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const state = (await (await fetch(`${url}/_emulator/state`)).json()) as { timeScale: number };
    expect(state.timeScale).toBe(60);
    stop();
    expect(await running).toBe(0);
    expect(stderr.text).toContain('SageMaker emulator listening on');
    await expect(fetch(`${url}/_emulator/health`)).rejects.toThrow();
  });

  it('exits 2 on bad flags', async () => {
    const stderr = sink();
    const code = await main(['--port'], { stdout: sink(), stderr, env: {}, stopSignal: Promise.resolve() });
    expect(code).toBe(2);
    expect(await main([], { stdout: sink(), stderr, env: {}, stopSignal: Promise.resolve() })).toBe(2);
    expect(stderr.text).toContain('usage: sagemaker-emulator');
  });
});
