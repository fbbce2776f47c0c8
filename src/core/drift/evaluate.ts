/**
 * Live data against the baseline profile: the streaming live summary, the per-feature drift
 * decision, and the dataset verdict. Pure.
 */
import type { CsvCells } from './capture-bytes.js';
import { baselineGrid, LiveNumeric, type BaselineGrid, type NumericState } from './live-numeric.js';
import {
  CategoricalAccumulator,
  parseNumberRange,
  toNumber,
  type CategoricalState,
  type FeatureProfile,
  type FeatureRole,
  type Profile,
} from './profile.js';
import { distinctView, KllSketch } from './sketch.js';
import { alignCounts, chiSquared, jensenShannon, lInfinity, normalizedWasserstein, psi, robustKs } from './stats.js';
import { UserError } from '../errors.js';

export type NumericMethod = 'ks' | 'psi' | 'wasserstein';
export type CategoricalMethod = 'linf' | 'chi2' | 'js';
export type DriftMethod = NumericMethod | CategoricalMethod;

/**
 * Default thresholds: a feature drifts when its statistic is above the threshold, except chi2,
 * whose threshold is a significance level (drift when the p-value is below it).
 */
export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = {
  ks: 0.1,
  psi: 0.25,
  wasserstein: 0.1,
  linf: 0.1,
  chi2: 0.01,
  js: 0.1,
};
/** PSI between this and the alert threshold is a warning. */
export const PSI_WARN = 0.1;

export interface FeatureRule {
  method?: DriftMethod;
  threshold?: number;
  /** Drift of this feature alone makes the dataset drift. */
  critical?: boolean;
  /** Leave this feature out of the verdict. */
  ignore?: boolean;
}

export interface DriftOptions {
  numericMethod: NumericMethod;
  categoricalMethod: CategoricalMethod;
  /** Apply Model Monitor's robust correction to KS (default true). */
  ksRobust: boolean;
  features: Record<string, FeatureRule>;
  /** Fewer live records than this: "insufficient data", never drift. */
  minSamples: number;
  /** Dataset drift when the share of drifted input features is at least this (0..1). */
  driftedShare: number;
  /** Dataset drift when any output feature drifts. */
  outputDrift: boolean;
}

export const DEFAULT_DRIFT_OPTIONS: DriftOptions = {
  numericMethod: 'ks',
  categoricalMethod: 'linf',
  ksRobust: true,
  features: {},
  minSamples: 100,
  driftedShare: 0.3,
  outputDrift: true,
};

export interface LiveState {
  inputRows: number;
  outputRows: number;
  unknownCells: number;
  features: Record<string, NumericState | CategoricalState>;
}

type Acc = { kind: 'numeric'; acc: LiveNumeric } | { kind: 'categorical'; acc: CategoricalAccumulator };

/** Rows of the byte hot path held before their numbers are counted, feature by feature (see addCells). */
const BLOCK_ROWS = 2048;

/** Numbers of rows not yet counted: column-major, BLOCK_ROWS per column. */
interface Pending {
  nums: Float64Array;
  rows: number;
}

/** The streaming summary of live records, shaped by the profile (one pass, flat memory). */
export class LiveSummary {
  inputRows = 0;
  outputRows = 0;
  /** Named cells whose column is not in the profile. */
  unknownCells = 0;
  private readonly inputs: Acc[];
  private readonly outputs: Acc[];
  private readonly byName = new Map<string, Acc>();
  private readonly inputByName = new Map<string, Acc>();
  private readonly outputByName = new Map<string, Acc>();

  /** The grid of each numeric feature (made from the profile's baseline values unless given). */
  readonly grids: Record<string, BaselineGrid>;

