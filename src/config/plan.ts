/**
 * The fast validator's plan (fast-validate.ts), derived from the zod schema: each node of
 * configSchema reduced to its type, defaults and checks. `npm run schema` writes it to
 * src/config/config-plan.json; test/unit/config-plan.test.ts fails when that copy is stale.
 * What this walker does not know becomes an `unknown` node or check, on which the fast validator
 * answers "not sure" (and zod decides), so a new kind of schema node is never judged wrongly.
 */
import type * as z from 'zod';
import type { PlanCheck, PlanNode } from './fast-validate.js';
import type { NamedRule } from './rules.js';
import { configSchema, SUPER_RULES } from './schema.js';

export const PLAN_FILE = 'src/config/config-plan.json';

type Def = Record<string, unknown> & { type: string; checks?: Array<{ _zod: { def: Record<string, unknown> } }> };
const defOf = (schema: unknown): Def => (schema as z.ZodType)._zod.def as unknown as Def;

/** The plan of the config schema (or of any zod schema). */
export function configPlan(schema: unknown = configSchema): PlanNode {
  const def = defOf(schema);
  const node = nodeOf(def);
  const checks = (def.checks ?? []).map((c) => checkOf(c));
  return checks.length ? { ...node, checks } : node;
}

/** The text of PLAN_FILE (before Prettier formats it). */
export function planText(): string {
  return JSON.stringify(configPlan());
}

function nodeOf(def: Def): PlanNode {
  switch (def.type) {
    case 'object': {
      // Only strict objects: zod strips unknown keys of the others, which this plan does not model.
      if (defOf(def.catchall ?? {}).type !== 'never') return { t: 'unknown', what: 'non-strict object' };
      const shape = def.shape as Record<string, unknown>;
      return { t: 'object', shape: Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, configPlan(v)])) };
    }
    case 'optional':
      return { t: 'optional', inner: configPlan(def.innerType) };
    case 'default':
      return { t: 'default', inner: configPlan(def.innerType), value: def.defaultValue };
    case 'string':
    case 'number':
    case 'boolean':
      return def.coerce ? { t: 'unknown', what: `coerced ${def.type}` } : { t: def.type };
    case 'literal':
      return { t: 'literal', values: def.values as unknown[] };
    case 'enum':
      return { t: 'enum', values: Object.values(def.entries as Record<string, unknown>) };
    case 'union': {
      const options = (def.options as unknown[]).map((o) => configPlan(o));
      if (typeof def.discriminator === 'string') {
        return def.unionFallback
          ? { t: 'unknown', what: 'discriminated union with fallback' }
          : { t: 'union', options, disc: def.discriminator };
      }
      // z.xor (inclusive: false) wants exactly one alternative to match, which this plan does not model.
      return def.inclusive === false ? { t: 'unknown', what: 'exclusive union' } : { t: 'union', options };
    }
    case 'array':
      return { t: 'array', element: configPlan(def.element) };
    case 'record':
      if (def.mode !== undefined && def.mode !== 'strict') return { t: 'unknown', what: `${JSON.stringify(def.mode)} record` };
      return { t: 'record', key: configPlan(def.keyType), value: configPlan(def.valueType) };
    default:
      return { t: 'unknown', what: def.type };
  }
}

function checkOf(check: { _zod: { def: Record<string, unknown> } }): PlanCheck {
  const def = check._zod.def;
  switch (def.check) {
    case 'greater_than':
      return { c: 'gt', v: def.value as number, incl: def.inclusive === true };
    case 'less_than':
      return { c: 'lt', v: def.value as number, incl: def.inclusive === true };
    case 'number_format':
      return def.format === 'safeint' ? { c: 'int' } : { c: 'unknown', what: `number format ${String(def.format)}` };
    case 'min_length':
      return { c: 'minLen', v: def.minimum as number };
    case 'max_length':
      return { c: 'maxLen', v: def.maximum as number };
    case 'string_format':
      if (def.format === 'regex') {
        const re = def.pattern as RegExp;
        return { c: 'regex', source: re.source, flags: re.flags };
      }
      if (def.format === 'url' && !('normalize' in def) && !('hostname' in def) && !('protocol' in def)) return { c: 'url' };
      return { c: 'unknown', what: `string format ${String(def.format)}` };
    case 'custom': {
      const named = (def.fn as Partial<NamedRule<unknown>> | undefined)?.rule;
      if (named) return { c: 'rule', name: named.name, args: named.args };
      const superRule = SUPER_RULES.get(check);
      if (superRule) return { c: 'rule', name: superRule, args: [] };
      return { c: 'unknown', what: 'a refinement without a rule (use rule() from rules.ts)' };
    }
    default:
      return { c: 'unknown', what: `check ${String(def.check)}` };
  }
}
