/**
 * The capture scan's fast path: finds the fields it needs in the bytes of one capture line, with
 * no string built and no JSON.parse. Pure.
 *
 * It takes only lines that JSON.parse would read the same way and that hold the common record:
 * valid JSON without a backslash (so no string holds an escape, a quote or a newline), a
 * captureData object whose endpointInput (and endpointOutput, when present) has a string `data`
 * with encoding "CSV", each key at most once, and an eventMetadata.inferenceTime string when a
 * window is asked for. Anything else is the caller's to read with the general path.
 *
 * Capture lines of one endpoint are nearly all alike: the same keys in the same order, only the
 * contents of string values differ. So the reader keeps the last line it took as a template (its
 * bytes outside the string values, which are the same JSON with other strings in it) and first
 * tries the next line against it: equal bytes there, and valid strings (no escape, no control
 * character) in between, make a line JSON.parse reads as the same record with other values, with
 * its fields found without parsing. A line that does not fit the template is parsed in full.
 */

/** Where the fields of a line are: [start, end) byte offsets of the strings' contents, -1 when absent. */
export interface CaptureFields {
  inS: number;
  inE: number;
  outS: number;
  outE: number;
  timeS: number;
  timeE: number;
}

const key = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const CAPTURE_DATA = key('captureData');
const EVENT_METADATA = key('eventMetadata');
const ENDPOINT_INPUT = key('endpointInput');
const ENDPOINT_OUTPUT = key('endpointOutput');
const DATA = key('data');
const ENCODING = key('encoding');
const INFERENCE_TIME = key('inferenceTime');
const CSV = key('CSV');

const QUOTE = 34;
const FAIL = -1;

function same(b: Uint8Array, s: number, e: number, k: Uint8Array): boolean {
  if (e - s !== k.length) return false;
  for (let i = 0; i < k.length; i++) if (b[s + i] !== k[i]) return false;
  return true;
}

function ws(b: Uint8Array, i: number, e: number): number {
  while (i < e) {
    const c = b[i];
    if (c === 32 || c === 9 || c === 13 || c === 10) i++;
    else break;
  }
  return i;
}

/** The end of the string opening at i (just past its closing quote), or FAIL (an escape, a control character, no end). */
function stringEnd(b: Uint8Array, i: number, e: number): number {
  for (i++; i < e; i++) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c < 32 || c === 92) return FAIL;
  }
  return FAIL;
}

function digits(b: Uint8Array, i: number, e: number): number {
  while (i < e && b[i] >= 48 && b[i] <= 57) i++;
  return i;
}

/** The end of the JSON number at i, or FAIL. */
function numberEnd(b: Uint8Array, i: number, e: number): number {
  if (b[i] === 45) i++;
  if (i >= e) return FAIL;
  if (b[i] === 48) i++;
  else if (b[i] >= 49 && b[i] <= 57) i = digits(b, i, e);
  else return FAIL;
  if (i < e && b[i] === 46) {
    const j = digits(b, i + 1, e);
    if (j === i + 1) return FAIL;
    i = j;
  }
  if (i < e && (b[i] === 101 || b[i] === 69)) {
    i++;
    if (i < e && (b[i] === 43 || b[i] === 45)) i++;
    const j = digits(b, i, e);
    if (j === i) return FAIL;
    i = j;
  }
  return i;
}

const literal = (b: Uint8Array, i: number, e: number, word: string) => {
  if (i + word.length > e) return FAIL;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return FAIL;
  return i + word.length;
};

/** The end of the JSON value at i (any kind), or FAIL. */
function valueEnd(b: Uint8Array, i: number, e: number, depth: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i, e);
  if (c === 123 /* { */) return objectEnd(b, i, e, depth + 1);
  if (c === 91 /* [ */) {
    if (depth > 64) return FAIL;
    i = ws(b, i + 1, e);
    if (b[i] === 93) return i + 1;
    for (;;) {
      i = valueEnd(b, i, e, depth + 1);
      if (i === FAIL) return FAIL;
      i = ws(b, i, e);
      if (b[i] === 44) i = ws(b, i + 1, e);
      else if (b[i] === 93) return i + 1;
      else return FAIL;
    }
  }
  if (c === 116) return literal(b, i, e, 'true');
  if (c === 102) return literal(b, i, e, 'false');
  if (c === 110) return literal(b, i, e, 'null');
  return numberEnd(b, i, e);
}

const TOP = 0;
const CAPTURE = 1;
const INPUT = 2;
const OUTPUT = 3;
const META = 4;
const OTHER = 5;

