/**
 * `mlops doctor`: checks what the pipeline needs — Node, git, DVC, Python, the config, the MLflow
 * server, AWS access and (unless --offline) the account's resources — and says, for each problem, what to do. Exit 0 when every required
 * check passes, 1 otherwise. Which checks are required depends on the project: DVC when the repo
 * uses it, Python when the training command does, AWS when the config has a deploy section or a
 * monitor section that names an endpoint or capture location.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandRun, CommandContext } from '../cli/context.js';
import { MlopsError } from '../core/errors.js';
import { numberFlag } from '../core/number-flag.js';
import { checkEnvironment } from '../config/environment.js';
import type { LoadedConfig } from '../config/load.js';

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface Check {
  name: string;
  required: boolean;
  status: CheckStatus;
  /** What was found. */
  summary: string;
  /** What to do about it (for fail/warn). */
  fix?: string;
}

const NODE_MIN = '20.19';
const PYTHON_MIN = '3.9';

export const run: CommandRun<'doctor'> = async (ctx, _args, opts) => {
  const timeoutMs = numberFlag('--timeout', opts.timeout, { example: '2', note: 'seconds' }) * 1000;
  const probe = await import('../adapters/probe.js');
  const { io } = ctx;

  // The config decides what else is required, so it comes first.
  let loaded: LoadedConfig | undefined;
  let configCheck: Check;
  try {
    loaded = await ctx.loadConfig();
    // As `config validate` does; a malformed variable fails this check and the others still run.
    checkEnvironment(ctx.env);
    configCheck = { name: 'config', required: true, status: 'ok', summary: `${loaded.filepath} is valid` };
  } catch (err) {
    if (!(err instanceof MlopsError)) throw err;
    const first = err.message.split('\n').slice(0, 4).join(' ').replace(/\s+/g, ' ');
    configCheck = { name: 'config', required: true, status: 'fail', summary: first, fix: err.hint };
  }

  const root = loaded?.root ?? ctx.cwd;
  // Tools run where mlops runs them: in the config's folder (a relative train.command[0] resolves there).
  const probeOpts = { cwd: root, env: ctx.env, timeoutMs: 15_000 };
  const usesDvc = [root, ctx.cwd].some((d) => existsSync(path.join(d, '.dvc')) || existsSync(path.join(d, 'dvc.yaml')));
  const trainCmd = loaded?.config.train.command ?? ['python'];
  const pythonName = /python/i.test(path.basename(trainCmd[0])) ? trainCmd[0] : undefined;
  // monitor has defaults, so it counts only when it names what to read.
  const sections = (loaded?.config ?? {}) as { deploy?: unknown; monitor?: { endpoint?: string; capture?: string } };
  const awsNeeded = sections.deploy !== undefined || Boolean(sections.monitor?.endpoint || sections.monitor?.capture);

  const [git, dvc, python, mlflow, aws] = await Promise.all([
    checkGit(probe, probeOpts),
    checkDvc(probe, probeOpts, usesDvc),
    checkPython(probe, probeOpts, pythonName),
    checkMlflow(probe, ctx, loaded, timeoutMs),
    checkAws(probe, ctx, loaded, awsNeeded, timeoutMs),
  ]);
  // The account itself, when AWS is needed and reachable: the same plan `mlops bootstrap` makes.
  const reachable = aws.every((c) => c.status === 'ok');
  const account: Check[] =
    opts.offline || !awsNeeded || !loaded
      ? []
      : reachable
        ? await checkAccount(ctx, loaded, timeoutMs)
        : [{ name: 'account', required: false, status: 'skip', summary: 'not checked: fix the aws checks above first' }];
  const leftRunning = mlflow.status === 'ok' && loaded ? await checkLeftRunning(ctx, loaded) : undefined;
  const checks: Check[] = [
    checkNode(probe, probe.runningNodeVersion()),
    git,
    dvc,
    python,
    configCheck,
    mlflow,
    ...(leftRunning ? [leftRunning] : []),
    ...aws,
    ...account,
  ];

  const failed = checks.filter((c) => c.required && c.status === 'fail');
  const warned = checks.filter((c) => c.status === 'warn' || (!c.required && c.status === 'fail'));
  const ok = failed.length === 0;
  const lines = checks.map((c) => formatCheck(c, io));
  lines.push(
    '',
    ok
      ? `All required checks passed${warned.length ? ` (${warned.length} warning${warned.length === 1 ? '' : 's'})` : ''}.`
      : `${failed.length} required check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}.`,
  );
  return { data: { ok, checks }, text: lines.join('\n'), exitCode: ok ? 0 : 1 };
};

