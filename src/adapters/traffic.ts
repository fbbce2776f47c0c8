/**
 * The traffic generator: sends requests to a SageMaker endpoint through the runtime's
 * InvokeEndpoint, while the endpoint can serve (InService or Updating), at most at a given rate,
 * until a count is reached, it is stopped or its signal aborts. The demo and the deployment tests
 * share it (a bake or a drift needs real requests flowing).
 */
import { readFileSync } from 'node:fs';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { applyShifts, type FeatureShift } from '../core/traffic-shift.js';
import { sleep } from './clock.js';

/** One request: its body, and optionally its content type (default text/csv) and inference id. */
export interface TrafficRequest {
  body: string;
  contentType?: string;
  inferenceId?: string;
}

export interface TrafficOptions {
  /** Sends InvokeEndpoint. */
  runtime: Pick<SageMakerRuntimeClient, 'send'>;
  /** Answers DescribeEndpoint: requests wait while the endpoint cannot serve. */
  sagemaker: Pick<SageMakerClient, 'send'>;
  endpoint: string;
  /** The i-th request (i counts the requests made, from 0). */
  request: (i: number) => TrafficRequest;
  /** At most this many requests start per second (default 20). */
  ratePerSecond?: number;
  /** Stop after this many requests were answered (default: until stopped). */
  count?: number;
  /** Stops the traffic like `stop()`. */
  signal?: AbortSignal;
  /** Accept header of each request (default application/json). */
  accept?: string;
}

export interface Traffic {
  /** Requests answered so far. */
  sent(): number;
  /** Requests that failed (e.g. sent between fleets) so far. */
  failed(): number;
  /** How long each answered request took, in milliseconds, in order. */
  latencies(): number[];
  /** Resolves with the number answered when the traffic ends (count reached, stopped or aborted). */
  done: Promise<number>;
  /** Stops it and resolves with the number answered. */
  stop(): Promise<number>;
}

/** Starts sending requests in the background; see `Traffic`. */
export function startTraffic(opts: TrafficOptions): Traffic {
  let running = true;
  let sent = 0;
  let failed = 0;
  const latencies: number[] = [];
  const gap = 1000 / (opts.ratePerSecond ?? 20);
  const stopped = () => !running || opts.signal?.aborted === true || (opts.count !== undefined && sent >= opts.count);
  const done = (async () => {
    const [{ InvokeEndpointCommand }, { DescribeEndpointCommand }] = await Promise.all([
      import('@aws-sdk/client-sagemaker-runtime'),
      import('@aws-sdk/client-sagemaker'),
    ]);
    for (let i = 0; !stopped(); i++) {
      const started = Date.now();
      const ep = await opts.sagemaker.send(new DescribeEndpointCommand({ EndpointName: opts.endpoint })).catch(() => undefined);
      if (ep?.EndpointStatus !== 'InService' && ep?.EndpointStatus !== 'Updating') {
        i--;
        await sleep(100, opts.signal);
        continue;
      }
      const r = opts.request(i);
      const t0 = Date.now();
      try {
        await opts.runtime.send(
          new InvokeEndpointCommand({
            EndpointName: opts.endpoint,
            ContentType: r.contentType ?? 'text/csv',
            Accept: opts.accept ?? 'application/json',
            Body: Buffer.from(r.body),
            ...(r.inferenceId ? { InferenceId: r.inferenceId } : {}),
          }),
        );
        sent++;
        latencies.push(Date.now() - t0);
      } catch {
        // The endpoint may be between fleets: the next request tries again.
        failed++;
      }
      await sleep(Math.max(0, gap - (Date.now() - started)), opts.signal);
    }
    return sent;
  })();
  return {
    sent: () => sent,
    failed: () => failed,
    latencies: () => latencies,
    done,
    async stop() {
      running = false;
      return done;
    },
  };
}

/** Rows of a data file (the training holdout) without its label and prediction columns. */
export interface FeatureRows {
  header: string[];
  rows: number[][];
}

const NOT_FEATURES = new Set(['target', 'label', 'prediction']);

/**
 * Reads the feature columns of a CSV file with a header, or of JSONL (one object per line, the
 * first line's keys are the columns); columns target, label and prediction are left out.
 */
export function readFeatureRows(file: string): FeatureRows {
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim());
  if (/\.(jsonl|ndjson|json)$/i.test(file)) {
    const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const header = Object.keys(objects[0] ?? {}).filter((c) => !NOT_FEATURES.has(c));
    return { header, rows: objects.map((o) => header.map((c) => Number(o[c]))) };
  }
  const [head = '', ...body] = lines;
  const cols = head.split(',').map((c) => c.trim());
  const keep = cols.map((c, i) => (NOT_FEATURES.has(c) ? -1 : i)).filter((i) => i >= 0);
  return {
    header: keep.map((i) => cols[i]),
    rows: body.map((l) => {
      const v = l.split(',');
      return keep.map((i) => Number(v[i]));
    }),
  };
}

/**
 * Requests of one row each, in turn, as CSV with the header MLflow's scoring server needs, with
 * the shifts applied (none: as in training), each with the inference id `<prefix><i>` when a
 * prefix is given (the bake matches shadow and production answers by it).
 */
export function rowRequests(
  data: FeatureRows,
  opts: { shifts?: readonly FeatureShift[]; inferenceIdPrefix?: string } = {},
): (i: number) => TrafficRequest {
  const shifts = opts.shifts ?? [];
  return (i) => {
    const row = applyShifts(data.header, data.rows[i % data.rows.length], shifts).map((x) => String(+x.toPrecision(8)));
    return {
      body: `${data.header.join(',')}\n${row.join(',')}\n`,
      ...(opts.inferenceIdPrefix ? { inferenceId: `${opts.inferenceIdPrefix}${i}` } : {}),
    };
  };
}
