/**
 * CloudWatch's alarm rules as the emulator's evaluator applies them, checked against CloudWatch's
 * documented semantics: "M out of N" datapoints to alarm, the four TreatMissingData behaviours
 * (breaching, notBreaching, ignore: keep the state, missing: INSUFFICIENT_DATA when every period is
 * missing, the default), the comparison operators, and statistics of a period, percentiles only
 * from values or statistic sets that pin every value.
 */
import { describe, expect, it } from 'vitest';
import { evaluateAlarm, statisticOf, type AlarmRule } from '../../src/emulator/alarm-rules.js';

const rule = (over: Partial<AlarmRule> = {}): AlarmRule => ({
  statistic: 'Average',
  threshold: 0.1,
  comparison: 'GreaterThanThreshold',
  evaluationPeriods: 3,
  ...over,
});

describe('evaluateAlarm', () => {
  it('fires when DatapointsToAlarm of the last EvaluationPeriods breach, not before', () => {
    const r = rule({ datapointsToAlarm: 2 });
    expect(evaluateAlarm(r, [0.5, 0, 0], 'OK').state).toBe('OK');
    expect(evaluateAlarm(r, [0.5, 0, 0.2], 'OK').state).toBe('ALARM');
    // Without DatapointsToAlarm, every period must breach.
    expect(evaluateAlarm(rule(), [0.5, 0.5, 0], 'OK').state).toBe('OK');
    expect(evaluateAlarm(rule(), [0.5, 0.5, 0.5], 'OK').state).toBe('ALARM');
    // Only the last N periods count.
    expect(evaluateAlarm(rule({ evaluationPeriods: 1 }), [0.5, 0.5, 0], 'ALARM').state).toBe('OK');
  });

  it('compares by the operator, at the threshold too', () => {
    const at = (comparison: AlarmRule['comparison']) => evaluateAlarm(rule({ comparison, evaluationPeriods: 1 }), [0.1], 'OK').state;
    expect(at('GreaterThanThreshold')).toBe('OK');
    expect(at('GreaterThanOrEqualToThreshold')).toBe('ALARM');
    expect(at('LessThanThreshold')).toBe('OK');
    expect(at('LessThanOrEqualToThreshold')).toBe('ALARM');
  });

  it('treats missing data as configured; `missing` is the default', () => {
    const none = [undefined, undefined, undefined];
    expect(evaluateAlarm(rule(), none, 'OK').state).toBe('INSUFFICIENT_DATA');
    expect(evaluateAlarm(rule({ treatMissingData: 'missing' }), none, 'ALARM').state).toBe('INSUFFICIENT_DATA');
    expect(evaluateAlarm(rule({ treatMissingData: 'breaching' }), none, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(rule({ treatMissingData: 'notBreaching' }), none, 'ALARM').state).toBe('OK');
    expect(evaluateAlarm(rule({ treatMissingData: 'ignore' }), none, 'ALARM').state).toBe('ALARM');
    expect(evaluateAlarm(rule({ treatMissingData: 'ignore' }), none, 'INSUFFICIENT_DATA').state).toBe('INSUFFICIENT_DATA');
    // breaching: missing periods count toward M.
    expect(evaluateAlarm(rule({ treatMissingData: 'breaching' }), [0.5, undefined, undefined], 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(rule({ treatMissingData: 'notBreaching' }), [0.5, undefined, undefined], 'OK').state).toBe('OK');
  });

  it("words the reason like CloudWatch's", () => {
    const r = evaluateAlarm(rule({ evaluationPeriods: 1 }), [0.25], 'OK');
    expect(r.reason).toBe(
      'Threshold Crossed: 1 out of the last 1 datapoints [0.25] was greater than the threshold (0.1) (minimum 1 datapoint for OK -> ALARM transition).',
    );
  });
});

describe('statisticOf', () => {
  const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((value) => ({ value, count: 1 }));

  it('computes the plain statistics from values and statistic sets together', () => {
    const mixed = [...values.slice(0, 2), { sampleCount: 2, sum: 100, min: 40, max: 60 }];
    expect(statisticOf('SampleCount', mixed)).toBe(4);
    expect(statisticOf('Sum', mixed)).toBe(130);
    expect(statisticOf('Average', mixed)).toBe(32.5);
    expect(statisticOf('Minimum', mixed)).toBe(10);
    expect(statisticOf('Maximum', mixed)).toBe(60);
    expect(statisticOf('Sum', [])).toBeUndefined();
  });

  it('computes percentiles by nearest rank over values, counts included', () => {
    expect(statisticOf('p50', values)).toBe(50);
    expect(statisticOf('p90', values)).toBe(90);
    expect(statisticOf('p99', values)).toBe(100);
    expect(
      statisticOf('p99', [
        { value: 1, count: 99 },
        { value: 500, count: 1 },
      ]),
    ).toBe(1);
    expect(
      statisticOf('p99', [
        { value: 1, count: 98 },
        { value: 500, count: 2 },
      ]),
    ).toBe(500);
  });

  it('gives no percentile over a statistic set that does not pin its values', () => {
    expect(statisticOf('p99', [{ sampleCount: 3, sum: 60, min: 10, max: 30 }])).toBeUndefined();
    expect(statisticOf('p99', [{ sampleCount: 3, sum: 60, min: 20, max: 20 }])).toBe(20);
    expect(statisticOf('tm99', values)).toBeUndefined();
  });
});
