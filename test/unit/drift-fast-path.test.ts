/**
 * The drift scan's byte fast path gives the statistics of the decoded path on every line it takes
 * (and declines the others), and the drift statistic is close enough to exact to trust at the
 * threshold (issue 16). Exact references are computed here from the full data.
 */
import { describe, expect, it } from 'vitest';
import { splitLineChunks } from '../../src/adapters/capture-source.js';
import { CaptureByteReader } from '../../src/core/drift/capture-bytes.js';
import { evaluateDrift, LiveSummary } from '../../src/core/drift/evaluate.js';
import { GRID_POINTS, LiveNumeric } from '../../src/core/drift/live-numeric.js';
import { ProfileBuilder, profileProblem, toNumber, type Profile } from '../../src/core/drift/profile.js';
import { scanCapture, type ScanOptions } from '../../src/core/drift/scan.js';
import type { SortedView } from '../../src/core/drift/sketch.js';
import { ksDistance, robustKs, wasserstein } from '../../src/core/drift/stats.js';
import { mulberry32 } from '../support/random.js';

function normals(n: number, mean: number, sd: number, seed: number, decimals = 5): Float64Array {
  const rand = mulberry32(seed);
  const p = 10 ** decimals;
  return Float64Array.from({ length: n }, () => {
    const x = mean + sd * Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    return Math.round(x * p) / p;
  });
}

// ---- fast path vs decoded path ----------------------------------------------------------------

function captureProfile(): Profile {
  const b = new ProfileBuilder({ outputs: ['y'] });
  b.setColumns(['x', 'c', 'z', 'y']);
  for (let i = 0; i < 400; i++) b.addRow([String((i % 97) / 7), ['p', 'q', 'é'][i % 3], String(i % 5), String((i % 11) / 10)]);
  return b.finish();
}

const T = '2026-11-26T10:00:00.000Z';
const rec = (input: string, output: string | undefined, time = T) =>
  `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"${input}","encoding":"CSV"}` +
  (output === undefined ? '' : `,"endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT","data":"${output}","encoding":"CSV"}`) +
  `},"eventMetadata":{"eventId":"e1","inferenceTime":"${time}"},"eventVersion":"0"}`;

/** Lines the byte path takes: the common record and every variation of it that stays valid JSON. */
const TAKEN = [
  rec('1.5,p,3', '0.25'),
  rec(' 1.5 ,p, 3', ' 0.25 '),
  rec('+2,q,-.5', '5.'),
  rec('1e3,q,0x10', '-0'),
  rec('12345678901234567,p,1', '0.1234567890123456789'),
  rec(',p,', ''),
  rec('  ,p,1', '  '),
  rec('1 2,p,abc', 'Infinity'),
  rec('1,é,2', 'ü'),
  rec('1,p,2,', '1'),
  rec('1,p,2,3', '1'),
  rec('1,p', '1'),
  rec('1e999,p,2', '1'),
  rec('1,1e999,2', '1'),
  rec('1,p,2', '1e999'),
  rec('1,p,2', '1,2'),
  rec('1,p,2', undefined),
  rec('1,p,2', '1', '2026-11-26T09:59:59.999Z'),
  rec('1,p,2', '1', '2026-11-26T11:00:00.000Z'),
  rec('1,p,2', '1', '2026-11-26T10:59:59.999Z'),
  rec('1,p,2', '1', '2026-11-26T10:00:00Z'),
  rec('1,p,2', '1', '2026-11-26T10:30:00+00:00'),
  rec('1,p,2', '1', '2026-11-26T11:30:00+01:00'),
  rec('1,p,2', '1', 'soon'),
  // Key order, spacing, a CR at the end, and other keys of every JSON kind.
  `{ "eventMetadata" : { "inferenceTime" : "${T}" } , "captureData" : { "endpointOutput" : { "encoding" : "CSV" , "data" : "0.5" } , "endpointInput" : { "encoding":"CSV","data":"3,q,4" } } }\r`,
  `{"captureData":{"endpointInput":{"data":"3,q,4","encoding":"CSV","x":[1,{"a":null},true,false,-1.5e3,"s"]},"customAttributes":{}},"eventMetadata":{"inferenceTime":"${T}","n":[]},"eventVersion":0}`,
  `\t{"captureData":{"endpointInput":{"data":"7,p,8","encoding":"CSV"}},"eventMetadata":{"inferenceTime":"${T}"}}  `,
];

