/**
 * The pieces of the npm-installed user's path that need no servers: how mlops prints its own
 * invocation, the shell lines of `sandbox env`, traffic's feature shifts and latency percentiles,
 * and the monitor report's line after a rollback.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlopsInvocation } from '../../src/sandbox/invocation.js';
import { ensureVenv } from '../../src/sandbox/local-stack.js';
import { runCli } from '../support/cli.js';
import { shellLines } from '../../src/commands/sandbox.js';
import { applyShifts, parseShift, percentile, unknownShiftFeatures } from '../../src/core/traffic-shift.js';
import { readFeatureRows, rowRequests } from '../../src/adapters/traffic.js';
import { renderText } from '../../src/core/monitor-report.js';
import type { MonitorOutcome } from '../../src/core/monitor.js';

describe('the invocation sandbox up prints', () => {
  const installed = '/home/u/proj/node_modules/mlops';
  const clone = '/home/u/src/mlops';
  it('npx (npm exec) -> npx mlops', () => {
    const argv1 = '/home/u/.npm/_npx/abc/node_modules/.bin/mlops';
    expect(
      mlopsInvocation({
        argv1,
        env: { npm_command: 'exec' },
        packageRoot: '/home/u/.npm/_npx/abc/node_modules/mlops',
        cwd: '/home/u/proj',
      }),
    ).toBe('npx mlops');
  });
  it('a node_modules/.bin link (npm scripts, a local install) -> npx mlops', () => {
    const argv1 = '/home/u/proj/node_modules/.bin/mlops';
    expect(mlopsInvocation({ argv1, env: { npm_command: 'run-script' }, packageRoot: installed, cwd: '/home/u/proj' })).toBe('npx mlops');
  });
  it('a global install, started as mlops from PATH -> mlops', () => {
    expect(mlopsInvocation({ argv1: '/usr/local/bin/mlops', env: {}, packageRoot: '/usr/local/lib/node_modules/mlops', cwd: '/tmp' })).toBe(
      'mlops',
    );
  });
  it('an installed package run by its path -> npx mlops', () => {
    expect(mlopsInvocation({ argv1: `${installed}/bin/mlops.cjs`, env: {}, packageRoot: installed, cwd: '/home/u/proj' })).toBe(
      'npx mlops',
    );
  });
  it('a clone run by path -> node and the path (relative inside the working directory)', () => {
    expect(mlopsInvocation({ argv1: `${clone}/bin/mlops.cjs`, env: {}, packageRoot: clone, cwd: clone })).toBe('node bin/mlops.cjs');
    expect(mlopsInvocation({ argv1: `${clone}/bin/mlops.cjs`, env: {}, packageRoot: clone, cwd: '/tmp/x' })).toBe(
      `node ${clone}/bin/mlops.cjs`,
    );
  });
  it('a linked clone started as mlops -> mlops', () => {
    expect(mlopsInvocation({ argv1: '/usr/local/bin/mlops', env: {}, packageRoot: clone, cwd: '/tmp' })).toBe('mlops');
  });
});

describe('sandbox env lines', () => {
  const vars = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', ODD: "it's" };
  it('sh: exports, quoted, and the venv first on PATH keeping the shell PATH', () => {
    expect(shellLines('sh', vars, '/v/bin')).toEqual([
      "export MLFLOW_TRACKING_URI='http://127.0.0.1:5000'",
      "export ODD='it'\\''s'",
      `export PATH='/v/bin'"\${PATH:+:$PATH}"`,
    ]);
  });
  it('fish and PowerShell', () => {
    expect(shellLines('fish', vars, '/v/bin')).toEqual([
      "set -gx MLFLOW_TRACKING_URI 'http://127.0.0.1:5000'",
      "set -gx ODD 'it\\'s'",
      "set -gx PATH '/v/bin' $PATH",
    ]);
    expect(shellLines('powershell', vars, '/v/bin')).toEqual([
      "$env:MLFLOW_TRACKING_URI = 'http://127.0.0.1:5000'",
      "$env:ODD = 'it''s'",
      "$env:PATH = '/v/bin' + [System.IO.Path]::PathSeparator + $env:PATH",
    ]);
  });
});

describe('traffic', () => {
  it('parses shifts: add, subtract, multiply, every feature', () => {
    expect(parseShift('petal_length=+0.5')).toEqual({ feature: 'petal_length', op: '+', value: 0.5 });
    expect(parseShift('a=-2')).toEqual({ feature: 'a', op: '+', value: -2 });
    expect(parseShift('*=*1.6')).toEqual({ feature: '*', op: '*', value: 1.6 });
    expect(() => parseShift('a=0.5')).toThrow(/FEATURE=\+N/);
    expect(() => parseShift('a=+x')).toThrow(/FEATURE=\+N/);
  });
  it('applies shifts by column and names unknown features', () => {
    const shifts = [parseShift('b=+1'), parseShift('*=*2')];
    expect(applyShifts(['a', 'b'], [1, 2], shifts)).toEqual([2, 6]);
    expect(unknownShiftFeatures(['a', 'b'], [...shifts, parseShift('c=+1')])).toEqual(['c']);
  });
  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile([], 50)).toBeNull();
  });
  it('reads CSV and JSONL rows without label columns; requests carry shifted rows and inference ids', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-traffic-'));
    writeFileSync(path.join(dir, 'h.csv'), 'a,target,b\n1,0,2\n3,1,4\n');
    writeFileSync(path.join(dir, 'h.jsonl'), '{"a":1,"b":2,"label":0}\n{"a":3,"b":4,"label":1}\n');
    const csv = readFeatureRows(path.join(dir, 'h.csv'));
    expect(csv).toEqual({
      header: ['a', 'b'],
      rows: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(readFeatureRows(path.join(dir, 'h.jsonl'))).toEqual(csv);
    const req = rowRequests(csv, { shifts: [parseShift('a=+0.5')], inferenceIdPrefix: 'x-' });
    expect(req(3)).toEqual({ body: 'a,b\n3.5,4\n', inferenceId: 'x-3' });
  });
  it('--file is relative to the working directory, like every other path flag; a folder is bad input, not an internal error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-traffic-'));
    mkdirSync(path.join(dir, '.git'));
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'mlops.config.yaml'), 'project: demo\n');
    writeFileSync(path.join(dir, 'sub', 'rows.csv'), 'a,b\n1,2\n');
    const env = { PATH: process.env.PATH };
    // An unknown shifted feature stops it after reading the file, before any endpoint is called.
    const fromSub = await runCli(['traffic', '--endpoint', 'x', '--file', 'rows.csv', '--count', '1', '--shift', 'zz=+1', '--json'], {
      cwd: path.join(dir, 'sub'),
      env,
    });
    expect(fromSub.code, fromSub.stderr).toBe(2);
    expect(fromSub.json().error).toMatchObject({
      code: 'BAD_SHIFT',
      message: expect.stringContaining(path.join(dir, 'sub', 'rows.csv')) as string,
    });
    const folder = await runCli(['traffic', '--endpoint', 'x', '--file', 'sub', '--count', '1', '--json'], { cwd: dir, env });
    expect(folder.code, folder.stderr).toBe(2);
    expect(folder.json().error).toMatchObject({ code: 'NO_DATA_FILE', message: expect.stringContaining('is a folder') as string });
  });
});

describe('monitor text after a rollback', () => {
  it('says it rolled back, not "0 (rollback after N)"', () => {
    const o = {
      endpoint: 'e',
      variant: 'v',
      baseline: 'b',
      capture: { records: 10, files: 1, bad: 0, outsideWindow: 0 },
      dataset: { status: 'drift', samples: 10, reasons: ['output drift'], driftedInputs: [], outputDrifted: ['prediction'] },
      features: [],
      consecutive: 0,
      consecutiveWindows: 1,
      rollback: { due: true, performed: true, detail: 'rolled back to e-config-1' },
    } as unknown as MonitorOutcome;
    const text = renderText(o);
    expect(text).toContain('Drifting in 1 consecutive window(s): rolled back. rolled back to e-config-1');
    expect(text).not.toContain('Consecutive drifting windows: 0');
  });
});

describe('the package', () => {
  it('ships every docs/*.md file the help text points at', async () => {
    const { COMMANDS } = await import('../../src/cli/commands.js');
    const { readFileSync } = await import('node:fs');
    const root = path.resolve(import.meta.dirname, '..', '..');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
    const named = [...new Set(JSON.stringify(COMMANDS).match(/docs\/[\w-]+\.md/g) ?? [])];
    expect(named.length).toBeGreaterThan(0);
    for (const doc of named)
      expect(
        pkg.files.some((f) => f === doc || (f.endsWith('/') && doc.startsWith(f))),
        doc,
      ).toBe(true);
  });
});

describe('status without AWS credentials', () => {
  it('says that sandbox env sets them', async () => {
    const { runCli } = await import('../support/cli.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-nocreds-'));
    const env = {
      PATH: path.dirname(process.execPath),
      HOME: dir,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    };
    expect((await runCli(['init', '--ci', 'none'], { cwd: dir, env })).code).toBe(0);
    const r = await runCli(['status'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('CredentialsProviderError');
    expect(r.stderr).toContain('eval "$(npx mlops sandbox env)"');
  });
});

describe('train failing on a missing Python package', () => {
  it('hints how to install the requirements', async () => {
    const { missingModuleHint } = await import('../../src/commands/train.js');
    expect(missingModuleHint("Traceback...\nModuleNotFoundError: No module named 'xgboost'\n")).toMatch(
      /no module "xgboost".*pip install -r requirements.txt/,
    );
    expect(missingModuleHint('ValueError: bad')).toBeUndefined();
  });
});

describe('the venv sandbox up makes (scripts/setup-venv.sh through ensureVenv)', () => {
  // A python that passes the version check and fails to make a venv: the script stops right after
  // it decided what to do with the folder, without downloading anything.
  function setUp(): { dir: string; env: Record<string, string | undefined> } {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-venv-'));
    const python = path.join(dir, 'python3');
    writeFileSync(python, '#!/bin/sh\ncase "$1" in -c) exit 0;; --version) echo Python 3.11.0;; *) exit 1;; esac\n');
    chmodSync(python, 0o755);
    return { dir, env: { PATH: process.env.PATH, PYTHON: python } };
  }

  it('never deletes a folder that is not a venv (--venv . or a mistyped path): it refuses, and the files stay', async () => {
    const { dir, env } = setUp();
    const project = path.join(dir, 'project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'train.py'), 'print(1)\n');
    await expect(ensureVenv(project, { env })).rejects.toThrow(/is not a Python virtual environment/);
    expect(existsSync(path.join(project, 'train.py'))).toBe(true);
  });

  it('sandbox up: a venv that cannot be made is a failed tool (exit 3) with what to do, not "a bug in mlops"; --time-scale must be finite', async () => {
    const { dir, env } = setUp();
    mkdirSync(path.join(dir, '.git'));
    const notVenv = path.join(dir, 'data');
    mkdirSync(notVenv);
    writeFileSync(path.join(notVenv, 'rows.csv'), 'a\n1\n');
    const failed = await runCli(['sandbox', 'up', '--venv', notVenv, '--json'], { cwd: dir, env });
    expect(failed.code, failed.stderr).toBe(3);
    expect(failed.stderr).not.toContain('internal error');
    expect(failed.json().error).toMatchObject({ code: 'VENV_SETUP_FAILED', hint: expect.stringContaining('--venv') as string });
    // Infinity is not a time scale: refused before any venv or server is touched.
    const infinite = await runCli(['sandbox', 'up', '--time-scale', '1e999', '--venv', notVenv, '--json'], { cwd: dir, env });
    expect(infinite.code, infinite.stderr).toBe(2);
    expect(infinite.json().error.code).toBe('BAD_OPTION');
  });

  it('still replaces a broken venv (pyvenv.cfg without a working python)', async () => {
    const { dir, env } = setUp();
    const broken = path.join(dir, 'venv');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'pyvenv.cfg'), 'home = /nonexistent\n');
    await expect(ensureVenv(broken, { env })).rejects.toThrow(/-m venv failed/);
    expect(existsSync(path.join(broken, 'pyvenv.cfg'))).toBe(false);
  });
});
