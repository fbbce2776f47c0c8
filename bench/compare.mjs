#!/usr/bin/env node
// `mlops compare` against an experiment with 10,000 runs, side by side with the equivalent script
// written with the Python MLflow client (MlflowClient.search_runs / get_model_version_by_alias / get_run
// + a metric comparison) and with a bare `node -e 0`, in one interleaved run. Targets (issue 16):
// mlops compare <= 3x `node -e 0` and >= 10x faster than the Python client, printed met / NOT met,
// in two environments side by side: (a) the machine's own, as a user's shell has it, and (b) a clean one.
// It also counts the MLflow requests (and TCP connections) one compare makes, through a counting
// proxy in front of the server (a separate run: the timed runs talk to the server directly).
//
// Usage: npm run build && node bench/compare.mjs [--runs 10000] [--reps 7] [--fresh]
//
// The tracking server is the real `mlflow server` from .venv (sqlite backend). The seeded database
// is cached in $TMPDIR/mlops-bench-compare-<runs>/ so later runs skip the seeding; --fresh rebuilds
// it. The runs are written by MLflow's own Python store in one transaction (REST would take
// minutes); the registered model, alias and candidate go through the REST API.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('runs', 10_000));
const REPS = Math.max(3, Number(arg('reps', 7)));
const FRESH = process.argv.includes('--fresh');
const venvBin = path.join(root, '.venv', 'bin');

if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}
if (!existsSync(path.join(venvBin, 'mlflow'))) {
  console.error('.venv/bin/mlflow is missing: run scripts/setup-venv.sh first.');
  process.exit(2);
}

const cacheDir = path.join(tmpdir(), `mlops-bench-compare-${RUNS}`);
const work = mkdtempSync(path.join(tmpdir(), 'mlops-bench-compare-run-'));

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts mlflow server on the db in `dir`; returns { url, stop }. */
async function startMlflow(dir) {
  const port = await freePort();
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  const child = spawn(
    path.join(venvBin, 'mlflow'),
    [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '2',
      '--backend-store-uri',
      `sqlite:///${path.join(dir, 'mlflow.db')}`,
      '--serve-artifacts',
      '--artifacts-destination',
      path.join(dir, 'artifacts'),
    ],
    { cwd: dir, detached: true, stdio: 'ignore', env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' } },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // not up yet: poll again
    }
  };
  process.on('exit', stop);
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      // not up yet: poll again
    }
    if (Date.now() > deadline) {
      stop();
      throw new Error('mlflow server did not start within 90 s');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, stop };
}

async function api(url, method, endpoint, body) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/api/2.0/mlflow/${endpoint}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((e) => ({ ok: false, status: 0, text: async () => String(e) }));
    if (res.ok) return res.json();
    if ((res.status >= 500 || res.status === 0) && attempt < 5) {
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      continue;
    }
    throw new Error(`${endpoint}: HTTP ${res.status} ${await res.text()}`);
  }
}

/**
 * Seeds RUNS runs (one in 4 on main, one in 20 FAILED) with MLflow's own Python store, in one
 * transaction: through the REST API this takes ~100 ms a run on this machine, here seconds in all.
 */
