/**
 * `mlops sandbox up|down|env|status`: the local stack (real MLflow, moto for S3 and CloudWatch,
 * the SageMaker emulator) as servers that outlive the command, so a team can rehearse its own
 * pipeline without AWS. State (process groups, ports, URLs, folders) lives in
 * `.mlops/sandbox/state.json` under the project (the config file's folder, else the working
 * directory), logs and MLflow's data beside it.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext, CommandResult, CommandRun } from '../cli/context.js';
import { MlopsError, UserError } from '../core/errors.js';
import { numberFlag } from '../core/number-flag.js';
import type { Config } from '../config/schema.js';
import type { SandboxState, StackUrls } from '../sandbox/local-stack.js';
import { mlopsInvocation } from '../sandbox/invocation.js';
import { progressReporter } from '../adapters/progress.js';

/** Default emulated seconds per real second: a new endpoint (240 emulated s) is InService in about 24 s. */
export const DEFAULT_TIME_SCALE = 10;

interface Project {
  root: string;
  dir: string;
  config?: Config;
}

/** The project folder and its sandbox folder; a missing config is fine, a broken one is not. */
/**
 * The project and its sandbox folder. `up` needs a valid config (it creates the deploy section's
 * buckets); down, env and status only need the folder, so an invalid config never keeps them
 * from reaching (and stopping) what `up` started: its folder is the config file's.
 */
async function project(ctx: CommandContext, opts: { needConfig?: boolean } = {}): Promise<Project> {
  try {
    const { root, config } = await ctx.loadConfig();
    return { root, dir: path.join(root, '.mlops', 'sandbox'), config };
  } catch (err) {
    if (err instanceof MlopsError && err.code === 'CONFIG_NOT_FOUND' && !ctx.globals.config) {
      return { root: ctx.cwd, dir: path.join(ctx.cwd, '.mlops', 'sandbox') };
    }
    const file = err instanceof MlopsError ? err.details?.file : undefined;
    if (!opts.needConfig && typeof file === 'string') {
      ctx.io.warn(`${file} is not valid (${(err as MlopsError).message}); using its folder for the sandbox anyway`);
      const root = path.dirname(file);
      return { root, dir: path.join(root, '.mlops', 'sandbox') };
    }
    throw err;
  }
}

function describe(state: SandboxState): string[] {
  return [
    `MLflow (tracking + UI)  ${state.urls.mlflow}`,
    `moto (S3, CloudWatch)   ${state.urls.moto}`,
    `SageMaker emulator      ${state.urls.emulator}  (time x${state.timeScale})`,
    `state and logs          ${state.dir}`,
  ];
}

/**
 * Creates in moto the S3 buckets the config names, as `mlops bootstrap` would in AWS (one plan:
 * the audit bucket with Object Lock and its default retention). Every call goes to the stack,
 * whatever endpoints the config or the environment name.
 */
async function buckets(ctx: CommandContext, p: Project, urls: StackUrls, mlops: string): Promise<string[]> {
  if (!p.config) {
    ctx.io.info(
      `no mlops config in ${p.root}: no S3 buckets created (after \`${mlops} init\`, run \`${mlops} sandbox up\` again to create them)`,
    );
    return [];
  }
  if (!p.config.deploy) {
    ctx.io.info('the config has no deploy section: no S3 buckets to create');
    return [];
  }
  const [{ applyBucketPlan }, { stackEnv }] = await Promise.all([import('../app/account.js'), import('../sandbox/local-stack.js')]);
  const endpoints = { s3: urls.moto, iam: urls.moto, sts: urls.moto, ecr: urls.moto };
  const local = { ...p.config, aws: { ...p.config.aws, endpoints: { ...p.config.aws.endpoints, ...endpoints } } };
  const created = await applyBucketPlan(local, { ...ctx.env, ...stackEnv(urls) }, ctx.signal);
  if (created.length) ctx.io.info(`created S3 bucket(s) in moto: ${created.join(', ')}`);
  return created;
}

