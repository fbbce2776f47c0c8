/**
 * `mlops train`: creates the MLflow run itself (tagged with git, data, config and CI facts), runs
 * the training command into it, and marks it FINISHED / FAILED / KILLED. Whatever happens (exit,
 * non-zero exit, timeout, SIGINT/SIGTERM, an error in mlops itself) the run is never left RUNNING:
 * the final status is set in a `finally`.
 *
 * Exit codes: 0 trained and every required metric logged; 3 the training command failed (its own
 * exit code is in the message, the `--json` error details and the run's tag
 * `mlops.train.exit_code`), could not start, timed out, or did not log a required metric, or
 * MLflow failed; 2 bad config; 130 interrupted (SIGINT/SIGTERM, forwarded to the command).
 *
 * Two backends behind one port (core/training.ts): the local process (train.command) and a
 * SageMaker Training Job (train.sagemaker); the run, its tags, status, required metrics and record
 * are the same code for both. A failed job exits 3 with its FailureReason and last log lines.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandRun } from '../cli/context.js';
import { ExternalError, InterruptedError, UserError } from '../core/errors.js';
import { durationFlagMs, durationMs, formatDuration } from '../core/duration.js';
import { LAST_RUN_FILE, type LastRun } from '../core/last-run.js';
import { buildRunTags, missingMetrics, requiredMetrics, TAG } from '../core/run-tags.js';
import type { TrainerPort, TrainingOutcome } from '../core/training.js';
import type { Config } from '../config/schema.js';
import { trainingOutputPath } from '../config/derived.js';
import { formatCommand } from '../adapters/process.js';

type FinalStatus = 'FINISHED' | 'FAILED' | 'KILLED';

async function packageVersion(): Promise<string> {
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version;
}

export const run: CommandRun<'train'> = async (ctx, args, opts) => {
  const { config, root, fileHash } = await ctx.loadConfig();
  const { closeRunsOfDeadMlops, mlflowFromConfig, trackingUriFrom, safeUri } = await import('../adapters/mlflow.js');

  const backend = opts.attach ? 'sagemaker' : (opts.backend ?? config.train.backend);
  if (backend === 'sagemaker' && args.length) {
    throw new UserError(
      'TRAIN_COMMAND_WITH_SAGEMAKER',
      'A training command after -- runs locally; the SageMaker backend runs train.sagemaker.entryPoint.',
      {
        hint: 'Drop the command, or pass --backend local.',
      },
    );
  }
  const command = args.length ? args : config.train.command;
  const timeoutMs = opts.timeout !== undefined ? durationFlagMs('--timeout', opts.timeout, '45m', true) : durationMs(config.train.timeout);
  const experimentName = config.mlflow.experiment ?? config.project ?? path.basename(root);
  const trackingUri = trackingUriFrom(config, ctx.env);
  const required = requiredMetrics(config.compare.gates, config.train.requiredMetrics);

  const [{ readGitInfo }, { detectCi }, { readDataVersion }] = await Promise.all([
    import('../adapters/git.js'),
    import('../adapters/ci.js'),
    import('../adapters/dvc.js'),
  ]);
  const [git, data, version] = await Promise.all([readGitInfo(root, ctx.env), readDataVersion(root), packageVersion()]);
  const ci = detectCi(ctx.env);
  // Of the config as written, before ${VAR} interpolation: a secret must not change the tag (see hashConfigValue).
  const configHash = fileHash ?? (await import('../config/load.js')).hashConfigValue(config);
  const script = command.find((a, i) => i > 0 && /\.(py|R|r|jl|sh|ipynb)$/.test(a));
  const tags = buildRunTags({
    git,
    ci,
    dataVersion: data.version,
    configHash,
    project: config.project,
    command: formatCommand(command),
    mlopsVersion: version,
    sourceName: script,
    owner: { pid: process.pid, host: hostname() },
  });

  const holdout = path.resolve(root, config.train.holdout);
  let trainer: TrainerPort;
  let job: Awaited<ReturnType<typeof import('../adapters/sagemaker-training.js').sageMakerTrainer>> | undefined;
  if (backend === 'sagemaker') {
    const [{ sageMakerTrainer }, { awsSettings }] = await Promise.all([
      import('../adapters/sagemaker-training.js'),
      import('../adapters/aws.js'),
    ]);
    job = await sageMakerTrainer({
      root,
      job: sageMakerJob(
        config,
        opts.attach
          ? `--attach ${opts.attach} watches a SageMaker training job`
          : opts.backend
            ? `--backend ${opts.backend} trains on SageMaker`
            : 'train.backend is sagemaker',
      ),
      commandScript: script,
      project: config.project,
      dvcOutputs: data.outputs,
      holdoutFile: holdout,
      settings: awsSettings(config, ctx.env),
      env: ctx.env,
      io: ctx.io,
      attach: opts.attach,
    });
    trainer = job;
  } else {
    const { localTrainer } = await import('../adapters/local-trainer.js');
    trainer = localTrainer({ command, root, env: ctx.env, holdout: config.train.holdout, io: ctx.io });
  }
  try {
    return await trainWith(trainer, job?.jobName);
  } finally {
    job?.close();
  }

  async function trainWith(trainer: TrainerPort, jobName: string | undefined) {
    if (opts.dryRun) {
      ctx.io.info(`would create a run in experiment "${experimentName}" at ${safeUri(trackingUri)} with tags:`);
      for (const [k, v] of Object.entries(tags)) ctx.io.info(`  ${k} = ${v}`);
      for (const line of trainer.plan(formatDuration(timeoutMs))) ctx.io.info(line);
      ctx.io.info(`would require metrics: ${required.join(', ') || '(none)'}`);
      return {
        data: {
          dryRun: true,
          experimentName,
          trackingUri: safeUri(trackingUri),
          command,
          cwd: root,
          timeoutMs,
          tags,
          requiredMetrics: required,
          backend,
          ...(jobName ? { trainingJob: jobName } : {}),
        },
        text: formatCommand(command),
      };
    }
    if (!git.available) ctx.io.warn('Not a git repository (or git is missing): the run gets no commit, branch or dirty tags.');
    else if (git.dirty) ctx.io.warn('The git work tree has uncommitted changes: the run is tagged mlops.git.dirty=true.');
    if (!data.version) ctx.io.warn('No dvc.lock or *.dvc file found: the run gets no data version tag.');

    // No abort signal on this client: after Ctrl-C we still have to mark the run KILLED.
    const mlflow = await mlflowFromConfig(config, ctx.env, {
      onRetry: (r) => ctx.io.debug(`MLflow ${r.endpoint}: ${r.reason}; retry ${r.attempt} in ${r.delayMs}ms`),
    });
    let experimentId = await mlflow.getOrCreateExperiment(experimentName);
    // An attached job carries its run: this mlops owns it from now on, before dead owners' runs are closed below.
    const attached = opts.attach && job ? await job.attachedRun() : undefined;
    if (attached) {
      experimentId = attached.experimentId ?? experimentId;
      await mlflow.logBatch(attached.runId, { tags: { [TAG.pid]: String(process.pid), [TAG.host]: hostname() } });
      // Marked KILLED meanwhile by another mlops that found its first owner gone: it runs again while watched.
      await mlflow.updateRun({ runId: attached.runId, status: 'RUNNING' });
      ctx.io.info(`Attached to the training job ${opts.attach} (${attached.status}).`);
    }
    for (const orphan of await closeRunsOfDeadMlops(mlflow, experimentId)) {
      ctx.io.warn(
        `The run ${orphan.info.runId} was left RUNNING by an mlops that is gone (pid ${orphan.data.tags[TAG.pid]}, killed?); it is now marked KILLED.`,
      );
    }
    if (ctx.signal.aborted) throw new InterruptedError('Interrupted before the run was created.');
    const startedAt = new Date();
    const runId = attached?.runId ?? (await mlflow.createRun({ experimentId, startTime: startedAt.getTime(), tags })).info.runId;
    const runUrl = mlflow.runUrl(runId, experimentId);
    ctx.io.info(`MLflow run ${runId} (experiment "${experimentName}"): ${runUrl}`);

    // Listening on `hurry` keeps a second Ctrl-C from exiting before the run is marked KILLED.
    const onHurry = () => ctx.io.info(`Stopping now; marking the run ${runId} KILLED first (a third Ctrl-C quits at once).`);
    ctx.hurry?.addEventListener('abort', onHurry, { once: true });

    let final: FinalStatus = 'FAILED';
    let failureTag: string | undefined = 'mlops-error';
    let proc: TrainingOutcome | undefined;
    let finalized = false;
    let recordError: ExternalError | undefined;
    const { failureWithResult, writeReportFile } = await import('../adapters/report-file.js');
    const finalize = async () => {
      if (finalized) return;
      finalized = true;
      const endedAt = new Date();
      const extra: Record<string, string> = { [TAG.outcome]: final };
      if (proc?.exitCode !== undefined) extra[TAG.exitCode] = String(proc.exitCode);
      if (failureTag) extra[TAG.failure] = failureTag;
      try {
        await mlflow.logBatch(runId, {
          tags: { ...proc?.tags, ...extra },
          metrics: Object.entries(proc?.metrics ?? {}).map(([key, value]) => ({ key, value })),
        });
      } catch (err) {
        ctx.io.warn(`could not tag the run's outcome: ${(err as Error).message}`);
      }
      await mlflow.updateRun({ runId, status: final, endTime: endedAt.getTime() });
      const record: LastRun = {
        runId,
        experimentId,
        experimentName,
        trackingUri: safeUri(trackingUri),
        runUrl,
        status: final,
        startedAt: startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        modelUri: `runs:/${runId}/model`,
        gitCommit: tags[TAG.gitCommit],
        dataVersion: data.version,
        configHash,
      };
      const file = path.join(root, LAST_RUN_FILE);
      const notWritten = await writeReportFile(file, JSON.stringify(record, null, 2) + '\n', { atomic: true, what: 'run record' });
      if (notWritten) {
        recordError = new ExternalError(
          'LAST_RUN_NOT_WRITTEN',
          `The run ${runId} is ${final}, but ${notWritten.message.replace(/^C/, 'c')}`,
          {
            hint: `Make ${path.dirname(file)} a writable folder, or pass the run to the next step explicitly (\`mlops compare --run ${runId}\`).`,
            details: { runId, status: final, file },
            cause: notWritten,
          },
        );
        throw recordError;
      }
      return record;
    };

    try {
      if (ctx.signal.aborted) {
        final = 'KILLED';
        failureTag = 'interrupted';
        throw new InterruptedError('Interrupted before training started; the run is marked KILLED.');
      }
      proc = await trainer.train({ runId, experimentId, experimentName, trackingUri }, { signal: ctx.signal, hurry: ctx.hurry, timeoutMs });
      const took = formatDuration(proc.durationMs);
      const where = jobName ? `the training job ${jobName} was stopped and ` : '';

      if (proc.kind === 'interrupted') {
        final = 'KILLED';
        failureTag = 'interrupted';
        throw new InterruptedError(`Training interrupted after ${took}; ${where}the run ${runId} is marked KILLED.`);
      }
      if (proc.kind === 'timed-out') {
        final = 'KILLED';
        failureTag = 'timeout';
        const limit = proc.failureReason
          ? `its ${proc.failureReason === 'MaxWaitTimeExceeded' ? 'train.sagemaker.spot.maxWait' : 'train.sagemaker.maxRuntime'} (${proc.failureReason})`
          : formatDuration(timeoutMs);
        throw new ExternalError(
          'TRAIN_TIMEOUT',
          `Training did not finish within ${limit} and was ${jobName ? 'stopped' : 'killed'}; the run ${runId} is marked KILLED.`,
          {
            hint: 'Raise train.timeout in mlops.config.yaml (or pass --timeout), or make training faster.',
            details: { runId, timeoutMs, ...(jobName ? { trainingJob: jobName } : {}) },
          },
        );
      }
      if (proc.kind === 'not-found') {
        failureTag = 'command-not-found';
        // EACCES: it exists but cannot be run (a script without +x, a folder), so PATH is not the fix.
        const denied = proc.spawnError === 'EACCES';
        throw new ExternalError(
          'TRAIN_COMMAND_NOT_FOUND',
          `Cannot run the training command: \`${command[0]}\` ${denied ? 'cannot be executed' : 'was not found'} (${proc.spawnError}).`,
          {
            hint: denied
              ? `Make it executable (chmod +x ${command[0]}) or run it through its interpreter in train.command, e.g. [python, ${command[0]}].`
              : `Check train.command in mlops.config.yaml and that \`${command[0]}\` is on PATH (e.g. activate the virtual environment).`,
            details: { runId, command },
          },
        );
      }
      if (proc.kind === 'failed' && jobName) {
        failureTag = 'job-failed';
        const tail = proc.output ? `\nLast log lines:\n${proc.output.split('\n').slice(-10).join('\n')}` : '';
        throw new ExternalError(
          'TRAIN_JOB_FAILED',
          `The training job ${jobName} failed after ${took}: ${proc.failureReason ?? 'no FailureReason'}; the run ${runId} is marked FAILED.${tail}`,
          {
            hint:
              missingModuleHint(proc.output) ??
              'Its logs are above (CloudWatch Logs group /aws/sagemaker/TrainingJobs). Fix the script and run `mlops train` again.',
            details: { runId, trainingJob: jobName, failureReason: proc.failureReason },
          },
        );
      }
      if (proc.kind === 'failed') {
        failureTag = proc.signal ? 'killed' : 'exit-code';
        const how = proc.signal ? `was killed by ${proc.signal}` : `exited with code ${proc.exitCode}`;
        throw new ExternalError('TRAIN_FAILED', `The training command ${how} after ${took}; the run ${runId} is marked FAILED.`, {
          hint: missingModuleHint(proc.output) ?? 'Its output is above. Fix the script and run `mlops train` again.',
          details: { runId, exitCode: proc.exitCode, signal: proc.signal },
        });
      }

      const logged = await mlflow.getRun(runId);
      const missing = missingMetrics(required, logged?.data.metrics ?? {});
      if (missing.length) {
        failureTag = 'missing-metrics';
        throw new ExternalError(
          'TRAIN_METRICS_MISSING',
          `The training run did not log ${missing.length === 1 ? 'the metric' : 'the metrics'} ${missing.map((m) => `"${m}"`).join(', ')}, which ${
            missing.length === 1 ? 'is' : 'are'
          } required (compare.gates / train.requiredMetrics); the run ${runId} is marked FAILED.`,
          {
            hint: 'Log it from the script into the run in MLFLOW_RUN_ID, e.g. `mlflow.log_metric("accuracy", acc)` inside `mlflow.start_run(run_id=os.environ["MLFLOW_RUN_ID"])`, or fix the metric name in the config.',
            details: { runId, missing, logged: Object.keys(logged?.data.metrics ?? {}) },
          },
        );
      }

      await logHoldoutProfile(ctx, mlflow, runId, holdout);

      final = 'FINISHED';
      failureTag = undefined;
      const metrics = logged?.data.metrics ?? {};
      const record = await finalize().catch((err: unknown) => {
        // The run is FINISHED; only the record for the next step is missing: print the result, then fail.
        if (!recordError || err !== recordError) throw err;
        const result = { runId, experimentId, status: final, durationMs: proc!.durationMs, metrics, tags };
        if (!ctx.io.json) ctx.io.result(result, runId);
        throw failureWithResult(recordError, result);
      });
      ctx.io.success(`Training finished in ${took}; run ${runId} is FINISHED (${required.length} required metric(s) logged).`);
      return {
        data: { ...record!, durationMs: proc.durationMs, metrics, tags },
        text: runId,
      };
    } finally {
      // Every way out (success returned above, a thrown error, a bug) sets the final status once.
      if (!finalized) {
        try {
          await finalize();
        } catch (err) {
          if (recordError && err === recordError) ctx.io.error(recordError.message, recordError.hint);
          else
            ctx.io.error(`could not mark the MLflow run ${runId} ${final}: ${(err as Error).message}`, 'Set its status in the MLflow UI.');
        }
      }
      ctx.hurry?.removeEventListener('abort', onHurry);
    }
  }
};

/**
 * train.sagemaker with the role and output path resolved (defaults from deploy); bad input is a
 * UserError. `chosenBy` says what asked for SageMaker (a flag, or train.backend).
 */