const SLOT_OTHER = 0;
const SLOT_IN = 1;
const SLOT_OUT = 2;
const SLOT_TIME = 3;

/** Reads capture lines from bytes (one instance per scan: it keeps the fields of the last line read). */
export class CaptureByteReader implements CaptureFields {
  inS = -1;
  inE = -1;
  outS = -1;
  outE = -1;
  timeS = -1;
  timeE = -1;
  private inCsv = false;
  private outCsv = false;
  private hasOut = false;
  private seen = 0;
  private b: Uint8Array = new Uint8Array(0);
  private e = 0;

  /** The template: literal bytes (the last line taken, without its string values' contents) in segments around slots. */
  private lit = new Uint8Array(0);
  /** Length of literal segment k (one more segment than slots: the last follows the last slot). */
  private segLens = new Int32Array(0);
  /** What slot k (a string value's contents) holds: SLOT_OTHER, SLOT_IN, SLOT_OUT or SLOT_TIME. */
  private slots = new Uint8Array(0);
  private templateTime = false;
  private litWords = new DataView(new ArrayBuffer(0));
  /** A view of the bytes last read, for the word compares. */
  private words: DataView = new DataView(new ArrayBuffer(0));
  private wordsOf: Uint8Array | undefined;

  /** Reads line [s, e) of b: true when it is the common record (then the fields are set), false for the general path. */
  read(b: Uint8Array, s: number, e: number, needTime: boolean): boolean {
    if ((this.templateTime || !needTime) && this.fits(b, s, e)) return true;
    if (!this.parse(b, s, e, needTime)) return false;
    this.learn(b, s, e);
    return true;
  }

  /** Line [s, e) against the template: true (fields set) when it is the template line with other strings. */
  private fits(b: Uint8Array, s: number, e: number): boolean {
    const lit = this.lit;
    const lens = this.segLens;
    const slots = this.slots;
    const n = slots.length;
    if (lens.length === 0) return false;
    this.inS = this.inE = this.outS = this.outE = this.timeS = this.timeE = -1;
    if (b !== this.wordsOf) {
      this.words = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.wordsOf = b;
    }
    const words = this.words;
    const litWords = this.litWords;
    let p = s;
    let q = 0;
    for (let k = 0; ; k++) {
      const len = lens[k];
      if (p + len > e) return false;
      // Four bytes at a time, then the rest.
      let i = 0;
      for (; i + 4 <= len; i += 4) if (words.getUint32(p + i) !== litWords.getUint32(q + i)) return false;
      for (; i < len; i++) if (b[p + i] !== lit[q + i]) return false;
      p += len;
      q += len;
      if (k === n) return p === e;
      // p is just past a string's opening quote (the last literal byte); its closing quote starts the next segment.
      const end = stringEnd(b, p - 1, e);
      if (end === FAIL) return false;
      const slot = slots[k];
      if (slot === SLOT_IN) {
        this.inS = p;
        this.inE = end - 1;
      } else if (slot === SLOT_OUT) {
        this.outS = p;
        this.outE = end - 1;
      } else if (slot === SLOT_TIME) {
        this.timeS = p;
        this.timeE = end - 1;
      }
      p = end - 1;
    }
  }

  /**
   * Makes line [s, e) (just parsed and taken) the template: string values become slots, except
   * those of an "encoding" key (they must stay "CSV"); keys, other values, punctuation and spaces
   * stay literal.
   */
  private learn(b: Uint8Array, s: number, e: number): void {
    const lit: number[] = [];
    const lens: number[] = [];
    const slots: number[] = [];
    let segStart = 0;
    let ks = -1;
    let ke = -1;
    for (let i = s; i < e;) {
      const c = b[i];
      if (c !== QUOTE) {
        lit.push(c);
        i++;
        continue;
      }
      const end = stringEnd(b, i, e);
      const after = ws(b, end, e);
      const isKey = b[after] === 58;
      if (isKey || (ks >= 0 && same(b, ks, ke, ENCODING))) {
        for (let k = i; k < end; k++) lit.push(b[k]);
        if (isKey) [ks, ke] = [i + 1, end - 1];
      } else {
        lit.push(QUOTE);
        lens.push(lit.length - segStart);
        segStart = lit.length;
        const at = i + 1;
        slots.push(at === this.inS ? SLOT_IN : at === this.outS ? SLOT_OUT : at === this.timeS ? SLOT_TIME : SLOT_OTHER);
        lit.push(QUOTE);
        ks = -1;
      }
      i = end;
    }
    lens.push(lit.length - segStart);
    this.lit = Uint8Array.from(lit);
    this.litWords = new DataView(this.lit.buffer);
    this.segLens = Int32Array.from(lens);
    this.slots = Uint8Array.from(slots);
    this.templateTime = this.timeS >= 0;
  }

