/**
 * `mlops init`: what it writes, that it never clobbers, that a re-run is a no-op, --dry-run, and
 * that what it writes is valid: the config against the schema, the GitHub workflow by actionlint,
 * the GitLab file as YAML, the IAM policy as least-privilege JSON.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../support/cli.js';
import { SCAFFOLD } from '../../src/commands/init.js';
import { placeholdersOf } from '../../src/core/template.js';
import { makeGitRepo, REPO_ROOT, venvEnv, writeTree } from './train-support.js';

const ACTIONLINT = path.join(REPO_ROOT, '.tools', 'bin', 'actionlint');
const env = () => venvEnv();

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.name === '.git') continue;
      if (e.isDirectory()) walk(p);
      else out[p] = readFileSync(path.join(dir, p), 'utf8');
    }
  };
  walk('');
  return out;
}

describe('mlops init', () => {
  const dirs: string[] = [];
  const repo = (prefix: string) => {
    const d = makeGitRepo(prefix);
    dirs.push(d);
    return d;
  };
  beforeAll(() => {
    // Idempotent; npm test has run it already. Without actionlint and Go it only prints a notice.
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'setup-actionlint.sh')], { stdio: 'inherit' });
  }, 300_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('every template placeholder has a value (rendering throws otherwise)', () => {
    const known = ['name', 'experiment', 'model', 'endpoint', 'bucket', 'auditBucket', 'accountId', 'region', 'version'];
    for (const f of SCAFFOLD) {
      const text = readFileSync(path.join(REPO_ROOT, 'templates', f.template), 'utf8');
      for (const p of placeholdersOf(text)) expect(known, `${f.template}: {{${p}}}`).toContain(p);
    }
    // The package ships templates/ (package.json "files").
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('templates/');
  });

  it('writes the scaffold with the names given; the config validates against the schema', async () => {
    const dir = repo('init');
    const r = await runCli(
      [
        'init',
        '--name',
        'Churn Model',
        '--experiment',
        'churn-exp',
        '--model',
        'churn-reg',
        '--endpoint',
        'churn-live',
        '--ci',
        'both',
        '--account-id',
        '210987654321',
        '--region',
        'eu-west-1',
      ],
      { cwd: dir, env: env() },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Next:');
    const config = parse(readFileSync(path.join(dir, 'mlops.config.yaml'), 'utf8'));
    expect(config).toMatchObject({
      project: 'churn-model',
      mlflow: { experiment: 'churn-exp', registeredModel: 'churn-reg' },
      deploy: { endpointName: 'churn-live', artifacts: 's3://churn-model-mlops/models' },
    });
    // It is commented.
    expect(readFileSync(path.join(dir, 'mlops.config.yaml'), 'utf8').match(/^\s*#/gm)!.length).toBeGreaterThan(10);

    const v = await runCli(['config', 'validate', '--json'], { cwd: dir, env: env() });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const shown = await runCli(['config', 'show', '--json'], { cwd: dir, env: env() });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.stringify(shown.json())).toContain('arn:aws:iam::210987654321:role/churn-model-sagemaker-execution');
  });

  it('the GitHub workflow passes actionlint and has the jobs the pipeline needs', async () => {
    const dir = repo('lint');
    expect((await runCli(['init', '--ci', 'both'], { cwd: dir, env: env() })).code).toBe(0);
    if (existsSync(ACTIONLINT)) {
      const lint = spawnSync(ACTIONLINT, ['-color=false', '.github/workflows/mlops.yml'], { cwd: dir, encoding: 'utf8' });
      expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    } else {
      // Go is not a requirement of npm test (scripts/setup-actionlint.sh): say so instead of failing.
      console.warn(`notice: ${ACTIONLINT} is missing (no actionlint, no Go): the workflow was checked without actionlint`);
    }

    const wf = parse(readFileSync(path.join(dir, '.github/workflows/mlops.yml'), 'utf8'));
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['pull_request', 'push', 'schedule']));
    const steps = (job: string) => (wf.jobs[job].steps as { run?: string; if?: string }[]).filter((s) => s.run);
    const model = steps('model').map((s) => s.run);
    expect(model.findIndex((s) => / pull$/.test(s!))).toBeLessThan(model.findIndex((s) => / train$/.test(s!)));
    expect(model.findIndex((s) => / train$/.test(s!))).toBeLessThan(model.findIndex((s) => / compare\b/.test(s!)));
    // Promotion is its own job after the gate, on main only (test/unit/init-workflows.test.ts has the details).
    expect(steps('model').some((s) => / promote\b/.test(s.run!))).toBe(false);
    expect(steps('deploy').some((s) => / promote\b/.test(s.run!))).toBe(true);
    expect(wf.jobs.deploy.needs).toBe('model');
    expect(wf.jobs.deploy.if).toContain('refs/heads/main');
    const scheduled = steps('advance').map((s) => s.run);
    expect(scheduled.some((s) => / promote$/.test(s!)) && scheduled.some((s) => / monitor$/.test(s!))).toBe(true);
    expect(wf.jobs.advance.if).toContain('schedule');
  });

  it('sets up DVC with the S3 remote when dvc is on PATH; without it, says exactly what to run', async () => {
    const dir = repo('dvc');
    const r = await runCli(['init', '--name', 'churn', '--ci', 'none', '--json'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().dvc).toEqual(['dvc init -q', 'dvc remote add -d storage s3://churn-mlops/dvc']);
    const remotes = execFileSync(path.join(REPO_ROOT, '.venv', 'bin', 'dvc'), ['remote', 'list'], { cwd: dir, encoding: 'utf8' });
    expect(remotes).toMatch(/^storage\s+s3:\/\/churn-mlops\/dvc/m);
    expect(r.json().next.join('\n')).not.toContain('dvc init');
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).toContain('node_modules/');

    const bare = repo('nodvc');
    const noDvc = { ...env(), PATH: path.dirname(process.execPath) };
    const n = await runCli(['init', '--name', 'churn', '--ci', 'none', '--json'], { cwd: bare, env: noDvc });
    expect(n.code, n.stderr).toBe(0);
    expect(existsSync(path.join(bare, '.dvc'))).toBe(false);
    expect(n.stderr).toContain('run `dvc init -q && dvc remote add -d storage s3://churn-mlops/dvc`');
    expect(n.json().next).toEqual(
      expect.arrayContaining(['dvc init -q', 'dvc remote add -d storage s3://churn-mlops/dvc   # any DVC remote']),
    );
  });

  it('asks for an MLflow tracking URI only when none is set (after the sandbox eval line, one is)', async () => {
    const without = await runCli(['init', '--name', 'churn', '--ci', 'none', '--json'], { cwd: repo('nouri'), env: env() });
    expect(without.json().next.join('\n')).toContain('export MLFLOW_TRACKING_URI=');
    const withUri = await runCli(['init', '--name', 'churn', '--ci', 'none', '--json'], {
      cwd: repo('uri'),
      env: { ...env(), MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' },
    });
    expect(withUri.code, withUri.stderr).toBe(0);
    expect(withUri.json().next.join('\n')).not.toContain('MLFLOW_TRACKING_URI');
  });

  it('the GitLab file is valid YAML with model, promote and scheduled advance and monitor jobs', async () => {
    const dir = repo('gitlab');
    const r = await runCli(['init', '--ci', 'gitlab', '--json'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(existsSync(path.join(dir, '.github'))).toBe(false);
    const doc = parse(readFileSync(path.join(dir, '.gitlab-ci.yml'), 'utf8'), { uniqueKeys: true });
    expect(doc.model.script.join('\n')).toMatch(/pull[\s\S]*train[\s\S]*compare/);
    expect(doc.promote.script.join('\n')).toContain('promote');
    expect(doc.advance.script.join('\n')).toContain('promote');
    expect(doc.monitor.script.join('\n')).toContain('monitor');
    for (const job of ['advance', 'monitor']) expect(JSON.stringify(doc[job].rules)).toContain('schedule');
    for (const job of ['model', 'promote', 'advance', 'monitor']) expect(doc.stages).toContain(doc[job].stage);
  });

  it('the IAM policy is least privilege: named actions, scoped resources, PassRole on the execution role only', async () => {
    const dir = repo('iam');
    expect((await runCli(['init', '--name', 'fraud', '--account-id', '111122223333'], { cwd: dir, env: env() })).code).toBe(0);
    const policy = JSON.parse(readFileSync(path.join(dir, 'iam/mlops-deploy-policy.json'), 'utf8'));
    const statements = policy.Statement as { Action: string | string[]; Resource: string | string[]; Condition?: unknown }[];
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.every((a) => !a.includes('*'))).toBe(true);
    expect(actions).toEqual(
      expect.arrayContaining([
        'sagemaker:CreateModel',
        'sagemaker:UpdateEndpoint',
        'cloudwatch:PutMetricData',
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:GetMetricStatistics',
        'cloudwatch:SetAlarmState',
        'iam:PassRole',
        's3:PutObject',
        's3:PutObjectRetention',
      ]),
    );
    const pass = statements.find((s) => [s.Action].flat().includes('iam:PassRole'))!;
    expect(pass.Resource).toBe('arn:aws:iam::111122223333:role/fraud-sagemaker-execution');
    // Wildcard resources only where AWS offers no resource-level permission, and then with a condition where one exists.
    for (const s of statements.filter((x) => x.Resource === '*')) {
      expect([s.Action].flat().every((a) => ['cloudwatch:PutMetricData', 'cloudwatch:GetMetricStatistics'].includes(a))).toBe(true);
    }
    expect(statements.find((s) => s.Action === 'cloudwatch:PutMetricData')!.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': 'mlops' },
    });
    // The CI data role may only read the DVC remote.
    const data = JSON.parse(readFileSync(path.join(dir, 'iam/mlops-data-policy.json'), 'utf8'));
    expect((data.Statement as { Action: string }[]).map((s) => s.Action).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    const sagemaker = statements.find((s) => [s.Action].flat().includes('sagemaker:UpdateEndpoint'))!;
    expect(
      [sagemaker.Resource].flat().every((r) => r.startsWith('arn:aws:sagemaker:us-east-1:111122223333:') && r.includes('fraud-prod')),
    ).toBe(true);
  });

  it('re-running changes nothing; an existing different file is kept unless --force', async () => {
    const dir = repo('rerun');
    expect((await runCli(['init'], { cwd: dir, env: env() })).code).toBe(0);
    const before = snapshot(dir);
    const again = await runCli(['init', '--json'], { cwd: dir, env: env() });
    expect(again.code).toBe(0);
    expect((again.json().files as { action: string }[]).every((f) => f.action === 'unchanged')).toBe(true);
    expect(snapshot(dir)).toEqual(before);

    writeFileSync(path.join(dir, 'src/train.py'), 'print("my own training")\n');
    const kept = await runCli(['init', '--json'], { cwd: dir, env: env() });
    expect(kept.code).toBe(0);
    expect(kept.json().files).toContainEqual({ path: 'src/train.py', action: 'skip', detail: expect.stringContaining('--force') });
    expect(kept.stderr).toContain('src/train.py');
    expect(readFileSync(path.join(dir, 'src/train.py'), 'utf8')).toBe('print("my own training")\n');

    const forced = await runCli(['init', '--force', '--json'], { cwd: dir, env: env() });
    expect(forced.json().files).toContainEqual({ path: 'src/train.py', action: 'overwrite' });
    expect(readFileSync(path.join(dir, 'src/train.py'), 'utf8')).toBe(before['src/train.py']);
  });

  it('.gitignore and requirements.txt get only the missing lines, never clobbered', async () => {
    const dir = repo('merge');
    writeTree(dir, { '.gitignore': 'node_modules\n/.mlops\n*.log', 'requirements.txt': 'mlflow==2.22.0\nnumpy\n' });
    const r = await runCli(['init', '--json'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    const gi = readFileSync(path.join(dir, '.gitignore'), 'utf8');
    expect(gi.startsWith('node_modules\n/.mlops\n*.log\n')).toBe(true);
    expect(gi).toContain('mlruns/');
    expect(gi.match(/\.mlops/g)).toHaveLength(1);
    const req = readFileSync(path.join(dir, 'requirements.txt'), 'utf8');
    expect(req.startsWith('mlflow==2.22.0\nnumpy\n')).toBe(true);
    expect(req.match(/mlflow/g)).toHaveLength(1);
    expect(req).toContain('scikit-learn');
    const again = await runCli(['init', '--json'], { cwd: dir, env: env() });
    expect((again.json().files as { action: string }[]).every((f) => f.action === 'unchanged')).toBe(true);
  });

  it('--dry-run lists what it would write and writes nothing', async () => {
    const dir = repo('dry');
    const r = await runCli(['init', '--dry-run', '--ci', 'none'], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('would create mlops.config.yaml');
    expect(r.stdout).not.toContain('.github');
    expect(Object.keys(snapshot(dir))).toEqual([]);
  });

  it('a folder where a file goes is skipped like a differing file; a path it cannot write is FILE_NOT_WRITTEN, never an internal error', async () => {
    const dir = repo('blocked');
    mkdirSync(path.join(dir, 'src', 'train.py'), { recursive: true });
    const r = await runCli(['init', '--ci', 'none', '--json'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().files).toContainEqual({ path: 'src/train.py', action: 'skip', detail: expect.stringContaining('folder') as string });

    const blocked = repo('blocked-github');
    writeFileSync(path.join(blocked, '.github'), 'not a folder\n');
    const w = await runCli(['init', '--json'], { cwd: blocked, env: env() });
    expect(w.code, w.stderr).toBe(3);
    expect(w.stderr).not.toMatch(/internal error|This is a bug/);
    expect(w.json().error).toMatchObject({
      code: 'FILE_NOT_WRITTEN',
      details: { file: path.join(blocked, '.github/workflows/mlops.yml') },
    });
  });

  it('rejects bad names with exit 2', async () => {
    const dir = repo('bad');
    const r = await runCli(['init', '--endpoint', 'not_valid!', '--json'], { cwd: dir, env: env() });
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('BAD_ENDPOINT');
    expect(Object.keys(snapshot(dir))).toEqual([]);
  });
});
