/**
 * The live side of a numeric feature, counted on a grid of the baseline's own values. Pure.
 *
 * The baseline is small and known (the profile holds its values, exactly up to BASELINE_EXACT of
 * them), so live values need no sketch: each is counted at the grid value it equals or in the gap
 * between two neighbouring grid values. The grid is GRID_POINTS baseline values spaced by rank
 * (with the bin edges, the smallest and the largest), so at most 1/GRID_POINTS of the baseline lies
 * strictly inside a gap. At every grid value, and just before it, both CDFs are known exactly; in
 * between, the live CDF only rises and the baseline CDF rises by less than 1/GRID_POINTS, so the KS
 * distance from these counts is within 1/GRID_POINTS (0.0005) of scipy's ks_2samp statistic
 * against the profile's values, whatever the live data. The gaps also keep the sum of their values'
 * offsets, so the Wasserstein distance takes each gap's live (and baseline) values at their mean:
 * exact outside the baseline's range, and off by at most a gap's width inside it. Memory: a few
 * numbers per grid value, none per live record; the hot arrays stay in the CPU cache.
 */
import { lowerBound, type SortedView } from './sketch.js';
import { binIndex } from './stats.js';

/** Grid size: the bound on the KS error is 1 / GRID_POINTS. */
export const GRID_POINTS = 2048;

/** A structured-cloneable snapshot of a LiveNumeric (to merge summaries made in worker threads). */
export interface NumericState {
  kind: 'numeric';
  count: number;
  missing: number;
  s1: number;
  s2: number;
  min: number;
  max: number;
  /** Per grid index j: live values equal to grid[j], in the gap before it, and that gap's offset sum (see LiveNumeric). */
  counts: Float64Array;
  bins?: Float64Array;
}

/** The baseline values live data is counted on, with the baseline's CDF there (structured-cloneable). */
export interface BaselineGrid {
  /** Sorted, distinct. */
  values: Float64Array;
  /** Baseline weight <= values[j], and < values[j]. */
  cumAt: Float64Array;
  cumBefore: Float64Array;
  /** Mean distance from values[j-1] of the baseline weight strictly between values[j-1] and values[j] (0 when none). */
  baseMid: Float64Array;
  total: number;
}

/**
 * The grid of a baseline (its step CDF on distinct values): the first value at or past each rank
 * step of 1/points, the smallest, the largest, and the bin edges.
 */
export function baselineGrid(baseline: SortedView, edges: ArrayLike<number>, points = GRID_POINTS): BaselineGrid {
  const bv = baseline.values;
  const bc = baseline.cum;
  const total = baseline.total;
  const take = new Uint8Array(bv.length);
  if (bv.length > 0) take[0] = take[bv.length - 1] = 1;
  for (let i = 0, t = 1; i < bv.length; i++) {
    if (bc[i] >= (t * total) / points) {
      take[i] = 1;
      while (bc[i] >= (t * total) / points) t++;
    }
  }
  for (let k = 0; k < edges.length; k++) {
    const j = lowerBound(bv, edges[k]);
    if (j < bv.length && bv[j] === edges[k]) take[j] = 1;
  }
  let n = 0;
  for (let i = 0; i < take.length; i++) n += take[i];
  const g: BaselineGrid = {
    values: new Float64Array(n),
    cumAt: new Float64Array(n),
    cumBefore: new Float64Array(n),
    baseMid: new Float64Array(n),
    total,
  };
  let prev = -1;
  for (let i = 0, j = 0; i < bv.length; i++) {
    if (!take[i]) continue;
    g.values[j] = bv[i];
    g.cumAt[j] = bc[i];
    g.cumBefore[j] = i > 0 ? bc[i - 1] : 0;
    if (prev >= 0 && i - prev > 1) {
      let w = 0;
      let sum = 0;
      for (let k = prev + 1; k < i; k++) {
        const wk = bc[k] - bc[k - 1];
        w += wk;
        sum += wk * (bv[k] - bv[prev]);
      }
      g.baseMid[j] = w > 0 ? sum / w : 0;
    }
    prev = i;
    j++;
  }
  return g;
}

