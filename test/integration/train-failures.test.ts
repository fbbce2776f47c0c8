/**
 * `mlops train` failure paths against the real MLflow server: each gives its documented exit code
 * and an actionable message, and no run is ever left RUNNING.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import {
  builtBin,
  getRun,
  removeBuiltBin,
  makeGitRepo,
  runsOfExperiment,
  uniqueName,
  venvEnv,
  waitForFile,
  writeTree,
} from './train-support.js';

const SCRIPTS = {
  // Exits non-zero after printing to stderr.
  'fail.py': 'import sys\nprint("training blew up", file=sys.stderr)\nsys.exit(7)\n',
  // Says it is running (its pid in a marker file), then waits; records the signal it gets.
  'slow.py': [
    'import os, signal, sys, time',
    'marker = sys.argv[1]',
    'def on(sig, frame):',
    '    open(marker + ".signal", "w").write(signal.Signals(sig).name)',
    '    sys.exit(128 + sig)',
    'signal.signal(signal.SIGINT, on)',
    'signal.signal(signal.SIGTERM, on)',
    'open(marker, "w").write(str(os.getpid()))',
    'print("training...", flush=True)',
    'time.sleep(300)',
    '',
  ].join('\n'),
  // Like slow.py, but shrugs off SIGINT (noting each one): only a kill ends it.
  'stubborn.py': [
    'import os, signal, sys, time',
    'marker = sys.argv[1]',
    'def on(sig, frame):',
    '    open(marker + ".sigint", "a").write("SIGINT\\n")',
    'signal.signal(signal.SIGINT, on)',
    'open(marker, "w").write(str(os.getpid()))',
    'print("training...", flush=True)',
    'while True:',
    '    time.sleep(1)',
    '',
  ].join('\n'),
  // Logs into the run mlops made, but only one of the two required metrics.
  'partial.py': [
    'import os, mlflow',
    'with mlflow.start_run(run_id=os.environ["MLFLOW_RUN_ID"]):',
    '    mlflow.log_metric("accuracy", 0.93)',
    '    mlflow.log_param("lr", 0.1)',
    '',
  ].join('\n'),
  'env.py': [
    'import json, os',
    'keys = ["MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID", "MLFLOW_TRACKING_TOKEN"]',
    'json.dump({k: os.environ.get(k) for k in keys}, open("env.json", "w"))',
    '',
  ].join('\n'),
};

/** A process that has exited (a zombie nobody reaped counts: it runs nothing). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 100));
}

describe('mlops train failure paths', () => {
  const mlflowUrl = inject('mlflowUrl');
  const experiment = uniqueName('train-fail');
  let repo: string;
  const env = (extra: Record<string, string> = {}) => venvEnv({ MLFLOW_TRACKING_URI: mlflowUrl, ...extra });
  const train = (args: string[], opts: { signal?: AbortSignal; env?: Record<string, string | undefined> } = {}) =>
    runCli(['train', '--json', ...args], { cwd: repo, env: opts.env ?? env(), signal: opts.signal });
  const marker = (name: string) => path.join(repo, `${name}.marker`);

  beforeAll(() => {
    repo = makeGitRepo('train-fail');
    writeTree(repo, {
      'mlops.config.yaml': [
        'version: 1',
        'project: train-failures',
        'mlflow:',
        `  experiment: ${experiment}`,
        '  retries: 0',
        'train:',
        '  command: [python, fail.py]',
        '  timeout: 10m',
        '  requiredMetrics: [f1]',
        'compare:',
        '  gates:',
        '    - metric: accuracy',
        '      maxRelativeDrop: 0.01',
        '',
      ].join('\n'),
      ...SCRIPTS,
    });
  });
  afterAll(async () => {
    // Whatever happened above: nothing of this file is still RUNNING.
    const running = (await runsOfExperiment(mlflowUrl, experiment)).filter((r) => r.info.status === 'RUNNING');
    rmSync(repo, { recursive: true, force: true });
    removeBuiltBin();
    expect(running.map((r) => r.info.run_id)).toEqual([]);
  });

  async function expectRun(runId: string, status: string, failure?: string) {
    const { run, tags } = await getRun(mlflowUrl, runId);
    expect(run.info.status).toBe(status);
    expect(run.info.end_time).toBeGreaterThan(0);
    if (failure) expect(tags['mlops.train.failure']).toBe(failure);
    const last = JSON.parse(readFileSync(path.join(repo, '.mlops/last-run.json'), 'utf8'));
    expect(last).toMatchObject({ runId, status });
    return tags;
  }

  it('passes MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME, MLFLOW_RUN_ID and auth to the command', async () => {
    const r = await train(['--', 'python', 'env.py'], { env: env({ MLFLOW_TRACKING_TOKEN: 'tok-secret-123' }) });
    expect(r.code).toBe(3); // nothing logged
    const seen = JSON.parse(readFileSync(path.join(repo, 'env.json'), 'utf8'));
    expect(seen).toEqual({
      MLFLOW_TRACKING_URI: mlflowUrl,
      MLFLOW_EXPERIMENT_NAME: experiment,
      MLFLOW_RUN_ID: r.json().error.details.runId,
      MLFLOW_TRACKING_TOKEN: 'tok-secret-123',
    });
  }, 60_000);

  it('the training script exits non-zero: exit 3, its code in the message, run FAILED', async () => {
    const r = await train([]);
    expect(r.code).toBe(3);
    const err = r.json().error;
    expect(err.code).toBe('TRAIN_FAILED');
    expect(err.message).toContain('exited with code 7');
    expect(err.details.exitCode).toBe(7);
    expect(r.stderr).toContain('training blew up'); // streamed
    const tags = await expectRun(err.details.runId, 'FAILED', 'exit-code');
    expect(tags['mlops.train.exit_code']).toBe('7');
  }, 60_000);

  it('the command does not exist: exit 3 with a hint, run FAILED', async () => {
    const r = await train(['--', 'no-such-trainer-xyz']);
    expect(r.code).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'TRAIN_COMMAND_NOT_FOUND', hint: expect.stringContaining('train.command') });
    await expectRun(r.json().error.details.runId, 'FAILED', 'command-not-found');
  }, 60_000);

  it('a command that exists but cannot be executed (a script without +x) is said so, not "not found ... on PATH"', async () => {
    const r = await train(['--', './partial.py']);
    expect(r.code).toBe(3);
    const err = r.json().error;
    expect(err.code).toBe('TRAIN_COMMAND_NOT_FOUND');
    expect(err.message).not.toContain('was not found');
    expect(err.message).toContain('`./partial.py` cannot be executed (EACCES)');
    expect(err.hint).toContain('chmod +x');
  }, 60_000);

  it('a required metric is missing: exit 3 naming it, run FAILED', async () => {
    const r = await train(['--', 'python', 'partial.py']);
    expect(r.code).toBe(3);
    const err = r.json().error;
    expect(err.code).toBe('TRAIN_METRICS_MISSING');
    expect(err.message).toContain('"f1"');
    expect(err.details.missing).toEqual(['f1']);
    expect(err.hint).toContain('MLFLOW_RUN_ID');
    await expectRun(err.details.runId, 'FAILED', 'missing-metrics');
  }, 120_000);

  it('the timeout kills the command: exit 3, run KILLED', async () => {
    const r = await train(['--timeout', '3s', '--', 'python', 'slow.py', marker('timeout')]);
    expect(r.code).toBe(3);
    const err = r.json().error;
    expect(err.code).toBe('TRAIN_TIMEOUT');
    expect(err.hint).toContain('train.timeout');
    expect(readFileSync(`${marker('timeout')}.signal`, 'utf8')).toBe('SIGTERM');
    await expectRun(err.details.runId, 'KILLED', 'timeout');
  }, 120_000);

  it('an abort (Ctrl-C) is forwarded as SIGINT: exit 130, run KILLED', async () => {
    const ac = new AbortController();
    const pending = train(['--', 'python', 'slow.py', marker('abort')], { signal: ac.signal });
    await waitForFile(marker('abort'));
    ac.abort('SIGINT');
    const r = await pending;
    expect(r.code).toBe(130);
    expect(readFileSync(`${marker('abort')}.signal`, 'utf8')).toBe('SIGINT');
    const last = JSON.parse(readFileSync(path.join(repo, '.mlops/last-run.json'), 'utf8'));
    await expectRun(last.runId, 'KILLED', 'interrupted');
  }, 120_000);

  it('a real SIGTERM to `node bin/mlops.cjs train` is forwarded: exit 130, run KILLED, no child left', async () => {
    const bin = builtBin();
    const child = spawn(process.execPath, [bin, 'train', '--', 'python', 'slow.py', marker('sigterm')], {
      cwd: repo,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    await waitForFile(marker('sigterm'));
    const pythonPid = Number(readFileSync(marker('sigterm'), 'utf8'));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(130);
    expect(readFileSync(`${marker('sigterm')}.signal`, 'utf8')).toBe('SIGTERM');
    expect(() => process.kill(pythonPid, 0)).toThrow();
    const last = JSON.parse(readFileSync(path.join(repo, '.mlops/last-run.json'), 'utf8'));
    await expectRun(last.runId, 'KILLED', 'interrupted');
  }, 300_000);

  it('SIGKILL of mlops: the training dies with it (SIGTERM from the watchdog), and the next train closes the run KILLED (issue 17)', async () => {
    const bin = builtBin();
    const child = spawn(process.execPath, [bin, 'train', '--', 'python', 'slow.py', marker('sigkill')], {
      cwd: repo,
      env: env(),
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    await waitForFile(marker('sigkill'));
    const pythonPid = Number(readFileSync(marker('sigkill'), 'utf8'));
    const mlopsPid = child.pid!;
    try {
      child.kill('SIGKILL');
      await exited;
      // The watchdog notices its parent is gone and stops the training's process group.
      await waitForFile(`${marker('sigkill')}.signal`);
      expect(readFileSync(`${marker('sigkill')}.signal`, 'utf8')).toBe('SIGTERM');
      await until(() => gone(pythonPid));
    } finally {
      if (!gone(pythonPid)) process.kill(pythonPid, 'SIGKILL');
    }
    const left = (await runsOfExperiment(mlflowUrl, experiment)).filter((r) => r.info.status === 'RUNNING');
    expect(left).toHaveLength(1);
    const orphanId = left[0].info.run_id;
    expect((await getRun(mlflowUrl, orphanId)).tags).toMatchObject({ 'mlops.pid': String(mlopsPid), 'mlops.host': hostname() });

    const next = await train(['--', 'python', 'fail.py']);
    expect(next.stderr).toContain(`The run ${orphanId} was left RUNNING by an mlops that is gone (pid ${mlopsPid}`);
    const { run, tags } = await getRun(mlflowUrl, orphanId);
    expect(run.info.status).toBe('KILLED');
    expect(tags['mlops.train.failure']).toBe('mlops-killed');
  }, 300_000);

  it('a second SIGINT hurries: the command is killed at once, yet the run ends KILLED and mlops exits 130', async () => {
    const bin = builtBin();
    const child = spawn(process.execPath, [bin, 'train', '--', 'python', 'stubborn.py', marker('twice')], {
      cwd: repo,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    await waitForFile(marker('twice'));
    const pythonPid = Number(readFileSync(marker('twice'), 'utf8'));
    try {
      child.kill('SIGINT');
      // The script noted the forwarded first signal and carries on; the second one is the user insisting.
      await waitForFile(`${marker('twice')}.sigint`);
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(() => process.kill(pythonPid, 0)).toThrow();
      const last = JSON.parse(readFileSync(path.join(repo, '.mlops/last-run.json'), 'utf8'));
      await expectRun(last.runId, 'KILLED', 'interrupted');
    } finally {
      try {
        process.kill(pythonPid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  }, 300_000);

  it('an error in mlops after training (run record not writable) still ends the run, exit 3 with a hint', async () => {
    const dir = makeGitRepo('train-crash');
    try {
      writeTree(dir, {
        'mlops.config.yaml': `version: 1\nproject: crash\nmlflow:\n  experiment: ${experiment}\n`,
        '.mlops': 'a file where the .mlops folder should be\n',
      });
      const r = await runCli(['train', '--json', '--', 'python', '-c', 'print("trained")'], { cwd: dir, env: env() });
      expect(r.code).toBe(3);
      const err = r.json().error;
      expect(err.code).toBe('LAST_RUN_NOT_WRITTEN');
      expect(err.hint).toContain(`--run ${err.details.runId}`);
      const { run } = await getRun(mlflowUrl, err.details.runId);
      expect(run.info.status).toBe('FINISHED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('--dry-run shows the tags and the command and creates no run', async () => {
    const before = (await runsOfExperiment(mlflowUrl, experiment)).length;
    const r = await train(['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      dryRun: true,
      experimentName: experiment,
      command: ['python', 'fail.py'],
      requiredMetrics: ['accuracy', 'f1'],
    });
    expect(r.json().tags['mlops.config.hash']).toMatch(/^[0-9a-f]{16}$/);
    expect((await runsOfExperiment(mlflowUrl, experiment)).length).toBe(before);
  });

  it('MLflow unreachable: exit 3 before anything runs', async () => {
    const r = await train([], { env: venvEnv({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:9' }) });
    expect(r.code).toBe(3);
    expect(r.json().error.message).toMatch(/MLflow|127\.0\.0\.1:9/);
  }, 60_000);

  it('no tracking URI: exit 2 with a hint', async () => {
    const r = await train([], { env: venvEnv() });
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('MLFLOW_URI_MISSING');
  });
});
