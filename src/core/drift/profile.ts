/**
 * The baseline profile (made once, at training, from the holdout set) and the streaming
 * accumulators that build it and that summarize live data. Pure.
 *
 * Everything here is one pass with memory flat in the number of records: per numeric feature a
 * KLL sketch (O(k)), fixed bins and running moments; per categorical feature a count per value,
 * capped at MAX_CATEGORIES distinct values (further values count under OTHER_CATEGORY).
 */
import { DEFAULT_K, KllSketch, upperBound, type SketchJson } from './sketch.js';

/** Where `mlops train` logs the baseline profile in the MLflow run, and where `mlops monitor` reads it. */
export const PROFILE_ARTIFACT_PATH = 'mlops/profile.json';

export const PROFILE_SCHEMA = 'mlops.profile/v2';
/**
 * A numeric baseline feature keeps every value up to this many (live data is compared with them
 * exactly); beyond, its sketch of size BASELINE_K keeps every rank within about 0.2% of n.
 */
export const BASELINE_EXACT = 50_000;
export const BASELINE_K = 2048;
export const MAX_CATEGORIES = 10_000;
export const OTHER_CATEGORY = '__other__';

/** input: a model input; output: a model output (prediction, or the label standing in for it). */
export type FeatureRole = 'input' | 'output';

interface FeatureCommon {
  name: string;
  role: FeatureRole;
  /** Values present (not missing). */
  count: number;
  /** Values missing (empty, null, NaN, or not a number in a numeric column). */
  missing: number;
}

export interface NumericFeatureProfile extends FeatureCommon {
  kind: 'numeric';
  mean: number;
  /** Population standard deviation (ddof = 0). */
  std: number;
  min: number;
  max: number;
  sketch: SketchJson;
  /** Bins (-inf, e0], (e0, e1], ..., (e_last, +inf) on the baseline's deciles (ties merged), with counts. */
  bins: { edges: number[]; counts: number[] };
}

export interface CategoricalFeatureProfile extends FeatureCommon {
  kind: 'categorical';
  /** Count per value (values as strings). */
  values: Record<string, number>;
}

export type FeatureProfile = NumericFeatureProfile | CategoricalFeatureProfile;

export interface Profile {
  schema: typeof PROFILE_SCHEMA;
  createdAt?: string;
  /** Where it came from (file, MLflow run, Model Monitor statistics). */
  source?: Record<string, unknown>;
  /** Records profiled. */
  rows: number;
  /** Input feature names in the order a CSV request lists them (CSV capture is positional). */
  inputColumns: string[];
  /** Output names in the order a CSV response lists them. */
  outputColumns: string[];
  /** Columns left out of the profile (e.g. the label when a prediction column is given). */
  ignoredColumns?: string[];
  features: FeatureProfile[];
}

/** Parses a raw cell to a number, or undefined for missing/non-numeric. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    if (v === '') return undefined;
    const x = +v;
    // Number('  ') is 0: a blank cell is missing, not zero.
    return Number.isFinite(x) && (x !== 0 || v.trim() !== '') ? x : undefined;
  }
  if (typeof v === 'boolean') return undefined;
  return undefined;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses text[s, e) as a number (surrounding spaces ignored), undefined when missing or not a
 * finite number. Plain decimals of at most 15 digits take an exact fast path (Clinger's: an
 * integer mantissa < 2^53 divided by an exactly representable power of ten is correctly rounded);
 * anything else goes through Number().
 */
export function parseNumberRange(text: string, s: number, e: number): number | undefined {
  while (s < e && text.charCodeAt(s) === 32) s++;
  while (e > s && text.charCodeAt(e - 1) === 32) e--;
  if (s === e) return undefined;
  let i = s;
  let neg = false;
  const c0 = text.charCodeAt(i);
  if (c0 === 45) {
    neg = true;
    i++;
  } else if (c0 === 43) i++;
  let m = 0;
  let digits = 0;
  let frac = 0;
  let dot = false;
  let plain = i < e;
  for (; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (dot) frac++;
    } else if (c === 46 && !dot) dot = true;
    else {
      plain = false;
      break;
    }
  }
  if (plain && digits > 0 && digits <= 15) {
    const v = frac ? m / POW10[frac] : m;
    return neg ? -v : v;
  }
  const cell = text.slice(s, e);
  const x = +cell;
  return Number.isFinite(x) && (x !== 0 || cell.trim() !== '') ? x : undefined;
}

/** Whether a raw cell counts as missing (null, undefined, empty, NaN). */
export function isMissing(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return Number.isNaN(v);
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' || t === 'NaN' || t === 'nan' || t === 'null' || t === 'NA';
  }
  return false;
}

/** A categorical cell as a string. */
export function toCategory(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined) return String(v);
  // Objects and null as JSON; a cell parsed from CSV or JSON is never a function or symbol.
  return JSON.stringify(v) ?? typeof v;
}

