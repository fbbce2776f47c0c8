/**
 * Checks a request against a botocore service model the way AWS's front end does: required
 * members, types, enums, numeric ranges, lengths (strings, lists, maps) and string patterns,
 * recursively. Constraint failures become one ValidationException listing every failure, worded as
 * AWS words them ("1 validation error detected: Value 'x' at 'endpointName' failed to satisfy
 * constraint: Member must satisfy regular expression pattern: ..."); a value of the wrong JSON type
 * is a SerializationException, as AWS reports it.
 */
import { ApiError, serialization } from './errors.js';
import type { Shape, ServiceModel } from './service-model.js';

const regexCache = new Map<string, RegExp | null>();

/** Java regex constructs used by AWS models, in JS spelling (POSIX classes are ASCII in Java). */
const JAVA_CLASSES: Record<string, string> = {
  Print: '\\x20-\\x7E',
  ASCII: '\\x00-\\x7F',
  Alnum: 'a-zA-Z0-9',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '\\x21-\\x7E',
  Space: ' \\t\\n\\x0B\\f\\r',
};

function javaToJs(pattern: string): string {
  let out = pattern.replace(/\\A/g, '^').replace(/\\[zZ]/g, '$');
  for (const [name, range] of Object.entries(JAVA_CLASSES)) {
    out = out.split(`[\\p{${name}}]`).join(`[${range}]`);
    out = out.split(`\\p{${name}}`).join(`[${range}]`);
  }
  return out;
}

/** Compiles a model pattern to a JS regex that must match the whole value (null if it cannot). */
function compilePattern(pattern: string): RegExp | null {
  if (regexCache.has(pattern)) return regexCache.get(pattern)!;
  let re: RegExp | null = null;
  const body = `^(?:${javaToJs(pattern).replace(/^\^/, '').replace(/\$$/, '')})$`;
  for (const flags of ['u', '']) {
    try {
      re = new RegExp(body, flags);
      break;
    } catch {
      // Java-only syntax: try the other flavour, else the pattern is not enforced.
    }
  }
  regexCache.set(pattern, re);
  return re;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function display(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export class Validator {
  constructor(private readonly model: ServiceModel) {}

  /** Returns without error, or throws the ApiError AWS would answer with for this input. */
  check(operation: string, input: unknown): void {
    const op = this.model.operations[operation];
    if (!op?.input) return;
    const failures: string[] = [];
    this.visit(op.input.shape, input ?? {}, '', failures);
    if (failures.length > 0) {
      const n = failures.length;
      throw new ApiError(400, 'ValidationException', `${n} validation error${n === 1 ? '' : 's'} detected: ${failures.join('; ')}`);
    }
  }

  private visit(shapeName: string, value: unknown, path: string, failures: string[]): void {
    const shape: Shape | undefined = this.model.shapes[shapeName];
    if (!shape || value === null || value === undefined) return;
    const fail = (constraint: string) =>
      failures.push(`Value '${display(value)}' at '${path}' failed to satisfy constraint: Member must ${constraint}`);
    switch (shape.type) {
      case 'structure': {
        if (typeof value !== 'object' || Array.isArray(value)) {
          throw serialization(`Start of structure or map expected at '${path || 'request'}'`);
        }
        const obj = value as Record<string, unknown>;
        for (const [name, member] of Object.entries(shape.members ?? {})) {
          const childPath = path ? `${path}.${lowerFirst(name)}` : lowerFirst(name);
          const child = obj[name];
          if ((child === undefined || child === null) && shape.required?.includes(name)) {
            failures.push(`Value null at '${childPath}' failed to satisfy constraint: Member must not be null`);
            continue;
          }
          this.visit(member.shape, child, childPath, failures);
        }
        return;
      }
      case 'list': {
        if (!Array.isArray(value)) throw serialization(`Start of list expected at '${path}'`);
        if (shape.min !== undefined && value.length < shape.min) fail(`have length greater than or equal to ${shape.min}`);
        if (shape.max !== undefined && value.length > shape.max) fail(`have length less than or equal to ${shape.max}`);
        value.forEach((item, i) => this.visit(shape.member!.shape, item, `${path}.${i + 1}.member`, failures));
        return;
      }
      case 'map': {
        if (typeof value !== 'object' || Array.isArray(value)) throw serialization(`Start of map expected at '${path}'`);
        const entries = Object.entries(value as Record<string, unknown>);
        if (shape.min !== undefined && entries.length < shape.min) fail(`have length greater than or equal to ${shape.min}`);
        if (shape.max !== undefined && entries.length > shape.max) fail(`have length less than or equal to ${shape.max}`);
        for (const [k, v] of entries) {
          this.visit(shape.key!.shape, k, `${path}.${k}.key`, failures);
          this.visit(shape.value!.shape, v, `${path}.${k}.value`, failures);
        }
        return;
      }
      case 'string': {
        if (typeof value !== 'string') throw serialization(`Expected a string at '${path}'`);
        const length = [...value].length;
        if (shape.min !== undefined && length < shape.min) fail(`have length greater than or equal to ${shape.min}`);
        if (shape.max !== undefined && length > shape.max) fail(`have length less than or equal to ${shape.max}`);
        if (shape.enum && !shape.enum.includes(value)) fail(`satisfy enum value set: [${shape.enum.join(', ')}]`);
        if (shape.pattern) {
          const re = compilePattern(shape.pattern);
          if (re && !re.test(value)) {
            const shown = /^(\^|\\A)/.test(shape.pattern) ? shape.pattern : `^${shape.pattern}`;
            fail(`satisfy regular expression pattern: ${shown}`);
          }
        }
        return;
      }
      case 'integer':
      case 'long':
      case 'float':
      case 'double': {
        if (typeof value !== 'number') throw serialization(`Expected a number at '${path}'`);
        if ((shape.type === 'integer' || shape.type === 'long') && !Number.isInteger(value)) {
          throw serialization(`Expected an integer at '${path}'`);
        }
        if (shape.min !== undefined && value < shape.min) fail(`have value greater than or equal to ${shape.min}`);
        if (shape.max !== undefined && value > shape.max) fail(`have value less than or equal to ${shape.max}`);
        return;
      }
      case 'boolean':
        if (typeof value !== 'boolean') throw serialization(`Expected a boolean at '${path}'`);
        return;
      default:
        return; // timestamp, blob: carried as given
    }
  }
}
