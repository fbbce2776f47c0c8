/**
 * `mlops pull` against the real dvc: success from a local-folder remote, and each failure with
 * exit 3, a stable code and a hint that says what to do.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeGitRepo, venv, venvEnv, writeTree } from './train-support.js';

const CONFIG = 'version: 1\nproject: pull-test\n';

describe('mlops pull', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tmp = (prefix: string) => {
    const d = mkdtempSync(path.join(tmpdir(), `mlops-${prefix}-`));
    dirs.push(d);
    return d;
  };

  /** A git + DVC repo with data/a.txt tracked by `dvc add`, optionally pushed to a local remote; the local copy and cache deleted. */
  function dvcRepo(opts: { config?: string; remote?: 'pushed' | 'empty' | 'none' } = {}): string {
    const dir = makeGitRepo('pull');
    dirs.push(dir);
    writeTree(dir, { 'mlops.config.yaml': opts.config ?? CONFIG, 'data/a.txt': 'hello data\n' });
    venv(dir, 'dvc', ['init', '-q']);
    venv(dir, 'dvc', ['add', '-q', 'data/a.txt']);
    if (opts.remote !== 'none') {
      venv(dir, 'dvc', ['remote', 'add', '-d', 'local', tmp('remote')]);
      if (opts.remote !== 'empty') venv(dir, 'dvc', ['push', '-q']);
    }
    rmSync(path.join(dir, 'data/a.txt'));
    rmSync(path.join(dir, '.dvc/cache'), { recursive: true, force: true });
    return dir;
  }

  const pull = (dir: string, args: string[] = [], env = venvEnv()) => runCli(['pull', '--json', ...args], { cwd: dir, env });
  const expectFailure = (r: Awaited<ReturnType<typeof pull>>, code: string, hint: RegExp) => {
    expect(r.code, r.stderr).toBe(3);
    const err = r.json().error;
    expect(err.code).toBe(code);
    expect(err.hint).toMatch(hint);
    expect(r.stderr).toContain('hint:');
  };

  it('pulls from the default remote, streaming dvc output', async () => {
    const dir = dvcRepo();
    const r = await pull(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'data/a.txt'), 'utf8')).toBe('hello data\n');
    expect(r.stderr).toMatch(/\$ dvc pull[\s\S]*(A\s+data|1 file added)/);
  }, 150_000);

  it('uses remote, jobs and targets from config', async () => {
    const dir = dvcRepo({ config: `${CONFIG}data:\n  remote: local\n  jobs: 2\n  targets: [data/a.txt.dvc]\n` });
    const r = await pull(dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().command).toEqual(['dvc', 'pull', '--remote', 'local', '--jobs', '2', '--', 'data/a.txt.dvc']);
    expect(readFileSync(path.join(dir, 'data/a.txt'), 'utf8')).toBe('hello data\n');
  }, 150_000);

  it('--dry-run prints the command and runs nothing', async () => {
    const dir = makeGitRepo('pull-dry');
    dirs.push(dir);
    writeTree(dir, { 'mlops.config.yaml': `${CONFIG}data:\n  remote: store\n` });
    const r = await runCli(['pull', '--dry-run', '-j', '8', 'x.dvc'], { cwd: dir, env: { PATH: '/nonexistent' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('dvc pull --remote store --jobs 8 -- x.dvc');
  });

  it('DVC not installed', async () => {
    const dir = makeGitRepo('pull-nodvc');
    dirs.push(dir);
    writeTree(dir, { 'mlops.config.yaml': CONFIG });
    expectFailure(await pull(dir, [], { PATH: '/nonexistent', HOME: process.env.HOME }), 'DVC_NOT_INSTALLED', /pip install dvc/);
  });

  it('not a DVC repository', async () => {
    const dir = makeGitRepo('pull-norepo');
    dirs.push(dir);
    writeTree(dir, { 'mlops.config.yaml': CONFIG });
    expectFailure(await pull(dir), 'DVC_NOT_A_REPO', /dvc init/);
  }, 30_000);

  it('no remote configured', async () => {
    expectFailure(await pull(dvcRepo({ remote: 'none' })), 'DVC_NO_REMOTE', /dvc remote add -d/);
  }, 150_000);

  it('files missing in the remote (never pushed)', async () => {
    const r = await pull(dvcRepo({ remote: 'empty' }));
    expectFailure(r, 'DVC_MISSING_FILES', /dvc push/);
    expect(r.json().error.details.targets).toEqual(['data/a.txt']);
  }, 150_000);

  it('a remote name that does not exist', async () => {
    expectFailure(await pull(dvcRepo(), ['--remote', 'nope']), 'DVC_REMOTE_NOT_FOUND', /dvc remote list/);
  }, 150_000);

  it('missing remote plugin', async () => {
    const dir = dvcRepo();
    // The test bed installs dvc-s3 (the sandbox's S3 remote needs it), not dvc-gs.
    venv(dir, 'dvc', ['remote', 'add', 'gsstore', 'gs://some-bucket/dvc']);
    expectFailure(await pull(dir, ['-r', 'gsstore']), 'DVC_PLUGIN_MISSING', /pip install dvc-gs/);
  }, 150_000);

  it('authentication not usable (HTTP basic auth without a password)', async () => {
    const dir = dvcRepo();
    venv(dir, 'dvc', ['remote', 'add', 'web', 'http://127.0.0.1:9/dvc']);
    venv(dir, 'dvc', ['remote', 'modify', 'web', 'auth', 'basic']);
    venv(dir, 'dvc', ['remote', 'modify', 'web', 'user', 'alice']);
    expectFailure(await pull(dir, ['-r', 'web']), 'DVC_AUTH_FAILED', /credentials/);
  }, 150_000);
});
