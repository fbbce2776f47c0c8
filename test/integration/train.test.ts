/**
 * End to end, exactly as a team would start: `mlops init` into an empty git repo, DVC set up with
 * a local-folder remote, the data pushed and deleted, `mlops pull`, then `mlops train` running the
 * scaffolded src/train.py for real against the real MLflow server, read back over REST.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { getRun, git, makeGitRepo, runsOfExperiment, uniqueName, venv, venvEnv } from './train-support.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('init -> dvc push -> pull -> train (the scaffold, for real)', () => {
  const mlflowUrl = inject('mlflowUrl');
  const name = uniqueName('e2e');
  let repo: string;
  let remote: string;
  let rawHash: string;
  const env = () => venvEnv({ MLFLOW_TRACKING_URI: mlflowUrl });

  beforeAll(() => {
    repo = makeGitRepo('e2e');
    remote = mkdtempSync(path.join(tmpdir(), 'mlops-e2e-remote-'));
  });
  afterAll(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(remote, { recursive: true, force: true });
  });

  it('init scaffolds the repo', async () => {
    const r = await runCli(['init', '--name', name, '--ci', 'both', '--json'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const files = r.json().files as { path: string; action: string }[];
    expect(files.every((f) => f.action === 'create')).toBe(true);
    for (const f of [
      'mlops.config.yaml',
      '.github/workflows/mlops.yml',
      '.gitlab-ci.yml',
      'src/train.py',
      'src/evaluate.py',
      'src/prepare.py',
      'dvc.yaml',
      'requirements.txt',
      'iam/mlops-deploy-policy.json',
      '.gitignore',
    ]) {
      expect(existsSync(path.join(repo, f)), f).toBe(true);
    }
  });

  it('the data is made by the dvc stage and pushed to a local-folder remote', () => {
    // init ran `dvc init` and added an S3 remote when dvc was on PATH (init.test.ts covers that);
    // this test keeps its data in a local-folder remote.
    if (!existsSync(path.join(repo, '.dvc'))) venv(repo, 'dvc', ['init', '-q']);
    venv(repo, 'dvc', ['remote', 'add', '-f', '-d', 'storage', remote]);
    venv(repo, 'dvc', ['repro', 'prepare']);
    venv(repo, 'dvc', ['push']);
    rawHash = sha256(path.join(repo, 'data/raw.csv'));
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'scaffold']);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  }, 180_000);

  it('pull brings the data back after the local copy and cache are deleted', async () => {
    rmSync(path.join(repo, 'data/raw.csv'));
    rmSync(path.join(repo, '.dvc/cache'), { recursive: true, force: true });
    const r = await runCli(['pull', '--json'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, command: ['dvc', 'pull'] });
    expect(sha256(path.join(repo, 'data/raw.csv'))).toBe(rawHash);
  }, 180_000);

  it('train runs the scaffolded src/train.py as a FINISHED MLflow run with tags, params and metrics', async () => {
    const head = git(repo, ['rev-parse', 'HEAD']).trim();
    const r = await runCli(['train', '--json'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ status: 'FINISHED', experimentName: name, modelUri: `runs:/${out.runId}/model` });
    // The script's own output was streamed through.
    expect(r.stderr).toContain('holdout metrics: accuracy=');

    const { run, metrics, params, tags } = await getRun(mlflowUrl, out.runId);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.end_time).toBeGreaterThan(0);
    expect(metrics.accuracy).toBeGreaterThan(0.9);
    expect(metrics.f1).toBeGreaterThan(0.9);
    expect(Object.keys(metrics)).toEqual(expect.arrayContaining(['precision', 'recall', 'roc_auc', 'log_loss']));
    expect(params).toMatchObject({ model: 'logistic_regression', C: '1.0', test_size: '0.2' });
    expect(tags).toMatchObject({
      'mlops.git.commit': head,
      'mlops.git.branch': 'main',
      'mlops.git.dirty': 'false',
      'mlops.project': name,
      'mlops.train.outcome': 'FINISHED',
      'mlflow.source.git.commit': head,
    });
    expect(tags['mlops.data.version']).toMatch(/^[0-9a-f]{16}$/);
    expect(tags['mlops.config.hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(tags['mlops.ci.provider']).toBeUndefined();

    // The run id is where compare and promote look for it.
    const last = JSON.parse(readFileSync(path.join(repo, '.mlops/last-run.json'), 'utf8'));
    expect(last).toMatchObject({ runId: out.runId, experimentId: run.info.experiment_id, status: 'FINISHED', trackingUri: mlflowUrl });
    // The holdout (features + label + prediction) is the drift baseline.
    const header = readFileSync(path.join(repo, 'data/holdout.csv'), 'utf8').split('\n')[0].split(',');
    expect(header).toEqual(expect.arrayContaining(['mean_radius', 'target', 'prediction']));
    // The holdout's drift profile is where monitor looks for it.
    expect(tags['mlops.profile']).toBe('mlops/profile.json');
    const artifactUri = (run.info as { artifact_uri?: string }).artifact_uri!;
    const rel = artifactUri.replace(/^mlflow-artifacts:\/*/, '');
    const profile = await fetch(`${mlflowUrl}/api/2.0/mlflow-artifacts/artifacts/${rel}/mlops/profile.json`).then(
      (res) => res.json() as Promise<{ rows: number; outputColumns: string[]; inputColumns: string[] }>,
    );
    expect(profile.rows).toBe(114);
    expect(profile.outputColumns).toEqual(['prediction']);
    expect(profile.inputColumns).toContain('mean_radius');
    expect(profile.inputColumns).not.toContain('target');
    // The model is where promote looks for it: runs:/<id>/model resolves over REST...
    const listed = await fetch(`${mlflowUrl}/api/2.0/mlflow/artifacts/list?run_id=${out.runId}&path=model`).then(
      (res) => res.json() as Promise<{ files?: { path: string }[] }>,
    );
    expect(listed.files?.map((f) => f.path)).toContain('model/MLmodel');
    // ...and it is an MLflow logged model of the run too.
    const artifacts = await fetch(`${mlflowUrl}/api/2.0/mlflow/logged-models/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_ids: [run.info.experiment_id] }),
    }).then((res) => res.json() as Promise<{ models?: { info: { name: string; source_run_id: string } }[] }>);
    expect(artifacts.models?.some((m) => m.info.name === 'model' && m.info.source_run_id === out.runId)).toBe(true);
  }, 300_000);

  it('compare picks up the run train recorded (the first model: no baseline yet, so it passes)', async () => {
    const last = JSON.parse(readFileSync(path.join(repo, '.mlops/last-run.json'), 'utf8'));
    const r = await runCli(['compare', '--json'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.stringify(r.json())).toContain(last.runId);
  }, 120_000);

  it('the same data gives the same data version; CI facts become tags', async () => {
    const first = (await runsOfExperiment(mlflowUrl, name))[0];
    const ciEnv = env();
    Object.assign(ciEnv, {
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/model',
      GITHUB_RUN_ID: '1234',
      GITHUB_HEAD_REF: 'feature/x',
      GITHUB_REF: 'refs/pull/5/merge',
    });
    // A quick command instead of the whole training: this checks tags, not the model.
    const r = await runCli(['train', '--json', '--', 'python', '-c', 'print("no training")'], { cwd: repo, env: ciEnv });
    expect(r.code).toBe(3); // no metrics were logged
    const { tags, run } = await getRun(mlflowUrl, r.json().error.details.runId);
    expect(run.info.status).toBe('FAILED');
    expect(tags).toMatchObject({
      'mlops.ci.provider': 'github',
      'mlops.ci.url': 'https://github.com/acme/model/actions/runs/1234',
      'mlops.git.branch': 'feature/x',
      'mlops.ci.pull_request': '5',
      'mlops.train.failure': 'missing-metrics',
    });
    const firstTags = Object.fromEntries((first.data.tags ?? []).map((t) => [t.key, t.value]));
    expect(tags['mlops.data.version']).toBe(firstTags['mlops.data.version']);
  }, 120_000);
});