type Probe = typeof import('../adapters/probe.js');
type ProbeOpts = { cwd: string; env: Record<string, string | undefined>; timeoutMs: number };

function formatCheck(c: Check, io: CommandContext['io']): string {
  const symbol =
    c.status === 'ok'
      ? io.styleOut('green', '✔')
      : c.status === 'fail' && c.required
        ? io.styleOut('red', '✖')
        : c.status === 'skip'
          ? io.styleOut('dim', '-')
          : io.styleOut('yellow', '!');
  const kind = c.required ? 'required' : 'optional';
  const head = `${symbol} ${c.name.padEnd(8)} ${io.styleOut('dim', `(${kind})`.padEnd(10))} ${c.summary}`;
  return c.fix && c.status !== 'ok' ? `${head} → ${c.fix}` : head;
}

function checkNode(probe: Probe, version: string): Check {
  const ok = probe.versionAtLeast(version, NODE_MIN);
  return {
    name: 'node',
    required: true,
    status: ok ? 'ok' : 'fail',
    summary: ok ? `v${version}` : `v${version} is too old (need >= ${NODE_MIN})`,
    fix: ok ? undefined : `Install Node.js ${NODE_MIN} or newer (e.g. \`nvm install 20\`).`,
  };
}

async function checkGit(probe: Probe, opts: ProbeOpts): Promise<Check> {
  const r = await probe.probeTool(['git', '--version'], opts);
  if (!r.found) {
    return {
      name: 'git',
      required: true,
      status: 'fail',
      summary: r.detail,
      fix: 'Install git (https://git-scm.com/downloads); training runs are tagged with the commit.',
    };
  }
  if (!r.version)
    return { name: 'git', required: true, status: 'fail', summary: r.detail, fix: 'Check that `git --version` works in this shell.' };
  return { name: 'git', required: true, status: 'ok', summary: `git ${r.version}` };
}

async function checkDvc(probe: Probe, opts: ProbeOpts, required: boolean): Promise<Check> {
  const r = await probe.probeTool(['dvc', '--version'], opts);
  const why = required ? 'this repo uses DVC' : 'needed by `mlops pull` once the repo uses DVC';
  if (!r.found) {
    return {
      name: 'dvc',
      required,
      status: required ? 'fail' : 'warn',
      summary: `${r.detail} (${why})`,
      fix: 'Install DVC: `pipx install dvc` or `pip install dvc` (plus the remote plugin, e.g. `dvc[s3]`).',
    };
  }
  if (!r.version)
    return {
      name: 'dvc',
      required,
      status: required ? 'fail' : 'warn',
      summary: r.detail,
      fix: 'Check that `dvc --version` works in this shell.',
    };
  return {
    name: 'dvc',
    required,
    status: 'ok',
    summary: `dvc ${r.version}${required ? '' : ' (this repo does not use DVC yet: no .dvc/)'}`,
  };
}

async function checkPython(probe: Probe, opts: ProbeOpts, trainPython: string | undefined): Promise<Check> {
  const required = trainPython !== undefined;
  const candidates = trainPython ? [trainPython] : ['python3', 'python'];
  let r: Awaited<ReturnType<Probe['probeTool']>> | undefined;
  let used = candidates[0];
  for (const c of candidates) {
    used = c;
    r = await probe.probeTool([c, '--version'], opts);
    if (r.found) break;
  }
  const why = required ? `train.command runs ${trainPython}` : 'the training command does not use Python';
  if (!r?.found) {
    return {
      name: 'python',
      required,
      status: required ? 'fail' : 'warn',
      summary: `${used} not found on PATH (${why})`,
      fix: `Install Python ${PYTHON_MIN}+ and make \`${used}\` run it (a virtual environment on PATH works), or set train.command.`,
    };
  }
  if (!r.version || !probe.versionAtLeast(r.version, PYTHON_MIN)) {
    return {
      name: 'python',
      required,
      status: required ? 'fail' : 'warn',
      summary: `${used}: ${r.detail} (need >= ${PYTHON_MIN})`,
      fix: `Install Python ${PYTHON_MIN} or newer and put it first on PATH (or point train.command at it).`,
    };
  }
  return { name: 'python', required, status: 'ok', summary: `${used} ${r.version}` };
}

