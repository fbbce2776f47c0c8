/**
 * The live side of a numeric feature, counted on the baseline's own values. Pure.
 *
 * The baseline is small and known (the profile holds its values, exactly up to BASELINE_EXACT of
 * them), so live values need no sketch: each is counted at the baseline value it equals or in the
 * gap between two neighbouring baseline values. Between two baseline values the baseline CDF is
 * flat and the live CDF only rises, so sup |F_b - F_l| is reached at a baseline value or just
 * before one: the KS distance from these counts is exactly scipy's ks_2samp statistic against the
 * profile's values. Each gap also keeps the sum of its values' offsets, which makes the Wasserstein
 * distance exact too, except inside a gap where the two CDFs cross (there the gap's values are
 * taken at their mean). Memory: three numbers per baseline value, none per live record.
 */
import { lowerBound, type SortedView } from './sketch.js';
import { binIndex } from './stats.js';

/** A structured-cloneable snapshot of a LiveNumeric (to merge summaries made in worker threads). */
export interface NumericState {
  kind: 'numeric';
  count: number;
  missing: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  eq: Float64Array;
  gap: Float64Array;
  gapSum: Float64Array;
  bins?: Float64Array;
}

/** Streaming summary of one numeric live feature against its baseline's distinct values. */
export class LiveNumeric {
  count = 0;
  missing = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  /** eq[j]: live values equal to values[j]. */
  private readonly eq: Float64Array;
  /** gap[j]: live values strictly between values[j-1] and values[j] (gap[0] below the first, gap[n] above the last). */
  private readonly gap: Float64Array;
  /** gapSum[j]: sum of those values' distance to the gap's inner end (values[j-1]; values[0] for gap 0). */
  private readonly gapSum: Float64Array;
  private readonly values: Float64Array;
  /** Bucket b of the value range starts at baseline index starts[b]: a search touches a handful of values. */
  private readonly starts: Int32Array;
  private readonly scale: number;
  /** Indexes of the bin edges among the baseline values; undefined when an edge is not one of them. */
  private readonly edgeAt?: Int32Array;
  /** Own bin counts, only when some edge is not a baseline value. */
  private readonly ownBins?: Float64Array;

  /**
   * @param grid the baseline's step CDF, distinct values (see distinctView)
   * @param edges the baseline's bin edges (PSI)
   */
  constructor(
    readonly grid: SortedView,
    readonly edges: Float64Array,
  ) {
    const v = grid.values;
    const n = v.length;
    this.values = v;
    this.eq = new Float64Array(n);
    this.gap = new Float64Array(n + 1);
    this.gapSum = new Float64Array(n + 1);
    const span = n > 1 ? v[n - 1] - v[0] : 0;
    const buckets = n > 1 && span > 0 && Number.isFinite(span) ? n : 0;
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
    const d = x - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const v = this.values;
    const n = v.length;
    if (n === 0) return;
    let j: number;
    if (x <= v[0]) j = 0;
    else if (x > v[n - 1]) j = n;
    else {
      // The number of baseline values < x: start in x's bucket, then step (float rounding may
      // put x one bucket off; the steps correct it).
      let b = ((x - v[0]) * this.scale) | 0;
      if (b >= this.starts.length - 1) b = this.starts.length - 2;
      j = b >= 0 ? this.starts[b] : 0;
      const hi = b >= 0 ? this.starts[b + 1] : n - 1;
      if (hi - j > 8) {
        let lo = j;
        let h = hi;
        while (lo < h) {
          const mid = (lo + h) >>> 1;
          if (v[mid] < x) lo = mid + 1;
          else h = mid;
        }
        j = lo;
      }
      while (v[j] < x) j++;
      while (j > 0 && v[j - 1] >= x) j--;
    }
    if (j < n && v[j] === x) this.eq[j]++;
    else {
      this.gap[j]++;
      this.gapSum[j] += j === 0 ? v[0] - x : x - v[j - 1];
    }
    if (this.ownBins) this.ownBins[binIndex(this.edges, x)]++;
  }

  get moments(): { mean: number; std: number; min: number; max: number } {
    if (this.count === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
    return { mean: this.mean, std: Math.sqrt(this.m2 / this.count), min: this.min, max: this.max };
  }

  /** Live counts on the baseline's bins (-inf, e0], (e0, e1], ..., (e_last, +inf). */
  get binCounts(): Float64Array {
    if (this.ownBins) return this.ownBins;
    const out = new Float64Array(this.edges.length + 1);
    let below = 0;
    let j = 0;
    let acc = 0;
    this.edgeAt!.forEach((at, i) => {
      for (; j <= at; j++) acc += this.gap[j] + this.eq[j];
      out[i] = acc - below;
      below = acc;
    });
    out[this.edges.length] = this.count - below;
    return out;
  }

  /** sup |F_b - F_l| (scipy's ks_2samp statistic against the baseline values); NaN without data. */
  ks(): number {
    const { cum, total } = this.grid;
    const m = this.count;
    if (m === 0 || total === 0) return NaN;
    let acc = 0;
    let d = 0;
    for (let j = 0; j < cum.length; j++) {
      acc += this.gap[j];
      const before = Math.abs((j === 0 ? 0 : cum[j - 1] / total) - acc / m);
      acc += this.eq[j];
      const at = Math.abs(cum[j] / total - acc / m);
      if (before > d) d = before;
      if (at > d) d = at;
    }
    return d;
  }

  /** integral |F_b - F_l| dx (scipy's wasserstein_distance); NaN without data. */
  wasserstein(): number {
    const { values: v, cum, total } = this.grid;
    const m = this.count;
    const n = v.length;
    if (m === 0 || total === 0) return NaN;
    let w = this.gapSum[0] / m + this.gapSum[n] / m;
    let acc = this.gap[0] + this.eq[0];
    for (let j = 1; j < n; j++) {
      const c = cum[j - 1] / total;
      const len = v[j] - v[j - 1];
      const g = this.gap[j];
      if (g === 0) w += Math.abs(c - acc / m) * len;
      else {
        const mid = this.gapSum[j] / g;
        w += Math.abs(c - acc / m) * mid + Math.abs(c - (acc + g) / m) * (len - mid);
      }
      acc += g + this.eq[j];
    }
    return w;
  }

  toState(): NumericState {
    return {
      kind: 'numeric',
      count: this.count,
      missing: this.missing,
      mean: this.mean,
      m2: this.m2,
      min: this.min,
      max: this.max,
      eq: this.eq,
      gap: this.gap,
      gapSum: this.gapSum,
      ...(this.ownBins ? { bins: this.ownBins } : {}),
    };
  }

  /** Folds in another summary of the same baseline (Chan et al.'s pairwise update for the moments). */
  mergeState(o: NumericState): void {
    this.missing += o.missing;
    if (o.count > 0) {
      const n = this.count + o.count;
      const d = o.mean - this.mean;
      this.mean += (d * o.count) / n;
      this.m2 += o.m2 + (d * d * this.count * o.count) / n;
      this.count = n;
      this.min = Math.min(this.min, o.min);
      this.max = Math.max(this.max, o.max);
    }
    const add = (a: Float64Array, b: ArrayLike<number>) => {
      for (let i = 0; i < a.length; i++) a[i] += b[i] ?? 0;
    };
    add(this.eq, o.eq);
    add(this.gap, o.gap);
    add(this.gapSum, o.gapSum);
    if (this.ownBins && o.bins) add(this.ownBins, o.bins);
  }
}
