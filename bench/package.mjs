#!/usr/bin/env node
// Packaging a big model (issue 14): model.tar.gz streamed from disk through gzip into a multipart
// upload (mlops) against the whole archive built in memory and sent in one PutObject (what mlops
// did before, and what a script does with tarfile + put_object), to moto's S3. Each runs in its own
// process; the figure is that process's peak RSS. Target: mlops's peak stays under 200 MB whatever
// the model's size (two 16 MiB parts in flight plus Node itself).
// Run `npm run build` first. Usage: node bench/package.mjs [size in MB, default 400]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const f of ['dist/adapters/model-package.js', 'dist/adapters/s3-store.js', 'dist/sandbox/local-stack.js']) {
  if (!existsSync(path.join(root, f))) {
    console.error(`${f} is missing: run \`npm run build\` first.`);
    process.exit(2);
  }
}
const sizeMb = Math.max(50, Number(process.argv[2]) || 400);
const TARGET_MB = 200;

const work = mkdtempSync(path.join(tmpdir(), 'mlops-bench-package-'));
const model = path.join(work, 'model');
mkdirSync(model);
writeFileSync(path.join(model, 'MLmodel'), 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n');
// Random bytes: gzip cannot shrink them, so the archive is as big as the model.
const fd = openSync(path.join(model, 'model.pkl'), 'w');
for (let left = sizeMb; left > 0; left -= 16) writeSync(fd, randomBytes(Math.min(16, left) * 1024 * 1024));
closeSync(fd);

const { startMoto } = await import(path.join(root, 'dist/sandbox/local-stack.js'));
const moto = await startMoto({ venv: path.join(root, '.venv'), mode: 'attached' });

/** Runs one way of packaging in a fresh process; returns its wall time, peak RSS and what it reports. */
function measure(mode) {
  const code = `
const [{ tarGzStream, tarGzDirectory }, { s3Store }, { S3Client, CreateBucketCommand, PutObjectCommand, HeadObjectCommand }] = await Promise.all([
  import(${JSON.stringify(path.join(root, 'dist/adapters/model-package.js'))}),
  import(${JSON.stringify(path.join(root, 'dist/adapters/s3-store.js'))}),
  import('@aws-sdk/client-s3'),
]);
const s3 = new S3Client({ region: 'us-east-1', endpoint: ${JSON.stringify(moto.url)}, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
const bucket = 'bench-package-${mode}';
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
const t = performance.now();
let parts = 1;
if (${JSON.stringify(mode)} === 'stream') {
  parts = (await (await s3Store(s3)).putStream(bucket, 'model.tar.gz', tarGzStream(${JSON.stringify(model)}), { contentType: 'application/gzip' })).parts;
} else {
  const body = await tarGzDirectory(${JSON.stringify(model)});
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'model.tar.gz', Body: body }));
}
const size = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'model.tar.gz' }))).ContentLength;
console.log(JSON.stringify({ ms: performance.now() - t, size, parts, peakMb: process.resourceUsage().maxRSS / 1024 }));
`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1));
}

try {
  const load = loadavg()[0];
  const streamed = measure('stream');
  const inMemory = measure('memory');
  const mb = (b) => (b / 1024 / 1024).toFixed(0);
  console.log(`model: ${sizeMb} MB of incompressible weights; archive ${mb(streamed.size)} MB; load average ${load.toFixed(2)}`);
  console.log('');
  console.log('                          wall      peak RSS   requests');
  console.log(
    `mlops (stream, multipart)  ${(streamed.ms / 1000).toFixed(1).padStart(5)} s  ${streamed.peakMb.toFixed(0).padStart(6)} MB   ${streamed.parts} parts`,
  );
  console.log(
    `in memory + PutObject      ${(inMemory.ms / 1000).toFixed(1).padStart(5)} s  ${inMemory.peakMb.toFixed(0).padStart(6)} MB   1 PutObject`,
  );
  console.log('');
  const met = streamed.peakMb < TARGET_MB && streamed.size === inMemory.size;
  console.log(
    `target: peak RSS under ${TARGET_MB} MB whatever the model's size: ${streamed.peakMb.toFixed(0)} MB (baseline ${inMemory.peakMb.toFixed(0)} MB) ${met ? 'met' : 'NOT met'}`,
  );
  console.log(
    `same archive size both ways: ${streamed.size === inMemory.size ? 'yes' : 'NO'}; PutObject's 5 GB limit does not apply to the multipart upload.`,
  );
} finally {
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
}