  /** The full parse of line [s, e). */
  private parse(b: Uint8Array, s: number, e: number, needTime: boolean): boolean {
    this.b = b;
    this.e = e;
    this.inS = this.inE = this.outS = this.outE = this.timeS = this.timeE = -1;
    this.inCsv = this.outCsv = this.hasOut = false;
    this.seen = 0;
    const i = ws(b, s, e);
    if (b[i] !== 123) return false;
    const end = this.object(i, TOP, 0);
    if (end === FAIL || ws(b, end, e) !== e) return false;
    if (this.inS < 0 || !this.inCsv || (this.hasOut && (this.outS < 0 || !this.outCsv))) return false;
    return !needTime || this.timeS >= 0;
  }

  /** Marks a key of interest as seen; false when it was seen before (duplicate keys: the general path). */
  private once(bit: number): boolean {
    if (this.seen & bit) return false;
    this.seen |= bit;
    return true;
  }

  /** The end of the object at i, or FAIL; the keys the scan needs are noted on the way. */
  private object(i: number, ctx: number, depth: number): number {
    const b = this.b;
    const e = this.e;
    if (depth > 64) return FAIL;
    i = ws(b, i + 1, e);
    if (b[i] === 125 /* } */) return i + 1;
    for (;;) {
      if (b[i] !== QUOTE) return FAIL;
      const ks = i + 1;
      const ke = stringEnd(b, i, e);
      if (ke === FAIL) return FAIL;
      i = ws(b, ke, e);
      if (b[i] !== 58 /* : */) return FAIL;
      i = ws(b, i + 1, e);
      if (i >= e) return FAIL;
      i = this.member(ks, ke - 1, i, ctx, depth);
      if (i === FAIL) return FAIL;
      i = ws(b, i, e);
      if (b[i] === 44 /* , */) i = ws(b, i + 1, e);
      else if (b[i] === 125) return i + 1;
      else return FAIL;
    }
  }

  /** Reads the value at i of key [ks, ke) in context ctx; returns its end or FAIL. */
  private member(ks: number, ke: number, i: number, ctx: number, depth: number): number {
    const b = this.b;
    const e = this.e;
    const isObject = b[i] === 123;
    if (ctx === TOP) {
      if (same(b, ks, ke, CAPTURE_DATA)) return isObject && this.once(1) ? this.object(i, CAPTURE, depth + 1) : FAIL;
      if (same(b, ks, ke, EVENT_METADATA)) return isObject && this.once(2) ? this.object(i, META, depth + 1) : FAIL;
    } else if (ctx === CAPTURE) {
      if (same(b, ks, ke, ENDPOINT_INPUT)) return isObject && this.once(4) ? this.object(i, INPUT, depth + 1) : FAIL;
      if (same(b, ks, ke, ENDPOINT_OUTPUT)) {
        this.hasOut = true;
        return isObject && this.once(8) ? this.object(i, OUTPUT, depth + 1) : FAIL;
      }
    } else if (ctx === INPUT || ctx === OUTPUT) {
      const out = ctx === OUTPUT;
      if (same(b, ks, ke, DATA)) {
        if (b[i] !== QUOTE || !this.once(out ? 16 : 32)) return FAIL;
        const end = stringEnd(b, i, e);
        if (end === FAIL) return FAIL;
        if (out) {
          this.outS = i + 1;
          this.outE = end - 1;
        } else {
          this.inS = i + 1;
          this.inE = end - 1;
        }
        return end;
      }
      if (same(b, ks, ke, ENCODING)) {
        if (b[i] !== QUOTE || !this.once(out ? 64 : 128)) return FAIL;
        const end = stringEnd(b, i, e);
        if (end === FAIL) return FAIL;
        const csv = same(b, i + 1, end - 1, CSV);
        if (out) this.outCsv = csv;
        else this.inCsv = csv;
        return end;
      }
    } else if (ctx === META && same(b, ks, ke, INFERENCE_TIME)) {
      if (b[i] !== QUOTE || !this.once(256)) return FAIL;
      const end = stringEnd(b, i, e);
      if (end === FAIL) return FAIL;
      this.timeS = i + 1;
      this.timeE = end - 1;
      return end;
    }
    return isObject ? this.object(i, OTHER, depth + 1) : valueEnd(b, i, e, depth);
  }
}

