#!/usr/bin/env node
// Throughput and peak memory of `mlops monitor` on 1,000,000 data-capture records of 10 features,
// over local files and over moto's S3, and side by side the usual way (pandas reading the JSON
// lines, scipy's ks_2samp per feature) on the same files, in the same run; and the ratio.
// Targets: >= 200,000 records/s, < 300 MB peak RSS, >= 10x the pandas/scipy script.
//
// Usage: npm run build && node bench/drift.mjs [records] [--no-s3] [--no-pandas]
// Records per second = records / wall time of the whole child process (start-up, reading,
// decoding, statistics, report). Peak memory = max RSS of the child (/usr/bin/time -v). CPU
// seconds (user + system, all threads) are printed too, with the load average: on a shared
// machine the wall time depends on what else runs, the CPU time much less.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RECORDS = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const withS3 = !args.includes('--no-s3');
const withPandas = !args.includes('--no-pandas');
const FEATURES = 10;
const FILES = 8;
const python = path.join(root, '.venv/bin/python');

if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}
if (!existsSync('/usr/bin/time')) {
  console.error('/usr/bin/time (GNU time) is needed for peak memory.');
  process.exit(2);
}

const work = mkdtempSync(path.join(tmpdir(), 'mlops-bench-drift-'));
const log = (s) => process.stderr.write(`[bench] ${s}\n`);

// ---- data ---------------------------------------------------------------------------------------
let seed = 12345;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const normal = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
const names = Array.from({ length: FEATURES }, (_, i) => `f${i}`);
/** One row: 10 features (feature j ~ N(j, 1); with shift, f0..f3 move by 1 std) and a score. */
function row(shift) {
  const xs = names.map((_, j) => j + normal() + (shift && j < 4 ? 1 : 0));
  const score = 1 / (1 + Math.exp(-(xs[0] - xs[1] + 1)));
  return { xs, score };
}

function writeHoldout() {
  const lines = [`${names.join(',')},score`];
  for (let i = 0; i < 20_000; i++) {
    const r = row(false);
    lines.push(`${r.xs.map((x) => x.toFixed(5)).join(',')},${r.score.toFixed(5)}`);
  }
  writeFileSync(path.join(work, 'holdout.csv'), lines.join('\n') + '\n');
}

const captureDir = path.join(work, 'capture', 'bench-ep', 'AllTraffic', '2026', '11', '26', '10');
async function writeCapture() {
  mkdirSync(captureDir, { recursive: true });
  const perFile = Math.ceil(RECORDS / FILES);
  let n = 0;
  const t0 = Date.parse('2026-11-26T10:00:00.000Z');
  for (let f = 0; f < FILES && n < RECORDS; f++) {
    const out = createWriteStream(path.join(captureDir, `capture-${String(f).padStart(3, '0')}.jsonl`), { highWaterMark: 1 << 22 });
    let buf = '';
    for (let i = 0; i < perFile && n < RECORDS; i++, n++) {
      // The second half of the window is shifted: the monitor must find drift in f0..f3 (40% of the inputs).
      const r = row(n >= RECORDS / 2);
      const time = new Date(t0 + Math.floor((n / RECORDS) * 3_500_000)).toISOString();
      buf +=
        `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"${r.xs.map((x) => x.toFixed(5)).join(',')}","encoding":"CSV"},` +
        `"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"${r.score.toFixed(5)}","encoding":"CSV"}},` +
        `"eventMetadata":{"eventId":"${n.toString(16).padStart(8, '0')}-5e1f-4c1b-9b1a-0a0a0a0a0a0a","inferenceTime":"${time}"},"eventVersion":"0"}\n`;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
        buf = '';
      }
    }
    out.write(buf);
    await new Promise((r) => out.end(r));
  }
}

// ---- measuring ----------------------------------------------------------------------------------
/** Runs argv under /usr/bin/time -v; returns wall seconds, max RSS in MB, exit code, stdout. */
function timed(argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-v', ...argv], {
      cwd: opts.cwd ?? work,
      env: { ...process.env, NO_COLOR: '1', ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const t0 = process.hrtime.bigint();
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      const cpu = user && sys ? Number(user[1]) + Number(sys[1]) : NaN;
      resolve({ wall, cpu, rssMb: rss ? Number(rss[1]) / 1024 : NaN, code, stdout, stderr });
    });
  });
}

const mlops = (...a) => [process.execPath, path.join(root, 'bin/mlops.js'), ...a];
const fmtInt = (x) => Math.round(x).toLocaleString('en-US');

