/** promote and rollback over in-memory fakes of SageMaker, CloudWatch, S3 and MLflow. */
import { describe, expect, it } from 'vitest';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { MemoryMetrics } from '../../src/adapters/cloudwatch.js';
import { MemorySageMaker } from '../../src/adapters/sagemaker.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { configSchema, type DeployConfig } from '../../src/config/schema.js';
import type { CapturedPair } from '../../src/core/bake.js';
import type { DeploySettings } from '../../src/core/deploy-target.js';
import { deploymentStore } from '../../src/core/deployment-store.js';
import type { DeployPorts, RegistryPort, SmokePort } from '../../src/core/ports.js';
import { promoteVerdict, runPromote } from '../../src/core/promote-run.js';
import { acquireLock } from '../../src/adapters/lock.js';
import { durationMs } from '../../src/core/duration.js';
import { ConflictError, ExternalError, exitCodeFor } from '../../src/core/errors.js';
import { runRollback } from '../../src/core/rollback-run.js';
import { SHADOW_VARIANT } from '../../src/core/sagemaker-requests.js';

function deployConfig(over: Record<string, unknown> = {}): DeployConfig {
  return configSchema.parse({
    deploy: {
      endpointName: 'churn',
      executionRoleArn: 'arn:aws:iam::123456789012:role/deploy',
      image: 'img:1',
      artifacts: 's3://models/churn',
      dataCapture: { destination: 's3://capture/churn' },
      state: { uri: 's3://state/deployments' },
      lock: { uri: 's3://state/locks' },
      audit: { uri: 's3://audit/trail' },
      shadow: { duration: '1h' },
      bake: { minComparedSamples: 3, latencyStatistic: 'average' },
      cutover: { type: 'canary', size: 10, wait: '5m' },
      ...over,
    },
  }).deploy!;
}

class FakeRegistry implements RegistryPort {
  aliases = new Map<string, string>();
  async getVersion(_n: string, version: string) {
    return { version, runId: `run-${version}` };
  }
  async getAlias(_n: string, alias: string) {
    return this.aliases.get(alias);
  }
  async setAlias(_n: string, alias: string, version: string) {
    this.aliases.set(alias, version);
  }
  async deleteAlias(_n: string, alias: string) {
    this.aliases.delete(alias);
  }
  /** Tags by "name/version", then key. */
  tags = new Map<string, Record<string, string>>();
  /** When set, setVersionTag fails with it (MLflow down). */
  tagFailure?: Error;
  async setVersionTag(name: string, version: string, key: string, value: string) {
    if (this.tagFailure) throw this.tagFailure;
    this.tags.set(`${name}/${version}`, { ...this.tags.get(`${name}/${version}`), [key]: value });
  }
  async versionTags(name: string) {
    return [...this.tags].filter(([k]) => k.startsWith(`${name}/`)).map(([k, tags]) => ({ version: k.slice(name.length + 1), tags }));
  }
}

interface World {
  ports: DeployPorts;
  sm: MemorySageMaker;
  metrics: MemoryMetrics;
  store: MemoryStore;
  registry: FakeRegistry;
  clock: { t: number };
  /** What the shadow answers (production answers "1"). */
  shadowAnswer: { value: string };
}

/** A smoke port whose variants answer as given (production "AllTraffic" answers [1] unless told). */
function smokePort(answers: Record<string, { status: number; body: string }>, calls: string[] = []): SmokePort {
  return {
    example: async (c) => ({ body: '{"inputs": [[1, 2]]}', contentType: 'application/json', source: `example of v${c.version}` }),
    invoke: async (_e, variant) => {
      calls.push(variant);
      return answers[variant] ?? { status: 200, body: '[1]' };
    },
  };
}

function world(opts: { alarmFires?: boolean; busyPolls?: number } = {}): World {
  const clock = { t: Date.parse('2026-03-01T00:00:00Z') };
  const metrics = new MemoryMetrics();
  const sm = new MemorySageMaker({
    busyPolls: opts.busyPolls ?? 2,
    alarmState: async (name) => (opts.alarmFires ? 'ALARM' : ((await metrics.describeAlarms([name]))[0]?.state ?? 'OK')),
  });
  const store = new MemoryStore(() => new Date(clock.t));
  const registry = new FakeRegistry();
  const shadowAnswer = { value: '1' };
  const packager = {
    async package(_c: unknown, dest: string) {
      const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(dest)!;
      await store.putBytes(m[1], m[2], new Uint8Array([1, 2, 3]));
    },
  };
  const capture = {
    async *read(_e: string, variant: string): AsyncIterable<CapturedPair[]> {
      yield Array.from({ length: 5 }, (_, i) => ({
        inferenceId: `id-${i}`,
        input: `${i},${i}`,
        output: variant === SHADOW_VARIANT ? shadowAnswer.value : '1',
      }));
    },
  };
  const ports: DeployPorts = {
    sagemaker: sm,
    metrics,
    store,
    registry,
    packager,
    capture,
    audit: openAuditLog({
      store,
      location: { bucket: 'audit', prefix: 'trail' },
      endpoint: 'churn',
      retentionDays: 1,
      now: () => new Date(clock.t),
    }),
    clock: {
      now: () => new Date(clock.t),
      sleep: async (ms) => {
        clock.t += ms;
      },
    },
    log: () => {},
  };
  return { ports, sm, metrics, store, registry, clock, shadowAnswer };
}

