import { describe, expect, it } from 'vitest';
import { describeTolerance, evaluateGate, evaluateGates, fmt, pct, type GateSpec } from '../../src/core/gates.js';

const acc = (extra: Partial<GateSpec> = {}): GateSpec => ({ metric: 'accuracy', direction: 'higher', maxRelativeDrop: 0.01, ...extra });
const one = (g: GateSpec, candidate: number | undefined, baseline: number | undefined) =>
  evaluateGate(g, candidate === undefined ? {} : { [g.metric]: candidate }, baseline === undefined ? {} : { [g.metric]: baseline }, 'pass');

describe('relative tolerance, higher is better', () => {
  it('passes a drop of exactly the tolerance (0.9 -> 0.891 is 1%, despite binary float error)', () => {
    expect(0.9 - 0.891).not.toBe(0.009); // the float noise the gate must ignore
    const r = one(acc(), 0.891, 0.9);
    expect(r.verdict).toBe('pass');
    expect(r.checks[0]).toMatchObject({ kind: 'relative', ok: true, limit: 0.01 });
  });
  it('passes just under and fails just over', () => {
    expect(one(acc(), 0.8911, 0.9).verdict).toBe('pass');
    expect(one(acc(), 0.89099, 0.9).verdict).toBe('fail');
    expect(one(acc(), 0.8909999, 0.9).verdict).toBe('fail');
    expect(one(acc(), 0.95, 0.9).verdict).toBe('pass');
  });
  it('says why it failed', () => {
    const r = one(acc(), 0.85, 0.9);
    expect(r.reasons).toEqual(['worse by 5.556% (allowed 1%)']);
    expect(r.delta).toBeCloseTo(-0.05);
    expect(r.relativeDelta).toBeCloseTo(-0.05 / 0.9);
    expect(r.worsening).toBeCloseTo(0.05);
  });
});

describe('lower is better', () => {
  const loss = (extra: Partial<GateSpec> = {}): GateSpec => ({ metric: 'loss', direction: 'lower', maxRelativeDrop: 0.01, ...extra });
  it('treats a rise as the worsening: exactly, under and over the tolerance', () => {
    expect(one(loss(), 0.505, 0.5).verdict).toBe('pass');
    expect(one(loss(), 0.5049, 0.5).verdict).toBe('pass');
    expect(one(loss(), 0.50500001, 0.5).verdict).toBe('fail');
    expect(one(loss(), 0.2, 0.5).verdict).toBe('pass');
  });
  it("absolute tolerance in the metric's units", () => {
    const g = loss({ maxRelativeDrop: undefined, maxAbsoluteDrop: 0.1 });
    expect(one(g, 0.3, 0.2).verdict).toBe('pass'); // 0.3 - 0.2 = 0.09999999999999998 or 0.1: both pass
    expect(one(g, 0.7, 0.6).verdict).toBe('pass'); // 0.7 - 0.6 = 0.09999999999999998
    expect(one(g, 1.1, 1.0).verdict).toBe('pass'); // 1.1 - 1.0 = 0.10000000000000009
    expect(one(g, 1.1001, 1.0).verdict).toBe('fail');
  });
});

describe('limits together', () => {
  it('needs every configured limit to hold', () => {
    const g = acc({ maxRelativeDrop: 0.1, maxAbsoluteDrop: 0.01 });
    const r = one(g, 0.85, 0.9);
    expect(r.verdict).toBe('fail');
    expect(r.checks.map((c) => [c.kind, c.ok])).toEqual([
      ['absolute', false],
      ['relative', true],
    ]);
  });
  it('a floor and ceiling apply with or without a baseline; at the limit passes', () => {
    const g: GateSpec = { metric: 'accuracy', direction: 'higher', min: 0.8 };
    expect(one(g, 0.8, undefined).verdict).toBe('pass');
    expect(one(g, 0.7999, 0.1).verdict).toBe('fail');
    const r = evaluateGate(g, { accuracy: 0.75 }, undefined, 'pass');
    expect(r.verdict).toBe('fail');
    expect(r.reasons).toEqual(['below the floor 0.8']);
    const c: GateSpec = { metric: 'latency', direction: 'lower', max: 120 };
    expect(one(c, 120, undefined).verdict).toBe('pass');
    expect(one(c, 120.5, undefined).verdict).toBe('fail');
  });
  it('a floor alone does not compare with the baseline', () => {
    expect(one({ metric: 'accuracy', direction: 'higher', min: 0.5 }, 0.6, 0.99).verdict).toBe('pass');
  });
  it('a gate without any limit allows no worsening at all', () => {
    const g: GateSpec = { metric: 'accuracy', direction: 'higher' };
    expect(one(g, 0.9, 0.9).verdict).toBe('pass');
    expect(one(g, 0.30000000000000004, 0.1 + 0.2).verdict).toBe('pass');
    expect(one(g, 0.8999, 0.9).verdict).toBe('fail');
    expect(describeTolerance(g)).toBe('no drop');
  });
  it('a baseline of 0: no drop is allowed by a relative limit', () => {
    expect(one(acc(), 0, 0).verdict).toBe('pass');
    expect(one(acc(), 0.1, 0).verdict).toBe('pass');
    expect(one(acc(), -0.1, 0).verdict).toBe('fail');
  });
});

