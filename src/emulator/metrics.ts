/**
 * SageMaker's invocation metrics, published to CloudWatch in batches: namespace `AWS/SageMaker`,
 * dimensions EndpointName + VariantName; optionally also EndpointName + EndpointConfigName +
 * VariantName, the series SageMaker's deployment-guardrail docs alarm on for the new fleet. That
 * second series is off by default because moto matches GetMetricStatistics dimensions as a subset
 * (real CloudWatch matches them exactly), so a query by EndpointName + VariantName would count
 * every invocation twice. Each flush sends one statistic set per metric and series.
 */
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';

export interface Invocation {
  endpoint: string;
  endpointConfig: string;
  variant: string;
  /** 2xx (ok), 4xx (the model answered 4xx), 5xx (the model failed or could not be reached). */
  outcome: 'ok' | '4xx' | '5xx';
  modelLatencyUs?: number;
  overheadLatencyUs: number;
}

interface Stat {
  count: number;
  sum: number;
  min: number;
  max: number;
}

const UNITS: Record<string, 'None' | 'Microseconds'> = {
  Invocations: 'None',
  Invocation4XXErrors: 'None',
  Invocation5XXErrors: 'None',
  ModelLatency: 'Microseconds',
  OverheadLatency: 'Microseconds',
};

export class MetricsPublisher {
  private series = new Map<string, { dims: Record<string, string>; metric: string; stat: Stat; time: Date }>();
  private timer: NodeJS.Timeout;
  private inflight = new Set<Promise<void>>();
  readonly errors: string[] = [];

  constructor(
    private readonly cw: CloudWatchClient,
    private readonly opts: { flushIntervalMs: number; withEndpointConfigName?: boolean },
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  record(inv: Invocation): void {
    const values: Record<string, number | undefined> = {
      Invocations: 1,
      Invocation4XXErrors: inv.outcome === '4xx' ? 1 : 0,
      Invocation5XXErrors: inv.outcome === '5xx' ? 1 : 0,
      ModelLatency: inv.modelLatencyUs,
      OverheadLatency: inv.overheadLatencyUs,
    };
    const dimSets: Array<Record<string, string>> = [{ EndpointName: inv.endpoint, VariantName: inv.variant }];
    if (this.opts.withEndpointConfigName) {
      dimSets.push({ EndpointName: inv.endpoint, EndpointConfigName: inv.endpointConfig, VariantName: inv.variant });
    }
    for (const dims of dimSets) {
      for (const [metric, v] of Object.entries(values)) {
        if (v === undefined) continue;
        const id = `${metric}\n${JSON.stringify(dims)}`;
        const s = this.series.get(id);
        if (s) {
          s.stat.count++;
          s.stat.sum += v;
          s.stat.min = Math.min(s.stat.min, v);
          s.stat.max = Math.max(s.stat.max, v);
        } else {
          this.series.set(id, { dims, metric, stat: { count: 1, sum: v, min: v, max: v }, time: new Date() });
        }
      }
    }
  }

  async flush(): Promise<void> {
    const all = [...this.series.values()];
    this.series.clear();
    const data: MetricDatum[] = all.map((s) => ({
      MetricName: s.metric,
      Dimensions: Object.entries(s.dims).map(([Name, Value]) => ({ Name, Value })),
      Timestamp: s.time,
      Unit: UNITS[s.metric],
      StatisticValues: { SampleCount: s.stat.count, Sum: s.stat.sum, Minimum: s.stat.min, Maximum: s.stat.max },
    }));
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