function sageMakerJob(config: Config, chosenBy: string) {
  const sm = config.train.sagemaker;
  if (!sm) {
    throw new UserError('TRAIN_NO_SAGEMAKER_CONFIG', `${chosenBy}, but the config has no train.sagemaker section.`, {
      hint: 'Add train.sagemaker with at least image (a SageMaker framework image, e.g. the scikit-learn one).',
    });
  }
  const role = sm.role ?? config.deploy?.executionRoleArn;
  if (!role) {
    throw new UserError(
      'TRAIN_NO_ROLE',
      'The SageMaker training job needs an execution role: set train.sagemaker.role (or deploy.executionRoleArn).',
    );
  }
  const outputPath = trainingOutputPath(config);
  if (!outputPath) {
    throw new UserError(
      'TRAIN_NO_OUTPUT_PATH',
      'The SageMaker training job needs an S3 location: set train.sagemaker.outputPath (or deploy.artifacts).',
    );
  }
  return { ...sm, role, outputPath };
}

/**
 * Profiles the holdout file the script wrote (train.holdout) and logs it as the run artifact
 * mlops/profile.json: the drift baseline `mlops monitor` reads from the production model's run.
 * Columns named `prediction` are the model's outputs, `target`/`label` the label. Best effort: a
 * missing or unreadable holdout is a warning (monitor then needs --baseline), not a failed run.
 */
