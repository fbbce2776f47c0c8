/**
 * CloudWatch's statistics and alarm evaluation rules as pure functions over datapoints, so the
 * emulator's CloudWatch front (cloudwatch-front.ts) can answer percentile queries moto cannot and
 * move alarms the way CloudWatch does. Semantics follow CloudWatch's documentation: a period's
 * statistic from raw values and statistic sets; "M out of N" evaluation (DatapointsToAlarm of
 * EvaluationPeriods) with TreatMissingData breaching | notBreaching | ignore | missing.
 */

/** One published datapoint: a raw value repeated `count` times, or a statistic set. */
export type Sample = { value: number; count: number } | { sampleCount: number; sum: number; min: number; max: number };

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type Comparison = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type MissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/** The parts of an alarm that decide its state. */
export interface AlarmRule {
  /** Sum | Average | Minimum | Maximum | SampleCount, or a percentile such as `p99`. */
  statistic: string;
  threshold: number;
  comparison: Comparison;
  evaluationPeriods: number;
  /** M of "M out of N"; defaults to EvaluationPeriods. */
  datapointsToAlarm?: number;
  /** Defaults to `missing`, as in CloudWatch. */
  treatMissingData?: MissingData;
}

/** A percentile name (`p99`, `p99.9`) as a number, or undefined for any other statistic. */
export function percentileOf(stat: string): number | undefined {
  const m = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
  return m ? Number(m[1]) : undefined;
}

/**
 * The statistic of one period, or undefined when it cannot be computed: no samples, an unknown
 * statistic, or a percentile over statistic sets that do not pin every value (CloudWatch computes
 * percentiles only from values, or from sets whose Minimum equals their Maximum).
 */
export function statisticOf(stat: string, samples: Sample[]): number | undefined {
  if (samples.length === 0) return undefined;
  const sets = samples.map((s) => ('value' in s ? { sampleCount: s.count, sum: s.value * s.count, min: s.value, max: s.value } : s));
  const count = sets.reduce((t, s) => t + s.sampleCount, 0);
  const sum = sets.reduce((t, s) => t + s.sum, 0);
  switch (stat) {
    case 'SampleCount':
      return count;
    case 'Sum':
      return sum;
    case 'Average':
      return count > 0 ? sum / count : undefined;
    case 'Minimum':
      return Math.min(...sets.map((s) => s.min));
    case 'Maximum':
      return Math.max(...sets.map((s) => s.max));
  }
  const p = percentileOf(stat);
  if (p === undefined || sets.some((s) => s.min !== s.max || s.sum !== s.min * s.sampleCount)) return undefined;
  // Nearest rank over the values, each repeated by its count.
  const values = sets.map((s) => ({ v: s.min, n: s.sampleCount })).sort((a, b) => a.v - b.v);
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  let seen = 0;
  for (const { v, n } of values) {
    seen += n;
    if (seen >= rank) return v;
  }
  return values.at(-1)?.v;
}

/** Whether a period's value is on the alarming side of the threshold. */
export function breaches(value: number, rule: Pick<AlarmRule, 'comparison' | 'threshold'>): boolean {
  switch (rule.comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= rule.threshold;
    case 'GreaterThanThreshold':
      return value > rule.threshold;
    case 'LessThanThreshold':
      return value < rule.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= rule.threshold;
  }
}

const WORDS: Record<Comparison, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

/**
 * The alarm's next state from the values of its last EvaluationPeriods periods (oldest first,
 * undefined = missing), and the reason, worded like CloudWatch's. `current` is the state now.
 */
export function evaluateAlarm(
  rule: AlarmRule,
  periods: Array<number | undefined>,
  current: AlarmStateValue,
): { state: AlarmStateValue; reason: string } {
  const n = rule.evaluationPeriods;
  const m = rule.datapointsToAlarm ?? n;
  const missing = rule.treatMissingData ?? 'missing';
  const window = periods.slice(-n);
  const present = window.filter((v): v is number => v !== undefined);
  if (present.length === 0) {
    if (missing === 'breaching' || missing === 'notBreaching') {
      const state = missing === 'breaching' ? 'ALARM' : 'OK';
      return { state, reason: `no datapoints were received for ${n} period(s); missing data is treated as ${missing}` };
    }
    if (missing === 'ignore') return { state: current, reason: 'no datapoints; missing data is ignored' };
    return { state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${n} datapoint(s) were unknown.` };
  }
  const missingCount = window.length - present.length + (n - window.length);
  const breaching = present.filter((v) => breaches(v, rule)).length + (missing === 'breaching' ? missingCount : 0);
  const state: AlarmStateValue = breaching >= m ? 'ALARM' : 'OK';
  const shown = present.slice(-5).join(', ');
  const reason =
    state === 'ALARM'
      ? `Threshold Crossed: ${breaching} out of the last ${n} datapoints [${shown}] ${breaching === 1 ? 'was' : 'were'} ${WORDS[rule.comparison]} the threshold (${rule.threshold}) (minimum ${m} datapoint${m === 1 ? '' : 's'} for OK -> ALARM transition).`
      : `Threshold Crossed: ${n - breaching} out of the last ${n} datapoints [${shown}] ${n - breaching === 1 ? 'was' : 'were'} not ${WORDS[rule.comparison]} the threshold (${rule.threshold}) (minimum ${Math.max(1, n - m + 1)} datapoint${n - m + 1 === 1 ? '' : 's'} for ALARM -> OK transition).`;
  return { state, reason };
}