/** Lines it leaves to the decoded path (escapes, other encodings, duplicate keys, invalid JSON). */
const DECLINED = [
  rec('1\\n2,p,3', '1'),
  rec('\\"1\\",p,3', '1'),
  `{"captureData":{"endpointInput":{"data":"MSxwLDM=","encoding":"BASE64","observedContentType":"text/csv"}},"eventMetadata":{"inferenceTime":"${T}"}}`,
  `{"captureData":{"endpointInput":{"data":"[[1,\\"p\\",3]]","encoding":"JSON","observedContentType":"application/json"}},"eventMetadata":{"inferenceTime":"${T}"}}`,
  `{"captureData":{"endpointInput":{"data":"1,p,3","encoding":"CSV","data":"2,p,3"}},"eventMetadata":{"inferenceTime":"${T}"}}`,
  `{"captureData":{"endpointInput":{"data":"1,p,3","encoding":"CSV"}},"captureData":{"endpointInput":{"data":"2,q,3","encoding":"CSV"}},"eventMetadata":{"inferenceTime":"${T}"}}`,
  rec('1\t,p,3', '1'),
  rec('1,p,3', '1').slice(0, -1),
  rec('1,p,3', '1') + ',',
  rec('1,p,3', '1').replace('"eventVersion":"0"', '"eventVersion":01'),
  '\uFEFF' + rec('1,p,3', '1'),
  `{"captureData":{"endpointInput":{"data":"1,p,3","encoding":"CSV"}},"eventMetadata":{"inferenceTime":5}}`,
  `{"captureData":{"endpointInput":{"data":"1,p,3","encoding":"CSV"}}}`,
  `{"captureData":{"endpointInput":{"data":"1,p,3","encoding":"csv"}},"eventMetadata":{"inferenceTime":"${T}"}}`,
  `{"captureData":{"endpointInput":{"data":5,"encoding":"CSV"}},"eventMetadata":{"inferenceTime":"${T}"}}`,
  `{"captureData":{"endpointInput":"1,p,3"},"eventMetadata":{"inferenceTime":"${T}"}}`,
  '{}',
  '[1]',
  ' ',
  '  \t ',
  'x',
];

const WINDOW: ScanOptions['window'] = { from: Date.parse(T), to: Date.parse('2026-11-26T11:00:00.000Z') };

async function scanBoth(lines: string[], window?: ScanOptions['window']) {
  const run = async (batch: { source: string; lines?: string[]; bytes?: Uint8Array }) => {
    const live = new LiveSummary(captureProfile());
    const stats = await scanCapture(
      (async function* () {
        yield batch;
      })(),
      live,
      { window },
    );
    return { state: live.toState(), stats, report: evaluateDrift(live) };
  };
  return {
    bytes: await run({ source: 's', bytes: Buffer.from(lines.join('\n') + '\n') }),
    text: await run({ source: 's', lines }),
  };
}

