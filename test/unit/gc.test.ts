import { describe, expect, it } from 'vitest';
import { advance, newDeployment, type DeploymentRecord, type Stage } from '../../src/core/deployment.js';
import { planGc } from '../../src/core/gc.js';

/** Deployment of version v at minute v, chained: each one's previous is the one before it. */
function history(stages: Stage[]): DeploymentRecord[] {
  const out: DeploymentRecord[] = [];
  stages.forEach((stage, i) => {
    const before = out.at(-1);
    const r = newDeployment({
      endpoint: 'churn',
      candidate: { registeredModel: 'm', version: String(i + 1) },
      previous: before ? { endpointConfig: before.names.finalConfig, model: before.names.model } : undefined,
      artifactPrefix: 's3://b/models',
      now: new Date(Date.UTC(2026, 10, 30, 10, i)),
    });
    out.push(stage === 'package' ? r : advance(r, stage, new Date(Date.UTC(2026, 10, 30, 10, i, 30))));
  });
  return out;
}

const ids = (xs: { deployment: string }[]) => [...new Set(xs.map((x) => x.deployment))];

describe('planGc', () => {
  it('keeps the newest `retain` finished deployments and deletes every resource of the older ones, oldest first', () => {
    const rs = history(['done', 'done', 'done', 'done', 'done']);
    const live = { endpointConfig: rs[4].names.finalConfig, models: [rs[4].names.model] };
    const plan = planGc({ records: rs, retain: 2, currentId: rs[4].id, live });
    expect(plan.kept.map((k) => k.deployment)).toEqual([rs[4].id, rs[3].id]);
    // The current deployment's rollback target (rs[3]) is kept anyway; rs[2] is older than that.
    expect(ids(plan.remove)).toEqual([rs[0].id, rs[1].id, rs[2].id]);
    const first = plan.remove.filter((x) => x.deployment === rs[0].id);
    expect(first.map((x) => x.kind).sort()).toEqual([
      'alarm',
      'alarm',
      'alarm',
      'artifact',
      'endpoint-config', // smoke, shadow, final, restore
      'endpoint-config',
      'endpoint-config',
      'endpoint-config',
      'model',
    ]);
    expect(first.find((x) => x.kind === 'artifact')?.name).toBe(rs[0].artifact);
  });

  it("never removes what the endpoint serves or a kept deployment's rollback target, even from an old deployment", () => {
    const rs = history(['done', 'done', 'rolled-back', 'done']);
    // rs[3] replaced rs[1]'s model (rs[2] rolled back), so its previous is rs[1]'s, which is old by count.
    rs[3] = { ...rs[3], previous: { endpointConfig: rs[1].names.finalConfig, model: rs[1].names.model } };
    const plan = planGc({
      records: rs,
      retain: 1,
      currentId: rs[3].id,
      live: { endpointConfig: rs[3].names.finalConfig, models: [rs[3].names.model, rs[0].names.model] },
    });
    const removed = new Set(plan.remove.map((x) => x.name));
    expect(removed.has(rs[1].names.finalConfig)).toBe(false);
    expect(removed.has(rs[1].names.model)).toBe(false);
    expect(removed.has(rs[1].artifact)).toBe(false); // the archive of a model in use
    expect(removed.has(rs[0].names.model)).toBe(false); // a warm variant still serves it
    expect(removed.has(rs[0].artifact)).toBe(false);
    expect(removed.has(rs[1].names.shadowConfig)).toBe(true);
    expect(removed.has(rs[2].names.model)).toBe(true);
    expect(plan.protectedInUse.map((x) => x.name)).toEqual(
      expect.arrayContaining([rs[1].names.finalConfig, rs[1].names.model, rs[0].names.model]),
    );
  });

  it('a deployment still in progress keeps everything, however old', () => {
    const rs = history(['shadow', 'done', 'done', 'done']);
    const plan = planGc({ records: rs, retain: 1, currentId: rs[3].id });
    expect(plan.kept.find((k) => k.deployment === rs[0].id)?.why).toBe('in progress (shadow)');
    expect(ids(plan.remove)).toEqual([rs[1].id, rs[2].id]);
    expect(plan.remove.some((x) => x.deployment === rs[0].id)).toBe(false);
  });

  it('retain below 1 still keeps the current deployment and its rollback target; nothing to do on a young endpoint', () => {
    const rs = history(['done', 'done']);
    const plan = planGc({ records: rs, retain: 0, currentId: rs[1].id });
    expect(plan.kept.map((k) => k.deployment)).toEqual([rs[1].id]);
    expect(plan.remove.map((x) => x.name)).not.toContain(rs[0].names.model);
    expect(plan.remove.map((x) => x.name)).not.toContain(rs[0].names.finalConfig);
    expect(plan.remove.map((x) => x.name)).not.toContain(rs[0].artifact);
    expect(plan.remove.map((x) => x.name)).toContain(rs[0].names.shadowConfig);
    expect(planGc({ records: rs, retain: 3, currentId: rs[1].id }).remove).toEqual([]);
    expect(planGc({ records: [], retain: 3 }).remove).toEqual([]);
  });
});
