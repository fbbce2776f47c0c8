import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, type CommandDef } from '../../src/cli/commands.js';
import { loadCommand } from '../../src/cli/loaders.js';
import type { CommandContext } from '../../src/cli/context.js';
import { ExternalError } from '../../src/core/errors.js';
import { Io } from '../../src/cli/io.js';
import { run as configShow } from '../../src/commands/config-show.js';
import { runCli } from '../support/cli.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function project(config: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlops-cli-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, '.git'));
  writeFileSync(path.join(dir, 'mlops.config.yaml'), config);
  return dir;
}

const env = { PATH: process.env.PATH, HOME: '/nonexistent' };
const STACK = /\n\s+at .+:\d+:\d+/;

// Commands that exist only in this file, to drive main's error handling from a command.
const testRuns: Record<string, () => Promise<never>> = {
  'test-external': () =>
    Promise.reject(
      new ExternalError('SERVICE_DOWN', 'The service failed.', {
        hint: 'Try later.',
        cause: new Error('socket hang up', { cause: new Error('ECONNRESET 10.0.0.1') }),
      }),
    ),
  'test-bug': () => Promise.reject(new TypeError('cannot read properties of undefined')),
};
const testDeps = {
  commands: [
    ...COMMANDS,
    { name: 'test-external', summary: 'fails like a broken service', examples: ['mlops test-external'] },
    { name: 'test-bug', summary: 'fails like a bug', examples: ['mlops test-bug'] },
  ],
  load: (name: string) => (testRuns[name] ? Promise.resolve({ run: testRuns[name] }) : loadCommand(name)),
};

