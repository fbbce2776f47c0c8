/**
 * A small CloudWatch front for the local stack, served on the emulator's port: moto stores metrics
 * and alarms but computes no percentiles (GetMetricData with p99 is an HTML 500) and never
 * evaluates alarms. The front keeps its own copy of every datapoint put through it (and of the
 * emulator's own SageMaker metrics), answers GetMetricStatistics and GetMetricData from that copy
 * with CloudWatch's exact dimension matching and percentiles, sets new alarms to
 * INSUFFICIENT_DATA as CloudWatch does, and forwards everything else to moto unchanged. The
 * AlarmEvaluator moves alarms by their rules over the same datapoints on the emulated clock.
 * Protocol: awsQuery (form-encoded `Action=...`), answers in CloudWatch's XML.
 */
import { gunzipSync } from 'node:zlib';
import type { CloudWatchClient, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { evaluateAlarm, percentileOf, statisticOf, type AlarmRule, type AlarmStateValue, type Sample } from './alarm-rules.js';
import type { Clock } from './clock.js';

/** CloudWatch's reason for the state of a new alarm. */
const INITIAL_REASON = 'Unchecked: Initial alarm creation';

interface Stored {
  namespace: string;
  name: string;
  dims: Record<string, string>;
  /** Wall-clock ms, as published. */
  time: number;
  /** Wall-clock ms when the front received it. */
  arrival: number;
  unit?: string;
  sample: Sample;
}

/** One datapoint to store: a raw value list (with counts) or one statistic set. */
export interface StoredDatum {
  namespace: string;
  name: string;
  dims: Record<string, string>;
  time: number;
  unit?: string;
  samples: Sample[];
}

const sameDims = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** Every datapoint published on the local stack, queryable like CloudWatch (exact dimensions). */
export class MetricStore {
  private data: Stored[] = [];

  put(d: StoredDatum): void {
    const arrival = Date.now();
    for (const sample of d.samples) {
      this.data.push({ namespace: d.namespace, name: d.name, dims: d.dims, time: d.time, arrival, unit: d.unit, sample });
    }
  }

  /** The datapoints of one series whose time passes `inRange`. */
  select(namespace: string, name: string, dims: Record<string, string>, inRange: (time: number) => boolean, unit?: string): Stored[] {
    return this.data.filter(
      (d) => d.namespace === namespace && d.name === name && sameDims(d.dims, dims) && (!unit || d.unit === unit) && inRange(d.time),
    );
  }

  clear(): void {
    this.data = [];
  }
}

/** A request body of CloudWatch's JSON protocol (awsJson1_0), as the AWS SDK for JavaScript sends it. */
type Body = Record<string, unknown>;
type Dim = { Name?: string; Value?: string };

const dimsOf = (d: unknown): Record<string, string> =>
  Object.fromEntries(((d as Dim[] | undefined) ?? []).map((x) => [x.Name ?? '', x.Value ?? '']));

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A timestamp of the JSON protocol (epoch seconds, or an ISO string) as epoch ms. */
function timeOf(v: unknown): number {
  if (typeof v === 'number') return v * 1000;
  return typeof v === 'string' ? Date.parse(v) : NaN;
}

/** An error of CloudWatch (its query-compatible code travels in x-amzn-query-error). */
export class CloudWatchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface PutDatum {
  MetricName?: string;
  Dimensions?: Dim[];
  Timestamp?: unknown;
  Value?: number;
  Values?: number[];
  Counts?: number[];
  StatisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  Unit?: string;
}

/** The datapoints of `PutMetricData` (values with counts, a single value, or a statistic set). */
export function parsePut(b: Body, now = Date.now()): StoredDatum[] {
  const namespace = str(b.Namespace);
  return ((b.MetricData as PutDatum[] | undefined) ?? []).map((m) => {
    let samples: Sample[];
    if (m.Values?.length) samples = m.Values.map((value, i) => ({ value, count: m.Counts?.[i] ?? 1 }));
    else if (m.StatisticValues) {
      const s = m.StatisticValues;
      samples = [{ sampleCount: s.SampleCount, sum: s.Sum, min: s.Minimum, max: s.Maximum }];
    } else samples = [{ value: m.Value ?? 0, count: 1 }];
    const t = m.Timestamp === undefined ? now : timeOf(m.Timestamp);
    return { namespace, name: m.MetricName ?? '', dims: dimsOf(m.Dimensions), time: t, unit: m.Unit, samples };
  });
}

/** Splits [start, end) into periods aligned on `start`; the non-empty ones with their samples. */
function periodsOf(points: Stored[], startMs: number, endMs: number, periodMs: number) {
  const out: Array<{ start: number; samples: Sample[]; unit?: string }> = [];
  for (let t = startMs; t < endMs; t += periodMs) {
    const inPeriod = points.filter((d) => d.time >= t && d.time < t + periodMs);
    if (inPeriod.length) out.push({ start: t, samples: inPeriod.map((d) => d.sample), unit: inPeriod[0].unit });
  }
  return out;
}

function timeRange(b: Body): { start: number; end: number } {
  const start = timeOf(b.StartTime);
  const end = timeOf(b.EndTime);
  if (!(start < end))
    throw new CloudWatchError('InvalidParameterValue', 'The parameter StartTime must be less than the parameter EndTime.');
  return { start, end };
}

function periodOf(v: unknown): number {
  const period = Number(v);
  if (!(period > 0)) throw new CloudWatchError('InvalidParameterValue', 'The parameter Period must be greater than 0.');
  return period * 1000;
}

/** GetMetricStatistics from the store, with ExtendedStatistics (percentiles). */
export function getMetricStatistics(store: MetricStore, b: Body): unknown {
  const { start, end } = timeRange(b);
  const period = periodOf(b.Period);
  const stats = (b.Statistics as string[] | undefined) ?? [];
  const extended = (b.ExtendedStatistics as string[] | undefined) ?? [];
  if (stats.length + extended.length === 0) {
    throw new CloudWatchError('MissingParameter', 'Must specify either Statistics or ExtendedStatistics.');
  }
  const bad = extended.find((e) => percentileOf(e) === undefined);
  if (bad) throw new CloudWatchError('InvalidParameterValue', `The value ${bad} for parameter ExtendedStatistics is not supported.`);
  const name = str(b.MetricName);
  const unit = b.Unit as string | undefined;
  const points = store.select(str(b.Namespace), name, dimsOf(b.Dimensions), (t) => t >= start && t < end, unit);
  const Datapoints = periodsOf(points, start, end, period).map(({ start: t, samples, unit: u }) => {
    const valuesOf = (names: string[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const n of names) {
        const v = statisticOf(n, samples);
        if (v !== undefined) out[n] = v;
      }
      return out;
    };
    const plain = valuesOf(stats);
    const ext = valuesOf(extended);
    return { Timestamp: t / 1000, ...plain, ...(extended.length ? { ExtendedStatistics: ext } : {}), Unit: u ?? 'None' };
  });
  return { Label: name, Datapoints };
}

interface DataQuery {
  Id?: string;
  Label?: string;
  ReturnData?: boolean;
  Expression?: string;
  MetricStat?: { Metric?: { Namespace?: string; MetricName?: string; Dimensions?: Dim[] }; Period?: number; Stat?: string; Unit?: string };
}

/** GetMetricData for MetricStat queries (any statistic, percentiles included). */
export function getMetricData(store: MetricStore, b: Body): unknown {
  const { start, end } = timeRange(b);
  const descending = b.ScanBy === 'TimestampDescending';
  const queries = (b.MetricDataQueries as DataQuery[] | undefined) ?? [];
  const MetricDataResults = queries
    .filter((q) => q.ReturnData !== false)
    .map((q) => {
      if (q.Expression || !q.MetricStat) {
        throw new CloudWatchError(
          'InvalidParameterValue',
          "The emulator's CloudWatch front answers MetricStat queries only, not expressions.",
        );
      }
      const ms = q.MetricStat;
      const stat = ms.Stat ?? '';
      const name = ms.Metric?.MetricName ?? '';
      const points = store.select(ms.Metric?.Namespace ?? '', name, dimsOf(ms.Metric?.Dimensions), (t) => t >= start && t < end, ms.Unit);
      const rows = periodsOf(points, start, end, periodOf(ms.Period))
        .map(({ start: t, samples }) => [t, statisticOf(stat, samples)] as const)
        .filter((r): r is readonly [number, number] => r[1] !== undefined);
      if (descending) rows.reverse();
      return {
        Id: q.Id,
        Label: q.Label ?? `${name} ${stat}`,
        Timestamps: rows.map(([t]) => t / 1000),
        Values: rows.map(([, v]) => v),
        StatusCode: 'Complete',
      };
    });
  return { MetricDataResults, Messages: [] };
}

/** The rule of a metric alarm as DescribeAlarms reports it, or undefined for metric-math alarms. */
export function ruleOf(a: MetricAlarm): (AlarmRule & { periodSeconds: number }) | undefined {
  const statistic = a.ExtendedStatistic ?? a.Statistic;
  if (!a.MetricName || !statistic || !a.Period || !a.EvaluationPeriods || a.Threshold === undefined || !a.ComparisonOperator)
    return undefined;
  if (
    !['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'].includes(
      a.ComparisonOperator,
    )
  ) {
    return undefined;
  }
  return {
    statistic,
    threshold: a.Threshold,
    comparison: a.ComparisonOperator as AlarmRule['comparison'],
    evaluationPeriods: a.EvaluationPeriods,
    datapointsToAlarm: a.DatapointsToAlarm,
    treatMissingData: (a.TreatMissingData as AlarmRule['treatMissingData']) ?? 'missing',
    periodSeconds: a.Period,
  };
}

/**
 * Evaluates every metric alarm in moto on the emulated clock: the last EvaluationPeriods periods
 * end at the emulated now, each datapoint placed at the emulated time of its arrival minus its
 * (real) publishing lag.
 * A change of state is written with SetAlarmState and CloudWatch-like reason.
 */
export class AlarmEvaluator {
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;
  /** The last reason this evaluator wrote per alarm, to tell its states from states set by others. */
  private written = new Map<string, string>();
  readonly errors: string[] = [];

  constructor(
    private readonly d: {
      cloudWatch: CloudWatchClient;
      store: MetricStore;
      clock: Clock;
      intervalSeconds: number;
      log: (m: string) => void;
    },
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped.signal.aborted) {
        await this.evaluateAll().catch((err: unknown) => this.errors.push((err as Error).message));
        await Promise.all([this.d.clock.sleep(this.d.intervalSeconds, this.stopped.signal), new Promise((r) => setTimeout(r, 50))]).catch(
          () => undefined,
        );
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped.abort(new Error('stopped'));
    await this.loop;
  }

  /** One evaluation of every alarm. */
  async evaluateAll(): Promise<void> {
    const cw = await import('@aws-sdk/client-cloudwatch');
    const alarms: MetricAlarm[] = [];
    let token: string | undefined;
    do {
      const r = await this.d.cloudWatch.send(new cw.DescribeAlarmsCommand({ NextToken: token, AlarmTypes: ['MetricAlarm'] }));
      alarms.push(...(r.MetricAlarms ?? []));
      token = r.NextToken;
    } while (token);
    const now = this.d.clock.now();
    for (const a of alarms) {
      const rule = ruleOf(a);
      if (!rule) continue;
      const periodMs = rule.periodSeconds * 1000;
      // A state someone else set (SetAlarmState, e.g. \`mlops rollback\` stopping a cutover) holds
      // until CloudWatch's next evaluation, at most a minute (a period, for high-resolution alarms) later.
      const setByOther = a.StateReason !== this.written.get(a.AlarmName ?? '') && a.StateReason !== INITIAL_REASON;
      const setAt = a.StateUpdatedTimestamp ? this.d.clock.emulatedAt(a.StateUpdatedTimestamp.getTime()) : -Infinity;
      if (setByOther && now - setAt < Math.min(periodMs, 60_000)) continue;
      const from = now - rule.evaluationPeriods * periodMs;
      const dims = Object.fromEntries((a.Dimensions ?? []).map((x) => [x.Name ?? '', x.Value ?? '']));
      const points = this.d.store.select(a.Namespace ?? '', a.MetricName!, dims, () => true, a.Unit);
      const periods: Array<number | undefined> = [];
      for (let i = 0; i < rule.evaluationPeriods; i++) {
        const lo = from + i * periodMs;
        const inPeriod = points.filter((p) => {
          // Publishers run in real time: the lag between a datapoint's timestamp and its arrival is
          // not compressed, so a DriftScore stamped 10 s before it arrived counts 10 emulated s back.
          const t = this.d.clock.emulatedAt(p.arrival) - (p.arrival - p.time);
          return t >= lo && t < lo + periodMs;
        });
        periods.push(
          statisticOf(
            rule.statistic,
            inPeriod.map((p) => p.sample),
          ),
        );
      }
      const current: AlarmStateValue = a.StateValue ?? 'INSUFFICIENT_DATA';
      const next = evaluateAlarm(rule, periods, current);
      if (next.state === current) continue;
      this.d.log(`alarm ${a.AlarmName}: ${current} -> ${next.state}: ${next.reason}`);
      await this.d.cloudWatch.send(
        new cw.SetAlarmStateCommand({ AlarmName: a.AlarmName!, StateValue: next.state, StateReason: next.reason }),
      );
    }
  }
}

/** Forwards a request to moto as it came, and returns moto's answer. */
async function forward(motoUrl: string, headers: Record<string, string>, body: Buffer, path: string): Promise<FrontAnswer> {
  const res = await fetch(new URL(path, motoUrl), { method: 'POST', headers, body });
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (!['content-length', 'connection', 'transfer-encoding', 'date', 'server'].includes(k)) out[k] = v;
  });
  return { status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) };
}