  constructor(
    readonly profile: Profile,
    grids?: Record<string, BaselineGrid>,
  ) {
    this.grids = grids ?? {};
    const make = (f: FeatureProfile): Acc => {
      if (f.kind === 'categorical') return { kind: 'categorical', acc: new CategoricalAccumulator() };
      const grid = (this.grids[f.name] ??= baselineGrid(distinctView(KllSketch.fromJSON(f.sketch).sortedView()), f.bins.edges));
      return { kind: 'numeric', acc: new LiveNumeric(grid, Float64Array.from(f.bins.edges)) };
    };
    for (const f of profile.features) this.byName.set(f.name, make(f));
    const pick = (names: string[], m: Map<string, Acc>) =>
      names.map((n) => {
        const a = this.byName.get(n);
        if (!a) throw new RangeError(`profile lists column "${n}" but has no feature for it`);
        m.set(n, a);
        return a;
      });
    this.inputs = pick(profile.inputColumns, this.inputByName);
    this.outputs = pick(profile.outputColumns, this.outputByName);
  }

  /** What a summary made in another thread needs: the profile without its baseline values (the grids stand for them). */
  seed(): { profile: Profile; grids: Record<string, BaselineGrid> } {
    const features = this.profile.features.map((f) =>
      f.kind === 'numeric' ? { ...f, sketch: { ...f.sketch, levels: [] as number[][] } } : f,
    );
    return { profile: { ...this.profile, features }, grids: this.grids };
  }

  /** A structured-cloneable snapshot, to merge summaries made in parallel (worker threads). */
  toState(): LiveState {
    this.flush();
    const features: LiveState['features'] = {};
    for (const [name, a] of this.byName) features[name] = a.acc.toState();
    return { inputRows: this.inputRows, outputRows: this.outputRows, unknownCells: this.unknownCells, features };
  }

  /** Folds in another summary of the same profile. */
  mergeState(o: LiveState): void {
    this.flush();
    this.inputRows += o.inputRows;
    this.outputRows += o.outputRows;
    this.unknownCells += o.unknownCells;
    for (const [name, st] of Object.entries(o.features)) {
      const a = this.byName.get(name);
      if (!a) continue;
      if (a.kind === 'numeric' && st.kind === 'numeric') a.acc.mergeState(st);
      else if (a.kind === 'categorical' && st.kind === 'categorical') a.acc.mergeState(st);
    }
  }

  /** The live accumulator of a feature (for reports and tests). */
  feature(name: string): LiveNumeric | CategoricalAccumulator | undefined {
    this.flush();
    return this.byName.get(name)?.acc;
  }

  addInput(row: unknown[] | Record<string, unknown>): void {
    this.flush();
    this.inputRows++;
    this.addRow(row, this.inputs, this.inputByName);
  }

  addOutput(row: unknown[] | Record<string, unknown>): void {
    this.flush();
    this.outputRows++;
    this.addRow(row, this.outputs, this.outputByName);
  }

  /** Cells for parseCsvRow shaped like the input (or output) columns, to pass back to addCells. */
  csvCells(output: boolean): CsvCells {
    const accs = output ? this.outputs : this.inputs;
    return { numeric: accs.map((a) => a.kind === 'numeric'), nums: new Float64Array(accs.length), texts: accs.map(() => '') };
  }

  private readonly pendingIn: Pending = { nums: new Float64Array(0), rows: 0 };
  private readonly pendingOut: Pending = { nums: new Float64Array(0), rows: 0 };

  /**
   * One row parsed by parseCsvRow (the capture hot path, from bytes). Its numbers are held and
   * counted BLOCK_ROWS rows at a time, one feature after the other: a feature's grid then stays in
   * the CPU cache while its values are counted, instead of every feature's grid taking turns. Each
   * feature still sees its values in row order (so float sums come out the same); anything that
   * reads or adds otherwise counts what is held first (flush).
   */
  addCells(cells: CsvCells, output: boolean): void {
    const accs = output ? this.outputs : this.inputs;
    const p = output ? this.pendingOut : this.pendingIn;
    if (output) this.outputRows++;
    else this.inputRows++;
    if (p.nums.length === 0) p.nums = new Float64Array(BLOCK_ROWS * accs.length);
    const r = p.rows++;
    for (let i = 0; i < accs.length; i++) {
      const a = accs[i];
      if (a.kind === 'numeric') p.nums[i * BLOCK_ROWS + r] = cells.nums[i];
      else a.acc.add(cells.texts[i]);
    }
    if (p.rows === BLOCK_ROWS) this.count(p, accs);
  }

