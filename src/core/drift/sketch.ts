/**
 * A mergeable quantile sketch (KLL: Karnin, Lang, Liberty, "Optimal quantile approximation in
 * streams", 2016, in the lazy form of Liberty's reference implementation). Pure.
 *
 * Items live in compactors; an item at level h stands for 2^h input values. When the sketch is
 * full, the lowest over-full level is sorted and every other item (random offset) moves up a level.
 * Until the first compaction the sketch is exact: it holds every value (up to about 3k of them).
 *
 * Error: with k = 200 the rank of any value is within about 1.65% of n of its true rank with
 * probability 0.99, for all values at once (`rankError(k)`, DataSketches' empirical fit
 * 2.446 / k^0.9433). Memory is O(k), independent of n. The coin flips come from a seeded PRNG,
 * so the same input gives the same sketch.
 */

export const DEFAULT_K = 200;
const C = 2 / 3;

/** The normalized rank error bound (fraction of n, 99% confidence, all ranks at once) of a KLL sketch of size k. */
export function rankError(k: number): number {
  return 2.446 / Math.pow(k, 0.9433);
}

/** The serialized form: levels[h] holds the items of weight 2^h. */
export interface SketchJson {
  k: number;
  n: number;
  min: number;
  max: number;
  levels: number[][];
}

/** Sorted items with cumulative weights: the sketch's step CDF. */
export interface SortedView {
  values: Float64Array;
  /** cum[i] = total weight of values[0..i]. */
  cum: Float64Array;
  total: number;
}

export class KllSketch {
  readonly k: number;
  n = 0;
  min = Infinity;
  max = -Infinity;
  private levels: number[][] = [[]];
  private size = 0;
  private maxSize = 0;
  private seed: number;
  private view?: SortedView;

  constructor(k = DEFAULT_K, seed = 0x9e3779b9) {
    if (!(k >= 8)) throw new RangeError(`sketch size k must be >= 8, got ${k}`);
    this.k = Math.floor(k);
    this.seed = seed >>> 0 || 1;
    this.maxSize = this.capacity(0);
  }

  /** Whether no compaction has happened yet (every value is held exactly). */
  get exact(): boolean {
    return this.levels.length === 1;
  }

  /** Number of items held (memory). */
  get retained(): number {
    return this.size;
  }

  private capacity(h: number): number {
    const depth = this.levels.length - h - 1;
    return Math.ceil(Math.pow(C, depth) * this.k) + 1;
  }

  private coin(): boolean {
    // xorshift32
    let x = this.seed;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.seed = x;
    return (x & 1) === 1;
  }

  /** Adds one value (NaN and infinities are the caller's to filter). */
  update(x: number): void {
    this.levels[0].push(x);
    this.n++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.view = undefined;
    if (++this.size >= this.maxSize) this.compress();
  }

  private grow(): void {
    this.levels.push([]);
    let total = 0;
    for (let h = 0; h < this.levels.length; h++) total += this.capacity(h);
    this.maxSize = total;
  }

  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const level = this.levels[h];
      if (level.length >= this.capacity(h)) {
        if (h + 1 >= this.levels.length) this.grow();
        const sorted = Float64Array.from(level).sort();
        const odd = sorted.length % 2 === 1;
        // An odd item out (the largest) stays at this level, as in the reference implementation.
        const end = odd ? sorted.length - 1 : sorted.length;
        const up = this.levels[h + 1];
        for (let i = this.coin() ? 1 : 0; i < end; i += 2) up.push(sorted[i]);
        this.levels[h] = odd ? [sorted[sorted.length - 1]] : [];
        let size = 0;
        for (const l of this.levels) size += l.length;
        this.size = size;
        if (this.size < this.maxSize) break;
      }
    }
  }

  /** Folds another sketch into this one (both keep their error bounds; k is this sketch's). */
  merge(other: KllSketch): void {
    while (this.levels.length < other.levels.length) this.grow();
    for (let h = 0; h < other.levels.length; h++) for (const x of other.levels[h]) this.levels[h].push(x);
    this.n += other.n;
    if (other.n > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
    let size = 0;
    for (const l of this.levels) size += l.length;
    this.size = size;
    this.view = undefined;
    while (this.size >= this.maxSize) {
      const before = this.size;
      this.compress();
      if (this.size >= before) break;
    }
  }

  /** The sorted items and their cumulative weights (cached until the next update). */
  sortedView(): SortedView {
    if (this.view) return this.view;
    const pairs: Array<[number, number]> = [];
    for (let h = 0; h < this.levels.length; h++) {
      const w = 2 ** h;
      for (const x of this.levels[h]) pairs.push([x, w]);
    }
    pairs.sort((a, b) => a[0] - b[0]);
    const values = new Float64Array(pairs.length);
    const cum = new Float64Array(pairs.length);
    let acc = 0;
    for (let i = 0; i < pairs.length; i++) {
      values[i] = pairs[i][0];
      acc += pairs[i][1];
      cum[i] = acc;
    }
    this.view = { values, cum, total: acc };
    return this.view;
  }

  /** Fraction of values <= x (the empirical CDF). */
  cdf(x: number): number {
    const v = this.sortedView();
    if (v.total === 0) return NaN;
    const i = upperBound(v.values, x);
    return i === 0 ? 0 : v.cum[i - 1] / v.total;
  }

  /** The smallest held value whose CDF is >= q (numpy's "inverted_cdf" quantile). */
  quantile(q: number): number {
    const v = this.sortedView();
    if (v.total === 0) return NaN;
    const target = q * v.total;
    for (let i = 0; i < v.values.length; i++) if (v.cum[i] >= target - 1e-9 * v.total) return v.values[i];
    return v.values[v.values.length - 1];
  }

  toJSON(): SketchJson {
    return { k: this.k, n: this.n, min: this.min, max: this.max, levels: this.levels.map((l) => [...l]) };
  }

  /** Rebuilds a sketch from its serialized form (as stored in a profile). */
  static fromJSON(j: SketchJson): KllSketch {
    const s = new KllSketch(j.k);
    s.levels = j.levels.map((l) => [...l]);
    if (s.levels.length === 0) s.levels = [[]];
    s.n = j.n;
    s.min = j.n > 0 ? j.min : Infinity;
    s.max = j.n > 0 ? j.max : -Infinity;
    let size = 0;
    let total = 0;
    for (const l of s.levels) size += l.length;
    for (let h = 0; h < s.levels.length; h++) total += s.capacity(h);
    s.size = size;
    s.maxSize = total;
    return s;
  }

  /** A sketch from weighted items (e.g. a KLL sketch serialized by another tool), k chosen by the caller. */
  static fromWeighted(k: number, levels: number[][]): KllSketch {
    let n = 0;
    let min = Infinity;
    let max = -Infinity;
    levels.forEach((l, h) => {
      n += l.length * 2 ** h;
      for (const x of l) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
    });
    return KllSketch.fromJSON({ k, n, min, max, levels });
  }
}

/** Index of the first element > x in a sorted array. */
export function upperBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element >= x in a sorted array (= number of elements < x). */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
