/** The git and DVC facts `mlops train` tags runs with, read from real temp folders. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGitInfo } from '../../src/adapters/git.js';
import { readDataVersion } from '../../src/adapters/dvc.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'mlops-adapters-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8' });
const write = (root: string, files: Record<string, string>) => {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
};

describe('readGitInfo', () => {
  it('commit, branch, clean, then dirty, then detached', async () => {
    const dir = tmp();
    git(dir, 'init', '-q', '-b', 'feature/x');
    git(dir, 'config', 'user.email', 't@example.com');
    git(dir, 'config', 'user.name', 't');
    write(dir, { 'a.txt': '1\n' });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'one');
    const head = git(dir, 'rev-parse', 'HEAD').trim();
    expect(await readGitInfo(dir, env)).toMatchObject({ available: true, commit: head, branch: 'feature/x', dirty: false });
    write(dir, { 'new-file.txt': 'untracked\n' });
    expect((await readGitInfo(dir, env)).dirty).toBe(true);
    git(dir, 'checkout', '-q', '--detach');
    const detached = await readGitInfo(dir, env);
    expect(detached.branch).toBeUndefined();
    expect(detached.commit).toBe(head);
  });

  it('no commit yet, and not a repository at all', async () => {
    const fresh = tmp();
    git(fresh, 'init', '-q', '-b', 'main');
    expect(await readGitInfo(fresh, env)).toMatchObject({ available: true, commit: undefined, branch: 'main' });
    expect(await readGitInfo(tmp(), { ...env, GIT_CEILING_DIRECTORIES: tmpdir() })).toEqual({ available: false });
    expect(await readGitInfo(tmp(), { PATH: '/nonexistent' })).toEqual({ available: false });
  });
});

describe('readDataVersion', () => {
  const lock = (md5: string) =>
    `schema: '2.0'\nstages:\n  prepare:\n    cmd: python src/prepare.py\n    outs:\n    - path: data/raw.csv\n      hash: md5\n      md5: ${md5}\n      size: 10\n`;
  const dvcFile = (md5: string) => `outs:\n- md5: ${md5}\n  size: 3\n  hash: md5\n  path: extra.csv\n`;

  it('hashes dvc.lock outputs and *.dvc files; changes exactly when the data does', async () => {
    const a = tmp();
    write(a, { 'dvc.lock': lock('aaa'), 'data/extra.csv.dvc': dvcFile('bbb') });
    const va = await readDataVersion(a);
    expect(va.version).toMatch(/^[0-9a-f]{16}$/);
    expect(va.outputs).toEqual({ 'data/raw.csv': 'aaa', 'data/extra.csv': 'bbb' });
    expect(va.sources).toEqual(['dvc.lock', 'data/extra.csv.dvc']);

    const same = tmp();
    write(same, { 'data/extra.csv.dvc': dvcFile('bbb'), 'dvc.lock': lock('aaa') });
    expect((await readDataVersion(same)).version).toBe(va.version);

    const changed = tmp();
    write(changed, { 'dvc.lock': lock('aaa'), 'data/extra.csv.dvc': dvcFile('ccc') });
    expect((await readDataVersion(changed)).version).not.toBe(va.version);
  });

  it('has no version without DVC files', async () => {
    expect(await readDataVersion(tmp())).toEqual({ outputs: {}, sources: [] });
  });
});
