#!/usr/bin/env node
// Throughput and peak memory of `mlops monitor` on 1,000,000 data-capture records of 10 features,
// over local files and over moto's S3, and side by side the way a data scientist would script it
// (pandas reading the JSON lines, scipy's ks_2samp per feature) on the same files, in the same
// run; and the ratio. Two such scripts: a competent vectorised one (pandas' pyarrow JSON reader,
// the CSV payloads split and cast by pyarrow compute: no Python code per record), which the
// target is judged against, and the per-record one of earlier runs (pandas' default reader, a
// Python lambda per record), kept to compare with earlier figures (--no-pandas-rows skips it).
// Then the same monitor on 5x the records (local files only), to show memory flat in the input size.
// Targets (issue 16): >= 500,000 records/s wall, < 300 MB peak RSS at both sizes, >= 20x the
// vectorised pandas/scipy script, largest |robust KS (mlops) - robust KS (scipy, exact)| <= 0.003.
//
// Usage: npm run build && node bench/drift.mjs [records] [--no-s3] [--no-pandas] [--no-pandas-rows] [--no-big]
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
const withBig = !args.includes('--no-big');
const withPandasRows = withPandas && !args.includes('--no-pandas-rows');
const BIG = RECORDS * 5;
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
const bigDir = path.join(work, 'capture-big', 'bench-ep', 'AllTraffic', '2026', '11', '26', '10');
async function writeCapture(dir = captureDir, records = RECORDS) {
  mkdirSync(dir, { recursive: true });
  const perFile = Math.ceil(records / FILES);
  let n = 0;
  const t0 = Date.parse('2026-11-26T10:00:00.000Z');
  for (let f = 0; f < FILES && n < records; f++) {
    const out = createWriteStream(path.join(dir, `capture-${String(f).padStart(3, '0')}.jsonl`), { highWaterMark: 1 << 22 });
    let buf = '';
    for (let i = 0; i < perFile && n < records; i++, n++) {
      // The second half of the window is shifted: the monitor must find drift in f0..f3 (40% of the inputs).
      const r = row(n >= records / 2);
      const time = new Date(t0 + Math.floor((n / records) * 3_500_000)).toISOString();
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

const mlops = (...a) => [process.execPath, path.join(root, 'bin/mlops.cjs'), ...a];
const fmtInt = (x) => Math.round(x).toLocaleString('en-US');

// Both scripts end alike: scipy's ks_2samp per column, less a finite-sample margin (the robust KS this bench compares).
const KS = String.raw`base = pd.read_csv(sys.argv[2])
out = {}
n, m = len(base), len(inputs)
for col in base.columns:
    d = stats.ks_2samp(base[col].to_numpy(), inputs[col].to_numpy()).statistic
    out[col] = max(0.0, d - 1.8 * np.sqrt((n + m) / (n * m)))
print(json.dumps({'records': int(m), 'seconds': time.time() - t0, 'ks': out}))
`;

// The competent script: vectorised from the read on (the target is judged against it).
const PANDAS = String.raw`
import glob, json, sys, time
import numpy as np, pandas as pd, pyarrow as pa, pyarrow.compute as pc
from scipy import stats
t0 = time.time()
files = sorted(glob.glob(sys.argv[1] + '/**/*.jsonl', recursive=True))
live = pd.concat([pd.read_json(f, lines=True, engine='pyarrow', dtype_backend='pyarrow') for f in files], ignore_index=True)
capture = live['captureData']
def csv_cells(field):
    text = pa.array(capture.struct.field([field, 'data']))
    cells = pc.cast(pc.list_flatten(pc.split_pattern(text, ',')), pa.float64()).to_numpy()
    return cells.reshape(len(text), -1)
inputs = pd.DataFrame(csv_cells('endpointInput'))
inputs.columns = [f'f{i}' for i in range(inputs.shape[1])]
inputs['score'] = csv_cells('endpointOutput')[:, 0]
${KS}`;

// The per-record script of earlier runs: pandas' default JSON reader, a Python lambda per record.
const PANDAS_ROWS = String.raw`
import glob, json, sys, time
import numpy as np, pandas as pd
from scipy import stats
t0 = time.time()
files = sorted(glob.glob(sys.argv[1] + '/**/*.jsonl', recursive=True))
live = pd.concat([pd.read_json(f, lines=True) for f in files], ignore_index=True)
inputs = live['captureData'].map(lambda c: c['endpointInput']['data']).str.split(',', expand=True).astype(float)
inputs.columns = [f'f{i}' for i in range(inputs.shape[1])]
inputs['score'] = live['captureData'].map(lambda c: c['endpointOutput']['data']).astype(float)
${KS}`;

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
    [path.join(root, 'bin/mlops.cjs'), 'profile', 'holdout.csv', '--prediction', 'score', '--out', 'profile.json'],
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

  // pandas / scipy: the vectorised script, and the per-record one.
  for (const [key, script, on] of [
    ['pandas', PANDAS, withPandas],
    ['pandasRows', PANDAS_ROWS, withPandasRows],
  ]) {
    if (!on) continue;
    const pd = await timed([python, '-c', script, path.join(work, 'capture'), path.join(work, 'holdout.csv')]);
    if (pd.code !== 0) throw new Error(`pandas script (${key}) failed: ${pd.stderr.slice(-2000)}`);
    const po = JSON.parse(pd.stdout.trim().split('\n').pop());
    if (po.records !== RECORDS) throw new Error(`pandas script (${key}) read ${po.records} records, expected ${RECORDS}`);
    results[key] = { cpu: pd.cpu, wall: pd.wall, rssMb: pd.rssMb, rps: RECORDS / pd.wall, ks: po.ks };
    log(`${key}/scipy: ${pd.wall.toFixed(2)} s, ${fmtInt(results[key].rps)} records/s, peak ${pd.rssMb.toFixed(0)} MB`);
    // Same answer? Robust KS from the live summary vs exact, per feature.
    const err = Math.max(...lo.features.filter((f) => f.name in po.ks).map((f) => Math.abs(f.stats.ksRobust - po.ks[f.name])));
    results.ksAgreement = Math.max(results.ksAgreement ?? 0, err);
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

  // Accuracy at the threshold: live samples shifted so that the exact robust KS lands around 0.1,
  // judged by the built drift code in this process and by scipy on the same numbers.
  if (withPandas) {
    const { ProfileBuilder } = await import(path.join(root, 'dist/core/drift/profile.js'));
    const { LiveSummary, evaluateDrift } = await import(path.join(root, 'dist/core/drift/evaluate.js'));
    const baseVals = Float64Array.from({ length: 20_000 }, () => +normal().toFixed(5));
    const pb = new ProfileBuilder();
    pb.setColumns(['x']);
    for (const x of baseVals) pb.addRow([x]);
    const profile = pb.finish();
    writeFileSync(path.join(work, 'acc-base.f64'), baseVals);
    const ours = [];
    const shifts = Array.from({ length: 21 }, (_, i) => 0.2 + i * 0.008);
    shifts.forEach((shift, i) => {
      const live = Float64Array.from({ length: 100_000 }, () => +(shift + normal()).toFixed(5));
      writeFileSync(path.join(work, `acc-live-${i}.f64`), live);
      const summary = new LiveSummary(profile);
      for (const x of live) summary.addInput([x]);
      ours.push(evaluateDrift(summary).features[0].stats.ksRobust);
    });
    const acc = await timed([
      python,
      '-c',
      `import json, sys, numpy as np\nfrom scipy import stats\nb = np.fromfile(sys.argv[1] + '/acc-base.f64')\nout = []\nfor i in range(${shifts.length}):\n    l = np.fromfile(sys.argv[1] + f'/acc-live-{i}.f64')\n    d = stats.ks_2samp(b, l).statistic\n    out.append(max(0.0, d - 1.8 * np.sqrt((len(b) + len(l)) / (len(b) * len(l)))))\nprint(json.dumps(out))`,
      work,
    ]);
    if (acc.code !== 0) throw new Error(`scipy accuracy check failed: ${acc.stderr.slice(-2000)}`);
    const exact = JSON.parse(acc.stdout.trim().split('\n').pop());
    const errors = exact.map((e, i) => Math.abs(e - ours[i]));
    const wrong = exact.filter((e, i) => Math.abs(e - 0.1) >= 0.003 && e > 0.1 !== ours[i] > 0.1).length;
    results.threshold = {
      max: Math.max(...errors),
      sets: shifts.length,
      near: exact.filter((e) => Math.abs(e - 0.1) < 0.02).length,
      wrong,
    };
    results.ksAgreement = Math.max(results.ksAgreement ?? 0, results.threshold.max);
    log(`threshold sets: largest error ${results.threshold.max.toFixed(5)}, ${wrong} judged differently from scipy`);
  }

  // 5x the records, local files: memory must not grow with the input.
  if (withBig) {
    t = Date.now();
    await writeCapture(bigDir, BIG);
    log(`generated ${fmtInt(BIG)} capture records in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    writeFileSync(path.join(work, 'mlops.config.yaml'), 'monitor:\n  publish: false\n  rollback: false\n');
    const big = await timed(mlops('monitor', ...common, '--capture-dir', 'capture-big', '--dry-run'));
    if (big.code !== 1 && big.code !== 0) throw new Error(`monitor (big) exited ${big.code}: ${big.stderr.slice(-2000)}`);
    const bo = JSON.parse(big.stdout);
    if (bo.capture.records !== BIG) throw new Error(`monitor read ${bo.capture.records} records, expected ${BIG}`);
    results.big = { cpu: big.cpu, wall: big.wall, rssMb: big.rssMb, rps: BIG / big.wall, status: bo.status };
    log(`monitor local x5: ${big.wall.toFixed(2)} s, ${fmtInt(results.big.rps)} records/s, peak ${big.rssMb.toFixed(0)} MB`);
    rmSync(path.join(work, 'capture-big'), { recursive: true, force: true });
  }

  const cpuCol = (r, n = RECORDS) => `cpu ${r.cpu.toFixed(2)} s (${fmtInt(n / r.cpu)} records per cpu-second)`;
  const lines = [
    `bench/drift: ${fmtInt(RECORDS)} capture records, ${FEATURES} features + 1 output, ${(bytes / 1e6).toFixed(0)} MB of JSON lines in ${FILES} files; ${availableParallelism()} cores, load average ${loadStart} at start, ${loadavg()[0].toFixed(1)} at end`,
    `  mlops monitor, local files : ${results.local.wall.toFixed(2)} s  ${fmtInt(results.local.rps)} records/s (scan alone ${fmtInt(results.local.inner)}/s)  ${cpuCol(results.local)}  peak RSS ${results.local.rssMb.toFixed(0)} MB  verdict ${results.local.status} [drifted: ${results.local.drifted.join(', ')}]`,
  ];
  if (results.big)
    lines.push(
      `  mlops monitor, ${fmtInt(BIG)} rec.: ${results.big.wall.toFixed(2)} s  ${fmtInt(results.big.rps)} records/s  ${cpuCol(results.big, BIG)}  peak RSS ${results.big.rssMb.toFixed(0)} MB  verdict ${results.big.status}`,
    );
  if (results.s3)
    lines.push(
      `  mlops monitor, moto S3     : ${results.s3.wall.toFixed(2)} s  ${fmtInt(results.s3.rps)} records/s  ${cpuCol(results.s3)}  peak RSS ${results.s3.rssMb.toFixed(0)} MB  verdict ${results.s3.status}`,
    );
  if (results.pandas) {
    lines.push(
      `  pandas + scipy, vectorised : ${results.pandas.wall.toFixed(2)} s  ${fmtInt(results.pandas.rps)} records/s  ${cpuCol(results.pandas)}  peak RSS ${results.pandas.rssMb.toFixed(0)} MB`,
    );
    if (results.pandasRows)
      lines.push(
        `  pandas + scipy, per record : ${results.pandasRows.wall.toFixed(2)} s  ${fmtInt(results.pandasRows.rps)} records/s  ${cpuCol(results.pandasRows)}  peak RSS ${results.pandasRows.rssMb.toFixed(0)} MB`,
      );
    for (const [name, r] of [
      ['vectorised', results.pandas],
      ['per record', results.pandasRows],
    ])
      if (r)
        lines.push(
          `  ratio (monitor local / pandas ${name}): ${(results.local.rps / r.rps).toFixed(1)}x faster by wall time, ${(r.cpu / results.local.cpu).toFixed(1)}x less cpu, ${(r.rssMb / results.local.rssMb).toFixed(1)}x less memory`,
        );
    lines.push(
      `  largest |robust KS (mlops) - robust KS (exact, scipy)|: ${results.ksAgreement.toFixed(4)} (bench features and threshold sets)`,
    );
  }
  // Each target beside the figure it judges (and the baseline's figure where there is one).
  const mark = (ok) => (ok ? 'met' : 'NOT met');
  const targets = [
    `records/s wall >= 500,000: ${fmtInt(results.local.rps)} (pandas+scipy ${results.pandas ? fmtInt(results.pandas.rps) : 'not run'}) ${mark(results.local.rps >= 500_000)}`,
    `peak RSS < 300 MB at ${fmtInt(RECORDS)}: ${results.local.rssMb.toFixed(0)} MB (pandas+scipy ${results.pandas ? results.pandas.rssMb.toFixed(0) + ' MB' : 'not run'}) ${mark(results.local.rssMb < 300 && (!results.s3 || results.s3.rssMb < 300))}`,
  ];
  if (results.big)
    targets.push(
      `peak RSS < 300 MB at ${fmtInt(BIG)} (flat): ${results.big.rssMb.toFixed(0)} MB, ${(results.big.rssMb / results.local.rssMb).toFixed(2)}x the ${fmtInt(RECORDS)} run ${mark(results.big.rssMb < 300 && results.big.rssMb < results.local.rssMb * 1.25)}`,
    );
  if (results.pandas) {
    targets.push(
      `>= 20x pandas+scipy (wall, the vectorised script): ${(results.local.rps / results.pandas.rps).toFixed(1)}x ${mark(results.local.rps / results.pandas.rps >= 20)}${results.pandasRows ? ` (the per-record script of earlier runs: ${(results.local.rps / results.pandasRows.rps).toFixed(1)}x)` : ''}`,
    );
    targets.push(
      `accuracy, largest robust KS error vs scipy <= 0.003 (bench data and ${results.threshold?.sets ?? 0} shifted sets, ${results.threshold?.near ?? 0} within 0.02 of the 0.1 threshold; ${results.threshold?.wrong ?? 0} judged otherwise than scipy at 0.003 or more from it): ${results.ksAgreement.toFixed(4)} ${mark(results.ksAgreement <= 0.003 && !results.threshold?.wrong)}`,
    );
  }
  lines.push('  targets (issue 16), measured with the load average above:');
  for (const x of targets) lines.push(`    ${x}`);
  console.log(lines.join('\n'));
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
