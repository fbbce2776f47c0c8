/**
 * The merge gate: candidate metrics against baseline metrics, one gate per metric. Pure.
 *
 * Rules (also in docs/compare.md):
 * - "Worsening" is how much worse the candidate is, in the metric's units: baseline - candidate
 *   when higher is better, candidate - baseline when lower is better. Improvements are negative.
 * - maxRelativeDrop: worsening / |baseline| must be <= the limit (0.01 = 1%).
 *   maxAbsoluteDrop: worsening must be <= the limit. When both are set, both must hold.
 *   A gate with neither (and no min/max) allows no worsening at all.
 * - min / max: absolute floor / ceiling for the candidate, checked with or without a baseline.
 * - The boundary passes: a worsening of exactly the tolerance is allowed. Differences below
 *   FLOAT_TOLERANCE relative to the values compared are float noise (0.9 - 0.891 is not exactly
 *   0.009 in binary), so a drop that equals the limit when written in decimal passes too.
 * - Fails closed: a gated metric missing or NaN (or infinite) in the candidate fails; so does one
 *   missing or NaN in an existing baseline, since the comparison cannot be made.
 * - Relative limits against a baseline of 0 cannot be computed: any worsening beyond float noise
 *   fails them.
 * - No baseline at all: policy "pass" skips the comparisons with a warning (floors, ceilings and
 *   candidate presence still apply); policy "fail" fails every gate.
 * - Metrics no gate names are listed with their deltas and never fail.
 */

export type Direction = 'higher' | 'lower';

export interface GateSpec {
  metric: string;
  direction: Direction;
  maxRelativeDrop?: number;
  maxAbsoluteDrop?: number;
  min?: number;
  max?: number;
}

export type NoBaselinePolicy = 'pass' | 'fail';

/** Relative float noise ignored at boundaries (see the module comment). */
export const FLOAT_TOLERANCE = 1e-9;

export type CheckKind = 'present' | 'relative' | 'absolute' | 'min' | 'max' | 'baseline';

export interface GateCheck {
  kind: CheckKind;
  ok: boolean;
  /** The configured limit (fraction for relative, metric units otherwise). */
  limit?: number;
  /** The measured value the limit applies to (relative or absolute worsening, or the candidate). */
  actual?: number;
  /** Why it failed or was skipped, for people. */
  message?: string;
}

/** pass/fail for gates; warn = passed only because there is no baseline; info = not gated. */
export type Verdict = 'pass' | 'fail' | 'warn' | 'info';

export interface MetricComparison {
  metric: string;
  gated: boolean;
  direction?: Direction;
  /** undefined when missing; NaN survives as NaN (JSON: null). */
  baseline?: number;
  candidate?: number;
  /** candidate - baseline. */
  delta?: number;
  /** delta / |baseline| (undefined when the baseline is 0 or missing). */
  relativeDelta?: number;
  /** How much worse the candidate is (negative = better); gated metrics only. */
  worsening?: number;
  gate?: GateSpec;
  checks: GateCheck[];
  verdict: Verdict;
  /** Messages for the failed or skipped checks. */
  reasons: string[];
}

export interface GateEvaluation {
  verdict: 'pass' | 'fail';
  /** One per gate, in config order. */
  gates: MetricComparison[];
  /** Metrics no gate names, sorted by name. */
  others: MetricComparison[];
  failed: number;
  hasBaseline: boolean;
  warnings: string[];
}

export interface EvaluateInput {
  gates: GateSpec[];
  candidate: Record<string, number>;
  /** undefined when there is no baseline (the first model). */
  baseline?: Record<string, number>;
  noBaseline: NoBaselinePolicy;
}

/** A usable metric value: present, not NaN, not infinite (MLflow stores +-inf as +-MAX_VALUE). */
export function isUsable(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) !== Number.MAX_VALUE;
}

function describeBad(v: number | undefined): string {
  if (v === undefined) return 'missing';
  if (Number.isNaN(v)) return 'NaN';
  return 'not finite';
}

/** Whether a <= b, ignoring float noise relative to the magnitudes involved. */
export function lessOrClose(a: number, b: number, ...scale: number[]): boolean {
  const mag = Math.max(1e-12, Math.abs(a), Math.abs(b), ...scale.map(Math.abs));
  return a <= b + FLOAT_TOLERANCE * mag;
}

/** Evaluates every gate and lists the other metrics. */
export function evaluateGates(input: EvaluateInput): GateEvaluation {
  const warnings: string[] = [];
  const hasBaseline = input.baseline !== undefined;
  const gates = input.gates.map((g) => evaluateGate(g, input.candidate, input.baseline, input.noBaseline));
  const named = new Set(input.gates.map((g) => g.metric));
  const otherNames = [...new Set([...Object.keys(input.candidate), ...Object.keys(input.baseline ?? {})])]
    .filter((m) => !named.has(m))
    .sort();
  const others = otherNames.map((metric) => {
    const baseline = input.baseline?.[metric];
    const candidate = input.candidate[metric];
    return { metric, gated: false, baseline, candidate, ...deltas(baseline, candidate), checks: [], verdict: 'info' as const, reasons: [] };
  });
  if (!hasBaseline) {
    warnings.push(
      input.noBaseline === 'pass'
        ? 'No baseline yet: comparisons skipped (policy compare.noBaseline = pass); floors, ceilings and missing metrics still checked.'
        : 'No baseline yet and compare.noBaseline = fail.',
    );
  }
  if (input.gates.length === 0) warnings.push('No gates configured (compare.gates is empty): nothing can fail.');
  const failed = gates.filter((g) => g.verdict === 'fail').length;
  return { verdict: failed > 0 ? 'fail' : 'pass', gates, others, failed, hasBaseline, warnings };
}