export interface FrontAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const TARGET = 'GraniteServiceVersion20100801.';
const JSON_10 = 'application/x-amz-json-1.0';

/**
 * Answers one CloudWatch request (see the file comment). Only the JSON protocol (the AWS SDK for
 * JavaScript's) is read; other protocols (boto3's CBOR, query) are forwarded to moto unread.
 */
export async function handleCloudWatch(
  d: { store: MetricStore; cloudWatch: CloudWatchClient; motoUrl: string },
  headers: Record<string, string>,
  body: Buffer,
  path = '/',
): Promise<FrontAnswer> {
  const target = headers['x-amz-target'] ?? '';
  if (!target.startsWith(TARGET)) return forward(d.motoUrl, headers, body, path);
  const json = (status: number, data: unknown, extra: Record<string, string> = {}): FrontAnswer => ({
    status,
    headers: { 'content-type': JSON_10, ...extra },
    body: Buffer.from(JSON.stringify(data)),
  });
  try {
    // The AWS SDK gzips PutMetricData bodies of 10 KB and more (the operation's requestCompression
    // trait): a drift report of a few dozen features is that large.
    const plain = /gzip/i.test(headers['content-encoding'] ?? '') ? gunzipSync(body) : body;
    const b = (plain.length ? JSON.parse(plain.toString('utf8')) : {}) as Body;
    switch (target.slice(TARGET.length)) {
      case 'GetMetricStatistics':
        return json(200, getMetricStatistics(d.store, b));
      case 'GetMetricData':
        return json(200, getMetricData(d.store, b));
      case 'PutMetricData': {
        const res = await forward(d.motoUrl, headers, body, path);
        if (res.status === 200) for (const datum of parsePut(b)) d.store.put(datum);
        return res;
      }
      case 'PutMetricAlarm': {
        const res = await forward(d.motoUrl, headers, body, path);
        if (res.status === 200) {
          // CloudWatch starts (and restarts, on an update) every alarm in INSUFFICIENT_DATA; moto in OK.
          const { SetAlarmStateCommand } = await import('@aws-sdk/client-cloudwatch');
          await d.cloudWatch.send(
            new SetAlarmStateCommand({
              AlarmName: str(b.AlarmName),
              StateValue: 'INSUFFICIENT_DATA',
              StateReason: INITIAL_REASON,
            }),
          );
        }
        return res;
      }
      default:
        return await forward(d.motoUrl, headers, body, path);
    }
  } catch (err) {
    if (err instanceof CloudWatchError) {
      return json(400, { __type: `${err.code}Exception`, message: err.message }, { 'x-amzn-query-error': `${err.code};Sender` });
    }
    throw err;
  }
}