describe('errors', () => {
  it('a user error prints message and hint, no stack, exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-cli-'));
    dirs.push(dir);
    const r = await runCli(['config', 'validate'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: No mlops config found/);
    expect(r.stderr).toMatch(/\nhint: Run `npx mlops init`/);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout).toBe('');
  });

  it('an external error exits 3; causes only with --verbose', async () => {
    const quiet = await runCli(['test-external'], { env, deps: testDeps });
    expect(quiet.code).toBe(3);
    expect(quiet.stderr).toBe('error: The service failed.\nhint: Try later.\n');
    const verbose = await runCli(['--verbose', 'test-external'], { env, deps: testDeps });
    expect(verbose.stderr).toContain('caused by: Error: socket hang up');
    expect(verbose.stderr).toContain('caused by: Error: ECONNRESET 10.0.0.1');
    expect(verbose.stderr).not.toMatch(STACK);
  });

  it('a bug says how to report it; the stack only with --verbose', async () => {
    const r = await runCli(['test-bug'], { env, deps: testDeps });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error: internal error: cannot read properties of undefined');
    expect(r.stderr).toContain('This is a bug in mlops');
    expect(r.stderr).not.toMatch(STACK);
    expect((await runCli(['-v', 'test-bug'], { env, deps: testDeps })).stderr).toMatch(STACK);
  });

  it('--json: exactly one JSON document on stdout, also on every kind of error', async () => {
    const cases: Array<[string[], number, string]> = [
      [['--json', 'test-external'], 3, 'SERVICE_DOWN'],
      [['--json', 'test-bug'], 3, 'INTERNAL'],
      [['--json', 'config', 'validate', '--config', '/nonexistent/x.yaml'], 2, 'CONFIG_NOT_FOUND'],
      [['--json', 'no-such-command'], 2, 'USAGE'],
      [['--json', 'config', 'validate', '--bogus'], 2, 'USAGE'],
    ];
    for (const [argv, code, errorCode] of cases) {
      const r = await runCli(argv, { env, deps: testDeps });
      expect(r.code, argv.join(' ')).toBe(code);
      const doc = r.json(); // throws unless stdout is exactly one JSON document
      expect(doc).toMatchObject({ ok: false, error: { code: errorCode, exitCode: code } });
    }
  });

  it('an unknown command exits 2 with a suggestion', async () => {
    const r = await runCli(['confg', 'show'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'confg'");
    expect(r.stderr).toContain('(Did you mean config?)');
    const sub = await runCli(['config', 'shwo'], { env });
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('(Did you mean show?)');
  });

  it('an unknown command with --help is still unknown: exit 2 with the nearest command, not the root help (issue 17)', async () => {
    const typo = await runCli(['tarin', '--help'], { env });
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain("error: unknown command 'tarin'");
    expect(typo.stderr).toContain('(Did you mean train?)');
    const far = await runCli(['-C', '/tmp', 'nosuch', '-h'], { env });
    expect(far.code).toBe(2);
    expect(far.stderr).toContain("error: unknown command 'nosuch'");
    const known = await runCli(['train', '--help'], { env });
    expect(known.code).toBe(0);
    expect(known.stdout).toContain('Usage: mlops train');
  });

  it('train --timeout: an absurd duration is exit 2; 25 days is accepted (issue 17)', async () => {
    const dir = project('project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:9\n');
    const absurd = await runCli(['train', '--timeout', '99999999999999999999d', '--dry-run'], { cwd: dir, env });
    expect(absurd.code).toBe(2);
    expect(absurd.stderr).toMatch(/--timeout: duration out of range: "99999999999999999999d" \(at most 365d/);
    const long = await runCli(['train', '--timeout', '25d', '--dry-run', '--json'], { cwd: dir, env });
    expect(long.code, long.stderr).toBe(0);
    expect(long.json().timeoutMs).toBe(25 * 86_400_000);
  });

  it('train: a timeout of 0 is exit 2 (it meant no limit for a local run and an immediate stop for a SageMaker job)', async () => {
    const dir = project('project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:9\n');
    const flag = await runCli(['train', '--timeout', '0s', '--dry-run', '--json'], { cwd: dir, env });
    expect(flag.code, flag.stderr).toBe(2);
    expect(flag.json().error).toMatchObject({ code: 'BAD_OPTION', message: '--timeout must be longer than 0, not "0s".' });
    for (const value of ['0', '0s', '500ms']) {
      const inConfig = project(`project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:9\ntrain:\n  timeout: ${value}\n`);
      const r = await runCli(['train', '--dry-run'], { cwd: inConfig, env });
      expect(r.code, `train.timeout: ${value}`).toBe(2);
      expect(r.stderr).toContain('train.timeout: expected a duration of 1s to 365d (0 would end a SageMaker training job at once)');
    }
  });

  it('promote and rollback --wait/--poll: a malformed or zero duration is bad input (exit 2) naming the flag, not an internal error', async () => {
    // A deploy config whose AWS calls would fail: the flags must be refused before any call is made.
    const dir = project(
      'project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:9\ndeploy:\n  endpointName: demo-prod\n' +
        '  executionRoleArn: arn:aws:iam::123456789012:role/x\n  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1\n' +
        '  artifacts: s3://demo-mlops/models\n  dataCapture: { destination: s3://demo-mlops/capture }\n  state: { uri: s3://demo-mlops/state }\n' +
        '  lock: { uri: s3://demo-mlops/locks }\n  audit: { uri: s3://demo-audit/audit }\n',
    );
    const cases = [
      ['promote', '--wait', 'abc'],
      ['promote', '--poll', '1e999'],
      ['promote', '--poll', '0s'],
      ['rollback', '--poll', '-5'],
      ['rollback', '--wait', 'NaN'],
    ];
    for (const argv of cases) {
      const r = await runCli([...argv, '--json'], { cwd: dir, env: { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).not.toContain('internal error');
      expect(r.json().error).toMatchObject({ code: 'BAD_OPTION', message: expect.stringContaining(`${argv[1]}`) as string });
    }
  });

  it('promote --run and --model-version together is bad input (exit 2), not --run silently ignored', async () => {
    const dir = project(
      'project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:9\ndeploy:\n  endpointName: demo-prod\n' +
        '  executionRoleArn: arn:aws:iam::123456789012:role/x\n  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1\n' +
        '  artifacts: s3://demo-mlops/models\n  dataCapture: { destination: s3://demo-mlops/capture }\n  state: { uri: s3://demo-mlops/state }\n' +
        '  lock: { uri: s3://demo-mlops/locks }\n  audit: { uri: s3://demo-audit/audit }\n',
    );
    const r = await runCli(['promote', '--run', 'abc', '--model-version', '3', '--dry-run', '--json'], {
      cwd: dir,
      env: { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'BAD_OPTION', message: expect.stringContaining('--run') as string });
  });

  it('promote --model-version that is not a version number is bad input (exit 2) before anything is read', async () => {
    const dir = project(
      'project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:9\ndeploy:\n  endpointName: demo-prod\n' +
        '  executionRoleArn: arn:aws:iam::123456789012:role/x\n  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1\n' +
        '  artifacts: s3://demo-mlops/models\n  dataCapture: { destination: s3://demo-mlops/capture }\n  state: { uri: s3://demo-mlops/state }\n' +
        '  lock: { uri: s3://demo-mlops/locks }\n  audit: { uri: s3://demo-audit/audit }\n',
    );
    for (const v of ['abc', '0', '1.5', '-2']) {
      const r = await runCli(['promote', `--model-version=${v}`, '--dry-run', '--json'], {
        cwd: dir,
        env: { ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      });
      expect(r.code, `${v}: ${r.stderr}`).toBe(2);
      expect(r.json().error).toMatchObject({ code: 'BAD_OPTION', message: expect.stringContaining('--model-version') as string });
    }
  });

  it('train --attach or --backend sagemaker without train.sagemaker names the flag, not a train.backend the config does not set', async () => {
    const dir = project('project: demo\nmlflow:\n  trackingUri: http://127.0.0.1:9\n');
    for (const [flags, named] of [
      [['--attach', 'job-1'], '--attach job-1'],
      [['--backend', 'sagemaker'], '--backend sagemaker'],
    ] as const) {
      const r = await runCli(['train', ...flags, '--json'], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.json().error.code).toBe('TRAIN_NO_SAGEMAKER_CONFIG');
      expect(r.json().error.message).toContain(named);
      expect(r.json().error.message).not.toContain('train.backend is sagemaker');
    }
  });

  it('a subcommand typed at the top level suggests its full name', async () => {
    const r = await runCli(['validate'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'validate'");
    expect(r.stderr).toContain('(Did you mean `mlops config validate`?)');
  });

  it('an unknown option exits 2 with a suggestion', async () => {
    const r = await runCli(['config', 'show', '--jsn'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--jsn'");
    expect(r.stderr).toContain('(Did you mean --json?)');
  });

  it('--version prints the version and exits 0', async () => {
    const r = await runCli(['--version'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('--version --json prints the version as a JSON document', async () => {
    for (const argv of [
      ['--version', '--json'],
      ['--json', '-V'],
    ]) {
      const r = await runCli(argv, { env });
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.json()).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    }
  });

  it('a command group run without its command, with --json: the JSON error says a command is needed (not "(outputHelp)")', async () => {
    for (const argv of [['--json'], ['config', '--json']]) {
      const r = await runCli(argv, { env });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('a command is needed') } });
    }
  });

  it('--cwd to a folder that does not exist (or to a file) is bad input, and init creates nothing there', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'mlops-cli-'));
    dirs.push(base);
    writeFileSync(path.join(base, 'a-file'), '');
    for (const target of ['missing', 'a-file']) {
      const r = await runCli(['--cwd', path.join(base, target), '--json', 'init'], { env });
      expect(r.code, target).toBe(2);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'BAD_CWD' } });
    }
    expect(existsSync(path.join(base, 'missing'))).toBe(false);
  });

  it('an empty --cwd or --config (`-c "$CONFIG"` with the variable unset) is bad input, not the default folder or config', async () => {
    // A valid config where the command runs: without the check, the empty flag fell back to it.
    const dir = project('project: demo\n');
    for (const [flag, code] of [
      ['--cwd', 'BAD_CWD'],
      ['-C', 'BAD_CWD'],
      ['--config', 'CONFIG_NOT_FOUND'],
      ['-c', 'CONFIG_NOT_FOUND'],
    ]) {
      const r = await runCli([flag, '', 'config', 'validate', '--json'], { cwd: dir, env });
      expect(r.code, `${flag} ''`).toBe(2);
      expect(r.json()).toMatchObject({ ok: false, error: { code, message: expect.stringContaining('empty') } });
    }
  });

  it("any command's empty flag value is bad input naming the flag, before the command runs (traffic --file '' meant train.holdout)", async () => {
    const dir = project('project: demo\n');
    for (const argv of [
      ['traffic', '--file', ''],
      ['traffic', '--shift=', '--count', '1'],
      ['compare', '--run', ''],
      ['monitor', '--capture-dir', 'a', '', '--dry-run'],
      ['pull', '--remote', '', '--dry-run'],
      ['rollback', '--reason', ''],
    ]) {
      const r = await runCli([...argv, '--json'], { cwd: dir, env });
      expect(r.code, argv.join(' ')).toBe(2);
      const flag = argv.find((a) => a.startsWith('--'))!.replace(/=.*/, '');
      expect(r.json().error, argv.join(' ')).toMatchObject({ code: 'BAD_OPTION', message: `${flag} was given an empty value.` });
    }
  });

  it("commander's usage errors quote what was typed with escapes visible, not raw (no terminal control through a typo)", async () => {
    const r = await runCli(['x\u001b[2Jy'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'x\\x1b[2Jy'");
    expect(r.stderr).not.toContain('\u001b');
  });
});

describe('secrets never appear', () => {
  const secrets = { MLFLOW_TRACKING_TOKEN: 'mlflow-token-0123456789', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' };

  it('env secrets interpolated into the config are masked by config show (text and --json)', async () => {
    const dir = project(
      'project: ${AWS_SECRET_ACCESS_KEY}\nmlflow:\n  trackingUri: https://ci:${MLFLOW_TRACKING_TOKEN}@mlflow.example.com\n  experiment: ${MLFLOW_TRACKING_TOKEN}\n',
    );
    for (const argv of [
      ['config', 'show'],
      ['config', 'show', '--json'],
    ]) {
      const r = await runCli(argv, { cwd: dir, env: { ...env, ...secrets } });
      expect(r.code).toBe(0);
      const out = r.stdout + r.stderr;
      expect(out).not.toContain(secrets.MLFLOW_TRACKING_TOKEN);
      expect(out).not.toContain(secrets.AWS_SECRET_ACCESS_KEY);
      expect(out).toContain('***');
    }
  });

  it('...and in config errors, which echo what was found', async () => {
    const dir = project('project: demo\nmlflow:\n  retries: ${AWS_SECRET_ACCESS_KEY}\n');
    for (const argv of [
      ['config', 'validate'],
      ['config', 'validate', '--json'],
    ]) {
      const r = await runCli(argv, { cwd: dir, env: { ...env, ...secrets } });
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toContain('mlflow.retries: expected a number, found the string "***"');
      expect(r.stdout + r.stderr).not.toContain(secrets.AWS_SECRET_ACCESS_KEY);
    }
  });

  it('config show masks values under secret-named keys, in text and JSON', async () => {
    // The schema has no secret-named field today; any that is added (or a free-form mapping such
    // as an env block) goes through the same redaction.
    for (const json of [false, true]) {
      const out = {
        text: '',
        write(s: string) {
          this.text += s;
          return true;
        },
      };
      const io = new Io({ stdout: out, stderr: out, env: {}, json });
      const ctx = {
        io,
        loadConfig: () =>
          Promise.resolve({
            filepath: '/x/mlops.config.yaml',
            root: '/x',
            sources: {},
            config: {
              project: 'demo',
              train: { env: { WANDB_API_KEY: 'wandb-secret-value', apiKey: 'k-123456', registeredModel: 'keep-me', monkey: 'keep-too' } },
            },
          }),
      } as unknown as CommandContext;
      const result = await configShow(ctx, [], {});
      io.result(result.data, result.text);
      expect(out.text).not.toMatch(/wandb-secret-value|k-123456/);
      expect(out.text).toContain('keep-me');
      expect(out.text).toContain('keep-too');
      expect(out.text).toMatch(json ? /"WANDB_API_KEY": "\*\*\*"/ : /WANDB_API_KEY: "\*\*\*"/);
    }
  });
});

describe('help', () => {
  it('mlops --help', async () => {
    const r = await runCli(['--help'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatchSnapshot();
  });

  it('mlops config --help', async () => {
    const r = await runCli(['config', '--help'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "Usage: mlops config [options] [command]

      Check and show the resolved configuration

      Options:
        -h, --help      display help for command

      Commands:
        validate        Validate the config file and report every problem with its
                        place
        show            Print the resolved config (defaults filled, env interpolated,
                        secrets redacted)
        help [command]  display help for command

      Examples:
        $ mlops config validate
        $ mlops config show --json

      "
    `);
  });

  it('every command has a one-line purpose and at least one example in its --help', async () => {
    const walk = (defs: readonly CommandDef[], prefix: string[]): Array<[string[], CommandDef]> =>
      defs.flatMap((d) => [[[...prefix, d.name], d] as [string[], CommandDef], ...walk(d.subcommands ?? [], [...prefix, d.name])]);
    for (const [argv, def] of walk(COMMANDS, [])) {
      expect(def.summary.includes('\n'), argv.join(' ')).toBe(false);
      expect(def.examples.length, argv.join(' ')).toBeGreaterThan(0);
      const r = await runCli([...argv, '--help'], { env });
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout, argv.join(' ')).toContain(`\nExamples:\n  $ ${def.examples[0]}`);
      expect(r.stdout).not.toContain('(default: false)');
    }
  });
});
