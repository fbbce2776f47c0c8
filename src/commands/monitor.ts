/**
 * `mlops monitor`: drift of one endpoint variant's live inputs and outputs against the training
 * baseline, over a time window of data capture.
 *
 * Baseline: --baseline FILE, monitor.baselineProfile, else the artifact mlops/profile.json of the
 * production model's MLflow run (compare.baseline: alias or runId). Capture: --capture-dir (local
 * files or folders), else S3 (monitor.capture, else deploy.dataCapture.destination).
 * Publishes to CloudWatch (see src/core/drift/metrics.ts for names and dimensions), prints a
 * table, writes a Markdown report, the step summary and a constraint_violations.json, keeps the
 * consecutive-drift count (S3 next to the deployment state, else .mlops/), and after
 * monitor.consecutiveWindows drifting windows in a row rolls back as `mlops rollback` does.
 *
 * Exit codes: 1 when the window drifted (after the minimum-sample guard), whether or not the
 * consecutive-window guard let it roll back yet; 0 for no drift and for insufficient data.
 */
import { mkdir, readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InterruptedError, MlopsError, UserError } from '../core/errors.js';
import type { CommandContext, CommandRun } from '../cli/context.js';
import type { Io } from '../cli/io.js';
import { configSchema, type Config } from '../config/schema.js';
import { durationMs, formatDuration } from '../core/duration.js';
import {
  constraintViolations,
  evaluateDrift,
  LiveSummary,
  METHOD_LABEL,
  type DriftOptions,
  type DriftReport,
} from '../core/drift/evaluate.js';
import { driftMetrics, driftScore, DRIFT_NAMESPACE } from '../core/drift/metrics.js';
import { profileProblem, type Profile } from '../core/drift/profile.js';
import type { ScanStats } from '../core/drift/scan.js';
import { advanceState, afterRollback, initialState, rollbackDue, type MonitorState } from '../core/drift/windows.js';
import type { MetricsPort } from '../adapters/cloudwatch.js';
import { PROFILE_ARTIFACT_PATH } from '../adapters/profile-file.js';

/** What a rollback port gets and says. */
export interface RollbackRequest {
  endpoint: string;
  variant: string;
  reason: string;
  dryRun: boolean;
}
export interface RollbackOutcome {
  performed: boolean;
  detail: string;
}
export type RollbackPort = (req: RollbackRequest) => Promise<RollbackOutcome>;

/** Where the consecutive-drift count lives. */
export interface MonitorStateStore {
  describe: string;
  read(): Promise<MonitorState | undefined>;
  write(state: MonitorState): Promise<void>;
}

export interface MonitorPorts {
  baseline(): Promise<{ profile: Profile; source: string }>;
  /** Lists the capture files of the window and scans them into `live` (in parallel when large). */
  scan(
    live: LiveSummary,
    opts: { window?: { from: number; to: number }; signal?: AbortSignal; onProgress?: (n: number) => void },
  ): Promise<{ stats: ScanStats; files: number; bytes: number; describe: string }>;
  metrics?: MetricsPort;
  state: MonitorStateStore;
  rollback: RollbackPort;
  now(): Date;
}

export interface MonitorInput {
  endpoint: string;
  variant: string;
  /** Filter records by inferenceTime; undefined keeps every record (local files without a window). */
  window?: { from: number; to: number };
  drift: Partial<DriftOptions>;
  sketchK: number;
  consecutiveWindows: number;
  rollback: boolean;
  publish: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
}

export interface MonitorOutcome {
  ok: boolean;
  status: DriftReport['dataset']['status'];
  endpoint: string;
  variant: string;
  window?: { from: string; to: string };
  baseline: string;
  capture: { source: string; files: number; bytes: number } & ScanStats;
  recordsPerSecond: number;
  elapsedMs: number;
  dataset: DriftReport['dataset'];
  driftScore: number | null;
  features: DriftReport['features'];
  consecutive: number;
  consecutiveWindows: number;
  rollback: { due: boolean; performed: boolean; detail: string };
  metrics: { namespace: string; published: number };
  violations: ReturnType<typeof constraintViolations>;
}

