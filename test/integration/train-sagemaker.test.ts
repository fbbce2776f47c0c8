/**
 * `mlops train` with train.backend: sagemaker, end to end on the SageMaker emulator (training jobs
 * run as local processes), moto (S3, CloudWatch Logs) and the real MLflow server: the scaffold's
 * own src/train.py with only the backend changed, data uploaded once per version, a failing
 * script, Ctrl-C and the timeout, two instances, and a spot interruption resumed from a checkpoint.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../support/cli.js';
import { motoEnv } from '../support/peers.js';
import { builtBin, getRun, git, makeGitRepo, removeBuiltBin, uniqueName, venv, venvEnv, writeTree } from './train-support.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

const definedEnv = (e: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(e).filter((kv): kv is [string, string] => kv[1] !== undefined));

describe('train.backend: sagemaker (emulator + moto + MLflow)', () => {
  const mlflowUrl = inject('mlflowUrl');
  const motoUrl = inject('motoUrl');
  const name = uniqueName('smtrain');
  const bucket = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 50);
  let emulator: RunningEmulator;
  let s3: S3Client;
  let sm: SageMakerClient;
  const repos: string[] = [];

  const env = () =>
    venvEnv({
      ...motoEnv(motoUrl),
      MLFLOW_TRACKING_URI: mlflowUrl,
      AWS_ENDPOINT_URL_SAGEMAKER: emulator.url,
      MLOPS_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/training',
    });

  beforeAll(async () => {
    s3 = new S3Client({ region: 'us-east-1', endpoint: motoUrl, forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    emulator = await startEmulator({
      s3Endpoint: motoUrl,
      cloudWatchEndpoint: motoUrl,
      timeScale: 100,
      trainingDurations: { start: 20, download: 5, upload: 5, spotRestart: 20 },
      env: venvEnv(motoEnv(motoUrl)),
    });
    sm = new SageMakerClient({ region: 'us-east-1', endpoint: emulator.url, credentials });
  }, 120_000);

  afterAll(async () => {
    for (const r of repos) rmSync(r, { recursive: true, force: true });
    sm?.destroy();
    s3?.destroy();
    await emulator?.stop();
    removeBuiltBin();
  });

  /** Sets train.backend and train.sagemaker in the repo's config (the change a user makes). */
  function useSageMaker(repo: string, sagemaker: Record<string, unknown>, train: Record<string, unknown> = {}): void {
    const file = path.join(repo, 'mlops.config.yaml');
    const config = parse(readFileSync(file, 'utf8')) as { train: Record<string, unknown> };
    config.train = { ...config.train, ...train, backend: 'sagemaker', sagemaker: { pollInterval: '200ms', ...sagemaker } };
    writeFileSync(file, stringify(config));
  }

  async function keys(prefix: string): Promise<Array<{ key: string; modified: number }>> {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (r.Contents ?? []).map((o) => ({ key: o.Key!, modified: o.LastModified!.getTime() }));
  }

  async function tarNames(uri: string): Promise<string[]> {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
    const res = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
    const tar = gunzipSync(Buffer.from(await res.Body!.transformToByteArray()));
    const names: string[] = [];
    for (let off = 0; off + 512 <= tar.length;) {
      const n = tar
        .subarray(off, off + 100)
        .toString('utf8')
        .replace(/\0.*$/s, '');
      if (!n) break;
      names.push(n);
      const size = parseInt(
        tar
          .subarray(off + 124, off + 136)
          .toString('ascii')
          .trim() || '0',
        8,
      );
      off += 512 + Math.ceil(size / 512) * 512;
    }
    return names;
  }

  describe('the scaffold', () => {
    let repo: string;

    beforeAll(async () => {
      repo = makeGitRepo('smtrain');
      repos.push(repo);
      const r = await runCli(['init', '--name', name, '--bucket', bucket, '--ci', 'none'], { cwd: repo, env: env() });
      expect(r.code, r.stderr).toBe(0);
      venv(repo, 'dvc', ['repro', 'prepare']);
      git(repo, ['add', '-A']);
      git(repo, ['commit', '-q', '-m', 'scaffold']);
      useSageMaker(repo, { image: 'sagemaker-scikit-learn:1.2-1-cpu-py3' });
    }, 240_000);

    it('trains as a SageMaker job into a FINISHED run with metrics, tags and model.tar.gz in S3', async () => {
      const r = await runCli(['train', '--json'], { cwd: repo, env: env() });
      expect(r.code, r.stderr).toBe(0);
      const out = r.json();
      expect(out.status).toBe('FINISHED');
      expect(r.stderr).toMatch(/Training: Training image download completed/);
      expect(r.stderr).toMatch(/Uploading: /);
      expect(r.stderr).toMatch(/holdout metrics: accuracy=/); // the job's log, streamed from CloudWatch Logs
      expect(r.stderr).toMatch(/Channel train: 1 file\(s\) of data uploaded/);
      const { run, metrics, tags } = await getRun(mlflowUrl, out.runId);
      expect(run.info.status).toBe('FINISHED');
      expect(metrics.accuracy).toBeGreaterThan(0.5);
      expect(metrics['sagemaker.billable_seconds']).toBeGreaterThan(0);
      expect(tags['mlops.sagemaker.training_job_arn']).toMatch(/^arn:aws:sagemaker:us-east-1:123456789012:training-job\//);
      expect(tags['mlops.sagemaker.instance_type']).toBe('ml.m5.large');
      expect(tags['mlops.profile']).toBe('mlops/profile.json');
      const artifact = tags['mlops.sagemaker.model_artifact'];
      expect(artifact).toMatch(new RegExp(`^s3://${bucket}/models/training/.+/output/model.tar.gz$`));
      expect(await tarNames(artifact)).toContain('MLmodel');
      const job = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: tags['mlops.sagemaker.training_job'] }));
      expect(job.Environment?.MLFLOW_RUN_ID).toBe(out.runId);
      // Only git-tracked code went into the source archive (plus requirements.txt).
      const source = JSON.parse(job.HyperParameters!.sagemaker_submit_directory) as string;
      expect((await tarNames(source)).sort()).toEqual(['evaluate.py', 'prepare.py', 'requirements.txt', 'train.py']);
    }, 300_000);

    it('compare reads the run as it reads a local one', async () => {
      const r = await runCli(['compare', '--json'], { cwd: repo, env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ verdict: 'pass' });
    }, 120_000);

    it('does not upload unchanged data again', async () => {
      const before = await keys('models/training/data/');
      expect(before.length).toBeGreaterThan(0);
      const r = await runCli(['train'], { cwd: repo, env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Channel train: data version \w+ is already in/);
      expect(await keys('models/training/data/')).toEqual(before);
    }, 300_000);
  });

  describe('small scripts', () => {
    let repo: string;

    beforeAll(() => {
      repo = makeGitRepo('smtrain-small');
      repos.push(repo);
      writeTree(repo, {
        'mlops.config.yaml': stringify({
          version: 1,
          project: `${name}-small`,
          train: { command: ['python', 'src/ok.py'], timeout: '10m' },
          aws: { region: 'us-east-1' },
        }),
        'data/rows.csv': 'a,b\n1,2\n',
        'src/ok.py': 'print("ok")\n',
        'src/fails.py':
          'import sys\nprint("step 1 of 2", flush=True)\nprint("ValueError: the rows are bad", file=sys.stderr)\nsys.exit(3)\n',
        'src/slow.py': 'import time\nprint("training slowly", flush=True)\ntime.sleep(600)\n',
        'src/hosts.py': 'import os\nprint("hosts=" + os.environ["SM_HOSTS"] + " me=" + os.environ["SM_CURRENT_HOST"], flush=True)\n',
        'src/resume.py': [
          'import os, time',
          'ckpt = os.path.join(os.environ["SM_CHECKPOINT_DIR"], "epoch.txt")',
          'start = int(open(ckpt).read()) if os.path.exists(ckpt) else 0',
          'print(f"starting at epoch {start}", flush=True)',
          'if start == 0:',
          '    open(ckpt, "w").write("7")',
          '    time.sleep(600)',
          'open(os.path.join(os.environ["SM_MODEL_DIR"], "epoch.txt"), "w").write(str(start))',
          '',
        ].join('\n'),
        'src/wait.py': 'import time\ntime.sleep(4)\nprint("waited for the signal", flush=True)\n',
        'src/untracked.py': 'print("never packed")\n',
      });
      git(repo, [
        'add',
        'mlops.config.yaml',
        'data',
        'src/ok.py',
        'src/fails.py',
        'src/slow.py',
        'src/hosts.py',
        'src/resume.py',
        'src/wait.py',
      ]);
      git(repo, ['commit', '-q', '-m', 'scripts']);
    });

    const config = (entryPoint: string, extra: Record<string, unknown> = {}, train: Record<string, unknown> = {}) =>
      useSageMaker(
        repo,
        { image: 'python:3', role: 'arn:aws:iam::123456789012:role/t', outputPath: `s3://${bucket}/small`, entryPoint, ...extra },
        { timeout: '10m', ...train },
      );

    async function runOf(stdoutOrErr: string): Promise<Awaited<ReturnType<typeof getRun>>> {
      const runId = /MLflow run (\w+)/.exec(stdoutOrErr)![1];
      return getRun(mlflowUrl, runId);
    }

    it('a failing script: exit 3 with the FailureReason and the log tail, the run FAILED', async () => {
      config('src/fails.py');
      const r = await runCli(['train'], { cwd: repo, env: env() });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/The training job \S+ failed after .*AlgorithmError: ExecuteUserScriptError/s);
      expect(r.stderr).toMatch(/ExitCode 3/);
      expect(r.stderr).toMatch(/Last log lines:\n(.*\n)*step 1 of 2/);
      expect(r.stderr).toMatch(/ValueError: the rows are bad/);
      const { run, tags } = await runOf(r.stderr);
      expect(run.info.status).toBe('FAILED');
      expect(tags['mlops.train.failure']).toBe('job-failed');
    }, 180_000);

    it('Ctrl-C stops the job (StopTrainingJob) and the run ends KILLED', async () => {
      config('src/slow.py');
      const ac = new AbortController();
      const running = runCli(['train'], { cwd: repo, env: env(), signal: ac.signal });
      const jobName = await waitForJob('InProgress', 'Training');
      ac.abort();
      const r = await running;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/Stopping the training job/);
      const job = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }));
      expect(job.TrainingJobStatus).toBe('Stopped');
      expect((await runOf(r.stderr)).run.info.status).toBe('KILLED');
    }, 180_000);

    it('the timeout stops the job too: exit 3, the run KILLED', async () => {
      config('src/slow.py', {}, { timeout: '3s' });
      const r = await runCli(['train'], { cwd: repo, env: env() });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/Timeout: stopping the training job (\S+)/);
      const jobName = /Timeout: stopping the training job (\S+?)\.\.\./.exec(r.stderr)![1];
      expect((await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }))).TrainingJobStatus).toBe('Stopped');
      const { run, tags } = await runOf(r.stderr);
      expect(run.info.status).toBe('KILLED');
      expect(tags['mlops.train.failure']).toBe('timeout');
    }, 180_000);

    it('logs the credentials may not read: one warning naming the permissions, and the job still ends its run', async () => {
      // CloudWatch Logs answering every call as it answers a role without logs:DescribeLogStreams.
      const refusals: string[] = [];
      const denied = createServer((req, res) => {
        refusals.push(String(req.headers['x-amz-target']));
        req.resume();
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'AccessDeniedException' });
        res.end(
          JSON.stringify({
            __type: 'AccessDeniedException',
            message: 'User: arn:aws:sts::123456789012:assumed-role/ci is not authorized to perform: logs:DescribeLogStreams',
          }),
        );
      });
      await new Promise<void>((resolve) => denied.listen(0, '127.0.0.1', resolve));
      try {
        config('src/ok.py');
        const port = (denied.address() as AddressInfo).port;
        const r = await runCli(['train'], { cwd: repo, env: { ...env(), AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: `http://127.0.0.1:${port}` } });
        expect(r.code, r.stderr).toBe(0);
        expect(refusals.length).toBeGreaterThan(1);
        expect(refusals.every((t) => t === 'Logs_20140328.DescribeLogStreams')).toBe(true);
        const warnings = r.stderr.split('\n').filter((l) => l.includes('logs cannot be read from CloudWatch Logs'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('AccessDeniedException');
        expect(warnings[0]).toContain('logs:DescribeLogStreams and logs:GetLogEvents on the log group /aws/sagemaker/TrainingJobs');
        expect((await runOf(r.stderr)).run.info.status).toBe('FINISHED');
      } finally {
        await new Promise((resolve) => denied.close(resolve));
      }
    }, 180_000);

    it('two instances see each other (SM_HOSTS) and each its own host name', async () => {
      config('src/hosts.py', { instanceCount: 2 });
      const r = await runCli(['train'], { cwd: repo, env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('[algo-1] hosts=["algo-1","algo-2"] me=algo-1');
      expect(r.stderr).toContain('[algo-2] hosts=["algo-1","algo-2"] me=algo-2');
      const { tags } = await runOf(r.stderr);
      expect(tags['mlops.sagemaker.instance_count']).toBe('2');
    }, 180_000);

    it('a spot interruption resumes from the checkpoint; spot savings are a run metric', async () => {
      await fetch(`${emulator.url}/_emulator/spot-interruptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: 1 }),
      });
      config('src/resume.py', { maxRuntime: '1h', spot: { maxWait: '2h', checkpointS3Uri: `s3://${bucket}/checkpoints/resume` } });
      const r = await runCli(['train'], { cwd: repo, env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Interrupted: /);
      expect(r.stderr).toContain('starting at epoch 0');
      expect(r.stderr).toContain('starting at epoch 7');
      const { metrics, tags } = await runOf(r.stderr);
      expect(metrics['sagemaker.spot_savings_percent']).toBeGreaterThan(0);
      expect(tags['mlops.sagemaker.spot']).toBe('true');
      expect(await tarNames(tags['mlops.sagemaker.model_artifact'])).toEqual(['epoch.txt']);
    }, 180_000);

    it('--attach re-attaches to a running job after mlops died, and ends its run', async () => {
      config('src/wait.py');
      // A CI connection that drops: the first mlops is killed outright and cannot stop the job.
      const child = spawn(process.execPath, [builtBin(), 'train'], { cwd: repo, env: definedEnv(env()), stdio: 'ignore' });
      const jobName = await waitForJob('InProgress', 'Training');
      child.kill('SIGKILL');
      const d = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }));
      const runId = d.Environment!.MLFLOW_RUN_ID;
      const r = await runCli(['train', '--attach', jobName, '--json'], { cwd: repo, env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`Attached to the training job ${jobName}`);
      expect(r.stderr).toContain('waited for the signal');
      expect(r.json().runId).toBe(runId);
      expect((await getRun(mlflowUrl, runId)).run.info.status).toBe('FINISHED');
    }, 180_000);

    /** The name of the newest job once it reaches the status, after this call started. */
    async function waitForJob(status: string, secondary: string): Promise<string> {
      const { ListTrainingJobsCommand } = await import('@aws-sdk/client-sagemaker');
      const since = Date.now() / 1000 - 1;
      for (let i = 0; i < 1200; i++) {
        const list = await sm.send(new ListTrainingJobsCommand({ SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 1 }));
        const j = list.TrainingJobSummaries?.[0];
        if (j && j.CreationTime!.getTime() / 1000 >= since && j.TrainingJobStatus === status && j.SecondaryStatus === secondary) {
          return j.TrainingJobName!;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`no job reached ${status}/${secondary}`);
    }
  });
});
