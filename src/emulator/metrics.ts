/**
 * SageMaker's invocation metrics (Invocations, InvocationsPerInstance, Invocation4XXErrors,
 * Invocation5XXErrors, ModelLatency, OverheadLatency), published to CloudWatch in batches: namespace `AWS/SageMaker`,
 * dimensions EndpointName + VariantName, and EndpointName + EndpointConfigName + VariantName (the
 * series SageMaker's deployment-guardrail docs alarm on for the new fleet). Counts go out as one
 * statistic set per metric and series per flush; latencies as values with counts (at most 150 per
 * datum, CloudWatch's limit), so percentiles exist, as they do for SageMaker's own metrics. Every
 * datum is also kept in the emulator's metric store, which answers queries and evaluates alarms.
 */
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Sample } from './alarm-rules.js';
import type { MetricStore } from './cloudwatch-front.js';

export interface Invocation {
  endpoint: string;
  endpointConfig: string;
  variant: string;
  /** The variant's instances when the request came (InvocationsPerInstance is 1 / this per request). */
  instanceCount: number;
  /** 2xx (ok), 4xx (the model answered 4xx), 5xx (the model failed or could not be reached). */
  outcome: 'ok' | '4xx' | '5xx';
  modelLatencyUs?: number;
  overheadLatencyUs: number;
}

const UNITS: Record<string, 'None' | 'Microseconds'> = {
  Invocations: 'None',
  InvocationsPerInstance: 'None',
  Invocation4XXErrors: 'None',
  Invocation5XXErrors: 'None',
  ModelLatency: 'Microseconds',
  OverheadLatency: 'Microseconds',
};

/** Published as raw values (percentiles need them); the others as statistic sets. */
const AS_VALUES = new Set(['ModelLatency', 'OverheadLatency']);
const MAX_VALUES = 150;

interface Series {
  dims: Record<string, string>;
  metric: string;
  values: Map<number, number>;
  time: Date;
}

export class MetricsPublisher {
  private series = new Map<string, Series>();
  private timer: NodeJS.Timeout;
  private inflight = new Set<Promise<void>>();
  readonly errors: string[] = [];

  constructor(
    private readonly cw: CloudWatchClient,
    private readonly store: MetricStore,
    private readonly opts: { flushIntervalMs: number; withEndpointConfigName?: boolean },
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  record(inv: Invocation): void {
    const values: Record<string, number | undefined> = {
      Invocations: 1,
      // SageMaker sends 1/numberOfInstances of the variant on each request (its documented definition).
      InvocationsPerInstance: 1 / Math.max(1, inv.instanceCount),
      Invocation4XXErrors: inv.outcome === '4xx' ? 1 : 0,
      Invocation5XXErrors: inv.outcome === '5xx' ? 1 : 0,
      ModelLatency: inv.modelLatencyUs,
      OverheadLatency: inv.overheadLatencyUs,
    };
    const dimSets: Array<Record<string, string>> = [{ EndpointName: inv.endpoint, VariantName: inv.variant }];
    if (this.opts.withEndpointConfigName !== false) {
      dimSets.push({ EndpointName: inv.endpoint, EndpointConfigName: inv.endpointConfig, VariantName: inv.variant });
    }
    for (const dims of dimSets) {
      for (const [metric, v] of Object.entries(values)) {
        if (v === undefined) continue;
        const id = `${metric}\n${JSON.stringify(dims)}`;
        let s = this.series.get(id);
        if (!s) this.series.set(id, (s = { dims, metric, values: new Map(), time: new Date() }));
        s.values.set(v, (s.values.get(v) ?? 0) + 1);
      }
    }
  }

  async flush(): Promise<void> {
    const all = [...this.series.values()];
    this.series.clear();
    const data: MetricDatum[] = [];
    for (const s of all) {
      const base = {
        MetricName: s.metric,
        Dimensions: Object.entries(s.dims).map(([Name, Value]) => ({ Name, Value })),
        Timestamp: s.time,
        Unit: UNITS[s.metric],
      };
      let samples: Sample[];
      if (AS_VALUES.has(s.metric)) {
        const pairs = [...s.values];
        samples = pairs.map(([value, count]) => ({ value, count }));
        for (let i = 0; i < pairs.length; i += MAX_VALUES) {
          const part = pairs.slice(i, i + MAX_VALUES);
          data.push({ ...base, Values: part.map(([v]) => v), Counts: part.map(([, c]) => c) });
        }
      } else {
        const pairs = [...s.values];
        const set = {
          sampleCount: pairs.reduce((t, [, c]) => t + c, 0),
          sum: pairs.reduce((t, [v, c]) => t + v * c, 0),
          min: Math.min(...pairs.map(([v]) => v)),
          max: Math.max(...pairs.map(([v]) => v)),
        };
        samples = [set];
        data.push({ ...base, StatisticValues: { SampleCount: set.sampleCount, Sum: set.sum, Minimum: set.min, Maximum: set.max } });
      }
      this.store.put({ namespace: 'AWS/SageMaker', name: s.metric, dims: s.dims, time: s.time.getTime(), unit: UNITS[s.metric], samples });
    }
    for (let i = 0; i < data.length; i += 20) {
      const chunk = data.slice(i, i + 20);
      const p = (async () => {
        const { PutMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
        await this.cw.send(new PutMetricDataCommand({ Namespace: 'AWS/SageMaker', MetricData: chunk }));
      })().catch((err) => {
        this.errors.push((err as Error).message);
      });
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
    await Promise.all([...this.inflight]);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  discard(): void {
    this.series.clear();
  }
}