  /** Counts the numbers held by addCells. */
  private flush(): void {
    if (this.pendingIn.rows) this.count(this.pendingIn, this.inputs);
    if (this.pendingOut.rows) this.count(this.pendingOut, this.outputs);
  }

  private count(p: Pending, accs: Acc[]): void {
    const rows = p.rows;
    p.rows = 0;
    for (let i = 0; i < accs.length; i++) {
      const a = accs[i];
      if (a.kind !== 'numeric') continue;
      const acc = a.acc;
      const nums = p.nums;
      for (let r = i * BLOCK_ROWS, end = r + rows; r < end; r++) {
        const x = nums[r];
        if (x === x) acc.addNumber(x);
        else acc.missing++;
      }
    }
  }

  /** One CSV row of input cells, without quotes or newlines (the capture hot path). */
  addInputCsv(text: string): void {
    this.flush();
    this.inputRows++;
    this.addCsv(text, this.inputs);
  }

  /** One CSV row of output cells, without quotes or newlines. */
  addOutputCsv(text: string): void {
    this.flush();
    this.outputRows++;
    this.addCsv(text, this.outputs);
  }

  private addCsv(text: string, positional: Acc[]): void {
    const len = text.length;
    let s = 0;
    for (let i = 0; i < positional.length; i++) {
      const a = positional[i];
      if (s > len) {
        a.acc.add(undefined);
        continue;
      }
      let e = text.indexOf(',', s);
      if (e < 0) e = len;
      if (a.kind === 'numeric') {
        const x = parseNumberRange(text, s, e);
        if (x === undefined) a.acc.missing++;
        else a.acc.addNumber(x);
      } else a.acc.add(text.slice(s, e));
      s = e + 1;
    }
  }

  private addRow(row: unknown[] | Record<string, unknown>, positional: Acc[], named: Map<string, Acc>): void {
    if (Array.isArray(row)) {
      const n = positional.length;
      for (let i = 0; i < n; i++) {
        const a = positional[i];
        const v = row[i];
        if (a.kind === 'numeric') a.acc.add(toNumber(v));
        else a.acc.add(v);
      }
      return;
    }
    let matched = 0;
    for (const key in row) {
      const a = named.get(key) ?? this.byName.get(key);
      if (!a) {
        this.unknownCells++;
        continue;
      }
      matched++;
      if (a.kind === 'numeric') a.acc.add(toNumber(row[key]));
      else a.acc.add(row[key]);
    }
    if (matched < positional.length) {
      for (const [name, a] of named) if (!(name in row)) a.acc.add(undefined);
    }
  }
}

export interface FeatureDrift {
  name: string;
  role: FeatureRole;
  kind: 'numeric' | 'categorical';
  method: DriftMethod;
  /** The statistic the decision uses (for chi2: the p-value). */
  value: number;
  threshold: number;
  status: 'ok' | 'warn' | 'drift' | 'no-data' | 'ignored';
  critical: boolean;
  baselineCount: number;
  liveCount: number;
  liveMissing: number;
  /** Every statistic of the feature's kind. */
  stats: Record<string, unknown>;
  /**
   * Numeric features: the share of baseline and live rows in each of the baseline's decile bins
   * (the ones PSI compares), for the report's charts. Bin i holds values up to edges[i]; the last
   * holds those above the last edge.
   */
  bins?: { edges: number[]; baseline: number[]; live: number[] };
}

export interface DatasetVerdict {
  status: 'drift' | 'no-drift' | 'insufficient-data';
  samples: number;
  minSamples: number;
  inputFeatures: number;
  driftedInputs: string[];
  driftedShare: number;
  driftedShareThreshold: number;
  criticalDrifted: string[];
  outputDrifted: string[];
  reasons: string[];
}

export interface DriftReport {
  dataset: DatasetVerdict;
  features: FeatureDrift[];
}

const NUMERIC_METHODS: readonly DriftMethod[] = ['ks', 'psi', 'wasserstein'];
const CATEGORICAL_METHODS: readonly DriftMethod[] = ['linf', 'chi2', 'js'];

/**
 * The method that judges a feature. One of the other kind (chi2 on a numeric feature) would be
 * judged with the wrong sense, so it is bad input (exit 2), not something to repair silently: the
 * config schema rejects it for the defaults; an override's feature kind is only known here.
 */
