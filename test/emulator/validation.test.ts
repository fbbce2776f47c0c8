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
  DeleteEndpointCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  type SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { CaptureWriter } from '../../src/emulator/capture.js';
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

describe('fidelity checks beyond the service model', () => {
  const arnOf = (kind: string, name: string) => `arn:aws:sagemaker:us-east-1:123456789012:${kind}/${name}`;

  it('rejects a NextToken no List call returned', async () => {
    for (const call of [
      () => bed.sm.send(new ListEndpointConfigsCommand({ NextToken: 'not-a-token' })),
      () => bed.sm.send(new ListModelsCommand({ NextToken: 'bm90LWEtdG9rZW4=' })),
      () => bed.sm.send(new ListEndpointsCommand({ NextToken: '42' })),
      () => bed.sm.send(new ListTagsCommand({ ResourceArn: arnOf('model', 'm1'), NextToken: 'garbage' })),
    ]) {
      const err = await rejection(call());
      expect(err.name).toBe('ValidationException');
      expect(err.message).toMatch(/^Invalid pagination token because /);
    }
    // A token the call returned still pages on.
    await bed.sm.send(new CreateModelCommand({ ModelName: 'm-page', PrimaryContainer: { Image: 'i', ModelDataUrl: modelUrl } }));
    const first = await bed.sm.send(new ListModelsCommand({ MaxResults: 1, SortBy: 'Name', SortOrder: 'Ascending' }));
    const second = await bed.sm.send(
      new ListModelsCommand({ MaxResults: 1, SortBy: 'Name', SortOrder: 'Ascending', NextToken: first.NextToken }),
    );
    expect([first.Models?.[0].ModelName, second.Models?.[0].ModelName]).toEqual(['m-page', 'm1']);
  });

  it('rejects tag keys with the reserved aws: prefix, on AddTags and on Create*', async () => {
    const reserved = [{ Key: 'aws:team', Value: 'ml' }];
    const add = await rejection(
      bed.sm.send(new AddTagsCommand({ ResourceArn: arnOf('model', 'm1'), Tags: [{ Key: 'AWS:x', Value: 'y' }] })),
    );
    expect(add.name).toBe('ValidationException');
    expect(add.message).toContain('"aws:"');
    const model = await rejection(
      bed.sm.send(
        new CreateModelCommand({ ModelName: 'm-tagged', PrimaryContainer: { Image: 'i', ModelDataUrl: modelUrl }, Tags: reserved }),
      ),
    );
    expect(model.name).toBe('ValidationException');
    const config = await rejection(
      bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c-tagged', ProductionVariants: [variant], Tags: reserved })),
    );
    expect(config.name).toBe('ValidationException');
    const endpoint = await rejection(
      bed.sm.send(new CreateEndpointCommand({ EndpointName: 'ep-tagged', EndpointConfigName: 'c-ok', Tags: reserved })),
    );
    expect(endpoint.name).toBe('ValidationException');
    // Nothing was created or tagged.
    expect((await bed.sm.send(new ListTagsCommand({ ResourceArn: arnOf('model', 'm1') }))).Tags).toEqual([]);
    expect((await rejection(bed.sm.send(new DescribeModelCommand({ ModelName: 'm-tagged' })))).name).toBe('ValidationException');
    expect((await rejection(bed.sm.send(new DescribeEndpointCommand({ EndpointName: 'ep-tagged' })))).name).toBe('ValidationException');
  });

  it('treats names that differ only in case as one resource', async () => {
    const dupModel = await rejection(
      bed.sm.send(new CreateModelCommand({ ModelName: 'M1', PrimaryContainer: { Image: 'i', ModelDataUrl: modelUrl } })),
    );
    expect(dupModel.message).toBe(`Cannot create already existing model "${arnOf('model', 'm1')}".`);
    expect((await bed.sm.send(new DescribeModelCommand({ ModelName: 'M1' }))).ModelName).toBe('m1');
    await bed.sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: 'Cfg-Case', ProductionVariants: [{ ...variant, ModelName: 'M1' }] }),
    );
    const dupConfig = await rejection(
      bed.sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg-case', ProductionVariants: [variant] })),
    );
    expect(dupConfig.message).toBe(`Cannot create already existing endpoint configuration "${arnOf('endpoint-config', 'cfg-case')}".`);
    const described = await bed.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'CFG-CASE' }));
    expect(described).toMatchObject({ EndpointConfigName: 'Cfg-Case', EndpointConfigArn: arnOf('endpoint-config', 'cfg-case') });
    const names = (await bed.sm.send(new ListEndpointConfigsCommand({ NameContains: 'case' }))).EndpointConfigs?.map(
      (c) => c.EndpointConfigName,
    );
    expect(names).toEqual(['Cfg-Case']);
    await bed.sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'CFG-case' }));
    expect((await rejection(bed.sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'Cfg-Case' })))).name).toBe(
      'ValidationException',
    );
  });

  it('rejects an endpoint config whose production variants all weigh 0', async () => {
    const err = await rejection(
      bed.sm.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'c-zero',
          ProductionVariants: [
            { ...variant, InitialVariantWeight: 0 },
            { ...variant, VariantName: 'other', InitialVariantWeight: 0 },
          ],
        }),
      ),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain('must be greater than 0');
  });

  it('refuses a second DeleteEndpoint while the endpoint is Deleting', async () => {
    // The dummy archive cannot be served: the endpoint fails, which DeleteEndpoint accepts.
    await bed.sm.send(new CreateEndpointCommand({ EndpointName: 'ep-fail', EndpointConfigName: 'c-ok' }));
    const deadline = Date.now() + 30_000;
    let state = 'Creating';
    while (state === 'Creating' && Date.now() < deadline) {
      state = (await bed.sm.send(new DescribeEndpointCommand({ EndpointName: 'ep-fail' }))).EndpointStatus!;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(state).toBe('Failed');
    await bed.admin('POST', 'time-scale', { timeScale: 0.001 });
    try {
      await bed.sm.send(new DeleteEndpointCommand({ EndpointName: 'ep-fail' }));
      const again = await rejection(bed.sm.send(new DeleteEndpointCommand({ EndpointName: 'ep-fail' })));
      expect(again.name).toBe('ValidationException');
      expect(again.message).toBe(`Cannot update in-progress endpoint "${arnOf('endpoint', 'ep-fail')}".`);
      const update = await rejection(bed.sm.send(new UpdateEndpointCommand({ EndpointName: 'ep-fail', EndpointConfigName: 'c-ok' })));
      expect(update.message).toBe(`Cannot update in-progress endpoint "${arnOf('endpoint', 'ep-fail')}".`);
    } finally {
      await bed.admin('POST', 'time-scale', { timeScale: 1000 });
    }
    await bed.admin('POST', 'advance', { seconds: 60 });
  });
});