const settings = (deploy: DeployConfig, waitBudgetMs = 60_000): DeploySettings => ({
  deploy,
  registeredModel: 'churn',
  alias: 'production',
  actor: 'test@host',
  waitBudgetMs,
  pollMs: 1000,
});

/** Publishes per-variant invocation metrics, as SageMaker would during the bake. */
async function traffic(w: World, errorsOnShadow = 0) {
  for (const v of ['AllTraffic', SHADOW_VARIANT]) {
    const dims = { EndpointName: 'churn', VariantName: v };
    await w.metrics.putMetricData('AWS/SageMaker', [
      { name: 'Invocations', value: 100, dimensions: dims },
      { name: 'Invocation5XXErrors', value: v === SHADOW_VARIANT ? errorsOnShadow : 0, dimensions: dims },
      { name: 'ModelLatency', value: 2000, dimensions: dims },
    ]);
  }
}

const serving = async (w: World) => {
  const ep = await w.sm.describeEndpoint('churn');
  return ep?.variants.some((v) => (v.weight ?? 0) > 0) ?? false;
};

async function firstDeployment(w: World, deploy: DeployConfig) {
  const r = await runPromote(w.ports, settings(deploy), { registeredModel: 'churn', version: '1' });
  expect(r.outcome).toBe('done');
  return r;
}

