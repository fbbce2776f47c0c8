/**
 * The pipeline's whole story on the local stack, written once: `npm run demo` plays it for a
 * person (src/demo/run.ts) and test/e2e/pipeline.test.ts asserts on what each step observed.
 *
 * In a new git repository made by `mlops init`: the data is pushed to a DVC local remote and
 * pulled back; a first model is trained and deployed (the first promote creates the endpoint and
 * sets the `production` alias); a worse candidate is blocked by `compare` (exit 1); a better one
 * passes and is promoted through shadow, bake and canary while traffic flows; then the live
 * inputs shift and `monitor` detects the drift and rolls back. Every mlops command runs in-process
 * through the CLI's own `main`, exactly as typed.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../cli/main.js';
import type { MonitorOutcome } from '../core/monitor.js';
import { renderText } from '../core/monitor-report.js';
import { formatCommand, runProcess } from '../adapters/process.js';
import { readFeatureRows, rowRequests, startTraffic } from '../adapters/traffic.js';
import { SANDBOX_CREDENTIALS, SANDBOX_REGION, stackEnv, type StackUrls } from '../sandbox/local-stack.js';
import { parseEcrImage } from '../core/bootstrap-plan.js';
import { sleep } from '../adapters/clock.js';

export interface ScenarioOptions {
  /** An empty folder for the project and the DVC remote. */
  workDir: string;
  /** The Python venv whose bin folder holds python (with mlflow, scikit-learn) and dvc. */
  venv: string;
  urls: StackUrls;
  /** PATH, HOME and the like (the stack's variables are added). */
  baseEnv: Record<string, string | undefined>;
  /** A step starts. */
  onStep?: (title: string) => void;
  /** A line for people (command output included when echo is on). */
  print?: (line: string) => void;
  /** Echo each command and its output through print (the demo does; the test keeps it quiet). */
  echo?: boolean;
  signal?: AbortSignal;
}

export interface CommandRun {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
}

export interface StepReport<T = Record<string, unknown>> {
  name: string;
  title: string;
  ms: number;
  /** One line for the summary. */
  summary: string;
  observed: T;
}

export interface Observations {
  project: { dir: string; endpoint: string; registeredModel: string; auditBucket: string };
  pull: { code: number; restored: boolean };
  first: { trainCode: number; compareCode: number; promoteCode: number; outcome: string; alias?: string; endpointStatus?: string };
  worse: { trainCode: number; compareCode: number; table: string };
  better: { trainCode: number; compareCode: number; table: string };
  promote: {
    code: number;
    outcome: string;
    stage?: string;
    stages: string[];
    bakePassed?: boolean;
    comparedSamples?: number;
    alias?: string;
    endpointConfig?: string;
    requests: number;
  };
  drift: {
    code: number;
    status?: string;
    driftedInputs: number;
    outputDrifted: string[];
    rolledBack: boolean;
    alias?: string;
    endpointConfig?: string;
    requests: number;
    report: string;
  };
  audit: { code: number; ok: boolean; records: number; location?: string; statusText: string };
}

export interface ScenarioResult {
  steps: StepReport[];
  observed: Observations;
}

/** A step did not behave as the story needs; carries what was observed so far. */
export class ScenarioError extends Error {
  constructor(
    message: string,
    readonly step: string,
    readonly observed: Partial<Observations>,
  ) {
    super(message);
  }
}

const NAME = 'demo';
const ENDPOINT = 'demo-prod';
// The scaffold's names for project "demo": bootstrap creates its buckets from the config.
const AUDIT_BUCKET = 'demo-mlops-audit';

/** Regularisation of each model: the first is deliberately strong (weaker), the worse far too strong, the better the scaffold's. */
const C = { first: '0.03', worse: '0.001', better: '1.0' };

/** Config changes for a compressed clock on a loaded laptop (the rest is what `mlops init` wrote). */
const TUNING: Array<[string[], unknown]> = [
  [['deploy', 'shadow', 'duration'], '20s'],
  [['deploy', 'bake'], { latencyStatistic: 'average', maxLatencyRatio: 10, minOutputAgreement: 0.9, minComparedSamples: 30 }],
  [['deploy', 'cutover'], { type: 'canary', size: 25, wait: '300s' }],
  [['deploy', 'terminationWait'], '0s'],
  [['deploy', 'maxExecutionTimeout'], '8h'],
  [['deploy', 'lock', 'expiry'], '10m'],
  [['deploy', 'audit', 'retentionDays'], 1],
  [['monitor'], { minSamples: 50, consecutiveWindows: 1 }],
];

