/**
 * `mlops init`: scaffolds the current folder from templates/ (shipped in the package, read at run
 * time relative to this module). Never overwrites without --force, merges .gitignore and
 * requirements.txt line by line, prompts for nothing, and a second run changes nothing.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandRun } from '../cli/context.js';
import { UserError } from '../core/errors.js';
import { formatCommand, runProcess, whichOnPath } from '../adapters/process.js';
import { writeReportFile } from '../adapters/report-file.js';
import { missingLines, renderTemplate, slugify } from '../core/template.js';

export type CiChoice = 'github' | 'gitlab' | 'both' | 'none';

interface ScaffoldFile {
  template: string;
  dest: string;
  ci?: 'github' | 'gitlab';
  /** replace: write whole file (only with --force when it exists); append: add missing lines; requirements: add missing packages. */
  mode?: 'replace' | 'append' | 'requirements';
}

/** What init writes, in the order it reports it. */
export const SCAFFOLD: ScaffoldFile[] = [
  { template: 'mlops.config.yaml', dest: 'mlops.config.yaml' },
  { template: 'github/mlops.yml', dest: '.github/workflows/mlops.yml', ci: 'github' },
  { template: 'gitlab-ci.yml', dest: '.gitlab-ci.yml', ci: 'gitlab' },
  { template: 'src/prepare.py', dest: 'src/prepare.py' },
  { template: 'src/train.py', dest: 'src/train.py' },
  { template: 'src/evaluate.py', dest: 'src/evaluate.py' },
  { template: 'dvc.yaml', dest: 'dvc.yaml' },
  { template: 'requirements.txt', dest: 'requirements.txt', mode: 'requirements' },
  { template: 'iam/mlops-deploy-policy.json', dest: 'iam/mlops-deploy-policy.json' },
  { template: 'iam/mlops-data-policy.json', dest: 'iam/mlops-data-policy.json' },
  { template: 'iam/mlops-execution-policy.json', dest: 'iam/mlops-execution-policy.json' },
  { template: 'iam/github-oidc-trust.json', dest: 'iam/github-oidc-trust.json', ci: 'github' },
  { template: 'iam/gitlab-oidc-trust.json', dest: 'iam/gitlab-oidc-trust.json', ci: 'gitlab' },
  // npm drops files named .gitignore from packages, hence the name of the template.
  { template: 'gitignore', dest: '.gitignore', mode: 'append' },
];

export type FileAction = 'create' | 'overwrite' | 'append' | 'unchanged' | 'skip';

export interface InitFileResult {
  path: string;
  action: FileAction;
  /** For append: the lines added. For skip: why. */
  detail?: string;
}

/** templates/ of the installed package (works from src/ under vitest and from dist/ when built). */
export function templatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

const ENDPOINT = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function requirementName(line: string): string | undefined {
  const t = line.trim();
  if (!t || t.startsWith('#') || t.startsWith('-')) return undefined;
  return /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(t)?.[1]?.toLowerCase().replace(/[._]/g, '-');
}