describe('promote over fakes', () => {
  it('the first deployment creates the endpoint directly (no shadow) and moves the alias', async () => {
    const w = world();
    const r = await firstDeployment(w, deployConfig());
    expect(r.deployment!.history.map((h) => h.stage)).toEqual(['package', 'cutover', 'done']);
    expect(w.sm.calls.map((c) => c.op)).toEqual(['CreateModel', 'CreateEndpointConfig', 'CreateEndpoint']);
    // The container environment MLflow's own SageMaker deployment sets (mlflow/sagemaker/__init__.py).
    expect(w.sm.calls[0].input).toMatchObject({
      PrimaryContainer: { Environment: { MLFLOW_DEPLOYMENT_FLAVOR_NAME: 'python_function', SERVING_ENVIRONMENT: 'SageMaker' } },
    });
    expect(w.registry.aliases.get('production')).toBe('1');
    expect(await w.ports.audit.verify()).toMatchObject({ ok: true });
    // Run again: nothing to do.
    const again = await runPromote(w.ports, settings(deployConfig()), { registeredModel: 'churn', version: '1' });
    expect(again.outcome).toBe('nothing');
  });

  it('happy path: shadow -> bake (waits, exits, resumes) -> canary -> done', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    const first = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(first.outcome).toBe('advanced');
    expect(first.deployment!.stage).toBe('bake');
    expect(first.waitingFor).toMatch(/^bake until/);
    const ep = await w.sm.describeEndpoint('churn');
    expect(ep!.configName).toBe(first.deployment!.names.shadowConfig);
    expect(ep!.shadowVariants).toEqual([{ name: 'shadow', weight: 1 }]);

    await traffic(w);
    w.clock.t += 3_600_000;
    const second = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(second.outcome).toBe('done');
    const rec = second.deployment!;
    expect(rec.bake?.passed).toBe(true);
    expect(rec.history.map((h) => h.stage)).toEqual(['package', 'shadow', 'bake', 'cutover', 'done']);
    const update = w.sm.calls.filter((c) => c.op === 'UpdateEndpoint').at(-1)!.input as any;
    expect(update.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration).toEqual({
      Type: 'CANARY',
      WaitIntervalInSeconds: 300,
      CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
    });
    expect(update.DeploymentConfig.AutoRollbackConfiguration.Alarms).toHaveLength(3);
    expect([...w.metrics.alarms.values()].map((a) => a.metricName)).toEqual(['Invocation5XXErrors', 'ModelLatency', 'DriftScore']);
    expect(w.metrics.alarms.get(rec.names.alarms[0])!.dimensions.EndpointConfigName).toBe(rec.names.finalConfig);
    expect((await w.sm.describeEndpoint('churn'))!.configName).toBe(rec.names.finalConfig);
    expect(w.registry.aliases.get('production')).toBe('2');
    const audit = await w.ports.audit.verify();
    expect(audit.ok).toBe(true);
    const actions = (await w.ports.audit.tail(50)).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['bake.passed', 'stage.cutover', 'cutover.started', 'stage.done', 'alias.moved']));
  });

  it('a failed bake (shadow disagrees) removes the shadow by itself and ends rolled back', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    const before = (await w.sm.describeEndpoint('churn'))!.configName;
    await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    await traffic(w);
    w.shadowAnswer.value = '0';
    w.clock.t += 3_600_000;
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(r.outcome).toBe('rolled-back');
    expect(r.deployment!.bake!.reasons.join()).toMatch(/agrees with production on 0.00%/);
    expect((await w.sm.describeEndpoint('churn'))!.configName).toBe(before);
    expect(w.registry.aliases.get('production')).toBe('1');
    expect((await w.ports.audit.tail(10)).map((x) => x.action)).toEqual(
      expect.arrayContaining(['bake.failed', 'shadow.removed', 'rollback.done']),
    );
  });

  it('a failed bake (shadow errs) is caught by the error-rate criterion', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    await traffic(w, 20);
    w.clock.t += 3_600_000;
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(r.outcome).toBe('rolled-back');
    expect(r.deployment!.bake!.reasons.join()).toMatch(/error rate 20.00%/);
  });

  it('an alarm during the canary: SageMaker rolls back, promote drops the shadow and reports it', async () => {
    const w = world({ alarmFires: true });
    const d = deployConfig();
    // The first deployment has no alarms (CreateEndpoint), so it succeeds.
    await firstDeployment(w, d);
    await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    await traffic(w);
    w.clock.t += 3_600_000;
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(r.outcome).toBe('rolled-back');
    expect(r.deployment!.reason).toMatch(/SageMaker rolled the cutover back/);
    const ep = await w.sm.describeEndpoint('churn');
    expect(ep!.configName).toBe(r.deployment!.previous!.endpointConfig);
    expect(w.registry.aliases.get('production')).toBe('1');
  });

  it('a shadow update SageMaker keeps failing is tried deploy.shadow.maxUpdateAttempts times, then the deployment fails (exit 1)', async () => {
    const w = world();
    const d = deployConfig({ shadow: { duration: '1h', maxUpdateAttempts: 2 } });
    await firstDeployment(w, d);
    w.sm.opts.failUpdates = true;
    // Scheduled runs that each give up waiting soon: the attempts add up across runs.
    const outcomes: string[] = [];
    let err: unknown;
    for (let run = 0; run < 10 && !err; run++) {
      await runPromote(w.ports, settings(d, 2000), { registeredModel: 'churn', version: '2' }).then(
        (r) => outcomes.push(r.outcome),
        (e: unknown) => (err = e),
      );
    }
    expect(err).toMatchObject({ code: 'DEPLOYMENT_FAILED' });
    expect(exitCodeFor(err)).toBe(1);
    expect((err as Error).message).toMatch(/after 2 UpdateEndpoint attempts \(limit 2; last failure: update failed\)/);
    expect(w.sm.calls.filter((c) => c.op === 'UpdateEndpoint')).toHaveLength(2);
    const rec = (await deploymentStore(w.store, d).current())!;
    expect(rec.stage).toBe('failed');
    expect(rec.updateAttempts).toEqual({ [rec.names.shadowConfig]: 2 });
    expect(rec.reason).toMatch(/after 2 UpdateEndpoint attempts/);
    const failed = (await w.ports.audit.tail(5)).find((x) => x.action === 'deployment.failed')!;
    expect(failed.details).toMatchObject({ updateAttempts: { [rec.names.shadowConfig]: 2 } });
  });

  it('smoke test: the candidate joins at weight 0, answers the example rows like production, then becomes the shadow', async () => {
    const w = world();
    const d = deployConfig();
    const calls: string[] = [];
    w.ports.smoke = smokePort({}, calls);
    await firstDeployment(w, d);
    expect(calls).toEqual(['AllTraffic']);
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(r.deployment!.stage).toBe('bake');
    expect(calls).toEqual(['AllTraffic', 'candidate', 'AllTraffic']);
    const smokeCfg = w.sm.configs.get(r.deployment!.names.smokeConfig!)!;
    expect(smokeCfg.ProductionVariants.map((v) => [v.VariantName, v.InitialVariantWeight])).toEqual([
      ['AllTraffic', 1],
      ['candidate', 0],
    ]);
    const updates = w.sm.calls
      .filter((c) => c.op === 'UpdateEndpoint')
      .map((c) => (c.input as { EndpointConfigName: string }).EndpointConfigName);
    expect(updates).toEqual([r.deployment!.names.smokeConfig, r.deployment!.names.shadowConfig]);
    expect(r.deployment!.smoke).toMatchObject({ passed: true, variant: 'candidate', status: 200, source: 'example of v2' });
    expect((await w.ports.audit.tail(20)).map((x) => x.action)).toContain('smoke.passed');
  });

  it('smoke test failure: the candidate is removed before the shadow starts, exit 1 naming the variant, status and body', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    const before = (await w.sm.describeEndpoint('churn'))!.configName;
    w.ports.smoke = smokePort({ candidate: { status: 500, body: 'ModelError: Received server error (500) from primary: boom' } });
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(r.outcome).toBe('rolled-back');
    expect((await w.sm.describeEndpoint('churn'))!.configName).toBe(before);
    // The shadow config was never created, let alone served.
    expect(w.sm.configs.has(r.deployment!.names.shadowConfig)).toBe(false);
    expect(r.deployment!.smoke).toMatchObject({ passed: false, status: 500, variant: 'candidate' });
    const err = promoteVerdict(r)!;
    expect(exitCodeFor(err)).toBe(1);
    expect(err.message).toMatch(
      /smoke test failed: variant "candidate" answered HTTP 500: ModelError: Received server error \(500\) from primary: boom/,
    );
    expect(w.registry.aliases.get('production')).toBe('1');
    expect((await w.ports.audit.tail(20)).map((x) => x.action)).toEqual(
      expect.arrayContaining(['smoke.failed', 'candidate.removed', 'rollback.done']),
    );
    expect(await w.ports.audit.verify()).toMatchObject({ ok: true });
  });

  it('the run whose smoke test fails exits 1 even when its wait ends before the candidate is removed', async () => {
    const w = world({ busyPolls: 50 });
    const d = deployConfig();
    await firstDeployment(w, d);
    w.ports.smoke = smokePort({ candidate: { status: 503, body: 'unavailable' } });
    let r = await runPromote(w.ports, settings(d, 0), { registeredModel: 'churn', version: '2' });
    for (let i = 0; i < 200 && !r.deployment!.smoke; i++)
      r = await runPromote(w.ports, settings(d, 0), { registeredModel: 'churn', version: '2' });
    expect(r.deployment).toMatchObject({ stage: 'shadow', smoke: { passed: false } });
    expect(r.outcome).not.toBe('rolled-back');
    expect(promoteVerdict(r)!.message).toMatch(
      /failed its smoke test \(variant "candidate" answered HTTP 503: unavailable\); the candidate is being removed/,
    );
    expect(exitCodeFor(promoteVerdict(r))).toBe(1);
    const later = await runPromote(w.ports, settings(d, 600_000), { registeredModel: 'churn', version: '2' });
    expect(later.outcome).toBe('rolled-back');
    expect(exitCodeFor(promoteVerdict(later))).toBe(1);
  });

  it('rollback while the candidate waits for its smoke test puts the previous config back', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    const before = (await w.sm.describeEndpoint('churn'))!.configName;
    w.ports.smoke = smokePort({});
    const r = await runPromote(w.ports, settings(d, 0), { registeredModel: 'churn', version: '2' });
    expect(w.sm.endpoints.get('churn')!.pending?.config).toBe(r.deployment!.names.smokeConfig);
    const rb = await runRollback(w.ports, settings(d), 'operator');
    expect(rb.outcome).toBe('rolled-back');
    expect((await w.sm.describeEndpoint('churn'))!.configName).toBe(before);
  });

  it('smoke test: an answer of another shape than production fails it', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    w.ports.smoke = smokePort({ candidate: { status: 200, body: '{"predictions": ["a", "b"]}' } });
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(r.outcome).toBe('rolled-back');
    expect(r.deployment!.reason).toMatch(
      /2 value\(s\): string, but production variant "AllTraffic" answers the same rows with 1 value\(s\): number/,
    );
  });

  it('smoke test of a first deployment: a failing new endpoint is deleted and the deployment ends rolled back', async () => {
    const w = world();
    const d = deployConfig();
    w.ports.smoke = smokePort({ AllTraffic: { status: 200, body: '' } });
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '1' });
    expect(r.outcome).toBe('rolled-back');
    expect(await w.sm.describeEndpoint('churn')).toBeUndefined();
    expect(r.deployment!.reason).toMatch(/variant "AllTraffic" answered HTTP 200 with a body that does not parse/);
    expect(w.sm.calls.map((c) => c.op)).toContain('DeleteEndpoint');
    expect(w.registry.aliases.get('production')).toBeUndefined();
  });

  it('smoke test without example rows fails closed: rolled back before any endpoint change, the fix named', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    const before = (await w.sm.describeEndpoint('churn'))!.configName;
    w.ports.smoke = { ...smokePort({}), example: async () => undefined };
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    expect(r.outcome).toBe('rolled-back');
    expect(r.deployment!.smoke).toMatchObject({ skipped: true, passed: false, reason: expect.stringMatching(/input_example/) });
    expect(r.deployment!.reason).toMatch(/deploy\.smokeTest\.enabled: false/);
    expect(w.sm.configs.has(r.deployment!.names.smokeConfig!)).toBe(false);
    expect((await w.sm.describeEndpoint('churn'))!.configName).toBe(before);
    expect(w.sm.calls.map((c) => c.op)).not.toContain('UpdateEndpoint');
    expect(w.registry.aliases.get('production')).toBe('1');
  });

  it('a first deployment without example rows fails its smoke test before an endpoint is created for it', async () => {
    const w = world();
    const d = deployConfig();
    w.ports.smoke = { ...smokePort({}), example: async () => undefined };
    const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '1' });
    expect(r.outcome).toBe('rolled-back');
    expect(r.deployment!.smoke).toMatchObject({ skipped: true, passed: false, reason: expect.stringMatching(/input_example/) });
    expect(await w.sm.describeEndpoint('churn')).toBeUndefined();
    const ops = w.sm.calls.map((c) => c.op);
    expect(ops).not.toContain('CreateEndpoint');
    expect(ops).not.toContain('DeleteEndpoint');
    expect(w.registry.aliases.get('production')).toBeUndefined();
  });

  it('a second candidate while one is in progress is refused as a check (exit 1), not as a held lock (exit 4)', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    const err = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '3' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DEPLOYMENT_IN_PROGRESS' });
    expect(exitCodeFor(err)).toBe(1);
    expect((err as Error).message).toMatch(/cannot start version 3: deployment \S+ of version 2 is still in progress \(stage bake\)/);
  });

  it('the run that judges a bake failed exits 1 even when its wait ends before the shadow is removed', async () => {
    const w = world({ busyPolls: 50 });
    const d = deployConfig();
    await firstDeployment(w, d);
    await runPromote(w.ports, settings(d, 0), { registeredModel: 'churn', version: '2' });
    await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
    await traffic(w);
    w.shadowAnswer.value = '0';
    w.clock.t += 3_600_000;
    const judged = await runPromote(w.ports, settings(d, 5_000), { registeredModel: 'churn', version: '2' });
    expect(judged.deployment).toMatchObject({ stage: 'bake', bake: { passed: false } });
    expect(judged.outcome).not.toBe('rolled-back');
    expect(promoteVerdict(judged)).toMatchObject({ code: 'PROMOTION_ROLLED_BACK' });
    expect(exitCodeFor(promoteVerdict(judged))).toBe(1);
    const later = await runPromote(w.ports, settings(d, 600_000), { registeredModel: 'churn', version: '2' });
    expect(later.outcome).toBe('rolled-back');
    expect(exitCodeFor(promoteVerdict(later))).toBe(1);
  });

  it('a holder that renews is never preempted: a second writer is refused at every wait of a long bake', async () => {
    const w = world();
    const d = deployConfig({ shadow: { duration: '30m' }, lock: { uri: 's3://state/locks', expiry: '30s' } });
    await firstDeployment(w, d);
    const now = () => w.ports.clock.now();
    const lockAt = { bucket: 'state', prefix: 'locks' };
    const expiryMs = durationMs(d.lock.expiry);
    const held = await acquireLock({
      store: w.store,
      location: lockAt,
      endpoint: 'churn',
      me: { token: 'a', who: 'a@x', pid: 1, command: 'promote' },
      expiryMs,
      clock: { now },
    });
    let attempts = 0;
    const base = w.ports.clock;
    const ports: DeployPorts = {
      ...w.ports,
      heartbeat: () => held.heartbeat(),
      clock: {
        now,
        async sleep(ms, signal) {
          await base.sleep(ms, signal);
          attempts++;
          const other = await acquireLock({
            store: w.store,
            location: lockAt,
            endpoint: 'churn',
            me: { token: 'b', who: 'b@y', pid: 2, command: 'promote' },
            expiryMs,
            clock: { now },
          }).catch((e: unknown) => e);
          expect(other, `second writer got the lock after ${attempts} waits`).toBeInstanceOf(ConflictError);
        },
      },
    };
    const r = await runPromote(ports, { ...settings(d, 3_600_000), pollMs: 5_000 }, { registeredModel: 'churn', version: '2' });
    expect(r.deployment!.stage).not.toBe('shadow');
    expect(attempts).toBeGreaterThan(10);
  });

  it('a first deployment stuck at package (artifact missing) is abandoned by rollback, with a completed audit record', async () => {
    const w = world();
    const d = deployConfig();
    const missing = new ExternalError('MODEL_ARTIFACT_MISSING', 'the run has no model artifact');
    const ports: DeployPorts = { ...w.ports, packager: { package: () => Promise.reject(missing) } };
    await expect(runPromote(ports, settings(d), { registeredModel: 'churn', version: '1' })).rejects.toBe(missing);
    expect((await deploymentStore(w.store, d).current())!.stage).toBe('package');
    const r = await runRollback(w.ports, settings(d), 'abandon');
    expect(r.outcome).toBe('rolled-back');
    expect(r.deployment!.stage).toBe('rolled-back');
    const actions = (await w.ports.audit.tail(10)).map((x) => x.action);
    expect(actions.slice(-2)).toEqual(['rollback.started', 'rollback.done']);
    expect((await w.ports.audit.verify()).ok).toBe(true);
    // The endpoint is free for the next candidate.
    expect((await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' })).outcome).toBe('done');
  });

  it('a rollback with nothing to do writes no rollback.started that nothing completes', async () => {
    const w = world();
    const d = deployConfig();
    await firstDeployment(w, d);
    const before = (await w.ports.audit.tail(50)).length;
    expect((await runRollback(w.ports, settings(d), 'nothing')).outcome).toBe('nothing');
    expect((await w.ports.audit.tail(50)).length).toBe(before);
  });

  it('killed after any side effect and run again, it converges to done, always serving', async () => {
    for (let killAfter = 0; ; killAfter++) {
      const w = world();
      const d = deployConfig({ shadow: { duration: '10s' } });
      await firstDeployment(w, d);
      await traffic(w);
      // The "kill": every mutating call after the first `killAfter` ones throws, so the run stops
      // exactly there, with whatever it wrote so far.
      let budget = killAfter;
      const killed = new Error('SIGKILL');
      const guard = <T extends object>(o: T, names: string[]): T =>
        new Proxy(o, {
          get(target, prop, recv) {
            const v = Reflect.get(target, prop, recv);
            if (typeof v !== 'function' || !names.includes(String(prop))) return typeof v === 'function' ? v.bind(target) : v;
            return (...args: unknown[]) => {
              if (budget-- <= 0) throw killed;
              return v.apply(target, args);
            };
          },
        });
      const mutating = [
        'createModel',
        'createEndpointConfig',
        'createEndpoint',
        'updateEndpoint',
        'addTags',
        'putJson',
        'putBytes',
        'putMetricAlarm',
        'setAlias',
      ];
      const crashing: DeployPorts = {
        ...w.ports,
        sagemaker: guard(w.sm, mutating),
        store: guard(w.store, mutating),
        metrics: guard(w.metrics, mutating),
        registry: guard(w.registry, mutating),
      };
      crashing.audit = openAuditLog({
        store: crashing.store,
        location: { bucket: 'audit', prefix: 'trail' },
        endpoint: 'churn',
        retentionDays: 1,
      });
      let crashed = false;
      try {
        await runPromote(crashing, settings(d), { registeredModel: 'churn', version: '2' });
      } catch (e) {
        if (e !== killed) throw e;
        crashed = true;
      }
      expect(await serving(w)).toBe(true);
      const r = await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
      expect([r.outcome, killAfter]).toEqual([crashed ? 'done' : 'nothing', killAfter]);
      expect(await serving(w)).toBe(true);
      expect(w.registry.aliases.get('production')).toBe('2');
      expect((await w.ports.audit.verify()).ok).toBe(true);
      if (!crashed) break;
      expect(killAfter).toBeLessThan(60);
    }
  });
});

