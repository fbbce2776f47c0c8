/**
 * The README's sandbox timings against the emulator's own clock. The scaffold's config (what
 * `mlops init` writes) is loaded, its cutover turned into the DeploymentConfig promote sends, and
 * the emulator's deployment engine (default durations) runs the second promote's three endpoint
 * updates in emulated time, pushed forward by hand, recording when each phase ends. Divided by the
 * sandbox's default time scale, those are the wall times a user of the README's block waits: the
 * figures README.md states must be these.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_TIME_SCALE } from '../../src/commands/sandbox.js';
import { loadConfig } from '../../src/config/load.js';
import type { DeployConfig } from '../../src/config/schema.js';
import { durationMs } from '../../src/core/duration.js';
import { deploymentConfigSpec } from '../../src/core/sagemaker-requests.js';
import { renderTemplate } from '../../src/core/template.js';
import { Clock } from '../../src/emulator/clock.js';
import { ControlPlane, DEFAULT_DURATIONS } from '../../src/emulator/control-plane.js';
import type { ModelServerPool } from '../../src/emulator/model-servers.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The sandbox section of README.md, on one line. */
const readme = () => {
  const section = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    .split(/^## /m)
    .find((s) => s.startsWith('Rehearse without AWS'));
  if (!section) throw new Error('README.md has no "## Rehearse without AWS" section');
  return section.replace(/\s+/g, ' ');
};

/** The number a README sentence states in the capture group of `re`. */
function stated(re: RegExp): number {
  const m = re.exec(readme());
  expect(m, `README's sandbox section says ${re.source}`).not.toBeNull();
  return Number(m![1]);
}

let dir: string;
let deploy: DeployConfig;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-sandbox-timings-'));
  const vars = {
    name: 'rehearsal',
    experiment: 'rehearsal',
    model: 'rehearsal',
    endpoint: 'rehearsal-prod',
    bucket: 'rehearsal-mlops',
    auditBucket: 'rehearsal-mlops-audit',
    accountId: '123456789012',
    region: 'us-east-1',
    version: '0.0.0',
  };
  writeFileSync(
    path.join(dir, 'mlops.config.yaml'),
    renderTemplate(readFileSync(path.join(ROOT, 'templates', 'mlops.config.yaml'), 'utf8'), vars),
  );
  const loaded = (await loadConfig({ cwd: dir, env: {} })).config.deploy;
  if (!loaded) throw new Error("the scaffold's config has no deploy section");
  deploy = loaded;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs UpdateEndpoint calls on the emulator's engine with a stopped clock moved by hand, one
 * emulated second at a time, and returns the emulated seconds each update took to InService and
 * the seconds its phases ended at, relative to the update's start.
 */
async function emulatedUpdates(updates: Array<{ config: string; deployment?: ReturnType<typeof deploymentConfigSpec> }>) {
  // Real time hardly moves this clock: only advance() does.
  const clock = new Clock(1e-9);
  const pool = { acquire: () => Promise.resolve({ url: 'http://127.0.0.1:9' }), release: () => Promise.resolve() };
  const cp = new ControlPlane({
    clock,
    pool: pool as unknown as ModelServerPool,
    s3: { send: () => Promise.resolve({}) } as unknown as S3Client,
    cloudWatch: { send: () => Promise.resolve({ MetricAlarms: [] }) } as unknown as CloudWatchClient,
    region: 'us-east-1',
    account: '123456789012',
    durations: DEFAULT_DURATIONS,
    log: () => {},
  });
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  const container = (v: string) => ({ Image: 'mlflow-pyfunc', ModelDataUrl: `s3://rehearsal-mlops/models/${v}/model.tar.gz` });
  const variant = (name: string, model: string, weight = 1) => ({
    VariantName: name,
    ModelName: model,
    InitialInstanceCount: 1,
    InstanceType: 'ml.m5.large',
    InitialVariantWeight: weight,
  });
  await cp.call('CreateModel', { ModelName: 'v1', PrimaryContainer: container('v1') });
  await cp.call('CreateModel', { ModelName: 'v2', PrimaryContainer: container('v2') });
  await cp.call('CreateEndpointConfig', { EndpointConfigName: 'first', ProductionVariants: [variant('AllTraffic', 'v1')] });
  await cp.call('CreateEndpointConfig', {
    EndpointConfigName: 'smoke',
    ProductionVariants: [variant('AllTraffic', 'v1'), variant('smoke', 'v2', 0)],
  });
  await cp.call('CreateEndpointConfig', {
    EndpointConfigName: 'shadow',
    ProductionVariants: [variant('AllTraffic', 'v1')],
    ShadowProductionVariants: [variant('candidate', 'v2')],
  });
  await cp.call('CreateEndpointConfig', { EndpointConfigName: 'final', ProductionVariants: [variant('AllTraffic', 'v2')] });

  const ep = () => cp.endpoints.get('rehearsal-prod')!;
  const untilInService = async () => {
    const start = clock.now();
    const phases: Array<{ phase: string; endedAt: number }> = [];
    let phase = '';
    for (let s = 0; s < 24 * 3600; s++) {
      await settle();
      const now = ep().status === 'InService' ? 'InService' : (ep().pending?.phase ?? ep().status);
      if (now !== phase) {
        if (phase) phases.push({ phase, endedAt: Math.round((clock.now() - start) / 1000) });
        phase = now;
      }
      if (now === 'InService') return { seconds: Math.round((clock.now() - start) / 1000), phases };
      clock.advance(1);
    }
    throw new Error(`still ${ep().status} after a day of emulated time`);
  };

  await cp.call('CreateEndpoint', { EndpointName: 'rehearsal-prod', EndpointConfigName: 'first' });
  const created = await untilInService();
  const results = [];
  for (const u of updates) {
    await cp.call('UpdateEndpoint', {
      EndpointName: 'rehearsal-prod',
      EndpointConfigName: u.config,
      ...(u.deployment ? { DeploymentConfig: u.deployment } : {}),
    });
    results.push(await untilInService());
  }
  await cp.shutdown();
  clock.dispose();
  return { created, updates: results };
}

describe("the README's sandbox timings are the emulator's, at the default time scale", () => {
  it('states how long the first endpoint, the smoke and shadow updates and the canary cutover take', async () => {
    // The cutover promote sends for the scaffold's config; alarms are read from CloudWatch while it
    // runs, which does not change its schedule, so none are needed here.
    const deployment = deploymentConfigSpec(deploy, []);
    const run = await emulatedUpdates([{ config: 'smoke' }, { config: 'shadow' }, { config: 'final', deployment }]);
    const [smoke, shadow, cutover] = run.updates;
    const wall = (emulatedSeconds: number) => emulatedSeconds / DEFAULT_TIME_SCALE;

    // The canary bakes `wait` at its share and again with all the traffic (SageMaker's final baking
    // period), then the old fleet waits terminationWait: the cutover's phases show both bakes.
    const cut = deploy.cutover;
    if (cut.type !== 'canary') throw new Error(`the scaffold's cutover is ${cut.type}, not canary`);
    const wait = durationMs(cut.wait) / 1000;
    const termination = durationMs(deploy.terminationWait) / 1000;
    const phase = (name: string) => cutover.phases.find((p) => p.phase === name)!.endedAt;
    expect(phase('Baking 1/2') - phase('ActivatingTraffic 1/2')).toBe(wait);
    expect(phase('Baking 2/2') - phase('ActivatingTraffic 2/2')).toBe(wait);
    expect(phase('TerminationWait') - phase('Baking 2/2')).toBe(termination);

    expect(stated(/the canary cutover, about (\d+) minutes/)).toBe(Math.round(wall(cutover.seconds) / 60));
    expect(stated(/a new endpoint is InService in about (\d+) s/)).toBe(Math.round(wall(run.created.seconds)));
    expect(smoke.seconds).toBe(shadow.seconds);
    expect(stated(/two endpoint updates of (\d+) s each/)).toBe(Math.round(wall(shadow.seconds)));
    expect(stated(/\d+ s to provision the new fleet and move (\d+)% of the traffic/)).toBe(cut.size);
    expect(stated(/(\d+) s to provision the new fleet and move/)).toBe(Math.round(wall(phase('ActivatingTraffic 1/2'))));
    expect(stated(new RegExp(`\`wait: ${String(cut.wait)}\` \\((\\d+) minutes?\\)`))).toBe(wall(wait) / 60);
    expect(stated(/the same wait again [^(]*\([^:]*: (\d+) minutes?\)/)).toBe(wall(wait) / 60);
    expect(stated(new RegExp(`\`terminationWait: ${String(deploy.terminationWait)}\` \\((\\d+) s\\)`))).toBe(wall(termination));
    expect(stated(/(\d+) s to move the rest/)).toBe(Math.round(wall(phase('ActivatingTraffic 2/2') - phase('Baking 1/2'))));
  });
});
