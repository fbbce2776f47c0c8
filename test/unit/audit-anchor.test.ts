/**
 * promote anchors the audit chain outside the audit bucket: every deployment record it saves
 * quotes the chain's head, and so does a tag on the model version it deploys (MLflow); `audit
 * verify` checks both (over in-memory fakes).
 */
import { describe, expect, it } from 'vitest';
import { deploymentAnchors, openAuditLog, registryAnchors } from '../../src/adapters/audit-log.js';
import { MemoryMetrics } from '../../src/adapters/cloudwatch.js';
import { MemorySageMaker } from '../../src/adapters/sagemaker.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { configSchema } from '../../src/config/schema.js';
import { sealRecord, type AuditRecord } from '../../src/core/audit.js';
import type { RegistryPort } from '../../src/core/ports.js';
import type { DeployPorts } from '../../src/core/ports.js';
import { runPromote } from '../../src/core/promote-run.js';
import { runRollback } from '../../src/core/rollback-run.js';

const deploy = configSchema.parse({
  deploy: {
    endpointName: 'churn',
    executionRoleArn: 'arn:aws:iam::123456789012:role/deploy',
    image: 'img:1',
    artifacts: 's3://models/churn',
    dataCapture: { destination: 's3://capture/churn' },
    state: { uri: 's3://state/deployments' },
    lock: { uri: 's3://state/locks' },
    audit: { uri: 's3://audit/trail', retentionDays: 1 },
  },
}).deploy!;

type Registry = RegistryPort & { tags: Map<string, Record<string, string>>; tagFailure?: Error; tagCalls: number };

function ports(): DeployPorts & { store: MemoryStore; registry: Registry; logged: string[] } {
  let t = Date.parse('2026-03-01T00:00:00Z');
  const now = () => new Date(t);
  const store = new MemoryStore(now);
  const aliases = new Map<string, string>();
  const logged: string[] = [];
  const registry: Registry = {
    tags: new Map(),
    tagCalls: 0,
    getVersion: async (_n, version) => ({ version }),
    getAlias: async (_n, alias) => aliases.get(alias),
    setAlias: async (_n, alias, version) => void aliases.set(alias, version),
    deleteAlias: async (_n, alias) => void aliases.delete(alias),
    async setVersionTag(name, version, key, value) {
      registry.tagCalls++;
      if (registry.tagFailure) throw registry.tagFailure;
      registry.tags.set(`${name}/${version}`, { ...registry.tags.get(`${name}/${version}`), [key]: value });
    },
    versionTags: async (name) =>
      [...registry.tags].filter(([k]) => k.startsWith(`${name}/`)).map(([k, tags]) => ({ version: k.slice(name.length + 1), tags })),
  };
  return {
    logged,
    sagemaker: new MemorySageMaker({ busyPolls: 1 }),
    metrics: new MemoryMetrics(),
    store,
    registry,
    packager: { package: async (_c, dest) => void (await store.putBytes('models', dest.replace('s3://models/', ''), new Uint8Array([1]))) },
    capture: { read: async function* () {} },
    audit: openAuditLog({ store, location: { bucket: 'audit', prefix: 'trail' }, endpoint: 'churn', retentionDays: 1, now }),
    clock: { now, sleep: async (ms) => void (t += ms) },
    log: (m) => void logged.push(m),
  };
}

const settings = { deploy, registeredModel: 'churn', alias: 'production', actor: 't@h', waitBudgetMs: 60_000, pollMs: 1000 };
const recordKey = (seq: number) => `trail/churn/${String(seq).padStart(12, '0')}.json`;

/** The anchored record and everything after it rewritten and re-hashed, the originals removed for good (what an unlocked bucket allows). */
async function rewriteFrom(p: ReturnType<typeof ports>, seq: number): Promise<AuditRecord> {
  const keys = (await p.store.list('audit', 'trail/churn/')).slice(seq - 1);
  let prev = (await p.store.getJson<AuditRecord>('audit', recordKey(seq - 1)))!.value;
  for (const key of keys) {
    p.store.history.delete(`audit/${key}`);
    prev = await sealRecord({ kind: 'stage', action: 'forged', endpoint: 'churn', actor: 'x' }, prev, new Date(Date.parse(prev.at) + 1));
    await p.store.putJson('audit', key, prev, { retention: { mode: 'COMPLIANCE', until: new Date(Date.parse(prev.at) + 86_400_000) } });
  }
  return prev;
}

