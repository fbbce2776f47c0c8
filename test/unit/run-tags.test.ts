import { describe, expect, it } from 'vitest';
import { buildRunTags, canonicalJson, deadOwnerRuns, missingMetrics, requiredMetrics } from '../../src/core/run-tags.js';
import { detectCi } from '../../src/adapters/ci.js';
import { missingLines, placeholdersOf, renderTemplate, slugify } from '../../src/core/template.js';

describe('buildRunTags', () => {
  const base = { configHash: 'abc', command: 'python src/train.py', mlopsVersion: '0.1.0' };
  it("tags git, data, config and CI facts with the mlops. prefix, plus MLflow's own git keys", () => {
    const tags = buildRunTags({
      ...base,
      git: { available: true, commit: 'c0ffee', branch: 'feature', dirty: false },
      ci: { provider: 'github', runUrl: 'https://github.com/o/r/actions/runs/1', branch: 'pr-branch', pullRequest: '7' },
      dataVersion: 'd1',
      project: 'p',
      sourceName: 'src/train.py',
    });
    expect(tags).toMatchObject({
      'mlops.git.commit': 'c0ffee',
      'mlops.git.branch': 'pr-branch',
      'mlops.git.dirty': 'false',
      'mlops.data.version': 'd1',
      'mlops.config.hash': 'abc',
      'mlops.ci.provider': 'github',
      'mlops.ci.url': 'https://github.com/o/r/actions/runs/1',
      'mlops.ci.pull_request': '7',
      'mlflow.source.git.commit': 'c0ffee',
      'mlflow.source.name': 'src/train.py',
    });
  });
  it('leaves absent facts out', () => {
    const tags = buildRunTags({ ...base, git: { available: false }, ci: {} });
    expect(Object.keys(tags).filter((k) => k.startsWith('mlops.git') || k.startsWith('mlops.ci') || k === 'mlops.data.version')).toEqual(
      [],
    );
  });
});

describe('required metrics', () => {
  it('unions the gates and train.requiredMetrics', () => {
    expect(requiredMetrics([{ metric: 'accuracy' }, { metric: 'f1' }], ['f1', 'auc'])).toEqual(['accuracy', 'f1', 'auc']);
  });
  it('counts NaN as missing', () => {
    expect(missingMetrics(['a', 'b', 'c'], { a: 1, b: NaN })).toEqual(['b', 'c']);
  });
});

describe('canonicalJson', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      canonicalJson({ a: { d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
  });
});

describe('detectCi', () => {
  it('GitHub Actions: run URL (with attempt), PR head branch', () => {
    expect(
      detectCi({
        GITHUB_ACTIONS: 'true',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'o/r',
        GITHUB_RUN_ID: '42',
        GITHUB_RUN_ATTEMPT: '2',
        GITHUB_REF: 'refs/pull/7/merge',
        GITHUB_HEAD_REF: 'feat',
        GITHUB_SHA: 'abc',
      }),
    ).toEqual({
      provider: 'github',
      runUrl: 'https://github.com/o/r/actions/runs/42/attempts/2',
      branch: 'feat',
      commit: 'abc',
      pullRequest: '7',
    });
  });
  it('GitLab CI: job URL and MR source branch', () => {
    expect(
      detectCi({
        GITLAB_CI: 'true',
        CI_JOB_URL: 'https://gitlab.com/o/r/-/jobs/9',
        CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feat',
        CI_COMMIT_SHA: 'abc',
        CI_MERGE_REQUEST_IID: '3',
      }),
    ).toEqual({ provider: 'gitlab', runUrl: 'https://gitlab.com/o/r/-/jobs/9', branch: 'feat', commit: 'abc', pullRequest: '3' });
  });
  it('nothing outside CI; generic with CI=true', () => {
    expect(detectCi({})).toEqual({});
    expect(detectCi({ CI: 'false' })).toEqual({});
    expect(detectCi({ CI: 'true' })).toEqual({ provider: 'generic' });
  });
});

describe('templates', () => {
  it('renders {{name}} and leaves GitHub expressions alone', () => {
    expect(renderTemplate('a {{name}} ${{ secrets.X }}', { name: 'n' })).toBe('a n ${{ secrets.X }}');
    expect(() => renderTemplate('{{nope}}', {})).toThrow(/nope/);
    expect(placeholdersOf('{{a}} {{b}} {{a}} ${{ c }}')).toEqual(['a', 'b']);
  });
  it('slugifies names', () => {
    expect(slugify('My Churn_Model!')).toBe('my-churn-model');
    expect(slugify('___')).toBe('model');
  });
  it('finds missing .gitignore lines', () => {
    expect(missingLines('node_modules\n/.mlops\n', '# c\n.mlops/\nmlruns/\nnode_modules/\n')).toEqual(['mlruns/']);
  });
});

describe('runs left RUNNING by a dead mlops (issue 17)', () => {
  const run = (id: string, status: string, tags: Record<string, string>) => ({ info: { runId: id, status }, data: { tags } });
  it('tags the owner pid and host', () => {
    const tags = buildRunTags({
      git: { available: false },
      ci: {},
      configHash: 'h',
      command: 'x',
      mlopsVersion: '1',
      owner: { pid: 42, host: 'box' },
    });
    expect(tags).toMatchObject({ 'mlops.pid': '42', 'mlops.host': 'box' });
  });
  it('only RUNNING runs of this host whose pid is gone', () => {
    const runs = [
      run('dead', 'RUNNING', { 'mlops.pid': '10', 'mlops.host': 'box' }),
      run('alive', 'RUNNING', { 'mlops.pid': '11', 'mlops.host': 'box' }),
      run('other-host', 'RUNNING', { 'mlops.pid': '10', 'mlops.host': 'elsewhere' }),
      run('finished', 'FINISHED', { 'mlops.pid': '10', 'mlops.host': 'box' }),
      run('untagged', 'RUNNING', {}),
      run('garbage-pid', 'RUNNING', { 'mlops.pid': 'x', 'mlops.host': 'box' }),
    ];
    expect(deadOwnerRuns(runs, 'box', (pid) => pid === 11).map((r) => r.info.runId)).toEqual(['dead']);
  });
});
