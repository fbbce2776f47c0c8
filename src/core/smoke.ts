/**
 * The smoke test: before any user request can reach the candidate, a few example rows are sent
 * to it directly (InvokeEndpoint with TargetVariant) and its answer is checked: a 2xx status, a
 * body that parses, and the same shape as production's answer to the same rows. Pure: the rows
 * and the answers come through the SmokePort.
 */
import { outputValues } from './bake.js';

/** The rows sent, as the body of one InvokeEndpoint call. */
export interface SmokeRequest {
  body: string;
  contentType: string;
  /** Where the rows came from (the model's serving_input_example.json, the holdout file). */
  source: string;
}

/** A variant's answer: a model error is an answer (its status and body), not an exception. */
export interface SmokeAnswer {
  status: number;
  body: string;
}

/** What the smoke test found, kept in the deployment record. */
export interface SmokeOutcome {
  passed: boolean;
  /** The variant tested (the candidate). */
  variant: string;
  /** Why it failed, or why it did not run. */
  reason?: string;
  /** Set when no rows could be found: the test did not run. */
  skipped?: boolean;
  status?: number;
  bodyExcerpt?: string;
  source?: string;
  testedAt: string;
}

const EXCERPT = 300;

/** The start of a body, on one line, for messages and records. */
export function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT)}...` : flat;
}

const is2xx = (s: number) => s >= 200 && s < 300;

function parses(body: string): boolean {
  const t = body.trim();
  if (t === '') return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return outputValues(t).length > 0 && !/^\s*</.test(t);
  }
}

const kind = (v: unknown) => (typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : v === null ? 'null' : 'string');

/**
 * Judges the candidate's answer: 2xx, parsable, and (when production answered 2xx to the same
 * rows) as many values of the same kinds as production's. Values may differ: that is the bake's job.
 */
export function judgeSmoke(
  candidate: { variant: string; answer: SmokeAnswer },
  production?: { variant: string; answer: SmokeAnswer },
): { passed: boolean; reason?: string } {
  const c = candidate.answer;
  const what = `variant "${candidate.variant}" answered HTTP ${c.status}`;
  if (!is2xx(c.status)) return { passed: false, reason: `${what}: ${excerpt(c.body) || '(empty body)'}` };
  if (!parses(c.body)) return { passed: false, reason: `${what} with a body that does not parse: ${excerpt(c.body) || '(empty body)'}` };
  if (!production || !is2xx(production.answer.status) || !parses(production.answer.body)) return { passed: true };
  const x = outputValues(c.body);
  const y = outputValues(production.answer.body);
  const shape = (v: unknown[]) => `${v.length} value(s): ${[...new Set(v.map(kind))].join('/')}`;
  if (x.length !== y.length || x.some((v, i) => kind(v) !== kind(y[i]))) {
    return {
      passed: false,
      reason: `${what} with ${shape(x)}, but production variant "${production.variant}" answers the same rows with ${shape(y)}: ${excerpt(c.body)}`,
    };
  }
  return { passed: true };
}
