/**
 * A narrow interface over CloudWatch: the four calls mlops makes (monitor publishes drift;
 * promote creates and reads alarms on the new fleet). Built on @aws-sdk/client-cloudwatch
 * (`client.send(new XCommand(input))`), loaded lazily. Failures are ExternalError (exit 3).
 */
import { ExternalError } from '../cli/errors.js';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

export type Dimensions = Record<string, string>;

export interface MetricDatum {
  name: string;
  value: number;
  dimensions: Dimensions;
  unit?: 'None' | 'Count' | 'Percent' | 'Seconds' | 'Milliseconds';
  timestamp?: Date;
}

export interface AlarmSpec {
  name: string;
  description?: string;
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
  statistic: 'Average' | 'Maximum' | 'Minimum' | 'Sum' | 'SampleCount';
  /** Seconds. */
  period: number;
  evaluationPeriods: number;
  threshold: number;
  comparison: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
  treatMissingData?: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
  tags?: Record<string, string>;
}

export interface AlarmState {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | string;
  reason?: string;
  namespace?: string;
  metricName?: string;
  dimensions: Dimensions;
  threshold?: number;
}

export interface MetricStatisticsQuery {
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
  start: Date;
  end: Date;
  /** Seconds. */
  period: number;
  statistics: Array<'Average' | 'Maximum' | 'Minimum' | 'Sum' | 'SampleCount'>;
  /** Percentiles such as "p50", "p99" (promote's bake compares latency with them). */
  extendedStatistics?: string[];
}

export interface Datapoint {
  timestamp: Date;
  average?: number;
  maximum?: number;
  minimum?: number;
  sum?: number;
  sampleCount?: number;
  /** Percentile values, by name ("p99"), when asked for. */
  extended?: Record<string, number>;
}

/** The CloudWatch calls mlops makes. */
export interface MetricsPort {
  /** Publishes data points (batched by 1000, CloudWatch's limit per call). */
  putMetricData(namespace: string, data: MetricDatum[]): Promise<void>;
  putMetricAlarm(spec: AlarmSpec): Promise<void>;
  /** Alarms by name (unknown names are simply absent). */
  describeAlarms(names: string[]): Promise<AlarmState[]>;
  /** Data points sorted by time. */
  getMetricStatistics(q: MetricStatisticsQuery): Promise<Datapoint[]>;
  /** Forces an alarm's state (rollback uses it to make SageMaker stop a blue/green cutover). */
  setAlarmState(name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', reason: string): Promise<void>;
}

const dims = (d: Dimensions) => Object.entries(d).map(([Name, Value]) => ({ Name, Value }));
const fromDims = (d?: Array<{ Name?: string; Value?: string }>): Dimensions =>
  Object.fromEntries((d ?? []).map((x) => [x.Name ?? '', x.Value ?? '']));

function cwError(op: string, e: unknown): ExternalError {
  const name = (e as { name?: string })?.name ?? 'error';
  const msg = e instanceof Error ? e.message : String(e);
  return new ExternalError('CLOUDWATCH_ERROR', `CloudWatch ${op} failed: ${name}: ${msg}`, {
    hint: 'Check AWS credentials and region (or aws.endpoints.cloudwatch), and that the role may call cloudwatch:' + op + '.',
    cause: e,
  });
}

/** A MetricsPort over a real CloudWatch client. */
export async function cloudWatchMetrics(client: CloudWatchClient): Promise<MetricsPort> {
  const cw = await import('@aws-sdk/client-cloudwatch');
  return {
    async putMetricData(namespace, data) {
      for (let i = 0; i < data.length; i += 1000) {
        const batch = data.slice(i, i + 1000);
        try {
          await client.send(
            new cw.PutMetricDataCommand({
              Namespace: namespace,
              MetricData: batch.map((d) => ({
                MetricName: d.name,
                Value: d.value,
                Dimensions: dims(d.dimensions),
                Unit: d.unit ?? 'None',
                Timestamp: d.timestamp ?? new Date(),
              })),
            }),
          );
        } catch (e) {
          throw cwError('PutMetricData', e);
        }
      }
    },
    async putMetricAlarm(s) {
      try {
        await client.send(
          new cw.PutMetricAlarmCommand({
            AlarmName: s.name,
            AlarmDescription: s.description,
            Namespace: s.namespace,
            MetricName: s.metricName,
            Dimensions: dims(s.dimensions),
            Statistic: s.statistic,
            Period: s.period,
            EvaluationPeriods: s.evaluationPeriods,
            Threshold: s.threshold,
            ComparisonOperator: s.comparison,
            TreatMissingData: s.treatMissingData ?? 'notBreaching',
            ...(s.tags ? { Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
          }),
        );
      } catch (e) {
        throw cwError('PutMetricAlarm', e);
      }
    },
    async describeAlarms(names) {
      if (names.length === 0) return [];
      const out: AlarmState[] = [];
      try {
        // DescribeAlarms takes at most 100 names per call.
        for (let i = 0; i < names.length; i += 100) {
          let token: string | undefined;
          do {
            const r = await client.send(new cw.DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), NextToken: token }));
            for (const a of r.MetricAlarms ?? []) {
              out.push({
                name: a.AlarmName ?? '',
                state: a.StateValue ?? 'INSUFFICIENT_DATA',
                reason: a.StateReason,
                namespace: a.Namespace,
                metricName: a.MetricName,
                dimensions: fromDims(a.Dimensions),
                threshold: a.Threshold,
              });
            }
            token = r.NextToken;
          } while (token);
        }
      } catch (e) {
        throw cwError('DescribeAlarms', e);
      }
      return out;
    },
    async getMetricStatistics(q) {
      try {
        const r = await client.send(
          new cw.GetMetricStatisticsCommand({
            Namespace: q.namespace,
            MetricName: q.metricName,
            Dimensions: dims(q.dimensions),
            StartTime: q.start,
            EndTime: q.end,
            Period: q.period,
            ...(q.statistics.length ? { Statistics: q.statistics } : {}),
            ...(q.extendedStatistics?.length ? { ExtendedStatistics: q.extendedStatistics } : {}),
          }),
        );
        return (r.Datapoints ?? [])
          .map((p) => ({
            timestamp: p.Timestamp ?? new Date(0),
            average: p.Average,
            maximum: p.Maximum,
            minimum: p.Minimum,
            sum: p.Sum,
            sampleCount: p.SampleCount,
            ...(p.ExtendedStatistics ? { extended: p.ExtendedStatistics } : {}),
          }))
          .sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
      } catch (e) {
        throw cwError('GetMetricStatistics', e);
      }
    },
    async setAlarmState(name, state, reason) {
      try {
        await client.send(new cw.SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: reason }));
      } catch (e) {
        throw cwError('SetAlarmState', e);
      }
    },
  };
}