function methodFor(f: FeatureProfile, rule: FeatureRule, opts: DriftOptions): DriftMethod {
  const m = rule.method ?? (f.kind === 'numeric' ? opts.numericMethod : opts.categoricalMethod);
  const allowed = f.kind === 'numeric' ? NUMERIC_METHODS : CATEGORICAL_METHODS;
  if (!allowed.includes(m)) {
    const setting = rule.method ? `monitor.features.${f.name}.method` : `monitor.${f.kind === 'numeric' ? 'numeric' : 'categorical'}Method`;
    throw new UserError(
      'DRIFT_METHOD_KIND',
      `${setting} is "${m}", a ${f.kind === 'numeric' ? 'categorical' : 'numeric'} method, but "${f.name}" is a ${f.kind} feature in the baseline profile; expected one of ${allowed.map((x) => `"${x}"`).join(', ')}.`,
      { hint: `Set ${setting} to one of ${allowed.join(', ')} (or remove it to use the default of its kind).` },
    );
  }
  return m;
}

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);

/** Counts as shares of their total (all 0 when there are none). */
function shares(counts: ArrayLike<number>): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  return Array.from(counts, (c) => (total > 0 ? round(c / total) : 0));
}

/** Compares one feature's live summary with its baseline. */
export function featureDrift(
  f: FeatureProfile,
  live: LiveNumeric | CategoricalAccumulator,
  rule: FeatureRule,
  opts: DriftOptions,
): FeatureDrift {
  const method = methodFor(f, rule, opts);
  const threshold = rule.threshold ?? DEFAULT_THRESHOLDS[method];
  const base = {
    name: f.name,
    role: f.role,
    kind: f.kind,
    method,
    threshold,
    critical: rule.critical ?? false,
    baselineCount: f.count,
    liveCount: live.count,
    liveMissing: live.missing,
  };
  const stats: Record<string, unknown> = {};
  let bins: FeatureDrift['bins'];
  let value: number;
  if (f.kind === 'numeric' && live instanceof LiveNumeric) {
    const d = live.ks();
    const dr = robustKs(d, f.count, live.count);
    const p = psi(f.bins.counts, live.binCounts);
    bins = { edges: f.bins.edges, baseline: shares(f.bins.counts), live: shares(live.binCounts) };
    const w = live.wasserstein();
    const m = live.moments;
    Object.assign(stats, {
      ks: round(d),
      ksRobust: round(dr),
      psi: round(p.psi),
      ...(p.emptyBins.length ? { psiEmptyBins: p.emptyBins } : {}),
      wasserstein: round(w),
      wassersteinNormalized: round(normalizedWasserstein(w, f.std)),
      baselineMean: round(f.mean),
      liveMean: round(m.mean),
      baselineStd: round(f.std),
      liveStd: round(m.std),
    });
    value = method === 'ks' ? (opts.ksRobust ? dr : d) : method === 'psi' ? p.psi : normalizedWasserstein(w, f.std);
  } else if (f.kind === 'categorical' && live instanceof CategoricalAccumulator) {
    const { categories, b, l } = alignCounts(f.values, live.toRecord());
    const li = lInfinity(b, l, categories);
    const c = chiSquared(b, l);
    const js = jensenShannon(b, l);
    const unseen = categories.filter((cat, i) => b[i] === 0 && l[i] > 0);
    Object.assign(stats, {
      linf: round(li.distance),
      ...(li.category !== undefined ? { linfCategory: li.category } : {}),
      chi2: round(c.statistic),
      chi2Dof: c.dof,
      chi2PValue: c.pValue,
      js: round(js),
      ...(unseen.length ? { newCategories: unseen.slice(0, 20) } : {}),
    });
    value = method === 'linf' ? li.distance : method === 'chi2' ? c.pValue : js;
  } else {
    throw new RangeError(`feature "${f.name}": live summary kind does not match the profile`);
  }
  let status: FeatureDrift['status'];
  if (rule.ignore) status = 'ignored';
  else if (live.count === 0 || Number.isNaN(value)) status = 'no-data';
  else if (method === 'chi2') status = value < threshold ? 'drift' : 'ok';
  else if (value > threshold) status = 'drift';
  else if (method === 'psi' && value > Math.min(PSI_WARN, threshold)) status = 'warn';
  else status = 'ok';
  return { ...base, value: round(value), status, stats, ...(bins ? { bins } : {}) };
}

