/**
 * Packages an MLflow model version as SageMaker's model.tar.gz: the model directory's files at
 * the archive root (MLmodel first level, as MLflow's serving containers and the emulator expect),
 * gzip'd ustar, uploaded to S3. The tar writer is a few lines of ustar (regular files and
 * directories only, which is all an MLflow model holds), so no archive dependency is needed.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
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

/** A gzip'd tar of a directory's contents, entries relative to it, in a stable order. */
export async function tarGzDirectory(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const walk = async (rel: string) => {
    const entries = (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(dir, r);
      if (e.isDirectory()) {
        parts.push(header(`${r}/`, 0, 0o755, '5', 0));
        await walk(r);
      } else if (e.isFile()) {
        const data = await readFile(full);
        const st = await stat(full);
        parts.push(header(r, data.length, st.mode & 0o777 || 0o644, '0', 0));
        parts.push(data);
        const pad = (512 - (data.length % 512)) % 512;
        if (pad) parts.push(Buffer.alloc(pad));
      }
    }
  };
  await walk('');
  parts.push(Buffer.alloc(1024));
  return promisify(gzip)(Buffer.concat(parts));
}

/** Finds the directory holding MLmodel (the download may nest it one level). */
async function modelRoot(dir: string): Promise<string> {
  const names = await readdir(dir);
  if (names.includes('MLmodel')) return dir;
  for (const n of names) {
    const sub = path.join(dir, n);
    if ((await stat(sub)).isDirectory() && (await readdir(sub)).includes('MLmodel')) return sub;
  }
  throw new ExternalError('MODEL_NOT_MLFLOW', "the model version's artifacts hold no MLmodel file", {
    hint: 'Register a model logged with mlflow.<flavor>.log_model (it writes MLmodel).',
  });
}

/** The packager over the MLflow client and the S3 store. */
export function mlflowPackager(mlflow: MlflowClient, store: ObjectStore): PackagerPort {
  return {
    async package(candidate: ModelRef, destUri: string) {
      const tmp = await mkdtemp(path.join(tmpdir(), 'mlops-package-'));
      try {
        const uri = await mlflow.getModelVersionDownloadUri(candidate.registeredModel, candidate.version);
        const local = path.join(tmp, 'model');
        await mlflow.downloadArtifacts(uri, local);
        const archive = await tarGzDirectory(await modelRoot(local));
        const { bucket, prefix } = parseS3Uri(destUri);
        await store.putBytes(bucket, prefix, archive, 'application/gzip');
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