describe('rollback over fakes', () => {
  async function atStage(stage: 'shadow' | 'bake' | 'cutover' | 'done', d = deployConfig()) {
    const w = world({ busyPolls: stage === 'cutover' ? 6 : 2 });
    await firstDeployment(w, d);
    const prevConfig = (await w.sm.describeEndpoint('churn'))!.configName;
    if (stage === 'shadow') {
      // Stop right after the shadow UpdateEndpoint: the endpoint is Updating.
      await runPromote(w.ports, { ...settings(d), waitBudgetMs: 0 }, { registeredModel: 'churn', version: '2' });
      expect((await deploymentStore(w.store, d).current())!.stage).toBe('shadow');
    } else {
      await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' });
      if (stage !== 'bake') {
        await traffic(w);
        w.clock.t += 3_600_000;
        await runPromote(
          w.ports,
          { ...settings(d), waitBudgetMs: stage === 'cutover' ? 0 : 60_000 },
          { registeredModel: 'churn', version: '2' },
        );
      }
    }
    expect((await deploymentStore(w.store, d).current())!.stage).toBe(stage);
    return { w, d, prevConfig };
  }

  for (const stage of ['shadow', 'bake', 'cutover', 'done'] as const) {
    it(`from ${stage}: the previous config serves again, alias restored, audited`, async () => {
      const { w, d, prevConfig } = await atStage(stage);
      const r = await runRollback(w.ports, settings(d), 'test');
      expect(r.outcome).toBe('rolled-back');
      const ep = (await w.sm.describeEndpoint('churn'))!;
      expect(ep.configName).toBe(prevConfig);
      expect(ep.status).toBe('InService');
      expect(w.registry.aliases.get('production')).toBe('1');
      if (stage === 'cutover') expect(r.steps[0]).toMatch(/SetAlarmState/);
      expect((await w.ports.audit.tail(1))[0].action).toBe('rollback.done');
      expect((await w.ports.audit.verify()).ok).toBe(true);
      expect((await runRollback(w.ports, settings(d), 'again')).outcome).toBe('nothing');
    });
  }

  it('keep-warm: after done, rollback is a single weights-only SageMaker call', async () => {
    const d = deployConfig({ rollback: { strategy: 'keep-warm' } });
    const { w } = await atStage('done', d);
    const before = w.sm.calls.length;
    const r = await runRollback(w.ports, settings(d), 'drift');
    expect(r.outcome).toBe('rolled-back');
    expect(w.sm.calls.slice(before).map((c) => c.op)).toEqual(['UpdateEndpointWeightsAndCapacities']);
    const ep = (await w.sm.describeEndpoint('churn'))!;
    expect(Object.fromEntries(ep.variants.map((v) => [v.name, v.weight]))).toEqual({ AllTraffic: 0, 'AllTraffic-warm': 1 });
    // The next promotion shadows the model that serves now (the warm one), not the rolled-back one.
    await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '3' });
    const next = (await deploymentStore(w.store, d).current())!;
    expect(next.previous!.model).toMatch(/-v1-model$/);
  });

  it('keep-warm: after a weights-only rollback, a later config-based rollback serves the good model, not the rolled-back one', async () => {
    const d = deployConfig({ rollback: { strategy: 'keep-warm' } });
    const { w } = await atStage('done', d);
    expect((await runRollback(w.ports, settings(d), 'drift')).outcome).toBe('rolled-back');
    // v3 starts from what serves now (v1 on the warm variant); its bake fails: the shadow is
    // dropped by going back to the remembered config, which must serve v1 as it did.
    await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '3' });
    expect((await deploymentStore(w.store, d).current())!.stage).toBe('bake');
    const r = await runRollback(w.ports, settings(d), 'stop v3');
    expect(r.outcome).toBe('rolled-back');
    const ep = (await w.sm.describeEndpoint('churn'))!;
    const cfg = (await w.sm.describeEndpointConfig(ep.configName))!;
    const servingModels = ep.variants
      .filter((v) => (v.weight ?? 0) > 0)
      .map((v) => cfg.productionVariants.find((p) => p.name === v.name)!.model);
    expect(servingModels).toEqual([expect.stringMatching(/-v1-model$/)]);
  });

  describe('a deployment record edited in the state bucket steers a rollback: audit verify says so', () => {
    const recordKey = (id: string) => `deployments/churn/deployments/${id}.json`;

    it('another config to go back to and another alias version: the rollback contradicts deployment.started', async () => {
      const { w, d } = await atStage('done');
      expect(await w.ports.audit.verify()).toMatchObject({ ok: true });
      const rec = (await deploymentStore(w.store, d).current())!;
      // An existing config of this endpoint that is not the one serving before this deployment.
      const forged = { ...rec, previous: { ...rec.previous!, endpointConfig: rec.names.shadowConfig }, previousAliasVersion: '7' };
      await w.store.putJson('state', recordKey(rec.id), forged);
      expect((await runRollback(w.ports, settings(d), 'drift')).outcome).toBe('rolled-back');
      const report = await w.ports.audit.verify();
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.kind)).toEqual(['contradicted', 'contradicted']);
      expect(report.problems[0].message).toMatch(
        new RegExp(
          `went back to endpoint config "${rec.names.shadowConfig}", but its deployment.started \\(record #\\d+\\) says "${rec.previous!.endpointConfig}"`,
        ),
      );
      expect(report.problems[1].message).toMatch(/restored the alias to "7", but .* says "1"/);
    });

    it('the pointer moved back to an older deployment: its rollback is reported', async () => {
      const { w, d } = await atStage('done');
      const v2 = (await deploymentStore(w.store, d).current())!;
      await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '3' });
      await traffic(w);
      w.clock.t += 3_600_000;
      expect((await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '3' })).outcome).toBe('done');
      const v3 = (await deploymentStore(w.store, d).current())!;
      await w.store.putJson('state', 'deployments/churn/current.json', { id: v2.id });
      expect((await runRollback(w.ports, settings(d), 'drift')).outcome).toBe('rolled-back');
      const report = await w.ports.audit.verify();
      expect(report.problems).toEqual([
        expect.objectContaining({
          kind: 'contradicted',
          message: expect.stringContaining(`rolls back deployment ${v2.id}, but deployment ${v3.id} started after it`),
        }),
      ]);
    });

    for (const strategy of ['config', 'keep-warm'] as const) {
      it(`an untouched history (${strategy}) of promotions, rollbacks split over runs, an abandoned one and a failed bake is not reported`, async () => {
        const w = world();
        const d = deployConfig({ rollback: { strategy } });
        const promoteToDone = async (version: string) => {
          await runPromote(w.ports, settings(d), { registeredModel: 'churn', version });
          await traffic(w);
          w.clock.t += 3_600_000;
          expect((await runPromote(w.ports, settings(d), { registeredModel: 'churn', version })).outcome).toBe('done');
        };
        await firstDeployment(w, d);
        await promoteToDone('2');
        await promoteToDone('3');
        expect((await runRollback(w.ports, settings(d), 'by hand')).outcome).toBe('rolled-back');
        await promoteToDone('4');
        // monitor's rollback whose wait ends first, finished by the next run
        await runRollback(w.ports, { ...settings(d), waitBudgetMs: 0 }, 'drift');
        await runRollback(w.ports, settings(d), 'drift');
        expect((await deploymentStore(w.store, d).current())!.stage).toBe('rolled-back');
        // a promotion stopped during its bake, then a bake that fails inside promote
        await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '5' });
        expect((await runRollback(w.ports, settings(d), 'stop 5')).outcome).toBe('rolled-back');
        await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '6' });
        await traffic(w, 100);
        w.clock.t += 3_600_000;
        expect((await runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '6' })).outcome).toBe('rolled-back');

        const trail = await w.ports.audit.tail(500);
        // The checks had something to check: rollbacks that name what they restored.
        expect(trail.filter((r) => r.action === 'rollback.done' && r.details && 'alias' in r.details).length).toBeGreaterThan(0);
        expect(trail.filter((r) => r.action === 'shadow.removed').length).toBeGreaterThan(0);
        expect(await w.ports.audit.verify()).toMatchObject({ ok: true, problems: [] });
      });
    }

    it('an untouched rollback is not reported', async () => {
      const { w, d } = await atStage('done');
      expect((await runRollback(w.ports, settings(d), 'drift')).outcome).toBe('rolled-back');
      expect(await w.ports.audit.verify()).toMatchObject({ ok: true, problems: [] });
    });
  });
});

