#!/usr/bin/env node
// promote's own overhead per stage, and rollback time (weights-only vs config-based), on the
// SageMaker emulator with zero lifecycle delays, against real moto and a real MLflow server.
// "Own overhead" of a stage = its wall time minus the time spent waiting for SageMaker (polls that
// found the endpoint busy, and sleeps): what promote itself costs (S3 state/audit/lock writes,
// MLflow calls, packaging, CloudWatch alarms, the bake's reads). Model servers still take real
// seconds to start in the emulator; that is SageMaker time, not promote's.
// The bake's capture reads are shown with the count of S3 requests they made, next to a baseline
// read of the same objects as a user would script it (list each hour, get each object, in turn),
// and the bake stage's own time against the target of issue 16 (<= 0.3 s).
// Run `npm run build` first. Usage: node bench/promote.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setMaxListeners } from 'node:events';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(path.join(root, 'dist/app/deploy.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const d = (p) => import(path.join(root, 'dist', p));
const { startEmulator } = await d('emulator/index.js');
const { wire } = await d('app/deploy.js');
const { runPromote } = await d('core/promote-run.js');
const { runRollback } = await d('core/rollback-run.js');
const { loadConfig } = await d('config/load.js');
const { Io } = await d('cli/io.js');
const { S3Client, CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
const BAKE_TARGET_MS = 300;
const rt = await import('@aws-sdk/client-sagemaker-runtime');

const venv = path.join(root, '.venv', 'bin');
const work = mkdtempSync(path.join(tmpdir(), 'mlops-bench-promote-'));
const stack = await import(path.join(root, 'dist/sandbox/local-stack.js'));
const venvDir = path.join(root, '.venv');
const [moto, mlflow] = await Promise.all([
  stack.startMoto({ venv: venvDir, mode: 'attached' }),
  stack.startMlflow({ venv: venvDir, mode: 'attached' }),
]);
const motoUrl = moto.url;
const mlflowUrl = mlflow.url;
let emulator;
const ms = (x) => `${x.toFixed(0).padStart(6)} ms`;
try {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    USER: 'bench',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: motoUrl, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'bench-audit', ObjectLockEnabledForBucket: true }));
  execFileSync(
    path.join(venv, 'python'),
    [
      '-c',
      `
import mlflow, mlflow.sklearn, numpy as np
from sklearn.linear_model import LinearRegression
x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
for _ in range(5):
    with mlflow.start_run():
        mlflow.sklearn.log_model(LinearRegression().fit(x, 2 * x[:, 0] + 3 * x[:, 1] + 1), name="model", registered_model_name="bench")
`,
    ],
    { env: { ...process.env, MLFLOW_TRACKING_URI: mlflowUrl }, stdio: 'ignore' },
  );
  emulator = await startEmulator({
    s3Endpoint: motoUrl,
    cloudWatchEndpoint: motoUrl,
    timeScale: 1,
    durations: {
      createEndpoint: 0,
      provisionFleet: 0,
      activateTraffic: 0,
      rollback: 0,
      updateWeights: 0,
      deleteEndpoint: 0,
      alarmPollInterval: 1,
    },
    captureFlushIntervalMs: 100,
    // Capture files are written every emulated second (SageMaker delivers them about once a minute), so the 4 s shadow has data.
    captureFileSeconds: 1,
    metricsFlushIntervalMs: 100,
  });
  const runtime = new rt.SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emulator.runtimeUrl, credentials });

  const config = (strategy) =>
    writeFileSync(
      path.join(work, 'mlops.config.yaml'),
      `version: 1
project: bench
mlflow: { trackingUri: '${mlflowUrl}', registeredModel: bench }
aws: { region: us-east-1, endpoints: { sagemaker: '${emulator.url}', s3: '${motoUrl}', cloudwatch: '${motoUrl}' } }
deploy:
  endpointName: bench-${strategy}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: mlflow-pyfunc:latest
  artifacts: s3://bench/models
  dataCapture: { destination: 's3://bench/capture' }
  smokeTest: { enabled: false }
  shadow: { duration: 4s }
  bake: { latencyStatistic: average, maxLatencyRatio: 100, minComparedSamples: 1 }
  cutover: { type: all-at-once }
  terminationWait: 0s
  rollback: { strategy: ${strategy} }
  state: { uri: 's3://bench/state' }
  lock: { uri: 's3://bench/locks' }
  audit: { uri: 's3://bench-audit/trail', retentionDays: 1 }
`,
    );

  const ctxFor = () => {
    const io = new Io({ stdout: process.stdout, stderr: { write: () => true }, env });
    let cached;
    return {
      io,
      cwd: work,
      env,
      globals: { json: false, color: false, verbose: false },
      signal: benchSignal(),
      loadConfig: () => (cached ??= loadConfig({ cwd: work, env })),
    };
  };

  /** Real ports, instrumented: time waiting on SageMaker and per-stage wall time. */
  async function instrumented(strategy) {
    config(strategy);
    const w = await wire(ctxFor(), { poll: '20ms', wait: '10m' });
    const p = await w.ports();
    const t = { waited: 0, calls: [] };
    const busy = ['Creating', 'Updating', 'SystemUpdating', 'RollingBack'];
    const sagemaker = new Proxy(p.sagemaker, {
      get(target, prop) {
        const f = target[prop];
        if (typeof f !== 'function') return f;
        return async (...args) => {
          const t0 = performance.now();
          const out = await f.apply(target, args);
          if (prop === 'describeEndpoint' && out && busy.includes(out.status)) t.waited += performance.now() - t0;
          if (!String(prop).startsWith('describe') && prop !== 'listTags') t.calls.push(String(prop));
          return out;
        };
      },
    });
    const clock = {
      now: () => new Date(),
      sleep: async (msec) => {
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, msec));
        t.waited += performance.now() - t0;
      },
    };
    // Stage boundaries: every save of the deployment record with a new stage.
    const stages = [];
    let current;
    const store = new Proxy(p.store, {
      get(target, prop) {
        const f = target[prop];
        if (prop !== 'putJson') return typeof f === 'function' ? f.bind(target) : f;
        return async (bucket, key, value, opts) => {
          const out = await f.call(target, bucket, key, value, opts);
          if (key.includes('/deployments/') && value.stage !== current?.stage) {
            const now = performance.now();
            if (current) stages.push({ stage: current.stage, wall: now - current.t0, waited: t.waited - current.waited0 });
            current = { stage: value.stage, t0: now, waited0: t.waited };
          }
          return out;
        };
      },
    });
    // The bake's reads, timed apart: CloudWatch statistics and data capture.
    const timed =
      (name, f) =>
      async (...args) => {
        const t0 = performance.now();
        try {
          return await f(...args);
        } finally {
          t[name] = (t[name] ?? 0) + performance.now() - t0;
        }
      };
    const metrics = { ...p.metrics, getMetricStatistics: timed('cloudwatchMs', p.metrics.getMetricStatistics.bind(p.metrics)) };
    // The capture streams: the time counted is the time spent waiting for its batches.
    const capture = {
      async *read(...a) {
        const it = p.capture.read(...a)[Symbol.asyncIterator]();
        for (;;) {
          const t0 = performance.now();
          const r = await it.next();
          t.captureMs = (t.captureMs ?? 0) + performance.now() - t0;
          if (r.done) return;
          t.pairs = (t.pairs ?? 0) + r.value.length;
          yield r.value;
        }
      },
    };
    const ports = { ...p, sagemaker, store, clock, metrics, capture };
    t.s3Requests = () => p.capture.s3Requests;
    const finish = () => {
      if (current) stages.push({ stage: current.stage, wall: performance.now() - current.t0, waited: t.waited - current.waited0 });
      current = undefined;
      return stages.splice(0);
    };
    return { w, ports, t, finish };
  }

  let traffic = false;
  const load = async (endpoint) => {
    traffic = true;
    for (let i = 0; traffic; i++) {
      await runtime
        .send(
          new rt.InvokeEndpointCommand({ EndpointName: endpoint, ContentType: 'text/csv', Body: Buffer.from(`a,b\n${i % 5},${i % 3}\n`) }),
        )
        .catch(() => {});
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const print = (title, stages) => {
    console.log(title);
    for (const s of stages)
      console.log(
        `  ${s.stage.padEnd(12)} wall ${ms(s.wall)}   waiting for SageMaker/bake ${ms(s.waited)}   promote's own ${ms(s.wall - s.waited)}`,
      );
  };

  for (const strategy of ['config', 'keep-warm']) {
    const b = await instrumented(strategy);
    const ep = `bench-${strategy}`;
    const v0 = strategy === 'config' ? 1 : 3;
    let t0 = performance.now();
    let r = await runPromote(b.ports, b.w.settings, { registeredModel: 'bench', version: String(v0) });
    print(`\n[${strategy}] first deployment (v${v0}): ${r.outcome} in ${ms(performance.now() - t0)}`, b.finish());
    const loading = load(ep);
    t0 = performance.now();
    r = await runPromote(b.ports, b.w.settings, { registeredModel: 'bench', version: String(v0 + 1) });
    traffic = false;
    await loading;
    const stages = b.finish();
    print(`[${strategy}] promotion v${v0 + 1}: ${r.outcome} in ${ms(performance.now() - t0)}`, stages);
    console.log(
      `  bake reads: CloudWatch ${ms(b.t.cloudwatchMs ?? 0)}, data capture ${ms(b.t.captureMs ?? 0)} (${b.t.pairs ?? 0} records, ${b.t.s3Requests()} S3 requests)`,
    );
    const bake = stages.find((s) => s.stage === 'bake');
    const own = bake ? bake.wall - bake.waited : NaN;
    const base = await scriptedRead(s3, ep, r.deployment);
    console.log(
      `  bake stage, promote's own time ${ms(own)}: target <= ${BAKE_TARGET_MS} ms ${own <= BAKE_TARGET_MS ? 'met' : 'NOT met'}` +
        `   | baseline, the same capture read as a script would (each hour listed, each object fetched, in turn): ${ms(base.ms)}, ${base.requests} S3 requests, ${base.records} records`,
    );
    b.t.calls.length = 0;
    const w0 = b.t.waited;
    t0 = performance.now();
    const rb = await runRollback(b.ports, b.w.settings, 'bench');
    const wall = performance.now() - t0;
    console.log(
      `[${strategy}] rollback after done: ${rb.outcome} in ${ms(wall)} (waiting for SageMaker ${ms(b.t.waited - w0)}); SageMaker calls that change something: ${b.t.calls.join(', ')}`,
    );
    b.finish();
  }
} finally {
  await emulator?.stop();
  await Promise.all([moto.stop(), mlflow.stop()]);
  rmSync(work, { recursive: true, force: true });
}

/** The baseline: the bake window's capture of both variants read sequentially, as a user would script it. */
async function scriptedRead(s3, endpoint, rec) {
  const from = Date.parse(rec.shadowStartedAt ?? rec.createdAt);
  const to = Date.parse(rec.bake?.judgedAt ?? rec.updatedAt);
  const t0 = performance.now();
  let requests = 0;
  let records = 0;
  const pad = (n) => String(n).padStart(2, '0');
  for (const variant of ['AllTraffic', 'shadow']) {
    for (let h = Math.floor(from / 3_600_000) * 3_600_000 - 3_600_000; h < to; h += 3_600_000) {
      const d = new Date(h);
      const prefix = `capture/${endpoint}/${variant}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`;
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'bench', Prefix: prefix }));
      requests++;
      for (const o of listed.Contents ?? []) {
        const body = await (await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: o.Key }))).Body.transformToString();
        requests++;
        for (const line of body.split('\n')) {
          if (!line.trim()) continue;
          const t = Date.parse(JSON.parse(line).eventMetadata?.inferenceTime ?? '');
          if (t >= from && t <= to) records++;
        }
      }
    }
  }
  return { ms: performance.now() - t0, requests, records };
}

/** Like main's: concurrent S3 reads each listen for an interrupt, so Node's limit of 10 is raised. */
function benchSignal() {
  const { signal } = new AbortController();
  setMaxListeners(64, signal);
  return signal;
}
