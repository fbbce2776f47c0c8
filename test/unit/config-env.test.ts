/**
 * One rule for every setting with an environment twin: flags > environment > file > defaults
 * (no flag sets these today). Table-driven: each setting, through the real loader, and through
 * what the commands build from it (the MLflow URI, the AWS settings).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { awsSettings } from '../../src/adapters/aws.js';
import { trackingUriFrom } from '../../src/adapters/mlflow.js';
import { ENV_TWINS } from '../../src/config/environment.js';
import { exitCodeFor, type MlopsError } from '../../src/core/errors.js';
import { fieldRows } from '../../src/config/json-schema.js';
import { loadConfig } from '../../src/config/load.js';
import { runCli } from '../support/cli.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A repository holding only mlops.config.yaml with the given text. */
function project(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlops-env-'));
  made.push(dir);
  mkdirSync(path.join(dir, '.git'));
  writeFileSync(path.join(dir, 'mlops.config.yaml'), `project: demo\n${text}`);
  return dir;
}

/** The YAML that sets a dotted path to a value. */
function yamlAt(dotted: string, value: string): string {
  const keys = dotted.split('.');
  return keys.map((k, i) => `${'  '.repeat(i)}${k}:${i === keys.length - 1 ? ` ${value}` : ''}`).join('\n') + '\n';
}