const PY_SEED = `
import json, sys, uuid
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.tracking.dbmodels.models import SqlRun, SqlTag, SqlMetric, SqlLatestMetric, SqlParam
uri, n = sys.argv[1], int(sys.argv[2])
store = SqlAlchemyStore(uri, "mlflow-artifacts:/")
exp = store.create_experiment("bench-compare")
start0 = 1_700_000_000_000
ids = []
with store.ManagedSessionMaker() as s:
    for i in range(n):
        rid = uuid.uuid4().hex
        ids.append(rid)
        branch = "main" if i % 4 == 0 else f"feature-{i % 7}"
        st = start0 + i * 1000
        s.add(SqlRun(run_uuid=rid, name=f"run-{i}", source_type="LOCAL", source_name="bench", entry_point_name="",
            user_id="bench", status="FAILED" if i % 20 == 7 else "FINISHED", start_time=st, end_time=st + 900,
            source_version="", lifecycle_stage="active", artifact_uri=f"mlflow-artifacts:/{exp}/{rid}/artifacts",
            experiment_id=int(exp)))
        s.add_all([SqlTag(key="mlops.git.branch", value=branch, run_uuid=rid),
                   SqlTag(key="mlops.git.commit", value=format(i, "040x"), run_uuid=rid),
                   SqlTag(key="mlflow.runName", value=f"run-{i}", run_uuid=rid),
                   SqlParam(key="lr", value=str(0.001 * (1 + i % 5)), run_uuid=rid),
                   SqlParam(key="depth", value=str(3 + i % 4), run_uuid=rid)])
        for key, value in (("accuracy", 0.8 + (i % 100) / 1000), ("f1", 0.7 + (i % 50) / 1000),
                           ("loss", 0.5 - (i % 100) / 1000), ("latency_ms", 20.0 + i % 13)):
            s.add(SqlMetric(key=key, value=value, timestamp=st + 500, step=0, is_nan=False, run_uuid=rid))
            s.add(SqlLatestMetric(key=key, value=value, timestamp=st + 500, step=0, is_nan=False, run_uuid=rid))
        if i % 2000 == 1999:
            s.flush()
            print(f"  seeded {i + 1}/{n} runs", file=sys.stderr, flush=True)
print(json.dumps({"experimentId": exp, "ids": ids}))
`;

