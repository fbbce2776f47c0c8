/**
 * The whole pipeline end to end: the demo's scenario (src/demo/scenario.ts) on a local stack of its
 * own (real MLflow, moto, the SageMaker emulator as `node dist/emulator/main.js`, started through
 * src/sandbox/local-stack.ts as `mlops sandbox` and the demo do), with assertions on what each
 * step observed. The scenario runs once in beforeAll; when a step breaks the story it stops there,
 * the steps before it still pass here and that step's test fails with the reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../src/sandbox/local-stack.js';
import { runScenario, ScenarioError, type Observations } from '../../src/demo/scenario.js';
import { VENV } from '../support/peers.js';

let stack: LocalStack | undefined;
let workDir: string;
let observed: Partial<Observations> = {};
let failure: Error | undefined;
let failedStep: string | undefined;

/** The step's observations, or the reason the scenario stopped before or at it. */
function at<K extends keyof Observations>(step: K): Observations[K] {
  const o = observed[step];
  if (!o || failedStep === step) throw failure ?? new Error(`the scenario did not reach step ${step}`);
  return o;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'mlops-e2e-'));
  // Emulated SageMaker time x50: endpoint creation and the canary's 300 s bake take seconds; the
  // real cost is the MLflow scoring servers (7-30 s each on a loaded machine).
  stack = await startLocalStack({ venv: VENV, mode: 'attached', timeScale: 50, baseEnv: process.env });
  try {
    const r = await runScenario({
      workDir,
      venv: VENV,
      urls: stack.urls,
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME, USER: 'e2e', TMPDIR: process.env.TMPDIR, LANG: process.env.LANG },
    });
    observed = r.observed;
  } catch (err) {
    failure = err as Error;
    if (err instanceof ScenarioError) {
      observed = err.observed;
      failedStep = err.step;
    }
  }
}, 20 * 60_000);

afterAll(async () => {
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe.sequential('the pipeline on the local stack', () => {
  it('1. pull: mlops pull brings the DVC-tracked data back from the remote', () => {
    const o = at('pull');
    expect(o.code).toBe(0);
    expect(o.restored).toBe(true);
  });

  it('2. the first model is trained, passes with no baseline, and its first promote creates the endpoint and sets production', () => {
    const o = at('first');
    expect(o).toMatchObject({ trainCode: 0, compareCode: 0, promoteCode: 0, outcome: 'done', alias: '1', endpointStatus: 'InService' });
  });

  it('3. a worse candidate: compare exits 1 with the failing gates in its table', () => {
    const o = at('worse');
    expect(o.trainCode).toBe(0);
    expect(o.compareCode).toBe(1);
    expect(o.table).toMatch(/accuracy .* FAIL/);
  });

  it('4. a better candidate: compare exits 0 against production', () => {
    const o = at('better');
    expect(o.compareCode).toBe(0);
    expect(o.table).toMatch(/baseline:\s+demo@production \(version 1\)/);
    expect(o.table).toMatch(/accuracy .* pass/);
  });

  it('5. promote goes through shadow, bake (on live traffic) and canary to done; the alias moves', () => {
    const o = at('promote');
    expect(o.code).toBe(0);
    expect(o.outcome).toBe('done');
    expect(o.stages).toEqual(['package', 'shadow', 'bake', 'cutover', 'done']);
    expect(o.bakePassed).toBe(true);
    expect(o.comparedSamples).toBeGreaterThanOrEqual(30);
    expect(o.requests).toBeGreaterThan(30);
    expect(o.alias).toBe('2');
    expect(o.endpointConfig).toMatch(/-v2-final$/);
  });

  it('6. shifted inputs: monitor reports drift (exit 1) and rolls back to the previous model', () => {
    const o = at('drift');
    expect(o.code).toBe(1);
    expect(o.status).toBe('drift');
    expect(o.driftedInputs).toBeGreaterThan(5);
    expect(o.rolledBack).toBe(true);
    expect(o.alias).toBe('1');
    expect(o.endpointConfig).toMatch(/-v1-final$/);
    expect(o.report).toMatch(/drift/i);
  });

  it('the audit trail holds every decision and its hash chain is intact', () => {
    const o = at('audit');
    expect(o.code).toBe(0);
    expect(o.ok).toBe(true);
    expect(o.records).toBeGreaterThanOrEqual(10);
    expect(o.location).toBe('s3://demo-mlops-audit/audit/demo-prod/');
    expect(o.statusText).toMatch(/stage rolled-back/);
  });
});