export const up: CommandRun<'sandbox up'> = async (ctx, _args, opts) => {
  const timeScale = numberFlag('--time-scale', opts.timeScale, { example: '60' }) ?? DEFAULT_TIME_SCALE;
  const stack = await import('../sandbox/local-stack.js');
  const p = await project(ctx, { needConfig: true });
  const mlops = mlopsInvocation({ argv1: process.argv[1], env: ctx.env, packageRoot: stack.PACKAGE_ROOT, cwd: ctx.cwd });

  const existing = stack.readSandboxState(p.dir);
  if (existing) {
    const probes = await stack.probeSandbox(existing);
    if (probes.every((x) => x.answers)) {
      const created = await buckets(ctx, p, existing.urls, mlops);
      ctx.io.info('the sandbox is already up');
      return {
        data: { alreadyUp: true, ...existing, bucketsCreated: created },
        text: ['already up:', ...describe(existing).map((l) => `  ${l}`)].join('\n'),
      };
    }
    const down = probes.filter((x) => !x.answers).map((x) => x.name);
    ctx.io.warn(`the recorded sandbox is incomplete (${down.join(', ')} not answering): restarting it`);
    await stack.stopSandbox(existing);
  }

  const venv = stack.resolveVenv(ctx.env, typeof opts.venv === 'string' ? opts.venv : undefined);
  const progress = await progressReporter(ctx.io);
  let t0: number;
  let started;
  try {
    if (venv.source === 'cache' || !stack.venvReady(venv.dir)) {
      const ready = stack.venvReady(venv.dir);
      progress.log(
        `Python environment for MLflow, moto and DVC: ${venv.dir}` +
          (ready
            ? ' (checking it is current)'
            : ' (first time: pip installs the pinned packages, 1.2 GB; a few minutes, about 6 on a busy 2-core machine)'),
      );
      progress.begin({ subject: `Python environment ${venv.dir}`, status: ready ? 'checking' : 'installing', stage: 'sandbox up' });
      await stack.ensureVenv(venv.dir, { env: ctx.env, log: (l) => progress.log(`  ${l}`), signal: ctx.signal });
      progress.end();
    }

    rmSync(p.dir, { recursive: true, force: true });
    mkdirSync(p.dir, { recursive: true });
    t0 = Date.now();
    progress.begin({ subject: 'MLflow, moto and the SageMaker emulator', status: 'starting', stage: 'sandbox up' });
    try {
      started = await stack.startLocalStack({
        venv: venv.dir,
        mode: 'detached',
        dir: p.dir,
        timeScale,
        baseEnv: ctx.env,
        log: (l) => progress.log(l),
      });
    } catch (err) {
      throw new UserError('SANDBOX_START_FAILED', `The sandbox did not start: ${(err as Error).message}`, {
        hint: `Logs are in ${p.dir}. Check that ${venv.dir} is complete (remove it to have it made again).`,
      });
    }
  } finally {
    progress.end();
  }
  const state = stack.writeSandboxState(p.dir, started, { venv: venv.dir, timeScale });
  let created: string[] = [];
  try {
    created = await buckets(ctx, p, state.urls, mlops);
  } catch (err) {
    ctx.io.warn(`could not create the config's buckets in moto: ${(err as Error).message}`);
  }
  ctx.io.success(`sandbox up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return {
    data: { alreadyUp: false, ...state, bucketsCreated: created },
    text: [
      ...describe(state),
      '',
      `Point mlops, DVC, the AWS CLI and MLflow at it:  eval "$(${mlops} sandbox env)"`,
      `  (fish: ${mlops} sandbox env --shell fish | source; PowerShell: ${mlops} sandbox env --shell powershell | Invoke-Expression)`,
      `Stop it:                                         ${mlops} sandbox down`,
    ].join('\n'),
  };
};

export const down: CommandRun<'sandbox down'> = async (ctx) => {
  const stack = await import('../sandbox/local-stack.js');
  const p = await project(ctx);
  const state = stack.readSandboxState(p.dir);
  if (!state) {
    const leftover = existsSync(p.dir);
    if (leftover) rmSync(p.dir, { recursive: true, force: true });
    return { data: { wasUp: false, stopped: [], dir: p.dir }, text: `no sandbox recorded in ${p.dir}: nothing to stop` };
  }
  const stopped = await stack.stopSandbox(state);
  rmSync(p.dir, { recursive: true, force: true });
  return {
    data: { wasUp: true, stopped, dir: p.dir },
    text: `stopped ${stopped.length ? stopped.join(', ') : 'nothing (no process was running)'}; removed ${p.dir} (its MLflow data and logs)`,
  };
};

/** Single-quoted for sh and fish (fish also treats a backslash specially inside single quotes). */
const shQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
const fishQuote = (v: string) => `'${v.replace(/[\\']/g, (c) => `\\${c}`)}'`;
const psQuote = (v: string) => `'${v.replace(/'/g, "''")}'`;

