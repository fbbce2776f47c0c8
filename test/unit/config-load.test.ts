import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findConfig, loadConfig, resolveConfigPath } from '../../src/config/load.js';
import { parseConfigText } from '../../src/config/parse.js';
import { runCli } from '../support/cli.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder built from a file-tree literal; `.git/` entries make it a repository root. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlops-config-'));
  made.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    if (rel.endsWith('/')) mkdirSync(file, { recursive: true });
    else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  return dir;
}

const env = { PATH: process.env.PATH, HOME: '/nonexistent' };
const VALID = 'project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:5000\n';

/** Runs `mlops config validate` in a folder; asserts exit 2 and returns stderr. */
async function invalid(files: Record<string, string>, extra: { env?: Record<string, string>; argv?: string[]; sub?: string } = {}) {
  const dir = tree({ '.git/': '', ...files });
  const cwd = path.join(dir, extra.sub ?? '');
  const r = await runCli([...(extra.argv ?? []), 'config', 'validate'], { cwd, env: { ...env, ...extra.env } });
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  return { dir, stderr: r.stderr };
}

describe('config errors a new user meets (exit 2, file:line:col, dotted path, expected/found, fix)', () => {
  it('wrong type', async () => {
    const { dir, stderr } = await invalid({ 'mlops.config.yaml': 'project: demo\nmlflow:\n  retries: "3"\n' });
    expect(stderr).toContain(
      `${path.join(dir, 'mlops.config.yaml')}:3:12  mlflow.retries: expected a number, found the string "3"; remove the quotes`,
    );
  });

  it('unknown key points at the key itself, with did-you-mean', async () => {
    const { dir, stderr } = await invalid({ 'mlops.config.yaml': 'project: demo\nmlflow:\n  trackingUrl:\n    http://x\n' });
    expect(stderr).toContain(
      `${path.join(dir, 'mlops.config.yaml')}:3:3  mlflow.trackingUrl: unknown key "trackingUrl"; did you mean "trackingUri"?`,
    );
  });

  it('a key in the wrong section says where it belongs', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': 'project: demo\ntrackingUri: http://x\n' });
    expect(stderr).toMatch(/:2:1 {2}trackingUri: unknown key "trackingUri"; it belongs under mlflow; move it there/);
  });

  it('YAML syntax error', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': 'project: demo\nmlflow:\n  trackingUri: "http://x\n  retries: 2\n' });
    // At the opening quote, not at the end of the file where the parser noticed.
    expect(stderr).toMatch(/mlops\.config\.yaml:3:16 {2}YAML syntax error: Missing closing "quote; add the missing closing character/);
    const tabs = await invalid({ 'mlops.config.yaml': 'mlflow:\n\tretries: 2\n' });
    expect(tabs.stderr).toMatch(/mlops\.config\.yaml:2:1 {2}YAML syntax error: .*; indent with spaces, not tabs/);
  });

  it('unset environment variable, reported together with schema problems', async () => {
    const { stderr } = await invalid({
      'mlops.config.yaml': 'project: demo\nmlflow:\n  trackingUri: ${MLFLOW_URL}\n  retries: lots\n',
    });
    expect(stderr).toContain('(2 problems)');
    expect(stderr).toMatch(
      /:3:16 {2}mlflow\.trackingUri: environment variable MLFLOW_URL is not set \(referenced as "\$\{MLFLOW_URL\}"\); set it, or give a default with \$\{MLFLOW_URL:-value\}/,
    );
    expect(stderr).toMatch(/:4:12 {2}mlflow\.retries: expected a number, found the string "lots"/);
  });

  it('a set variable and a default are used', async () => {
    const dir = tree({ '.git/': '', 'mlops.config.yaml': 'project: ${NAME}\nmlflow:\n  trackingUri: ${URI:-http://127.0.0.1:1}\n' });
    const r = await runCli(['config', 'show', '--json'], { cwd: dir, env: { ...env, NAME: 'from-env' } });
    expect(r.code).toBe(0);
    expect(r.json().config.project).toBe('from-env');
    expect(r.json().config.mlflow.trackingUri).toBe('http://127.0.0.1:1');
  });

  it('empty file', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': '' });
    expect(stderr).toMatch(/mlops\.config\.yaml:1 {2}the config is empty .*npx mlops init/);
  });

  it('a file with only comments', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': '# nothing here yet\n# project: demo\n' });
    expect(stderr).toContain('the config is empty');
  });

  it('a top-level list', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': '- project: demo\n' });
    expect(stderr).toMatch(/:1 {2}expected a mapping of settings .*found a list/);
  });

  it('no config found names init and --config', async () => {
    const { dir, stderr } = await invalid({ 'src/x.py': '' }, { sub: 'src' });
    expect(stderr).toContain(`No mlops config found in ${path.join(dir, 'src')} or its parents up to the repository root ${dir}`);
    expect(stderr).toContain('npx mlops init');
    expect(stderr).toContain('--config PATH');
  });

  it('--config to a missing file', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': VALID }, { argv: ['--config', 'nope.yaml'] });
    expect(stderr).toMatch(/Config file .*nope\.yaml \(from --config nope\.yaml\) does not exist/);
  });

  it('--config to a folder says it is a folder, not that it does not exist', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': VALID, 'conf/': '' }, { argv: ['--config', 'conf'] });
    expect(stderr).not.toContain('does not exist');
    expect(stderr).toMatch(/--config conf names a folder/);
    expect(stderr).toContain('conf/mlops.config.yaml');
  });

  it('union (compare.baseline) says which shapes are accepted', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': 'project: demo\ncompare:\n  baseline: production\n' });
    expect(stderr).toContain(
      'compare.baseline: expected one of: { alias: string } | { stage: string } | { filter: string, experiment?: string } | { runId: string }; found the string "production"',
    );
  });

  it('union with a misspelt key suggests the right one', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': 'project: demo\ncompare:\n  baseline:\n    alais: production\n' });
    expect(stderr).toMatch(/compare\.baseline: expected one of: .*; did you mean "alias" \(not "alais"\)\?/);
  });

  it('union with the right key but a wrong value reports that branch', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': 'project: demo\ncompare:\n  baseline:\n    alias: 7\n' });
    expect(stderr).toMatch(/:4:12 {2}compare\.baseline\.alias: expected a string, found the number 7; put it in quotes/);
  });

  it('--json prints one JSON document with every problem', async () => {
    const dir = tree({ '.git/': '', 'mlops.config.yaml': 'projct: demo\nmlflow:\n  retries: -1\n' });
    const r = await runCli(['config', 'validate', '--json'], { cwd: dir, env });
    expect(r.code).toBe(2);
    const doc = r.json();
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('CONFIG_INVALID');
    expect(doc.error.details.problems).toEqual([
      expect.objectContaining({ path: 'projct', line: 1, column: 1 }),
      expect.objectContaining({ path: 'mlflow.retries', line: 3, message: 'expected a number >= 0, found the number -1' }),
    ]);
  });
});