function get(obj: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** What the commands use for a setting: the MLflow client's URI, the AWS clients' settings. */
function used(dotted: string, config: Parameters<typeof awsSettings>[0], env: Record<string, string>): unknown {
  if (dotted === 'mlflow.trackingUri') return trackingUriFrom(config, env);
  const s = awsSettings(config, env);
  return dotted === 'aws.region' ? s.region : get({ aws: { endpoints: s.endpoints } }, dotted);
}

const FILE = { 'mlflow.trackingUri': 'http://file.example:5000', 'aws.region': 'eu-west-1' } as Record<string, string>;
const ENV = { 'mlflow.trackingUri': 'http://env.example:5000', 'aws.region': 'ap-south-1' } as Record<string, string>;
const fileValue = (p: string) => FILE[p] ?? `http://file-${p.split('.').pop()!.toLowerCase()}.example:4566`;
const envValue = (p: string) => ENV[p] ?? `http://env-${p.split('.').pop()!.toLowerCase()}.example:4566`;

describe.each(ENV_TWINS.map((t) => [t.path, t.variables] as const))('%s (%j)', (setting, variables) => {
  const [first, ...rest] = variables;
  const cases: Array<[string, { file?: boolean; env?: Record<string, string> }, 'file' | 'env' | 'none']> = [
    ['the file alone', { file: true }, 'file'],
    [`$${first} alone`, { env: { [first]: envValue(setting) } }, 'env'],
    [`$${first} over the file`, { file: true, env: { [first]: envValue(setting) } }, 'env'],
    [`an empty $${first} counts as unset`, { file: true, env: { [first]: '' } }, 'file'],
    ['neither', {}, 'none'],
    ...rest.map((v): [string, { file?: boolean; env?: Record<string, string> }, 'file' | 'env' | 'none'] => [
      `$${v} over the file, below $${first}`,
      { file: true, env: { [v]: envValue(setting) } },
      'env',
    ]),
  ];

  it.each(cases)('%s', async (_name, given, expected) => {
    const dir = project(given.file ? yamlAt(setting, fileValue(setting)) : '');
    const env = given.env ?? {};
    const loaded = await loadConfig({ cwd: dir, env });
    const want = expected === 'file' ? fileValue(setting) : expected === 'env' ? envValue(setting) : undefined;
    expect(get(loaded.config, setting)).toBe(want);
    expect(loaded.sources[setting]).toBe(
      expected === 'env' ? `env:${Object.keys(env).find((k) => env[k] !== '')}` : expected === 'file' ? 'file' : 'default',
    );
    if (want !== undefined) expect(used(setting, loaded.config, env)).toBe(want);
  });

  if (rest.length) {
    it(`$${first} wins over ${rest.map((v) => `$${v}`).join(', ')}`, async () => {
      const env = Object.fromEntries(variables.map((v, i) => [v, i === 0 ? envValue(setting) : 'http://other.example:1']));
      const loaded = await loadConfig({ cwd: project(yamlAt(setting, fileValue(setting))), env });
      expect(get(loaded.config, setting)).toBe(envValue(setting));
      expect(loaded.sources[setting]).toBe(`env:${first}`);
    });
  }
});

describe('the rule around the table', () => {
  it('defaults: us-east-1 and no endpoint override when neither the file nor the environment says', async () => {
    const loaded = await loadConfig({ cwd: project(''), env: {} });
    expect(awsSettings(loaded.config, {})).toMatchObject({ region: 'us-east-1', endpoints: {} });
    expect(() => trackingUriFrom(loaded.config, {})).toThrow(/No MLflow tracking server configured/);
  });

  it('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns the endpoint variables off (the file still counts)', async () => {
    const dir = project('aws:\n  endpoints:\n    s3: http://file-s3.example:4566\n');
    const env = { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL: 'http://env.example:1', AWS_REGION: 'ap-south-1' };
    const loaded = await loadConfig({ cwd: dir, env });
    expect(awsSettings(loaded.config, env)).toMatchObject({ region: 'ap-south-1', endpoints: { s3: 'http://file-s3.example:4566' } });
    expect(loaded.sources['aws.endpoints.s3']).toBe('file');
  });

  it('a variable that overrides a setting is checked like the file: `config validate` refuses a malformed one (exit 2, naming it)', async () => {
    const dir = project('');
    const base = { PATH: process.env.PATH };
    for (const [variable, value] of [
      ['MLFLOW_TRACKING_URI', 'not a url'],
      ['AWS_ENDPOINT_URL', 'localhost 4566'],
      ['AWS_ENDPOINT_URL_S3', '::'],
    ]) {
      const r = await runCli(['config', 'validate', '--json'], { cwd: dir, env: { ...base, [variable]: value } });
      expect(r.code, `${variable}: ${r.stderr}`).toBe(2);
      const error = r.json().error;
      expect(error.code).toBe('CONFIG_ENV_INVALID');
      // Named once, even when the variable feeds several settings (AWS_ENDPOINT_URL: every service).
      expect(error.message.split(`$${variable}`)).toHaveLength(2);
      expect(error.message).toContain(JSON.stringify(value));
    }
    // Turned off by AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, the variable is not a setting and not checked.
    const ignored = await runCli(['config', 'validate'], {
      cwd: dir,
      env: { ...base, AWS_ENDPOINT_URL: 'localhost 4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
    });
    expect(ignored.code, ignored.stderr).toBe(0);
  });

  it('a malformed variable stops only what uses its setting: pull, config show and sandbox down run; MLflow and AWS refuse it at first use', async () => {
    const dir = project('');
    // What a shell may well hold from other MLflow work: a valid MLflow URI, but not a server mlops can talk to.
    const env = { PATH: process.env.PATH, MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db', AWS_ENDPOINT_URL: 'localhost 4566' };
    for (const argv of [
      ['pull', '--dry-run'],
      ['config', 'show'],
      ['sandbox', 'down'],
    ]) {
      const r = await runCli([...argv, '--json'], { cwd: dir, env });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // `config show`, which the error's hint points at, shows where the value comes from.
    expect((await runCli(['config', 'show', '--json'], { cwd: dir, env })).json().sources).toMatchObject({
      'mlflow.trackingUri': 'env:MLFLOW_TRACKING_URI',
      'aws.endpoints.s3': 'env:AWS_ENDPOINT_URL',
    });
    const loaded = await loadConfig({ cwd: dir, env });
    const thrown = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err as MlopsError;
      }
      throw new Error('did not throw');
    };
    const mlflow = thrown(() => trackingUriFrom(loaded.config, env));
    expect([mlflow.code, exitCodeFor(mlflow)]).toEqual(['CONFIG_ENV_INVALID', 2]);
    expect(mlflow.message).toContain('$MLFLOW_TRACKING_URI');
    expect(mlflow.message).not.toContain('$AWS_ENDPOINT_URL');
    const aws = thrown(() => awsSettings(loaded.config, env));
    expect([aws.code, exitCodeFor(aws)]).toEqual(['CONFIG_ENV_INVALID', 2]);
    expect(aws.message).toContain('$AWS_ENDPOINT_URL ');
    expect(aws.message).not.toContain('$MLFLOW_TRACKING_URI');
    // An endpoint the config sets over the variable (what `sandbox up` does for its own stack) is not the variable's.
    const endpoints = Object.fromEntries(
      ENV_TWINS.filter((t) => t.path.startsWith('aws.endpoints.')).map((t) => [t.path.slice(14), 'http://127.0.0.1:1']),
    );
    const local = { ...loaded.config, aws: { ...loaded.config.aws, endpoints } };
    expect(awsSettings(local, env).endpoints.s3).toBe('http://127.0.0.1:1');
  });

  it('every field whose description names an environment variable is in the table', () => {
    const documented = fieldRows()
      .filter((r) => /\$[A-Z][A-Z_]+/.test(r.description) && !/^mlflow$|^aws$/.test(r.path))
      .map((r) => r.path);
    expect(documented.sort()).toEqual(ENV_TWINS.map((t) => t.path).sort());
  });

  it('`mlops config show` prints the effective value and says where it came from', async () => {
    const dir = project('mlflow:\n  trackingUri: http://file.example:5000\n');
    const env = { PATH: process.env.PATH, MLFLOW_TRACKING_URI: 'http://env.example:5000' };
    const json = await runCli(['config', 'show', '--json'], { cwd: dir, env });
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({
      config: { mlflow: { trackingUri: 'http://env.example:5000' } },
      sources: { 'mlflow.trackingUri': 'env:MLFLOW_TRACKING_URI', 'aws.region': 'default' },
    });
    const text = await runCli(['config', 'show'], { cwd: dir, env });
    expect(text.stdout).toContain('trackingUri: http://env.example:5000');
    expect(text.stderr).toContain('# from the environment, over the file: mlflow.trackingUri ($MLFLOW_TRACKING_URI)');
  });
});