export type Shell = 'sh' | 'fish' | 'powershell';

/**
 * The lines that set `vars` and put `binDir` first on PATH, for one shell: POSIX sh (bash, zsh),
 * fish, or PowerShell. PATH keeps the shell's own value after the sandbox's folder.
 */
export function shellLines(shell: Shell, vars: Record<string, string>, binDir: string): string[] {
  switch (shell) {
    case 'fish':
      return [...Object.entries(vars).map(([k, v]) => `set -gx ${k} ${fishQuote(v)}`), `set -gx PATH ${fishQuote(binDir)} $PATH`];
    case 'powershell':
      return [
        ...Object.entries(vars).map(([k, v]) => `$env:${k} = ${psQuote(v)}`),
        `$env:PATH = ${psQuote(binDir)} + [System.IO.Path]::PathSeparator + $env:PATH`,
      ];
    default:
      return [...Object.entries(vars).map(([k, v]) => `export ${k}=${shQuote(v)}`), `export PATH=${shQuote(binDir)}"\${PATH:+:$PATH}"`];
  }
}

export const env: CommandRun<'sandbox env'> = async (ctx, _args, opts) => {
  const stack = await import('../sandbox/local-stack.js');
  const p = await project(ctx);
  const state = stack.readSandboxState(p.dir);
  if (!state) {
    throw new UserError('SANDBOX_NOT_RUNNING', `No sandbox is recorded in ${p.dir}.`, { hint: 'Start it with `mlops sandbox up`.' });
  }
  const shell: Shell = opts.shell;
  if (!['sh', 'fish', 'powershell'].includes(shell))
    throw new UserError('BAD_OPTION', `--shell must be sh, fish or powershell, not "${shell}".`);
  const vars = stack.stackEnv(state.urls);
  // The sandbox's Python first on PATH: its dvc (with the S3 plugin), mlflow and python run the
  // scaffold's pull and training as they are.
  const bin = path.join(state.venv, 'bin');
  return {
    data: { ...vars, PATH: [bin, ctx.env.PATH].filter(Boolean).join(path.delimiter) },
    text: shellLines(shell, vars, bin).join('\n'),
  };
};

export const status: CommandRun<'sandbox status'> = async (ctx): Promise<CommandResult> => {
  const stack = await import('../sandbox/local-stack.js');
  const p = await project(ctx);
  const state = stack.readSandboxState(p.dir);
  if (!state) return { data: { up: false, dir: p.dir, processes: [] }, text: `sandbox: down (nothing recorded in ${p.dir})`, exitCode: 1 };
  const probes = await stack.probeSandbox(state);
  const upNow = probes.every((x) => x.answers);
  return {
    data: { up: upNow, ...state, processes: probes },
    text: [
      `sandbox: ${upNow ? 'up' : 'degraded'} since ${state.startedAt}`,
      ...probes.map(
        (x) => `  ${x.name.padEnd(9)} ${x.url}  pid ${x.pid}  ${x.answers ? 'answering' : x.alive ? 'running, not answering' : 'stopped'}`,
      ),
      `  logs in ${state.dir}`,
    ].join('\n'),
    exitCode: upNow ? 0 : 1,
  };
};

export const run: CommandRun<'sandbox up'> = up;
