/** model.tar.gz streamed to S3 (moto) with a multipart upload, read back with the system's tar. */
import { CreateBucketCommand, GetObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tarEntries, tarGzStream } from '../../src/adapters/model-package.js';
import { s3Store, type ObjectStore } from '../../src/adapters/s3-store.js';
import { ExternalError, exitCodeFor } from '../../src/core/errors.js';

let client: S3Client;
let store: ObjectStore;
const bucket = `pkg-${randomUUID().slice(0, 8)}`;
const work = mkdtempSync(join(tmpdir(), 'mlops-pkg-test-'));
const model = join(work, 'model');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  client = new S3Client({
    region: 'us-east-1',
    endpoint: inject('motoUrl'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  store = await s3Store(client);
  mkdirSync(join(model, 'code', 'nested'), { recursive: true });
  writeFileSync(join(model, 'MLmodel'), 'flavors:\n  python_function: {}\n');
  writeFileSync(join(model, 'code', 'nested', 'empty.txt'), '');
  writeFileSync(join(model, 'code', 'exact-512.bin'), randomBytes(512));
  // Random bytes do not compress: 40 MiB stays over two 16 MiB parts after gzip.
  writeFileSync(join(model, 'model.pkl'), randomBytes(40 * 1024 * 1024));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('model archive streamed to S3', () => {
  it('a 40 MiB model goes up in several parts, and tar reads back every file byte for byte', async () => {
    const progress: number[] = [];
    const out = await store.putStream(bucket, 'models/m/model.tar.gz', tarGzStream(model), {
      contentType: 'application/gzip',
      onProgress: (n) => progress.push(n),
    });
    expect(out.parts).toBeGreaterThanOrEqual(3);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.at(-1)).toBeGreaterThan(40 * 1024 * 1024);

    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'models/m/model.tar.gz' }));
    const archive = join(work, 'model.tar.gz');
    writeFileSync(archive, await got.Body!.transformToByteArray());
    const listing = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(['MLmodel', 'code/', 'code/exact-512.bin', 'code/nested/', 'code/nested/empty.txt', 'model.pkl']);
    const back = join(work, 'back');
    mkdirSync(back);
    execFileSync('tar', ['-xzf', archive, '-C', back]);
    for (const f of ['MLmodel', 'code/exact-512.bin', 'code/nested/empty.txt', 'model.pkl']) {
      expect(sha(readFileSync(join(back, f))), f).toBe(sha(readFileSync(join(model, f))));
    }
  }, 120_000);

  it('an upload to a missing bucket is exit 3 naming the bucket, and leaves no multipart upload behind', async () => {
    const err = await store.putStream('no-such-bucket-pkg', 'm/model.tar.gz', tarGzStream(model)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalError);
    expect(exitCodeFor(err)).toBe(3);
    expect((err as Error).message).toContain('no-such-bucket-pkg');
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(open.Uploads ?? []).toEqual([]);
  }, 60_000);

  it('a model folder that cannot be read fails the upload with the reason (not an uncaught error), and nothing is written', async () => {
    const err = await store
      .putStream(bucket, 'models/gone/model.tar.gz', tarGzStream(join(work, 'no-such-model')))
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ENOENT|no such file/);
    expect(await store.head(bucket, 'models/gone/model.tar.gz')).toBeUndefined();
  }, 60_000);

  it('a file that changes size while it is packaged stops the archive instead of writing a corrupt one', async () => {
    const dir = join(work, 'shrinking');
    mkdirSync(dir);
    writeFileSync(join(dir, 'MLmodel'), 'x');
    writeFileSync(join(dir, 'weights.bin'), randomBytes(4 * 1024 * 1024));
    const entries = tarEntries(dir);
    const seen: number[] = [];
    const err = await (async () => {
      for await (const chunk of entries) {
        seen.push(chunk.length);
        // Chunks: MLmodel's header, its byte, its padding, then weights.bin's header with the old size.
        if (seen.length === 4) truncateSync(join(dir, 'weights.bin'), 1024);
      }
    })().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/weights\.bin changed size while it was being packaged/);
  });
});