async function checkMlflow(probe: Probe, ctx: CommandContext, loaded: LoadedConfig | undefined, timeoutMs: number): Promise<Check> {
  const name = 'mlflow';
  // The client's own URI and auth, so doctor checks exactly what the commands send.
  const { mlflowConnection, safeUri, trackingUriOf } = await import('../adapters/mlflow.js');
  const uri = trackingUriOf(loaded?.config, ctx.env);
  if (!uri) {
    return {
      name,
      required: true,
      status: 'fail',
      summary: 'no tracking server configured',
      fix: 'Set mlflow.trackingUri in the config, or export MLFLOW_TRACKING_URI=http://HOST:5000.',
    };
  }
  let connection: ReturnType<typeof mlflowConnection>;
  try {
    connection = mlflowConnection(uri, ctx.env);
  } catch {
    return {
      name,
      required: true,
      status: 'fail',
      summary: `${safeUri(uri)} is not an http(s) URL`,
      fix: 'mlops talks to an MLflow tracking server over REST: start one (`mlflow server`) and use its http:// URL.',
    };
  }
  const { baseUrl: base, headers } = connection;
  if (connection.managed) return checkManagedMlflow(ctx, uri, base, timeoutMs);
  const health = await probe.probeHttp(`${base}/health`, { timeoutMs, headers });
  if (!health.answered) {
    return {
      name,
      required: true,
      status: 'fail',
      summary: `${base} is unreachable (${health.detail})`,
      fix: 'Start the MLflow server, or fix mlflow.trackingUri / MLFLOW_TRACKING_URI (and any proxy or VPN in the way).',
    };
  }
  const api = await probe.probeHttp(`${base}/api/2.0/mlflow/experiments/search?max_results=1`, { timeoutMs, headers });
  if (api.status === 401 || api.status === 403) {
    return {
      name,
      required: true,
      status: 'fail',
      summary: `${base} refused the credentials (HTTP ${api.status})`,
      fix: 'Set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, to an account with access.',
    };
  }
  if (!api.answered || !api.status || api.status >= 300) {
    return {
      name,
      required: true,
      status: 'fail',
      summary: `${base} answers /health (HTTP ${health.status}) but not the MLflow REST API (${api.status ? `HTTP ${api.status}` : api.detail})`,
      fix: 'Check that the URL is the tracking server itself (not a UI path or a proxy prefix).',
    };
  }
  if (!api.jsonObject) {
    // Every command would fail on it with MLFLOW_BAD_RESPONSE: a 200 alone is not a pass.
    return {
      name,
      required: true,
      status: 'fail',
      summary: `${base} answers the MLflow REST API path (HTTP ${api.status}) with something that is not MLflow's JSON`,
      fix: 'Check that mlflow.trackingUri (or MLFLOW_TRACKING_URI) points to the tracking server itself, not a login page or proxy in front of it.',
    };
  }
  return { name, required: true, status: 'ok', summary: `${base} answers (REST API HTTP ${api.status})` };
}

/**
 * A SageMaker-managed tracking server answers only SigV4-signed requests: doctor makes one REST
 * call through the client the commands use (same signing, same credentials).
 */
async function checkManagedMlflow(ctx: CommandContext, arn: string, base: string, timeoutMs: number): Promise<Check> {
  const name = 'mlflow';
  const { createMlflowClient } = await import('../adapters/mlflow.js');
  try {
    const client = await createMlflowClient({ trackingUri: arn, env: ctx.env, timeoutMs, retries: 0, signal: ctx.signal });
    await client.getExperimentByName('Default');
    return { name, required: true, status: 'ok', summary: `${arn} answers signed requests at ${base}` };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const denied = /HTTP 40[13]|permission|denied|forbidden|unauthori[sz]ed/i.test(message);
    return {
      name,
      required: true,
      status: 'fail',
      summary: `${arn}: ${message}`,
      fix: denied
        ? 'The AWS identity needs sagemaker-mlflow:* on this tracking server (IAM), and the ARN must name a running tracking server in its region.'
        : 'Check the tracking server is running (aws sagemaker describe-mlflow-tracking-server) and reachable from here (VPC, proxy).',
    };
  }
}

