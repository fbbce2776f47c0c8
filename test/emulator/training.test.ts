/**
 * The emulator's training jobs through the real @aws-sdk/client-sagemaker: script mode from an
 * uploaded source archive, SageMaker's training environment, status transitions, failures, stop,
 * MaxRuntimeInSeconds, several instances, spot interruptions with checkpoint resume, CloudWatch Logs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  ListTrainingJobsCommand,
  StopTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarGzDirectory } from '../../src/adapters/model-package.js';
import { startBed, type Bed } from './helpers.js';

let bed: Bed;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  bed = await startBed([], { timeScale: 100, trainingDurations: { start: 30, download: 5, upload: 5, spotRestart: 30 } });
  logs = new CloudWatchLogsClient({
    region: 'us-east-1',
    endpoint: bed.moto.url,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await bed.s3.send(new PutObjectCommand({ Bucket: bed.bucket, Key: 'data/train/rows.txt', Body: 'a\nb\nc\n' }));
}, 120_000);

afterAll(async () => {
  logs?.destroy();
  await bed?.stop();
});

/** Uploads `train.py` with this body as a source archive; returns its s3:// URI. */
async function source(name: string, script: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-training-src-'));
  try {
    writeFileSync(join(dir, 'train.py'), script);
    const key = `code/${name}/sourcedir.tar.gz`;
    await bed.s3.send(new PutObjectCommand({ Bucket: bed.bucket, Key: key, Body: await tarGzDirectory(dir) }));
    return `s3://${bed.bucket}/${key}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function create(name: string, script: string, extra: Partial<CreateTrainingJobCommandInput> = {}): Promise<void> {
  await bed.sm.send(
    new CreateTrainingJobCommand({
      TrainingJobName: name,
      RoleArn: 'arn:aws:iam::123456789012:role/training',
      AlgorithmSpecification: { TrainingImage: 'sklearn:1.2-1', TrainingInputMode: 'File' },
      HyperParameters: {
        sagemaker_program: JSON.stringify('train.py'),
        sagemaker_submit_directory: JSON.stringify(await source(name, script)),
        epochs: '3',
      },
      InputDataConfig: [
        { ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${bed.bucket}/data/train` } } },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${bed.bucket}/output` },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 86400 },
      Environment: { GREETING: 'hello' },
      ...extra,
    }),
  );
}

async function waitFor(name: string, until: (d: DescribeTrainingJobCommandOutput) => boolean): Promise<DescribeTrainingJobCommandOutput> {
  const deadline = Date.now() + 90_000;
  let last: DescribeTrainingJobCommandOutput | undefined;
  while (Date.now() < deadline) {
    last = await bed.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`training job ${name} did not reach the expected state; last: ${JSON.stringify(last)}`);
}

const ended = (d: DescribeTrainingJobCommandOutput) => ['Completed', 'Failed', 'Stopped'].includes(d.TrainingJobStatus ?? '');

/** The files of a tar.gz in S3, by name. */
async function untar(uri: string): Promise<Record<string, string>> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const res = await bed.s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  const tar = gunzipSync(Buffer.from(await res.Body!.transformToByteArray()));
  const files: Record<string, string> = {};
  for (let off = 0; off + 512 <= tar.length;) {
    const name = tar
      .subarray(off, off + 100)
      .toString('utf8')
      .replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(
      tar
        .subarray(off + 124, off + 136)
        .toString('ascii')
        .trim() || '0',
      8,
    );
    if (!name.endsWith('/')) files[name] = tar.subarray(off + 512, off + 512 + size).toString('utf8');
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Every log line of the job's streams, by stream name. */
async function jobLogs(name: string): Promise<Record<string, string[]>> {
  const streams = await logs.send(
    new DescribeLogStreamsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamNamePrefix: `${name}/` }),
  );
  const out: Record<string, string[]> = {};
  for (const s of streams.logStreams ?? []) {
    const ev = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: s.logStreamName, startFromHead: true }),
    );
    out[s.logStreamName!] = (ev.events ?? []).map((e) => e.message ?? '');
  }
  return out;
}

const ENV_SCRIPT = `
import json, os, sys
data = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.txt")).read().split()
hps = json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "hyperparameters.json")))
info = {"rows": data, "hps": json.loads(os.environ["SM_HPS"]), "file_hps": sorted(hps), "argv": sys.argv[1:],
        "hosts": json.loads(os.environ["SM_HOSTS"]), "host": os.environ["SM_CURRENT_HOST"], "gpus": os.environ["SM_NUM_GPUS"],
        "greeting": os.environ["GREETING"], "cwd_has_script": os.path.exists("train.py")}