describe('deployment state read from S3 is validated', () => {
  const base = 'deployments/churn';
  async function withState(w: World, current: unknown, record?: (r: Record<string, unknown>) => unknown) {
    const d = deployConfig();
    await firstDeployment(w, d);
    const rec = (await deploymentStore(w.store, d).current())!;
    if (record) await w.store.putJson('state', `${base}/deployments/${rec.id}.json`, record({ ...rec }));
    if (current !== undefined) await w.store.putJson('state', `${base}/current.json`, current === 'keep' ? { id: rec.id } : current);
    return d;
  }
  const cases: [string, unknown, ((r: Record<string, unknown>) => unknown) | undefined, RegExp][] = [
    ['current.json is null', null, undefined, /current\.json is not a deployment pointer.*found null/],
    ['a record with an unknown stage', 'keep', (r) => ({ ...r, stage: 'launching' }), /stage: unknown stage "launching"/],
    [
      'a record whose history is not a list',
      'keep',
      (r) => ({ ...r, history: { stage: 'done' } }),
      /history: expected a list, found an object/,
    ],
    ['a record that is null', 'keep', () => null, /expected a JSON object, found null/],
    [
      // An existing config of this endpoint (one that serves an older model): promote would cut over to it.
      'a record naming another endpoint config than its id gives',
      'keep',
      (r) => ({ ...r, names: { ...(r.names as object), finalConfig: 'churn-20250101000000-v1-final' } }),
      /names\.finalConfig: expected "churn-\d{14}-v1-final" \(from the id\), found "churn-20250101000000-v1-final"/,
    ],
    [
      'a record naming other alarms (rollback would set one to ALARM)',
      'keep',
      (r) => ({ ...r, names: { ...(r.names as object), alarms: ['someone-elses-alarm'] } }),
      /names\.alarms: expected none or churn-.*-5xx.* found "someone-elses-alarm"/,
    ],
    [
      'a record about another endpoint',
      'keep',
      (r) => ({ ...r, endpoint: 'fraud' }),
      /endpoint: expected "churn" \(the state's\), found "fraud"/,
    ],
    [
      'current.json pointing at a missing record',
      { id: '20990101000000-v9' },
      undefined,
      /points at deployment 20990101000000-v9, but its record .* does not exist/,
    ],
  ];
  for (const [name, current, record, message] of cases) {
    it(`${name}: promote and rollback stop with STATE_INVALID (exit 3) and the recovery, touching nothing`, async () => {
      const w = world();
      const d = await withState(w, current, record);
      const calls = w.sm.calls.length;
      for (const run of [
        () => runPromote(w.ports, settings(d), { registeredModel: 'churn', version: '2' }),
        () => runRollback(w.ports, settings(d), 'test'),
      ]) {
        const err = await run().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ExternalError);
        expect(err).toMatchObject({ code: 'STATE_INVALID' });
        expect(exitCodeFor(err)).toBe(3);
        expect((err as Error).message).toMatch(message);
        expect((err as ExternalError).hint).toMatch(/aws s3 rm s3:\/\/state\/deployments\/churn\/current\.json/);
      }
      expect(w.sm.calls.slice(calls).filter((c) => !c.op.startsWith('Describe'))).toEqual([]);
      expect(w.registry.aliases.get('production')).toBe('1');
    });
  }

  it("fields it does not know (another writer's additions) are kept, not rejected", async () => {
    const w = world();
    const d = await withState(w, 'keep', (r) => ({ ...r, auditHead: { seq: 3, hash: 'abc' } }));
    expect(await deploymentStore(w.store, d).current()).toMatchObject({ auditHead: { seq: 3, hash: 'abc' } });
  });
});

describe('promote shows what it read, never obeys it', () => {
  // eslint-disable-next-line no-control-regex -- the point is that none reaches the terminal
  const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
  it('the progress line of the package stage shows the version as printable text', async () => {
    const w = world();
    const logged: string[] = [];
    const ports = { ...w.ports, log: (m: string) => logged.push(m) };
    await runPromote(ports, settings(deployConfig()), { registeredModel: 'churn', version: '1\u001b[2J' });
    const packaging = logged.find((l) => l.startsWith('packaging'));
    expect(packaging).toContain('churn v1\\x1b[2J ->');
    expect(logged.join('\n')).not.toMatch(CONTROL);
  });
});
