/**
 * A narrow interface over CloudWatch: the five calls mlops makes (monitor publishes drift;
 * promote creates and reads alarms on the new fleet). Built on @aws-sdk/client-cloudwatch
 * (`client.send(new XCommand(input))`), loaded lazily. Failures are ExternalError (exit 3).
 */
import { awsFailure } from './aws.js';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Dimensions, MetricDatum, AlarmSpec, AlarmState, MetricStatisticsQuery, Datapoint, MetricsPort } from '../core/ports.js';
export type { Dimensions, MetricDatum, AlarmSpec, AlarmState, MetricStatisticsQuery, Datapoint, MetricsPort } from '../core/ports.js';

const dims = (d: Dimensions) => Object.entries(d).map(([Name, Value]) => ({ Name, Value }));
const fromDims = (d?: Array<{ Name?: string; Value?: string }>): Dimensions =>
  Object.fromEntries((d ?? []).map((x) => [x.Name ?? '', x.Value ?? '']));

function cwError(op: string, e: unknown) {
  return awsFailure('CloudWatch', op, e, {
    hint: `Check AWS credentials and region (or aws.endpoints.cloudwatch), and that the role may call cloudwatch:${op}.`,
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
    async deleteAlarms(names) {
      for (let i = 0; i < names.length; i += 100) {
        try {
          await client.send(new cw.DeleteAlarmsCommand({ AlarmNames: names.slice(i, i + 100) }));
        } catch (e) {
          throw cwError('DeleteAlarms', e);
        }
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
        return {
          name: n,
          state: a.state,
          namespace: a.namespace,
          metricName: a.metricName,
          dimensions: a.dimensions,
          threshold: a.threshold,
        };
      });
  }
  async setAlarmState(name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): Promise<void> {
    const a = this.alarms.get(name);
    if (a) a.state = state;
  }
  async deleteAlarms(names: string[]): Promise<void> {
    for (const n of names) this.alarms.delete(n);
  }
  async getMetricStatistics(q: MetricStatisticsQuery): Promise<Datapoint[]> {
    const same = (d: Dimensions) =>
      Object.keys(q.dimensions).length === Object.keys(d).length && Object.entries(q.dimensions).every(([k, v]) => d[k] === v);
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