describe('the byte fast path of the drift scan', () => {
  it('takes the common record and its valid variations, and leaves escapes, other encodings, duplicate keys and bad JSON', () => {
    const r = new CaptureByteReader();
    const takes = (line: string, window: boolean) => {
      const b = Buffer.from(line);
      return r.read(b, 0, b.length, window);
    };
    for (const line of TAKEN) expect(takes(line, true), line).toBe(true);
    for (const line of DECLINED) expect(takes(line, true), line).toBe(false);
    // Without a window the inference time is not needed.
    expect(takes(`{"captureData":{"endpointInput":{"data":"1,p,3","encoding":"CSV"}}}`, false)).toBe(true);
  });

  it('reads a line after any other line as it reads it first (the last line taken is a template for the next)', () => {
    const fields = (r: CaptureByteReader) => [r.inS, r.inE, r.outS, r.outE, r.timeS, r.timeE];
    const all = [...TAKEN, ...DECLINED, ...TAKEN.map((l) => l.replace('e1', 'e\\u0031')), rec('1,p,3', '1').replace('"CSV"', '"CSX"')];
    for (const window of [true, false]) {
      for (const first of all) {
        for (const line of all) {
          const fresh = new CaptureByteReader();
          const b = Buffer.from(line);
          const expected = fresh.read(b, 0, b.length, window);
          const r = new CaptureByteReader();
          const a = Buffer.from(first);
          r.read(a, 0, a.length, window);
          // The second line sits elsewhere in a larger buffer, as in a chunk.
          const padded = Buffer.concat([Buffer.from('xx\n'), b, Buffer.from('\nyy')]);
          expect(r.read(padded, 3, 3 + b.length, window), `${first}\nthen ${line}`).toBe(expected);
          if (expected) expect(fields(r).map((x) => (x < 0 ? x : x - 3))).toEqual(fields(fresh));
        }
      }
    }
  });

  it.each([
    ['with a window', WINDOW],
    ['without a window', undefined],
  ])('gives the statistics of the decoded path, line by line and all together (%s)', async (_, window) => {
    for (const line of [...TAKEN, ...DECLINED]) {
      const { bytes, text } = await scanBoth([line], window);
      expect(bytes.stats, line).toEqual(text.stats);
      expect(bytes.state, line).toEqual(text.state);
    }
    const many = Array.from({ length: 40 }, (_, i) => [...TAKEN, ...DECLINED][(i * 7) % (TAKEN.length + DECLINED.length)]);
    const { bytes, text } = await scanBoth([...TAKEN, ...DECLINED, ...many], window);
    expect(bytes.stats).toEqual(text.stats);
    expect(bytes.state).toEqual(text.state);
    expect(bytes.report).toEqual(text.report);
    expect(bytes.stats.records).toBeGreaterThan(10);
    expect(bytes.stats.bad).toBeGreaterThan(5);
  });

  it('cuts chunks at line boundaries whatever their sizes, and drops lines longer than the limit', async () => {
    const lines = [...TAKEN, 'x'.repeat(2000), ...DECLINED];
    const text = lines.join('\n') + '\n';
    const rand = mulberry32(7);
    for (let round = 0; round < 20; round++) {
      const all = Buffer.from(text);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < all.length;) {
        const n = 1 + Math.floor(rand() * 400);
        chunks.push(all.subarray(at, at + n));
        at += n;
      }
      const got: string[] = [];
      let tooLong = 0;
      for await (const b of splitLineChunks(
        (async function* () {
          yield* chunks;
        })(),
        's',
        undefined,
        1000,
      )) {
        tooLong += b.tooLong ?? 0;
        const s = Buffer.from(b.bytes).toString('utf8');
        if (s) got.push(...s.replace(/\n$/, '').split('\n'));
      }
      expect(tooLong).toBe(1);
      expect(got).toEqual(lines.filter((l) => Buffer.byteLength(l) <= 1000));
    }
  });
});

// ---- accuracy at the threshold ----------------------------------------------------------------

/** The exact step CDF of a sample. */
function exactView(xs: Float64Array): SortedView {
  const values = Float64Array.from(xs).sort();
  return { values, cum: Float64Array.from(values, (_, i) => i + 1), total: values.length };
}

