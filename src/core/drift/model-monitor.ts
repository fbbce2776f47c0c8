/**
 * SageMaker Model Monitor's baseline `statistics.json` as an mlops profile. Pure.
 *
 * Numeric features carry `numerical_statistics` {common: {num_present, num_missing}, mean, sum,
 * std_dev, min, max, distribution.kll {buckets: [{lower_bound, upper_bound, count}],
 * sketch: {parameters: {c, k}, data: [[...], ...]}}}; data[h] holds the items of weight 2^h (Deequ's
 * KLL compactors). String features carry `string_statistics` {common, distinct_count,
 * distribution.categorical.buckets: [{value, count}]}. When a numeric feature has no sketch, its
 * buckets stand in: each bucket's count spread evenly over the bucket (an approximation).
 */
import { decileBins, PROFILE_SCHEMA, type FeatureProfile, type Profile } from './profile.js';
import { DEFAULT_K, KllSketch } from './sketch.js';

interface MmCommon {
  num_present?: number;
  num_missing?: number;
}
interface MmFeature {
  name: string;
  inferred_type?: string;
  numerical_statistics?: {
    common?: MmCommon;
    mean?: number;
    std_dev?: number;
    min?: number;
    max?: number;
    distribution?: {
      kll?: {
        buckets?: Array<{ lower_bound: number; upper_bound: number; count: number }>;
        sketch?: { parameters?: { c?: number; k?: number }; data?: number[][] };
      };
    };
  };
  string_statistics?: {
    common?: MmCommon;
    distribution?: { categorical?: { buckets?: Array<{ value: string; count: number }> } };
  };
}

/** Whether a parsed JSON document looks like a Model Monitor statistics.json. */
export function isModelMonitorStatistics(doc: unknown): boolean {
  const d = doc as { features?: unknown; dataset?: unknown };
  return (
    typeof d === 'object' &&
    d !== null &&
    Array.isArray(d.features) &&
    typeof d.dataset === 'object' &&
    (d.features as MmFeature[]).every(
      (f) => typeof f?.name === 'string' && (f.numerical_statistics !== undefined || f.string_statistics !== undefined),
    )
  );
}

/** Converts statistics.json to a profile; `outputs` names the features that are model outputs. */
export function profileFromModelMonitor(doc: unknown, opts: { outputs?: string[]; source?: Record<string, unknown> } = {}): Profile {
  if (!isModelMonitorStatistics(doc))
    throw new RangeError(
      'not a Model Monitor statistics.json (needs "dataset" and "features" with numerical_statistics or string_statistics)',
    );
  const d = doc as { dataset: { item_count?: number }; features: MmFeature[] };
  const outputs = new Set(opts.outputs ?? []);
  const features: FeatureProfile[] = [];
  for (const f of d.features) {
    const role = outputs.has(f.name) ? 'output' : 'input';
    if (f.numerical_statistics) {
      const ns = f.numerical_statistics;
      const kll = ns.distribution?.kll;
      let sketch: KllSketch;
      if (kll?.sketch?.data && kll.sketch.data.length > 0) {
        sketch = KllSketch.fromWeighted(Math.max(8, kll.sketch.parameters?.k ?? DEFAULT_K), kll.sketch.data);
      } else if (kll?.buckets && kll.buckets.length > 0) {
        sketch = new KllSketch(DEFAULT_K);
        for (const b of kll.buckets) {
          const c = Math.round(b.count);
          for (let i = 0; i < c; i++)
            sketch.update(c === 1 ? (b.lower_bound + b.upper_bound) / 2 : b.lower_bound + ((b.upper_bound - b.lower_bound) * i) / (c - 1));
        }
      } else {
        throw new RangeError(`feature "${f.name}" has neither a KLL sketch nor buckets`);
      }
      const present = ns.common?.num_present ?? sketch.n;
      features.push({
        name: f.name,
        role,
        kind: 'numeric',
        count: present,
        missing: ns.common?.num_missing ?? 0,
        mean: ns.mean ?? NaN,
        std: ns.std_dev ?? NaN,
        min: ns.min ?? sketch.min,
        max: ns.max ?? sketch.max,
        sketch: sketch.toJSON(),
        bins: decileBins(sketch),
      });
    } else {
      const ss = f.string_statistics!;
      const values: Record<string, number> = {};
      for (const b of ss.distribution?.categorical?.buckets ?? []) values[String(b.value)] = b.count;
      const counted = Object.values(values).reduce((s, x) => s + x, 0);
      features.push({
        name: f.name,
        role,
        kind: 'categorical',
        count: ss.common?.num_present ?? counted,
        missing: ss.common?.num_missing ?? 0,
        values,
      });
    }
  }
  return {
    schema: PROFILE_SCHEMA,
    source: { kind: 'model-monitor-statistics', ...(opts.source ?? {}) },
    rows: d.dataset.item_count ?? 0,
    inputColumns: features.filter((f) => f.role === 'input').map((f) => f.name),
    outputColumns: features.filter((f) => f.role === 'output').map((f) => f.name),
    features,
  };
}