describe('capture files', () => {
  it('collect records per variant until a file is old or large enough, or the hour changes', async () => {
    let now = 0;
    const writer = new CaptureWriter(bed.s3, { checkIntervalMs: 10, fileSeconds: 60, maxFileBytes: 200, now: () => now });
    const dest = `s3://${bed.bucket}/rotation`;
    const keys = async (variant: string) =>
      ((await bed.s3.send(new ListObjectsV2Command({ Bucket: bed.bucket, Prefix: `rotation/ep/${variant}/` }))).Contents ?? []).map(
        (o) => o.Key!,
      );
    const at = (iso: string) => new Date(iso);
    try {
      // Three small records (about 50 bytes each) share one open file: nothing is written yet.
      for (let i = 0; i < 3; i++) writer.add(dest, 'ep', 'a', { n: i, pad: 'x'.repeat(30) }, at('2026-11-30T10:15:00Z'));
      await new Promise((r) => setTimeout(r, 50));
      expect(await keys('a')).toEqual([]);
      // Emulated time passes the file's age: the check writes it, as one object.
      now = 60_000;
      for (let i = 0; i < 100 && (await keys('a')).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await keys('a')).toEqual([expect.stringMatching(/^rotation\/ep\/a\/2026\/11\/30\/10\/15-00-000-[0-9a-f-]{36}\.jsonl$/)]);
      // A record of the next hour closes the open file; the size limit closes another.
      writer.add(dest, 'ep', 'b', { n: 0 }, at('2026-11-30T10:59:59Z'));
      writer.add(dest, 'ep', 'b', { n: 1 }, at('2026-11-30T11:00:01Z'));
      writer.add(dest, 'ep', 'b', { n: 2, pad: 'x'.repeat(200) }, at('2026-11-30T11:00:02Z'));
      writer.add(dest, 'ep', 'b', { n: 3 }, at('2026-11-30T11:00:03Z'));
      await writer.flush();
      const b = (await keys('b')).sort();
      expect(b.map((k) => k.split('/').slice(3).join('/').slice(0, 23))).toEqual([
        '2026/11/30/10/59-59-000',
        '2026/11/30/11/00-01-000',
        '2026/11/30/11/00-03-000',
      ]);
    } finally {
      await writer.stop();
    }
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
