/**
 * The config's happy path without zod: a small interpreter of the plan that plan.ts derives from
 * the zod schema (committed as config-plan.json, checked current by test/unit/config-plan.test.ts).
 * Building zod's schema objects and running its parser cost more start-up time than any command
 * spends on its own work; this validator costs well under a millisecond.
 *
 * It answers only "valid, and here is exactly what zod would return" or "not sure": any failure,
 * and anything the plan cannot decide (a check it does not know), is "not sure", and the caller
 * then runs zod, which words every problem. So it may refuse more than zod does, never less
 * (test/unit/config-fast-path.test.ts runs both on every config the tests know).
 */
import { RULES, type RuleName } from './rules.js';

/** A check on a value, in the order zod runs them. */
export type PlanCheck =
  | { c: 'gt'; v: number; incl: boolean }
  | { c: 'lt'; v: number; incl: boolean }
  | { c: 'int' }
  | { c: 'minLen'; v: number }
  | { c: 'maxLen'; v: number }
  | { c: 'regex'; source: string; flags: string }
  | { c: 'url' }
  | { c: 'rule'; name: RuleName; args: unknown[] }
  | { c: 'unknown'; what: string };

/** A schema node: zod's def, reduced to what validation needs. */
export type PlanNode = { checks?: PlanCheck[] } & (
  | { t: 'object'; shape: Record<string, PlanNode> }
  | { t: 'optional'; inner: PlanNode }
  | { t: 'default'; inner: PlanNode; value: unknown }
  | { t: 'string' }
  | { t: 'number' }
  | { t: 'boolean' }
  | { t: 'literal'; values: unknown[] }
  | { t: 'enum'; values: unknown[] }
  | { t: 'union'; options: PlanNode[]; disc?: string }
  | { t: 'array'; element: PlanNode }
  | { t: 'record'; key: PlanNode; value: PlanNode }
  | { t: 'unknown'; what: string }
);

/** "Not sure": the caller runs zod. */
const NO = Symbol('no');
/** A value, or NO. */
type Out = unknown;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** What zod would return for a valid value, or undefined when zod must decide. */
export function fastValidate(plan: PlanNode, value: unknown): { value: unknown } | undefined {
  const out = run(plan, value);
  return out === NO ? undefined : { value: out };
}

const regexes = new Map<string, RegExp>();

function run(node: PlanNode, v: unknown): Out {
  const out = parse(node, v);
  if (out === NO || !node.checks) return out;
  for (const check of node.checks) if (!passes(check, out)) return NO;
  return out;
}

function parse(node: PlanNode, v: unknown): Out {
  switch (node.t) {
    case 'object': {
      if (!isPlainObject(v)) return NO;
      for (const k of Object.keys(v)) if (!Object.hasOwn(node.shape, k)) return NO;
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(node.shape)) {
        const present = Object.hasOwn(v, k);
        // An absent optional key stays absent, as in zod's output.
        if (!present && child.t === 'optional') continue;
        const r = run(child, present ? v[k] : undefined);
        if (r === NO) return NO;
        if (r !== undefined) out[k] = r;
        else if (present) return NO;
      }
      return out;
    }
    case 'optional':
      return v === undefined ? undefined : run(node.inner, v);
    case 'default':
      // zod returns the default as it is, without parsing it (its checks still run, in `run`).
      return v === undefined ? structuredClone(node.value) : run(node.inner, v);
    case 'string':
      return typeof v === 'string' ? v : NO;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? v : NO;
    case 'boolean':
      return typeof v === 'boolean' ? v : NO;
    case 'literal':
    case 'enum':
      return node.values.includes(v) ? v : NO;
    case 'union': {
      if (node.disc !== undefined) {
        if (!isPlainObject(v)) return NO;
        const key = node.disc;
        const option = node.options.find((o) => o.t === 'object' && isLiteralOf(o.shape[key], v[key]));
        return option ? run(option, v) : NO;
      }
      // zod takes the first alternative that accepts the value. A later one may answer only when the
      // plan's "no" on each earlier one is zod's "no" too, not "not sure".
      for (const option of node.options) {
        const r = run(option, v);
        if (r !== NO) return r;
        if (!decides(option)) return NO;
      }
      return NO;
    }
    case 'array': {
      if (!Array.isArray(v)) return NO;
      const out: unknown[] = [];
      for (const x of v) {
        const r = run(node.element, x);
        if (r === NO) return NO;
        out.push(r);
      }
      return out;
    }
    case 'record': {
      if (!isPlainObject(v)) return NO;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === '__proto__' || run(node.key, k) !== k) return NO;
        const r = run(node.value, x);
        if (r === NO || r === undefined) return NO;
        out[k] = r;
      }
      return out;
    }
    default:
      return NO;
  }
}

const decided = new WeakMap<PlanNode, boolean>();

/**
 * Whether run's NO on this node means zod rejects the value too: no unknown node or check, no url
 * check (zod accepts, and trims, a URL with spaces around it), no record (it refuses undefined
 * values and `__proto__`, which zod may take).
 */
function decides(node: PlanNode): boolean {
  let known = decided.get(node);
  if (known !== undefined) return known;
  const kids: PlanNode[] =
    node.t === 'object'
      ? Object.values(node.shape)
      : node.t === 'optional' || node.t === 'default'
        ? [node.inner]
        : node.t === 'union'
          ? node.options
          : node.t === 'array'
            ? [node.element]
            : [];
  known =
    node.t !== 'unknown' && node.t !== 'record' && !node.checks?.some((c) => c.c === 'unknown' || c.c === 'url') && kids.every(decides);
  decided.set(node, known);
  return known;
}

function isLiteralOf(node: PlanNode | undefined, v: unknown): boolean {
  return node !== undefined && node.t === 'literal' && node.values.includes(v);
}

function passes(check: PlanCheck, v: unknown): boolean {
  switch (check.c) {
    case 'gt':
      return typeof v === 'number' && (check.incl ? v >= check.v : v > check.v);
    case 'lt':
      return typeof v === 'number' && (check.incl ? v <= check.v : v < check.v);
    case 'int':
      return Number.isSafeInteger(v);
    case 'minLen':
      return (typeof v === 'string' || Array.isArray(v)) && v.length >= check.v;
    case 'maxLen':
      return (typeof v === 'string' || Array.isArray(v)) && v.length <= check.v;
    case 'regex': {
      const key = `${check.flags}/${check.source}`;
      let re = regexes.get(key);
      if (!re) regexes.set(key, (re = new RegExp(check.source, check.flags)));
      re.lastIndex = 0;
      return typeof v === 'string' && re.test(v);
    }
    case 'url':
      // zod trims the value and drops tabs and newlines from it: only a value it leaves as it is
      // can be decided here.
      return typeof v === 'string' && v === v.trim() && !/[\t\n\r]/.test(v) && URL.canParse(v);
    case 'rule':
      return (RULES[check.name] as (v: unknown, ...args: unknown[]) => boolean)(v, ...check.args);
    default:
      return false;
  }
}
