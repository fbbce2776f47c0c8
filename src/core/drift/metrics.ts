/**
 * The CloudWatch data points of one monitoring window. Pure.
 *
 * Namespace MLOPS_NAMESPACE ("mlops"), shared with promote's alarms (src/core/metric-names.ts):
 * - DriftScore {EndpointName, VariantName}: the drifted share of input features (0..1), or 1 when
 *   an output or a critical feature drifted. Promote's drift alarm watches this one.
 * - DatasetDrift {EndpointName, VariantName}: 1 when the window drifted, else 0.
 * - SampleCount {EndpointName, VariantName}: records read in the window (always published).
 * - FeatureDrift {EndpointName, VariantName, Feature}: the feature's statistic (chi2: its p-value).
 * - FeatureDrifted {EndpointName, VariantName, Feature}: 1 when the feature drifted, else 0.
 * With insufficient data only SampleCount is published, so alarms see no data rather than "no drift".
 */
import { DRIFT_METRIC, MLOPS_NAMESPACE } from '../metric-names.js';
import type { DriftReport } from './evaluate.js';

export const DRIFT_NAMESPACE = MLOPS_NAMESPACE;
export const DRIFT_SCORE_METRIC = DRIFT_METRIC;
export const DATASET_DRIFT_METRIC = 'DatasetDrift';
export const SAMPLE_COUNT_METRIC = 'SampleCount';
export const FEATURE_DRIFT_METRIC = 'FeatureDrift';
export const FEATURE_DRIFTED_METRIC = 'FeatureDrifted';

export interface DriftDatum {
  name: string;
  value: number;
  dimensions: Record<string, string>;
  unit: 'None' | 'Count';
}

/** The drift score of a report: the drifted input share, or 1 on output or critical drift. */
export function driftScore(report: DriftReport): number {
  const d = report.dataset;
  if (d.outputDrifted.length || d.criticalDrifted.length) return 1;
  return d.driftedShare;
}

/** The data points to publish for a window. */
export function driftMetrics(report: DriftReport, endpoint: string, variant: string): DriftDatum[] {
  const dims = { EndpointName: endpoint, VariantName: variant };
  const out: DriftDatum[] = [{ name: SAMPLE_COUNT_METRIC, value: report.dataset.samples, dimensions: dims, unit: 'Count' }];
  if (report.dataset.status === 'insufficient-data') return out;
  out.push({ name: DRIFT_SCORE_METRIC, value: driftScore(report), dimensions: dims, unit: 'None' });
  out.push({ name: DATASET_DRIFT_METRIC, value: report.dataset.status === 'drift' ? 1 : 0, dimensions: dims, unit: 'None' });
  for (const f of report.features) {
    if (f.status === 'no-data' || f.status === 'ignored' || !Number.isFinite(f.value)) continue;
    const fd = { ...dims, Feature: f.name };
    out.push({ name: FEATURE_DRIFT_METRIC, value: f.value, dimensions: fd, unit: 'None' });
    out.push({ name: FEATURE_DRIFTED_METRIC, value: f.status === 'drift' ? 1 : 0, dimensions: fd, unit: 'None' });
  }
  return out;
}