describe('where the config is found', () => {
  it('in a parent folder, searching upward to the repository root', async () => {
    const dir = tree({ '.git/': '', 'mlops.config.yaml': VALID, 'a/b/c/': '' });
    expect(findConfig(path.join(dir, 'a/b/c'))).toBe(path.join(dir, 'mlops.config.yaml'));
    const r = await runCli(['config', 'validate'], { cwd: path.join(dir, 'a/b/c'), env });
    expect(r.code).toBe(0);
  });

  it('not above the repository root', () => {
    const dir = tree({ 'mlops.config.yaml': VALID, 'repo/.git/': '', 'repo/src/': '' });
    expect(findConfig(path.join(dir, 'repo/src'))).toBeUndefined();
  });

  it('outside a repository, only in the working directory', () => {
    const dir = tree({ 'mlops.config.yaml': VALID, 'sub/': '' });
    expect(findConfig(dir)).toBe(path.join(dir, 'mlops.config.yaml'));
    expect(findConfig(path.join(dir, 'sub'))).toBeUndefined();
  });

  it('an mlops key in package.json', async () => {
    const dir = tree({
      '.git/': '',
      'package.json': JSON.stringify({ name: 'x', mlops: { project: 'pkg', mlflow: { retries: 1 } } }, null, 2),
    });
    const loaded = await loadConfig({ cwd: dir, env });
    expect(loaded.filepath).toBe(path.join(dir, 'package.json'));
    expect(loaded.config.project).toBe('pkg');
  });

  it('a package.json without the key is skipped and the search goes on upward', () => {
    const dir = tree({ '.git/': '', 'mlops.config.yml': VALID, 'pkg/package.json': '{"name":"inner"}' });
    expect(findConfig(path.join(dir, 'pkg'))).toBe(path.join(dir, 'mlops.config.yml'));
  });

  it('errors in package.json point into the mlops key', async () => {
    const { stderr } = await invalid({ 'package.json': '{\n  "name": "x",\n  "mlops": {\n    "projet": "p"\n  }\n}\n' });
    expect(stderr).toMatch(/package\.json:4:5 {2}projet: unknown key "projet"; did you mean "project"\?/);
  });

  it('.mlopsrc as YAML and as JSON, and .mlopsrc.json', async () => {
    for (const [name, text] of [
      ['.mlopsrc', 'project: rc-yaml\n'],
      ['.mlopsrc', '{"project": "rc-json"}'],
      ['.mlopsrc.json', '{\n  "project": "rcjson"\n}'],
    ] as const) {
      const dir = tree({ '.git/': '', [name]: text });
      const loaded = await loadConfig({ cwd: dir, env });
      expect(loaded.filepath).toBe(path.join(dir, name));
      expect(loaded.config.project).toMatch(/^rc/);
    }
    const { stderr } = await invalid({ '.mlopsrc.json': '{\n  "project": 5\n}' });
    expect(stderr).toMatch(/\.mlopsrc\.json:2:14 {2}project: expected a string, found the number 5/);
  });

  it('mlops.config.yaml wins over package.json in the same folder', () => {
    const dir = tree({ '.git/': '', 'mlops.config.yaml': VALID, 'package.json': '{"mlops":{"project":"pkg"}}' });
    expect(findConfig(dir)).toBe(path.join(dir, 'mlops.config.yaml'));
  });

  it('relative paths resolve against the config file folder', async () => {
    const dir = tree({ '.git/': '', 'mlops.config.yaml': VALID, 'deep/er/': '' });
    const loaded = await loadConfig({ cwd: path.join(dir, 'deep/er'), env });
    expect(loaded.root).toBe(dir);
    expect(resolveConfigPath(loaded, loaded.config.train.holdout)).toBe(path.join(dir, 'data/holdout.csv'));
  });
});

