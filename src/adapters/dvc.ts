/**
 * DVC, through its CLI. `dvc` is whatever is on the PATH of the env given (the venv's in tests).
 * Failures come back as values (`DvcFailure`), classified by src/core/dvc-errors.ts.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Io } from '../cli/io.js';
import { classifyDvcFailure, dvcPullArgv, type DvcFailure, type PullSpec } from '../core/dvc-errors.js';
import { runProcess, type ProcessResult } from './process.js';

export interface DvcRunOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  io?: Io;
  signal?: AbortSignal;
  /** The dvc binary (default `dvc`, found on env.PATH). */
  bin?: string;
}

export interface DvcPullResult {
  argv: string[];
  ok: boolean;
  failure?: DvcFailure;
  process: ProcessResult;
}

/** Runs `dvc pull` with the remote/targets/jobs given, streaming its output. */
export async function dvcPull(spec: PullSpec, opts: DvcRunOptions): Promise<DvcPullResult> {
  const argv = dvcPullArgv(spec, opts.bin ?? 'dvc');
  const proc = await runProcess(argv, { cwd: opts.cwd, env: opts.env, io: opts.io, signal: opts.signal });
  const failure = proc.aborted
    ? classifyDvcFailure({ signal: proc.signal ?? 'SIGTERM', output: proc.output })
    : classifyDvcFailure(
        { exitCode: proc.exitCode, signal: proc.signal, notFound: proc.notFound, output: proc.output },
        {
          remote: spec.remote,
        },
      );
  return { argv, ok: failure === undefined, failure, process: proc };
}

export interface DataVersion {
  /** A short hash over every DVC-tracked output (path + content hash), or undefined without any. */
  version?: string;
  /** path -> content hash, as read from dvc.lock and *.dvc files. */
  outputs: Record<string, string>;
  sources: string[];
}

const SKIP_DIRS = new Set(['.git', '.dvc', 'node_modules', '.venv', 'venv', '__pycache__', '.mlops', 'mlruns']);

/**
 * The data version of the repo at `root`: a hash of every output DVC tracks, from `dvc.lock`
 * (pipeline outputs) and `*.dvc` files (`dvc add`). Changes exactly when the data changes.
 */
export async function readDataVersion(root: string): Promise<DataVersion> {
  const { parse } = await import('yaml');
  const outputs: Record<string, string> = {};
  const sources: string[] = [];
  const addOuts = (outs: unknown, base: string) => {
    if (!Array.isArray(outs)) return;
    for (const o of outs as Array<Record<string, unknown>>) {
      const p = typeof o?.path === 'string' ? o.path : undefined;
      const h = o?.md5 ?? o?.etag ?? o?.checksum ?? o?.hash;
      if (p && typeof h === 'string') outputs[path.posix.join(base, p)] = h;
    }
  };
  try {
    const lock = parse(await readFile(path.join(root, 'dvc.lock'), 'utf8')) as { stages?: Record<string, { outs?: unknown }> };
    for (const stage of Object.values(lock?.stages ?? {})) addOuts(stage?.outs, '');
    sources.push('dvc.lock');
  } catch {
    // no dvc.lock: not a pipeline repo (yet)
  }
  for (const file of await findDvcFiles(root, '', 0)) {
    try {
      const doc = parse(await readFile(path.join(root, file), 'utf8')) as { outs?: unknown };
      addOuts(doc?.outs, path.posix.dirname(file) === '.' ? '' : path.posix.dirname(file));
      sources.push(file);
    } catch {
      // unreadable .dvc file: dvc will say so itself
    }
  }
  const keys = Object.keys(outputs).sort();
  if (keys.length === 0) return { outputs, sources };
  const h = createHash('sha256');
  for (const k of keys) h.update(`${k}\0${outputs[k]}\n`);
  return { version: h.digest('hex').slice(0, 16), outputs, sources };
}

async function findDvcFiles(root: string, rel: string, depth: number): Promise<string[]> {
  if (depth > 4) return [];
  let entries;
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory() && !SKIP_DIRS.has(e.name)) found.push(...(await findDvcFiles(root, p, depth + 1)));
    else if (e.isFile() && e.name.endsWith('.dvc')) found.push(p);
  }
  return found.sort();
}
