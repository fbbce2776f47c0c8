/**
 * Loads SageMaker's official service models (botocore's `service-2.json.gz`) from the test bed's
 * virtual environment, so requests are checked against the same definition AWS publishes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface Shape {
  type: string;
  required?: string[];
  members?: Record<string, { shape: string; location?: string; locationName?: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  exception?: boolean;
  error?: { httpStatusCode?: number };
}

export interface Operation {
  name: string;
  http?: { method: string; requestUri: string };
  input?: { shape: string };
  output?: { shape: string };
}

export interface ServiceModel {
  metadata: Record<string, unknown>;
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

/**
 * Finds botocore's data folder: `<venv>/lib/python* /site-packages/botocore/data` under each of
 * the given roots (a venv, or a folder that holds `.venv`), first match wins.
 */
export function findBotocoreDataDir(roots: string[]): string | undefined {
  for (const root of roots) {
    for (const venv of [join(root, '.venv'), root]) {
      const lib = join(venv, 'lib');
      if (!existsSync(lib)) continue;
      for (const py of readdirSync(lib)
        .filter((d) => d.startsWith('python'))
        .sort()
        .reverse()) {
        const data = join(lib, py, 'site-packages', 'botocore', 'data');
        if (existsSync(join(data, 'sagemaker'))) return data;
      }
    }
  }
  return undefined;
}

/** Reads `<dataDir>/<service>/<version>/service-2.json(.gz)`, choosing the newest version folder. */
export function loadServiceModel(dataDir: string, service: string): ServiceModel {
  const dir = join(dataDir, service);
  if (!existsSync(dir)) throw new Error(`botocore service model not found: ${dir}`);
  const version = readdirSync(dir).sort().reverse()[0];
  const base = join(dir, version, 'service-2.json');
  const text = existsSync(`${base}.gz`) ? gunzipSync(readFileSync(`${base}.gz`)).toString('utf8') : readFileSync(base, 'utf8');
  return JSON.parse(text) as ServiceModel;
}
