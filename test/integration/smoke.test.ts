/**
 * Smoke test of the test bed: the peers started by the global setup are the real things and
 * answer from TypeScript. Fails when a peer is missing, fake or unreachable.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { runPython } from '../support/python.js';

const mlflowUrl = inject('mlflowUrl');
const motoUrl = inject('motoUrl');

describe('test bed: MLflow', () => {
  it('is provided as a loopback URL and reports healthy', async () => {
    expect(mlflowUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${mlflowUrl}/health`);
    expect(res.status).toBe(200);
  });

  it('reads back over REST a run logged with the official Python client', async () => {
    const experiment = `smoke-${randomUUID()}`;
    const { stdout } = await runPython(
      [
        'import os, mlflow',
        'mlflow.set_experiment(os.environ["EXPERIMENT"])',
        'with mlflow.start_run() as run:',
        '    mlflow.log_param("alpha", "0.5")',
        '    mlflow.log_metric("accuracy", 0.91)',
        '    mlflow.set_tag("team", "smoke")',
        'print("RUN_ID=" + run.info.run_id)',
      ].join('\n'),
      { MLFLOW_TRACKING_URI: mlflowUrl, EXPERIMENT: experiment },
    );
    const runId = /RUN_ID=([0-9a-f]{32})/.exec(stdout)?.[1];
    expect(runId, stdout).toBeDefined();

    const res = await fetch(`${mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${runId}`);
    expect(res.status).toBe(200);
    const { run } = (await res.json()) as {
      run: {
        info: { run_id: string; status: string; experiment_id: string };
        data: {
          params: { key: string; value: string }[];
          metrics: { key: string; value: number }[];
          tags: { key: string; value: string }[];
        };
      };
    };
    expect(run.info.run_id).toBe(runId);
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.params).toContainEqual({ key: 'alpha', value: '0.5' });
    expect(run.data.metrics).toContainEqual(expect.objectContaining({ key: 'accuracy', value: 0.91 }));
    expect(run.data.tags).toContainEqual({ key: 'team', value: 'smoke' });

    const exp = await fetch(`${mlflowUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experiment)}`);
    expect(exp.status).toBe(200);
    expect(((await exp.json()) as { experiment: { experiment_id: string } }).experiment.experiment_id).toBe(run.info.experiment_id);
  });

  it('answers an unknown run with MLflow’s own error', async () => {
    const res = await fetch(`${mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${'0'.repeat(32)}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error_code: string }).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('test bed: moto', () => {
  async function s3() {
    const { S3Client } = await import('@aws-sdk/client-s3');
    return new S3Client({
      endpoint: motoUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  }

  it('is provided as a loopback URL', () => {
    expect(motoUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('writes and reads an S3 object through the AWS SDK', async () => {
    const { CreateBucketCommand, PutObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const client = await s3();
    const bucket = `smoke-${randomUUID()}`;
    const body = `hello ${randomUUID()}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.txt', Body: body, ContentType: 'text/plain' }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.txt' }));
    expect(await got.Body!.transformToString()).toBe(body);
    expect(got.ContentType).toBe('text/plain');
    client.destroy();
  });

  it('answers a missing key with NoSuchKey', async () => {
    const { CreateBucketCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const client = await s3();
    const bucket = `smoke-${randomUUID()}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' }))).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
    client.destroy();
  });
});
