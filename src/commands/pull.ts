/** `mlops pull`: `dvc pull` with the remote, targets and jobs from config; DVC failures made actionable. */
import type { CommandRun } from '../cli/context.js';
import { ExternalError, InterruptedError, UserError } from '../core/errors.js';
import { dvcPullArgv } from '../core/dvc-errors.js';
import { formatCommand } from '../adapters/process.js';
import { numberFlag } from '../core/number-flag.js';

export const run: CommandRun<'pull'> = async (ctx, args, opts) => {
  const jobs = numberFlag('--jobs', opts.jobs, { whole: true, example: '4' });
  const { config, root } = await ctx.loadConfig();
  // dvc would read a remote named like an option (`--help`) as that option.
  if (opts.remote?.startsWith('-')) {
    throw new UserError('BAD_REMOTE', `--remote: "${opts.remote}" is not a DVC remote name (it starts with "-").`, {
      hint: 'Name a remote from `dvc remote list`, e.g. --remote storage.',
    });
  }
  const spec = {
    remote: opts.remote ?? config.data.remote,
    targets: args.length ? args : config.data.targets,
    jobs: jobs ?? config.data.jobs,
  };
  const argv = dvcPullArgv(spec);
  const command = formatCommand(argv);

  if (opts.dryRun) {
    ctx.io.info(`would run: ${command}   (in ${root})`);
    return { data: { dryRun: true, command: argv, cwd: root }, text: command };
  }

  const { dvcPull } = await import('../adapters/dvc.js');
  ctx.io.info(`$ ${command}`);
  const res = await dvcPull(spec, { cwd: root, env: ctx.env, io: ctx.io, signal: ctx.signal });
  if (res.process.aborted) throw new InterruptedError('dvc pull was interrupted.');
  if (res.failure) {
    throw new ExternalError(res.failure.code, res.failure.message, {
      hint: res.failure.hint,
      details: { ...res.failure.details, command: argv, exitCode: res.process.exitCode },
    });
  }
  ctx.io.success(`Data pulled (${(res.process.durationMs / 1000).toFixed(1)}s).`);
  return {
    data: { ok: true, command: argv, cwd: root, remote: spec.remote ?? null, targets: spec.targets, durationMs: res.process.durationMs },
  };
};