export const run: CommandRun<'init'> = async (ctx, _args, opts) => {
  const ci: CiChoice = opts.ci;
  if (!['github', 'gitlab', 'both', 'none'].includes(ci)) {
    throw new UserError('BAD_CI', `--ci must be github, gitlab, both or none, not "${ci}".`);
  }
  const name = slugify(opts.name ?? path.basename(ctx.cwd));
  const endpoint = opts.endpoint ?? `${name}-prod`;
  if (!ENDPOINT.test(endpoint)) {
    throw new UserError('BAD_ENDPOINT', `"${endpoint}" is not a valid SageMaker endpoint name.`, {
      hint: 'Use letters, digits and hyphens, at most 63 characters, e.g. --endpoint churn-prod.',
    });
  }
  const bucket = opts.bucket ?? `${name}-mlops`;
  const auditBucket = opts.auditBucket ?? `${name}-mlops-audit`;
  for (const [flag, b] of [
    ['--bucket', bucket],
    ['--audit-bucket', auditBucket],
  ] as const) {
    if (!BUCKET.test(b))
      throw new UserError('BAD_BUCKET', `${flag} "${b}" is not a valid S3 bucket name.`, {
        hint: 'Lower-case letters, digits, dots and hyphens, 3-63 characters.',
      });
  }
  const accountId = opts.accountId ?? '123456789012';
  if (!/^\d{12}$/.test(accountId)) throw new UserError('BAD_ACCOUNT_ID', `--account-id must be 12 digits, not "${accountId}".`);
  const region = opts.region ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new UserError('BAD_REGION', `--region "${region}" is not an AWS region name.`, { hint: 'e.g. --region eu-west-1' });

  const vars: Record<string, string> = {
    name,
    experiment: opts.experiment ?? name,
    model: opts.model ?? name,
    endpoint,
    bucket,
    auditBucket,
    accountId,
    region,
    version: await packageVersion(),
  };
  for (const k of ['experiment', 'model'] as const) {
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._/-]*$/.test(vars[k])) {
      throw new UserError('BAD_NAME', `--${k} "${vars[k]}" has characters that would need quoting in YAML.`, {
        hint: 'Use letters, digits, spaces, ".", "_", "-", "/".',
      });
    }
  }

  const force = opts.force === true;
  const dryRun = opts.dryRun === true;
  const tdir = templatesDir();
  const files = SCAFFOLD.filter((f) => !f.ci || ci === 'both' || ci === f.ci);
  const results: InitFileResult[] = [];

  for (const f of files) {
    const content = renderTemplate(await readFile(path.join(tdir, f.template), 'utf8'), vars);
    const dest = path.join(ctx.cwd, f.dest);
    const exists = existsSync(dest);
    const folder = exists && statSync(dest).isDirectory();
    const existing = exists && !folder ? await readFile(dest, 'utf8') : undefined;
    let action: FileAction;
    let write: string | undefined;
    let detail: string | undefined;
    if (folder) {
      action = 'skip';
      detail = 'a folder is in the way (move it to have this file written)';
    } else if (!exists) {
      action = 'create';
      write = content;
    } else if (f.mode === 'append' || f.mode === 'requirements') {
      const add =
        f.mode === 'append'
          ? missingLines(existing!, content)
          : (() => {
              const have = new Set(existing!.split(/\r?\n/).map(requirementName).filter(Boolean));
              return content.split(/\r?\n/).filter((l) => {
                const n = requirementName(l);
                return n !== undefined && !have.has(n);
              });
            })();
      if (add.length === 0) action = 'unchanged';
      else {
        action = 'append';
        detail = add.join(', ');
        const sep = existing!.length === 0 || existing!.endsWith('\n') ? '' : '\n';
        write = `${existing}${sep}${f.mode === 'append' ? '# added by mlops init\n' : ''}${add.join('\n')}\n`;
      }
    } else if (existing === content) {
      action = 'unchanged';
    } else if (force) {
      action = 'overwrite';
      write = content;
    } else {
      action = 'skip';
      detail = 'exists and differs (use --force to overwrite)';
    }
    results.push({ path: f.dest, action, ...(detail ? { detail } : {}) });
    if (write !== undefined && !dryRun) {
      const notWritten = await writeReportFile(dest, write, { what: 'file' });
      if (notWritten) throw notWritten;
    }
  }

  const verb: Record<FileAction, string> = {
    create: dryRun ? 'would create' : 'created',
    overwrite: dryRun ? 'would overwrite' : 'overwrote',
    append: dryRun ? 'would append to' : 'appended to',
    unchanged: 'unchanged',
    skip: 'skipped',
  };
  for (const r of results) {
    const line = `${verb[r.action].padEnd(16)} ${r.path}${r.detail ? `  (${r.detail})` : ''}`;
    if (r.action === 'skip') ctx.io.warn(line);
    else ctx.io.info(line);
  }
  if (!existsSync(path.join(ctx.cwd, '.git'))) {
    ctx.io.warn(`${ctx.cwd} is not the root of a git repository: CI files only work at the repository root.`);
  }
  if (opts.accountId === undefined) {
    ctx.io.warn(
      'AWS account id 123456789012 is a placeholder: edit mlops.config.yaml and iam/mlops-deploy-policy.json (or pass --account-id).',
    );
  }

  const dvc = await dvcSetUp(ctx, `s3://${bucket}/dvc`, dryRun);
  const next = [
    'pip install -r requirements.txt',
    ...dvc.pending.map((c) => (c.startsWith('dvc remote add') ? `${c}   # any DVC remote` : c)),
    'dvc repro prepare && dvc push',
    // After the sandbox's eval line the URI is set: asking for another would point away from it.
    ...(ctx.env.MLFLOW_TRACKING_URI
      ? []
      : ['export MLFLOW_TRACKING_URI=https://your-mlflow   # and MLFLOW_TRACKING_TOKEN if it needs one']),
    'npx mlops train && npx mlops compare',
    'git add -A && git commit -m "mlops scaffold"',
  ];
  const skipped = results.filter((r) => r.action === 'skip').length;
  const text = dryRun
    ? results.map((r) => `${verb[r.action]} ${r.path}`).join('\n')
    : `Scaffolded ${name}${skipped ? ` (${skipped} existing file(s) kept; --force overwrites them)` : ''}. Next:\n` +
      next.map((n) => `  ${n}`).join('\n');
  return { data: { dryRun, ci, vars, files: results, dvc: dvc.ran, next }, text };
};

