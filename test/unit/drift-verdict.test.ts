/** Profiles, live summaries, per-feature decisions, the dataset verdict and the window count. */
import { describe, expect, it } from 'vitest';
import { checkDriftMethods, constraintViolations, evaluateDrift, LiveSummary } from '../../src/core/drift/evaluate.js';
import { UserError } from '../../src/core/errors.js';
import { driftMetrics } from '../../src/core/drift/metrics.js';
import { isModelMonitorStatistics, profileFromModelMonitor } from '../../src/core/drift/model-monitor.js';
import { parseNumberRange, profileProblem, ProfileBuilder, type Profile } from '../../src/core/drift/profile.js';
import { scanCapture, windowTest } from '../../src/core/drift/scan.js';
import { advanceState, afterRollback, evaluatedBefore, initialState, rollbackDue } from '../../src/core/drift/windows.js';
import { decodeRecord, readLineFast, recordTime, type CaptureRecord } from '../../src/core/capture.js';
import { mulberry32 } from '../support/random.js';

/** x ~ U(0,1)+shift, y ~ U(0,10), kind in a/b/c (skewed to a when skew), out = x. */
function data(n: number, seed: number, opts: { shift?: number; skew?: boolean } = {}) {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const x = r() + (opts.shift ?? 0);
    const kind = opts.skew ? (r() < 0.8 ? 'a' : 'b') : ['a', 'b', 'c'][Math.floor(r() * 3)];
    return { x, y: r() * 10, kind, out: x };
  });
}

function profileOf(rows: ReturnType<typeof data>): Profile {
  const b = new ProfileBuilder({ outputs: ['out'] });
  b.setColumns(['x', 'y', 'kind', 'out']);
  for (const r of rows) b.addRow([String(r.x), String(r.y), r.kind, String(r.out)]);
  return b.finish();
}

function liveOf(p: Profile, rows: ReturnType<typeof data>): LiveSummary {
  const l = new LiveSummary(p);
  for (const r of rows) {
    l.addInputCsv(`${r.x},${r.y},${r.kind}`);
    l.addOutput([r.out]);
  }
  return l;
}

const baseline = profileOf(data(3000, 1));

describe('profile', () => {
  it('detects kinds, keeps the column order and roles, and validates', () => {
    expect(baseline.inputColumns).toEqual(['x', 'y', 'kind']);
    expect(baseline.outputColumns).toEqual(['out']);
    expect(baseline.features.map((f) => [f.name, f.kind, f.role])).toEqual([
      ['x', 'numeric', 'input'],
      ['y', 'numeric', 'input'],
      ['kind', 'categorical', 'input'],
      ['out', 'numeric', 'output'],
    ]);
    expect(profileProblem(baseline)).toBeUndefined();
    expect(profileProblem({ schema: 'x' })).toMatch(/schema/);
  });

  it('a column turns categorical at its first non-number; missing cells are counted', () => {
    const b = new ProfileBuilder();
    b.addRow({ a: 1, b: '2' });
    b.addRow({ a: 'x', b: '' });
    b.addRow({ a: 3 });
    const p = b.finish();
    expect(p.features[0]).toMatchObject({ name: 'a', kind: 'categorical', count: 3, values: { '1': 1, x: 1, '3': 1 } });
    expect(p.features[1]).toMatchObject({ name: 'b', kind: 'numeric', count: 1, missing: 2 });
  });

  it('parses plain decimals exactly like Number()', () => {
    const r = mulberry32(9);
    for (let i = 0; i < 20000; i++) {
      const s = ((r() - 0.5) * 10 ** Math.floor(r() * 12)).toFixed(Math.floor(r() * 9));
      expect(parseNumberRange(s, 0, s.length)).toBe(Number(s));
    }
    for (const s of ['1e5', '-0.5', '+3', '.5', '1.', ' 7 ', '0x10', '12345678901234567890.5'])
      expect(parseNumberRange(s, 0, s.length)).toBe(Number(s.trim()));
    for (const s of ['', ' ', 'nan', 'NaN', 'abc', '-', '.', 'Infinity']) expect(parseNumberRange(s, 0, s.length)).toBeUndefined();
  });
});