/** The monitoring of one window, with every outside effect behind a port. */
export async function monitorWindow(input: MonitorInput, ports: MonitorPorts, io?: Io): Promise<MonitorOutcome> {
  const { profile, source } = await ports.baseline();
  const live = new LiveSummary(profile, input.sketchK);
  const t0 = performance.now();
  const cap = await ports.scan(live, {
    window: input.window,
    signal: input.signal,
    onProgress: (n) => io?.debug(`… ${n.toLocaleString('en-US')} records`),
  });
  const scan = cap.stats;
  const report = evaluateDrift(live, input.drift);
  const elapsedMs = performance.now() - t0;
  const now = ports.now();

  let published = 0;
  if (input.publish && !input.dryRun && ports.metrics) {
    const data = driftMetrics(report, input.endpoint, input.variant).map((d) => ({ ...d, timestamp: now }));
    await ports.metrics.putMetricData(DRIFT_NAMESPACE, data);
    published = data.length;
  }

  const prev = (await ports.state.read()) ?? initialState(input.endpoint, input.variant, now);
  let state = advanceState(
    prev,
    report.dataset,
    now,
    input.window ? { from: new Date(input.window.from).toISOString(), to: new Date(input.window.to).toISOString() } : undefined,
  );
  const due = rollbackDue(state, report.dataset, input.consecutiveWindows);
  let rollback = { due, performed: false, detail: '' };
  if (due && !input.rollback) rollback.detail = 'rollback due but disabled (--no-rollback or monitor.rollback: false)';
  else if (due && input.dryRun) rollback.detail = 'rollback due; --dry-run: not performed';
  else if (due) {
    const reason = `drift in ${state.consecutive} consecutive windows: ${report.dataset.reasons.join('; ')}`;
    const r = await ports.rollback({ endpoint: input.endpoint, variant: input.variant, reason, dryRun: false });
    rollback = { due, performed: r.performed, detail: r.detail };
    if (r.performed) state = afterRollback(state);
  } else if (report.dataset.status === 'drift') {
    rollback.detail = `drifting window ${state.consecutive} of ${input.consecutiveWindows} before rollback`;
  }
  if (!input.dryRun) await ports.state.write(state);

  return {
    ok: report.dataset.status !== 'drift',
    status: report.dataset.status,
    endpoint: input.endpoint,
    variant: input.variant,
    ...(input.window ? { window: { from: new Date(input.window.from).toISOString(), to: new Date(input.window.to).toISOString() } } : {}),
    baseline: source,
    capture: { source: cap.describe, files: cap.files, bytes: cap.bytes, ...scan },
    recordsPerSecond: Math.round(scan.lines / Math.max(elapsedMs / 1000, 1e-6)),
    elapsedMs: Math.round(elapsedMs),
    dataset: report.dataset,
    driftScore: report.dataset.status === 'insufficient-data' ? null : driftScore(report),
    features: report.features,
    consecutive: state.consecutive,
    consecutiveWindows: input.consecutiveWindows,
    rollback,
    metrics: { namespace: DRIFT_NAMESPACE, published },
    violations: constraintViolations(report),
  };
}

// ---- rendering ---------------------------------------------------------------------------------

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2)) : '-');

function rows(o: MonitorOutcome): string[][] {
  return o.features.map((f) => [
    f.name,
    f.role,
    f.kind,
    f.method,
    fmt(f.value),
    (f.method === 'chi2' ? '< ' : '> ') + f.threshold,
    String(f.liveCount),
    f.status + (f.critical ? ' (critical)' : ''),
  ]);
}
const HEAD = ['feature', 'role', 'kind', 'method', 'value', 'drift if', 'live n', 'status'];

function verdictLine(o: MonitorOutcome): string {
  const d = o.dataset;
  if (d.status === 'insufficient-data') return `Insufficient data: ${d.reasons.join('; ')}.`;
  if (d.status === 'no-drift')
    return `No drift: ${d.driftedInputs.length} of ${d.inputFeatures} input features drifted (threshold ${(d.driftedShareThreshold * 100).toFixed(0)}%), no output drift.`;
  return `DRIFT: ${d.reasons.join('; ')}.`;
}