/**
 * The sandbox's stand-in for `mlflow sagemaker build-and-push-container`: an image manifest under
 * deploy.image's repository and tag in moto's ECR. The emulator runs MLflow's scoring server
 * itself, so no image is ever pulled; `mlops doctor` only checks that the tag exists.
 */
async function pushServingImage(motoUrl: string, image: string): Promise<void> {
  const ecrImage = parseEcrImage(image);
  if (!ecrImage) throw new Error(`deploy.image ${image} is not an ECR image URI`);
  const { ECRClient, PutImageCommand } = await import('@aws-sdk/client-ecr');
  const ecr = new ECRClient({ region: ecrImage.region, endpoint: motoUrl, credentials: SANDBOX_CREDENTIALS });
  try {
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', layers: [] });
    await ecr.send(
      new PutImageCommand({ repositoryName: ecrImage.repository, imageManifest: manifest, imageTag: ecrImage.tag ?? 'latest' }),
    );
  } finally {
    ecr.destroy();
  }
}

export async function runScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  const print = opts.print ?? (() => {});
  const project = path.join(opts.workDir, 'project');
  const remote = path.join(opts.workDir, 'dvc-remote');
  mkdirSync(project, { recursive: true });
  mkdirSync(remote, { recursive: true });
  const venvBin = path.join(opts.venv, 'bin');
  const env: Record<string, string | undefined> = {
    ...opts.baseEnv,
    ...stackEnv(opts.urls),
    PATH: `${venvBin}${path.delimiter}${opts.baseEnv.PATH ?? ''}`,
    GIT_AUTHOR_NAME: 'demo',
    GIT_AUTHOR_EMAIL: 'demo@example.invalid',
    GIT_COMMITTER_NAME: 'demo',
    GIT_COMMITTER_EMAIL: 'demo@example.invalid',
    USER: opts.baseEnv.USER ?? 'demo',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const steps: StepReport[] = [];
  const observed: Partial<Observations> = {
    project: { dir: project, endpoint: ENDPOINT, registeredModel: NAME, auditBucket: AUDIT_BUCKET },
  };

  /** Runs `mlops ...argv` in the project; echoes stderr (and stdout unless it is --json) for people. */
  const mlops = async (argv: string[], o: { quiet?: boolean } = {}): Promise<CommandRun> => {
    const echo = opts.echo && !o.quiet;
    const isJson = argv.includes('--json');
    if (echo) print(`$ mlops ${argv.join(' ')}`);
    const sink = (show: boolean) => ({
      text: '',
      write(c: string) {
        this.text += c;
        if (show) for (const l of c.replace(/\n$/, '').split('\n')) print(`  ${l}`);
        return true;
      },
    });
    const out = sink(Boolean(echo) && !isJson);
    const err = sink(Boolean(echo));
    // A signal of its own per command: main() listens on the one it is given until it aborts.
    const own = new AbortController();
    const forward = () => own.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', forward, { once: true });
    let code: number;
    try {
      code = await main(argv, { stdout: out, stderr: err, env, cwd: project, signal: own.signal });
    } finally {
      opts.signal?.removeEventListener('abort', forward);
    }
    if (opts.signal?.aborted) throw new Error('interrupted');
    return { argv, code, stdout: out.text, stderr: err.text };
  };
  const parse = <T>(r: CommandRun): T => {
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new ScenarioError(`\`mlops ${r.argv.join(' ')}\` printed no JSON (exit ${r.code}): ${r.stderr.slice(-2000)}`, 'json', observed);
    }
  };
  const json = async <T>(argv: string[]): Promise<T> => parse<T>(await mlops([...argv, '--json'], { quiet: true }));
  const sh = (cmd: string, args: string[], cwd = project) =>
    run([cmd, ...args], { cwd, env, signal: opts.signal, echo: opts.echo ? print : undefined });

  const step = async <T extends Record<string, unknown>>(
    name: string,
    title: string,
    body: () => Promise<{ summary: string; observed: T }>,
  ) => {
    opts.onStep?.(title);
    const t0 = Date.now();
    const r = await body();
    const report: StepReport = { name, title, ms: Date.now() - t0, summary: r.summary, observed: r.observed };
    steps.push(report);
    return r.observed;
  };
  const fail = (stepName: string, message: string): never => {
    throw new ScenarioError(message, stepName, observed);
  };
  const expectCode = (stepName: string, r: CommandRun, want: number) => {
    if (r.code !== want) fail(stepName, `\`mlops ${r.argv.join(' ')}\` exited ${r.code}, expected ${want}:\n${r.stderr.slice(-3000)}`);
  };
  const setC = async (c: string, message: string) => {
    const file = path.join(project, 'src', 'train.py');
    const src = readFileSync(file, 'utf8');
    const next = src.replace(/"C": [0-9.]+,/, `"C": ${c},`);
    if (next === src && !src.includes(`"C": ${c},`)) fail('train', 'could not find "C" in src/train.py');
    writeFileSync(file, next);
    print(`src/train.py: LogisticRegression C=${c} (${message})`);
    await sh('git', ['commit', '-q', '-am', message]);
  };
  const alias = async () => {
    const res = await fetch(`${opts.urls.mlflow}/api/2.0/mlflow/registered-models/alias?name=${NAME}&alias=production`);
    if (!res.ok) return undefined;
    return ((await res.json()) as { model_version: { version: string } }).model_version.version;
  };
  const statusJson = () =>
    json<{
      endpoint: { status: string; configName: string } | null;
      deployment: {
        stage: string;
        history: Array<{ stage: string }>;
        bake?: { passed: boolean; measured?: { comparedSamples?: number } };
      } | null;
    }>(['status']);

  // --- 0. the project ---------------------------------------------------------------------------
  await step(
    'project',
    'a new git repository, scaffolded by `mlops init`, its data versioned in DVC, checked by `mlops doctor`',
    async () => {
      await sh('git', ['init', '-q', '-b', 'main', project], opts.workDir);
      const init = await mlops(['init', '--name', NAME, '--account-id', '123456789012', '--ci', 'both']);
      expectCode('project', init, 0);
      const { parseDocument } = await import('yaml');
      const file = path.join(project, 'mlops.config.yaml');
      const doc = parseDocument(readFileSync(file, 'utf8'));
      for (const [at, value] of TUNING) doc.setIn(at, value);
      writeFileSync(file, `# Tuned by the demo for a compressed clock (see src/demo/scenario.ts).\n${doc.toString()}`);
      print(
        "mlops.config.yaml tuned for the demo: shadow 20s, canary 25% with a 300s bake (6 s at the emulator's x50 clock), monitor one window, 50 samples",
      );
      const validate = await mlops(['config', 'validate']);
      expectCode('project', validate, 0);
      // What a newcomer does in an AWS account, against the sandbox's moto: buckets (the audit one
      // with Object Lock), the SageMaker execution role, the ECR repository.
      const boot = await mlops(['bootstrap', '--ecr']);
      expectCode('project', boot, 0);
      const shown = await json<{ config: { deploy?: { image?: string } } }>(['config', 'show']);
      await pushServingImage(opts.urls.moto, shown.config.deploy?.image ?? '');
      print('serving image manifest pushed to the sandbox ECR (the emulator serves models itself; doctor checks the image exists)');
      // `mlops init` ran `dvc init` and added an S3 remote (dvc is on PATH here); the demo keeps
      // its data in a local folder remote instead.
      if (!existsSync(path.join(project, '.dvc'))) await sh('dvc', ['init', '-q']);
      await sh('dvc', ['remote', 'add', '-q', '-f', '-d', 'storage', remote]);
      await sh('dvc', ['repro', '-q', 'prepare']);
      await sh('dvc', ['push', '-q']);
      await sh('git', ['add', '-A']);
      await sh('git', ['commit', '-q', '-m', 'mlops init + data']);
      const doctor = await mlops(['doctor']);
      expectCode('project', doctor, 0);
      return { summary: `${project} (DVC remote ${remote})`, observed: {} };
    },
  );

  // --- 1. pull ----------------------------------------------------------------------------------
  observed.pull = await step('pull', '1. pull the data: `mlops pull` (dvc pull from the remote)', async () => {
    rmSync(path.join(project, 'data', 'raw.csv'), { force: true });
    print('data/raw.csv deleted locally, as on a fresh CI runner');
    const r = await mlops(['pull']);
    const restored = existsSync(path.join(project, 'data', 'raw.csv'));
    const o = { code: r.code, restored };
    observed.pull = o;
    expectCode('pull', r, 0);
    if (!restored) fail('pull', 'data/raw.csv was not restored');
    return { summary: 'data/raw.csv restored from the DVC remote', observed: o };
  });

  // --- 2. the first model, deployed -------------------------------------------------------------
  observed.first = await step('first', '2. train a first model, register it as production and deploy it', async () => {
    await setC(C.first, 'first model: strong regularisation');
    const train = await mlops(['train']);
    expectCode('first', train, 0);
    const compare = await mlops(['compare']);
    const promote = await mlops(['promote', '--wait', '10m', '--poll', '1s']);
    const st = await statusJson();
    const o = {
      trainCode: train.code,
      compareCode: compare.code,
      promoteCode: promote.code,
      outcome: st.deployment?.stage ?? 'none',
      alias: await alias(),
      endpointStatus: st.endpoint?.status,
    };
    observed.first = o;
    expectCode('first', compare, 0);
    expectCode('first', promote, 0);
    if (o.alias !== '1') fail('first', `the production alias is ${o.alias ?? 'unset'}, expected version 1`);
    return { summary: `v1 deployed: endpoint ${ENDPOINT} ${o.endpointStatus}, production -> v${o.alias}`, observed: o };
  });

  // --- 3. a worse candidate, blocked --------------------------------------------------------------
  observed.worse = await step('worse', '3. a worse candidate: `mlops compare` blocks it (exit 1)', async () => {
    await setC(C.worse, 'regularise far too hard');
    const train = await mlops(['train']);
    expectCode('worse', train, 0);
    const compare = await mlops(['compare']);
    const o = { trainCode: train.code, compareCode: compare.code, table: compare.stdout };
    observed.worse = o;
    expectCode('worse', compare, 1);
    return { summary: 'compare exited 1: the merge would be blocked', observed: o };
  });

  // --- 4. a better candidate, passes --------------------------------------------------------------
  observed.better = await step('better', '4. a better candidate: `mlops compare` passes', async () => {
    await setC(C.better, "the scaffold's regularisation");
    const train = await mlops(['train']);
    expectCode('better', train, 0);
    const compare = await mlops(['compare']);
    const o = { trainCode: train.code, compareCode: compare.code, table: compare.stdout };
    observed.better = o;
    expectCode('better', compare, 0);
    return { summary: 'compare exited 0: the merge may go ahead', observed: o };
  });

  const holdout = readFeatureRows(path.join(project, 'data', 'holdout.csv'));
  const { SageMakerRuntimeClient } = await import('@aws-sdk/client-sagemaker-runtime');
  const { SageMakerClient } = await import('@aws-sdk/client-sagemaker');
  const clientConfig = { region: SANDBOX_REGION, endpoint: opts.urls.emulator, credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 };
  const runtime = new SageMakerRuntimeClient(clientConfig);
  const sagemaker = new SageMakerClient(clientConfig);
  // Beside a promote that runs in-process, the traffic runs in the background on the same module
  // as `mlops traffic` (the drift step runs the command itself).
  const traffic = () =>
    startTraffic({
      runtime,
      sagemaker,
      endpoint: ENDPOINT,
      request: rowRequests(holdout, { inferenceIdPrefix: 'demo-' }),
      ratePerSecond: 25,
      signal: opts.signal,
    });
  try {
    // --- 5. promote through shadow, bake, canary ----------------------------------------------------
    observed.promote = await step('promote', '5. promote: shadow, bake, canary, done, while traffic flows', async () => {
      const load = traffic();
      print('traffic: holdout rows sent to the endpoint in the background');
      let promote: CommandRun;
      try {
        promote = await mlops(['promote', '--wait', '10m', '--poll', '1s', '--json']);
      } finally {
        await load.stop();
      }
      const p = parse<{ outcome: string; stage: string | null; bake: { passed: boolean; measured?: { comparedSamples?: number } } | null }>(
        promote,
      );
      print(`${ENDPOINT}: stage reached ${p.stage}, outcome ${p.outcome}`);
      const st = await statusJson();
      const o = {
        code: promote.code,
        outcome: p.outcome,
        stage: p.stage ?? undefined,
        stages: st.deployment?.history.map((h) => h.stage) ?? [],
        bakePassed: p.bake?.passed,
        comparedSamples: p.bake?.measured?.comparedSamples,
        alias: await alias(),
        endpointConfig: st.endpoint?.configName,
        requests: load.sent(),
      };
      observed.promote = o;
      print(`${load.sent()} requests sent during the promotion; stages: ${o.stages.join(' -> ')}`);
      expectCode('promote', promote, 0);
      if (o.stage !== 'done') fail('promote', `the deployment is at stage ${o.stage}, expected done`);
      return {
        summary: `v${o.alias} live after ${o.stages.join(' -> ')} (bake on ${o.comparedSamples ?? '?'} compared requests)`,
        observed: o,
      };
    });

    // --- 6. drift, rollback -----------------------------------------------------------------------
    observed.drift = await step('drift', '6. the live inputs shift: `mlops monitor` detects drift and rolls back', async () => {
      const from = nextSecond();
      await sleep(Math.max(0, from.getTime() - Date.now()));
      print('traffic: every feature now 1.6 times larger than in training');
      const sent = await mlops(['traffic', '--count', '100', '--rate', '25', '--shift', '*=*1.6', '--json']);
      expectCode('drift', sent, 0);
      const load = parse<{ ok: number }>(sent);
      const to = nextSecond();
      // The emulator writes capture files every second: let the last ones land.
      await sleep(Math.max(2500, to.getTime() - Date.now() + 1500));
      const monitor = await mlops(['monitor', '--from', from.toISOString(), '--to', to.toISOString(), '--json']);
      const m = parse<MonitorOutcome & { reportFile: string }>(monitor);
      if (opts.echo) for (const l of renderText(m).split('\n')) print(`  ${l}`);
      const st = await statusJson();
      const o = {
        code: monitor.code,
        status: m.status,
        driftedInputs: m.dataset.driftedInputs.length,
        outputDrifted: m.dataset.outputDrifted,
        rolledBack: m.rollback.performed,
        alias: await alias(),
        endpointConfig: st.endpoint?.configName,
        requests: load.ok,
        report: existsSync(m.reportFile) ? readFileSync(m.reportFile, 'utf8') : '',
      };
      observed.drift = o;
      expectCode('drift', monitor, 1);
      if (!o.rolledBack) fail('drift', 'monitor did not roll back');
      return { summary: `drift on ${load.ok} shifted requests: rolled back to v${o.alias} (${o.endpointConfig})`, observed: o };
    });

    // --- 7. where things are ----------------------------------------------------------------------
    observed.audit = await step('audit', 'the endpoint now, and the audit trail', async () => {
      const status = await mlops(['status']);
      const verify = await mlops(['audit', 'verify']);
      const v = await json<{ ok: boolean; records: number; location: string }>(['audit', 'verify']);
      const o = { code: verify.code, ok: v.ok, records: v.records, location: v.location, statusText: status.stdout };
      observed.audit = o;
      expectCode('audit', verify, 0);
      return { summary: `${v.records} audit records at ${v.location}, hash chain intact`, observed: o };
    });
  } finally {
    runtime.destroy();
    sagemaker.destroy();
  }

  return { steps, observed: observed as Observations };
}

// --- helpers --------------------------------------------------------------------------------------

function nextSecond(): Date {
  return new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
}

/** Runs a program (argv, no shell) through the process runner; throws with its output when it fails. */
async function run(
  argv: string[],
  o: { cwd: string; env: Record<string, string | undefined>; signal?: AbortSignal; echo?: (line: string) => void },
): Promise<string> {
  const echo = o.echo;
  const io = echo && {
    debug: () => echo(`$ ${formatCommand(argv)}`),
    passthrough: (text: string) => {
      for (const l of text.replace(/\n$/, '').split('\n')) if (l.trim()) echo(`  ${l}`);
    },
  };
  const r = await runProcess(argv, { cwd: o.cwd, env: o.env, signal: o.signal, io: io || undefined });
  if (!r.ok) throw new Error(`${formatCommand(argv)} exited ${r.exitCode ?? r.signal ?? r.spawnError}:\n${r.output.slice(-3000)}`);
  return r.stdout;
}
