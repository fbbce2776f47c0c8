/**
 * A reader of the YAML that config files are written in: block mappings and sequences, plain and
 * quoted one-line scalars, one-line flow lists and mappings of scalars, comments. It returns what `yaml` would return
 * (YAML 1.2 core schema, as yaml's parse with uniqueKeys) or undefined for anything else: anchors,
 * aliases, tags, block or multi-line scalars, nested flow collections, several documents, tabs,
 * spaces other than U+0020, a duplicate key, and every error. Then the loader parses the file with
 * `yaml`, which knows positions and words the problems. `yaml` costs about 20 ms of start-up to load
 * and run cold; this costs well under 1. test/unit/config-fast-path.test.ts compares both on every
 * config the tests know and on generated text (MLOPS_FUZZ_SEED replays a seed).
 */

interface Line {
  indent: number;
  /** The line without its indentation (never empty, never a comment line). */
  text: string;
}

/** Signals "not this subset": the caller parses with `yaml`. */
class Unsure extends Error {}
const unsure = (): never => {
  throw new Unsure();
};

// YAML 1.2 core schema, as yaml 2 resolves plain scalars (src/schema/core), in its order.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/**
 * A character a config never needs and YAML treats specially: a control (tab included), a lone CR,
 * another line break, a BOM, and every space but U+0020: YAML's white space is only space and tab,
 * while JavaScript's trim and \s also take U+00A0 and the other Unicode spaces (`key:\u00a0v` is a
 * string to YAML, not a key).
 */
const AWKWARD = /[^\P{Cc}\n\r]|[^\P{Zs} ]|[\u2028\u2029\ufeff]|\r(?!\n)/u;
/** yaml refuses an implicit key whose text (quotes included) runs longer than 1024 characters; PLAIN_KEY stays well under. */
const MAX_QUOTED_KEY = 1000;
/** A plain key: no spaces, no indicator first, at most 1024 characters as YAML's implicit keys. */
const PLAIN_KEY = /^([A-Za-z0-9_$./][^\s:#,[\]{}'"]{0,1000})(:(?: +|$))/;

/** The value of config text, or undefined when it is not in the subset (or not valid YAML). */
export function fastYaml(text: string): { value: unknown } | undefined {
  if (AWKWARD.test(text)) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const body = raw.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    if (raw.startsWith('---') || raw.startsWith('...') || raw.startsWith('%')) return undefined;
    lines.push({ indent: raw.length - body.length, text: body.trimEnd() });
  }
  if (!lines.length || lines[0].indent !== 0) return undefined;
  try {
    const reader = new Reader(lines);
    const value = reader.block(0);
    if (reader.i !== lines.length) return undefined;
    return { value };
  } catch {
    // Not in the subset (Unsure), or nested deeper than the stack allows: `yaml` decides.
    return undefined;
  }
}

class Reader {
  i = 0;
  constructor(private readonly lines: Line[]) {}

  /** A mapping or a sequence whose lines start at this indentation. */
  block(indent: number): unknown {
    const line = this.lines[this.i];
    return isItem(line.text) ? this.sequence(indent) : this.mapping(indent);
  }

  mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      if (line.indent < indent) break;
      if (line.indent > indent || isItem(line.text)) unsure();
      const { key, rest } = splitKey(line.text);
      if (Object.hasOwn(out, key) || key === '__proto__' || key === '<<') unsure();
      this.i++;
      if (rest === '') {
        const next = this.lines[this.i];
        if (next && next.indent > indent) out[key] = this.block(next.indent);
        else if (next && next.indent === indent && isItem(next.text)) out[key] = this.sequence(indent);
        else out[key] = null;
      } else {
        out[key] = inline(rest);
        this.noContinuation(indent);
      }
    }
    return out;
  }

  sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i];
      if (line.indent < indent || (line.indent === indent && !isItem(line.text))) break;
      if (line.indent > indent) unsure();
      const rest = line.text.slice(1).trimStart();
      if (rest === '' || rest.startsWith('#')) {
        this.i++;
        const next = this.lines[this.i];
        out.push(next && next.indent > indent ? this.block(next.indent) : null);
      } else if (isItem(rest)) {
        unsure();
      } else if (PLAIN_KEY.test(rest) || isQuotedKey(rest)) {
        // "- key: value": a mapping whose keys line up with this first one.
        const column = indent + (line.text.length - rest.length);
        this.lines[this.i] = { indent: column, text: rest };
        out.push(this.mapping(column));
      } else {
        out.push(inline(rest));
        this.i++;
        this.noContinuation(indent);
      }
    }
    return out;
  }

  /** A more indented line after a one-line value would continue it (a multi-line scalar) or be an error. */
  private noContinuation(indent: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > indent) unsure();
  }
}

