/**
 * One answer to "which model is production": the wiring promote, rollback and status use takes
 * the registered model and the alias from the same resolver compare and monitor read, so a
 * configured alias other than `production` is the one promote moves and rollback restores.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { MemoryMetrics } from '../../src/adapters/cloudwatch.js';
import { MemorySageMaker } from '../../src/adapters/sagemaker.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { wire } from '../../src/app/deploy.js';
import { readLastRun } from '../../src/app/last-run.js';
import type { CommandContext } from '../../src/cli/context.js';
import type { Io } from '../../src/cli/io.js';
import { configSchema } from '../../src/config/schema.js';
import { MlopsError } from '../../src/core/errors.js';
import type { DeployPorts } from '../../src/core/ports.js';
import { productionModel } from '../../src/core/production-model.js';
import { runPromote } from '../../src/core/promote-run.js';
import { runRollback } from '../../src/core/rollback-run.js';

const deploy = {
  endpointName: 'churn',
  executionRoleArn: 'arn:aws:iam::123456789012:role/deploy',
  image: 'img:1',
  artifacts: 's3://models/churn',
  dataCapture: { destination: 's3://capture/churn' },
  state: { uri: 's3://state/deployments' },
  lock: { uri: 's3://state/locks' },
  audit: { uri: 's3://audit/trail' },
  shadow: { duration: '1h' },
  cutover: { type: 'all-at-once' },
};

function context(raw: Record<string, unknown>, root = '/nowhere'): CommandContext {
  const config = configSchema.parse(raw);
  const quiet = { info() {}, debug() {}, warn() {}, error() {} } as unknown as Io;
  return {
    io: quiet,
    cwd: root,
    env: { AWS_REGION: 'us-east-1' },
    globals: { json: false, color: false, verbose: false },
    signal: new AbortController().signal,
    loadConfig: () => Promise.resolve({ config, root, filepath: path.join(root, 'mlops.config.yaml'), sources: {} }),
  };
}

class Registry {
  aliases = new Map<string, string>();
  getVersion(_n: string, version: string) {
    return Promise.resolve({ version, runId: `run-${version}` });
  }
  getAlias(_n: string, alias: string) {
    return Promise.resolve(this.aliases.get(alias));
  }
  setAlias(_n: string, alias: string, version: string) {
    this.aliases.set(alias, version);
    return Promise.resolve();
  }
  deleteAlias(_n: string, alias: string) {
    this.aliases.delete(alias);
    return Promise.resolve();
  }
  setVersionTag() {
    return Promise.resolve();
  }
  versionTags() {
    return Promise.resolve([]);
  }
}

function fakes(registry: Registry): DeployPorts {
  const store = new MemoryStore();
  return {
    sagemaker: new MemorySageMaker({ busyPolls: 0 }),
    metrics: new MemoryMetrics(),
    store,
    registry,
    packager: { package: () => Promise.resolve() },
    capture: { read: async function* () {} },
    audit: openAuditLog({ store, location: { bucket: 'audit', prefix: 'trail' }, endpoint: 'churn', retentionDays: 1 }),
    clock: { now: () => new Date('2026-03-01T00:00:00Z'), sleep: () => Promise.resolve() },
    log: () => {},
  };
}

describe('which model is production', () => {
  it('compare.baseline alias "champion": promote moves champion, rollback restores it, production is untouched', async () => {
    const w = await wire(context({ project: 'churn', compare: { baseline: { alias: 'champion' } }, deploy }));
    expect([w.settings.registeredModel, w.settings.alias]).toEqual(['churn', 'champion']);
    const registry = new Registry();
    registry.aliases.set('production', '7');
    const ports = fakes(registry);
    expect((await runPromote(ports, w.settings, { registeredModel: 'churn', version: '1' })).outcome).toBe('done');
    expect(Object.fromEntries(registry.aliases)).toEqual({ champion: '1', production: '7' });
    registry.aliases.set('champion', '1');
    await runPromote(ports, { ...w.settings, waitBudgetMs: 0 }, { registeredModel: 'churn', version: '2' });
    expect((await runRollback(ports, w.settings, 'test')).outcome).toBe('rolled-back');
    expect(Object.fromEntries(registry.aliases)).toEqual({ champion: '1', production: '7' });
  });

  it('one rule for the name: mlflow.registeredModel, else project, else exit 2 (no folder-name fallback)', () => {
    expect(productionModel(configSchema.parse({ project: 'p', mlflow: { registeredModel: 'm' } }))).toEqual({
      registeredModel: 'm',
      alias: 'production',
    });
    expect(productionModel(configSchema.parse({ project: 'p' })).registeredModel).toBe('p');
    const err = (() => {
      try {
        return productionModel(configSchema.parse({ compare: { baseline: { runId: 'a'.repeat(32) } } }));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MlopsError);
    expect([(err as MlopsError).code, (err as MlopsError).source]).toEqual(['REGISTERED_MODEL_MISSING', 'user']);
  });

  it('last-run.json: one reader; bad JSON or no runId is exit 2, a missing file is no candidate', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mlops-last-run-'));
    expect(await readLastRun(root)).toBeUndefined();
    mkdirSync(path.join(root, '.mlops'));
    writeFileSync(path.join(root, '.mlops/last-run.json'), '{ not json');
    await expect(readLastRun(root)).rejects.toMatchObject({ code: 'CANDIDATE_INVALID', source: 'user' });
    writeFileSync(path.join(root, '.mlops/last-run.json'), '{"status":"FINISHED"}');
    await expect(readLastRun(root)).rejects.toMatchObject({ code: 'CANDIDATE_INVALID', source: 'user' });
    writeFileSync(path.join(root, '.mlops/last-run.json'), '{"runId":"r1","status":"FAILED","modelUri":"runs:/r1/model"}');
    expect(await readLastRun(root)).toMatchObject({ runId: 'r1', status: 'FAILED', modelUri: 'runs:/r1/model' });
  });
});
