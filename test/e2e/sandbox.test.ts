/**
 * `mlops sandbox up|env|status|down` in a project made by `mlops init`: the servers outlive the
 * command (detached), `up` again says so, `env` points mlops at them (status and audit verify
 * reach the emulator and moto through AWS_ENDPOINT_URL_* alone; the buckets are bootstrap's, so
 * bootstrap has nothing to add to them), `down` stops every process.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

let dir: string;
const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const cli = (...argv: string[]) => runCli(argv, { cwd: dir, env });

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-sandbox-'));
  mkdirSync(join(dir, '.git'));
  const init = await cli('init', '--name', 'sbx', '--account-id', '123456789012', '--ci', 'none');
  expect(init.code, init.stderr).toBe(0);
});

afterAll(async () => {
  await cli('sandbox', 'down');
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.sequential('mlops sandbox', () => {
  let state: { venv: string; urls: { mlflow: string; moto: string; emulator: string }; processes: Array<{ name: string; pid: number }> };

  it("up starts MLflow, moto and the emulator, records them, and creates the config's buckets", async () => {
    const r = await cli('sandbox', 'up', '--time-scale', '20', '--json');
    expect(r.code, r.stderr).toBe(0);
    state = r.json();
    expect(r.json()).toMatchObject({ alreadyUp: false, timeScale: 20, bucketsCreated: ['sbx-mlops', 'sbx-mlops-audit'] });
    expect(state.processes.map((p) => p.name).sort()).toEqual(['emulator', 'mlflow', 'moto']);
    expect(JSON.parse(readFileSync(join(dir, '.mlops', 'sandbox', 'state.json'), 'utf8')).urls).toEqual(state.urls);
    expect((await fetch(`${state.urls.mlflow}/health`)).status).toBe(200);
    expect((await fetch(`${state.urls.emulator}/_emulator/health`)).status).toBe(200);
  }, 180_000);

  it('up again says it is already up', async () => {
    const r = await cli('sandbox', 'up', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ alreadyUp: true, urls: state.urls });
    expect(r.stderr).toMatch(/already up/);
  });

  it('env prints export lines; with them alone mlops reaches the emulator and moto', async () => {
    const text = await cli('sandbox', 'env');
    expect(text.stdout).toContain(`export AWS_ENDPOINT_URL_SAGEMAKER='${state.urls.emulator}'`);
    expect(text.stdout).toContain(`export MLFLOW_TRACKING_URI='${state.urls.mlflow}'`);
    // The sandbox's Python (dvc with its S3 plugin, mlflow, python) first on PATH.
    expect(text.stdout).toContain(`export PATH='${join(state.venv, 'bin')}'"\${PATH:+:$PATH}"`);
    const vars = (await cli('sandbox', 'env', '--json')).json<Record<string, string>>();
    const withEnv = { ...env, ...vars };
    const status = await runCli(['status', '--json'], { cwd: dir, env: withEnv });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json()).toMatchObject({ endpoint: null, deployment: null });
    const audit = await runCli(['audit', 'verify', '--json'], { cwd: dir, env: withEnv });
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.json()).toMatchObject({ ok: true, records: 0 });
    // up made the buckets from bootstrap's own plan: bootstrap finds nothing to add to them.
    const boot = await runCli(['bootstrap', '--dry-run', '--json'], { cwd: dir, env: withEnv });
    const buckets = boot
      .json<{ resources: { kind: string; name: string; status: string }[] }>()
      .resources.filter((r) => r.kind === 'bucket');
    expect(
      buckets.map((b) => [b.name, b.status]),
      boot.stdout,
    ).toEqual([
      ['sbx-mlops', 'exists'],
      ['sbx-mlops-audit', 'exists'],
    ]);
  }, 60_000);

  it('status reports each server answering', async () => {
    const r = await cli('sandbox', 'status', '--json');
    expect(r.code).toBe(0);
    expect(r.json().processes.every((p: { answers: boolean }) => p.answers)).toBe(true);
  });

  // The invocation in the message is the one that started mlops (here the test runner's; mlopsInvocation has its own unit tests).
  it('up in a repository without a config says that it created no buckets, and how to get them', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'mlops-sandbox-bare-'));
    mkdirSync(join(bare, '.git'));
    try {
      const r = await runCli(['sandbox', 'up', '--json'], { cwd: bare, env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ alreadyUp: false, bucketsCreated: [] });
      expect(r.stderr).toMatch(
        /no mlops config in .*: no S3 buckets created \(after `[^`]* init`, run `[^`]* sandbox up` again to create them\)/,
      );
    } finally {
      const down = await runCli(['sandbox', 'down', '--json'], { cwd: bare, env });
      expect(down.code, down.stderr).toBe(0);
      rmSync(bare, { recursive: true, force: true });
    }
  }, 180_000);

  it('down stops every process group and removes the state, even with the config broken meanwhile', async () => {
    const configFile = join(dir, 'mlops.config.yaml');
    const config = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, `${config}\nnot-a-setting: [\n`);
    const st0 = await cli('sandbox', 'status', '--json');
    expect(st0.code, st0.stderr).toBe(0);
    expect(st0.stderr).toMatch(/is not valid/);
    const r = await cli('sandbox', 'down', '--json');
    writeFileSync(configFile, config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().stopped.sort()).toEqual(['emulator', 'mlflow', 'moto']);
    for (const p of state.processes) expect(alive(p.pid), p.name).toBe(false);
    expect(existsSync(join(dir, '.mlops', 'sandbox'))).toBe(false);
    const st = await cli('sandbox', 'status', '--json');
    expect(st.json().up).toBe(false);
    expect(st.code).toBe(1);
    const e = await cli('sandbox', 'env');
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/mlops sandbox up/);
  }, 60_000);
});