const isItem = (text: string) => text === '-' || text.startsWith('- ');

/** A quoted scalar followed by `:` and a space (a quoted key). */
function isQuotedKey(text: string): boolean {
  if (text[0] !== '"' && text[0] !== "'") return false;
  try {
    const { end } = quoted(text, 0);
    return /^:(?: |$)/.test(text.slice(end));
  } catch {
    return false;
  }
}

function splitKey(text: string): { key: string; rest: string } {
  let key: string;
  let after: number;
  const plain = PLAIN_KEY.exec(text);
  if (plain) {
    key = plain[1];
    // A key that resolves to null, a boolean or a number becomes a string of another spelling.
    if (scalar(key) !== key) unsure();
    after = plain[0].length;
  } else if (text.startsWith('"') || text.startsWith("'")) {
    const q = quoted(text, 0);
    if (q.end > MAX_QUOTED_KEY || !/^:(?: |$)/.test(text.slice(q.end))) unsure();
    key = q.value;
    after = q.end + 1;
  } else return unsure();
  const rest = text.slice(after).trimStart();
  return { key, rest: rest.startsWith('#') ? '' : rest };
}

/** A value on the rest of a line: a plain or quoted scalar, a flow list, `{}`. */
function inline(text: string): unknown {
  const c = text[0];
  if (c === '"' || c === "'") {
    const q = quoted(text, 0);
    if (!/^(?:\s+#.*)?$/.test(text.slice(q.end))) unsure();
    return q.value;
  }
  if (c === '[') return flowList(text);
  if (c === '{') return flowMap(text);
  const hash = text.search(/\s#/);
  const plain = (hash === -1 ? text : text.slice(0, hash)).trimEnd();
  checkPlain(plain, false);
  return scalar(plain);
}

/** A plain scalar YAML reads as this one value (no indicator first, no `: ` or ` #` inside). */
function checkPlain(s: string, flow: boolean): void {
  if (s === '') unsure();
  const c = s[0];
  if ('[]{},#&*!|>\'"%@`'.includes(c)) unsure();
  if (c === '?' || c === ':' || (c === '-' && (s.length === 1 || s[1] === ' '))) unsure();
  if (/: |:$| #/.test(s)) unsure();
  if (flow && /[,[\]{}]/.test(s)) unsure();
}

/** A plain scalar resolved by the YAML 1.2 core schema. */
function scalar(s: string): unknown {
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT_OCT.test(s)) return parseInt(s.slice(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

/** `[a, "b", 3]` on one line. */
function flowList(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 1;
  const skip = () => {
    while (text[i] === ' ') i++;
  };
  skip();
  if (text[i] === ']') i++;
  else {
    for (;;) {
      skip();
      const c = text[i];
      if (c === '"' || c === "'") {
        const q = quoted(text, i);
        out.push(q.value);
        i = q.end;
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== ']') j++;
        const plain = text.slice(i, j).trimEnd();
        checkPlain(plain, true);
        out.push(scalar(plain));
        i = j;
      }
      skip();
      if (text[i] === ',') i++;
      else if (text[i] === ']') {
        i++;
        break;
      } else unsure();
    }
  }
  if (!/^(?:\s+#.*)?$/.test(text.slice(i))) unsure();
  return out;
}

/** `{ a: 1, b: "x" }` on one line, of scalars. */
function flowMap(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = 1;
  const skip = () => {
    while (text[i] === ' ') i++;
  };
  /** A quoted or plain scalar ending before one of `stops`. */
  const item = (stops: string): { text: string; value: unknown } => {
    if (text[i] === '"' || text[i] === "'") {
      const q = quoted(text, i);
      i = q.end;
      return { text: q.value, value: q.value };
    }
    let j = i;
    while (j < text.length && !stops.includes(text[j])) j++;
    const plain = text.slice(i, j).trimEnd();
    checkPlain(plain, true);
    i = j;
    return { text: plain, value: scalar(plain) };
  };
  skip();
  if (text[i] === '}') i++;
  else {
    for (;;) {
      skip();
      const key = item(':,{}[]#');
      if (key.value !== key.text || text[i] !== ':' || text[i + 1] !== ' ') unsure();
      i += 2;
      skip();
      const { value } = item(',}');
      if (Object.hasOwn(out, key.text) || key.text === '__proto__' || key.text === '<<') unsure();
      out[key.text] = value;
      skip();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        break;
      } else unsure();
    }
  }
  if (!/^(?:\s+#.*)?$/.test(text.slice(i))) unsure();
  return out;
}

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t' };

/** A quoted scalar starting at `start`, on this line; `end` is the index after its closing quote. */
function quoted(text: string, start: number): { value: string; end: number } {
  const q = text[start];
  let out = '';
  let i = start + 1;
  for (;;) {
    const c = text[i];
    if (c === undefined) return unsure();
    if (c === q) {
      if (q === "'" && text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return { value: out, end: i + 1 };
    }
    if (c === '\\' && q === '"') {
      const e = ESCAPES[text[i + 1]];
      if (e === undefined) unsure();
      out += e;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
}

/**
 * A string yaml writes as it is (plain): no space or indicator, and not read back as another type;
 * not `...` first either, a document end marker at the start of a line (yaml quotes such a top-level key).
 */
const PLAIN_OUT = /^(?!\.\.\.)[A-Za-z0-9_./][A-Za-z0-9_./:@+=-]*$/;

/**
 * The YAML text yaml's stringify writes for a plain value (mappings, lists, plain strings, finite
 * numbers, booleans, null), or undefined for anything else (then use yaml): `mlops config show`
 * prints a config without loading yaml. test/unit/config-fast-path.test.ts checks it against yaml.
 */
export function fastYamlText(value: unknown): string | undefined {
  const lines: string[] = [];
  // yaml writes an object it meets twice as an anchor and an alias (&a1, *a1).
  const seen = new Set<object>();
  const fresh = (v: object) => !seen.has(v) && Boolean(seen.add(v));
  const scalarText = (v: unknown): string | undefined => {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? JSON.stringify(v) : undefined;
    if (typeof v === 'string') return PLAIN_OUT.test(v) && scalar(v) === v && !v.endsWith(':') ? v : undefined;
    if (Array.isArray(v) && v.length === 0) return fresh(v) ? '[]' : undefined;
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.keys(v).length === 0)
      return fresh(v) ? '{}' : undefined;
    return undefined;
  };
  const write = (v: unknown, indent: string, first: string): boolean => {
    // `first` prefixes the first line: "- " for a mapping inside a list.
    if (v !== null && typeof v === 'object' && !fresh(v)) return false;
    if (Array.isArray(v)) {
      for (const x of v) {
        const s = scalarText(x);
        if (s !== undefined) lines.push(`${indent}- ${s}`);
        else if (Array.isArray(x) || !write(x, `${indent}  `, '- ')) return false;
      }
      return true;
    }
    if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
    let prefix = first;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (scalarText(k) !== k) return false;
      const head = prefix ? `${indent.slice(2)}${prefix}${k}:` : `${indent}${k}:`;
      prefix = '';
      const s = scalarText(x);
      if (s !== undefined) lines.push(`${head} ${s}`);
      else {
        lines.push(head);
        if (!write(x, `${indent}  `, '')) return false;
      }
    }
    return true;
  };
  const top = scalarText(value);
  if (top !== undefined) return typeof value === 'object' ? `${top}\n` : undefined;
  // yaml folds a plain string past its line width (80): after a long key it starts the string on the
  // next line. Within 80 columns on every line it never does, and a key over 1024 (written `? key`) cannot fit.
  return write(value, '', '') && lines.every((l) => l.length <= 80) ? `${lines.join('\n')}\n` : undefined;
}