async function logHoldoutProfile(
  ctx: Parameters<CommandRun<'train'>>[0],
  mlflow: {
    uploadArtifact(runId: string, p: string, c: string, t?: string): Promise<void>;
    setTag(runId: string, k: string, v: string): Promise<void>;
  },
  runId: string,
  file: string,
): Promise<void> {
  const [{ profileFile }, { PROFILE_ARTIFACT_PATH }] = await Promise.all([
    import('../adapters/profile-file.js'),
    import('../core/drift/profile.js'),
  ]);
  let header: string[];
  try {
    const fh = await (await import('node:fs/promises')).open(file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      header = buf
        .subarray(0, bytesRead)
        .toString('utf8')
        .split(/\r?\n/)[0]
        .split(',')
        .map((c) => c.trim().replace(/^"|"$/g, ''));
    } finally {
      await fh.close();
    }
  } catch {
    ctx.io.warn(
      `The training command wrote no holdout file ${file} (train.holdout): this run has no drift baseline for \`mlops monitor\`.`,
    );
    return;
  }
  try {
    const profile = await profileFile(file, {
      outputs: header.filter((c) => c === 'prediction'),
      labels: header.filter((c) => c === 'target' || c === 'label'),
      signal: ctx.signal,
    });
    await mlflow.uploadArtifact(runId, PROFILE_ARTIFACT_PATH, JSON.stringify(profile), 'application/json');
    await mlflow.setTag(runId, TAG.profile, PROFILE_ARTIFACT_PATH);
    ctx.io.info(`Drift baseline: profile of ${path.basename(file)} (${profile.rows} rows) logged as ${PROFILE_ARTIFACT_PATH}.`);
  } catch (err) {
    ctx.io.warn(`Could not profile the holdout ${file}: ${(err as Error).message}. \`mlops monitor\` will need --baseline for this model.`);
  }
}

/** A hint for a training script whose Python lacks a package (its output ends in ModuleNotFoundError). */
export function missingModuleHint(output: string): string | undefined {
  const name = /ModuleNotFoundError: No module named '([^']+)'/.exec(output)?.[1];
  if (!name) return undefined;
  return (
    `The Python that ran the script has no module "${name}": install the project's requirements into it ` +
    '(`python -m pip install -r requirements.txt`; after `eval "$(npx mlops sandbox env)"` that Python is the sandbox\'s), ' +
    "or point train.command at your own environment's python (e.g. [.venv/bin/python, src/train.py])."
  );
}
