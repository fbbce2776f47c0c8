/**
 * The bake verdict: is the shadow as good as production on the same traffic? Pure.
 * Errors and latency come from CloudWatch per variant; output agreement from data capture, with
 * requests matched by inference id where callers set one, and by the request payload otherwise,
 * streamed: memory is bounded by the records still waiting for their match, not by the bake's length.
 */

export interface VariantStats {
  invocations: number;
  errors: number;
  /** Latency in microseconds (SageMaker's ModelLatency unit) for the configured statistic. */
  latency: number | null;
}

export interface CapturedPair {
  /** inferenceId, or undefined. */
  inferenceId?: string;
  /** The request payload as captured (data + encoding), the fallback match key. */
  input: string;
  output: string;
  outputContentType?: string;
}

export interface BakeCriteria {
  maxErrorRateIncrease: number;
  maxLatencyRatio: number;
  minOutputAgreement: number;
  outputTolerance: number;
  minComparedSamples: number;
}

export interface BakeVerdict {
  passed: boolean;
  reasons: string[];
  measured: {
    productionErrorRate: number | null;
    shadowErrorRate: number | null;
    latencyRatio: number | null;
    outputAgreement: number | null;
    comparedSamples: number;
    unmatchedDropped: number;
    shadowInvocations: number;
  };
}

/** What the bake's output comparison found, folded as the capture streamed by. */
export interface OutputComparison {
  /** Request pairs matched (same request seen by production and shadow). */
  compared: number;
  /** Matched pairs whose outputs agree. */
  agreeing: number;
  /** Unmatched records dropped, oldest first, because more than `maxPending` were waiting. */
  dropped: number;
  /** The cap on records waiting for their other half. */
  maxPending: number;
}

/** Default cap on unmatched capture records held at once by the bake (~100 MB at 1 KB a record). */
export const DEFAULT_MAX_PENDING = 100_000;

type Side = 'production' | 'shadow';

/**
 * Matches production and shadow capture records of the same request as they stream by, keyed by
 * inference id (by the request payload when a caller set none). A matched pair is folded into the
 * counts at once; only records still waiting for their other half are held, at most `maxPending`
 * (the oldest is dropped beyond that: a production record the shadow never saw, with sampling
 * below 100%, would otherwise be held for the whole bake).
 */
export class CaptureMatcher {
  private readonly pending: Record<Side, Map<string, string[]>> = { production: new Map(), shadow: new Map() };
  private held = 0;
  private peak = 0;
  private readonly counts = { compared: 0, agreeing: 0, dropped: 0 };

  constructor(
    private readonly tolerance: number,
    readonly maxPending = DEFAULT_MAX_PENDING,
  ) {}

  /** Records one captured request/response of a side. */
  add(side: Side, p: CapturedPair): void {
    const key = p.inferenceId !== undefined ? `id:${p.inferenceId}` : `in:${p.input}`;
    const other = this.pending[side === 'production' ? 'shadow' : 'production'];
    const waiting = other.get(key);
    if (waiting?.length) {
      const output = waiting.shift()!;
      if (waiting.length === 0) other.delete(key);
      this.held--;
      this.counts.compared++;
      const [prod, shadow] = side === 'production' ? [p.output, output] : [output, p.output];
      if (outputsAgree(prod, shadow, this.tolerance)) this.counts.agreeing++;
      return;
    }
    const mine = this.pending[side];
    const list = mine.get(key);
    if (list) list.push(p.output);
    else mine.set(key, [p.output]);
    this.held++;
    if (this.held > this.maxPending) this.dropOldest();
    this.peak = Math.max(this.peak, this.held);
  }

  /** Records waiting for their other half now, and the most ever held at once. */
  get pendingNow(): number {
    return this.held;
  }
  get pendingPeak(): number {
    return this.peak;
  }

  result(): OutputComparison {
    return { ...this.counts, maxPending: this.maxPending };
  }

  private dropOldest() {
    const side: Side = this.pending.production.size >= this.pending.shadow.size ? 'production' : 'shadow';
    const map = this.pending[side];
    const [key, list] = map.entries().next().value as [string, string[]];
    list.shift();
    if (list.length === 0) map.delete(key);
    this.held--;
    this.counts.dropped++;
  }
}