print("info " + json.dumps(info))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump(info, f)
`;

describe('training jobs', () => {
  it('runs the entry point in SageMaker’s environment, uploads model.tar.gz and logs to CloudWatch Logs', async () => {
    await create('env-job', ENV_SCRIPT);
    const d = await waitFor('env-job', ended);
    expect(d.TrainingJobStatus, d.FailureReason).toBe('Completed');
    expect(d.SecondaryStatusTransitions?.map((t) => t.Status)).toEqual(['Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
    expect(d.ModelArtifacts?.S3ModelArtifacts).toBe(`s3://${bed.bucket}/output/env-job/output/model.tar.gz`);
    expect(d.TrainingTimeInSeconds).toBeGreaterThan(0);
    expect(d.BillableTimeInSeconds).toBe(d.TrainingTimeInSeconds);
    const model = JSON.parse((await untar(d.ModelArtifacts!.S3ModelArtifacts!))['model.json']);
    expect(model).toEqual({
      rows: ['a', 'b', 'c'],
      hps: { epochs: 3 },
      file_hps: ['epochs', 'sagemaker_program', 'sagemaker_submit_directory'],
      argv: ['--epochs', '3'],
      hosts: ['algo-1'],
      host: 'algo-1',
      gpus: '0',
      greeting: 'hello',
      cwd_has_script: true,
    });
    const streams = await jobLogs('env-job');
    const [stream] = Object.keys(streams);
    expect(stream).toMatch(/^env-job\/algo-1-\d+$/);
    expect(streams[stream].some((l) => l.startsWith('info {'))).toBe(true);
    const list = await bed.sm.send(new ListTrainingJobsCommand({ NameContains: 'env-job' }));
    expect(list.TrainingJobSummaries?.map((s) => [s.TrainingJobName, s.TrainingJobStatus])).toEqual([['env-job', 'Completed']]);
  });

  it('runs one process per instance, each with its host name and the hosts list', async () => {
    await create('two-hosts', ENV_SCRIPT, { ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 2, VolumeSizeInGB: 10 } });
    const d = await waitFor('two-hosts', ended);
    expect(d.TrainingJobStatus, d.FailureReason).toBe('Completed');
    const streams = await jobLogs('two-hosts');
    const seen = Object.entries(streams).map(([name, lines]) => {
      const info = JSON.parse(lines.find((l) => l.startsWith('info '))!.slice(5)) as { host: string; hosts: string[] };
      return { stream: name.split('/')[1].replace(/-\d+$/, ''), host: info.host, hosts: info.hosts };
    });
    expect(seen.sort((a, b) => a.host.localeCompare(b.host))).toEqual([
      { stream: 'algo-1', host: 'algo-1', hosts: ['algo-1', 'algo-2'] },
      { stream: 'algo-2', host: 'algo-2', hosts: ['algo-1', 'algo-2'] },
    ]);
  });

  it('fails the job with the script’s error as FailureReason', async () => {
    await create('fails', 'import sys\nprint("loading")\nprint("ValueError: bad rows", file=sys.stderr)\nsys.exit(3)\n');
    const d = await waitFor('fails', ended);
    expect(d.TrainingJobStatus).toBe('Failed');
    expect(d.SecondaryStatus).toBe('Failed');
    expect(d.FailureReason).toContain('AlgorithmError: ExecuteUserScriptError');
    expect(d.FailureReason).toContain('ExitCode 3');
    expect(d.FailureReason).toContain('ValueError: bad rows');
    expect(Object.values(await jobLogs('fails')).flat()).toContain('loading');
  });

  it('StopTrainingJob stops the processes: Stopping, then Stopped', async () => {
    await create('stopped', 'import time\nprint("training", flush=True)\ntime.sleep(600)\n');
    await waitFor('stopped', (d) => d.SecondaryStatus === 'Training');
    await bed.sm.send(new StopTrainingJobCommand({ TrainingJobName: 'stopped' }));
    const stopping = await bed.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'stopped' }));
    expect(stopping.TrainingJobStatus).toBe('Stopping');
    const d = await waitFor('stopped', ended);
    expect([d.TrainingJobStatus, d.SecondaryStatus]).toEqual(['Stopped', 'Stopped']);
    await expect(bed.sm.send(new StopTrainingJobCommand({ TrainingJobName: 'stopped' }))).rejects.toThrow(/status Stopped/);
  });

  it('stops a job at MaxRuntimeInSeconds (Stopped, MaxRuntimeExceeded)', async () => {
    await create('too-long', 'import time\ntime.sleep(600)\n', { StoppingCondition: { MaxRuntimeInSeconds: 120 } });
    const d = await waitFor('too-long', ended);
    expect([d.TrainingJobStatus, d.SecondaryStatus]).toEqual(['Stopped', 'MaxRuntimeExceeded']);
  });

  it('a spot interruption restarts the job, which resumes from its checkpoint', async () => {
    await bed.admin('POST', 'spot-interruptions', { trainingJobName: 'spot', count: 1 });
    const script = `
import os, time
ckpt = os.path.join(os.environ["SM_CHECKPOINT_DIR"], "step.txt")
start = int(open(ckpt).read()) if os.path.exists(ckpt) else 0
print(f"starting at step {start}", flush=True)
if start == 0:
    with open(ckpt, "w") as f:
        f.write("5")
    time.sleep(600)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "resumed.txt"), "w") as f:
    f.write(str(start))
`;
    await create('spot', script, {
      EnableManagedSpotTraining: true,
      StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
      CheckpointConfig: { S3Uri: `s3://${bed.bucket}/checkpoints/spot` },
    });
    const d = await waitFor('spot', ended);
    expect(d.TrainingJobStatus, d.FailureReason).toBe('Completed');
    expect(d.SecondaryStatusTransitions?.map((t) => t.Status)).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Interrupted',
      'Starting',
      'Downloading',
      'Training',
      'Uploading',
      'Completed',
    ]);
    expect((await untar(d.ModelArtifacts!.S3ModelArtifacts!))['resumed.txt']).toBe('5');
    expect(d.BillableTimeInSeconds).toBeLessThan(d.TrainingTimeInSeconds!);
  });

  it('rejects what SageMaker rejects', async () => {
    await expect(create('env-job', ENV_SCRIPT)).rejects.toThrow(/already exists/);
    await expect(create('spot-no-wait', ENV_SCRIPT, { EnableManagedSpotTraining: true })).rejects.toThrow(/MaxWaitTimeInSeconds/);
    await expect(create('bad name!', ENV_SCRIPT)).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(bed.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFound',
    });
  });
});
