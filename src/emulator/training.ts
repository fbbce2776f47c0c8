/**
 * SageMaker Training Jobs, script mode: CreateTrainingJob runs the entry point of the uploaded
 * source archive as a local Python process per instance (algo-1, algo-2, ...) with SageMaker's
 * training environment contract (/opt/ml mapped to a folder per host), on the emulator's clock:
 * Starting, Downloading, Training, Uploading, then Completed / Failed / Stopped (MaxRuntimeExceeded,
 * MaxWaitTimeExceeded), managed spot interruptions with checkpoint resume, logs to CloudWatch Logs.
 * See "Training jobs" in SPEC.md for what differs from SageMaker.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { S3Client } from '@aws-sdk/client-s3';
import { tarGzDirectory } from '../adapters/model-package.js';
import { runProcess } from '../adapters/process.js';
import type { Clock } from './clock.js';
import { resourceNotFound, validation } from './errors.js';
import type { ApiOutput, ListInput, Tag } from './records.js';
import { paginate, toEpoch } from './resources.js';

/** Emulated seconds of the phases around the script itself. */
export interface TrainingDurations {
  /** Starting: instances launched, the image pulled. */
  start: number;
  /** Downloading: input data to the instances (the real S3 copy adds to it). */
  download: number;
  /** Uploading: the model artifact to S3. */
  upload: number;
  /** After a spot interruption, until capacity is back. */
  spotRestart: number;
}

export const DEFAULT_TRAINING_DURATIONS: TrainingDurations = { start: 60, download: 10, upload: 10, spotRestart: 60 };

/** The share of training time a managed spot job bills (SageMaker reports its real savings; the emulator a fixed 70 %). */
const SPOT_BILLED_SHARE = 0.3;
const LOG_GROUP = '/aws/sagemaker/TrainingJobs';

export interface TrainingDeps {
  clock: Clock;
  s3: S3Client;
  logs: CloudWatchLogsClient;
  region: string;
  account: string;
  /** The Python that runs entry points. */
  python: string;
  workDir: string;
  /** The base environment of every training process. */
  env: Record<string, string | undefined>;
  durations: TrainingDurations;
  log: (line: string) => void;
}

interface Channel {
  ChannelName: string;
  DataSource: { S3DataSource?: { S3Uri: string; S3DataType?: string } };
}

export interface CreateTrainingJobInput {
  TrainingJobName: string;
  RoleArn: string;
  HyperParameters?: Record<string, string>;
  AlgorithmSpecification?: { TrainingImage?: string; TrainingInputMode: string };
  InputDataConfig?: Channel[];
  OutputDataConfig: { S3OutputPath: string };
  ResourceConfig?: { InstanceType?: string; InstanceCount?: number; VolumeSizeInGB?: number };
  StoppingCondition?: { MaxRuntimeInSeconds?: number; MaxWaitTimeInSeconds?: number };
  EnableManagedSpotTraining?: boolean;
  CheckpointConfig?: { S3Uri: string; LocalPath?: string };
  Environment?: Record<string, string>;
  Tags?: Tag[];
}

interface Transition {
  Status: string;
  StartTime: Date;
  EndTime?: Date;
  StatusMessage: string;
}

interface TrainingJob {
  name: string;
  arn: string;
  input: CreateTrainingJobInput;
  created: Date;
  lastModified: Date;
  status: 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
  secondary: string;
  transitions: Transition[];
  failureReason?: string;
  trainingStart?: Date;
  trainingEnd?: Date;
  /** Emulated seconds spent training (every attempt). */
  trainedSeconds: number;
  modelArtifact?: string;
  /** Aborted by StopTrainingJob (reason 'stop') or shutdown. */
  control: AbortController;
  task?: Promise<void>;
}

/** Why the script's processes were ended early. */
type Ending = 'stop' | 'max-runtime' | 'max-wait' | 'spot' | 'shutdown';

/** `a:b:c` as `{ bucket, key }`. */
function parseS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw validation(`Invalid S3 URI: ${uri}`);
  return { bucket: m[1], key: m[2] };
}