async function seedDb(dbDir) {
  const t0 = Date.now();
  const r = spawnSync(path.join(venvBin, 'python'), ['-c', PY_SEED, `sqlite:///${path.join(dbDir, 'mlflow.db')}`, String(RUNS)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`seeding failed (exit ${r.status})`);
  const { experimentId, ids } = JSON.parse(r.stdout.trim().split('\n').pop());
  return { experimentId, ids, seededMs: Date.now() - t0 };
}

/** Over REST: the registered model with @production on a FINISHED main run, and the candidate. */
async function seedRest(url, { experimentId: exp, ids, seededMs }) {
  let prodIdx = RUNS - 1 - ((RUNS - 1) % 4) - 40;
  if (prodIdx % 20 === 7) prodIdx -= 4;
  await api(url, 'POST', 'registered-models/create', { name: 'bench-model' });
  const mv = await api(url, 'POST', 'model-versions/create', {
    name: 'bench-model',
    source: `mlflow-artifacts:/${exp}/${ids[prodIdx]}/artifacts/model`,
    run_id: ids[prodIdx],
  });
  await api(url, 'POST', 'registered-models/alias', { name: 'bench-model', alias: 'production', version: mv.model_version.version });
  // The candidate: newest run of all, on a feature branch.
  const start0 = 1_700_000_000_000;
  const cand = await api(url, 'POST', 'runs/create', {
    experiment_id: exp,
    start_time: start0 + RUNS * 1000,
    run_name: 'candidate',
    tags: [{ key: 'mlops.git.branch', value: 'feature-x' }],
  });
  const candId = cand.run.info.run_id;
  await api(url, 'POST', 'runs/log-batch', {
    run_id: candId,
    metrics: ['accuracy', 'f1', 'loss', 'latency_ms'].map((key, k) => ({
      key,
      value: [0.889, 0.74, 0.41, 25][k],
      timestamp: Date.now(),
      step: 0,
    })),
  });
  await api(url, 'POST', 'runs/update', { run_id: candId, status: 'FINISHED', end_time: start0 + RUNS * 1000 + 900 });
  return { experimentId: exp, candidate: candId, production: ids[prodIdx], seededMs };
}

/** An HTTP proxy in front of `target` that counts requests and connections. */
async function countingProxy(target) {
  const t = new URL(target);
  const counts = { requests: [], connections: 0 };
  const server = createHttpServer((req, res) => {
    counts.requests.push(`${req.method} ${req.url.replace(/^\/api\/2\.0\/mlflow\//, '').replace(/\?.*$/, '')}`);
    const out = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(out);
  });
  server.on('connection', () => counts.connections++);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const reset = () => {
    counts.requests = [];
    counts.connections = 0;
  };
  const close = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  };
  return { url: `http://127.0.0.1:${server.address().port}`, counts, reset, close };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Children's user+sys CPU so far, in ms (Linux /proc; 10 ms resolution), else undefined. */
function childCpuMs() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function time(cmd, args, opts) {
  const c0 = childCpuMs();
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { ...opts, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const c1 = childCpuMs();
  return { ms, cpuMs: c0 === undefined ? undefined : c1 - c0, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The Python side does what compare does with the MLflow client a user would script with: the
// candidate's run, the baseline found the same way (alias -> version -> run; or the newest FINISHED
// run matching the filter, never the candidate), and the config's two gates with the same rules
// (accuracy: relative drop <= 1%; loss: absolute rise <= 0.05; a missing/NaN value fails).
const PY_GATES = `
import sys, math
def verdict(base, cand):
    failed = 0
    for metric, higher, rel, ab in [("accuracy", True, 0.01, None), ("loss", False, None, 0.05)]:
        b, c = base.get(metric, float("nan")), cand.get(metric, float("nan"))
        worse = (b - c) if higher else (c - b)
        eps = 1e-9 * max(abs(b), abs(c), 1e-12)
        ok = not math.isnan(b) and not math.isnan(c) and (ab is None or worse <= ab + eps) and (rel is None or worse <= rel * abs(b) + eps)
        print(f"{metric}: baseline={b} candidate={c} {'pass' if ok else 'FAIL'}")
        failed += not ok
    sys.exit(1 if failed else 0)
`;

const PY_FILTER = `${PY_GATES}
from mlflow import MlflowClient
client = MlflowClient(sys.argv[1])
cand_id, exp_id = sys.argv[2], sys.argv[3]
runs = client.search_runs([exp_id],
    filter_string="tags.\`mlops.git.branch\` = 'main' and attributes.status = 'FINISHED'",
    order_by=["attributes.start_time DESC"], max_results=2)
base = [r for r in runs if r.info.run_id != cand_id][0]
verdict(base.data.metrics, client.get_run(cand_id).data.metrics)
`;

const PY_ALIAS = `${PY_GATES}
from mlflow import MlflowClient
client = MlflowClient(sys.argv[1])
cand_id = sys.argv[2]
mv = client.get_model_version_by_alias("bench-model", "production")
verdict(client.get_run(mv.run_id).data.metrics, client.get_run(cand_id).data.metrics)
`;

let server;
try {
  const cached = !FRESH && existsSync(path.join(cacheDir, 'ids.json')) && existsSync(path.join(cacheDir, 'mlflow.db'));
  const dbDir = path.join(work, 'db');
  mkdirSync(dbDir, { recursive: true });
  let ids;
  if (cached) {
    cpSync(path.join(cacheDir, 'mlflow.db'), path.join(dbDir, 'mlflow.db'));
    ids = JSON.parse(readFileSync(path.join(cacheDir, 'ids.json'), 'utf8'));
    server = await startMlflow(dbDir);
  } else {
    process.stderr.write(`seeding ${RUNS} runs (cached afterwards in ${cacheDir})\n`);
    const seeded = await seedDb(dbDir);
    server = await startMlflow(dbDir);
    ids = await seedRest(server.url, seeded);
    mkdirSync(cacheDir, { recursive: true });
    // sqlite in WAL mode may keep recent writes in -wal: copy via the sqlite backup API.
    spawnSync(path.join(venvBin, 'python'), [
      '-c',
      `import sqlite3,sys\ns=sqlite3.connect(sys.argv[1]);d=sqlite3.connect(sys.argv[2]);s.backup(d);d.close()`,
      path.join(dbDir, 'mlflow.db'),
      path.join(cacheDir, 'mlflow.db'),
    ]);
    writeFileSync(path.join(cacheDir, 'ids.json'), JSON.stringify(ids));
  }

  const proj = path.join(work, 'project');
  mkdirSync(path.join(proj, '.git'), { recursive: true });
  writeFileSync(
    path.join(proj, 'mlops.config.yaml'),
    [
      'version: 1',
      'project: bench',
      'mlflow:',
      // The environment's MLFLOW_TRACKING_URI wins over this: the counting run points it at the proxy.
      `  trackingUri: ${server.url}`,
      '  registeredModel: bench-model',
      'compare:',
      '  gates:',
      '    - { metric: accuracy, direction: higher, maxRelativeDrop: 0.01 }',
      '    - { metric: loss, direction: lower, maxAbsoluteDrop: 0.05 }',
      '',
    ].join('\n'),
  );
  // The candidate as `mlops train` records it (the CI flow: train, then compare).
  mkdirSync(path.join(proj, '.mlops'));
  writeFileSync(path.join(proj, '.mlops', 'last-run.json'), JSON.stringify({ runId: ids.candidate, experimentId: ids.experimentId }));
  const pyFilter = path.join(work, 'compare_filter.py');
  const pyAlias = path.join(work, 'compare_alias.py');
  writeFileSync(pyFilter, PY_FILTER);
  writeFileSync(pyAlias, PY_ALIAS);

  // Two environments, side by side: (a) this machine's as a user's shell has it (inherited, so
  // e.g. NODE_EXTRA_CA_CERTS, which makes every node start read a CA bundle, counts as it does for
  // a user here), and (b) a clean one (PATH and HOME only). Both get what the run needs: the
  // tracking URI (the config's; an inherited one must not send the run elsewhere) and no colour.
  const needs = { NO_COLOR: '1', MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT: 'true', MLFLOW_TRACKING_URI: server.url };
  const envs = {
    shell: { ...process.env, ...needs },
    clean: { PATH: process.env.PATH, HOME: process.env.HOME, ...needs },
  };
  const envLabel = {
    shell: "(a) this machine's environment, as a shell here has it",
    clean: '(b) a clean environment (PATH, HOME)',
  };
  const nodeVars = Object.keys(process.env).filter((k) => k.startsWith('NODE_'));
  const node = process.execPath;
  const mlops = path.join(root, 'bin', 'mlops.cjs');
  const filterArgs = [mlops, 'compare', '--baseline', "filter:tags.`mlops.git.branch` = 'main'", '--json'];
  const aliasArgs = [mlops, 'compare', '--baseline', 'production', '--json'];
  const cases = {};
  for (const [e, env] of Object.entries(envs)) {
    cases[`${e}|node -e 0`] = () => time(node, ['-e', '0'], { cwd: proj, env });
    cases[`${e}|filter: mlops`] = () => time(node, filterArgs, { cwd: proj, env });
    cases[`${e}|filter: python`] = () =>
      time(path.join(venvBin, 'python'), [pyFilter, server.url, ids.candidate, ids.experimentId], { cwd: proj, env });
    cases[`${e}|alias: mlops`] = () => time(node, aliasArgs, { cwd: proj, env });
    cases[`${e}|alias: python`] = () => time(path.join(venvBin, 'python'), [pyAlias, server.url, ids.candidate], { cwd: proj, env });
  }
  // Warm-up, and a check that both sides reach the same verdict on the same baseline.
  for (const [key, fn] of Object.entries(cases)) {
    const [e, name] = key.split('|');
    const r = fn();
    if (r.status !== 0 && r.status !== 1) throw new Error(`${name} (${e}) exited ${r.status}\n${r.stderr}\n${r.stdout}`);
    if (name === 'node -e 0' || e !== 'shell') continue;
    if (name.endsWith('mlops')) {
      const out = JSON.parse(r.stdout);
      const want = name.startsWith('filter') ? undefined : ids.production;
      if (!out.baseline || (want && out.baseline.runId !== want))
        throw new Error(`${name}: unexpected baseline ${JSON.stringify(out.baseline)}`);
      console.log(`${name.padEnd(15)} baseline ${out.baseline.runName ?? out.baseline.runId}, verdict ${out.verdict} (exit ${r.status})`);
    } else {
      console.log(`${name.padEnd(15)} ${r.stdout.trim().split('\n').join('; ')} (exit ${r.status})`);
    }
  }
  // The MLflow requests of one compare, counted by a proxy (spawned asynchronously: the proxy runs here).
  const proxy = await countingProxy(server.url);
  const calls = {};
  for (const [kind, args] of [
    ['filter', filterArgs],
    ['alias', aliasArgs],
  ]) {
    proxy.reset();
    const r = await new Promise((resolve) => {
      const child = spawn(node, args, { cwd: proj, env: { ...envs.clean, MLFLOW_TRACKING_URI: proxy.url }, stdio: 'ignore' });
      child.on('exit', resolve);
    });
    if (r !== 0 && r !== 1) throw new Error(`${kind}: mlops compare through the counting proxy exited ${r}`);
    calls[kind] = { requests: [...proxy.counts.requests], connections: proxy.counts.connections };
  }
  await proxy.close();

  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const load0 = (await import('node:os')).loadavg()[0];
  for (let i = 0; i < REPS; i++) {
    for (const [name, fn] of Object.entries(cases)) {
      const r = fn();
      samples[name].push(r.ms);
      if (r.cpuMs !== undefined) cpu[name].push(r.cpuMs);
    }
  }
  const load1 = (await import('node:os')).loadavg()[0];

  const fmt = (ms) => (ms === undefined || Number.isNaN(ms) ? '     —' : `${ms.toFixed(0).padStart(6)} ms`);
  const med = (xs) => (xs.length ? median(xs) : undefined);
  console.log('');
  console.log(
    `experiment: ${RUNS.toLocaleString('en-US')} runs${cached ? ' (cached database)' : ` (seeded in ${(ids.seededMs / 1000).toFixed(0)} s)`}; median of ${REPS} runs each, both environments interleaved, after a warm-up`,
  );
  console.log(
    `machine: ${(await import('node:os')).cpus().length} cores, 1-min load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} (wall times stretch with load; CPU times much less)`,
  );
  console.log(`node variables the shell environment has: ${nodeVars.length ? nodeVars.join(', ') : 'none'}`);
  const verdicts = [];
  for (const e of Object.keys(envs)) {
    const m = (name) => med(samples[`${e}|${name}`]);
    const c = (name) => med(cpu[`${e}|${name}`]);
    const bare = m('node -e 0');
    console.log('');
    console.log(`${envLabel[e]}: node -e 0 ${fmt(bare).trim()} wall, ${fmt(c('node -e 0')).trim()} CPU (median)`);
    console.log('  baseline by                        mlops wall   python wall   python/mlops   mlops/node   mlops CPU   python CPU');
    for (const kind of ['filter', 'alias']) {
      const mw = m(`${kind}: mlops`);
      const pw = m(`${kind}: python`);
      const label = kind === 'filter' ? 'filter (latest FINISHED on main)' : 'alias (production)';
      console.log(
        `  ${label.padEnd(33)} ${fmt(mw)}  ${fmt(pw).padStart(11)}  ${`${(pw / mw).toFixed(1)}x`.padStart(13)}  ${`${(mw / bare).toFixed(2)}x`.padStart(11)}  ${fmt(c(`${kind}: mlops`)).padStart(10)}  ${fmt(c(`${kind}: python`)).padStart(11)}`,
      );
      verdicts.push([e, `${kind}: mlops <= 3x node -e 0`, `${(mw / bare).toFixed(2)}x`, mw / bare <= 3]);
      verdicts.push([e, `${kind}: mlops >= 10x faster than the Python client`, `${(pw / mw).toFixed(1)}x`, pw / mw >= 10]);
    }
  }
  console.log('');
  for (const kind of ['filter', 'alias']) {
    const c = calls[kind];
    console.log(`MLflow calls, by ${kind}: ${c.requests.length} (${c.requests.join(', ')}) over ${c.connections} connection(s)`);
  }
  console.log('');
  console.log('targets (issue 16; its own figures were taken in environment (a))');
  for (const [e, what, value, met] of verdicts) {
    console.log(`  ${e === 'shell' ? '(a)' : '(b)'} ${what.padEnd(50)} ${value.padStart(7)}  ${met ? 'met' : 'NOT met'}`);
  }
} finally {
  server?.stop();
  rmSync(work, { recursive: true, force: true });
}
