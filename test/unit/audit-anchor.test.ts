/**
 * promote anchors the audit chain outside the audit bucket: every deployment record it saves
 * quotes the chain's head, and `audit verify` checks those heads (over in-memory fakes).
 */
import { describe, expect, it } from 'vitest';
import { deploymentAnchors, openAuditLog } from '../../src/adapters/audit-log.js';
import { MemoryMetrics } from '../../src/adapters/cloudwatch.js';
import { MemorySageMaker } from '../../src/adapters/sagemaker.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { configSchema } from '../../src/config/schema.js';
import { sealRecord, type AuditRecord } from '../../src/core/audit.js';
import type { DeployPorts } from '../../src/core/ports.js';
import { runPromote } from '../../src/core/promote-run.js';

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

function ports(): DeployPorts & { store: MemoryStore } {
  let t = Date.parse('2026-03-01T00:00:00Z');
  const now = () => new Date(t);
  const store = new MemoryStore(now);
  const aliases = new Map<string, string>();
  return {
    sagemaker: new MemorySageMaker({ busyPolls: 1 }),
    metrics: new MemoryMetrics(),
    store,
    registry: {
      getVersion: async (_n, version) => ({ version }),
      getAlias: async (_n, alias) => aliases.get(alias),
      setAlias: async (_n, alias, version) => void aliases.set(alias, version),
      deleteAlias: async (_n, alias) => void aliases.delete(alias),
    },
    packager: { package: async (_c, dest) => void (await store.putBytes('models', dest.replace('s3://models/', ''), new Uint8Array([1]))) },
    capture: { read: async function* () {} },
    audit: openAuditLog({ store, location: { bucket: 'audit', prefix: 'trail' }, endpoint: 'churn', retentionDays: 1, now }),
    clock: { now, sleep: async (ms) => void (t += ms) },
    log: () => {},
  };
}

describe('audit chain anchored in deployment records', () => {
  it('promote saves the head of the chain with the deployment record, and verify checks it', async () => {
    const p = ports();
    const settings = { deploy, registeredModel: 'churn', alias: 'production', actor: 't@h', waitBudgetMs: 60_000, pollMs: 1000 };
    const r = await runPromote(p, settings, { registeredModel: 'churn', version: '1' });
    expect(r.outcome).toBe('done');

    const anchors = await deploymentAnchors(p.store, deploy);
    expect(anchors).toHaveLength(1);
    const [anchor] = anchors;
    expect(anchor.source).toBe(`s3://state/deployments/churn/deployments/${r.deployment!.id}.json`);
    const anchored = (await p.store.getJson<AuditRecord>('audit', `trail/churn/${String(anchor.seq).padStart(12, '0')}.json`))!.value;
    expect(anchored.hash).toBe(anchor.hash);
    expect(await p.audit.verify(anchors)).toMatchObject({ ok: true, anchors: 1 });

    // The anchored record and everything after it rewritten, re-hashed, as new versions with the
    // originals removed for good (what an unlocked bucket allows): only the anchor tells.
    const keys = (await p.store.list('audit', 'trail/churn/')).slice(anchor.seq - 1);
    let prev = (await p.store.getJson<AuditRecord>('audit', `trail/churn/${String(anchor.seq - 1).padStart(12, '0')}.json`))!.value;
    for (const key of keys) {
      p.store.history.delete(`audit/${key}`);
      prev = await sealRecord({ kind: 'stage', action: 'forged', endpoint: 'churn', actor: 'x' }, prev, new Date(Date.parse(prev.at) + 1));
      await p.store.putJson('audit', key, prev, { retention: { mode: 'COMPLIANCE', until: new Date(Date.parse(prev.at) + 86_400_000) } });
    }
    const report = await p.audit.verify(anchors);
    expect(report.problems.map((x) => x.kind)).toEqual(['anchor-mismatch']);
  });
});