/**
 * Closes (KILLED) the runs of the training experiment that a killed mlops on this host left
 * RUNNING, and says so; nothing to report is no line at all. Best effort: the mlflow check above
 * already said whether the server answers.
 */
async function checkLeftRunning(ctx: CommandContext, loaded: LoadedConfig): Promise<Check | undefined> {
  try {
    const { closeRunsOfDeadMlops, mlflowFromConfig } = await import('../adapters/mlflow.js');
    const client = await mlflowFromConfig(loaded.config, ctx.env, { signal: ctx.signal });
    const name = loaded.config.mlflow.experiment ?? loaded.config.project ?? path.basename(loaded.root);
    const experiment = await client.getExperimentByName(name);
    if (!experiment) return undefined;
    const closed = await closeRunsOfDeadMlops(client, experiment.experimentId);
    if (!closed.length) return undefined;
    return {
      name: 'runs',
      required: false,
      status: 'warn',
      summary: `${closed.length} run(s) of "${name}" were left RUNNING by an mlops that is gone (killed?) and are now marked KILLED: ${closed.map((r) => r.info.runId).join(', ')}`,
      fix: 'Nothing left to do; train again if those runs were needed.',
    };
  } catch (err) {
    ctx.io.debug(`could not look for runs left RUNNING: ${(err as Error).message}`);
    return undefined;
  }
}