describe('parseConfigText', () => {
  it('reports a missing required value at its parent key', () => {
    const { problems } = parseConfigText('project: demo\ncompare:\n  gates:\n    - direction: higher\n', 'f.yaml', {});
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'compare.gates[0].metric',
        line: 4,
        message: expect.stringContaining('a required value is missing'),
      }),
    ]);
  });

  it('a duplicate key is a syntax error', () => {
    const { problems } = parseConfigText('project: a\nproject: b\n', 'f.yaml', {});
    expect(problems[0].message).toMatch(/YAML syntax error/);
    expect(problems[0].line).toBe(2);
  });
});

describe('under GitHub Actions', () => {
  it('each config problem is also an ::error annotation on its file and line', async () => {
    const dir = tree({ '.git/': '', 'ci/mlops.config.yaml': 'project: demo\nmlflow:\n  retries: "3"\n' });
    const r = await runCli(['config', 'validate', '--config', 'ci/mlops.config.yaml'], {
      cwd: dir,
      env: { ...env, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '::error file=ci/mlops.config.yaml,line=3,col=12,title=mlops config::mlflow.retries: expected a number, found the string "3"; remove the quotes\n',
    );
  });
});

describe('discriminated unions (deploy.cutover)', () => {
  const deploy = (cutover: string) => `project: demo\ndeploy:\n  cutover:\n${cutover}`;
  it('a wrong discriminator lists the accepted values, with did-you-mean', () => {
    const { problems } = parseConfigText(deploy('    type: canery\n'), 'f.yaml', {});
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'deploy.cutover.type',
        line: 4,
        message: 'expected one of "all-at-once", "canary", "linear", found the string "canery"; did you mean "canary"?',
      }),
    );
  });

  it('a key of another alternative says what goes with the chosen one', () => {
    const { problems } = parseConfigText(deploy('    type: linear\n    size: 5\n'), 'f.yaml', {});
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'deploy.cutover.size',
        line: 5,
        message: 'unknown key "size"; it does not go with the other settings here (allowed with them: type, step, wait)',
      }),
    );
  });
});