/**
 * Streams both variants' capture through a matcher, a batch from each in turn, so records of the
 * same moment meet while they are pending.
 */
export async function compareCapture(
  production: AsyncIterable<CapturedPair[]>,
  shadow: AsyncIterable<CapturedPair[]>,
  matcher: CaptureMatcher,
): Promise<OutputComparison> {
  // Both sides read ahead by one batch, so their reads overlap; a batch is matched when its turn comes.
  const ahead = (it: AsyncIterator<CapturedPair[]>) => {
    const next = it.next();
    next.catch(() => undefined); // awaited in its turn; this only keeps it from being an unhandled rejection meanwhile
    return next;
  };
  const sides = (
    [
      ['production', production],
      ['shadow', shadow],
    ] as const
  ).map(([side, source]) => {
    const it = source[Symbol.asyncIterator]();
    return { side, it, next: ahead(it) };
  });
  while (sides.length) {
    for (let i = 0; i < sides.length;) {
      const s = sides[i];
      const r = await s.next;
      if (r.done) {
        sides.splice(i, 1);
        continue;
      }
      s.next = ahead(s.it);
      for (const p of r.value) matcher.add(s.side, p);
      i++;
    }
  }
  return matcher.result();
}

/** Parses a model output into a flat list of scalars (JSON lists/objects, CSV lines). */
export function outputValues(text: string): unknown[] {
  const t = text.trim();
  try {
    return flatten(JSON.parse(t));
  } catch {
    return t
      .split(/[\r\n,]+/)
      .map((c) => c.trim())
      .filter((c) => c !== '')
      .map((c) => (Number.isFinite(Number(c)) ? Number(c) : c));
  }
}

function flatten(v: unknown): unknown[] {
  if (Array.isArray(v)) return v.flatMap(flatten);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of ['predictions', 'outputs', 'output', 'prediction']) if (k in o) return flatten(o[k]);
    return Object.keys(o)
      .sort()
      .flatMap((k) => flatten(o[k]));
  }
  return [v];
}

/** Whether two outputs agree: same length, numbers within a relative tolerance, others equal. */
export function outputsAgree(a: string, b: string, tolerance: number): boolean {
  const x = outputValues(a);
  const y = outputValues(b);
  if (x.length !== y.length) return false;
  return x.every((v, i) => {
    const w = y[i];
    if (typeof v === 'number' && typeof w === 'number') {
      return Math.abs(v - w) <= tolerance * Math.max(1, Math.abs(v), Math.abs(w));
    }
    return String(v) === String(w);
  });
}

/** Where the bake's metrics were read, for messages that say what evidence is missing. */
export interface BakeEvidence {
  /** The latency statistic: `average` or a percentile such as `p99`. */
  latencyStatistic: string;
  from: Date;
  to: Date;
  production: string;
  shadow: string;
}

