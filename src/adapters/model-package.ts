/**
 * Packages an MLflow model version as SageMaker's model.tar.gz: the model directory's files at
 * the archive root (MLmodel first level: SageMaker unpacks it into /opt/ml/model, where MLflow's serving image
 * reads MLmodel; the layout `_make_tarfile` in mlflow/sagemaker/__init__.py writes),
 * gzip'd ustar, streamed to S3 with a multipart upload (nothing held in memory, no 5 GB PutObject
 * limit). The tar writer is a few lines of ustar (regular files and directories only, which is
 * all an MLflow model holds), so no archive dependency is needed.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { parse } from 'yaml';
import { ExternalError } from '../core/errors.js';
import type { ModelRef } from '../core/deployment.js';
import type { PackagerPort } from '../core/ports.js';
import type { MlflowClient } from './mlflow.js';
import { parseS3Uri, type ObjectStore } from './s3-store.js';

/** One ustar header block (512 bytes). */
function header(name: string, size: number, mode: number, type: '0' | '5', mtime: number): Buffer {
  const b = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 154);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new RangeError(`path too long for ustar: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  // ustar's 11 octal digits hold sizes below 8 GiB; a bigger file needs an extension this writer lacks.
  if (size >= 8 ** 11) throw new ExternalError('MODEL_FILE_TOO_BIG', `${name} is 8 GiB or larger, more than a ustar archive entry holds`);
  const oct = (v: number, len: number) => v.toString(8).padStart(len - 1, '0') + '\0';
  b.write(base, 0, 100, 'utf8');
  b.write(oct(mode, 8), 100, 'ascii');
  b.write(oct(0, 8), 108, 'ascii');
  b.write(oct(0, 8), 116, 'ascii');
  b.write(oct(size, 12), 124, 'ascii');
  b.write(oct(mtime, 12), 136, 'ascii');
  b.fill(' ', 148, 156);
  b.write(type, 156, 'ascii');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  b.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return b;
}

/**
 * The tar stream of a directory's contents, entries relative to it, in a stable order. Files are
 * read in chunks, so memory stays flat whatever the model's size.
 */
export async function* tarEntries(dir: string): AsyncGenerator<Uint8Array> {
  async function* walk(rel: string): AsyncGenerator<Uint8Array> {
    const entries = (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(dir, r);
      if (e.isDirectory()) {
        yield header(`${r}/`, 0, 0o755, '5', 0);
        yield* walk(r);
      } else if (e.isFile()) {
        const st = await stat(full);
        yield header(r, st.size, st.mode & 0o777 || 0o644, '0', 0);
        let read = 0;
        if (st.size > 0)
          for await (const chunk of createReadStream(full, { end: st.size - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
            read += chunk.length;
            yield chunk;
          }
        // A file that changed size while being read would corrupt every entry after it.
        if (read !== st.size) throw new ExternalError('MODEL_CHANGED', `${full} changed size while it was being packaged`);
        const pad = (512 - (st.size % 512)) % 512;
        if (pad) yield Buffer.alloc(pad);
      }
    }
  }
  yield* walk('');
  yield Buffer.alloc(1024);
}

/** The gzip'd tar of a directory as a stream (model.tar.gz). */
export function tarGzStream(dir: string): Readable {
  const gzip = createGzip();
  // pipeline (unlike pipe) destroys the gzip stream with the reader's error, so the upload sees it.
  pipeline(Readable.from(tarEntries(dir), { objectMode: false }), gzip, () => {});
  return gzip;
}

/** The gzip'd tar of a directory in memory: for small archives (a training job's source code). */
export async function tarGzDirectory(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarGzStream(dir) as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * Finds the directory holding MLmodel (the download may nest it one level) and checks that the
 * model has the python_function flavor, as MLflow does before it deploys to SageMaker
 * (`_get_preferred_deployment_flavor` in mlflow/sagemaker/__init__.py): the pyfunc serving image
 * cannot start anything else, and SageMaker would only say so when the endpoint fails.
 */
export async function servableModelRoot(dir: string): Promise<string> {
  const names = await readdir(dir);
  let root: string | undefined = names.includes('MLmodel') ? dir : undefined;
  for (const n of root ? [] : names) {
    const sub = path.join(dir, n);
    if ((await stat(sub)).isDirectory() && (await readdir(sub)).includes('MLmodel')) {
      root = sub;
      break;
    }
  }
  if (!root) {
    throw new ExternalError('MODEL_NOT_MLFLOW', "the model version's artifacts hold no MLmodel file", {
      hint: 'Register a model logged with mlflow.<flavor>.log_model (it writes MLmodel).',
    });
  }
  let flavors: string[] = [];
  try {
    const mlmodel: unknown = parse(await readFile(path.join(root, 'MLmodel'), 'utf8'));
    const f = (mlmodel as { flavors?: unknown } | null)?.flavors;
    if (f && typeof f === 'object') flavors = Object.keys(f);
  } catch (err) {
    throw new ExternalError('MODEL_NOT_MLFLOW', `the model version's MLmodel is not valid YAML: ${(err as Error).message}`);
  }
  if (!flavors.includes('python_function')) {
    throw new ExternalError('MODEL_NOT_PYFUNC', `the model has no python_function flavor (flavors: ${flavors.join(', ') || 'none'})`, {
      hint: "MLflow's SageMaker image serves python_function models: log the model with an MLflow flavor that adds it (most do), or with mlflow.pyfunc.log_model.",
    });
  }
  return root;
}

/** The packager over the MLflow client and the S3 store; onProgress hears the bytes uploaded so far. */
export function mlflowPackager(mlflow: MlflowClient, store: ObjectStore, onProgress?: (uploadedBytes: number) => void): PackagerPort {
  return {
    async package(candidate: ModelRef, destUri: string) {
      const tmp = await mkdtemp(path.join(tmpdir(), 'mlops-package-'));
      try {
        const uri = await mlflow.getModelVersionDownloadUri(candidate.registeredModel, candidate.version);
        const local = path.join(tmp, 'model');
        await mlflow.downloadArtifacts(uri, local);
        const { bucket, prefix } = parseS3Uri(destUri);
        await store.putStream(bucket, prefix, tarGzStream(await servableModelRoot(local)), { contentType: 'application/gzip', onProgress });
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
