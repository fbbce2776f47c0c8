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
import { ExternalError, InterruptedError, MlopsError, UserError } from '../core/errors.js';
import type { CommandContext, CommandRun } from '../cli/context.js';
import { configSchema, type Config } from '../config/schema.js';
import { monitorRollbackPort } from '../app/deploy.js';
import { gateAudit } from '../app/gate-audit.js';
import { durationFlagMs, durationMs, formatDuration } from '../core/duration.js';
import { PROFILE_ARTIFACT_PATH, profileProblem, type Profile } from '../core/drift/profile.js';
import { monitorStateProblem, type MonitorState } from '../core/drift/windows.js';
import { monitorWindow, type MonitorOutcome } from '../core/monitor.js';
import { renderMarkdown, renderText } from '../core/monitor-report.js';
import type { MonitorPorts, MonitorStateStore } from '../core/ports.js';
import { productionModel } from '../core/production-model.js';

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
    let model: string;
    try {
      model = productionModel(config).registeredModel;
    } catch (e) {
      throw new UserError(
        'MONITOR_NO_BASELINE',
        'No baseline profile: no --baseline, no monitor.baselineProfile, and no registered model to look up.',
        { hint: 'Pass --baseline FILE, or set mlflow.registeredModel (or project).', cause: e },
      );
    }
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
        // A local count is a convenience: an unreadable file starts the count again.
        const s = JSON.parse(await readFile(file, 'utf8')) as unknown;
        if (monitorStateProblem(s)) return undefined;
        const state = s as MonitorState;
        return state.endpoint === endpoint && state.variant === variant ? state : undefined;
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
  const captureDirs = opts.captureDir?.map((p) => path.resolve(ctx.cwd, p));
  const local = Boolean(captureDirs?.length);
  // Local capture is listed now, and the scan's worker threads start while the config and the
  // baseline load; a listing error is reported when the scan needs the files, as before.
  const listing = local
    ? import('../adapters/capture-source.js').then(async (src) => ({ src, files: await src.localCaptureFiles(captureDirs!) }))
    : undefined;
  listing?.catch(() => undefined);
  const { config, root } = await loadConfigOrDefaults(ctx);
  const m = config.monitor;
  listing?.then(({ src, files }) => src.warmScanWorkers(files, { workers: m.workers || undefined })).catch(() => undefined);
  const endpoint = opts.endpoint ?? m.endpoint ?? config.deploy?.endpointName ?? (local ? 'local' : undefined);
  if (!endpoint)
    throw new UserError('MONITOR_NO_ENDPOINT', 'No endpoint to monitor.', {
      hint: 'Pass --endpoint, or set monitor.endpoint or deploy.endpointName.',
    });
  const variant = opts.variant ?? m.variant ?? config.deploy?.variantName ?? 'AllTraffic';
  const dryRun = Boolean(opts.dryRun);
  const now = new Date();

  // Window: --from/--to, else --since, else (S3) monitor.window; local files without flags: every record.
  let window: { from: number; to: number } | undefined;
  if (opts.since !== undefined && opts.from !== undefined) {
    throw new UserError('BAD_OPTION', '--since and --from both set where the window starts: give one of them.', {
      hint: '--since 1h for the last hour, or --from (and --to) for fixed times.',
    });
  }
  const to = opts.to !== undefined ? parseTime(opts.to, '--to') : now.getTime();
  if (opts.from !== undefined) window = { from: parseTime(opts.from, '--from'), to };
  else if (opts.since !== undefined || !local || opts.to !== undefined) {
    const span = opts.since !== undefined ? durationFlagMs('--since', opts.since, '1h') : durationMs(m.window);
    window = { from: to - span, to };
  }
  if (window && !(window.from < window.to)) throw new UserError('BAD_OPTION', `The window is empty: --from must be before --to.`);

  const needAws = !local || (m.publish && opts.publish !== false && !dryRun) || Boolean(m.stateUri ?? config.deploy?.state.uri);
  const aws = needAws ? await import('../adapters/aws.js') : undefined;
  const settings = aws ? aws.awsSettings(config, ctx.env) : undefined;

  const baselineFile = opts.baseline
    ? path.resolve(ctx.cwd, String(opts.baseline))
    : m.baselineProfile
      ? path.resolve(root, m.baselineProfile)
      : undefined;

  // Capture source: local files, or the window's hour prefixes in S3.
  const scan: MonitorPorts['scan'] = async (live, o) => {
    if (listing) {
      const { src, files } = await listing;
      const stats = await src.scanCapture({ kind: 'local', files }, live, { ...o, workers: m.workers || undefined });
      return { stats, files: files.length, bytes: files.reduce((s, f) => s + (f.size ?? 0), 0), describe: captureDirs!.join(', ') };
    }
    const dest = m.capture ?? config.deploy?.dataCapture.destination;
    if (!dest)
      throw new UserError('MONITOR_NO_CAPTURE', 'No data-capture location.', {
        hint: 'Set monitor.capture or deploy.dataCapture.destination, or pass --capture-dir.',
      });
    const src = await import('../adapters/capture-source.js');
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
        const got = await store.getJson<unknown>(loc.bucket, key);
        if (!got) return undefined;
        const problem = monitorStateProblem(got.value);
        if (problem) {
          throw new ExternalError('MONITOR_STATE_INVALID', `The monitor state s3://${loc.bucket}/${key} is not valid: ${problem}.`, {
            hint: `Delete it (\`aws s3 rm s3://${loc.bucket}/${key}\`) or restore its previous version: the drifting-window count then starts again at 0.`,
          });
        }
        const value = got.value as MonitorState;
        return value.variant === variant ? value : undefined;
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
    rollback: monitorRollbackPort(ctx, config),
    audit: gateAudit(ctx, config, endpoint),
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
  const violationsFile = path.resolve(ctx.cwd, opts.violations ?? path.resolve(root, m.violations));
  const reportFile = path.resolve(ctx.cwd, opts.report ?? path.resolve(root, m.report));
  const markdown = renderMarkdown(outcome);
  const { failureWithResult, writeReportFile } = await import('../adapters/report-file.js');
  const notWritten =
    (await writeReportFile(violationsFile, JSON.stringify(outcome.violations, null, 2) + '\n', { what: 'constraint violations' })) ??
    (await writeReportFile(reportFile, markdown));
  ctx.io.stepSummary(markdown);
  if (outcome.metrics.published)
    ctx.io.debug(`published ${outcome.metrics.published} data points to CloudWatch namespace ${outcome.metrics.namespace}`);
  if (outcome.rollback.performed) ctx.io.warn(`rolled back ${endpoint}: ${outcome.rollback.detail}`);
  else if (outcome.rollback.due) ctx.io.warn(outcome.rollback.detail);

  const data = { ...outcome, violationsFile, reportFile, stateFile: state.describe };
  if (notWritten) {
    // The verdict (and any rollback) stands: print it, then fail for the file.
    if (!ctx.io.json) ctx.io.result(data, renderText(outcome));
    throw failureWithResult(notWritten, data);
  }
  return { data, text: renderText(outcome), exitCode: outcome.status === 'drift' ? 1 : 0 };
};