describe('verdict', () => {
  it('baseline-like data: no drift', () => {
    const rep = evaluateDrift(liveOf(baseline, data(2000, 2)));
    expect(rep.dataset.status).toBe('no-drift');
    expect(rep.features.every((f) => f.status === 'ok')).toBe(true);
    expect(constraintViolations(rep)).toEqual({ violations: [] });
  });

  it('a shifted input and its output drift; the violations name them', () => {
    const rep = evaluateDrift(liveOf(baseline, data(2000, 3, { shift: 0.5 })));
    expect(rep.dataset.status).toBe('drift');
    expect(rep.dataset.driftedInputs).toEqual(['x']);
    expect(rep.dataset.outputDrifted).toEqual(['out']);
    expect(rep.dataset.reasons.join(' ')).toMatch(/1 of 3 input features drifted.*output drifted: out/);
    expect(constraintViolations(rep).violations.map((v) => v.feature_name)).toEqual(['x', 'out']);
  });

  it('fewer records than the minimum: insufficient data, never drift, no drift metrics', () => {
    const rep = evaluateDrift(liveOf(baseline, data(50, 4, { shift: 5 })));
    expect(rep.dataset.status).toBe('insufficient-data');
    expect(driftMetrics(rep, 'ep', 'v').map((d) => d.name)).toEqual(['SampleCount']);
  });

  it('per-feature method, threshold, critical and ignore; output drift can be switched off', () => {
    const live = liveOf(baseline, data(2000, 5, { skew: true }));
    const rep = evaluateDrift(live, {
      features: { kind: { method: 'js', threshold: 0.01, critical: true }, x: { ignore: true } },
      outputDrift: false,
    });
    const kind = rep.features.find((f) => f.name === 'kind')!;
    expect(kind).toMatchObject({ method: 'js', threshold: 0.01, status: 'drift', critical: true });
    expect(rep.dataset.criticalDrifted).toEqual(['kind']);
    expect(rep.features.find((f) => f.name === 'x')!.status).toBe('ignored');
    expect(rep.dataset.inputFeatures).toBe(2);
    const chi = evaluateDrift(live, { categoricalMethod: 'chi2' }).features.find((f) => f.name === 'kind')!;
    expect(chi.method).toBe('chi2');
    expect(chi.value).toBeLessThan(0.01);
    expect(chi.status).toBe('drift');
    // A numeric method asked of a categorical feature is bad input (exit 2), not silently replaced.
    const wrongKind = { features: { kind: { method: 'psi' as const } } };
    expect(() => evaluateDrift(live, wrongKind)).toThrow(
      expect.objectContaining({
        code: 'DRIFT_METHOD_KIND',
        message: expect.stringMatching(/"kind" is a categorical feature.*"linf", "chi2", "js"/),
      }),
    );
    expect(() => checkDriftMethods(baseline, wrongKind)).toThrow(UserError);
    expect(() => checkDriftMethods(baseline, { features: { kind: { method: 'js' } } })).not.toThrow();
  });

  it('PSI and Wasserstein as the numeric method; PSI between 0.1 and 0.25 warns', () => {
    const live = liveOf(baseline, data(4000, 6, { shift: 0.07 }));
    const rep = evaluateDrift(live, { numericMethod: 'psi' });
    const x = rep.features.find((f) => f.name === 'x')!;
    expect(x.method).toBe('psi');
    expect(x.value).toBeGreaterThan(0.1);
    expect(x.value).toBeLessThan(0.25);
    expect(x.status).toBe('warn');
    const w = evaluateDrift(live, { numericMethod: 'wasserstein' }).features.find((f) => f.name === 'x')!;
    // The shift is 0.07 of a U(0,1) whose std is 0.2887: normalized W1 about 0.24.
    expect(w.value).toBeGreaterThan(0.2);
    expect(w.value).toBeLessThan(0.3);
  });

  it('DriftScore is the drifted share, or 1 with output drift', () => {
    const rep = evaluateDrift(liveOf(baseline, data(2000, 3, { shift: 0.5 })));
    expect(driftMetrics(rep, 'ep', 'v').find((d) => d.name === 'DriftScore')).toEqual({
      name: 'DriftScore',
      value: 1,
      dimensions: { EndpointName: 'ep', VariantName: 'v' },
      unit: 'None',
    });
  });
});

describe('merging summaries made in parallel', () => {
  it('gives the counts, moments and statistics of one summary over everything', () => {
    const rows = data(6000, 7, { shift: 0.2 });
    const whole = liveOf(baseline, rows);
    const a = liveOf(baseline, rows.slice(0, 2500));
    const b = liveOf(baseline, rows.slice(2500));
    a.mergeState(structuredClone(b.toState()));
    const rw = evaluateDrift(whole);
    const rm = evaluateDrift(a);
    expect(a.inputRows).toBe(6000);
    for (let i = 0; i < rw.features.length; i++) {
      const fw = rw.features[i];
      const fm = rm.features[i];
      expect(fm.liveCount).toBe(fw.liveCount);
      expect(fm.stats.liveMean ?? 0).toBeCloseTo((fw.stats.liveMean as number) ?? 0, 9);
      expect(fm.stats.psi ?? 0).toBeCloseTo((fw.stats.psi as number) ?? 0, 9);
      expect(Math.abs(((fm.stats.ks as number) ?? 0) - ((fw.stats.ks as number) ?? 0))).toBeLessThan(0.02);
      expect(fm.status).toBe(fw.status);
    }
  });
});