describe('fails closed', () => {
  it('on a missing or NaN candidate metric', () => {
    expect(one(acc(), undefined, 0.9)).toMatchObject({ verdict: 'fail', reasons: ['candidate value is missing'] });
    expect(one(acc(), NaN, 0.9)).toMatchObject({ verdict: 'fail', reasons: ['candidate value is NaN'] });
    expect(one(acc(), Number.MAX_VALUE, 0.9)).toMatchObject({ verdict: 'fail', reasons: ['candidate value is not finite'] });
  });
  it('on a missing or NaN baseline metric when a baseline exists', () => {
    expect(one(acc(), 0.9, undefined)).toMatchObject({ verdict: 'fail', reasons: ['baseline value is missing'] });
    expect(one(acc(), 0.9, NaN)).toMatchObject({ verdict: 'fail', reasons: ['baseline value is NaN'] });
  });
  it('a missing candidate fails even without a baseline', () => {
    const r = evaluateGates({ gates: [acc()], candidate: {}, noBaseline: 'pass' });
    expect(r.verdict).toBe('fail');
  });
});

describe('evaluateGates', () => {
  it('no baseline, policy pass: passes with a warning', () => {
    const r = evaluateGates({ gates: [acc()], candidate: { accuracy: 0.5, f1: 0.4 }, noBaseline: 'pass' });
    expect(r.verdict).toBe('pass');
    expect(r.hasBaseline).toBe(false);
    expect(r.gates[0].verdict).toBe('warn');
    expect(r.warnings[0]).toMatch(/No baseline yet/);
  });
  it('no baseline, policy fail: fails', () => {
    const r = evaluateGates({ gates: [acc()], candidate: { accuracy: 0.5 }, noBaseline: 'fail' });
    expect(r.verdict).toBe('fail');
    expect(r.gates[0].reasons).toEqual(['no baseline to compare with (policy: fail)']);
  });
  it('metrics no gate names are shown but never fail', () => {
    const r = evaluateGates({
      gates: [acc()],
      candidate: { accuracy: 0.9, f1: 0.1, z: NaN },
      baseline: { accuracy: 0.9, f1: 0.9, old: 1 },
      noBaseline: 'pass',
    });
    expect(r.verdict).toBe('pass');
    expect(r.others.map((o) => [o.metric, o.verdict])).toEqual([
      ['f1', 'info'],
      ['old', 'info'],
      ['z', 'info'],
    ]);
    expect(r.others[0].delta).toBeCloseTo(-0.8);
    expect(r.failed).toBe(0);
  });
  it('counts failures across gates', () => {
    const r = evaluateGates({
      gates: [acc(), { metric: 'loss', direction: 'lower', maxAbsoluteDrop: 0.01 }],
      candidate: { accuracy: 0.5, loss: 0.9 },
      baseline: { accuracy: 0.9, loss: 0.1 },
      noBaseline: 'pass',
    });
    expect(r).toMatchObject({ verdict: 'fail', failed: 2 });
  });
});

describe('formatting', () => {
  it('numbers, percentages and tolerances for people', () => {
    expect(fmt(0.9 - 0.891)).toBe('0.009');
    expect(fmt(NaN)).toBe('NaN');
    expect(fmt(undefined)).toBe('—');
    expect(fmt(1234567)).toBe('1.235e+6');
    expect(pct(0.01)).toBe('1%');
    expect(pct(-0.0555555)).toBe('-5.556%');
    expect(describeTolerance(acc({ maxAbsoluteDrop: 0.02, min: 0.8 }))).toBe('drop ≤ 1%, drop ≤ 0.02, ≥ 0.8');
    expect(describeTolerance({ metric: 'loss', direction: 'lower', maxRelativeDrop: 0.05 })).toBe('rise ≤ 5%');
  });
});
