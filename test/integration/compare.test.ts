/**
 * `mlops compare` end to end against the real MLflow server, with fixtures logged by the official
 * Python client: baseline by alias, stage, filter and run id; higher- and lower-is-better gates at,
 * under and over their tolerance; missing and NaN metrics; no baseline under both policies; a wrong
 * alias; MLflow down and MLflow slow.
 */
import { createServer, request as httpRequest } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { runPython } from '../support/python.js';
import { venvPython } from '../support/peers.js';

const url = inject('mlflowUrl');
const id = randomUUID().slice(0, 8);
const EXP = `compare-exp-${id}`;
const MODEL = `compare-model-${id}`;
const BARE_MODEL = `compare-bare-${id}`; // registered, never aliased: no baseline yet
const TOKEN = 'tok-very-secret-123';

interface Fixtures {
  exp: string;
  b0: string; // older FINISHED main run
  b1: string; // baseline: newest FINISHED main run, version 1 of MODEL @production, stage Production
  failedMain: string;
  dev: string;
  exact: string;
  under: string;
  over: string;
  lossExact: string;
  lossOver: string;
  missing: string;
  nan: string;
  candMain: string;
  running: string; // a feature run never terminated: RUNNING
}

let fx: Fixtures;
let dir: string;

const FIXTURES = `
import json, math, os
from mlflow import MlflowClient
c = MlflowClient(os.environ["URL"])
exp = c.create_experiment(os.environ["EXP"])
t = 1_700_000_000_000
def run(name, start, metrics, branch="feature", status="FINISHED"):
    r = c.create_run(exp, start_time=start, tags={"branch": branch}, run_name=name)
    for k, v in metrics.items():
        c.log_metric(r.info.run_id, k, v)
    c.set_terminated(r.info.run_id, status)
    return r.info.run_id
ids = {"exp": exp}
ids["b0"] = run("b0", t, {"accuracy": 0.5, "loss": 0.9}, branch="main")
ids["b1"] = run("b1", t + 1000, {"accuracy": 0.9, "loss": 0.5, "f1": 0.7}, branch="main")
ids["failedMain"] = run("failed-main", t + 2000, {"accuracy": 0.1, "loss": 5}, branch="main", status="FAILED")
ids["dev"] = run("dev", t + 3000, {"accuracy": 0.2, "loss": 3}, branch="dev")
ids["exact"] = run("exact", t + 4000, {"accuracy": 0.891, "loss": 0.5, "f1": 0.1})
ids["under"] = run("under", t + 4001, {"accuracy": 0.8911, "loss": 0.5})
ids["over"] = run("over", t + 4002, {"accuracy": 0.8909, "loss": 0.5})
ids["lossExact"] = run("loss-exact", t + 4003, {"accuracy": 0.9, "loss": 0.55})
ids["lossOver"] = run("loss-over", t + 4004, {"accuracy": 0.9, "loss": 0.5501})
ids["missing"] = run("missing", t + 4005, {"loss": 0.5})
ids["nan"] = run("nan", t + 4006, {"accuracy": float("nan"), "loss": 0.5})
ids["candMain"] = run("cand-main", t + 9000, {"accuracy": 0.95, "loss": 0.4}, branch="main")
r = c.create_run(exp, start_time=t + 4007, tags={"branch": "feature"}, run_name="running")
c.log_metric(r.info.run_id, "accuracy", 0.95)
ids["running"] = r.info.run_id
c.create_registered_model(os.environ["MODEL"])
b1 = c.get_run(ids["b1"])
mv = c.create_model_version(os.environ["MODEL"], b1.info.artifact_uri + "/model", ids["b1"])
c.set_registered_model_alias(os.environ["MODEL"], "production", mv.version)
c.set_registered_model_alias(os.environ["MODEL"], "staging", mv.version)
c.transition_model_version_stage(os.environ["MODEL"], mv.version, "Production")
c.create_registered_model(os.environ["BARE"])
c.create_model_version(os.environ["BARE"], b1.info.artifact_uri + "/model", ids["b1"])
print(json.dumps(ids))
`;