/**
 * Makes the folder a DVC repository with the scaffold's S3 remote as the default, when the `dvc`
 * on PATH can (a git repository root is needed); what it could not do comes back as commands for
 * the person to run. An existing DVC set-up is left as it is, and so is an existing default remote.
 */
async function dvcSetUp(
  ctx: Parameters<CommandRun<'init'>>[0],
  remoteUrl: string,
  dryRun: boolean,
): Promise<{ ran: string[]; pending: string[] }> {
  const hasDvc = existsSync(path.join(ctx.cwd, '.dvc'));
  const steps = [...(hasDvc ? [] : [['dvc', 'init', '-q']]), ['dvc', 'remote', 'add', '-d', 'storage', remoteUrl]];
  const dvcConfig = path.join(ctx.cwd, '.dvc', 'config');
  if (hasDvc && existsSync(dvcConfig) && /^\s*remote\s*=/m.test(await readFile(dvcConfig, 'utf8'))) return { ran: [], pending: [] };
  const pending = steps.map(formatCommand);
  if (dryRun) return { ran: [], pending };
  const bin = await whichOnPath('dvc', ctx.env.PATH);
  if (!bin || !existsSync(path.join(ctx.cwd, '.git'))) {
    ctx.io.warn(
      bin
        ? 'not a git repository root: DVC was not set up; run `git init`, then the dvc commands below'
        : `dvc is not on PATH: DVC was not set up; run \`${pending.join(' && ')}\` once it is (after \`eval "$(npx mlops sandbox env)"\` it is)`,
    );
    return { ran: [], pending };
  }
  const ran: string[] = [];
  for (const argv of steps) {
    const r = await runProcess(argv, { cwd: ctx.cwd, env: ctx.env, io: ctx.io, signal: ctx.signal });
    if (!r.ok) {
      ctx.io.warn(`\`${formatCommand(argv)}\` failed (exit ${r.exitCode ?? r.signal}): ${r.output.trim().split('\n').pop() ?? ''}`);
      return { ran, pending: pending.slice(ran.length) };
    }
    ran.push(formatCommand(argv));
    ctx.io.info(`ran              ${formatCommand(argv)}`);
  }
  return { ran, pending: [] };
}