/** Streaming summary of one numeric live feature against a grid of its baseline's values. */
export class LiveNumeric {
  count = 0;
  missing = 0;
  /** Sums of x - shift and of its square (shift: a baseline value, so that the sums stay small). */
  private s1 = 0;
  private s2 = 0;
  private readonly shift: number;
  private min = Infinity;
  private max = -Infinity;
  private readonly values: Float64Array;
  private readonly cumAt: Float64Array;
  private readonly cumBefore: Float64Array;
  private readonly baseMid: Float64Array;
  private readonly total: number;
  /**
   * Interleaved per j: [4j] values[j] (NaN for j = n: equal to nothing); [4j+1] live values equal to it;
   * [4j+2] live values strictly between values[j-1] and values[j] (j = 0: below the first, j = n:
   * above the last); [4j+3] the sum of their distances to values[j-1] (to values[0] for j = 0).
   * A grid value beside its counts: the search and the count touch one cache line, not two.
   */
  private readonly cells: Float64Array;
  /** Bucket b of the value range starts at grid index starts[b]: a search touches a handful of values. */
  private readonly starts: Int32Array;
  private readonly scale: number;
  /** Grid indexes of the bin edges; undefined when an edge is not a grid value. */
  private readonly edgeAt?: Int32Array;
  /** Own bin counts, only when some edge is not a grid value. */
  private readonly ownBins?: Float64Array;

  /**
   * @param grid the baseline's grid (see baselineGrid)
   * @param edges the baseline's bin edges (PSI)
   */
  constructor(
    readonly grid: BaselineGrid,
    readonly edges: Float64Array,
  ) {
    const v = grid.values;
    const n = v.length;
    ({ values: this.values, cumAt: this.cumAt, cumBefore: this.cumBefore, baseMid: this.baseMid, total: this.total } = grid);
    this.cells = new Float64Array(4 * (n + 1));
    for (let j = 0; j < n; j++) this.cells[4 * j] = v[j];
    this.cells[4 * n] = NaN;
    this.shift = n > 0 ? v[n >> 1] : 0;
    const span = n > 1 ? v[n - 1] - v[0] : 0;
    const buckets = n > 1 && span > 0 && Number.isFinite(span) ? 2 * n : 0;
    this.scale = buckets > 0 ? buckets / span : 0;
    this.starts = new Int32Array(buckets + 1);
    for (let b = 0; b <= buckets; b++) this.starts[b] = Math.min(n - 1, lowerBound(v, v[0] + b / this.scale));
    const at = Int32Array.from(edges, (e) => {
      const j = lowerBound(v, e);
      return j < n && v[j] === e ? j : -1;
    });
    if (at.every((j) => j >= 0)) this.edgeAt = at;
    else this.ownBins = new Float64Array(edges.length + 1);
  }

  add(x: number | undefined): void {
    if (x === undefined) this.missing++;
    else this.addNumber(x);
  }

  addNumber(x: number): void {
    this.count++;
    const dx = x - this.shift;
    this.s1 += dx;
    this.s2 += dx * dx;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const n = this.values.length;
    if (n === 0) return;
    const c = this.cells;
    let j: number;
    if (x <= c[0]) j = 0;
    else if (x > c[4 * (n - 1)]) j = n;
    else {
      // The number of baseline values < x: start in x's bucket, then step (float rounding may
      // put x one bucket off; the steps correct it).
      const starts = this.starts;
      let b = ((x - c[0]) * this.scale) | 0;
      if (b > starts.length - 2) b = starts.length - 2;
      j = b >= 0 ? starts[b] : 0;
      const hi = b >= 0 ? starts[b + 1] : n - 1;
      if (hi - j > 8) {
        let lo = j;
        let h = hi;
        while (lo < h) {
          const mid = (lo + h) >>> 1;
          if (c[4 * mid] < x) lo = mid + 1;
          else h = mid;
        }
        j = lo;
      }
      while (c[4 * j] < x) j++;
      while (j > 0 && c[4 * j - 4] >= x) j--;
    }
    const at = 4 * j;
    if (c[at] === x) c[at + 1]++;
    else {
      c[at + 2]++;
      c[at + 3] += j === 0 ? c[0] - x : x - c[at - 4];
    }
    if (this.ownBins) this.ownBins[binIndex(this.edges, x)]++;
  }

