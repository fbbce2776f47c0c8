/**
 * The SageMaker backend of `mlops train`: packs the git-tracked training code as the script-mode
 * source archive, uploads each input channel's DVC data once per content version, creates the
 * training job with the MLflow run in its environment, and watches it: secondary status
 * transitions and CloudWatch Logs to stderr, StopTrainingJob on Ctrl-C or the timeout, and the
 * outcome (FailureReason, log tail, billable seconds, spot savings) for the run.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Channel, DescribeTrainingJobCommandOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { TrainSageMakerConfig } from '../config/schema.js';
import { durationMs } from '../core/duration.js';
import { UserError } from '../core/errors.js';
import { joinKey, parseS3Uri } from '../core/s3-uri.js';
import {
  channelVersion,
  scriptModeHyperparameters,
  spotSavingsPercent,
  trainingJobName,
  type TrainerPort,
  type TrainingOutcome,
  type TrainingRun,
  type TrainOptions,
} from '../core/training.js';
import { awsErrorName, awsFailure, type AwsSettings } from './aws.js';
import { tarGzDirectory } from './model-package.js';
import { runProcess } from './process.js';
import { sleep } from './clock.js';

/** Where progress goes (the CLI's Io fits). */
export interface TrainingProgress {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  passthrough(text: string): void;
}

export interface SageMakerTrainerOptions {
  root: string;
  /** train.sagemaker, with role and outputPath already resolved. */
  job: TrainSageMakerConfig & { role: string; outputPath: string };
  /** The script in train.command, used when train.sagemaker.entryPoint is not set. */
  commandScript?: string;
  project?: string;
  /** DVC outputs (path relative to root -> content hash), from dvc.lock and *.dvc files. */
  dvcOutputs: Record<string, string>;
  /** Where the holdout the job wrote (SM_OUTPUT_DATA_DIR) is put for the drift profile. */
  holdoutFile: string;
  settings: AwsSettings;
  env: Record<string, string | undefined>;
  io: TrainingProgress;
  /** An existing job to watch instead of creating one (`train --attach`). */
  attach?: string;
}

const LOG_GROUP = '/aws/sagemaker/TrainingJobs';
const TAIL_LINES = 30;
const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

/** The SageMaker trainer, and (for --attach) the run the job logs into. */
export interface SageMakerTrainer extends TrainerPort {
  jobName: string;
  /** The MLflow run of an attached job (from its environment). */
  attachedRun(): Promise<{ runId: string; experimentId?: string; trackingUri?: string; status: string }>;
  close(): void;
}

