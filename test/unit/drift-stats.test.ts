/**
 * Drift statistics against reference values computed independently at test time with
 * scipy/numpy in the test bed's venv (no committed magic numbers).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { runPython } from '../support/python.js';
import { KllSketch, rankError } from '../../src/core/drift/sketch.js';
import {
  alignCounts,
  chiSquared,
  jensenShannon,
  ksDistance,
  lInfinity,
  psi,
  robustKs,
  wasserstein,
  binIndex,
  PSI_EPSILON,
  chiSquaredSurvival,
} from '../../src/core/drift/stats.js';
import { decileBins } from '../../src/core/drift/profile.js';
import { mulberry32 } from '../support/random.js';

/** Deterministic normal samples (mulberry32 + Box-Muller). */
function normals(n: number, mean: number, sd: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rand() || 1e-12;
    const v = rand();
    out.push(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

/** A sketch large enough to hold every value: exact. */
function exact(xs: number[]): KllSketch {
  const s = new KllSketch(xs.length + 16);
  for (const x of xs) s.update(x);
  expect(s.exact).toBe(true);
  return s;
}

async function py<T>(code: string, input: unknown): Promise<T> {
  const script = `import json\nimport numpy as np\nfrom scipy import stats\nfrom scipy.spatial import distance\ninp = json.loads(${JSON.stringify(JSON.stringify(input))})\n${code}`;
  const r = await runPython(script);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

const base = normals(1500, 0, 1, 1);
// Rounded values create ties, which the step-CDF code must handle like scipy.
const shifted = normals(1200, 0.3, 1.2, 2).map((x) => Math.round(x * 10) / 10);
const same = normals(1000, 0, 1, 3);

describe('numeric statistics vs scipy', () => {
  let ref: { ks: number[]; w: number[]; std: number; deciles: number[] };
  beforeAll(async () => {
    ref = await py(
      `b = np.array(inp['b']); out = {'ks': [], 'w': []}
for other in (inp['s'], inp['m']):
    o = np.array(other)
    out['ks'].append(float(stats.ks_2samp(b, o).statistic))
    out['w'].append(float(stats.wasserstein_distance(b, o)))
out['std'] = float(np.std(b))
out['deciles'] = [float(x) for x in np.quantile(b, [i/10 for i in range(1, 10)], method='inverted_cdf')]
print(json.dumps(out))`,
      { b: base, s: shifted, m: same },
    );
  }, 60_000);

  it('KS distance equals scipy ks_2samp statistic (with ties)', () => {
    const b = exact(base).sortedView();
    expect(ksDistance(b, exact(shifted).sortedView())).toBeCloseTo(ref.ks[0], 12);
    expect(ksDistance(b, exact(same).sortedView())).toBeCloseTo(ref.ks[1], 12);
  });

  it("robust KS applies Model Monitor's correction", () => {
    const d = ref.ks[0];
    expect(robustKs(d, 1500, 1200)).toBeCloseTo(Math.max(0, d - 1.8 * Math.sqrt((1500 + 1200) / (1500 * 1200))), 12);
    expect(robustKs(ref.ks[1], 1500, 1000)).toBe(0);
  });

  it('Wasserstein equals scipy wasserstein_distance', () => {
    const b = exact(base).sortedView();
    expect(wasserstein(b, exact(shifted).sortedView())).toBeCloseTo(ref.w[0], 10);
    expect(wasserstein(b, exact(same).sortedView())).toBeCloseTo(ref.w[1], 10);
  });

  it('deciles are numpy inverted_cdf quantiles, and PSI matches numpy on those bins', async () => {
    const s = exact(base);
    const bins = decileBins(s);
    expect(bins.edges).toEqual(ref.deciles);
    const live = new Array(bins.edges.length + 1).fill(0);
    for (const x of shifted) live[binIndex(bins.edges, x)]++;
    // Bins with an empty live side, to exercise the epsilon rule.
    const sparse = live.map((c, i) => (i < 2 ? 0 : c));
    const r = await py<{ counts: number[]; psi: number[] }>(
      `b = np.array(inp['b']); e = np.array(inp['edges'])
def counts(x): return np.bincount(np.searchsorted(e, np.array(x), side='left'), minlength=len(e)+1)
def psi(bc, lc, eps):
    p = bc / bc.sum(); q = lc / lc.sum()
    p2 = np.where(p == 0, eps, p); q2 = np.where(q == 0, eps, q)
    keep = ~((p == 0) & (q == 0))
    return float(np.sum(((q2 - p2) * np.log(q2 / p2))[keep]))
bc = counts(b); lc = counts(inp['s']); sp = np.array(inp['sparse'], dtype=float)
print(json.dumps({'counts': [int(c) for c in bc], 'psi': [psi(bc, lc, inp['eps']), psi(bc, sp, inp['eps'])]}))`,
      { b: base, s: shifted, edges: bins.edges, sparse, eps: PSI_EPSILON },
    );
    expect(bins.counts).toEqual(r.counts);
    expect(psi(bins.counts, live).psi).toBeCloseTo(r.psi[0], 10);
    const p2 = psi(bins.counts, sparse);
    expect(p2.psi).toBeCloseTo(r.psi[1], 10);
    expect(p2.emptyBins).toEqual([
      { bin: 0, side: 'live' },
      { bin: 1, side: 'live' },
    ]);
  });
});

describe('categorical statistics vs scipy', () => {
  const baseline = { red: 500, green: 300, blue: 200 };
  const live = { red: 300, green: 310, blue: 250, violet: 40 };
  let ref: { linf: number; chi2: number; p: number; dof: number; js: number; p2: number };
  beforeAll(async () => {
    ref = await py(
      `cats = inp['cats']; b = np.array([inp['b'].get(c, 0) for c in cats], float); l = np.array([inp['l'].get(c, 0) for c in cats], float)
r = stats.chi2_contingency(np.array([b, l]), correction=False)
print(json.dumps({'linf': float(np.max(np.abs(b/b.sum() - l/l.sum()))), 'chi2': float(r.statistic), 'p': float(r.pvalue), 'dof': int(r.dof),
  'js': float(distance.jensenshannon(b/b.sum(), l/l.sum(), base=2) ** 2), 'p2': float(stats.chi2.sf(37.5, 7))}))`,
      { cats: ['red', 'green', 'blue', 'violet'], b: baseline, l: live },
    );
  }, 60_000);

  it('L-infinity, chi-squared (statistic, dof, p-value) and Jensen-Shannon match scipy', () => {
    const { categories, b, l } = alignCounts(baseline, live);
    expect(categories).toEqual(['red', 'green', 'blue', 'violet']);
    const li = lInfinity(b, l, categories);
    expect(li.distance).toBeCloseTo(ref.linf, 12);
    expect(li.category).toBe('red');
    const c = chiSquared(b, l);
    expect(c.statistic).toBeCloseTo(ref.chi2, 9);
    expect(c.dof).toBe(ref.dof);
    expect(c.pValue / ref.p).toBeCloseTo(1, 8);
    expect(jensenShannon(b, l)).toBeCloseTo(ref.js, 12);
    expect(chiSquaredSurvival(37.5, 7) / ref.p2).toBeCloseTo(1, 8);
  });

  it('categories named like Object.prototype members are counted like any other', () => {
    // Live data (a capture line anyone who can write the bucket chose, or a real category such
    // as an occupation "constructor") must not be dropped or turned into a function.
    const live = JSON.parse('{"toString": 5, "__proto__": 5, "red": 10}') as Record<string, number>;
    const { categories, b, l } = alignCounts({ constructor: 10, red: 10 }, live);
    expect(categories).toEqual(['constructor', 'red', 'toString', '__proto__']);
    expect(b).toEqual([10, 10, 0, 0]);
    expect(l).toEqual([0, 10, 5, 5]);
    const all = alignCounts({ red: 10 }, { hasOwnProperty: 10 });
    expect(all).toEqual({ categories: ['red', 'hasOwnProperty'], b: [10, 0], l: [0, 10] });
    expect(lInfinity(all.b, all.l).distance).toBe(1);
  });

  it('identical shares: no distance, p-value 1', () => {
    const c = chiSquared([10, 20], [20, 40]);
    expect(c.statistic).toBeCloseTo(0, 12);
    expect(c.pValue).toBeCloseTo(1, 12);
    expect(jensenShannon([10, 20], [20, 40])).toBeCloseTo(0, 12);
  });
});

describe('KLL sketch', () => {
  const n = 200_000;
  const xs = normals(n, 5, 2, 7);
  const sorted = Float64Array.from(xs).sort();
  const trueCdf = (x: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo / sorted.length;
  };
  const maxRankError = (s: KllSketch) => {
    let worst = 0;
    for (let i = 0; i <= 1000; i++) {
      const x = sorted[Math.min(sorted.length - 1, Math.floor((i / 1000) * sorted.length))];
      worst = Math.max(worst, Math.abs(s.cdf(x) - trueCdf(x)));
    }
    return worst;
  };

  it('keeps every rank within the documented bound, with memory independent of n', () => {
    const s = new KllSketch(200);
    for (const x of xs) s.update(x);
    expect(s.exact).toBe(false);
    expect(s.n).toBe(n);
    expect(maxRankError(s)).toBeLessThanOrEqual(rankError(200));
    expect(s.retained).toBeLessThan(2000);
    expect(s.min).toBe(sorted[0]);
    expect(s.max).toBe(sorted[n - 1]);
  });

  it('merged sketches keep the bound; a round trip through JSON changes nothing', () => {
    const parts = [new KllSketch(200, 1), new KllSketch(200, 2), new KllSketch(200, 3)];
    xs.forEach((x, i) => parts[i % 3].update(x));
    const m = KllSketch.fromJSON(parts[0].toJSON());
    m.merge(parts[1]);
    m.merge(parts[2]);
    expect(m.n).toBe(n);
    expect(maxRankError(m)).toBeLessThanOrEqual(rankError(200));
    const again = KllSketch.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(again.cdf(5)).toBe(m.cdf(5));
  });

  it('is exact until its first compaction', () => {
    const s = new KllSketch(200);
    for (const x of xs.slice(0, 1000)) s.update(x);
    expect(s.exact).toBe(true);
    const local = Float64Array.from(xs.slice(0, 1000)).sort();
    expect(s.quantile(0.5)).toBe(local[499]);
  });

  it("KS between sketches stays within the two sketches' error of the exact KS", () => {
    const other = normals(n, 5.2, 2, 8);
    const a = new KllSketch(200);
    const b = new KllSketch(200);
    xs.forEach((x) => a.update(x));
    other.forEach((x) => b.update(x));
    const exactD = ksDistance(exact(xs).sortedView(), exact(other).sortedView());
    expect(Math.abs(ksDistance(a.sortedView(), b.sortedView()) - exactD)).toBeLessThanOrEqual(2 * rankError(200));
  });
});
