/**
 * The user's path as the user meets it: `npm pack`, the tarball installed into a fresh folder
 * with its own package.json and `git init`, then the README's "Rehearse without AWS" block run
 * literally by bash (so `eval "$(npx mlops sandbox env)"` is the real thing): init, sandbox up,
 * env, DVC, pull, train, compare, the first promote, a second model promoted through shadow and
 * bake while `mlops traffic` sends requests, status, audit verify, sandbox down; then no process
 * of the sandbox is left.
 *
 * The block is read from README.md, not copied: a command missing from it fails the test, and so
 * does any command of it that fails (bash -e). The sandbox uses this checkout's .venv through
 * MLOPS_SANDBOX_VENV (documented in the README), so no second 1.2 GB environment is made.
 * Slow (minutes): run it alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const VENV = path.join(ROOT, '.venv');

/** The first sh block under the README heading "Rehearse without AWS". */
function readmeBlock(readme: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Rehearse without AWS'));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no sh block under "## Rehearse without AWS"');
  return block.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let work: string;
let project: string;
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LANG: process.env.LANG,
  MLOPS_SANDBOX_VENV: VENV,
  GIT_AUTHOR_NAME: 'rehearsal',
  GIT_AUTHOR_EMAIL: 'rehearsal@example.invalid',
  GIT_COMMITTER_NAME: 'rehearsal',
  GIT_COMMITTER_EMAIL: 'rehearsal@example.invalid',
  PYTHONDONTWRITEBYTECODE: '1',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'mlops-userpath-'));
  project = path.join(work, 'rehearsal');
  mkdirSync(project);
  // npm pack runs prepack (a fresh build); the tarball is what `npm publish` would upload.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })) as [
    { filename: string },
  ];
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'rehearsal', version: '1.0.0', private: true }, null, 2));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: project, env });
  execFileSync('npm', ['install', '--prefer-offline', '--save-dev', path.join(work, packed[0].filename)], {
    cwd: project,
    env,
    stdio: 'pipe',
  });
}, 600_000);

afterAll(() => {
  // A failed run may leave the sandbox up: stop it the way a user would.
  spawnSync('npx', ['mlops', 'sandbox', 'down'], { cwd: project, env, encoding: 'utf8' });
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe("the README's sandbox block, in a repository made by npx mlops init from the packed tarball", () => {
  it(
    'takes a model from nothing to a second promotion done, bake judged on mlops traffic, and leaves no process',
    () => {
      const lines = readmeBlock(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
      const needed = [
        'npx mlops init',
        'npx mlops sandbox up',
        'eval "$(npx mlops sandbox env)"',
        'npx mlops pull',
        'npx mlops train',
        'npx mlops compare',
        'npx mlops promote',
        'npx mlops traffic',
        'npx mlops status',
        'npx mlops audit verify',
        'npx mlops sandbox down',
      ];
      for (const cmd of needed)
        expect(
          lines.some((l) => l.includes(cmd)),
          `the README block runs ${cmd}`,
        ).toBe(true);
      const down = lines.findIndex((l) => l.includes('npx mlops sandbox down'));

      // Up to `sandbox down` in one bash (the eval's variables carry on), then read which processes
      // the sandbox recorded, then the rest.
      const script = (body: string[]) => ['set -euo pipefail', 'set -x', ...body].join('\n');
      const first = spawnSync('bash', ['-c', script(lines.slice(0, down))], { cwd: project, env, encoding: 'utf8', timeout: 40 * 60_000 });
      const log = `${first.stdout}\n${first.stderr}`;
      const state = JSON.parse(readFileSync(path.join(project, '.mlops', 'sandbox', 'state.json'), 'utf8')) as {
        processes: Array<{ name: string; pid: number }>;
      };
      expect(first.status, log.slice(-8000)).toBe(0);

      // sandbox up printed the invocation that works here (npx), not a bare `mlops`.
      expect(log).toContain('eval "$(npx mlops sandbox env)"');
      // The second promotion went through shadow and bake to done, judged on the traffic.
      const status = spawnSync('npx', ['mlops', 'status', '--json'], {
        cwd: project,
        env: { ...env, ...sandboxEnv(project) },
        encoding: 'utf8',
      });
      const st = JSON.parse(status.stdout) as {
        deployment: {
          stage: string;
          history: Array<{ stage: string }>;
          bake?: { passed: boolean; measured?: { comparedSamples?: number } };
        };
      };
      expect(st.deployment.stage).toBe('done');
      expect(st.deployment.history.map((h) => h.stage)).toEqual(expect.arrayContaining(['shadow', 'bake', 'cutover', 'done']));
      expect(st.deployment.bake?.passed).toBe(true);
      expect(st.deployment.bake?.measured?.comparedSamples).toBeGreaterThanOrEqual(100);
      expect(log).toMatch(/\d+ request\(s\) to rehearsal-prod in [\d.]+ s: \d+ answered/);
      expect(log).toMatch(/hash chain|intact|records/i);

      const second = spawnSync('bash', ['-c', script(lines.slice(down))], { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
      expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
      for (const p of state.processes) expect(alive(p.pid), `${p.name} (pid ${p.pid}) still runs`).toBe(false);
      expect(readdirSync(path.join(project, '.mlops'))).not.toContain('sandbox');
    },
    45 * 60_000,
  );
});

/** The sandbox's variables, as `eval "$(npx mlops sandbox env)"` sets them. */
function sandboxEnv(cwd: string): Record<string, string> {
  const r = spawnSync('npx', ['mlops', 'sandbox', 'env', '--json'], { cwd, env, encoding: 'utf8' });
  return JSON.parse(r.stdout) as Record<string, string>;
}
