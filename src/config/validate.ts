/**
 * Pure validation of a config value against the schema: zod issues become problems with a dotted
 * path, what was expected, what was found and how to fix it. Knows nothing of files or YAML; the
 * loader adds file positions.
 */
import type * as z from 'zod';
import { isSecretKey, REDACTED } from '../core/redact.js';
import { configSchema, type Config } from './schema.js';

export interface ConfigProblem {
  /** Dotted path, e.g. compare.gates[0].direction ("" for the whole file). */
  path: string;
  message: string;
  /** Point at the key itself (unknown keys, missing values) rather than at its value. */
  at?: 'key' | 'value';
  line?: number;
  column?: number;
}

type Segment = string | number;
type AnySchema = { def?: Record<string, unknown> & { type?: string } };

/** Validates a parsed (and interpolated) config value. Pure. */
export function validateConfig(raw: unknown): { config?: Config; problems: ConfigProblem[] } {
  if (raw === null || raw === undefined) {
    return {
      problems: [
        {
          path: '',
          message:
            'the config is empty (no settings, or only comments); expected a mapping with at least `project:` and `mlflow:`. ' +
            'Run `npx mlops init` to write a starting config, or copy mlops.config.example.yaml',
        },
      ],
    };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      problems: [
        {
          path: '',
          message: `expected a mapping of settings (key: value lines such as \`project: my-model\`), found ${describe(raw)}`,
        },
      ],
    };
  }
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return { config: parsed.data, problems: [] };
  const problems: ConfigProblem[] = [];
  for (const issue of parsed.error.issues) problems.push(...explainIssue(issue, raw, []));
  return { problems };
}

/** Turns one zod issue into messages with "expected ... found ...", and a fix where one is clear. */
function explainIssue(issue: z.core.$ZodIssue, root: unknown, prefix: Segment[]): ConfigProblem[] {
  const segs = [...prefix, ...(issue.path as Segment[])];
  const at = dotted(segs);
  const raw = getAt(root, segs);
  // Never echo the value of a secret-named key, even a wrong one.
  const lastKey = [...segs].reverse().find((x) => typeof x === 'string');
  const found = typeof lastKey === 'string' && isSecretKey(lastKey) && typeof raw !== 'object' && raw !== undefined ? SECRET_VALUE : raw;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(segs, found);
      return issue.keys.map((key) => {
        const suggestion = closest(key, known);
        // A key of another alternative of the same union (cutover `size` with `type: linear`).
        const otherShape = !suggestion && knownKeysAt(segs).includes(key);
        const elsewhere = suggestion || otherShape ? undefined : findKeyElsewhere(key, at);
        let fix: string;
        if (suggestion) fix = `did you mean "${suggestion}"? Rename it`;
        else if (otherShape) fix = `it does not go with the other settings here (allowed with them: ${known.join(', ')})`;
        else if (elsewhere) fix = `it belongs under ${elsewhere}; move it there`;
        else if (known.length) fix = `allowed keys here: ${known.join(', ')}; remove it or fix its spelling`;
        else fix = 'remove it';
        return { path: at ? `${at}.${key}` : key, at: 'key' as const, message: `unknown key "${key}"; ${fix}` };
      });
    }
    case 'invalid_type': {
      if (found === undefined) {
        return [
          {
            path: at,
            at: 'key',
            message: `a required value is missing: expected ${expectedName(issue.expected)}; add \`${String(segs[segs.length - 1])}:\``,
          },
        ];
      }
      return [{ path: at, message: `expected ${expectedName(issue.expected)}, found ${describe(found)}${typeFix(issue.expected, found)}` }];
    }
    case 'invalid_value':
      return [
        {
          path: at,
          message: `expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}, found ${describe(found)}`,
        },
      ];
    case 'invalid_union':
      return explainUnion(issue, root, segs, found);
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
      const inclusive = (issue as { inclusive?: boolean }).inclusive !== false;
      const op = small ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
      let expected: string;
      if (issue.origin === 'string') expected = small && Number(bound) === 1 ? 'a non-empty string' : `a string of length ${op} ${bound}`;
      else if (issue.origin === 'array') expected = small && Number(bound) === 1 ? 'a non-empty list' : `a list with ${op} ${bound} items`;
      else expected = `a number ${op} ${bound}`;
      return [{ path: at, message: `expected ${expected}, found ${describe(found)}` }];
    }
    case 'invalid_format': {
      const what =
        issue.format === 'regex'
          ? issue.message
          : issue.format === 'url'
            ? 'a URL such as http://127.0.0.1:5000'
            : `a valid ${issue.format}`;
      return [{ path: at, message: `expected ${what}, found ${describe(found)}` }];
    }
    case 'custom':
      // The schema's refinements word their message as "expected ...", or as a whole sentence.
      return [
        { path: at, message: `${issue.message}${found !== undefined && typeof found !== 'object' ? `, found ${describe(found)}` : ''}` },
      ];
    default:
      return [{ path: at, message: `${issue.message}${found !== undefined ? `, found ${describe(found)}` : ''}` }];
  }
}