/**
 * Throws UserError (exit 2) when a configured method does not fit its feature's kind in the
 * profile. Cheap: call it as soon as the profile is known, before reading a window.
 */
export function checkDriftMethods(profile: Profile, options: Partial<DriftOptions> = {}): void {
  const opts: DriftOptions = { ...DEFAULT_DRIFT_OPTIONS, ...options };
  for (const f of profile.features) methodFor(f, opts.features[f.name] ?? {}, opts);
}

/** Every feature's drift and the dataset verdict. */
export function evaluateDrift(live: LiveSummary, options: Partial<DriftOptions> = {}): DriftReport {
  const opts: DriftOptions = { ...DEFAULT_DRIFT_OPTIONS, ...options, features: { ...(options.features ?? {}) } };
  const features = live.profile.features.map((f) => featureDrift(f, live.feature(f.name)!, opts.features[f.name] ?? {}, opts));
  const samples = live.inputRows;
  const inputs = features.filter((f) => f.role === 'input' && f.status !== 'ignored');
  const driftedInputs = inputs.filter((f) => f.status === 'drift').map((f) => f.name);
  const driftedShare = inputs.length ? driftedInputs.length / inputs.length : 0;
  const criticalDrifted = features.filter((f) => f.critical && f.status === 'drift').map((f) => f.name);
  const outputDrifted = features.filter((f) => f.role === 'output' && f.status === 'drift').map((f) => f.name);
  const reasons: string[] = [];
  let status: DatasetVerdict['status'];
  if (samples < opts.minSamples) {
    status = 'insufficient-data';
    reasons.push(`${samples} records in the window, fewer than the minimum ${opts.minSamples}`);
  } else {
    if (inputs.length && driftedShare >= opts.driftedShare && driftedInputs.length > 0) {
      reasons.push(
        `${driftedInputs.length} of ${inputs.length} input features drifted (${(driftedShare * 100).toFixed(0)}% >= ${(opts.driftedShare * 100).toFixed(0)}%)`,
      );
    }
    if (criticalDrifted.length) reasons.push(`critical feature drifted: ${criticalDrifted.join(', ')}`);
    if (opts.outputDrift && outputDrifted.length) reasons.push(`output drifted: ${outputDrifted.join(', ')}`);
    status = reasons.length ? 'drift' : 'no-drift';
  }
  return {
    dataset: {
      status,
      samples,
      minSamples: opts.minSamples,
      inputFeatures: inputs.length,
      driftedInputs,
      driftedShare: round(driftedShare),
      driftedShareThreshold: opts.driftedShare,
      criticalDrifted,
      outputDrifted,
      reasons,
    },
    features,
  };
}

/** SageMaker Model Monitor's constraint_violations.json shape for the drifted features. */
export function constraintViolations(report: DriftReport): {
  violations: Array<{ feature_name: string; constraint_check_type: string; description: string }>;
} {
  return {
    violations: report.features
      .filter((f) => f.status === 'drift')
      .map((f) => ({
        feature_name: f.name,
        constraint_check_type: 'baseline_drift_check',
        description:
          f.method === 'chi2'
            ? `Chi-squared p-value ${f.value} of ${f.role} feature "${f.name}" is below the significance level ${f.threshold}.`
            : `${METHOD_LABEL[f.method]} ${f.value} of ${f.role} feature "${f.name}" exceeds the threshold ${f.threshold}.`,
      })),
  };
}

export const METHOD_LABEL: Record<DriftMethod, string> = {
  ks: 'Baseline drift distance (KS)',
  psi: 'Population stability index',
  wasserstein: 'Normalized Wasserstein distance',
  linf: 'Baseline drift distance (L-infinity)',
  chi2: 'Chi-squared p-value',
  js: 'Jensen-Shannon divergence',
};