beforeAll(async () => {
  const out = await runPython(FIXTURES, { URL: url, EXP, MODEL, BARE: BARE_MODEL });
  fx = JSON.parse(out.stdout.trim().split('\n').pop()!) as Fixtures;
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-compare-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const GATES = `
  gates:
    - metric: accuracy
      direction: higher
      maxRelativeDrop: 0.01
    - metric: loss
      direction: lower
      maxAbsoluteDrop: 0.05
`;

/** A fresh project folder with a config; returns its path. */
function project(opts: { trackingUri?: string; model?: string; extraCompare?: string; timeout?: string; lastRun?: object } = {}): string {
  const p = mkdtempSync(path.join(dir, 'p-'));
  mkdirSync(path.join(p, '.git'));
  const mlflow = [
    `  trackingUri: ${opts.trackingUri ?? url}`,
    `  experiment: ${EXP}`,
    `  registeredModel: ${opts.model ?? MODEL}`,
    '  retries: 0',
    opts.timeout ? `  timeout: ${opts.timeout}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  writeFileSync(
    path.join(p, 'mlops.config.yaml'),
    `version: 1\nproject: cmp\nmlflow:\n${mlflow}\ncompare:\n${opts.extraCompare ?? ''}${GATES}`,
  );
  if (opts.lastRun) {
    mkdirSync(path.join(p, '.mlops'), { recursive: true });
    writeFileSync(path.join(p, '.mlops', 'last-run.json'), JSON.stringify(opts.lastRun));
  }
  return p;
}

const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra });
const compare = (cwd: string, args: string[], extraEnv: Record<string, string> = {}) =>
  runCli(['compare', ...args], { cwd, env: env(extraEnv) });

describe('baseline by alias (the default: production)', () => {
  it('a report that cannot be written (/dev/full) is exit 3 with the path and the OS error, after the table (issue 17)', async () => {
    const p = project();
    const r = await compare(p, ['--run', fx.exact, '--report', '/dev/full'], { MLFLOW_TRACKING_TOKEN: TOKEN });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/accuracy/);
    expect(r.stderr).toMatch(/Could not write the report \/dev\/full: ENOSPC/);
    expect(r.stderr).not.toMatch(/internal error|This is a bug/);
    const json = await compare(p, ['--run', fx.exact, '--report', '/dev/full', '--json'], { MLFLOW_TRACKING_TOKEN: TOKEN });
    expect(json.code).toBe(3);
    expect(json.json().error).toMatchObject({ code: 'FILE_NOT_WRITTEN', details: { file: '/dev/full', result: { verdict: 'pass' } } });
  });

  it('--report is relative to the working directory (compare.report to the config folder)', async () => {
    const p = project();
    mkdirSync(path.join(p, 'sub'));
    const r = await runCli(['compare', '--run', fx.exact, '--report', 'out.md', '--json'], {
      cwd: path.join(p, 'sub'),
      env: env({ MLFLOW_TRACKING_TOKEN: TOKEN }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().report).toBe(path.join(p, 'sub', 'out.md'));
    expect(existsSync(path.join(p, 'sub', 'out.md'))).toBe(true);
  });

  it('--report naming a folder: the hint says to name a file, not to free space', async () => {
    const p = project();
    mkdirSync(path.join(p, 'reports'));
    const r = await compare(p, ['--run', fx.exact, '--report', 'reports'], { MLFLOW_TRACKING_TOKEN: TOKEN });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/Could not write the report .*reports: EISDIR/);
    expect(r.stderr).toMatch(/hint: .*reports is a folder: name a file/);
    expect(r.stderr).not.toContain('Free some space');
  });

  it('a drop of exactly the tolerance passes; JSON, Markdown report and step summary', async () => {
    const p = project();
    const summary = path.join(p, 'summary.md');
    const r = await compare(p, ['--run', fx.exact, '--json'], {
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summary,
      MLFLOW_TRACKING_TOKEN: TOKEN,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({
      ok: true,
      verdict: 'pass',
      candidate: { runId: fx.exact, runName: 'exact', url: `${url}/#/experiments/${fx.exp}/runs/${fx.exact}` },
      baseline: { runId: fx.b1, source: { type: 'alias', model: MODEL, alias: 'production', version: '1' } },
      failed: 0,
    });
    expect(out.gates.map((g: { metric: string; verdict: string }) => [g.metric, g.verdict])).toEqual([
      ['accuracy', 'pass'],
      ['loss', 'pass'],
    ]);
    expect(out.others.map((o: { metric: string }) => o.metric)).toEqual(['f1']); // shown, never failing (0.7 -> 0.1)
    const report = readFileSync(path.join(p, '.mlops', 'compare-report.md'), 'utf8');
    expect(report).toContain('### ✅ mlops compare: all 2 gates passed');
    expect(report).toContain(`(${url}/#/experiments/${fx.exp}/runs/${fx.exact})`);
    expect(report).toContain(`(${url}/#/experiments/${fx.exp}/runs/${fx.b1})`);
    expect(report).toContain('| `accuracy` | 0.9 | 0.891 | -0.009 | -1% | drop ≤ 1% | ✅ pass |');
    expect(readFileSync(summary, 'utf8')).toBe(report);
    expect(report + r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it('just under the tolerance passes, and prints the table on stdout', async () => {
    const r = await compare(project(), ['--run', fx.under]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accuracy\s+0\.9\s+0\.8911\s+-0\.0089\s+-0\.9889%\s+drop ≤ 1%\s+pass/);
    expect(r.stdout).toContain(`baseline:  ${MODEL}@production (version 1)`);
    expect(r.stdout).toContain('✔ 2 gates passed');
  });

  it('just over the tolerance (higher is better) fails with exit 1 and says why', async () => {
    const p = project();
    const r = await compare(p, ['--run', fx.over]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ accuracy: worse by 1.011% (allowed 1%)');
    expect(r.stderr).toContain('Regression: 1 of 2 gate(s) failed.');
    expect(readFileSync(path.join(p, '.mlops', 'compare-report.md'), 'utf8')).toContain('### ❌ mlops compare: regression in 1 of 2 gates');
  });

  it('lower is better: a rise of exactly the absolute tolerance passes, just over fails', async () => {
    const p = project();
    expect((await compare(p, ['--run', fx.lossExact])).code).toBe(0);
    const r = await compare(p, ['--run', fx.lossOver, '--json']);
    expect(r.code).toBe(1);
    expect(r.json().gates[1]).toMatchObject({ metric: 'loss', verdict: 'fail', reasons: ['worse by 0.0501 (allowed 0.05)'] });
  });

  it('a candidate run that did not finish is a failed check (exit 1) with its status and link, never a "regression"', async () => {
    for (const [runId, status] of [
      [fx.failedMain, 'FAILED'],
      [fx.running, 'RUNNING'],
    ]) {
      const r = await compare(project(), ['--run', runId]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`Candidate run ${runId} is ${status}: it did not finish`);
      expect(r.stderr).toContain(`${url}/#/experiments/${fx.exp}/runs/${runId}`);
      expect(r.stderr + r.stdout).not.toMatch(/regression/i);
      const j = await compare(project(), ['--run', runId, '--json']);
      expect(j.code).toBe(1);
      expect(j.json().error).toMatchObject({ code: 'CANDIDATE_NOT_FINISHED', details: { status } });
    }
  });

  it('a missing gated metric fails closed', async () => {
    const r = await compare(project(), ['--run', fx.missing, '--json']);
    expect(r.code).toBe(1);
    expect(r.json().gates[0]).toMatchObject({ metric: 'accuracy', verdict: 'fail', reasons: ['candidate value is missing'] });
  });

  it('a NaN gated metric fails closed', async () => {
    const r = await compare(project(), ['--run', fx.nan, '--json']);
    expect(r.code).toBe(1);
    expect(r.json().gates[0]).toMatchObject({ metric: 'accuracy', verdict: 'fail', candidate: null, reasons: ['candidate value is NaN'] });
  });

  it('the candidate comes from .mlops/last-run.json (written by mlops train)', async () => {
    const p = project({ lastRun: { runId: fx.under, experimentId: fx.exp, status: 'FINISHED' } });
    const r = await compare(p, ['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().candidate.runId).toBe(fx.under);
  });

  it('another alias from config', async () => {
    const r = await compare(project({ extraCompare: '  baseline:\n    alias: staging\n' }), ['--run', fx.exact, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().baseline.source).toMatchObject({ type: 'alias', alias: 'staging' });
  });

  it('a wrong alias is bad input (exit 2) and lists the aliases the model has', async () => {
    const r = await compare(project(), ['--run', fx.exact, '--baseline', 'prodution']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Registered model ${MODEL} has no alias "prodution" (it has: production, staging).`);
  });
});

describe('after mlops train', () => {
  it('compares the run train recorded (no --run), against the production alias', async () => {
    const p = project();
    const code = 'import mlflow; mlflow.log_metric("accuracy", 0.95); mlflow.log_metric("loss", 0.52)';
    const cfg = readFileSync(path.join(p, 'mlops.config.yaml'), 'utf8');
    writeFileSync(path.join(p, 'mlops.config.yaml'), `${cfg}train:\n  command: ${JSON.stringify([venvPython, '-c', code])}\n`);
    const t = await runCli(['train'], { cwd: p, env: env() });
    expect(t.code, t.stderr).toBe(0);
    const recorded = JSON.parse(readFileSync(path.join(p, '.mlops', 'last-run.json'), 'utf8')) as { runId: string };
    const r = await compare(p, ['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ candidate: { runId: recorded.runId }, baseline: { runId: fx.b1 }, verdict: 'pass' });
    expect(r.json().gates.map((g: { candidate: number }) => g.candidate)).toEqual([0.95, 0.52]);
  });
});

describe('baseline by stage, filter and run id', () => {
  it('legacy stage', async () => {
    const r = await compare(project(), ['--run', fx.exact, '--baseline', 'stage:production', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().baseline).toMatchObject({ runId: fx.b1, source: { type: 'stage', stage: 'Production', version: '1' } });
  });

  it('filter: the latest FINISHED run on main, never a failed one, another branch, or the candidate itself', async () => {
    const r = await compare(project(), ['--run', fx.candMain, '--baseline', "filter:tags.branch = 'main'", '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().baseline).toMatchObject({ runId: fx.b1, runName: 'b1', source: { type: 'filter', experimentId: fx.exp } });
  });

  it('filter from config, in a named experiment', async () => {
    const p = project({ extraCompare: `  baseline:\n    filter: "tags.branch = 'main'"\n    experiment: ${EXP}\n` });
    const r = await compare(p, ['--run', fx.over, '--json']);
    expect(r.code).toBe(1);
    // The newest FINISHED main run is cand-main (0.95) when it is not the candidate.
    expect(r.json().baseline.runId).toBe(fx.candMain);
  });

  it('filter with no match: no baseline', async () => {
    const r = await compare(project(), ['--run', fx.exact, '--baseline', "filter:tags.branch = 'nope'", '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ baseline: null, noBaseline: { policy: 'pass' } });
  });

  it('a bad filter is bad input (exit 2)', async () => {
    const r = await compare(project(), ['--run', fx.exact, '--baseline', 'filter:tags.branch ~~ main']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MLflow rejected runs/search');
  });

  it('run id, with run: or bare', async () => {
    const a = await compare(project(), ['--run', fx.over, '--baseline', `run:${fx.b0}`, '--json']);
    expect(a.code, a.stderr).toBe(0); // 0.8909 vs 0.5: better
    expect(a.json().baseline).toMatchObject({ runId: fx.b0, source: { type: 'run' } });
    const b = await compare(project(), ['--run', fx.over, '--baseline', fx.b1]);
    expect(b.code).toBe(1);
  });

  it('an unknown baseline run id is bad input (exit 2)', async () => {
    const r = await compare(project(), ['--run', fx.exact, '--baseline', 'run:0123456789abcdef0123456789abcdef']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Baseline run 0123456789abcdef0123456789abcdef does not exist');
  });
});

describe('no baseline yet', () => {
  it('policy pass (default): exit 0 with a warning, for a model that does not exist yet', async () => {
    const p = project({ model: `never-registered-${id}` });
    const r = await compare(p, ['--run', fx.exact, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      verdict: 'pass',
      baseline: null,
      noBaseline: { policy: 'pass', reason: `registered model never-registered-${id} does not exist yet` },
    });
    expect(r.json().gates.map((g: { verdict: string }) => g.verdict)).toEqual(['warn', 'warn']);
    expect(r.stderr).toContain('No baseline yet');
  });

  it('a registered model with no alias at all is no baseline either', async () => {
    const r = await compare(project({ model: BARE_MODEL }), ['--run', fx.exact, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().noBaseline.reason).toContain('has no alias "production" yet');
  });

  it('policy fail: exit 1 (from config, and from the flag)', async () => {
    const p = project({ model: `never-registered-${id}`, extraCompare: '  noBaseline: fail\n' });
    const r = await compare(p, ['--run', fx.exact]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no baseline to compare with (policy: fail)');
    const f = await compare(project({ model: `never-registered-${id}` }), ['--run', fx.exact, '--if-no-baseline', 'fail']);
    expect(f.code).toBe(1);
  });

  it('the missing candidate metric still fails without a baseline', async () => {
    const r = await compare(project({ model: `never-registered-${id}` }), ['--run', fx.missing]);
    expect(r.code).toBe(1);
  });
});

describe('bad input', () => {
  it('no candidate: neither last-run.json nor --run', async () => {
    const r = await compare(project(), []);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('last-run.json does not exist');
    expect(r.stderr).toContain('Run `mlops train` first');
  });

  it('a candidate run that does not exist', async () => {
    const r = await compare(project(), ['--run', 'ffffffffffffffffffffffffffffffff']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Candidate run ffffffffffffffffffffffffffffffff does not exist');
  });

  it('no tracking URI in config or environment', async () => {
    const p = project();
    writeFileSync(path.join(p, 'mlops.config.yaml'), `version: 1\nproject: cmp\ncompare:\n${GATES}`);
    const r = await compare(p, ['--run', fx.exact, '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'MLFLOW_URI_MISSING' });
    // a new user who forgot the sandbox's eval line is told it
    expect((r.json().error as { hint: string }).hint).toContain('eval "$(npx mlops sandbox env)"');
    // ...and the environment variable is enough
    const e = await compare(p, ['--run', fx.exact], { MLFLOW_TRACKING_URI: url });
    expect(e.code, e.stderr).toBe(0); // the default model (the project name, "cmp") does not exist: no baseline, policy pass
  });

  it('an unparsable --baseline', async () => {
    const r = await compare(project(), ['--run', fx.exact, '--baseline', 'models:/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--baseline "models:/x" is not understood');
  });
});

describe('MLflow down or slow: exit 3', () => {
  it('connection refused', async () => {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await compare(project({ trackingUri: `http://127.0.0.1:${port}` }), ['--run', fx.exact, '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'MLFLOW_UNREACHABLE', exitCode: 3 });
    expect(r.stderr).toContain(`Cannot reach MLflow at http://127.0.0.1:${port} (ECONNREFUSED)`);
    // the usual cause locally: a sandbox stopped, or restarted on new ports after the eval line
    expect((r.json().error as { hint: string }).hint).toContain('eval "$(npx mlops sandbox env)"');
  });

  it('slower than the timeout', async () => {
    const slow = createServer((_req, res) => {
      setTimeout(() => res.end('{}'), 3_000).unref();
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const port = (slow.address() as { port: number }).port;
    try {
      const r = await compare(project({ trackingUri: `http://127.0.0.1:${port}`, timeout: '300ms' }), ['--run', fx.exact]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('did not answer runs/get within 300 ms');
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  });

  it('credentials in the URI never reach the output', async () => {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await compare(project({ trackingUri: `http://bob:hunter22@127.0.0.1:${port}` }), ['--run', fx.exact, '--json']);
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).not.toContain('hunter22');
  });
});

describe('the production model has one name', () => {
  it('without mlflow.registeredModel and project, an alias baseline is exit 2 (no fallback to the folder name)', async () => {
    const p = mkdtempSync(path.join(dir, 'noname-'));
    writeFileSync(path.join(p, 'mlops.config.yaml'), `version: 1\nmlflow:\n  trackingUri: ${url}\n  retries: 0\ncompare:\n${GATES}`);
    const r = await compare(p, ['--run', fx.exact, '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json().error.code).toBe('BASELINE_MODEL_MISSING');
  });
});

describe('gate verdicts in the audit trail', () => {
  const AWS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };
  const bucket = `cmp-audit-${id}`;

  /** A project with a deploy section whose S3 is `s3Url`. */
  function deployed(s3Url: string): string {
    const p = project();
    const cfg = readFileSync(path.join(p, 'mlops.config.yaml'), 'utf8');
    writeFileSync(
      path.join(p, 'mlops.config.yaml'),
      `${cfg}
aws:
  endpoints: { s3: '${s3Url}', sagemaker: '${s3Url}', cloudwatch: '${s3Url}' }
deploy:
  endpointName: cmp-${id}
  executionRoleArn: arn:aws:iam::123456789012:role/deploy
  image: img:1
  artifacts: s3://${bucket}/models
  dataCapture: { destination: 's3://${bucket}/capture' }
  state: { uri: 's3://${bucket}/state' }
  lock: { uri: 's3://${bucket}/locks' }
  audit: { uri: 's3://${bucket}/trail', retentionDays: 1 }
`,
    );
    return p;
  }

  it('AWS reachable: the verdict, both runs and every gate land in the chain, and audit verify passes', async () => {
    const { S3Client, CreateBucketCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const motoUrl = inject('motoUrl');
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: motoUrl,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    const p = deployed(motoUrl);
    const failed = await compare(p, ['--run', fx.over, '--json'], AWS);
    expect(failed.code, failed.stderr).toBe(1);
    const passed = await compare(p, ['--run', fx.exact, '--json'], AWS);
    expect(passed.code, passed.stderr).toBe(0);
    expect(failed.stderr + passed.stderr).not.toContain('audit trail');

    const verify = await runCli(['audit', 'verify', '--json'], { cwd: p, env: env(AWS) });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ ok: true, records: 2 });
    const read = async (seq: number) => {
      const key = `trail/cmp-${id}/${String(seq).padStart(12, '0')}.json`;
      return JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());
    };
    const first = await read(1);
    expect(first).toMatchObject({
      kind: 'gate',
      action: 'compare.failed',
      details: { candidate: { runId: fx.over }, baseline: { runId: fx.b1 }, failed: 1 },
    });
    expect(first.details.gates.find((g: { metric: string }) => g.metric === 'accuracy')).toMatchObject({
      candidate: 0.8909,
      baseline: 0.9,
      verdict: 'fail',
    });
    expect(await read(2)).toMatchObject({ kind: 'gate', action: 'compare.passed', details: { candidate: { runId: fx.exact } } });
  });

  it('AWS unreachable: one warning, and compare still exits by its verdict', async () => {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const p = deployed(`http://127.0.0.1:${port}`);
    const failed = await compare(p, ['--run', fx.over], AWS);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr.match(/not in cmp-[0-9a-f]+'s audit trail/g)).toHaveLength(1);
    const passed = await compare(p, ['--run', fx.exact], AWS);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr.match(/audit trail/g)).toHaveLength(1);
  });
});

describe('the MLflow calls compare makes', () => {
  /** A proxy in front of MLflow that records each request and each TCP connection. */
  async function countingProxy() {
    const seen: string[] = [];
    let connections = 0;
    const target = new URL(url);
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${(req.url ?? '').replace(/^\/api\/2\.0\/mlflow\//, '').replace(/\?.*$/, '')}`);
      const out = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      req.pipe(out);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      seen,
      connections: () => connections,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  it('by alias: the candidate and the alias at once, then the baseline run on a connection opened while they answered', async () => {
    const proxy = await countingProxy();
    try {
      const r = await compare(project({ trackingUri: proxy.url }), ['--run', fx.exact, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect([...proxy.seen].sort()).toEqual(['GET registered-models/alias', 'GET runs/get', 'GET runs/get']);
      // Two requests in flight at once need two connections; the third, which waits on the alias,
      // goes out on a spare opened meanwhile rather than a reused one (src/adapters/mlflow.ts says why).
      expect(proxy.connections()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('by filter with the experiment known: one search and the candidate, at once', async () => {
    const proxy = await countingProxy();
    try {
      const p = project({ trackingUri: proxy.url, lastRun: { runId: fx.candMain, experimentId: fx.exp, status: 'FINISHED' } });
      const r = await compare(p, ['--baseline', "filter:tags.branch = 'main'", '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect([...proxy.seen].sort()).toEqual(['GET runs/get', 'POST runs/search']);
      // Independent: one connection each, and no spare (nothing waits on an answer).
      expect(proxy.connections()).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('by filter from --run alone: the candidate first (it names the experiment), then the search on the spare connection', async () => {
    const proxy = await countingProxy();
    try {
      const r = await compare(project({ trackingUri: proxy.url }), [
        '--run',
        fx.candMain,
        '--baseline',
        "filter:tags.branch = 'main'",
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.seen).toEqual(['GET runs/get', 'POST runs/search']);
      expect(proxy.connections()).toBe(2);
    } finally {
      await proxy.close();
    }
  });
});
