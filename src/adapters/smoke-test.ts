/**
 * promote's smoke-test port: example rows for a model version (its MLflow input example, else the
 * first rows of the holdout file) and InvokeEndpoint aimed at one variant with TargetVariant.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { ModelRef } from '../core/deployment.js';
import type { SmokePort } from '../core/ports.js';
import type { SmokeRequest } from '../core/smoke.js';
import { awsErrorName, awsFailure, awsHttpStatus } from './aws.js';
import type { MlflowClient } from './mlflow.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The first `rows` rows of an MLflow serving example (the body `mlflow models serve` accepts:
 * dataframe_split, dataframe_records, instances or inputs), or of an older input_example.json
 * (split-oriented columns/data, or a list), as a serving body.
 */
export function exampleBody(file: 'serving_input_example.json' | 'input_example.json', text: string, rows: number): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const cut = (x: unknown) => (Array.isArray(x) ? x.slice(0, rows) : x);
  if (file === 'input_example.json') {
    if (isObj(v) && Array.isArray(v.data)) v = { dataframe_split: v };
    else v = { inputs: v };
  }
  if (!isObj(v)) return undefined;
  const out: Json = { ...v };
  if (isObj(out.dataframe_split)) out.dataframe_split = { ...out.dataframe_split, data: cut(out.dataframe_split.data) };
  for (const k of ['dataframe_records', 'instances', 'inputs']) if (k in out) out[k] = cut(out[k]);
  return JSON.stringify(out);
}

/** The header and first `rows` rows of a CSV file, limited to `columns` when given. */
export function csvHead(text: string, rows: number, columns?: string[]): string | undefined {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const header = lines[0].split(',').map((c) => c.trim());
  const keep = columns?.length ? header.map((h, i) => (columns.includes(h) ? i : -1)).filter((i) => i >= 0) : header.map((_, i) => i);
  if (keep.length === 0) return undefined;
  return (
    [lines[0], ...lines.slice(1, rows + 1)]
      .map((l) => {
        const cells = l.split(',');
        return keep.map((i) => cells[i] ?? '').join(',');
      })
      .join('\n') + '\n'
  );
}

/** The folder holding MLmodel in a download (it may sit one level down). */
async function modelDir(dir: string): Promise<string> {
  if (existsSync(path.join(dir, 'MLmodel'))) return dir;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory() && existsSync(path.join(dir, e.name, 'MLmodel'))) return path.join(dir, e.name);
  }
  return dir;
}

/** The input column names of an MLmodel signature (a JSON list inside the YAML), when there is one. */
async function signatureColumns(dir: string): Promise<string[] | undefined> {
  const file = path.join(dir, 'MLmodel');
  if (!existsSync(file)) return undefined;
  const { parse } = await import('yaml');
  const inputs = (parse(await readFile(file, 'utf8')) as { signature?: { inputs?: string } } | null)?.signature?.inputs;
  if (typeof inputs !== 'string') return undefined;
  try {
    const cols = (JSON.parse(inputs) as { name?: string }[]).map((c) => c.name).filter((n): n is string => typeof n === 'string');
    return cols.length ? cols : undefined;
  } catch {
    return undefined;
  }
}

export interface SmokeOptions {
  runtime: SageMakerRuntimeClient;
  mlflow: () => Promise<MlflowClient>;
  /** Absolute path of the holdout CSV (train.holdout), used when the model has no input example. */
  holdout?: string;
  signal?: AbortSignal;
}

/** The smoke-test port over the SageMaker runtime client and MLflow. */
export function smokeTestPort(o: SmokeOptions): SmokePort {
  return {
    async example(candidate: ModelRef, rows: number): Promise<SmokeRequest | undefined> {
      const mlflow = await o.mlflow();
      const tmp = await mkdtemp(path.join(tmpdir(), 'mlops-smoke-'));
      try {
        const uri = await mlflow.getModelVersionDownloadUri(candidate.registeredModel, candidate.version);
        await mlflow.downloadArtifacts(uri, path.join(tmp, 'model'));
        const dir = await modelDir(path.join(tmp, 'model'));
        for (const file of ['serving_input_example.json', 'input_example.json'] as const) {
          if (!existsSync(path.join(dir, file))) continue;
          const body = exampleBody(file, await readFile(path.join(dir, file), 'utf8'), rows);
          if (body)
            return { body, contentType: 'application/json', source: `${file} of ${candidate.registeredModel} v${candidate.version}` };
        }
        if (o.holdout && existsSync(o.holdout)) {
          const body = csvHead(await readFile(o.holdout, 'utf8'), rows, await signatureColumns(dir));
          if (body) return { body, contentType: 'text/csv', source: `the first ${rows} rows of ${o.holdout}` };
        }
        return undefined;
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
    async invoke(endpoint, variant, req) {
      const { InvokeEndpointCommand } = await import('@aws-sdk/client-sagemaker-runtime');
      try {
        const out = await o.runtime.send(
          new InvokeEndpointCommand({
            EndpointName: endpoint,
            TargetVariant: variant,
            ContentType: req.contentType,
            Accept: req.contentType === 'text/csv' ? 'text/csv' : 'application/json',
            Body: new TextEncoder().encode(req.body),
          }),
          { abortSignal: o.signal },
        );
        return { status: out.$metadata.httpStatusCode ?? 200, body: new TextDecoder().decode(out.Body ?? new Uint8Array()) };
      } catch (e) {
        const status = awsHttpStatus(e);
        if (status === undefined || o.signal?.aborted) {
          throw awsFailure('SageMaker', 'InvokeEndpoint', e, {
            where: `${endpoint} (variant ${variant})`,
            hint: 'Check the SageMaker runtime endpoint (aws.endpoints.sagemakerRuntime) and credentials.',
          });
        }
        // A model error: SageMaker answers 424 and names the container's own status.
        const original = (e as { OriginalStatusCode?: number }).OriginalStatusCode;
        const message = e instanceof Error ? e.message : String(e);
        return { status: original ?? status, body: `${awsErrorName(e) || 'error'}: ${message}` };
      }
    },
  };
}