/** Judges the shadow against production. Missing evidence (no invocations, no latency) fails closed. */
export function judgeBake(
  c: BakeCriteria,
  stats: { production: VariantStats; shadow: VariantStats },
  outputs: OutputComparison,
  evidence?: BakeEvidence,
): BakeVerdict {
  const reasons: string[] = [];
  const window = evidence ? `between ${evidence.from.toISOString()} and ${evidence.to.toISOString()}` : 'in the bake window';
  const variant = (which: 'production' | 'shadow') => (evidence ? `${which} variant "${evidence[which]}"` : `${which} variant`);
  const rate = (s: VariantStats) => (s.invocations > 0 ? s.errors / s.invocations : null);
  const prodRate = rate(stats.production);
  const shadowRate = rate(stats.shadow);
  for (const which of ['production', 'shadow'] as const) {
    if (stats[which].invocations > 0) continue;
    reasons.push(
      `no error evidence: no AWS/SageMaker Invocations for the ${variant(which)} ${window} (the ${which === 'shadow' ? 'shadow received' : 'endpoint received'} no invocations). ` +
        'Likely cause: no traffic reached the endpoint during the bake, or CloudWatch is read where SageMaker does not publish (aws.region, aws.endpoints.cloudwatch).',
    );
  }
  for (const which of ['production', 'shadow'] as const) {
    if (stats[which].invocations === 0 || stats[which].latency !== null) continue;
    const stat = evidence?.latencyStatistic ?? 'the configured statistic';
    reasons.push(
      `no latency evidence: no ModelLatency ${stat} for the ${variant(which)} ${window}. ` +
        (/^p\d/.test(stat)
          ? 'Likely cause: the CloudWatch endpoint computes no percentiles (moto does not; on the local stack use the emulator, which answers CloudWatch) or the metrics arrived late.'
          : 'Likely cause: the metrics arrived late, or the model never answered.'),
    );
  }
  if (shadowRate !== null && shadowRate - (prodRate ?? 0) > c.maxErrorRateIncrease) {
    reasons.push(
      `shadow error rate ${pct(shadowRate)} exceeds production's ${pct(prodRate ?? 0)} by more than ${pct(c.maxErrorRateIncrease)}`,
    );
  }
  const ratio =
    stats.shadow.latency !== null && stats.production.latency !== null && stats.production.latency > 0
      ? stats.shadow.latency / stats.production.latency
      : null;
  if (ratio !== null && ratio > c.maxLatencyRatio) {
    reasons.push(`shadow latency is ${ratio.toFixed(2)}x production's (max ${c.maxLatencyRatio}x)`);
  }
  const agreement = outputs.compared > 0 ? outputs.agreeing / outputs.compared : null;
  if (outputs.compared < c.minComparedSamples) {
    reasons.push(
      `only ${outputs.compared} requests could be compared (need ${c.minComparedSamples})` +
        (outputs.dropped > 0
          ? `; ${outputs.dropped} capture records found no match while more than ${outputs.maxPending} were waiting and were dropped (production and shadow capture far apart in time, or requests without a shared inference id)`
          : ''),
    );
  }
  if (agreement !== null && agreement < c.minOutputAgreement) {
    reasons.push(`shadow agrees with production on ${pct(agreement)} of requests (need ${pct(c.minOutputAgreement)})`);
  }
  return {
    passed: reasons.length === 0,
    reasons,
    measured: {
      productionErrorRate: prodRate,
      shadowErrorRate: shadowRate,
      latencyRatio: ratio,
      outputAgreement: agreement,
      comparedSamples: outputs.compared,
      unmatchedDropped: outputs.dropped,
      shadowInvocations: stats.shadow.invocations,
    },
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** One data-capture line as a pair for matching, or undefined when it is not one (or outside the window). */
export function capturedPair(line: string, window?: { from: number; to: number }): CapturedPair | undefined {
  let rec: {
    captureData?: {
      endpointInput?: { data?: string; encoding?: string };
      endpointOutput?: { data?: string; encoding?: string; observedContentType?: string };
    };
    eventMetadata?: { inferenceId?: string; inferenceTime?: string };
  };
  try {
    rec = JSON.parse(line) as typeof rec;
  } catch {
    return undefined;
  }
  const input = rec?.captureData?.endpointInput;
  const output = rec?.captureData?.endpointOutput;
  if (!input?.data || output?.data === undefined) return undefined;
  if (window && rec.eventMetadata?.inferenceTime) {
    const t = Date.parse(rec.eventMetadata.inferenceTime);
    if (Number.isFinite(t) && (t < window.from || t >= window.to)) return undefined;
  }
  // Anyone who can write the capture bucket chooses these: a payload that is not a string, or
  // not base64 where it says so, is not a pair (it made the bake, and every promote after it, throw).
  const decode = (p: { data?: unknown; encoding?: string }) =>
    typeof p.data !== 'string' ? undefined : p.encoding === 'BASE64' ? base64Text(p.data) : p.data;
  const [inText, outText] = [decode(input), decode(output)];
  if (inText === undefined || outText === undefined) return undefined;
  return {
    inferenceId: rec.eventMetadata?.inferenceId || undefined,
    input: inText.trim(),
    output: outText,
    outputContentType: output.observedContentType,
  };
}

function base64Text(b64: string): string | undefined {
  let bin: string;
  try {
    bin = globalThis.atob(b64);
  } catch {
    return undefined;
  }
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}
