#!/usr/bin/env node
// The SageMaker emulator's costs: time from CreateEndpoint to InService (dominated by the real
// `mlflow models serve` start), and InvokeEndpoint latency through the SDK against a direct call
// to the same scoring server (the emulator's overhead, capture and metrics on).
// Run `npm run build` first. Usage: node bench/emulator-invoke.mjs [invocations]  (default 200)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const n = Math.max(20, Number(process.argv[2]) || 200);
if (!existsSync(path.join(root, 'dist/emulator/index.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { startEmulator } = await import(path.join(root, 'dist/emulator/index.js'));
const sm = await import('@aws-sdk/client-sagemaker');
const rt = await import('@aws-sdk/client-sagemaker-runtime');
const { S3Client, CreateBucketCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');

const venv = path.join(root, '.venv', 'bin');
const { startMoto } = await import(path.join(root, 'dist/sandbox/local-stack.js'));
const moto = await startMoto({ venv: path.join(root, '.venv'), mode: 'attached' });
const motoUrl = moto.url;
const work = mkdtempSync(path.join(tmpdir(), 'mlops-bench-emulator-'));
let emulator;
try {
  execFileSync(path.join(venv, 'python'), [path.join(root, 'test/emulator/fixtures/make-model.py'), work, 'linear']);
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: motoUrl, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(
    new PutObjectCommand({ Bucket: 'bench', Key: 'm/model.tar.gz', Body: readFileSync(path.join(work, 'linear', 'model.tar.gz')) }),
  );

  emulator = await startEmulator({ s3Endpoint: motoUrl, cloudWatchEndpoint: motoUrl, timeScale: 1e6, env: process.env });
  const client = new sm.SageMakerClient({ region: 'us-east-1', endpoint: emulator.url, credentials });
  const runtime = new rt.SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emulator.runtimeUrl, credentials });
  await client.send(
    new sm.CreateModelCommand({ ModelName: 'm', PrimaryContainer: { Image: 'mlflow', ModelDataUrl: 's3://bench/m/model.tar.gz' } }),
  );
  await client.send(
    new sm.CreateEndpointConfigCommand({
      EndpointConfigName: 'c',
      ProductionVariants: [{ VariantName: 'v', ModelName: 'm', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
      DataCaptureConfig: {
        InitialSamplingPercentage: 100,
        DestinationS3Uri: 's3://bench/capture',
        CaptureOptions: [{ CaptureMode: 'InputAndOutput' }],
      },
    }),
  );
  const t0 = Date.now();
  await client.send(new sm.CreateEndpointCommand({ EndpointName: 'e', EndpointConfigName: 'c' }));
  await sm.waitUntilEndpointInService({ client, maxWaitTime: 300, minDelay: 1, maxDelay: 1 }, { EndpointName: 'e' });
  const createMs = Date.now() - t0;

  const body = Buffer.from('a,b\n1,2\n');
  const state = await (await fetch(`${emulator.url}/_emulator/state`)).json();
  const direct = state.modelServers[0].url;
  const time = async (fn) => {
    const xs = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await fn();
      xs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return xs.sort((a, b) => a - b);
  };
  const viaSdk = await time(() => runtime.send(new rt.InvokeEndpointCommand({ EndpointName: 'e', Body: body, ContentType: 'text/csv' })));
  const viaDirect = await time(async () => {
    const r = await fetch(`${direct}/invocations`, { method: 'POST', body, headers: { 'content-type': 'text/csv' } });
    await r.arrayBuffer();
  });
  const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(2);
  console.log(`CreateEndpoint -> InService (scoring server start): ${(createMs / 1000).toFixed(1)} s`);
  console.log(`InvokeEndpoint via SDK + emulator: median ${q(viaSdk, 0.5)} ms, p95 ${q(viaSdk, 0.95)} ms (n=${n})`);
  console.log(`direct POST to the scoring server: median ${q(viaDirect, 0.5)} ms, p95 ${q(viaDirect, 0.95)} ms`);
  console.log(`emulator + SDK overhead (median): ${(Number(q(viaSdk, 0.5)) - Number(q(viaDirect, 0.5))).toFixed(2)} ms`);
  for (const c of [client, runtime, s3]) c.destroy();
} finally {
  await emulator?.stop();
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
}