describe('scan', () => {
  it('fast line reading agrees with JSON.parse; bad lines and out-of-window records are counted', async () => {
    const rec: CaptureRecord = {
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: '0.5,3,a', encoding: 'CSV' },
        endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
      },
      eventMetadata: { eventId: 'e', inferenceTime: '2026-11-26T10:00:00Z' },
      eventVersion: '0',
    };
    const line = JSON.stringify(rec);
    const fast = readLineFast(line)!;
    // The content type is read only when the body needs it (BASE64, JSON).
    expect(fast.input).toEqual({ data: '0.5,3,a', encoding: 'CSV' });
    expect(Date.parse(fast.time!)).toBe(recordTime(rec));
    expect(readLineFast(JSON.stringify({ ...rec, captureData: { endpointInput: { data: '{"a":1}', encoding: 'JSON' } } }))).toBeUndefined();
    expect(decodeRecord(JSON.parse(line), { inputWidth: 3, outputWidth: 1 }).inputs).toEqual([['0.5', '3', 'a']]);
    const spaced = JSON.stringify(rec, null, 1).replace(/\n/g, '');
    expect(readLineFast(spaced)?.input.data).toBe('0.5,3,a');

    const live = new LiveSummary(baseline);
    const late = JSON.stringify({ ...rec, eventMetadata: { eventId: 'f', inferenceTime: '2026-11-26T12:00:00Z' } });
    async function* batches() {
      yield { source: 'a', lines: [line, '', 'not json', late] };
      yield {
        source: 'b',
        lines: [
          JSON.stringify({
            ...rec,
            captureData: { ...rec.captureData, endpointInput: { data: '{"instances":[[0.1,2,"b"],[0.2,3,"c"]]}', encoding: 'JSON' } },
          }),
        ],
      };
    }
    const st = await scanCapture(batches(), live, {
      window: { from: Date.parse('2026-11-26T10:00:00Z'), to: Date.parse('2026-11-26T11:00:00Z') },
    });
    expect(st).toMatchObject({ lines: 4, records: 2, outsideWindow: 1, bad: 1, rowMismatch: 1, sources: 2 });
    expect(st.badExamples[0]).toMatch(/^a: /);
    expect(live.inputRows).toBe(3);
  });
});

describe('window test on inference times', () => {
  it('agrees with Date.parse for canonical and other forms, at and around the boundaries', () => {
    const from = Date.parse('2026-11-26T10:00:00.500Z');
    const to = Date.parse('2026-11-26T11:00:00Z');
    const inWindow = windowTest(from, to);
    const times = [
      '2026-11-26T09:59:59Z',
      '2026-11-26T10:00:00Z',
      '2026-11-26T10:00:00.499Z',
      '2026-11-26T10:00:00.500Z',
      '2026-11-26T10:00:00.9Z',
      '2026-11-26T10:00:01Z',
      '2026-11-26T10:30:00.123Z',
      '2026-11-26T10:59:59.999Z',
      '2026-11-26T11:00:00Z',
      '2026-11-26T11:00:00.001Z',
      '2026-11-27T00:00:00Z',
      '2026-11-26T10:30:00+00:00',
      '2026-11-26T12:30:00+02:00',
      '2026-11-26T10:30:00.000000Z',
      'garbage',
    ];
    for (const t of times) {
      const x = Date.parse(t);
      expect(inWindow(t), t).toBe(x >= from && x < to);
    }
  });
});

describe('consecutive windows', () => {
  const v = (status: 'drift' | 'no-drift' | 'insufficient-data') => ({
    status,
    samples: 100,
    minSamples: 1,
    inputFeatures: 1,
    driftedInputs: [],
    driftedShare: 0,
    driftedShareThreshold: 0.3,
    criticalDrifted: [],
    outputDrifted: [],
    reasons: [],
  });
  it('counts drifting windows, resets on a clean one, ignores insufficient data, restarts after a rollback', () => {
    const now = new Date('2026-11-26T10:00:00Z');
    let s = initialState('ep', 'v', now);
    s = advanceState(s, v('drift'), now);
    expect(rollbackDue(s, v('drift'), 2)).toBe(false);
    s = advanceState(s, v('insufficient-data'), now);
    expect(s.consecutive).toBe(1);
    s = advanceState(s, v('drift'), now);
    expect(rollbackDue(s, v('drift'), 2)).toBe(true);
    s = afterRollback(s);
    expect(s.consecutive).toBe(0);
    expect(s.history.at(-1)?.rolledBack).toBe(true);
    s = advanceState(s, v('drift'), now);
    s = advanceState(s, v('no-drift'), now);
    expect(s.consecutive).toBe(0);
    expect(s.history).toHaveLength(5);
  });
});

