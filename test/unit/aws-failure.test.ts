import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { awsFailure, awsSettings, s3Client } from '../../src/adapters/aws.js';
import { configSchema } from '../../src/config/schema.js';

/** A loopback port nothing listens on: one the system gave out and that was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('awsFailure when the endpoint override points at nothing', () => {
  it('says the sandbox is down or the endpoint variables are stale, not to check credentials', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const s3 = await s3Client(
      awsSettings(configSchema.parse({}), {
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'us-east-1',
      }),
    );
    const e = await s3.send(new ListObjectsV2Command({ Bucket: 'b' })).then(
      () => undefined,
      (err: unknown) => err,
    );
    const failure = awsFailure('S3', 'ListObjectsV2', e, { where: 's3://b/', hint: 'Check AWS credentials.' });
    expect(failure.message).toContain('ECONNREFUSED');
    expect(failure.hint).toContain('mlops sandbox up');
    expect(failure.hint).toContain('AWS_ENDPOINT_URL');
    expect(failure.hint).not.toContain('Check AWS credentials');
  });
});

describe('awsFailure with text from the service', () => {
  it('writes control and bidi characters of the service message as visible escapes: they reach the terminal', () => {
    const e = Object.assign(new Error('Access Denied\u001b[2J\u001b]0;owned\u0007 \u202eevil'), { name: 'AccessDenied' });
    const failure = awsFailure('S3', 'GetObject', e, { where: 's3://b/k', hint: 'Check the role.' });
    for (const c of ['\u001b', '\u0007', '\u202e']) expect(failure.message).not.toContain(c);
    expect(failure.message).toContain('Access Denied\\x1b[2J');
  });
});