/** A hyperparameter as the framework containers read it: the SageMaker SDK JSON-encodes every value. */
function decodeHp(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

export class TrainingJobs {
  readonly jobs = new Map<string, TrainingJob>();
  /** Spot interruptions still to inject: by job name, or '*' for the next spot jobs created. */
  readonly spotFaults = new Map<string, number>();
  private logGroupReady: Promise<void> | undefined;

  constructor(private readonly d: TrainingDeps) {}

  private arn(name: string) {
    return `arn:aws:sagemaker:${this.d.region}:${this.d.account}:training-job/${name.toLowerCase()}`;
  }

  private get(name: string): TrainingJob {
    const job = this.jobs.get(name);
    if (!job) throw resourceNotFound(`Requested resource not found: Training job "${name}" does not exist.`);
    return job;
  }

  /** Dispatches a training-job operation; undefined when `op` is not one. */
  call(op: string, input: Record<string, unknown>): Promise<ApiOutput> | ApiOutput | undefined {
    switch (op) {
      case 'CreateTrainingJob':
        return this.create(input as unknown as CreateTrainingJobInput);
      case 'DescribeTrainingJob':
        return this.describe(this.get(String(input.TrainingJobName)));
      case 'StopTrainingJob':
        return this.stop(String(input.TrainingJobName));
      case 'ListTrainingJobs':
        return this.list(input);
      default:
        return undefined;
    }
  }

  private create(input: CreateTrainingJobInput): ApiOutput {
    const name = input.TrainingJobName;
    const arn = this.arn(name);
    if (this.jobs.has(name)) {
      throw validation(
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`,
      );
    }
    const stop = input.StoppingCondition ?? {};
    if (input.EnableManagedSpotTraining) {
      if (stop.MaxWaitTimeInSeconds === undefined || stop.MaxWaitTimeInSeconds < (stop.MaxRuntimeInSeconds ?? 86400)) {
        throw validation('Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to MaxRuntimeInSeconds');
      }
    } else if (stop.MaxWaitTimeInSeconds !== undefined) {
      throw validation('MaxWaitTimeInSeconds is only supported for Managed Spot Training.');
    }
    if (!input.AlgorithmSpecification?.TrainingImage) {
      throw validation(
        'The emulator runs script mode only: AlgorithmSpecification.TrainingImage is required (AlgorithmName is not supported).',
      );
    }
    const now = new Date();
    const job: TrainingJob = {
      name,
      arn,
      input,
      created: now,
      lastModified: now,
      status: 'InProgress',
      secondary: 'Starting',
      transitions: [{ Status: 'Starting', StartTime: now, StatusMessage: 'Launching requested ML instances' }],
      trainedSeconds: 0,
      control: new AbortController(),
    };
    this.jobs.set(name, job);
    if (input.EnableManagedSpotTraining && !this.spotFaults.has(name) && (this.spotFaults.get('*') ?? 0) > 0) {
      this.spotFaults.set(name, this.spotFaults.get('*')!);
      this.spotFaults.delete('*');
    }
    job.task = this.runJob(job).catch((err: unknown) => {
      this.d.log(`training job ${name}: ${(err as Error).stack ?? String(err)}`);
      if (job.status === 'InProgress' || job.status === 'Stopping')
        this.finish(job, 'Failed', 'Failed', `InternalServerError: ${(err as Error).message}`);
    });
    return { TrainingJobArn: arn };
  }

  private stop(name: string): ApiOutput {
    const job = this.get(name);
    if (job.status !== 'InProgress') {
      throw validation(`The request was rejected because the training job is in status ${job.status}.`);
    }
    job.status = 'Stopping';
    this.secondary(job, 'Stopping', 'Stopping the training job');
    job.control.abort('stop');
    return {};
  }

  private list(input: ListInput & { StatusEquals?: string }): ApiOutput {
    const items = [...this.jobs.values()]
      .filter((j) => !input.StatusEquals || j.status === input.StatusEquals)
      .map((j) => ({
        name: j.name,
        created: j.created,
        status: j.status,
        out: {
          TrainingJobName: j.name,
          TrainingJobArn: j.arn,
          CreationTime: toEpoch(j.created),
          TrainingEndTime: toEpoch(j.trainingEnd),
          LastModifiedTime: toEpoch(j.lastModified),
          TrainingJobStatus: j.status,
          SecondaryStatus: j.secondary,
        },
      }));
    const page = paginate(items, input, 'NameContains');
    return { TrainingJobSummaries: page.items, ...(page.next ? { NextToken: page.next } : {}) };
  }

  private describe(j: TrainingJob): ApiOutput {
    const i = j.input;
    const trainingSeconds = Math.round(j.trainedSeconds);
    const ended = j.status === 'Completed' || j.status === 'Failed' || j.status === 'Stopped';
    return {
      TrainingJobName: j.name,
      TrainingJobArn: j.arn,
      ModelArtifacts: { S3ModelArtifacts: j.modelArtifact ?? '' },
      TrainingJobStatus: j.status,
      SecondaryStatus: j.secondary,
      ...(j.failureReason ? { FailureReason: j.failureReason } : {}),
      HyperParameters: i.HyperParameters,
      AlgorithmSpecification: i.AlgorithmSpecification,
      RoleArn: i.RoleArn,
      InputDataConfig: i.InputDataConfig,
      OutputDataConfig: i.OutputDataConfig,
      ResourceConfig: i.ResourceConfig,
      StoppingCondition: { MaxRuntimeInSeconds: 86400, ...i.StoppingCondition },
      CreationTime: toEpoch(j.created),
      TrainingStartTime: toEpoch(j.trainingStart),
      TrainingEndTime: toEpoch(j.trainingEnd),
      LastModifiedTime: toEpoch(j.lastModified),
      SecondaryStatusTransitions: j.transitions.map((t) => ({ ...t, StartTime: toEpoch(t.StartTime), EndTime: toEpoch(t.EndTime) })),
      EnableManagedSpotTraining: i.EnableManagedSpotTraining ?? false,
      CheckpointConfig: i.CheckpointConfig,
      Environment: i.Environment,
      ...(ended && j.trainingStart
        ? {
            TrainingTimeInSeconds: trainingSeconds,
            BillableTimeInSeconds: i.EnableManagedSpotTraining
              ? Math.max(1, Math.ceil(trainingSeconds * SPOT_BILLED_SHARE))
              : trainingSeconds,
          }
        : {}),
    };
  }

  private secondary(job: TrainingJob, status: string, message: string): void {
    const now = new Date();
    const last = job.transitions.at(-1);
    if (last && !last.EndTime) last.EndTime = now;
    job.transitions.push({ Status: status, StartTime: now, StatusMessage: message });
    job.secondary = status;
    job.lastModified = now;
    this.d.log(`training job ${job.name}: ${status} (${message})`);
  }

  private finish(job: TrainingJob, status: TrainingJob['status'], secondary: string, reason?: string): void {
    job.status = status;
    job.failureReason = reason;
    job.trainingEnd ??= new Date();
    const messages: Record<string, string> = {
      Completed: 'Training job completed',
      Failed: 'Training job failed',
      Stopped: 'The training job was stopped',
      MaxRuntimeExceeded: 'Training job stopped: it exceeded MaxRuntimeInSeconds',
      MaxWaitTimeExceeded: 'Training job stopped: it exceeded MaxWaitTimeInSeconds',
    };
    this.secondary(job, secondary, messages[secondary] ?? secondary);
    const last = job.transitions.at(-1);
    if (last) last.EndTime = last.StartTime;
  }

  /** The whole life of a job; each phase sleeps on the emulated clock and ends early on stop. */
  private async runJob(job: TrainingJob): Promise<void> {
    const i = job.input;
    const signal = job.control.signal;
    const root = join(this.d.workDir, 'training', job.name);
    const hosts = Array.from({ length: i.ResourceConfig?.InstanceCount ?? 1 }, (_, n) => `algo-${n + 1}`);
    const maxRuntime = i.StoppingCondition?.MaxRuntimeInSeconds ?? 86400;
    const waitDeadline = i.EnableManagedSpotTraining
      ? this.d.clock.now() + (i.StoppingCondition?.MaxWaitTimeInSeconds ?? 0) * 1000
      : Infinity;
    try {
      for (let attempt = 0; ; attempt++) {
        if (!(await this.phase(job, this.d.durations.start, signal))) return this.ended(job, root, hosts);
        this.secondary(job, 'Downloading', 'Downloading input data');
        job.trainingStart ??= new Date();
        const downloadStarted = this.d.clock.now();
        rmSync(root, { recursive: true, force: true });
        try {
          for (const host of hosts) await this.prepareHost(job, root, host, hosts);
        } catch (err) {
          return this.finish(job, 'Failed', 'Failed', `ClientError: ${(err as Error).message}`);
        }
        if (!(await this.phase(job, this.d.durations.download, signal))) return this.ended(job, root, hosts);
        job.trainedSeconds += (this.d.clock.now() - downloadStarted) / 1000;
        this.secondary(job, 'Training', 'Training image download completed. Training in progress.');
        const runtimeLeft = maxRuntime - job.trainedSeconds;
        const waitLeft = (waitDeadline - this.d.clock.now()) / 1000;
        const budget =
          waitLeft < runtimeLeft
            ? { seconds: waitLeft, ending: 'max-wait' as const }
            : { seconds: runtimeLeft, ending: 'max-runtime' as const };
        const outcome = await this.train(job, root, hosts, budget, attempt);
        if (outcome.ending === 'spot') {
          this.secondary(job, 'Interrupted', 'Training job interrupted: the spot instances were reclaimed');
          if (!(await this.phase(job, this.d.durations.spotRestart, signal))) return this.ended(job, root, hosts);
          this.secondary(job, 'Starting', 'Restarting the training job after the spot interruption');
          continue;
        }
        if (outcome.ending) {
          job.control.abort(outcome.ending === 'max-runtime' || outcome.ending === 'max-wait' ? outcome.ending : job.control.signal.reason);
          return this.ended(job, root, hosts);
        }
        if (outcome.failure) {
          await this.syncCheckpoints(job, root);
          return this.finish(job, 'Failed', 'Failed', outcome.failure);
        }
        this.secondary(job, 'Uploading', 'Uploading generated training model');
        await this.upload(job, root);
        if (!(await this.phase(job, this.d.durations.upload, signal))) return this.ended(job, root, hosts);
        return this.finish(job, 'Completed', 'Completed');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  /** Sleeps on the emulated clock; false when the job was stopped meanwhile. */
  private async phase(job: TrainingJob, seconds: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.d.clock.sleep(seconds, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Ends a stopped job: what the script saved in its model folder is still uploaded (SageMaker's SIGTERM window). */
  private async ended(job: TrainingJob, root: string, hosts: string[]): Promise<void> {
    const why = job.control.signal.reason as Ending;
    if (why === 'shutdown') return;
    if (hosts.length && existsSync(join(root, hosts[0], 'model'))) await this.upload(job, root).catch(() => undefined);
    const secondary = why === 'max-runtime' ? 'MaxRuntimeExceeded' : why === 'max-wait' ? 'MaxWaitTimeExceeded' : 'Stopped';
    this.finish(job, 'Stopped', secondary);
  }

  /** /opt/ml of one host: code, config files, channels, checkpoints. */
  private async prepareHost(job: TrainingJob, root: string, host: string, hosts: string[]): Promise<void> {
    const i = job.input;
    const ml = join(root, host);
    for (const d of ['code', 'input/config', 'model', 'output/data', 'checkpoints']) mkdirSync(join(ml, d), { recursive: true });
    const hps = i.HyperParameters ?? {};
    writeFileSync(join(ml, 'input/config/hyperparameters.json'), JSON.stringify(hps));
    writeFileSync(join(ml, 'input/config/resourceconfig.json'), JSON.stringify(resourceConfig(host, hosts)));
    const channels = Object.fromEntries(
      (i.InputDataConfig ?? []).map((c) => [c.ChannelName, { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated' }]),
    );
    writeFileSync(join(ml, 'input/config/inputdataconfig.json'), JSON.stringify(channels));
    const source = decodeHp(hps.sagemaker_submit_directory ?? '');
    if (typeof source === 'string' && source.startsWith('s3://')) {
      const archive = join(ml, 'sourcedir.tar.gz');
      await this.download(source, archive);
      const untar = await runProcess(['tar', '-xzf', archive, '-C', join(ml, 'code')], { cwd: ml, env: this.d.env });
      if (!untar.ok) throw new Error(`the source archive ${source} is not a valid tar.gz: ${untar.stderr.trim()}`);
      rmSync(archive);
    }
    for (const c of i.InputDataConfig ?? []) {
      const uri = c.DataSource.S3DataSource?.S3Uri;
      if (!uri) throw new Error(`channel ${c.ChannelName}: the emulator supports S3DataSource only`);
      await this.downloadPrefix(uri, join(ml, 'input/data', c.ChannelName));
    }
    if (i.CheckpointConfig) await this.downloadPrefix(i.CheckpointConfig.S3Uri, join(ml, 'checkpoints'));
  }

  private async download(uri: string, file: string): Promise<void> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const { bucket, key } = parseS3(uri);
    const res = await this.d.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    mkdirSync(dirname(file), { recursive: true });
    await writeFile(file, await res.Body!.transformToByteArray());
  }

  /** Every object under the prefix (or the one object it names) into `dir`, keys relative to the prefix. */
  private async downloadPrefix(uri: string, dir: string): Promise<void> {
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const { bucket, key } = parseS3(uri);
    mkdirSync(dir, { recursive: true });
    let token: string | undefined;
    do {
      const page = await this.d.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        const rel = o.Key === key ? o.Key.split('/').at(-1)! : o.Key.slice(key.length).replace(/^\//, '');
        if (!rel || (o.Key !== key && key && !key.endsWith('/') && !o.Key.startsWith(`${key}/`))) continue;
        await this.download(`s3://${bucket}/${o.Key}`, join(dir, rel));
      }
      token = page.NextContinuationToken;
    } while (token);
  }

  /** Runs the entry point on every host; resolves with why it ended. */
  private async train(
    job: TrainingJob,
    root: string,
    hosts: string[],
    budget: { seconds: number; ending: Ending },
    attempt: number,
  ): Promise<{ ending?: Ending; failure?: string }> {
    const i = job.input;
    const hps = i.HyperParameters ?? {};
    const program = decodeHp(hps.sagemaker_program ?? '');
    if (typeof program !== 'string' || !program) {
      return {
        failure: 'AlgorithmError: the emulator runs script mode only: the hyperparameter sagemaker_program (the entry point) is missing',
      };
    }
    const procs = new AbortController();
    const started = this.d.clock.now();
    let ending: Ending | undefined;
    const end = (why: Ending) => {
      ending ??= why;
      procs.abort('SIGTERM');
    };
    const onStop = () => end((job.control.signal.reason as Ending) ?? 'stop');
    job.control.signal.addEventListener('abort', onStop, { once: true });
    const timer = new AbortController();
    void this.d.clock.sleep(Math.max(0, budget.seconds), timer.signal).then(
      () => end(budget.ending),
      () => undefined,
    );
    const spotWatch = this.watchSpot(job, root, hosts[0], () => end('spot'));
    try {
      const results = await Promise.all(hosts.map((host) => this.runHost(job, root, host, hosts, program, procs.signal, attempt)));
      job.trainedSeconds += (this.d.clock.now() - started) / 1000;
      if (ending === 'spot') await this.syncCheckpoints(job, root);
      if (ending) return { ending };
      await this.syncCheckpoints(job, root);
      const failed = results.find((r) => r.failure);
      return failed ? { failure: failed.failure } : {};
    } finally {
      timer.abort();
      clearInterval(spotWatch);
      job.control.signal.removeEventListener('abort', onStop);
    }
  }

  /** Polls for the fault knob's moment: the first checkpoint file (or at once without CheckpointConfig). */
  private watchSpot(job: TrainingJob, root: string, host: string, interrupt: () => void): NodeJS.Timeout | undefined {
    if (!job.input.EnableManagedSpotTraining || !((this.spotFaults.get(job.name) ?? 0) > 0)) return undefined;
    const dir = join(root, host, 'checkpoints');
    const timer = setInterval(() => {
      const ready = !job.input.CheckpointConfig || listFiles(dir).length > 0;
      if (!ready) return;
      clearInterval(timer);
      this.spotFaults.set(job.name, (this.spotFaults.get(job.name) ?? 1) - 1);
      interrupt();
    }, 100);
    return timer;
  }

  private async runHost(
    job: TrainingJob,
    root: string,
    host: string,
    hosts: string[],
    program: string,
    signal: AbortSignal,
    attempt: number,
  ): Promise<{ failure?: string }> {
    const i = job.input;
    const ml = join(root, host);
    const hps = i.HyperParameters ?? {};
    const userHps = Object.fromEntries(
      Object.entries(hps)
        .filter(([k]) => !k.startsWith('sagemaker_'))
        .map(([k, v]) => [k, decodeHp(v)]),
    );
    const channels = (i.InputDataConfig ?? []).map((c) => c.ChannelName);
    const env: Record<string, string | undefined> = {
      ...this.d.env,
      ...i.Environment,
      PYTHONUNBUFFERED: '1',
      SM_MODEL_DIR: join(ml, 'model'),
      SM_OUTPUT_DIR: join(ml, 'output'),
      SM_OUTPUT_DATA_DIR: join(ml, 'output/data'),
      SM_INPUT_DIR: join(ml, 'input'),
      SM_INPUT_CONFIG_DIR: join(ml, 'input/config'),
      SM_CHECKPOINT_DIR: join(ml, 'checkpoints'),
      SM_MODULE_DIR: decodeHp(hps.sagemaker_submit_directory ?? '') as string,
      SM_USER_ENTRY_POINT: program,
      SM_CHANNELS: JSON.stringify(channels),
      SM_HOSTS: JSON.stringify(hosts),
      SM_CURRENT_HOST: host,
      SM_NUM_GPUS: '0',
      SM_NUM_CPUS: String(cpus().length),
      SM_HPS: JSON.stringify(userHps),
      SM_RESOURCE_CONFIG: JSON.stringify(resourceConfig(host, hosts)),
      SM_NETWORK_INTERFACE_NAME: 'eth0',
      SM_LOG_LEVEL: '20',
      SM_TRAINING_ENV: JSON.stringify({ hosts, current_host: host, channel_input_dirs: {}, hyperparameters: userHps, job_name: job.name }),
    };
    for (const c of channels) env[`SM_CHANNEL_${c.toUpperCase()}`] = join(ml, 'input/data', c);
    for (const [k, v] of Object.entries(userHps)) env[`SM_HP_${k.toUpperCase()}`] = typeof v === 'string' ? v : JSON.stringify(v);
    const args = Object.entries(userHps).flatMap(([k, v]) => [`--${k}`, typeof v === 'string' ? v : JSON.stringify(v)]);
    const argv = program.endsWith('.sh') ? ['/bin/sh', program, ...args] : [this.d.python, program, ...args];
    const stream = `${job.name}/${host}-${Math.floor(Date.now() / 1000)}${attempt ? `-${attempt}` : ''}`;
    const logs = new LogWriter(this.d.logs, stream, () => this.ensureLogGroup(), this.d.log);
    logs.line(
      `Invoking script with the following command: ${[program.endsWith('.sh') ? '/bin/sh' : 'python', program, ...args].join(' ')}`,
    );
    const proc = await runProcess(argv, {
      cwd: join(ml, 'code'),
      env,
      signal,
      killGraceMs: 5000,
      stream: true,
      io: { debug: () => undefined, passthrough: (text) => logs.text(text) },
    });
    if (!proc.aborted && proc.exitCode !== 0) logs.line(`ExecuteUserScriptError: exit code ${proc.exitCode ?? proc.signal ?? '?'}`);
    await logs.close();
    if (proc.aborted || proc.ok) return {};
    const failureFile = join(ml, 'output/failure');
    if (existsSync(failureFile)) return { failure: `AlgorithmError: ${readFileSync(failureFile, 'utf8').trim().slice(0, 1024)}` };
    const last = proc.stderr.trim().split('\n').slice(-1)[0] ?? '';
    const why = proc.notFound
      ? `cannot run ${argv[0]}: ${proc.spawnError}`
      : `ExitCode ${proc.exitCode ?? proc.signal}\nErrorMessage "${last}"`;
    return { failure: `AlgorithmError: ExecuteUserScriptError:\n${why}\nCommand "${argv.join(' ')}", exit code: ${proc.exitCode ?? 1}` };
  }

  private ensureLogGroup(): Promise<void> {
    this.logGroupReady ??= (async () => {
      const { CreateLogGroupCommand } = await import('@aws-sdk/client-cloudwatch-logs');
      try {
        await this.d.logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
      } catch (err) {
        if ((err as Error).name !== 'ResourceAlreadyExistsException') throw err;
      }
    })();
    return this.logGroupReady;
  }

  /** /opt/ml/checkpoints of the first host to CheckpointConfig.S3Uri (SageMaker syncs it continuously). */
  private async syncCheckpoints(job: TrainingJob, root: string): Promise<void> {
    const uri = job.input.CheckpointConfig?.S3Uri;
    if (!uri) return;
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { bucket, key } = parseS3(uri);
    const dir = join(root, 'algo-1', 'checkpoints');
    for (const f of listFiles(dir)) {
      const k = [key.replace(/\/$/, ''), relative(dir, f)].filter(Boolean).join('/');
      await this.d.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: readFileSync(f) }));
    }
  }

  /** model.tar.gz (algo-1's model folder) and output.tar.gz to `<S3OutputPath>/<job>/output/`. */
  private async upload(job: TrainingJob, root: string): Promise<void> {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { bucket, key } = parseS3(job.input.OutputDataConfig.S3OutputPath);
    const prefix = [key.replace(/\/$/, ''), job.name, 'output'].filter(Boolean).join('/');
    const host = join(root, 'algo-1');
    await this.d.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/model.tar.gz`, Body: await tarGzDirectory(join(host, 'model')) }),
    );
    job.modelArtifact = `s3://${bucket}/${prefix}/model.tar.gz`;
    if (listFiles(join(host, 'output/data')).length) {
      await this.d.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/output.tar.gz`, Body: await tarGzDirectory(join(host, 'output/data')) }),
      );
    }
  }

  /** Stops every job's processes and forgets the jobs (emulator stop and reset). */
  async shutdown(): Promise<void> {
    for (const j of this.jobs.values()) j.control.abort('shutdown');
    await Promise.all([...this.jobs.values()].map((j) => j.task ?? Promise.resolve()));
    this.jobs.clear();
    this.spotFaults.clear();
  }

  /** Internal view for the admin API. */
  state(): ApiOutput {
    return {
      trainingJobs: [...this.jobs.values()].map((j) => ({ name: j.name, status: j.status, secondaryStatus: j.secondary })),
      spotFaults: Object.fromEntries(this.spotFaults),
    };
  }
}

function resourceConfig(host: string, hosts: string[]) {
  return { current_host: host, current_instance_type: 'local', hosts, network_interface_name: 'eth0' };
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** A process's output as CloudWatch Logs events, one per line, sent in batches. */
class LogWriter {
  private partial = '';
  private pending: Array<{ timestamp: number; message: string }> = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout;
  private created: Promise<void> | undefined;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly stream: string,
    private readonly group: () => Promise<void>,
    private readonly log: (line: string) => void,
  ) {
    this.timer = setInterval(() => void this.flush(), 500);
    this.timer.unref?.();
  }

  text(chunk: string): void {
    const lines = (this.partial + chunk).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }

  line(message: string): void {
    this.pending.push({ timestamp: Date.now(), message });
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (!this.pending.length) return;
      const events = this.pending.splice(0);
      try {
        const { CreateLogStreamCommand, PutLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
        this.created ??= this.group().then(() =>
          this.logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: this.stream })).then(() => undefined),
        );
        await this.created;
        await this.logs.send(new PutLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: this.stream, logEvents: events }));
      } catch (err) {
        this.log(`CloudWatch Logs ${this.stream}: ${(err as Error).message}`);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.partial) this.line(this.partial);
    this.partial = '';
    await this.flush();
  }
}