/** An in-memory MetricsPort for unit tests: records what was put; alarms keep their last spec. */
export class MemoryMetrics implements MetricsPort {
  readonly data: Array<MetricDatum & { namespace: string }> = [];
  readonly alarms = new Map<string, AlarmSpec & { state: string }>();

  async putMetricData(namespace: string, data: MetricDatum[]): Promise<void> {
    for (const d of data) this.data.push({ ...d, namespace });
  }
  async putMetricAlarm(spec: AlarmSpec): Promise<void> {
    this.alarms.set(spec.name, { ...spec, state: this.alarms.get(spec.name)?.state ?? 'OK' });
  }
  async describeAlarms(names: string[]): Promise<AlarmState[]> {
    return names
      .filter((n) => this.alarms.has(n))
      .map((n) => {
        const a = this.alarms.get(n)!;
        return { name: n, state: a.state, namespace: a.namespace, metricName: a.metricName, dimensions: a.dimensions, threshold: a.threshold };
      });
  }
  async setAlarmState(name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): Promise<void> {
    const a = this.alarms.get(name);
    if (a) a.state = state;
  }
  async getMetricStatistics(q: MetricStatisticsQuery): Promise<Datapoint[]> {
    const same = (d: Dimensions) => Object.keys(q.dimensions).length === Object.keys(d).length && Object.entries(q.dimensions).every(([k, v]) => d[k] === v);
    const pts = this.data.filter((d) => d.namespace === q.namespace && d.name === q.metricName && same(d.dimensions));
    if (pts.length === 0) return [];
    const vals = pts.map((p) => p.value);
    return [
      {
        timestamp: q.start,
        average: vals.reduce((s, x) => s + x, 0) / vals.length,
        maximum: Math.max(...vals),
        minimum: Math.min(...vals),
        sum: vals.reduce((s, x) => s + x, 0),
        sampleCount: vals.length,
      },
    ];
  }
}