describe('hostile or out-of-range config input is exit 2 with the line and the fix (issue 17)', () => {
  it('a YAML alias bomb: exit 2 at the first alias, no internal error', async () => {
    const bomb = ['project: demo', 'a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const { stderr } = await invalid({ 'mlops.config.yaml': bomb.join('\n') + '\n' });
    expect(stderr).toMatch(/mlops\.config\.yaml:3:\d+ {2}YAML error: its aliases \(\*name\) expand to more than 100 copies/);
    expect(stderr).not.toMatch(/internal error|This is a bug/);
  });

  it('a config file larger than 1 MiB is refused before it is parsed', async () => {
    const { stderr } = await invalid({ 'mlops.config.yaml': VALID + `# ${'x'.repeat(1024 * 1024)}\n` });
    expect(stderr).toMatch(/a config file may be at most 1048576 bytes/);
  });

  it('non-UTF-8 bytes: exit 2 with the line and column, not a silent replacement character', async () => {
    const dir = tree({ '.git/': '' });
    writeFileSync(
      path.join(dir, 'mlops.config.yaml'),
      Buffer.concat([Buffer.from(VALID + 'project: caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    );
    const r = await runCli(['config', 'validate'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(dir, 'mlops.config.yaml')}:4:13  byte 0xe9 is not UTF-8 text`);
  });

  const problemsOf = (yaml: string) =>
    parseConfigText(VALID + yaml, '/x/mlops.config.yaml', {}).problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  const DEPLOY = (extra: string) =>
    [
      'deploy:',
      '  endpointName: churn',
      '  executionRoleArn: arn:aws:iam::123456789012:role/r',
      '  image: img',
      '  artifacts: s3://bucket/artifacts',
      '  dataCapture: { destination: s3://bucket/capture }',
      '  state: { uri: s3://bucket/state }',
      '  lock: { uri: s3://bucket/lock }',
      '  audit: { uri: s3://bucket/audit }',
      extra,
    ].join('\n') + '\n';

  it('accepts the valid deploy section the cases below start from', () => {
    expect(problemsOf(DEPLOY(''))).toEqual([]);
  });

  it.each([
    [
      "cutover.wait above SageMaker's 1h",
      DEPLOY('  cutover: { type: canary, size: 10, wait: 2h }'),
      /deploy\.cutover\.wait: expected a duration of 0-1h \(SageMaker's limit\).*found the string "2h"/,
    ],
    ['terminationWait above 1h', DEPLOY('  terminationWait: 90m'), /deploy\.terminationWait: expected a duration of 0-1h/],
    [
      'an S3 URI with ..',
      DEPLOY('').replace('s3://bucket/state', 's3://bucket/../x'),
      /deploy\.state\.uri: expected an S3 URI without "\.\.", "\." or empty/,
    ],
    [
      'an S3 URI with an empty segment',
      DEPLOY('').replace('s3://bucket/lock', 's3://bucket//lock'),
      /deploy\.lock\.uri: expected an S3 URI without/,
    ],
    ['a variant named ../../x', DEPLOY('  variantName: ../../x'), /deploy\.variantName: expected a SageMaker variant name/],
    ['a monitored endpoint named ../../x', 'monitor:\n  endpoint: ../../x\n', /monitor\.endpoint: expected a SageMaker endpoint name/],
    [
      'a report path outside the repository',
      'compare:\n  report: ../../etc/report.md\n',
      /compare\.report: expected a relative path inside the config file's folder/,
    ],
    ['an absolute violations path', 'monitor:\n  violations: /tmp/v.json\n', /monitor\.violations: expected a relative path inside/],
    ['a DVC remote that is an option', 'data:\n  remote: --help\n', /data\.remote: expected a DVC remote name \(not starting with "-"/],
    ['an absurd timeout', 'train:\n  timeout: 99999999999999999999d\n', /train\.timeout: expected a duration of at most 365d/],
    ['a timeout above 365 days', 'train:\n  timeout: 400d\n', /train\.timeout: expected a duration of at most 365d/],
    [
      'a spot maxWait shorter than maxRuntime',
      'train:\n  sagemaker:\n    image: img\n    maxRuntime: 24h\n    spot: { maxWait: 2h }\n',
      /train\.sagemaker\.spot\.maxWait: spot\.maxWait must be at least maxRuntime/,
    ],
    [
      'a training job over 28 days',
      'train:\n  sagemaker:\n    image: img\n    maxRuntime: 30d\n',
      /train\.sagemaker\.maxRuntime: expected a duration of 1s to 28d/,
    ],
    [
      'two gates on one metric with opposite directions',
      'compare:\n  gates:\n    - { metric: loss, direction: lower }\n    - { metric: loss, direction: higher, min: 0 }\n',
      /compare\.gates\[1\]\.direction: gate 1 says higher is better for "loss", gate 0 says lower/,
    ],
  ])('%s', (_name, yaml, expected) => {
    const problems = problemsOf(yaml);
    expect(problems.join('\n')).toMatch(expected);
    expect(problems.every((p) => /^\d+: /.test(p))).toBe(true); // every problem has its line
  });

  it.each([
    ['train.timeout', 'train:\n  timeout: 20 seconds\n'],
    ['deploy.cutover.wait', DEPLOY('  cutover: { type: canary, size: 10, wait: 20 seconds }')],
    ['train.timeout', 'train:\n  timeout: -5\n'],
  ])('a %s not written as a duration gets one problem, not a second about its range too', (key, yaml) => {
    const problems = problemsOf(yaml).filter((p) => p.includes(`: ${key}: `));
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toMatch(/at most|SageMaker's limit/);
  });

  it.each(['localhost:5000', 'not a url', 'file:///tmp/mlruns', 'http://', 'arn:aws:sagemaker:eu-west-1:12345:mlflow-tracking-server/x'])(
    'a tracking URI that is not an http(s) URL: %s',
    (uri) => {
      const problems = parseConfigText(`project: demo\nmlflow:\n  trackingUri: "${uri}"\n`, '/x/c.yaml', {}).problems;
      expect(problems.map((p) => p.message).join('\n')).toMatch(/expected an http\(s\) URL of the MLflow tracking server/);
    },
  );

  it('still accepts what is legitimate: https with a path, a .mlops report, two same-direction gates, a 365d duration', () => {
    const ok = parseConfigText(
      'project: demo\nmlflow:\n  trackingUri: https://user:pw@mlflow.example.com/tracking/\ncompare:\n  report: ./out/../.mlops/r.md\n  gates:\n    - { metric: acc, min: 0.5 }\n    - { metric: acc, maxRelativeDrop: 0.01 }\ntrain:\n  timeout: 365d\n',
      '/x/c.yaml',
      {},
    );
    expect(ok.problems).toEqual([]);
  });

  it('accepts a SageMaker-managed MLflow tracking server ARN', () => {
    const arn = 'arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team-mlflow';
    expect(parseConfigText(`project: demo\nmlflow:\n  trackingUri: ${arn}\n`, '/x/c.yaml', {}).problems).toEqual([]);
  });
});

describe('mlops.config.hash does not depend on interpolated secrets (issue 17)', () => {
  it('two secret values give the same hash; a changed setting gives another', () => {
    const text = 'project: demo\nmlflow:\n  trackingUri: http://u:${MLFLOW_PW}@127.0.0.1:5000\n';
    const a = parseConfigText(text, '/x/c.yaml', { MLFLOW_PW: 'hunter2' });
    const b = parseConfigText(text, '/x/c.yaml', { MLFLOW_PW: 'correct-horse' });
    expect(a.config?.mlflow.trackingUri).toContain('hunter2');
    expect(a.fileHash).toMatch(/^[0-9a-f]{16}$/);
    expect(a.fileHash).toBe(b.fileHash);
    expect(parseConfigText(text.replace('demo', 'other'), '/x/c.yaml', { MLFLOW_PW: 'hunter2' }).fileHash).not.toBe(a.fileHash);
  });

  it('loadConfig (the fast path, which computes the hash only when read) gives the same hash', async () => {
    const text = 'project: demo\nmlflow:\n  trackingUri: http://u:${MLFLOW_PW}@127.0.0.1:5000\n';
    const dir = tree({ '.git/': '', 'mlops.config.yaml': text });
    const loaded = await loadConfig({ cwd: dir, env: { MLFLOW_PW: 'correct-horse' } });
    expect(loaded.fileHash).toBe(parseConfigText(text, '/x/c.yaml', { MLFLOW_PW: 'hunter2' }).fileHash);
    expect({ ...loaded }.fileHash).toBe(loaded.fileHash);
  });
});

describe('pull --remote never passes an option to dvc (issue 17)', () => {
  it('--remote=--help is exit 2', async () => {
    const dir = tree({ '.git/': '', 'mlops.config.yaml': VALID });
    const r = await runCli(['pull', '--remote=--help', '--dry-run'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--remote: "--help" is not a DVC remote name');
  });
});