/** Streaming summary of one numeric baseline feature: a sketch (exact up to `exactUpTo` values) and running moments. */
export class NumericAccumulator {
  readonly sketch: KllSketch;
  count = 0;
  missing = 0;
  private mean = 0;
  private m2 = 0;

  constructor(k = DEFAULT_K, exactUpTo?: number) {
    this.sketch = new KllSketch(k, undefined, exactUpTo);
  }

  add(raw: unknown): void {
    const x = toNumber(raw);
    if (x === undefined) {
      this.missing++;
      return;
    }
    this.addNumber(x);
  }

  addNumber(x: number): void {
    this.count++;
    const d = x - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (x - this.mean);
    this.sketch.update(x);
  }

  get moments(): { mean: number; std: number; min: number; max: number } {
    if (this.count === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
    return { mean: this.mean, std: Math.sqrt(this.m2 / this.count), min: this.sketch.min, max: this.sketch.max };
  }
}

export interface CategoricalState {
  kind: 'categorical';
  count: number;
  missing: number;
  counts: Array<[string, number]>;
}

/** Streaming value counts of one categorical feature (capped). */
export class CategoricalAccumulator {
  readonly counts = new Map<string, number>();
  count = 0;
  missing = 0;

  add(raw: unknown): void {
    if (isMissing(raw)) {
      this.missing++;
      return;
    }
    this.addValue(toCategory(raw));
  }

  addValue(s: string): void {
    this.count++;
    const c = this.counts.get(s);
    if (c !== undefined) this.counts.set(s, c + 1);
    else if (this.counts.size < MAX_CATEGORIES) this.counts.set(s, 1);
    else this.counts.set(OTHER_CATEGORY, (this.counts.get(OTHER_CATEGORY) ?? 0) + 1);
  }