  get moments(): { mean: number; std: number; min: number; max: number } {
    if (this.count === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
    const mean = this.s1 / this.count;
    return { mean: this.shift + mean, std: Math.sqrt(Math.max(0, this.s2 / this.count - mean * mean)), min: this.min, max: this.max };
  }

  /** Live counts on the baseline's bins (-inf, e0], (e0, e1], ..., (e_last, +inf). */
  get binCounts(): Float64Array {
    if (this.ownBins) return this.ownBins;
    const c = this.cells;
    const out = new Float64Array(this.edges.length + 1);
    let below = 0;
    let j = 0;
    let acc = 0;
    this.edgeAt!.forEach((at, i) => {
      for (; j <= at; j++) acc += c[4 * j + 1] + c[4 * j + 2];
      out[i] = acc - below;
      below = acc;
    });
    out[this.edges.length] = this.count - below;
    return out;
  }

  /** sup |F_b - F_l| within 1/GRID_POINTS of scipy's ks_2samp statistic against the baseline values; NaN without data. */
  ks(): number {
    const { cumAt, cumBefore, total, cells: c } = this;
    const m = this.count;
    if (m === 0 || total === 0) return NaN;
    let acc = 0;
    let d = 0;
    for (let j = 0; j < cumAt.length; j++) {
      acc += c[4 * j + 2];
      const before = Math.abs(cumBefore[j] / total - acc / m);
      acc += c[4 * j + 1];
      const at = Math.abs(cumAt[j] / total - acc / m);
      if (before > d) d = before;
      if (at > d) d = at;
    }
    return d;
  }

  /** integral |F_b - F_l| dx (scipy's wasserstein_distance), each gap's values taken at their mean; NaN without data. */
  wasserstein(): number {
    const { values: v, cumAt, cumBefore, baseMid, total, cells: c } = this;
    const m = this.count;
    const n = v.length;
    if (m === 0 || total === 0) return NaN;
    let w = (c[3] + c[4 * n + 3]) / m;
    let acc = c[1] + c[2];
    for (let j = 1; j < n; j++) {
      const len = v[j] - v[j - 1];
      const g = c[4 * j + 2];
      // Both CDFs are steps inside the gap: the baseline's at baseMid, the live one at its values' mean.
      const b0 = cumAt[j - 1] / total;
      const b1 = cumBefore[j] / total;
      const l0 = acc / m;
      const l1 = (acc + g) / m;
      const mb = baseMid[j];
      const ml = g > 0 ? c[4 * j + 3] / g : 0;
      const p = Math.min(mb, ml);
      const q = Math.max(mb, ml);
      w += Math.abs(b0 - l0) * p + Math.abs((mb <= ml ? b1 : b0) - (mb <= ml ? l0 : l1)) * (q - p) + Math.abs(b1 - l1) * (len - q);
      acc += g + c[4 * j + 1];
    }
    return w;
  }

  /** The counts of cells without the grid values (NumericState's layout: 3 per j). */
  private counts(): Float64Array {
    const c = this.cells;
    const out = new Float64Array((c.length / 4) * 3);
    for (let j = 0, k = 0; j < c.length; j += 4, k += 3) {
      out[k] = c[j + 1];
      out[k + 1] = c[j + 2];
      out[k + 2] = c[j + 3];
    }
    return out;
  }

  toState(): NumericState {
    return {
      kind: 'numeric',
      count: this.count,
      missing: this.missing,
      s1: this.s1,
      s2: this.s2,
      min: this.min,
      max: this.max,
      counts: this.counts(),
      ...(this.ownBins ? { bins: this.ownBins } : {}),
    };
  }

  /** Folds in another summary of the same baseline grid. */
  mergeState(o: NumericState): void {
    this.missing += o.missing;
    if (o.count > 0) {
      this.count += o.count;
      this.s1 += o.s1;
      this.s2 += o.s2;
      this.min = Math.min(this.min, o.min);
      this.max = Math.max(this.max, o.max);
    }
    const add = (a: Float64Array, b: ArrayLike<number>) => {
      for (let i = 0; i < a.length; i++) a[i] += b[i] ?? 0;
    };
    const c = this.cells;
    for (let j = 0, k = 0; k < o.counts.length; j += 4, k += 3) {
      c[j + 1] += o.counts[k];
      c[j + 2] += o.counts[k + 1];
      c[j + 3] += o.counts[k + 2];
    }
    if (this.ownBins && o.bins) add(this.ownBins, o.bins);
  }
}