/** Builds the SageMaker trainer's clients; nothing is sent until `train`. */
export async function sageMakerTrainer(o: SageMakerTrainerOptions): Promise<SageMakerTrainer> {
  const [{ sageMakerClient, s3Client }, { CloudWatchLogsClient }] = await Promise.all([
    import('./aws.js'),
    import('@aws-sdk/client-cloudwatch-logs'),
  ]);
  const sm = await sageMakerClient(o.settings);
  const s3 = await s3Client(o.settings);
  // CloudWatch Logs has no endpoint in the config: the SDK's own variables name one (the sandbox sets AWS_ENDPOINT_URL).
  const logsEndpoint = o.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS ?? o.env.AWS_ENDPOINT_URL;
  const logs = new CloudWatchLogsClient({
    region: o.settings.region,
    ...(logsEndpoint ? { endpoint: logsEndpoint } : {}),
    ...(o.settings.credentials ? { credentials: o.settings.credentials } : {}),
    maxAttempts: 3,
  });
  // A refusal to read the logs (the deploy role without logs:DescribeLogStreams/GetLogEvents) is said
  // once: the job runs on, but its output would be missing without a word.
  let refusalSaid = false;

  const jobName = o.attach ?? trainingJobName(o.project, new Date(), randomUUID().slice(0, 4));
  const entryPoint = o.job.entryPoint ?? o.commandScript;
  const sourceDir = o.job.sourceDir ?? (entryPoint ? path.dirname(entryPoint) : '.');
  const output = o.job.outputPath.replace(/\/$/, '');

  return {
    jobName,
    plan: (timeout) => [
      `would pack the git-tracked files of ${sourceDir}/ (entry point ${entryPoint ?? '(none)'}) to ${output}/${jobName}/source/sourcedir.tar.gz`,
      `would upload the channels ${Object.entries(o.job.channels)
        .map(([c, p]) => `${c}=${p}`)
        .join(', ')} under ${output}/data/ (skipped when the same data is there)`,
      `would create the training job ${jobName} (${o.job.instanceCount} x ${o.job.instanceType}, image ${o.job.image}${o.job.spot ? ', spot' : ''}; watched for at most ${timeout})`,
    ],
    attachedRun: async () => {
      const d = await describe(sm, jobName);
      const runId = d.Environment?.MLFLOW_RUN_ID;
      if (!runId) {
        throw new UserError(
          'TRAIN_ATTACH_NO_RUN',
          `The training job ${jobName} has no MLFLOW_RUN_ID in its environment: mlops did not start it.`,
          {
            hint: 'Attach only to jobs that `mlops train --backend sagemaker` created.',
          },
        );
      }
      return {
        runId,
        experimentId: d.Environment?.MLFLOW_EXPERIMENT_ID,
        trackingUri: d.Environment?.MLFLOW_TRACKING_URI,
        status: d.TrainingJobStatus ?? 'InProgress',
      };
    },
    train: async (run, opts) => {
      const started = Date.now();
      if (!o.attach) {
        if (!entryPoint) {
          throw new UserError('TRAIN_NO_ENTRY_POINT', 'No entry point for the SageMaker job: train.command names no script.', {
            hint: 'Set train.sagemaker.entryPoint (e.g. src/train.py).',
          });
        }
        await createJob(run, entryPoint, sourceDir);
      }
      return watch(started, opts);
    },
    close: () => {
      sm.destroy();
      s3.destroy();
      logs.destroy();
    },
  };

  async function createJob(run: TrainingRun, entryPoint: string, sourceDir: string): Promise<void> {
    const { bucket, prefix } = parseS3Uri(output);
    const archive = await packSource(o.root, sourceDir, o.job.include, o.env);
    const sourceKey = joinKey(prefix, `${jobName}/source/sourcedir.tar.gz`);
    await s3Call('PutObject', `s3://${bucket}/${sourceKey}`, async () => {
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: sourceKey, Body: archive, ContentType: 'application/gzip' }));
    });
    o.io.info(`Source: ${archive.length} bytes of git-tracked code from ${sourceDir}/ -> s3://${bucket}/${sourceKey}`);
    const channels: Channel[] = [];
    for (const [name, local] of Object.entries(o.job.channels)) {
      const uri = await uploadChannel(bucket, joinKey(prefix, 'data'), name, local);
      channels.push({
        ChannelName: name,
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri, S3DataDistributionType: 'FullyReplicated' as const } },
      });
    }
    const program = path.posix.relative(sourceDir.split(path.sep).join('/'), entryPoint.split(path.sep).join('/'));
    const { CreateTrainingJobCommand } = await import('@aws-sdk/client-sagemaker');
    const maxRuntime = Math.round(durationMs(o.job.maxRuntime) / 1000);
    await smCall('CreateTrainingJob', () =>
      sm.send(
        new CreateTrainingJobCommand({
          TrainingJobName: jobName,
          RoleArn: o.job.role,
          AlgorithmSpecification: { TrainingImage: o.job.image, TrainingInputMode: 'File' },
          HyperParameters: scriptModeHyperparameters(o.job.hyperparameters, {
            program,
            submitDirectory: `s3://${bucket}/${sourceKey}`,
            region: o.settings.region,
            jobName,
          }),
          InputDataConfig: channels,
          OutputDataConfig: { S3OutputPath: output },
          ResourceConfig: {
            InstanceType: o.job.instanceType as never,
            InstanceCount: o.job.instanceCount,
            VolumeSizeInGB: o.job.volumeSizeGb,
          },
          StoppingCondition: {
            MaxRuntimeInSeconds: maxRuntime,
            ...(o.job.spot ? { MaxWaitTimeInSeconds: Math.round(durationMs(o.job.spot.maxWait) / 1000) } : {}),
          },
          ...(o.job.spot
            ? {
                EnableManagedSpotTraining: true,
                ...(o.job.spot.checkpointS3Uri ? { CheckpointConfig: { S3Uri: o.job.spot.checkpointS3Uri } } : {}),
              }
            : {}),
          // Only what locates the run: credentials for MLflow must come from the job's role or image, never from here.
          Environment: {
            MLFLOW_TRACKING_URI: run.trackingUri,
            MLFLOW_EXPERIMENT_NAME: run.experimentName,
            MLFLOW_EXPERIMENT_ID: run.experimentId,
            MLFLOW_RUN_ID: run.runId,
          },
          Tags: [{ Key: 'mlops:run-id', Value: run.runId }, ...(o.project ? [{ Key: 'mlops:project', Value: o.project }] : [])],
        }),
      ),
    );
    o.io.info(
      `Training job ${jobName}: ${o.job.instanceCount} x ${o.job.instanceType}${o.job.spot ? ' (spot)' : ''}, image ${o.job.image}`,
    );
  }

  /** Uploads the channel's files under <data>/<channel>/<version>/ unless that version is there already. */
  async function uploadChannel(bucket: string, dataPrefix: string, channel: string, local: string): Promise<string> {
    const dir = path.resolve(o.root, local);
    const rel = path.relative(o.root, dir).split(path.sep).join('/');
    const tracked = Object.entries(o.dvcOutputs).filter(([p]) => p === rel || p.startsWith(`${rel}/`) || rel === '');
    let files: Array<{ path: string; file: string }>;
    let version: string;
    if (tracked.length) {
      files = [];
      for (const [p] of tracked) {
        const full = path.join(o.root, p);
        const within = rel ? path.posix.relative(rel, p) : p;
        for (const f of await listFiles(full))
          files.push({ path: path.posix.join(within, path.relative(full, f).split(path.sep).join('/')), file: f });
      }
      version = channelVersion(tracked.map(([p, hash]) => ({ path: p, hash })));
    } else {
      o.io.warn(`Channel ${channel}: DVC tracks nothing under ${local}; its files are uploaded, versioned by their content.`);
      files = (await listFiles(dir)).map((f) => ({ path: path.relative(dir, f).split(path.sep).join('/'), file: f }));
      const { createHash } = await import('node:crypto');
      const entries = [];
      for (const f of files)
        entries.push({
          path: f.path,
          hash: createHash('md5')
            .update(await readFile(f.file))
            .digest('hex'),
        });
      version = channelVersion(entries);
    }
    if (!files.length)
      throw new UserError('TRAIN_CHANNEL_EMPTY', `Channel ${channel}: ${local} holds no files.`, {
        hint: 'Run `mlops pull` first, or fix train.sagemaker.channels.',
      });
    const prefix = joinKey(dataPrefix, `${channel}/${version}`);
    const uri = `s3://${bucket}/${prefix}/`;
    const marker = joinKey(prefix, '.mlops-complete');
    const { HeadObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const present = await s3Call('HeadObject', `s3://${bucket}/${marker}`, () =>
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: marker })).then(
        () => true,
        (err: unknown) => {
          if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
          throw err;
        },
      ),
    );
    if (present) {
      o.io.info(`Channel ${channel}: data version ${version} is already in ${uri} (not uploaded again)`);
      return uri;
    }
    for (const f of files) {
      const key = joinKey(prefix, f.path);
      await s3Call('PutObject', `s3://${bucket}/${key}`, async () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(f.file) })),
      );
    }
    // Written last: a half-finished upload is never taken for the whole.
    await s3Call('PutObject', `s3://${bucket}/${marker}`, () =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: marker, Body: new Uint8Array(0) })),
    );
    o.io.info(`Channel ${channel}: ${files.length} file(s) of ${local} uploaded to ${uri}`);
    return uri;
  }

  /** Polls the job until it ends; stops it on abort or timeout. */
  async function watch(started: number, opts: TrainOptions): Promise<TrainingOutcome> {
    const { DescribeTrainingJobCommand, StopTrainingJobCommand } = await import('@aws-sdk/client-sagemaker');
    const pollMs = durationMs(o.job.pollInterval);
    const tail: string[] = [];
    const tokens = new Map<string, string | undefined>();
    let shown = 0;
    let stopAsked: 'interrupted' | 'timed-out' | undefined;
    let hosts: number;
    const stop = async (why: 'interrupted' | 'timed-out') => {
      if (stopAsked) return;
      stopAsked = why;
      o.io.info(
        why === 'interrupted'
          ? `Stopping the training job ${jobName} (StopTrainingJob)...`
          : `Timeout: stopping the training job ${jobName}...`,
      );
      try {
        await sm.send(new StopTrainingJobCommand({ TrainingJobName: jobName }));
      } catch (err) {
        // A job that ended meanwhile cannot be stopped; the next describe says how it ended.
        o.io.debug(`StopTrainingJob: ${(err as Error).message}`);
      }
    };
    const deadline = started + opts.timeoutMs;
    for (;;) {
      const d = await smCall('DescribeTrainingJob', () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })));
      hosts = d.ResourceConfig?.InstanceCount ?? 1;
      const transitions = d.SecondaryStatusTransitions ?? [];
      for (const t of transitions.slice(shown)) o.io.info(`[${jobName}] ${t.Status}: ${t.StatusMessage ?? ''}`);
      shown = transitions.length;
      await readLogs(tokens, tail, hosts);
      const status = d.TrainingJobStatus ?? 'InProgress';
      if (TERMINAL.has(status)) {
        await readLogs(tokens, tail, hosts);
        return outcome(d, started, tail, stopAsked);
      }
      if (opts.signal.aborted || opts.hurry?.aborted) await stop('interrupted');
      else if (Date.now() >= deadline) await stop('timed-out');
      if (opts.hurry?.aborted) {
        return { kind: 'interrupted', durationMs: Date.now() - started, output: tail.join('\n'), tags: jobTags(d), metrics: {} };
      }
      await sleep(stopAsked ? Math.min(pollMs, 1000) : pollMs, stopAsked ? opts.hurry : opts.signal);
    }
  }

  /** Prints the new events of every log stream of the job, keeping the last lines. */
  async function readLogs(tokens: Map<string, string | undefined>, tail: string[], hosts: number): Promise<void> {
    const { DescribeLogStreamsCommand, GetLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
    try {
      const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: LOG_GROUP, logStreamNamePrefix: `${jobName}/` }));
      for (const s of streams.logStreams ?? []) {
        const name = s.logStreamName!;
        for (;;) {
          const token = tokens.get(name);
          const page = await logs.send(
            new GetLogEventsCommand({
              logGroupName: LOG_GROUP,
              logStreamName: name,
              startFromHead: true,
              ...(token ? { nextToken: token } : {}),
            }),
          );
          const host = name.slice(jobName.length + 1).replace(/-\d{9,}(-\d+)?$/, '');
          for (const e of page.events ?? []) {
            const line = hosts > 1 ? `[${host}] ${e.message ?? ''}` : (e.message ?? '');
            o.io.passthrough(`${line}\n`);
            tail.push(line);
            if (tail.length > TAIL_LINES) tail.shift();
          }
          const next = page.nextForwardToken;
          const done = !page.events?.length || next === token;
          tokens.set(name, next);
          if (done) break;
        }
      }
    } catch (err) {
      // The group appears with the first log line; until then (or on a hiccup) the next poll tries again.
      const name = awsErrorName(err);
      if (name === 'ResourceNotFoundException') return;
      if (!refusalSaid && /AccessDenied|NotAuthorized|UnrecognizedClient|InvalidSignature/.test(name)) {
        refusalSaid = true;
        o.io.warn(
          `The training job's logs cannot be read from CloudWatch Logs (${name}: ${(err as Error).message}); ` +
            `the job goes on, but its output is not shown here. The credentials need logs:DescribeLogStreams and ` +
            `logs:GetLogEvents on the log group ${LOG_GROUP} (iam/mlops-deploy-policy.json grants them).`,
        );
      } else o.io.debug(`CloudWatch Logs: ${(err as Error).message}`);
    }
  }

  async function outcome(
    d: DescribeTrainingJobCommandOutput,
    started: number,
    tail: string[],
    stopAsked?: 'interrupted' | 'timed-out',
  ): Promise<TrainingOutcome> {
    const tags = jobTags(d);
    const metrics: Record<string, number> = {};
    if (d.TrainingTimeInSeconds !== undefined) metrics['sagemaker.training_seconds'] = d.TrainingTimeInSeconds;
    if (d.BillableTimeInSeconds !== undefined) metrics['sagemaker.billable_seconds'] = d.BillableTimeInSeconds;
    if (d.EnableManagedSpotTraining && d.TrainingTimeInSeconds !== undefined && d.BillableTimeInSeconds !== undefined) {
      metrics['sagemaker.spot_savings_percent'] = spotSavingsPercent(d.TrainingTimeInSeconds, d.BillableTimeInSeconds);
    }
    if (d.ModelArtifacts?.S3ModelArtifacts) tags['mlops.sagemaker.model_artifact'] = d.ModelArtifacts.S3ModelArtifacts;
    const base = { durationMs: Date.now() - started, output: tail.join('\n'), tags, metrics };
    const status = d.TrainingJobStatus;
    if (status === 'Completed') {
      await fetchHoldout(d);
      return { kind: 'succeeded', ...base };
    }
    if (status === 'Failed') return { kind: 'failed', failureReason: d.FailureReason, ...base };
    if (d.SecondaryStatus === 'MaxRuntimeExceeded' || d.SecondaryStatus === 'MaxWaitTimeExceeded') {
      return { kind: 'timed-out', failureReason: d.SecondaryStatus, ...base };
    }
    if (stopAsked === 'timed-out') return { kind: 'timed-out', ...base };
    return { kind: 'interrupted', ...base };
  }

  /** The holdout the script wrote to SM_OUTPUT_DATA_DIR (output.tar.gz) where train.holdout says, for the drift profile. */
  async function fetchHoldout(d: DescribeTrainingJobCommandOutput): Promise<void> {
    const model = d.ModelArtifacts?.S3ModelArtifacts;
    if (!model) return;
    const { bucket, prefix: key } = parseS3Uri(model);
    const outKey = key.replace(/model\.tar\.gz$/, 'output.tar.gz');
    const dir = await mkdtemp(path.join(tmpdir(), 'mlops-train-output-'));
    try {
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      let body: Uint8Array;
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: outKey }));
        body = await res.Body!.transformToByteArray();
      } catch {
        return;
      }
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path.join(dir, 'output.tar.gz'), body);
      await mkdir(path.join(dir, 'x'));
      const untar = await runProcess(['tar', '-xzf', path.join(dir, 'output.tar.gz'), '-C', path.join(dir, 'x')], { cwd: dir, env: o.env });
      const found = path.join(dir, 'x', path.basename(o.holdoutFile));
      if (untar.ok && (await exists(found))) {
        await mkdir(path.dirname(o.holdoutFile), { recursive: true });
        await copyFile(found, o.holdoutFile);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  function jobTags(d: DescribeTrainingJobCommandOutput): Record<string, string> {
    return {
      'mlops.sagemaker.training_job': jobName,
      ...(d.TrainingJobArn ? { 'mlops.sagemaker.training_job_arn': d.TrainingJobArn } : {}),
      ...(d.ResourceConfig?.InstanceType ? { 'mlops.sagemaker.instance_type': d.ResourceConfig.InstanceType } : {}),
      ...(d.ResourceConfig?.InstanceCount ? { 'mlops.sagemaker.instance_count': String(d.ResourceConfig.InstanceCount) } : {}),
      ...(d.EnableManagedSpotTraining ? { 'mlops.sagemaker.spot': 'true' } : {}),
    };
  }

  async function smCall<T>(op: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw awsFailure('SageMaker', op, err, {
        where: jobName,
        hint: 'Check train.sagemaker (image, role, instance type) and the AWS credentials.',
      });
    }
  }

  async function s3Call<T>(op: string, where: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw awsFailure('S3', op, err, { where, hint: 'Check train.sagemaker.outputPath (the bucket must exist) and the AWS credentials.' });
    }
  }
}