/** The plain-text table for stdout. */
export function renderText(o: MonitorOutcome): string {
  const table = [HEAD, ...rows(o)];
  const widths = HEAD.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [
    `Drift of ${o.endpoint}/${o.variant}${o.window ? ` from ${o.window.from} to ${o.window.to}` : ''} against ${o.baseline}`,
    `${o.capture.records.toLocaleString('en-US')} records (${o.dataset.samples.toLocaleString('en-US')} rows) from ${o.capture.files} file(s)${o.capture.bad ? `, ${o.capture.bad} unreadable` : ''}${o.capture.outsideWindow ? `, ${o.capture.outsideWindow} outside the window` : ''}`,
    '',
    line(HEAD),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows(o).map(line),
    '',
    verdictLine(o),
  ];
  if (o.dataset.status === 'drift')
    out.push(`Consecutive drifting windows: ${o.consecutive} (rollback after ${o.consecutiveWindows}). ${o.rollback.detail}`.trim());
  return out.join('\n');
}

/** The Markdown report (file and step summary). */
export function renderMarkdown(o: MonitorOutcome): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const icon = o.status === 'drift' ? '🔴' : o.status === 'no-drift' ? '🟢' : '⚪';
  const lines = [
    `## ${icon} Drift: ${o.endpoint} / ${o.variant}`,
    '',
    verdictLine(o),
    '',
    `- Window: ${o.window ? `${o.window.from} → ${o.window.to}` : 'all records in the capture files'}`,
    `- Baseline: ${esc(o.baseline)}`,
    `- Records: ${o.capture.records} (${o.dataset.samples} rows; minimum ${o.dataset.minSamples})${o.capture.bad ? `, ${o.capture.bad} unreadable` : ''}`,
    `- Drift score (CloudWatch ${o.metrics.namespace}/DriftScore): ${o.driftScore === null ? 'not published (insufficient data)' : o.driftScore.toFixed(4)}`,
    `- Consecutive drifting windows: ${o.consecutive} of ${o.consecutiveWindows}${o.rollback.detail ? ` — ${esc(o.rollback.detail)}` : ''}`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map(() => '---').join(' | ')} |`,
    ...rows(o).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    `Methods: ${[...new Set(o.features.map((f) => f.method))].map((m) => `${m} = ${METHOD_LABEL[m]}`).join('; ')}.`,
  ];
  return lines.join('\n') + '\n';
}

// ---- wiring ------------------------------------------------------------------------------------

/**
 * The rollback port of the CLI: `mlops rollback`'s rollbackEndpoint for the endpoint the deploy
 * section manages (with its lock and audit record). Monitoring another endpoint, or a config
 * without a deploy section, cannot roll back: that is said plainly rather than skipped.
 */
function cliRollback(ctx: CommandContext, config: Config): RollbackPort {
  return async (req) => {
    if (!config.deploy) {
      throw new UserError(
        'ROLLBACK_NOT_CONFIGURED',
        `Drift passed the guards and a rollback of ${req.endpoint} is due, but the config has no deploy section to roll back with.`,
        {
          hint: 'Add the deploy section (the endpoint `mlops promote` manages), or run with --no-rollback (monitor.rollback: false) to only report.',
        },
      );
    }
    if (config.deploy.endpointName !== req.endpoint) {
      throw new UserError(
        'ROLLBACK_NOT_CONFIGURED',
        `Drift on ${req.endpoint} is due a rollback, but deploy manages ${config.deploy.endpointName}; monitor rolls back only that endpoint.`,
        {
          hint: 'Monitor deploy.endpointName, or run with --no-rollback.',
        },
      );
    }
    const { rollbackPort } = await import('./rollback.js');
    return rollbackPort(ctx)(req);
  };
}

async function loadConfigOrDefaults(ctx: CommandContext): Promise<{ config: Config; root: string }> {
  try {
    const loaded = await ctx.loadConfig();
    return { config: loaded.config, root: loaded.root };
  } catch (e) {
    // monitor works without a config file when everything it needs comes from flags.
    if (e instanceof MlopsError && e.code === 'CONFIG_NOT_FOUND' && !ctx.globals.config)
      return { config: configSchema.parse({}), root: ctx.cwd };
    throw e;
  }
}

async function readProfile(file: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError('BASELINE_NOT_FOUND', `Cannot read the baseline profile ${file}: ${(e as Error).message}`, {
      hint: 'Make one with `mlops profile <holdout file> --out <file>`.',
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError('BASELINE_INVALID', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  const { isModelMonitorStatistics, profileFromModelMonitor } = await import('../core/drift/model-monitor.js');
  if (isModelMonitorStatistics(doc)) return profileFromModelMonitor(doc, { source: { file: path.basename(file) } });
  const problem = profileProblem(doc);
  if (problem)
    throw new UserError('BASELINE_INVALID', `${file} is not an mlops profile: ${problem}.`, {
      hint: 'Make one with `mlops profile <holdout file> --out <file>`.',
    });
  return doc as Profile;
}

async function baselineFromMlflow(config: Config, ctx: CommandContext): Promise<{ profile: Profile; source: string }> {
  const { mlflowFromConfig, isMlflowNotFound } = await import('../adapters/mlflow.js');
  const client = await mlflowFromConfig(config, ctx.env, { signal: ctx.signal });
  const spec = config.compare.baseline;
  let runId: string | undefined;
  let what: string;
  if ('runId' in spec) {
    runId = spec.runId;
    what = `run ${runId}`;
  } else if ('alias' in spec) {
    const model = config.mlflow.registeredModel ?? config.project;
    if (!model)
      throw new UserError(
        'MONITOR_NO_BASELINE',
        'No baseline profile: no --baseline, no monitor.baselineProfile, and no registered model to look up.',
        { hint: 'Pass --baseline FILE, or set mlflow.registeredModel (or project).' },
      );
    const found = await client.getModelVersionByAlias(model, spec.alias);
    if (!found.found)
      throw new UserError(
        'MONITOR_NO_BASELINE',
        `No baseline profile: registered model "${model}" has no version with alias "${spec.alias}" (${found.reason}).`,
        { hint: 'Promote a model first, or pass --baseline FILE.' },
      );
    runId = found.version.runId;
    what = `${model}@${spec.alias} (version ${found.version.version}, run ${runId})`;
  } else {
    throw new UserError('MONITOR_NO_BASELINE', 'monitor can find the baseline profile by compare.baseline alias or runId only.', {
      hint: 'Pass --baseline FILE or set monitor.baselineProfile.',
    });
  }
  if (!runId)
    throw new UserError('MONITOR_NO_BASELINE', `The production model ${what} has no run id to read its profile from.`, {
      hint: 'Pass --baseline FILE.',
    });
  const dir = await mkdtemp(path.join(tmpdir(), 'mlops-profile-'));
  try {
    const dest = path.join(dir, 'profile.json');
    try {
      await client.downloadArtifacts(`runs:/${runId}/${PROFILE_ARTIFACT_PATH}`, dest);
    } catch (e) {
      // A missing artifact is the user's to fix; an unreachable or failing MLflow stays exit 3.
      if (!isMlflowNotFound(e)) throw e;
      throw new UserError(
        'MONITOR_NO_BASELINE',
        `The production model ${what} has no ${PROFILE_ARTIFACT_PATH} artifact: ${(e as Error).message}`,
        {
          hint: '`mlops train` logs it from train.holdout; for older runs make one with `mlops profile` and pass --baseline.',
          cause: e,
        },
      );
    }
    return { profile: await readProfile(dest), source: `${PROFILE_ARTIFACT_PATH} of ${what}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseTime(v: unknown, flag: string): number {
  const t = Date.parse(String(v));
  if (Number.isNaN(t))
    throw new UserError('BAD_OPTION', `${flag} ${String(v)} is not a date-time.`, { hint: 'Use ISO 8601, e.g. 2026-11-26T10:00:00Z.' });
  return t;
}