describe('Model Monitor statistics.json', () => {
  it('converts numerical (KLL sketch or buckets) and string statistics', () => {
    const doc = {
      version: 0,
      dataset: { item_count: 8 },
      features: [
        {
          name: 'age',
          inferred_type: 'Integral',
          numerical_statistics: {
            common: { num_present: 8, num_missing: 0 },
            mean: 4.5,
            sum: 36,
            std_dev: 2.29,
            min: 1,
            max: 8,
            distribution: { kll: { buckets: [], sketch: { parameters: { c: 0.64, k: 2048 }, data: [[1, 2, 3, 4, 5, 6, 7, 8]] } } },
          },
        },
        {
          name: 'income',
          inferred_type: 'Fractional',
          numerical_statistics: {
            common: { num_present: 4, num_missing: 1 },
            mean: 15,
            std_dev: 5,
            min: 10,
            max: 20,
            distribution: {
              kll: {
                buckets: [
                  { lower_bound: 10, upper_bound: 15, count: 2 },
                  { lower_bound: 15, upper_bound: 20, count: 2 },
                ],
              },
            },
          },
        },
        {
          name: 'city',
          inferred_type: 'String',
          string_statistics: {
            common: { num_present: 3, num_missing: 0 },
            distinct_count: 2,
            distribution: {
              categorical: {
                buckets: [
                  { value: 'x', count: 2 },
                  { value: 'y', count: 1 },
                ],
              },
            },
          },
        },
      ],
    };
    expect(isModelMonitorStatistics(doc)).toBe(true);
    const p = profileFromModelMonitor(doc, { outputs: ['city'] });
    expect(profileProblem(p)).toBeUndefined();
    expect(p.inputColumns).toEqual(['age', 'income']);
    expect(p.outputColumns).toEqual(['city']);
    const age = p.features[0];
    expect(age.kind === 'numeric' && age.bins.counts.reduce((s, c) => s + c, 0)).toBe(8);
    expect(p.features[1]).toMatchObject({ kind: 'numeric', count: 4, missing: 1, mean: 15 });
    expect(p.features[2]).toMatchObject({ kind: 'categorical', values: { x: 2, y: 1 } });
    expect(() => profileFromModelMonitor({ features: [] })).toThrow(/not a Model Monitor statistics.json/);
  });
});

describe('consecutive drifting windows are distinct windows (issue 17)', () => {
  const v = (status: 'drift' | 'no-drift' | 'insufficient-data') => ({
    status,
    samples: 500,
    minSamples: 1,
    inputFeatures: 1,
    driftedInputs: [],
    driftedShare: 0,
    driftedShareThreshold: 0.3,
    criticalDrifted: [],
    outputDrifted: [],
    reasons: [],
  });
  const hour = (h: number) => ({
    from: `2026-11-26T${String(h).padStart(2, '0')}:00:00.000Z`,
    to: `2026-11-26T${String(h + 1).padStart(2, '0')}:00:00.000Z`,
  });
  it('monitoring the same hour three times counts once and never makes the rollback due', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    let s = initialState('ep', 'v', now);
    for (let i = 0; i < 3; i++) {
      expect(evaluatedBefore(s, hour(10))).toEqual(i === 0 ? undefined : expect.objectContaining({ status: 'drift', from: hour(10).from }));
      s = advanceState(s, v('drift'), now, hour(10));
      expect(s.consecutive).toBe(1);
      expect(rollbackDue(s, v('drift'), 2)).toBe(false);
    }
    expect(s.history.map((h) => h.repeat ?? false)).toEqual([false, true, true]);
    s = advanceState(s, v('drift'), now, hour(11));
    expect(s.consecutive).toBe(2);
    expect(rollbackDue(s, v('drift'), 2)).toBe(true);
  });

  it('an overlapping window is a repeat; one that only judged insufficient data is not', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    let s = initialState('ep', 'v', now);
    s = advanceState(s, v('insufficient-data'), now, hour(9));
    s = advanceState(s, v('drift'), now, hour(9));
    expect(s.consecutive).toBe(1);
    s = advanceState(s, v('no-drift'), now, { from: '2026-11-26T09:30:00.000Z', to: '2026-11-26T10:30:00.000Z' });
    expect(s.consecutive).toBe(1);
    expect(s.history.at(-1)?.repeat).toBe(true);
  });
});