async function describe(sm: SageMakerClient, name: string): Promise<DescribeTrainingJobCommandOutput> {
  const { DescribeTrainingJobCommand } = await import('@aws-sdk/client-sagemaker');
  try {
    return await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
  } catch (err) {
    throw awsFailure('SageMaker', 'DescribeTrainingJob', err, {
      where: name,
      hint: 'Check the job name (`aws sagemaker list-training-jobs`) and the region.',
    });
  }
}

/**
 * The source archive: the git-tracked files under sourceDir (paths relative to it) and the
 * `include` files at the archive's root (default: requirements.txt when it exists).
 */
export async function packSource(
  root: string,
  sourceDir: string,
  include: string[] | undefined,
  env: Record<string, string | undefined>,
): Promise<Buffer> {
  const listed = await runProcess(['git', 'ls-files', '-z', '--cached', '--', sourceDir], { cwd: root, env });
  if (!listed.ok) {
    throw new UserError(
      'TRAIN_SOURCE_NOT_GIT',
      `Cannot list the git-tracked files of ${sourceDir}: ${listed.stderr.trim() || listed.spawnError}`,
      {
        hint: 'The SageMaker backend packs only what git tracks: run it in a git repository with the training code committed (or added).',
      },
    );
  }
  const files = listed.stdout.split('\0').filter(Boolean);
  if (!files.length) {
    throw new UserError('TRAIN_SOURCE_EMPTY', `git tracks no file under ${sourceDir}.`, {
      hint: 'git add the training code (or set train.sagemaker.sourceDir).',
    });
  }
  const stage = await mkdtemp(path.join(tmpdir(), 'mlops-sourcedir-'));
  try {
    for (const f of files) {
      const from = path.join(root, f);
      if (!(await exists(from))) continue; // deleted in the work tree, not yet in git
      const to = path.join(stage, path.relative(path.resolve(root, sourceDir), from));
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(from, to);
    }
    const extra = include ?? ((await exists(path.join(root, 'requirements.txt'))) ? ['requirements.txt'] : []);
    for (const f of extra) {
      const from = path.resolve(root, f);
      if (!(await exists(from))) {
        throw new UserError('TRAIN_INCLUDE_MISSING', `train.sagemaker.include names ${f}, which does not exist.`, {
          hint: 'Fix the path (relative to the config file).',
        });
      }
      await copyFile(from, path.join(stage, path.basename(f)));
    }
    return await tarGzDirectory(stage);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function listFiles(p: string): Promise<string[]> {
  const st = await stat(p).catch(() => undefined);
  if (!st) return [];
  if (!st.isDirectory()) return [p];
  const out: string[] = [];
  for (const e of (await readdir(p)).sort()) out.push(...(await listFiles(path.join(p, e))));
  return out;
}