function localStateStore(file: string, endpoint: string, variant: string): MonitorStateStore {
  return {
    describe: file,
    async read() {
      try {
        const s = JSON.parse(await readFile(file, 'utf8')) as MonitorState;
        return s.endpoint === endpoint && s.variant === variant ? s : undefined;
      } catch {
        return undefined;
      }
    },
    async write(state) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(state, null, 2) + '\n');
    },
  };
}

export const run: CommandRun<'monitor'> = async (ctx, _args, opts) => {
  const { config, root } = await loadConfigOrDefaults(ctx);
  const m = config.monitor;
  const captureDirs = (opts.captureDir as string[] | undefined)?.map((p) => path.resolve(ctx.cwd, p));
  const local = Boolean(captureDirs?.length);
  const endpoint = (opts.endpoint as string | undefined) ?? m.endpoint ?? config.deploy?.endpointName ?? (local ? 'local' : undefined);
  if (!endpoint)
    throw new UserError('MONITOR_NO_ENDPOINT', 'No endpoint to monitor.', {
      hint: 'Pass --endpoint, or set monitor.endpoint or deploy.endpointName.',
    });
  const variant = (opts.variant as string | undefined) ?? m.variant ?? config.deploy?.variantName ?? 'AllTraffic';
  const dryRun = Boolean(opts.dryRun);
  const now = new Date();

  // Window: --from/--to, else --since, else (S3) monitor.window; local files without flags: every record.
  let window: { from: number; to: number } | undefined;
  const to = opts.to !== undefined ? parseTime(opts.to, '--to') : now.getTime();
  if (opts.from !== undefined) window = { from: parseTime(opts.from, '--from'), to };
  else if (opts.since !== undefined || !local || opts.to !== undefined) {
    let span: number;
    try {
      span = durationMs((opts.since as string | undefined) ?? m.window);
    } catch (e) {
      throw new UserError('BAD_OPTION', (e as Error).message, { hint: '--since takes a duration like 30m, 1h, 1d.' });
    }
    window = { from: to - span, to };
  }
  if (window && !(window.from < window.to)) throw new UserError('BAD_OPTION', `The window is empty: --from must be before --to.`);

  const needAws = !local || (m.publish && opts.publish !== false && !dryRun) || Boolean(m.stateUri ?? config.deploy?.state.uri);
  const aws = needAws ? await import('../adapters/aws.js') : undefined;
  const settings = aws ? aws.awsSettings(config, ctx.env) : undefined;

  const baselineFile = (opts.baseline as string | undefined)
    ? path.resolve(ctx.cwd, String(opts.baseline))
    : m.baselineProfile
      ? path.resolve(root, m.baselineProfile)
      : undefined;

  // Capture source: local files, or the window's hour prefixes in S3.
  const scan: MonitorPorts['scan'] = async (live, o) => {
    const src = await import('../adapters/capture-source.js');
    if (local) {
      const files = await src.localCaptureFiles(captureDirs!);
      const stats = await src.scanCapture({ kind: 'local', files }, live, { ...o, workers: m.workers || undefined });
      return { stats, files: files.length, bytes: files.reduce((s, f) => s + (f.size ?? 0), 0), describe: captureDirs!.join(', ') };
    }
    const dest = m.capture ?? config.deploy?.dataCapture.destination;
    if (!dest)
      throw new UserError('MONITOR_NO_CAPTURE', 'No data-capture location.', {
        hint: 'Set monitor.capture or deploy.dataCapture.destination, or pass --capture-dir.',
      });
    const { parseS3Uri } = await import('../adapters/s3-store.js');
    const loc = parseS3Uri(dest);
    const client = await aws!.s3Client(settings!);
    const objects = await src.listCaptureObjects({
      client,
      bucket: loc.bucket,
      prefix: loc.prefix,
      endpoint,
      variants: [variant],
      window: window!,
      signal: ctx.signal,
    });
    const stats = await src.scanCapture({ kind: 's3', settings: settings!, objects }, live, {
      ...o,
      s3: client,
      workers: m.workers || undefined,
    });
    return {
      stats,
      files: objects.length,
      bytes: objects.reduce((s, f) => s + (f.size ?? 0), 0),
      describe: `${dest.replace(/\/$/, '')}/${endpoint}/${variant}/`,
    };
  };

  // State store: S3 next to the deployment state, else a local file.
  const stateUri = m.stateUri ?? config.deploy?.state.uri;
  let state: MonitorStateStore;
  if (stateUri) {
    const { parseS3Uri, joinKey, s3Store } = await import('../adapters/s3-store.js');
    const loc = parseS3Uri(stateUri);
    const key = joinKey(loc.prefix, `${endpoint}/monitor-state.json`);
    const store = await s3Store(await aws!.s3Client(settings!));
    state = {
      describe: `s3://${loc.bucket}/${key}`,
      async read() {
        const got = await store.getJson<MonitorState>(loc.bucket, key);
        return got && got.value.variant === variant ? got.value : undefined;
      },
      async write(s) {
        await store.putJson(loc.bucket, key, s);
      },
    };
  } else {
    state = localStateStore(path.resolve(ctx.cwd, '.mlops', `monitor-state.${endpoint}.${variant}.json`), endpoint, variant);
  }

  const publish = m.publish && opts.publish !== false;
  const metrics =
    publish && !dryRun
      ? await (await import('../adapters/cloudwatch.js')).cloudWatchMetrics(await aws!.cloudWatchClient(settings!))
      : undefined;

  const ports: MonitorPorts = {
    baseline: async () =>
      baselineFile
        ? { profile: await readProfile(baselineFile), source: path.relative(ctx.cwd, baselineFile) || baselineFile }
        : baselineFromMlflow(config, ctx),
    scan,
    metrics,
    state,
    rollback: cliRollback(ctx, config),
    now: () => now,
  };

  const spinner = await ctx.io.spinner(
    `Reading capture data of ${endpoint}/${variant}${window ? ` (${formatDuration(window.to - window.from)} window)` : ''}`,
  );
  let outcome: MonitorOutcome;
  try {
    outcome = await monitorWindow(
      {
        endpoint,
        variant,
        window,
        drift: {
          numericMethod: m.numericMethod,
          categoricalMethod: m.categoricalMethod,
          ksRobust: m.ksRobust,
          features: m.features,
          minSamples: m.minSamples,
          driftedShare: m.driftedShare,
          outputDrift: m.outputDrift,
        },
        sketchK: m.sketchK,
        consecutiveWindows: m.consecutiveWindows,
        rollback: m.rollback && opts.rollback !== false,
        publish,
        dryRun,
        signal: ctx.signal,
      },
      ports,
      ctx.io,
    );
    spinner.succeed(
      `Read ${outcome.capture.records.toLocaleString('en-US')} records in ${formatDuration(outcome.elapsedMs)} (${outcome.recordsPerSecond.toLocaleString('en-US')}/s)`,
    );
  } catch (e) {
    spinner.fail('Drift check failed');
    if (ctx.signal.aborted && !(e instanceof MlopsError))
      throw new InterruptedError('Interrupted while reading capture data; nothing was published or rolled back.');
    throw e;
  }

  for (const b of outcome.capture.badExamples) ctx.io.warn(`unreadable capture line: ${b}`);
  if (outcome.capture.files === 0) ctx.io.warn(`no capture files found in ${outcome.capture.source}`);
  const violationsFile = path.resolve(ctx.cwd, (opts.violations as string | undefined) ?? path.resolve(root, m.violations));
  const reportFile = path.resolve(ctx.cwd, (opts.report as string | undefined) ?? path.resolve(root, m.report));
  const markdown = renderMarkdown(outcome);
  await mkdir(path.dirname(violationsFile), { recursive: true });
  await writeFile(violationsFile, JSON.stringify(outcome.violations, null, 2) + '\n');
  await mkdir(path.dirname(reportFile), { recursive: true });
  await writeFile(reportFile, markdown);
  ctx.io.stepSummary(markdown);
  if (outcome.metrics.published)
    ctx.io.debug(`published ${outcome.metrics.published} data points to CloudWatch namespace ${outcome.metrics.namespace}`);
  if (outcome.rollback.performed) ctx.io.warn(`rolled back ${endpoint}: ${outcome.rollback.detail}`);
  else if (outcome.rollback.due) ctx.io.warn(outcome.rollback.detail);

  const data = { ...outcome, violationsFile, reportFile, stateFile: state.describe };
  return { data, text: renderText(outcome), exitCode: outcome.status === 'drift' ? 1 : 0 };
};