async function checkAws(
  probe: Probe,
  ctx: CommandContext,
  loaded: LoadedConfig | undefined,
  required: boolean,
  timeoutMs: number,
): Promise<Check[]> {
  const why = required ? '' : ' (needed once the config has a deploy section)';
  const found = probe.findAwsCredentials(ctx.env);
  const region = loaded?.config.aws.region ?? found.region;
  const bad: CheckStatus = required ? 'fail' : 'warn';
  const checks: Check[] = [];
  if (found.source) {
    checks.push({
      name: 'aws',
      required,
      status: region ? 'ok' : bad,
      summary: `credentials from ${found.source}${region ? `, region ${region}` : ', but no region'}`,
      fix: region ? undefined : 'Set aws.region in the config, or AWS_REGION.',
    });
  } else {
    checks.push({
      name: 'aws',
      required,
      status: bad,
      summary: found.incomplete
        ? `${found.incomplete}: no credentials${why}`
        : `no credentials in the environment or the shared files for profile "${found.profile}"${why}`,
      fix: 'Export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, set AWS_PROFILE to a configured profile (`aws configure`), or run where a role is attached.',
    });
  }
  const endpoints = Object.entries(loaded?.config.aws.endpoints ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string');
  for (const [service, url] of endpoints) {
    // The environment's AWS_ENDPOINT_URL_* (what `sandbox env` exports) beats the file: name where it came from.
    const source = loaded?.sources[`aws.endpoints.${service}`];
    const from = source?.startsWith('env:') ? `$${source.slice(4)}` : `aws.endpoints.${service}`;
    const r = await probe.probeHttp(url, { timeoutMs });
    checks.push(
      r.answered
        ? { name: `aws.${service}`, required, status: 'ok', summary: `${url} answers (HTTP ${r.status})` }
        : {
            name: `aws.${service}`,
            required,
            status: bad,
            summary: `${url} (${from}) is unreachable (${r.detail})`,
            fix: `Start the service behind ${from} (e.g. the local sandbox: \`mlops sandbox up\`), or remove the override to use AWS.`,
          },
    );
  }
  return checks;
}

/**
 * The AWS account checks: the caller's identity, then each resource of the bootstrap plan (what
 * `mlops bootstrap` would create or update is missing: its fix is bootstrap; what it would not
 * touch carries its own fix), the serving image in ECR, and that the regions agree.
 */
async function checkAccount(ctx: CommandContext, loaded: LoadedConfig, timeoutMs: number): Promise<Check[]> {
  const required = true;
  const { inspectAccount } = await import('../app/account.js');
  const { findImage } = await import('../adapters/account.js');
  let inspection: Awaited<ReturnType<typeof inspectAccount>>;
  try {
    inspection = await inspectAccount(loaded.config, ctx.env, { createEcr: false, signal: ctx.signal, timeoutMs });
  } catch (err) {
    if (!(err instanceof MlopsError)) throw err;
    return [{ name: 'identity', required, status: 'fail', summary: err.message, fix: err.hint }];
  }
  const { clients, identity, needs, plan } = inspection;
  const checks: Check[] = [{ name: 'identity', required, status: 'ok', summary: `${identity.arn} (account ${identity.accountId})` }];
  try {
    for (const r of plan) {
      const name = r.kind === 'bucket' ? `s3://${r.name}` : r.kind === 'role' ? 'role' : 'ecr';
      if (r.status === 'exists') checks.push({ name, required, status: 'ok', summary: `${r.name}: ${r.detail}` });
      else if (r.problems.length) {
        checks.push({
          name,
          required,
          status: 'fail',
          summary: r.problems.map((p) => p.summary).join('; '),
          fix: r.problems.map((p) => p.fix).join(' '),
        });
      } else if (r.status === 'missing') {
        checks.push({ name, required: false, status: 'skip', summary: `${r.name}: ${r.detail}` });
      } else if (r.status === 'update') {
        // Only an addition is missing (a default retention, the inline policy): other policies may grant the same.
        checks.push({
          name,
          required,
          status: 'warn',
          summary: `${r.name}: ${r.detail}`,
          fix: 'Run `mlops bootstrap` to add it (it only adds; `--dry-run` shows the calls).',
        });
      } else {
        checks.push({
          name,
          required,
          status: 'fail',
          summary: `${r.kind} ${r.name} does not exist`,
          fix: 'Run `mlops bootstrap` (`--dry-run` first shows each call).',
        });
      }
    }
    const image = needs.image;
    const region = loaded.config.deploy?.region ?? loaded.config.aws.region ?? needs.region;
    const regionProblems: string[] = [];
    if (loaded.config.deploy?.region && loaded.config.aws.region && loaded.config.deploy.region !== loaded.config.aws.region)
      regionProblems.push(`deploy.region is ${loaded.config.deploy.region} but aws.region is ${loaded.config.aws.region}`);
    if (image && image.region !== needs.region)
      regionProblems.push(`deploy.image is in ${image.region}, the endpoint's region is ${needs.region}`);
    const source = loaded.sources['aws.region'];
    checks.push(
      regionProblems.length
        ? {
            name: 'region',
            required,
            status: 'fail',
            summary: regionProblems.join('; '),
            fix: `Use one region: set aws.region (and deploy.region, if set) and push the image to ECR in ${needs.region}, or change the region to ${image?.region ?? region}.`,
          }
        : {
            name: 'region',
            required,
            status: 'ok',
            summary: `${needs.region}${source?.startsWith('env:') ? ` (from $${source.slice(4)})` : ''}`,
          },
    );
    const repositoryMissing = plan.some((r) => r.kind === 'repository' && r.status !== 'exists');
    if (image && repositoryMissing) {
      checks.push({ name: 'image', required: false, status: 'skip', summary: `${image.uri}: no repository to look in (see ecr)` });
    } else if (image && image.region === needs.region && image.accountId === identity.accountId) {
      const found = await findImage(clients, image);
      checks.push(
        found === 'found'
          ? { name: 'image', required, status: 'ok', summary: `${image.uri} is in ECR` }
          : {
              name: 'image',
              required,
              status: 'fail',
              summary:
                found === 'no-image'
                  ? `${image.uri} is not in ECR (no such tag or digest)`
                  : `ECR repository ${image.repository} does not exist`,
              fix:
                (found === 'no-repository' ? 'Run `mlops bootstrap --ecr`, then push' : 'Push') +
                ' the serving image: `mlflow sagemaker build-and-push-container` (or build your own, see the README\'s "Going to AWS").',
            },
      );
    } else if (image) {
      checks.push({ name: 'image', required: false, status: 'skip', summary: `${image.uri} is in another account or region: not checked` });
    }
  } catch (err) {
    if (!(err instanceof MlopsError)) throw err;
    checks.push({ name: 'account', required, status: 'fail', summary: err.message, fix: err.hint });
  } finally {
    clients.destroy();
  }
  return checks;
}
