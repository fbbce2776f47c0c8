/**
 * A mergeable quantile sketch (KLL: Karnin, Lang, Liberty, "Optimal quantile approximation in
 * streams", 2016, as in Liberty's reference implementation, non-lazy). Pure.
 *
 * Items live in compactors; an item at level h stands for 2^h input values. When the bottom level
 * is full, every level at its capacity (k * (2/3)^depth, bottom up) is sorted and every other item
 * (random offset) moves up a level.
 * Until the first compaction the sketch is exact: it holds every value (at least the first 1024).
 *
 * Error: with k = 200 the rank of any value is within about 1.65% of n of its true rank with
 * probability 0.99, for all values at once (`rankError(k)`, DataSketches' empirical fit
 * 2.446 / k^0.9433). Memory is O(k), independent of n. The coin flips come from a seeded PRNG,
 * so the same input gives the same sketch.
 */

export const DEFAULT_K = 200;
const C = 2 / 3;
const numeric = (a: number, b: number) => a - b;
/** Smallest capacity of the bottom level (exact values). */
const LEVEL0 = 1024;

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
  /** Level 0 lives in a typed buffer (the hot path: every update, sorted in place on compaction). */
  private buf0: Float64Array;
  private len0 = 0;
  /** levels[h] for h >= 1 (levels[0] is always empty: see buf0). */
  private levels: number[][] = [[]];
  /** Capacity of the bottom level: reaching it triggers a compaction. */
  private cap0: number;
  private seed: number;
  private view?: SortedView;
  /** Smallest capacity of the bottom level: the sketch holds every value until this many arrive. */
  private readonly level0: number;

  constructor(k = DEFAULT_K, seed = 0x9e3779b9, exactUpTo = LEVEL0) {
    if (!(k >= 8)) throw new RangeError(`sketch size k must be >= 8, got ${k}`);
    this.k = Math.floor(k);
    this.seed = seed >>> 0 || 1;
    this.level0 = Math.max(LEVEL0, Math.floor(exactUpTo));
    this.cap0 = this.capacity(0);
    this.buf0 = new Float64Array(this.cap0 + 1);
  }

  /** Whether no compaction has happened yet (every value is held exactly). */
  get exact(): boolean {
    return this.levels.length === 1;
  }

  /** Number of items held (memory). */
  get retained(): number {
    let size = this.len0;
    for (let h = 1; h < this.levels.length; h++) size += this.levels[h].length;
    return size;
  }

  private capacity(h: number): number {
    const depth = this.levels.length - h - 1;
    const c = Math.ceil(Math.pow(C, depth) * this.k) + 1;
    // A larger bottom level only adds exact items (weight 1), so it can only lower the error; it
    // makes compactions rare and batched (one in-place typed-array sort per ~LEVEL0 updates).
    return h === 0 ? Math.max(c, this.level0) : c;
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
    this.buf0[this.len0++] = x;
    this.n++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.view = undefined;
    if (this.len0 >= this.cap0) this.compress();
  }

  private growBuf0(need: number): void {
    const next = new Float64Array(Math.max(need, this.buf0.length * 2));
    next.set(this.buf0.subarray(0, this.len0));
    this.buf0 = next;
  }

  private grow(): void {
    this.levels.push([]);
    this.cap0 = this.capacity(0);
  }

  private levelLength(h: number): number {
    return h === 0 ? this.len0 : this.levels[h].length;
  }

  /**
   * Compacts every level at or over its capacity, bottom up (the original, non-lazy KLL). Levels
   * above the bottom are kept sorted, so compacting them needs no sort and the items they pass up
   * are merged in linear time; only the bottom level (unsorted, typed) is sorted.
   */
  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      if (this.levelLength(h) < this.capacity(h)) continue;
      if (h + 1 >= this.levels.length) this.grow();
      const sorted: ArrayLike<number> = h === 0 ? this.buf0.subarray(0, this.len0).sort() : this.levels[h];
      const len = sorted.length;
      const odd = len % 2 === 1;
      // An odd item out (the largest) stays at this level, as in the reference implementation.
      const end = odd ? len - 1 : len;
      const run: number[] = [];
      for (let i = this.coin() ? 1 : 0; i < end; i += 2) run.push(sorted[i]);
      const last = sorted[len - 1];
      if (h === 0) {
        if (odd) this.buf0[0] = last;
        this.len0 = odd ? 1 : 0;
      } else this.levels[h] = odd ? [last] : [];
      this.levels[h + 1] = mergeSorted(this.levels[h + 1], run);
    }
    this.cap0 = this.capacity(0);
    if (this.buf0.length < this.cap0 + 1) this.growBuf0(this.cap0 + 1);
  }

  /** Every held item with its level (weight 2^level). */
  private forEachItem(fn: (x: number, h: number) => void): void {
    for (let i = 0; i < this.len0; i++) fn(this.buf0[i], 0);
    for (let h = 1; h < this.levels.length; h++) for (const x of this.levels[h]) fn(x, h);
  }

  /** Folds another sketch into this one (both keep their error bounds; k is this sketch's). */
  merge(other: KllSketch): void {
    while (this.levels.length < other.levels.length) this.grow();
    other.forEachItem((x, h) => {
      if (h === 0) {
        if (this.len0 === this.buf0.length) this.growBuf0(this.len0 + 1);
        this.buf0[this.len0++] = x;
      } else this.levels[h].push(x);
    });
    this.n += other.n;
    if (other.n > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
    for (let h = 1; h < this.levels.length; h++) this.levels[h].sort(numeric);
    this.view = undefined;
    this.compress();
  }

  /** The sorted items and their cumulative weights (cached until the next update). */
  sortedView(): SortedView {
    if (this.view) return this.view;
    // Every level is sorted (the bottom one once, as a typed array): merge them pairwise, weights along.
    let values = this.buf0.slice(0, this.len0);
    // A profile's sketch comes with its bottom level sorted (toJSON): check, which costs far less than a sort.
    let sorted = true;
    for (let i = 1; i < values.length && sorted; i++) sorted = values[i - 1] <= values[i];
    if (!sorted) values.sort();
    let weights = new Float64Array(values.length).fill(1);
    for (let h = 1; h < this.levels.length; h++) {
      const level = this.levels[h];
      if (level.length === 0) continue;
      const w = 2 ** h;
      const out = new Float64Array(values.length + level.length);
      const ow = new Float64Array(out.length);
      let i = 0;
      let j = 0;
      let o = 0;
      while (i < values.length || j < level.length) {
        if (j >= level.length || (i < values.length && values[i] <= level[j])) {
          out[o] = values[i];
          ow[o++] = weights[i++];
        } else {
          out[o] = level[j++];
          ow[o++] = w;
        }
      }
      values = out;
      weights = ow;
    }
    let acc = 0;
    for (let i = 0; i < weights.length; i++) weights[i] = acc += weights[i];
    this.view = { values, cum: weights, total: acc };
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
    return {
      k: this.k,
      n: this.n,
      min: this.min,
      max: this.max,
      // Sorted, as the levels above are: reading the profile back then needs no sort (sortedView).
      levels: [Array.from(this.buf0.slice(0, this.len0).sort()), ...this.levels.slice(1).map((l) => [...l])],
    };
  }

  /** Rebuilds a sketch from its serialized form (as stored in a profile). */
  static fromJSON(j: SketchJson): KllSketch {
    const s = new KllSketch(j.k);
    const levels = j.levels.length ? j.levels : [[]];
    s.levels = [[], ...levels.slice(1).map((l) => [...l].sort(numeric))];
    s.buf0 = Float64Array.from(levels[0]);
    s.len0 = levels[0].length;
    s.n = j.n;
    s.min = j.n > 0 ? j.min : Infinity;
    s.max = j.n > 0 ? j.max : -Infinity;
    s.cap0 = s.capacity(0);
    if (s.buf0.length < s.cap0 + 1) s.growBuf0(s.cap0 + 1);
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

/** The view with equal values merged into one step (the CDF is the same; every value appears once). */
export function distinctView(v: SortedView): SortedView {
  const n = v.values.length;
  let d = 0;
  for (let i = 0; i < n; i++) if (i + 1 === n || v.values[i + 1] !== v.values[i]) d++;
  if (d === n) return v;
  const values = new Float64Array(d);
  const cum = new Float64Array(d);
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (i + 1 === n || v.values[i + 1] !== v.values[i]) {
      values[o] = v.values[i];
      cum[o++] = v.cum[i];
    }
  }
  return { values, cum, total: v.total };
}

/** Merges two sorted arrays into a new sorted array. */
function mergeSorted(a: number[], b: number[]): number[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
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