/** Robust KS and W1 of live against the profile of `base`, from the live summary and exactly. */
function compare(base: Float64Array, live: Float64Array) {
  const b = new ProfileBuilder();
  b.setColumns(['x']);
  for (const x of base) b.addRow([x]);
  const profile = b.finish();
  const summary = new LiveSummary(profile);
  const acc = summary.feature('x') as LiveNumeric;
  for (const x of live) acc.addNumber(x);
  const f = evaluateDrift(summary).features[0];
  const bv = exactView(base);
  const lv = exactView(live);
  return {
    sketchKs: acc.ks(),
    exactKs: ksDistance(bv, lv),
    robust: f.stats.ksRobust as number,
    exactRobust: robustKs(ksDistance(bv, lv), base.length, live.length),
    w: acc.wasserstein(),
    exactW: wasserstein(bv, lv),
    status: f.status,
  };
}

describe('drift accuracy at the threshold', () => {
  const base = normals(20_000, 0, 1, 11);

  it(`KS from the live summary is within 1/${GRID_POINTS} of the exact KS, and W1 close to exact, on shifted and scaled data`, () => {
    for (const [shift, sd, seed] of [
      [0, 1, 1],
      [0.05, 1, 2],
      [0.25, 1, 3],
      [0.3, 1.1, 4],
      [-0.4, 0.8, 5],
      [2, 3, 6],
      [0, 1.5, 7],
    ]) {
      const r = compare(base, normals(50_000, shift, sd, seed, 3));
      expect(Math.abs(r.sketchKs - r.exactKs), `shift ${shift} sd ${sd}`).toBeLessThanOrEqual(1 / GRID_POINTS);
      expect(Math.abs(r.w - r.exactW), `shift ${shift} sd ${sd}`).toBeLessThanOrEqual(0.002);
    }
  });

  it('a feature 0.003 below the threshold is never flagged, and one 0.003 above always is', () => {
    // Shifts whose exact robust KS lands near the default threshold 0.1, on either side.
    const seen = { below: 0, above: 0 };
    for (let i = 0; i < 40; i++) {
      const shift = 0.26 + i * 0.002;
      const r = compare(base, normals(30_000, shift, 1, 100 + i));
      expect(Math.abs(r.robust - r.exactRobust)).toBeLessThanOrEqual(1 / GRID_POINTS + 1e-6);
      if (r.exactRobust <= 0.097) {
        seen.below++;
        expect(r.status, `shift ${shift}: exact robust KS ${r.exactRobust}`).toBe('ok');
      } else if (r.exactRobust >= 0.103) {
        seen.above++;
        expect(r.status, `shift ${shift}: exact robust KS ${r.exactRobust}`).toBe('drift');
      }
    }
    expect(seen.below).toBeGreaterThan(3);
    expect(seen.above).toBeGreaterThan(3);
  });

  it('stays within 0.003 of exact when the baseline is too large to keep whole (a sketch of it is kept)', () => {
    const big = normals(200_000, 0, 1, 21);
    for (const [shift, seed] of [
      [0, 31],
      [0.3, 32],
      [1, 33],
    ]) {
      const r = compare(big, normals(40_000, shift, 1, seed));
      expect(Math.abs(r.sketchKs - r.exactKs), `shift ${shift}`).toBeLessThanOrEqual(0.003);
    }
  });
});

describe('profiles and cells', () => {
  it('an old (v1) profile is refused with the way to make a new one', () => {
    const p = { ...captureProfile(), schema: 'mlops.profile/v1' };
    expect(profileProblem(p)).toMatch(/older mlops.*re-run `mlops profile`/);
    expect(profileProblem(captureProfile())).toBeUndefined();
  });

  it('a blank cell is missing, not 0', () => {
    expect(toNumber('  ')).toBeUndefined();
    expect(toNumber(' 0 ')).toBe(0);
    const live = new LiveSummary(captureProfile());
    live.addInput(['  ', 'p', '1']);
    live.addInput(['\t', 'p', '1']);
    const x = live.feature('x') as LiveNumeric;
    expect([x.count, x.missing]).toEqual([0, 2]);
  });
});