/** The end of an object of no interest at i, or FAIL. */
function objectEnd(b: Uint8Array, i: number, e: number, depth: number): number {
  if (depth > 64) return FAIL;
  i = ws(b, i + 1, e);
  if (b[i] === 125) return i + 1;
  for (;;) {
    if (b[i] !== QUOTE) return FAIL;
    i = stringEnd(b, i, e);
    if (i === FAIL) return FAIL;
    i = ws(b, i, e);
    if (b[i] !== 58) return FAIL;
    i = valueEnd(b, ws(b, i + 1, e), e, depth + 1);
    if (i === FAIL) return FAIL;
    i = ws(b, i, e);
    if (b[i] === 44) i = ws(b, i + 1, e);
    else if (b[i] === 125) return i + 1;
    else return FAIL;
  }
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
// A number too large for a double ("1e999") is a bad line, not a missing value (as in scan.ts).
const BIG_EXPONENT = /\d[eE]\+?\d{3,}/;
const utf8 = new TextDecoder();

/** Row cells that `parseCsvRow` fills: numbers (NaN when missing) for numeric columns, text for the others. */
export interface CsvCells {
  numeric: boolean[];
  nums: Float64Array;
  texts: string[];
}

/** The text of b[s, e) (bytes as UTF-8, as Buffer#toString would decode them). */
export function cellText(b: Uint8Array, s: number, e: number): string {
  if (e - s <= 32) {
    let ascii = true;
    for (let i = s; i < e; i++) if (b[i] > 127) ascii = false;
    if (ascii) return String.fromCharCode(...b.subarray(s, e));
  }
  return utf8.decode(b.subarray(s, e));
}

/**
 * Parses the plain CSV row in b[s, e) (no quotes, no newline) into `cells`, numbers without
 * building strings (parseNumberRange's rules: spaces trimmed, plain decimals of at most 15 digits
 * exactly, anything else through Number()). Returns 0, or the row's cell count when it is not the
 * column count, or -1 when a cell is a number too large for a double.
 */
export function parseCsvRow(b: Uint8Array, s: number, e: number, cells: CsvCells): number {
  const width = cells.numeric.length;
  let cell = 0;
  let overflow = false;
  let i = s;
  for (;;) {
    const cs = i;
    if (cell < width && cells.numeric[cell]) {
      while (i < e && b[i] === 32) i++;
      let neg = false;
      const c0 = i < e ? b[i] : 44;
      if (c0 === 45) {
        neg = true;
        i++;
      } else if (c0 === 43) i++;
      let m = 0;
      let n = 0;
      let frac = 0;
      let dot = false;
      let plain = i < e && b[i] !== 44;
      for (; i < e; i++) {
        const c = b[i];
        if (c >= 48 && c <= 57) {
          m = m * 10 + (c - 48);
          n++;
          if (dot) frac++;
        } else if (c === 46 && !dot) dot = true;
        else break;
      }
      // Trailing spaces end a plain number; anything else makes the cell the slow kind.
      let j = i;
      while (j < e && b[j] === 32) j++;
      if (j < e && b[j] !== 44) plain = false;
      if (plain && n > 0 && n <= 15) {
        const v = frac ? m / POW10[frac] : m;
        cells.nums[cell] = neg ? -v : v;
        i = j;
      } else {
        while (j < e && b[j] !== 44) j++;
        const text = cellText(b, cs, j).trim();
        const x = +text;
        if (Number.isFinite(x) && text !== '') cells.nums[cell] = x;
        else {
          cells.nums[cell] = NaN;
          if (!Number.isNaN(x) && BIG_EXPONENT.test(text)) overflow = true;
        }
        i = j;
      }
    } else {
      while (i < e && b[i] !== 44) i++;
      if (cell < width) {
        const text = cellText(b, cs, i);
        cells.texts[cell] = text;
        if (BIG_EXPONENT.test(text) && !Number.isFinite(+text) && !Number.isNaN(+text)) overflow = true;
      }
    }
    cell++;
    if (i >= e) break;
    i++; // the comma
    if (i === e) {
      // A row ending in a comma has an empty last cell.
      if (cell < width) {
        if (cells.numeric[cell]) cells.nums[cell] = NaN;
        else cells.texts[cell] = '';
      }
      cell++;
      break;
    }
  }
  if (cell !== width) return cell;
  return overflow ? -1 : 0;
}