function deltas(baseline: number | undefined, candidate: number | undefined): { delta?: number; relativeDelta?: number } {
  if (!isUsable(baseline) || !isUsable(candidate)) return {};
  const delta = candidate - baseline;
  return { delta, relativeDelta: baseline === 0 ? undefined : delta / Math.abs(baseline) };
}

/** One gate against the candidate and (optional) baseline metrics. */
export function evaluateGate(
  gate: GateSpec,
  candidateMetrics: Record<string, number>,
  baselineMetrics: Record<string, number> | undefined,
  noBaseline: NoBaselinePolicy,
): MetricComparison {
  const candidate = candidateMetrics[gate.metric];
  const baseline = baselineMetrics?.[gate.metric];
  const checks: GateCheck[] = [];
  const out: MetricComparison = {
    metric: gate.metric,
    gated: true,
    direction: gate.direction,
    baseline,
    candidate,
    ...deltas(baseline, candidate),
    gate,
    checks,
    verdict: 'pass',
    reasons: [],
  };

  if (!isUsable(candidate)) {
    checks.push({ kind: 'present', ok: false, message: `candidate value is ${describeBad(candidate)}` });
    return finish(out);
  }
  if (gate.min !== undefined) {
    const ok = lessOrClose(gate.min, candidate);
    checks.push({ kind: 'min', ok, limit: gate.min, actual: candidate, message: ok ? undefined : `below the floor ${fmt(gate.min)}` });
  }
  if (gate.max !== undefined) {
    const ok = lessOrClose(candidate, gate.max);
    checks.push({ kind: 'max', ok, limit: gate.max, actual: candidate, message: ok ? undefined : `above the ceiling ${fmt(gate.max)}` });
  }

  const hasDropLimit = gate.maxRelativeDrop !== undefined || gate.maxAbsoluteDrop !== undefined;
  const compares = hasDropLimit || (gate.min === undefined && gate.max === undefined);
  if (!compares) return finish(out);

  if (baselineMetrics === undefined) {
    if (noBaseline === 'fail') checks.push({ kind: 'baseline', ok: false, message: 'no baseline to compare with (policy: fail)' });
    else out.verdict = 'warn';
    return finish(out);
  }
  if (!isUsable(baseline)) {
    checks.push({ kind: 'baseline', ok: false, message: `baseline value is ${describeBad(baseline)}` });
    return finish(out);
  }

  const worsening = gate.direction === 'higher' ? baseline - candidate : candidate - baseline;
  out.worsening = worsening;
  const absLimit = hasDropLimit ? gate.maxAbsoluteDrop : 0;
  if (absLimit !== undefined) {
    const ok = lessOrClose(worsening, absLimit, baseline, candidate);
    checks.push({
      kind: 'absolute',
      ok,
      limit: absLimit,
      actual: worsening,
      message: ok ? undefined : `worse by ${fmt(worsening)} (allowed ${fmt(absLimit)})`,
    });
  }
  if (gate.maxRelativeDrop !== undefined) {
    const limit = gate.maxRelativeDrop;
    if (baseline === 0) {
      const ok = lessOrClose(worsening, 0, candidate);
      checks.push({
        kind: 'relative',
        ok,
        limit,
        message: ok ? undefined : `worse than a baseline of 0 (a relative limit cannot allow any drop from 0)`,
      });
    } else {
      // Compared in the metric's units (limit * |baseline|), where float noise is easiest to bound.
      const allowed = limit * Math.abs(baseline);
      const ok = lessOrClose(worsening, allowed, baseline, candidate);
      const rel = worsening / Math.abs(baseline);
      checks.push({
        kind: 'relative',
        ok,
        limit,
        actual: rel,
        message: ok ? undefined : `worse by ${pct(rel)} (allowed ${pct(limit)})`,
      });
    }
  }
  return finish(out);
}

function finish(c: MetricComparison): MetricComparison {
  const failed = c.checks.filter((k) => !k.ok);
  c.reasons = failed.map((k) => k.message ?? k.kind);
  if (failed.length) c.verdict = 'fail';
  else if (c.verdict === 'warn') c.reasons = ['no baseline yet: comparison skipped'];
  return c;
}

/** A number for people: up to 6 significant digits, no float noise. */
export function fmt(v: number | undefined): string {
  if (v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v) || Math.abs(v) === Number.MAX_VALUE) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(3);
  return String(Number(v.toPrecision(6)));
}

/** A fraction as a percentage for people: 0.0123 -> "1.23%". */
export function pct(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return `${Number((v * 100).toPrecision(4))}%`;
}

/** The tolerance of a gate, for people: "drop ≤ 1%, ≥ 0.8". */
export function describeTolerance(g: GateSpec): string {
  const parts: string[] = [];
  const worse = g.direction === 'higher' ? 'drop' : 'rise';
  if (g.maxRelativeDrop !== undefined) parts.push(`${worse} ≤ ${pct(g.maxRelativeDrop)}`);
  if (g.maxAbsoluteDrop !== undefined) parts.push(`${worse} ≤ ${fmt(g.maxAbsoluteDrop)}`);
  if (g.maxRelativeDrop === undefined && g.maxAbsoluteDrop === undefined && g.min === undefined && g.max === undefined) {
    parts.push(`no ${worse}`);
  }
  if (g.min !== undefined) parts.push(`≥ ${fmt(g.min)}`);
  if (g.max !== undefined) parts.push(`≤ ${fmt(g.max)}`);
  return parts.join(', ');
}