  toRecord(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  toState(): CategoricalState {
    return { kind: 'categorical', count: this.count, missing: this.missing, counts: [...this.counts] };
  }

  mergeState(o: CategoricalState): void {
    this.missing += o.missing;
    this.count += o.count;
    for (const [v, c] of o.counts) {
      const have = this.counts.get(v);
      if (have !== undefined) this.counts.set(v, have + c);
      else if (this.counts.size < MAX_CATEGORIES) this.counts.set(v, c);
      else this.counts.set(OTHER_CATEGORY, (this.counts.get(OTHER_CATEGORY) ?? 0) + c);
    }
  }
}

/** Decile edges (ties merged) of a sketch, and the sketch's weight in each resulting bin. */
export function decileBins(sketch: KllSketch): { edges: number[]; counts: number[] } {
  if (sketch.n === 0) return { edges: [], counts: [0] };
  const edges: number[] = [];
  for (let q = 1; q <= 9; q++) {
    const e = sketch.quantile(q / 10);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  const v = sketch.sortedView();
  const counts: number[] = [];
  let prev = 0;
  for (const e of edges) {
    const i = upperBound(v.values, e);
    const c = i === 0 ? 0 : v.cum[i - 1];
    counts.push(c - prev);
    prev = c;
  }
  counts.push(v.total - prev);
  return { edges, counts };
}

export interface ProfileOptions {
  /** Columns that are model outputs (predictions). */
  outputs?: string[];
  /** Label columns: the output baseline when no prediction column is given, else ignored. */
  labels?: string[];
  /** Columns to treat as categorical even when every value is a number. */
  categorical?: string[];
  /** Columns to leave out. */
  ignore?: string[];
  /** Sketch size past BASELINE_EXACT values (default BASELINE_K). */
  k?: number;
  source?: Record<string, unknown>;
  createdAt?: string;
}

/**
 * Builds a profile from rows in one pass. A column is numeric while every present value parses as
 * a finite number; the first other value makes it categorical (its value counts are kept all along).
 */
export class ProfileBuilder {
  private columns: string[] = [];
  private numeric: Array<NumericAccumulator | undefined> = [];
  private categorical: CategoricalAccumulator[] = [];
  private isNumeric: boolean[] = [];
  private index = new Map<string, number>();
  private rows = 0;
  private readonly forcedCategorical: Set<string>;
  private readonly ignored: Set<string>;

  constructor(private readonly opts: ProfileOptions = {}) {
    this.forcedCategorical = new Set(opts.categorical ?? []);
    this.ignored = new Set(opts.ignore ?? []);
  }

  private column(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.columns.length;
      this.columns.push(name);
      this.index.set(name, i);
      const cat = this.forcedCategorical.has(name);
      this.isNumeric.push(!cat);
      this.numeric.push(cat ? undefined : new NumericAccumulator(this.opts.k ?? BASELINE_K, BASELINE_EXACT));
      this.categorical.push(new CategoricalAccumulator());
      // Rows seen before this column appeared lacked it.
      const missing = this.rows;
      this.categorical[i].missing = missing;
      if (this.numeric[i]) this.numeric[i]!.missing = missing;
    }
    return i;
  }

  /** Declares the columns in order (the CSV header). */
  setColumns(names: string[]): void {
    for (const n of names) this.column(n);
  }

  /** Adds one record: positional (after setColumns) or by name. */
  addRow(row: unknown[] | Record<string, unknown>): void {
    const seen = new Set<number>();
    if (Array.isArray(row)) {
      for (let i = 0; i < this.columns.length; i++) this.addCell(i, row[i]);
    } else {
      for (const [k, v] of Object.entries(row)) {
        const i = this.column(k);
        seen.add(i);
        this.addCell(i, v);
      }
      for (let i = 0; i < this.columns.length; i++) if (!seen.has(i)) this.addCell(i, undefined);
    }
    this.rows++;
  }

  private addCell(i: number, v: unknown): void {
    if (isMissing(v)) {
      this.categorical[i].missing++;
      if (this.numeric[i]) this.numeric[i].missing++;
      return;
    }
    this.categorical[i].addValue(toCategory(v));
    if (this.isNumeric[i]) {
      const x = toNumber(v);
      if (x === undefined) {
        this.isNumeric[i] = false;
        this.numeric[i] = undefined;
      } else this.numeric[i]!.addNumber(x);
    }
  }

  finish(): Profile {
    const outputs = new Set(this.opts.outputs ?? []);
    const labels = new Set(this.opts.labels ?? []);
    const labelIsOutput = outputs.size === 0;
    const features: FeatureProfile[] = [];
    const inputColumns: string[] = [];
    const outputColumns: string[] = [];
    const ignoredColumns: string[] = [];
    for (const name of [...outputs, ...labels]) {
      if (!this.index.has(name)) throw new RangeError(`column "${name}" is not in the data (columns: ${this.columns.join(', ')})`);
    }
    this.columns.forEach((name, i) => {
      let role: FeatureRole = 'input';
      if (this.ignored.has(name) || (labels.has(name) && !labelIsOutput)) {
        ignoredColumns.push(name);
        return;
      }
      if (outputs.has(name) || labels.has(name)) role = 'output';
      (role === 'input' ? inputColumns : outputColumns).push(name);
      const num = this.isNumeric[i] ? this.numeric[i] : undefined;
      if (num && num.count > 0) {
        const m = num.moments;
        features.push({
          name,
          role,
          kind: 'numeric',
          count: num.count,
          missing: num.missing,
          mean: m.mean,
          std: m.std,
          min: m.min,
          max: m.max,
          sketch: num.sketch.toJSON(),
          bins: decileBins(num.sketch),
        });
      } else {
        const cat = this.categorical[i];
        features.push({ name, role, kind: 'categorical', count: cat.count, missing: cat.missing, values: cat.toRecord() });
      }
    });
    return {
      schema: PROFILE_SCHEMA,
      ...(this.opts.createdAt ? { createdAt: this.opts.createdAt } : {}),
      ...(this.opts.source ? { source: this.opts.source } : {}),
      rows: this.rows,
      inputColumns,
      outputColumns,
      ...(ignoredColumns.length ? { ignoredColumns } : {}),
      features,
    };
  }
}

/** Checks that a parsed JSON value is a profile this version understands; returns a problem or undefined. */
export function profileProblem(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null) return 'not a JSON object';
  const o = p as Partial<Profile>;
  if ((o.schema as string | undefined) === 'mlops.profile/v1')
    return `it was made by an older mlops (schema "mlops.profile/v1", which keeps only a small sketch of the baseline; this version compares live data with the baseline's values, schema "${PROFILE_SCHEMA}"): re-run \`mlops profile\` on the holdout data to make a new one`;
  if (o.schema !== PROFILE_SCHEMA) return `schema is ${JSON.stringify(o.schema)}, expected "${PROFILE_SCHEMA}"`;
  if (!Array.isArray(o.features)) return 'no "features" array';
  if (!Array.isArray(o.inputColumns) || !Array.isArray(o.outputColumns)) return 'no "inputColumns"/"outputColumns"';
  for (const f of o.features) {
    if (!f || typeof f.name !== 'string') return 'a feature without a name';
    if (f.kind === 'numeric') {
      if (!f.sketch || !Array.isArray(f.sketch.levels) || !f.bins || !Array.isArray(f.bins.edges))
        return `numeric feature "${f.name}" lacks its sketch or bins`;
    } else if (f.kind === 'categorical') {
      if (typeof f.values !== 'object' || f.values === null) return `categorical feature "${f.name}" lacks its value counts`;
    } else return `feature "${(f as FeatureProfile).name}" has an unknown kind`;
  }
  return undefined;
}
