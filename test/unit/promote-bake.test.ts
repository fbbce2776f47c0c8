import { describe, expect, it } from 'vitest';
import { capturedPair, judgeBake, matchPairs, outputsAgree, type CapturedPair } from '../../src/core/bake.js';

const criteria = {
  maxErrorRateIncrease: 0.01,
  maxLatencyRatio: 1.5,
  minOutputAgreement: 0.9,
  outputTolerance: 1e-6,
  minComparedSamples: 2,
};
const stats = (inv: number, err: number, lat: number | null) => ({ invocations: inv, errors: err, latency: lat });
const pair = (input: string, output: string, inferenceId?: string): CapturedPair => ({ input, output, inferenceId });

describe('bake', () => {
  it('matches by inference id first, then by payload, each production record once', () => {
    const prod = [pair('1,2', '9', 'a'), pair('1,2', '9'), pair('3,4', '19')];
    const shadow = [pair('x', '9', 'a'), pair('1,2', '9'), pair('1,2', '9'), pair('5,5', '26')];
    const m = matchPairs(prod, shadow);
    expect(m.map((p) => [p.prod.input, p.shadow.input])).toEqual([
      ['1,2', 'x'],
      ['1,2', '1,2'],
    ]);
  });
  it('compares outputs numerically within tolerance, through JSON shapes and CSV', () => {
    expect(outputsAgree('{"predictions": [9.0000000001]}', '[9]', 1e-6)).toBe(true);
    expect(outputsAgree('9.0\n', '{"predictions":[9]}', 1e-6)).toBe(true);
    expect(outputsAgree('[1, 2]', '[1, 3]', 1e-6)).toBe(false);
    expect(outputsAgree('["cat"]', '["cat"]', 0)).toBe(true);
    expect(outputsAgree('[1]', '[1, 1]', 0)).toBe(false);
  });
  it('passes a shadow as good as production; fails on errors, latency, disagreement, too few samples', () => {
    const good = [pair('a', '1'), pair('b', '2')].map((p) => ({ prod: p, shadow: p }));
    expect(judgeBake(criteria, { production: stats(100, 0, 1000), shadow: stats(100, 1, 1400) }, good).passed).toBe(true);
    const errs = judgeBake(criteria, { production: stats(100, 0, 1000), shadow: stats(100, 5, 1000) }, good);
    expect(errs.reasons).toEqual([expect.stringMatching(/error rate 5.00%/)]);
    const slow = judgeBake(criteria, { production: stats(100, 0, 1000), shadow: stats(100, 0, 2000) }, good);
    expect(slow.reasons).toEqual([expect.stringMatching(/latency is 2.00x/)]);
    const bad = [pair('a', '1'), pair('b', '2')].map((p) => ({ prod: p, shadow: { ...p, output: '7' } }));
    expect(judgeBake(criteria, { production: stats(100, 0, 1), shadow: stats(100, 0, 1) }, bad).reasons).toEqual([
      expect.stringMatching(/agrees with production on 0.00%/),
    ]);
    const none = judgeBake(criteria, { production: stats(100, 0, 1), shadow: stats(0, 0, null) }, []);
    expect(none.passed).toBe(false);
    expect(none.reasons.join()).toMatch(/no invocations.*only 0 requests/);
  });
  it('fails closed on missing latency or error evidence, naming the metric, the window and the likely cause', () => {
    const good = [pair('a', '1'), pair('b', '2')].map((p) => ({ prod: p, shadow: p }));
    const evidence = {
      latencyStatistic: 'p99',
      from: new Date('2026-11-30T10:00:00Z'),
      to: new Date('2026-11-30T11:00:00Z'),
      production: 'primary',
      shadow: 'shadow',
    };
    const noLatency = judgeBake(criteria, { production: stats(100, 0, 1000), shadow: stats(100, 0, null) }, good, evidence);
    expect(noLatency.passed).toBe(false);
    expect(noLatency.reasons).toEqual([
      'no latency evidence: no ModelLatency p99 for the shadow variant "shadow" between 2026-11-30T10:00:00.000Z and 2026-11-30T11:00:00.000Z. ' +
        'Likely cause: the CloudWatch endpoint computes no percentiles (moto does not; on the local stack use the emulator, which answers CloudWatch) or the metrics arrived late.',
    ]);
    const noProdLatency = judgeBake(criteria, { production: stats(100, 0, null), shadow: stats(100, 0, 1000) }, good, evidence);
    expect(noProdLatency.reasons.join()).toMatch(/no ModelLatency p99 for the production variant "primary"/);
    const noTraffic = judgeBake(criteria, { production: stats(0, 0, null), shadow: stats(100, 0, 1000) }, good, evidence);
    expect(noTraffic.passed).toBe(false);
    expect(noTraffic.reasons.join()).toMatch(
      /no error evidence: no AWS\/SageMaker Invocations for the production variant "primary" between 2026-11-30T10:00:00.000Z and .*Likely cause: no traffic/,
    );
  });
  it('reads a data-capture line (CSV, JSON, BASE64) and drops it outside the window', () => {
    const line = (enc: string, data: string, time = '2026-01-01T00:00:01Z') =>
      JSON.stringify({
        captureData: {
          endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: 'a,b\n1,2\n', encoding: 'CSV' },
          endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data, encoding: enc },
        },
        eventMetadata: { eventId: 'e', inferenceId: 'id-1', inferenceTime: time },
        eventVersion: '0',
      });
    expect(capturedPair(line('JSON', '{"predictions": [9.0]}'))).toMatchObject({
      inferenceId: 'id-1',
      input: 'a,b\n1,2',
      output: '{"predictions": [9.0]}',
    });
    expect(capturedPair(line('BASE64', Buffer.from('[9.0]').toString('base64')))?.output).toBe('[9.0]');
    const window = { from: Date.parse('2026-01-01T00:00:02Z'), to: Date.parse('2026-01-01T01:00:00Z') };
    expect(capturedPair(line('JSON', '[9]'), window)).toBeUndefined();
    expect(capturedPair('not json')).toBeUndefined();
  });
});