const PANDAS = String.raw`
import glob, json, sys, time
import numpy as np, pandas as pd
from scipy import stats
t0 = time.time()
files = sorted(glob.glob(sys.argv[1] + '/**/*.jsonl', recursive=True))
live = pd.concat([pd.read_json(f, lines=True) for f in files], ignore_index=True)
inputs = live['captureData'].map(lambda c: c['endpointInput']['data']).str.split(',', expand=True).astype(float)
inputs.columns = [f'f{i}' for i in range(inputs.shape[1])]
inputs['score'] = live['captureData'].map(lambda c: c['endpointOutput']['data']).astype(float)
base = pd.read_csv(sys.argv[2])
out = {}
n, m = len(base), len(inputs)
for col in base.columns:
    d = stats.ks_2samp(base[col].to_numpy(), inputs[col].to_numpy()).statistic
    out[col] = max(0.0, d - 1.8 * np.sqrt((n + m) / (n * m)))
print(json.dumps({'records': int(m), 'seconds': time.time() - t0, 'ks': out}))
`;

const loadStart = loadavg()[0].toFixed(1);

async function main() {
  log(`work dir ${work}`);
  let t = Date.now();
  writeHoldout();
  await writeCapture();
  const bytes = readdirSync(captureDir).reduce((s, f) => s + statSync(path.join(captureDir, f)).size, 0);
  log(
    `generated ${fmtInt(RECORDS)} capture records (${(bytes / 1e6).toFixed(0)} MB in ${FILES} files) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );

  const prof = spawnSync(
    process.execPath,
    [path.join(root, 'bin/mlops.js'), 'profile', 'holdout.csv', '--prediction', 'score', '--out', 'profile.json'],
    { cwd: work, encoding: 'utf8' },
  );
  if (prof.status !== 0) throw new Error(`profile failed: ${prof.stderr}`);
  writeFileSync(path.join(work, 'mlops.config.yaml'), 'monitor:\n  publish: false\n  rollback: false\n');

  const results = {};
  const common = [
    '--baseline',
    'profile.json',
    '--from',
    '2026-11-26T10:00:00Z',
    '--to',
    '2026-11-26T11:00:00Z',
    '--json',
    '--no-rollback',
  ];

  // Local files.
  const local = await timed(mlops('monitor', ...common, '--capture-dir', 'capture', '--dry-run'));
  if (local.code !== 1 && local.code !== 0) throw new Error(`monitor (local) exited ${local.code}: ${local.stderr.slice(-2000)}`);
  const lo = JSON.parse(local.stdout);
  if (lo.capture.records !== RECORDS) throw new Error(`monitor read ${lo.capture.records} records, expected ${RECORDS}`);
  results.local = {
    cpu: local.cpu,
    wall: local.wall,
    rssMb: local.rssMb,
    rps: RECORDS / local.wall,
    inner: lo.recordsPerSecond,
    status: lo.status,
    drifted: lo.features.filter((f) => f.status === 'drift').map((f) => f.name),
  };
  log(
    `monitor local: ${local.wall.toFixed(2)} s, ${fmtInt(results.local.rps)} records/s, peak ${results.local.rssMb.toFixed(0)} MB, verdict ${lo.status} (${results.local.drifted.join(', ')})`,
  );

  // pandas / scipy.
  if (withPandas) {
    const pd = await timed([python, '-c', PANDAS, path.join(work, 'capture'), path.join(work, 'holdout.csv')]);
    if (pd.code !== 0) throw new Error(`pandas script failed: ${pd.stderr.slice(-2000)}`);
    const po = JSON.parse(pd.stdout.trim().split('\n').pop());
    results.pandas = { cpu: pd.cpu, wall: pd.wall, rssMb: pd.rssMb, rps: RECORDS / pd.wall, ks: po.ks };
    log(`pandas/scipy: ${pd.wall.toFixed(2)} s, ${fmtInt(results.pandas.rps)} records/s, peak ${pd.rssMb.toFixed(0)} MB`);
    // Same answer? Robust KS from the sketches vs exact, per feature.
    results.ksAgreement = Math.max(...lo.features.filter((f) => f.name in po.ks).map((f) => Math.abs(f.stats.ksRobust - po.ks[f.name])));
  }

  // moto's S3.
  if (withS3) {
    const port = 40000 + Math.floor(Math.random() * 20000);
    const moto = spawn(path.join(root, '.venv/bin/moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: 'ignore',
      detached: false,
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 120; i++) {
        try {
          if ((await fetch(`${url}/moto-api/`)).status === 200) break;
        } catch {
          // not up yet: poll again
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      const { S3Client, CreateBucketCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
      const env = {
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      Object.assign(process.env, env);
      const s3 = new S3Client({
        region: 'us-east-1',
        endpoint: url,
        forcePathStyle: true,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'bench-capture' }));
      t = Date.now();
      for (const f of readdirSync(captureDir)) {
        await s3.send(
          new PutObjectCommand({
            Bucket: 'bench-capture',
            Key: `capture/bench-ep/AllTraffic/2026/11/26/10/${f}`,
            Body: readFileSync(path.join(captureDir, f)),
          }),
        );
      }
      log(`uploaded ${FILES} objects to moto in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      writeFileSync(
        path.join(work, 'mlops.config.yaml'),
        `aws:\n  region: us-east-1\n  endpoints:\n    s3: ${url}\nmonitor:\n  endpoint: bench-ep\n  variant: AllTraffic\n  capture: s3://bench-capture/capture\n  publish: false\n  rollback: false\n`,
      );
      const s3run = await timed(mlops('monitor', ...common, '--dry-run'), { env });
      if (s3run.code !== 1 && s3run.code !== 0) throw new Error(`monitor (S3) exited ${s3run.code}: ${s3run.stderr.slice(-2000)}`);
      const so = JSON.parse(s3run.stdout);
      if (so.capture.records !== RECORDS) throw new Error(`monitor (S3) read ${so.capture.records} records, expected ${RECORDS}`);
      results.s3 = { cpu: s3run.cpu, wall: s3run.wall, rssMb: s3run.rssMb, rps: RECORDS / s3run.wall, status: so.status };
      log(`monitor S3: ${s3run.wall.toFixed(2)} s, ${fmtInt(results.s3.rps)} records/s, peak ${s3run.rssMb.toFixed(0)} MB`);
    } finally {
      moto.kill('SIGTERM');
    }
  }

  const cpuCol = (r) => `cpu ${r.cpu.toFixed(2)} s (${fmtInt(RECORDS / r.cpu)} records per cpu-second)`;
  const lines = [
    `bench/drift: ${fmtInt(RECORDS)} capture records, ${FEATURES} features + 1 output, ${(bytes / 1e6).toFixed(0)} MB of JSON lines in ${FILES} files; ${availableParallelism()} cores, load average ${loadStart} at start, ${loadavg()[0].toFixed(1)} at end`,
    `  mlops monitor, local files : ${results.local.wall.toFixed(2)} s  ${fmtInt(results.local.rps)} records/s (scan alone ${fmtInt(results.local.inner)}/s)  ${cpuCol(results.local)}  peak RSS ${results.local.rssMb.toFixed(0)} MB  verdict ${results.local.status} [drifted: ${results.local.drifted.join(', ')}]`,
  ];
  if (results.s3)
    lines.push(
      `  mlops monitor, moto S3     : ${results.s3.wall.toFixed(2)} s  ${fmtInt(results.s3.rps)} records/s  ${cpuCol(results.s3)}  peak RSS ${results.s3.rssMb.toFixed(0)} MB  verdict ${results.s3.status}`,
    );
  if (results.pandas) {
    lines.push(
      `  pandas + scipy ks_2samp    : ${results.pandas.wall.toFixed(2)} s  ${fmtInt(results.pandas.rps)} records/s  ${cpuCol(results.pandas)}  peak RSS ${results.pandas.rssMb.toFixed(0)} MB`,
    );
    lines.push(
      `  ratio (monitor local / pandas): ${(results.local.rps / results.pandas.rps).toFixed(1)}x faster by wall time, ${(results.pandas.cpu / results.local.cpu).toFixed(1)}x less cpu, ${(results.pandas.rssMb / results.local.rssMb).toFixed(1)}x less memory`,
    );
    lines.push(`  largest |robust KS (sketch) - robust KS (exact, scipy)| over the features: ${results.ksAgreement.toFixed(4)}`);
  }
  lines.push(
    `  targets: >= 200,000 records/s: ${results.local.rps >= 200_000 ? 'met' : 'NOT met'}; < 300 MB: ${results.local.rssMb < 300 && (!results.s3 || results.s3.rssMb < 300) ? 'met' : 'NOT met'}` +
      (results.pandas ? `; >= 10x pandas/scipy: ${results.local.rps / results.pandas.rps >= 10 ? 'met' : 'NOT met'}` : ''),
  );
  console.log(lines.join('\n'));
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