/**
 * A union (e.g. compare.baseline) failed every branch. When the value is a mapping whose keys fit
 * one branch, report that branch's own problems; otherwise list the accepted shapes.
 */
function explainUnion(issue: z.core.$ZodIssueInvalidUnion, root: unknown, segs: Segment[], found: unknown): ConfigProblem[] {
  // A discriminated union whose discriminator (e.g. cutover `type`) matched no alternative.
  const discriminator = (issue as { discriminator?: string }).discriminator;
  if (discriminator && issue.errors.length === 0) {
    const values = discriminatorValues(segs.slice(0, -1), discriminator);
    if (values.length) {
      const suggestion = typeof found === 'string' ? closest(found, values.map(String)) : undefined;
      return [
        {
          path: dotted(segs),
          message: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, found ${describe(found)}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
        },
      ];
    }
  }
  const branches = issue.errors;
  // A branch that rejected the value only for its content (not its type, not its keys) is the one meant.
  const fits = branches.filter(
    (errs) => errs.length > 0 && !errs.some((e) => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'unrecognized_keys')),
  );
  if (fits.length === 1) return fits[0].flatMap((e) => explainIssue(e, root, segs));
  const shapes = unionShapes(segs);
  const accepted = shapes.length ? shapes.join(' | ') : 'another shape';
  let fix = '';
  if (found && typeof found === 'object' && !Array.isArray(found)) {
    const known = knownKeysAt(segs);
    const typos = Object.keys(found)
      .filter((k) => !known.includes(k))
      .map((k) => [k, closest(k, known)] as const)
      .filter(([, s]) => s !== undefined);
    if (typos.length) fix = `; did you mean ${typos.map(([k, s]) => `"${s}" (not "${k}")`).join(', ')}?`;
    else if (Object.keys(found).filter((k) => known.includes(k)).length > 1) fix = '; give exactly one of these shapes, not several';
  }
  return [{ path: dotted(segs), message: `expected one of: ${accepted}; found ${describe(found)}${fix}` }];
}

/** The accepted shapes of the union at a path, e.g. ["{ alias: string }", "{ runId: string }"]. */
function unionShapes(segs: Segment[]): string[] {
  const schema = unwrap(schemaAt(segs));
  const options = schema?.def?.options as unknown[] | undefined;
  return options ? options.map((o) => shapeOf(o)) : [];
}

function shapeOf(schema: unknown): string {
  const s = unwrap(schema);
  const def = s?.def;
  switch (def?.type) {
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      const fields = Object.entries(shape).map(([k, v]) => `${k}${isOptional(v) ? '?' : ''}: ${shapeOf(v)}`);
      return `{ ${fields.join(', ')} }`;
    }
    case 'array':
      return `list of ${shapeOf(def.element)}`;
    case 'enum':
      return Object.values(def.entries as Record<string, string>)
        .map((v) => JSON.stringify(v))
        .join(' | ');
    case 'literal':
      return (def.values as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
    case 'union':
      return (def.options as unknown[]).map((o) => shapeOf(o)).join(' | ');
    default:
      return def?.type ?? 'unknown';
  }
}

function isOptional(schema: unknown): boolean {
  const t = (schema as AnySchema)?.def?.type;
  return t === 'optional' || t === 'default' || t === 'prefault';
}

