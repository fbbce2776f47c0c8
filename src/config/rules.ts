/**
 * The config's refinements as plain predicates: the one definition of each rule, used by the zod
 * schema (schema.ts) and by the fast validator (fast-validate.ts, which never loads zod). A rule
 * only says yes or no; the words of a failure come from the zod path, which runs on every "no".
 */
import { DURATION_FORMAT, durationMs } from '../core/duration.js';
import { lockExpiryProblem } from '../core/lock.js';

/** Milliseconds of a duration, NaN when it is not one (a refinement must not throw). */
export function durationMsOrNaN(d: number | string): number {
  try {
    return durationMs(d);
  } catch {
    return NaN;
  }
}

/**
 * A value not even written as a duration (a negative number, "20 seconds"): the schema's own format
 * check reports it, so the range rules pass it rather than add a second problem about its range.
 */
const malformed = (d: number | string) => (typeof d === 'number' ? !(d >= 0) : !DURATION_FORMAT.test(d.trim()));

/** Two gates on one metric that disagree on which way is better: [index, first index] of each clash. */
export function directionClashes(gates: ReadonlyArray<{ metric: string; direction: string }>): Array<{ index: number; first: number }> {
  const first = new Map<string, number>();
  const clashes: Array<{ index: number; first: number }> = [];
  gates.forEach((g, index) => {
    const seen = first.get(g.metric);
    if (seen === undefined) first.set(g.metric, index);
    else if (gates[seen].direction !== g.direction) clashes.push({ index, first: seen });
  });
  return clashes;
}

const ARN_TRACKING_SERVER = /^arn:(aws|aws-us-gov):sagemaker:[a-z0-9-]+:\d{12}:mlflow-tracking-server\/[A-Za-z0-9-]+$/;

/** Every rule, by name; the extra arguments of a rule come from the schema (e.g. a duration's range). */
export const RULES = {
  /** A duration no longer than MAX_DURATION_MS. */
  durationWithinMax: (d: number | string) => malformed(d) || Number.isFinite(durationMsOrNaN(d)),
  /** A duration within [minMs, maxMs]. */
  durationBetween: (d: number | string, minMs: number, maxMs: number) => {
    if (malformed(d)) return true;
    const ms = durationMsOrNaN(d);
    return ms >= minMs && ms <= maxMs;
  },
  /** No `.`, `..` or empty segment in the key of an s3:// URI (S3 keeps them literally). */
  s3KeySegments: (u: string) => {
    const key = /^s3:\/\/[^/]+\/(.*)$/.exec(u)?.[1];
    if (key === undefined || key === '') return true;
    const segs = key.replace(/\/$/, '').split('/');
    return segs.every((seg) => seg !== '' && seg !== '.' && seg !== '..');
  },
  /** A relative path that stays inside the config file's folder. */
  localOutput: (p: string) => {
    if (p === '' || /^([a-zA-Z]:)?[\\/]/.test(p)) return false;
    let depth = 0;
    for (const seg of p.split(/[\\/]/)) {
      if (seg === '..') depth--;
      else if (seg !== '' && seg !== '.') depth++;
      if (depth < 0) return false;
    }
    return depth > 0;
  },
  /** An http(s) URL, or the ARN of a SageMaker-managed MLflow tracking server. */
  trackingUri: (u: string) => {
    if (ARN_TRACKING_SERVER.test(u)) return true;
    try {
      const url = new URL(u);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  /** Spot training waits at least as long as it trains (SageMaker counts the training time in the wait). */
  spotMaxWait: (t: { spot?: { maxWait: number | string }; maxRuntime: number | string }) =>
    !t.spot || durationMsOrNaN(t.spot.maxWait) >= durationMsOrNaN(t.maxRuntime),
  /** One direction per gate metric. */
  gatesOneDirection: (gates: ReadonlyArray<{ metric: string; direction: string }>) => directionClashes(gates).length === 0,
  /** A lock expiry in the range lock.ts allows. */
  lockExpiry: (d: number | string) => lockExpiryProblem(durationMsOrNaN(d)) === undefined,
};

export type RuleName = keyof typeof RULES;

/** Arguments of a rule after the value. */
type RuleArgs<N extends RuleName> = (typeof RULES)[N] extends (v: never, ...rest: infer A) => boolean ? A : never;

/** A rule bound to its arguments, carrying its name so the plan generator (plan.ts) can name it. */
export type NamedRule<T> = ((v: T) => boolean) & { rule: { name: RuleName; args: unknown[] } };

/** The predicate of a rule as a zod refinement. */
export function rule<N extends RuleName>(name: N, ...args: RuleArgs<N>): NamedRule<Parameters<(typeof RULES)[N]>[0]> {
  const fn = RULES[name] as (v: unknown, ...rest: unknown[]) => boolean;
  return Object.assign((v: Parameters<(typeof RULES)[N]>[0]) => fn(v, ...args), { rule: { name, args } });
}
