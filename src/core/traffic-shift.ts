/**
 * Feature shifts for `mlops traffic --shift`: `f=+0.5` adds to feature f, `f=-2` subtracts,
 * `f=*1.6` multiplies; `*` as the feature name shifts every feature. Used to rehearse drift.
 */

export interface FeatureShift {
  /** A feature (column) name, or `*` for every feature. */
  feature: string;
  op: '+' | '*';
  value: number;
}

/** Parses one `--shift` value; throws an Error saying what is wrong. */
export function parseShift(spec: string): FeatureShift {
  const m = /^([^=]+)=([+*-])\s*([0-9.eE+-]+)$/.exec(spec.trim());
  const value = m ? Number(m[3]) : NaN;
  if (!m || !Number.isFinite(value)) {
    throw new Error(`--shift "${spec}" is not FEATURE=+N, FEATURE=-N or FEATURE=*N (e.g. petal_length=+0.5, "*=*1.6")`);
  }
  const feature = m[1].trim();
  return m[2] === '*' ? { feature, op: '*', value } : { feature, op: '+', value: m[2] === '-' ? -value : value };
}

/** The shifted names that are not columns of the data (a `*` always matches). */
export function unknownShiftFeatures(header: readonly string[], shifts: readonly FeatureShift[]): string[] {
  return shifts.filter((s) => s.feature !== '*' && !header.includes(s.feature)).map((s) => s.feature);
}

/** The row with every shift applied in order. */
export function applyShifts(header: readonly string[], row: readonly number[], shifts: readonly FeatureShift[]): number[] {
  return row.map((x, i) =>
    shifts.reduce((v, s) => (s.feature === '*' || s.feature === header[i] ? (s.op === '*' ? v * s.value : v + s.value) : v), x),
  );
}

/** The nearest-rank percentile (p in 0..100) of the values, or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
