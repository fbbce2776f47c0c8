/**
 * `mlops monitor` without --baseline: the profile comes from the artifact mlops/profile.json of
 * the run behind the registered model's `production` alias, on the real MLflow server (fixtures
 * logged with the official Python client).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { runPython } from '../support/python.js';

const id = randomUUID().slice(0, 8);
const model = `drift-model-${id}`;
let dir: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  const url = inject('mlflowUrl');
  env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', MLFLOW_TRACKING_URI: url };
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-monitor-mlflow-'));
  const rows = Array.from({ length: 1000 }, (_, i) => `${((i * 37) % 1000) / 100},${i % 2}`);
  writeFileSync(path.join(dir, 'holdout.csv'), 'x,pred\n' + rows.join('\n') + '\n');
  const p = await runCli(['profile', 'holdout.csv', '--prediction', 'pred', '--out', 'art/mlops/profile.json'], { cwd: dir, env });
  expect(p.code, p.stderr).toBe(0);
  await runPython(
    `
import mlflow, sys
mlflow.set_tracking_uri(sys.argv[1] if len(sys.argv) > 1 else ${JSON.stringify(url)})
mlflow.set_experiment(${JSON.stringify(`drift-${id}`)})
with mlflow.start_run() as run:
    mlflow.log_artifact(${JSON.stringify(path.join(dir, 'art/mlops/profile.json'))}, artifact_path='mlops')
c = mlflow.MlflowClient()
c.create_registered_model(${JSON.stringify(model)})
mv = c.create_model_version(${JSON.stringify(model)}, source=f'runs:/{run.info.run_id}/mlops', run_id=run.info.run_id)
c.set_registered_model_alias(${JSON.stringify(model)}, 'production', mv.version)
`,
    { MLFLOW_TRACKING_URI: url },
  );
  const cap = path.join(dir, 'capture');
  mkdirSync(cap);
  const lines = Array.from({ length: 500 }, (_, i) =>
    JSON.stringify({
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: String(((i * 37) % 1000) / 100), encoding: 'CSV' },
        endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: String(i % 2), encoding: 'CSV' },
      },
      eventMetadata: { eventId: String(i), inferenceTime: '2026-11-26T10:00:00Z' },
      eventVersion: '0',
    }),
  );
  writeFileSync(path.join(cap, 'a.jsonl'), lines.join('\n') + '\n');
  writeFileSync(path.join(dir, 'mlops.config.yaml'), `mlflow:\n  registeredModel: ${model}\nmonitor:\n  publish: false\n`);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('baseline from MLflow', () => {
  it("reads mlops/profile.json of the production model's run", async () => {
    const r = await runCli(['monitor', '--capture-dir', 'capture', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const o = r.json();
    expect(o.baseline).toMatch(new RegExp(`mlops/profile.json of ${model}@production \\(version 1, run [0-9a-f]+\\)`));
    expect(o.status).toBe('no-drift');
    expect(o.dataset.samples).toBe(500);
  });

  it('a model without the alias: a clear exit-2 error', async () => {
    writeFileSync(path.join(dir, 'other.yaml'), `mlflow:\n  registeredModel: ${model}-missing\nmonitor:\n  publish: false\n`);
    const r = await runCli(['monitor', '--config', 'other.yaml', '--capture-dir', 'capture', '--json'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('MONITOR_NO_BASELINE');
  });
});
