/** --quiet and --json with progress on the way, and the shell completion scripts made from the command table. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/adapters/progress.js';
import { COMMANDS } from '../../src/cli/commands.js';
import type { CommandContext } from '../../src/cli/context.js';
import { loadCommand } from '../../src/cli/loaders.js';
import { ExternalError } from '../../src/core/errors.js';
import { runCli } from '../support/cli.js';

const env = { PATH: process.env.PATH, HOME: '/nonexistent' };

/** A command that talks the way promote does: logs, a warning, a long wait, then its result. */
async function chatty(ctx: CommandContext) {
  ctx.io.info('SageMaker console:  https://example.invalid');
  ctx.io.warn('the shadow sample is small');
  let t = 0;
  const progress = await progressReporter(ctx.io, { now: () => t, tickMs: 0 });
  for (; t <= 120_000; t += 5000) progress.waiting({ subject: 'endpoint churn-prod', status: 'Updating', stage: 'promote cutover' });
  progress.log('cutover done');
  progress.end();
  ctx.io.success('promoted');
  return { data: { outcome: 'done', stage: 'done' }, text: 'churn-prod: done' };
}

const deps = {
  commands: [
    ...COMMANDS,
    { name: 'test-chatty', summary: 'logs, warns, waits, returns', examples: [] },
    { name: 'test-fails', summary: 'fails', examples: [] },
  ],
  load: (name: string) =>
    name === 'test-chatty'
      ? Promise.resolve({ run: chatty })
      : name === 'test-fails'
        ? Promise.resolve({ run: () => Promise.reject(new ExternalError('SERVICE_DOWN', 'SageMaker failed.')) })
        : loadCommand(name),
};

describe('--quiet and --json', () => {
  it('without them, the logs, warning and progress lines are on stderr', async () => {
    const r = await runCli(['test-chatty'], { env, deps });
    expect(r.stdout).toBe('churn-prod: done\n');
    expect(r.stderr).toContain('warning: the shadow sample is small');
    expect(r.stderr).toContain('[promote cutover] endpoint churn-prod still Updating (30s)');
    expect(r.stderr).toContain('✔ promoted');
  });

  it('--quiet prints only the result (and errors)', async () => {
    const r = await runCli(['--quiet', 'test-chatty'], { env, deps });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('churn-prod: done\n');
    expect(r.stderr).toBe('');
    const tty = await runCli(['test-chatty', '-q'], { env, deps, tty: true });
    expect(tty.stderr).toBe('');
    expect(tty.stdout).toBe('churn-prod: done\n');
    const failed = await runCli(['-q', 'test-fails'], { env, deps });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toBe('error: SageMaker failed.\n');
  });

  it('--json: stdout is the one result document, whatever the progress did (a terminal too)', async () => {
    for (const tty of [false, true]) {
      const r = await runCli(['--json', 'test-chatty'], { env, deps, tty });
      expect(r.json()).toEqual({ outcome: 'done', stage: 'done' });
    }
  });
});

describe('mlops completion', () => {
  const bash = async () => {
    const r = await runCli(['completion', 'bash'], { env });
    expect(r.code).toBe(0);
    return r.stdout;
  };
  /** The candidates bash's completion function offers for the words typed (the last one is being completed). */
  const complete = (script: string, words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        'eval "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _mlops_completion; printf "%s\\n" "${COMPREPLY[@]}"',
        'bash',
        script,
        ...words,
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);

  it('bash: commands, subcommands, flags and their choices, from the command table', async () => {
    const script = await bash();
    expect(complete(script, ['mlops', ''])).toEqual([...COMMANDS.map((c) => c.name), 'help']);
    expect(complete(script, ['mlops', 'sa'])).toEqual(['sandbox']);
    expect(complete(script, ['mlops', '--json', 'sandbox', ''])).toEqual(['up', 'down', 'env', 'status']);
    expect(complete(script, ['mlops', 'sandbox', 'env', '--shell', ''])).toEqual(['sh', 'fish', 'powershell']);
    expect(complete(script, ['mlops', 'init', '--ci', 'g'])).toEqual(['github', 'gitlab']);
    expect(complete(script, ['mlops', 'promote', '--run', 'abc', '--w'])).toEqual(['--wait']);
    expect(complete(script, ['mlops', '-c', 'ci/mlops.yaml', 'rollback', '--'])).toEqual(
      expect.arrayContaining(['--reason', '--dry-run', '--wait', '--poll', '--json', '--quiet', '--help']),
    );
    expect(complete(script, ['mlops', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    // A value that is free text offers nothing (not the flags).
    expect(complete(script, ['mlops', 'promote', '--run', ''])).toEqual([]);
  });

  it('zsh and fish scripts are made from the same table; an unknown shell is a usage error', async () => {
    const zsh = await runCli(['completion', 'zsh'], { env });
    expect(zsh.stdout).toMatch(/^#compdef mlops\n/);
    expect(zsh.stdout).toContain("'sandbox up'");
    const fish = await runCli(['completion', 'fish'], { env });
    expect(fish.stdout).toContain("complete -c mlops -n '__fish_use_subcommand' -a promote -d 'Deploy the candidate");
    expect(fish.stdout).toContain(
      "complete -c mlops -n '__fish_seen_subcommand_from init' -l ci -d 'CI files to write' -x -a 'github gitlab both none'",
    );
    const bad = await runCli(['completion', 'tcsh'], { env });
    expect(bad.code).toBe(2);
  });
});