describe('audit chain anchored in deployment records', () => {
  it('promote saves the head of the chain with the deployment record, and verify checks it', async () => {
    const p = ports();
    const r = await runPromote(p, settings, { registeredModel: 'churn', version: '1' });
    expect(r.outcome).toBe('done');

    const { anchors } = await deploymentAnchors(p.store, deploy);
    expect(anchors).toHaveLength(1);
    const [anchor] = anchors;
    expect(anchor.source).toBe(`s3://state/deployments/churn/deployments/${r.deployment!.id}.json`);
    const anchored = (await p.store.getJson<AuditRecord>('audit', `trail/churn/${String(anchor.seq).padStart(12, '0')}.json`))!.value;
    expect(anchored.hash).toBe(anchor.hash);
    expect(await p.audit.verify(anchors)).toMatchObject({ ok: true, anchors: 1 });

    // The anchored record and everything after it rewritten: only the anchor tells.
    await rewriteFrom(p, anchor.seq);
    const report = await p.audit.verify(anchors);
    expect(report.problems.map((x) => x.kind)).toEqual(['anchor-mismatch']);
  });
});

describe('audit chain anchored on the MLflow model version', () => {
  const verifyWithMlflow = async (p: ReturnType<typeof ports>) => {
    const state = await deploymentAnchors(p.store, deploy);
    return p.audit.verify(async (records) => [
      ...state.anchors,
      ...(await registryAnchors(p.registry, 'churn', ['churn', ...state.models])(records)),
    ]);
  };

  it('promote tags the deployed version with the head of the chain (the last record), and verify checks it', async () => {
    const p = ports();
    await runPromote(p, settings, { registeredModel: 'churn', version: '1' });
    const last = (await p.audit.tail(1))[0];
    expect(p.registry.tags.get('churn/1')).toEqual({ 'mlops.audit.head.churn': `${last.seq}:${last.hash}` });
    expect(await verifyWithMlflow(p)).toMatchObject({ ok: true, anchorsBySource: { 'deployment-record': 1, mlflow: 1 } });
  });

  it('rollback moves the tag to the new head', async () => {
    const p = ports();
    await runPromote(p, settings, { registeredModel: 'churn', version: '1' });
    await runPromote(p, settings, { registeredModel: 'churn', version: '2' });
    const r = await runRollback(p, settings, 'bad model');
    expect(r.outcome).toBe('rolled-back');
    const last = (await p.audit.tail(1))[0];
    expect(last.action).toBe('rollback.done');
    expect(p.registry.tags.get('churn/2')).toEqual({ 'mlops.audit.head.churn': `${last.seq}:${last.hash}` });
  });

  it("a tail rewritten together with the deployment records' anchors is caught by the tag", async () => {
    const p = ports();
    const r = await runPromote(p, settings, { registeredModel: 'churn', version: '1' });
    const { anchors } = await deploymentAnchors(p.store, deploy);
    // The attacker with both buckets: rewrite from the record the deployment anchors, then make
    // the deployment record quote the forged head.
    const forged = await rewriteFrom(p, anchors[0].seq);
    const key = `deployments/churn/deployments/${r.deployment!.id}.json`;
    const rec = (await p.store.getJson<Record<string, unknown>>('state', key))!.value;
    await p.store.putJson('state', key, { ...rec, auditHead: { seq: forged.seq, hash: forged.hash } });
    expect(await p.audit.verify((await deploymentAnchors(p.store, deploy)).anchors)).toMatchObject({ ok: true });

    const report = await verifyWithMlflow(p);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'anchor-mismatch', message: expect.stringMatching(/^mlflow:models:\/churn\/1 anchors record #/) }),
    ]);
  });

  it('a failing tag write warns once, is recorded in the trail, never fails the deployment; verify reports the anchor missing', async () => {
    const p = ports();
    p.registry.tagFailure = new Error('Cannot reach MLflow at http://mlflow (ECONNREFUSED).');
    const r = await runPromote(p, settings, { registeredModel: 'churn', version: '1' });
    expect(r.outcome).toBe('done');
    expect(p.registry.tagCalls).toBe(1);
    expect(p.logged.filter((m) => /could not tag churn v1/.test(m))).toHaveLength(1);
    const failed = (await p.audit.tail(100)).filter((x) => x.action === 'anchor.failed');
    expect(failed).toMatchObject([{ kind: 'anchor', details: { registeredModel: 'churn', version: '1', tag: 'mlops.audit.head.churn' } }]);

    const report = await verifyWithMlflow(p);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'anchor-missing',
        message: expect.stringMatching(
          new RegExp(
            `^mlflow:models:/churn/1 was deployed to churn but no longer exists in MLflow; promote recorded that it could not write it \\(record #${failed[0].seq}: Cannot reach MLflow`,
          ),
        ),
      }),
    ]);
  });

  it('a tag removed from a deployed version is reported missing', async () => {
    const p = ports();
    await runPromote(p, settings, { registeredModel: 'churn', version: '1' });
    p.registry.tags.set('churn/1', { other: 'x' });
    const report = await verifyWithMlflow(p);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'anchor-missing',
        message: 'mlflow:models:/churn/1 was deployed to churn but carries no mlops.audit.head.churn tag',
      }),
    ]);
  });
});
