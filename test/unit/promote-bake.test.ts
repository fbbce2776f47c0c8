import { describe, expect, it } from 'vitest';
import { CaptureMatcher, capturedPair, compareCapture, judgeBake, outputsAgree, type CapturedPair } from '../../src/core/bake.js';

const criteria = {
  maxErrorRateIncrease: 0.01,
  maxLatencyRatio: 1.5,
  minOutputAgreement: 0.9,
  outputTolerance: 1e-6,
  minComparedSamples: 2,
};
const stats = (inv: number, err: number, lat: number | null) => ({ invocations: inv, errors: err, latency: lat });
const pair = (input: string, output: string, inferenceId?: string): CapturedPair => ({ input, output, inferenceId });
/** Matched pairs as the bake counts them: `agreeing` of `compared` agree. */
const outputs = (compared: number, agreeing = compared) => ({ compared, agreeing, dropped: 0, maxPending: 100 });
async function* batches<T>(...bs: T[][]): AsyncGenerator<T[]> {
  for (const b of bs) yield b;
}

describe('bake', () => {
  it('matches by inference id, else by payload, each production record once', async () => {
    const prod = [pair('1,2', '9', 'a'), pair('1,2', '9'), pair('3,4', '19')];
    const shadow = [pair('x', '8', 'a'), pair('1,2', '9'), pair('1,2', '9'), pair('5,5', '26')];
    const r = await compareCapture(batches(prod), batches(shadow), new CaptureMatcher(1e-6));
    // a/x by id (outputs differ), 1,2 by payload once; the second 1,2 and 5,5 find nothing.
    expect(r).toEqual({ compared: 2, agreeing: 1, dropped: 0, maxPending: 100_000 });
  });
  it('holds only unmatched records: 200,000 requests through a cap of 1,000, compared by inference id', async () => {
    const n = 200_000;
    const matcher = new CaptureMatcher(1e-6, 1000);
    let peak = 0;
    // Production in batches of 500; the shadow sees every other request, its batches lagging by one.
    async function* side(which: 'production' | 'shadow') {
      for (let start = 0; start < n; start += 500) {
        const batch: CapturedPair[] = [];
        for (let i = start; i < start + 500; i++) {
          if (which === 'shadow' && i % 2) continue;
          batch.push(pair(`${i % 7},1`, which === 'shadow' && i % 10 === 0 ? '0' : '1', `req-${i}`));
        }
        yield batch;
        peak = Math.max(peak, matcher.pendingNow);
      }
    }
    const r = await compareCapture(side('production'), side('shadow'), matcher);
    expect(matcher.pendingPeak).toBeLessThanOrEqual(1000);
    expect(peak).toBeLessThanOrEqual(1000);
    // Every shadow record met its production twin; the unsampled production records were dropped.
    expect(r.compared).toBe(n / 2);
    expect(r.agreeing).toBe(n / 2 - n / 10);
    expect(r.dropped).toBe(n / 2 - matcher.pendingNow);
  });
  it('says so when records were dropped and too few could be compared', () => {
    const v = judgeBake(
      criteria,
      { production: stats(100, 0, 1), shadow: stats(100, 0, 1) },
      { compared: 1, agreeing: 1, dropped: 5000, maxPending: 1000 },
    );
    expect(v.reasons).toEqual([
      expect.stringMatching(/only 1 requests could be compared \(need 2\); 5000 capture records .* more than 1000 were waiting/),
    ]);
    expect(v.measured.unmatchedDropped).toBe(5000);
  });
  it('compares outputs numerically within tolerance, through JSON shapes and CSV', () => {
    expect(outputsAgree('{"predictions": [9.0000000001]}', '[9]', 1e-6)).toBe(true);
    expect(outputsAgree('9.0\n', '{"predictions":[9]}', 1e-6)).toBe(true);
    expect(outputsAgree('[1, 2]', '[1, 3]', 1e-6)).toBe(false);
    expect(outputsAgree('["cat"]', '["cat"]', 0)).toBe(true);
    expect(outputsAgree('[1]', '[1, 1]', 0)).toBe(false);
  });
  it('passes a shadow as good as production; fails on errors, latency, disagreement, too few samples', () => {
    const good = outputs(2);
    expect(judgeBake(criteria, { production: stats(100, 0, 1000), shadow: stats(100, 1, 1400) }, good).passed).toBe(true);
    const errs = judgeBake(criteria, { production: stats(100, 0, 1000), shadow: stats(100, 5, 1000) }, good);
    expect(errs.reasons).toEqual([expect.stringMatching(/error rate 5.00%/)]);
    const slow = judgeBake(criteria, { production: stats(100, 0, 1000), shadow: stats(100, 0, 2000) }, good);
    expect(slow.reasons).toEqual([expect.stringMatching(/latency is 2.00x/)]);
    const bad = outputs(2, 0);
    expect(judgeBake(criteria, { production: stats(100, 0, 1), shadow: stats(100, 0, 1) }, bad).reasons).toEqual([
      expect.stringMatching(/agrees with production on 0.00%/),
    ]);
    const none = judgeBake(criteria, { production: stats(100, 0, 1), shadow: stats(0, 0, null) }, outputs(0));
    expect(none.passed).toBe(false);
    expect(none.reasons.join()).toMatch(/no invocations.*only 0 requests/);
  });
  it('fails closed on missing latency or error evidence, naming the metric, the window and the likely cause', () => {
    const good = outputs(2);
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
  it('a capture line whose payload is not a string, or not base64 where it says so, is no pair (not an exception that stops every bake)', () => {
    const line = (input: unknown, output: unknown) =>
      JSON.stringify({ captureData: { endpointInput: input, endpointOutput: output }, eventMetadata: { inferenceId: 'id-1' } });
    const csv = { data: '1,2', encoding: 'CSV' };
    for (const bad of [
      line({ data: '@@@', encoding: 'BASE64' }, csv),
      line(csv, { data: '%%%', encoding: 'BASE64' }),
      line({ data: 5, encoding: 'CSV' }, csv),
      line({ data: { a: 1 }, encoding: 'JSON' }, csv),
      line(csv, { data: 7, encoding: 'JSON' }),
      line(csv, { data: ['1'], encoding: 'CSV' }),
    ]) {
      expect(() => capturedPair(bad)).not.toThrow();
      expect(capturedPair(bad)).toBeUndefined();
    }
    expect(capturedPair(line(csv, { data: '', encoding: 'CSV' }))).toMatchObject({ input: '1,2', output: '' });
  });
});