function expectedName(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping (nested key: value lines)',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

/** A one-phrase fix for common YAML type mistakes. */
function typeFix(expected: string, found: unknown): string {
  if ((expected === 'number' || expected === 'int') && typeof found === 'string' && found.trim() !== '' && !Number.isNaN(Number(found))) {
    return '; remove the quotes';
  }
  if (expected === 'string' && (typeof found === 'number' || typeof found === 'boolean')) return '; put it in quotes';
  if (expected === 'array' && (typeof found === 'string' || typeof found === 'number'))
    return `; write it as a list: [${JSON.stringify(found)}]`;
  if (found === null) return '; give it a value or remove the key';
  return '';
}

/** The schema node at a path (through defaults, optionals, arrays). */
function schemaAt(p: Segment[]): AnySchema | undefined {
  let schema: unknown = configSchema;
  for (const seg of p) {
    const def = unwrap(schema)?.def;
    if (typeof seg === 'number' && def?.type === 'array') schema = def.element;
    else if (typeof seg === 'string' && def?.shape) schema = (def.shape as Record<string, unknown>)[seg];
    else if (typeof seg === 'string' && def?.type === 'union') {
      const hit = (def.options as unknown[])
        .map((o) => (unwrap(o)?.def?.shape as Record<string, unknown> | undefined)?.[seg])
        .find((x) => x !== undefined);
      if (hit === undefined) return undefined;
      schema = hit;
    } else return undefined;
  }
  return schema as AnySchema;
}

/**
 * The keys the schema allows at a path (for "did you mean"). For a union, the keys of the
 * alternative the value picks by its literal fields (cutover `type: linear`), else of all of them.
 */
export function knownKeysAt(p: Segment[], value?: unknown): string[] {
  const def = unwrap(schemaAt(p))?.def;
  if (def?.shape) return Object.keys(def.shape);
  if (def?.options) {
    const options = def.options as unknown[];
    const shapeOf = (o: unknown) => (unwrap(o)?.def?.shape as Record<string, unknown> | undefined) ?? {};
    const picked = options.filter((o) => {
      const literals = Object.entries(shapeOf(o)).filter(([, f]) => unwrap(f)?.def?.type === 'literal');
      return (
        literals.length > 0 &&
        value !== null &&
        typeof value === 'object' &&
        literals.every(([k, f]) => ((unwrap(f)?.def?.values as unknown[]) ?? []).includes((value as Record<string, unknown>)[k]))
      );
    });
    return [...new Set((picked.length === 1 ? picked : options).flatMap((o) => Object.keys(shapeOf(o))))];
  }
  return [];
}

/** The values a discriminated union at a path accepts for its discriminator key. */
function discriminatorValues(p: Segment[], key: string): unknown[] {
  const def = unwrap(schemaAt(p))?.def;
  return ((def?.options as unknown[] | undefined) ?? []).flatMap((o) => {
    const field = (unwrap(o)?.def?.shape as Record<string, unknown> | undefined)?.[key];
    return unwrap(field)?.def?.values ?? [];
  });
}

/** Where else in the schema a key exists (e.g. trackingUri at the top level belongs under mlflow). */
function findKeyElsewhere(key: string, except: string): string | undefined {
  const hits: string[] = [];
  const walk = (schema: unknown, at: string, depth: number) => {
    if (depth > 4) return;
    const def = unwrap(schema)?.def;
    if (def?.shape) {
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) {
        if (k === key && at && at !== except) hits.push(at);
        walk(v, at ? `${at}.${k}` : k, depth + 1);
      }
    } else if (def?.type === 'array') walk(def.element, `${at}[]`, depth + 1);
    else if (def?.type === 'union') for (const o of def.options as unknown[]) walk(o, at, depth + 1);
  };
  walk(configSchema, '', 0);
  return hits.length ? [...new Set(hits)].join(' or ') : undefined;
}

function unwrap(schema: unknown): AnySchema | undefined {
  let s = schema as AnySchema | undefined;
  while (s?.def && ['default', 'optional', 'nullable', 'prefault', 'catch', 'readonly'].includes(s.def.type ?? '')) {
    s = s.def.innerType as AnySchema;
  }
  return s;
}

/** Closest candidate by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3))) return best;
  // A shortened or lengthened name: "endpoint" for "endpointName", "trackingUriValue" for "trackingUri".
  const w = word.toLowerCase();
  if (w.length < 4) return undefined;
  const contained = candidates.filter((c) => c.toLowerCase().includes(w) || w.includes(c.toLowerCase()));
  return contained.length === 1 ? contained[0] : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** "compare.gates[0].metric" from path segments. */
export function dotted(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function getAt(value: unknown, p: Segment[]): unknown {
  let cur: unknown = value;
  for (const seg of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

const SECRET_VALUE = Symbol('secret');

/** How a found value reads in a message. */
export function describe(v: unknown): string {
  if (v === SECRET_VALUE) return `a value (${REDACTED}, not shown: the key names a secret)`;
  if (v === null) return 'an empty value';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    return keys.length ? `a mapping with key${keys.length === 1 ? '' : 's'} ${keys.join(', ')}` : 'an empty mapping';
  }
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `the ${typeof v} ${String(v)}`;
  return `a ${typeof v}`;
}
