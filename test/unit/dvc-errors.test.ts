import { describe, expect, it } from 'vitest';
import { classifyDvcFailure, dvcPullArgv, failedTargets } from '../../src/core/dvc-errors.js';

// Output recorded from the real dvc 3.67.1 (the venv's), one case per failure.
const REC = {
  notRepo: "ERROR: you are not inside of a DVC repository (checked up to mount point '/')\n",
  noRemote:
    'Everything is up to date.\nNo remote provided and no default remote set.\n' +
    'ERROR: failed to pull data from the cloud - Checkout failed for following targets:\na.txt\nIs your cache up to date?\n<https://error.dvc.org/missing-files>\n',
  missing:
    'WARNING: Some of the cache files do not exist neither locally nor on remote. Missing cache files:\nmd5: 764efa883dda1e11db47671c4a3bbd9e\n' +
    'Everything is up to date.\nERROR: failed to pull data from the cloud - Checkout failed for following targets:\na.txt\ndata/raw.csv\nIs your cache up to date?\n<https://error.dvc.org/missing-files>\n',
  unknownRemote:
    "WARNING: failed to collect 'workspace', skipping\nERROR: failed to pull data from the cloud - config file error: remote 'nope' doesn't exist\n",
  plugin:
    "WARNING: failed to collect 'workspace', skipping\nERROR: unexpected error - s3 is supported, but requires 'dvc-s3' to be installed: No module named 'dvc_s3'\n\nHaving any troubles? Hit us up at https://dvc.org/support, we are always happy to help!\n",
  httpAuthConfig:
    "WARNING: failed to collect 'workspace', skipping\nERROR: configuration error - HTTP 'basic' authentication require both 'user' and 'password'\nERROR: HTTP 'basic' authentication require both 'user' and 'password'\nLearn more about configuration settings at <https://man.dvc.org/remote/modify>.\n",
};

describe('classifyDvcFailure', () => {
  it('is undefined on success', () => {
    expect(classifyDvcFailure({ exitCode: 0, output: 'Everything is up to date.' })).toBeUndefined();
  });
  it('reports a missing dvc binary', () => {
    const f = classifyDvcFailure({ notFound: true, output: '' })!;
    expect(f.code).toBe('DVC_NOT_INSTALLED');
    expect(f.hint).toMatch(/pip install dvc/);
  });
  it('reports "not a DVC repository" (exit 253)', () => {
    const f = classifyDvcFailure({ exitCode: 253, output: REC.notRepo })!;
    expect(f.code).toBe('DVC_NOT_A_REPO');
    expect(f.hint).toMatch(/dvc init/);
  });
  it('reports no remote before the checkout failure that follows it', () => {
    const f = classifyDvcFailure({ exitCode: 1, output: REC.noRemote })!;
    expect(f.code).toBe('DVC_NO_REMOTE');
    expect(f.hint).toMatch(/dvc remote add -d/);
  });
  it('reports files missing from the remote, with the targets', () => {
    const f = classifyDvcFailure({ exitCode: 1, output: REC.missing })!;
    expect(f.code).toBe('DVC_MISSING_FILES');
    expect(f.details).toEqual({ targets: ['a.txt', 'data/raw.csv'] });
    expect(f.message).toContain('a.txt, data/raw.csv');
    expect(f.hint).toMatch(/dvc push/);
  });
  it('reports an unknown remote name', () => {
    const f = classifyDvcFailure({ exitCode: 1, output: REC.unknownRemote })!;
    expect(f.code).toBe('DVC_REMOTE_NOT_FOUND');
    expect(f.message).toContain("'nope'");
  });
  it('reports a missing remote plugin with the pip command', () => {
    const f = classifyDvcFailure({ exitCode: 255, output: REC.plugin })!;
    expect(f.code).toBe('DVC_PLUGIN_MISSING');
    expect(f.hint).toContain('pip install dvc-s3');
  });
  it('reports half-configured HTTP credentials (exit 251) as an auth problem', () => {
    const f = classifyDvcFailure({ exitCode: 251, output: REC.httpAuthConfig })!;
    expect(f.code).toBe('DVC_AUTH_FAILED');
  });
  it.each([
    ['ERROR: failed to pull data from the cloud - Unable to locate credentials'],
    ['ERROR: unexpected error - An error occurred (403) when calling the HeadObject operation: Forbidden'],
    ['ERROR: unexpected error - An error occurred (InvalidAccessKeyId) when calling the ListObjectsV2 operation'],
    ["ERROR: unexpected error - 401, message='Unauthorized', url='https://dvc.example.com/files/md5/76'"],
    ['ERROR: failed to pull data from the cloud - Anonymous caller does not have storage.objects.list access'],
    ['ERROR: unexpected error - Authentication failed.'],
  ])('recognises remote-plugin auth errors: %s', (line) => {
    expect(classifyDvcFailure({ exitCode: 1, output: line })!.code).toBe('DVC_AUTH_FAILED');
  });
  it('reports other config errors (exit 251)', () => {
    const f = classifyDvcFailure({ exitCode: 251, output: 'ERROR: configuration error - config file error: extra keys not allowed\n' })!;
    expect(f.code).toBe('DVC_CONFIG_ERROR');
  });
  it('falls back to the last ERROR line', () => {
    const f = classifyDvcFailure({ exitCode: 255, output: 'ERROR: unexpected error - boom\n' })!;
    expect(f.code).toBe('DVC_FAILED');
    expect(f.message).toContain('boom');
  });
  it('treats a signal as an interruption', () => {
    expect(classifyDvcFailure({ signal: 'SIGTERM', output: '' })!.code).toBe('DVC_INTERRUPTED');
  });
});

describe('dvcPullArgv', () => {
  it('passes remote, jobs and targets (after --)', () => {
    expect(dvcPullArgv({ remote: 'r', jobs: 4, targets: ['-odd.dvc'] })).toEqual([
      'dvc',
      'pull',
      '--remote',
      'r',
      '--jobs',
      '4',
      '--',
      '-odd.dvc',
    ]);
    expect(dvcPullArgv({})).toEqual(['dvc', 'pull']);
  });
  it('parses checkout failures', () => {
    expect(failedTargets(REC.missing)).toEqual(['a.txt', 'data/raw.csv']);
    expect(failedTargets('nothing')).toEqual([]);
  });
});
