/**
 * Decoding of SageMaker data-capture records into rows of feature values. Pure.
 *
 * A capture file holds one JSON object per line:
 *   {"captureData": {"endpointInput":  {"observedContentType", "mode": "INPUT",  "data", "encoding"},
 *                    "endpointOutput": {"observedContentType", "mode": "OUTPUT", "data", "encoding"}},
 *    "eventMetadata": {"eventId", "inferenceId"?, "inferenceTime"}, "eventVersion": "0"}
 * `encoding` is CSV (data is the CSV text), JSON (data is the JSON text) or BASE64 (data is the
 * base64 of the body, read as CSV or JSON by its content type). Input and output may differ.
 *
 * A row is positional (an array: CSV cells, a list of values; the profile's column order names
 * them) or named (an object). One record may hold several rows (CSV lines; JSON lists).
 * JSON bodies understood: a list of rows, a single row, {"instances": ...}, {"inputs": ...},
 * {"dataframe_split": {"columns", "data"}}, {"dataframe_records": [...]}, a pandas "split" object
 * {"columns", "data"}, column-oriented objects {"a": [..], "b": [..]} (flattened to rows),
 * {"predictions": ...} / {"outputs": ...} (MLflow and TF Serving responses), JSON Lines.
 */

export type Row = unknown[] | Record<string, unknown>;

/**
 * The longest capture line read: SageMaker caps a real-time request and its response at 6 MB
 * each; captured as BASE64 they take 8 MB each, 16 MB for both, plus the JSON envelope and
 * escaping: 20 MiB. A longer line cannot be a SageMaker capture record; it is skipped and counted.
 */
export const MAX_CAPTURE_LINE_BYTES = 20 * 1024 * 1024;

/** Why a capture line was not used, as counted in the report. */
export type BadLineReason =
  | 'line too long'
  | 'not JSON'
  | 'not a capture record'
  | 'unknown encoding'
  | 'unreadable payload'
  | 'missing columns'
  | 'extra columns'
  | 'more output rows than input rows'
  | 'number out of range';

/** A capture line that is not a usable record, with the reason it is counted under. */
export class CaptureLineError extends RangeError {
  constructor(
    readonly reason: BadLineReason,
    message: string,
  ) {
    super(message);
  }
}

export interface CapturePayload {
  observedContentType?: string;
  mode?: string;
  data?: string;
  encoding?: string;
}

export interface CaptureRecord {
  captureData?: { endpointInput?: CapturePayload; endpointOutput?: CapturePayload };
  eventMetadata?: { eventId?: string; inferenceId?: string; inferenceTime?: string };
  eventVersion?: string;
}

export interface DecodedRecord {
  inputs: Row[];
  outputs: Row[];
}

/** How many positional values an input and an output row carry (from the profile). */
export interface RowLayout {
  inputWidth: number;
  outputWidth: number;
  /** Known column names: a first CSV row made only of them is a header (MLflow's scoring server wants one). */
  names?: ReadonlySet<string>;
}

/** CSV rows, with a header row (every cell a known column name) turned into named rows. */
export function csvRows(text: string, names?: ReadonlySet<string>): Row[] {
  const rows = parseCsv(text);
  if (!names || rows.length === 0) return rows;
  const head = rows[0].map((c) => c.trim());
  if (!head.every((c) => names.has(c))) return rows;
  return rows.slice(1).map((r) => {
    const o: Record<string, unknown> = {};
    head.forEach((c, i) => (o[c] = r[i]));
    return o;
  });
}

/** Parses CSV text (RFC 4180 quoting; \n or \r\n line ends; blank lines skipped) into rows of strings. */
export function parseCsv(text: string): string[][] {
  if (text.indexOf('"') < 0) {
    if (text.indexOf('\n') < 0) return text === '' ? [] : [text.split(',')];
    const rows: string[][] = [];
    for (const line of text.split('\n')) {
      const l = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (l !== '') rows.push(l.split(','));
    }
    return rows;
  }
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  let any = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"') {
      quoted = true;
      any = true;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
      any = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      if (any || cell !== '') {
        row.push(cell);
        rows.push(row);
      }
      row = [];
      cell = '';
      any = false;
    } else {
      cell += ch;
      any = true;
    }
    i++;
  }
  if (any || cell !== '') {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rows of a parsed JSON body (see the module comment for the shapes). */
export function jsonRows(v: unknown, width: number): Row[] {
  if (Array.isArray(v)) {
    const values: unknown[] = v;
    if (values.length === 0) return [];
    const first = values[0];
    if (Array.isArray(first)) return values as unknown[][];
    if (isObject(first)) {
      // A list of records; a record that is itself column-oriented would be unusual, keep as is.
      return values as Record<string, unknown>[];
    }
    // A flat list of scalars: one value per row for single-value rows, else one row.
    return width === 1 ? values.map((x) => [x]) : [values];
  }
  if (isObject(v)) {
    if (isObject(v.dataframe_split)) return splitRows(v.dataframe_split);
    if ('dataframe_records' in v) return jsonRows(v.dataframe_records, width);
    if ('instances' in v) return jsonRows(v.instances, width);
    if ('inputs' in v) return jsonRows(v.inputs, width);
    if ('predictions' in v) return jsonRows(v.predictions, width);
    if ('outputs' in v) return jsonRows(v.outputs, width);
    if (Array.isArray(v.columns) && Array.isArray(v.data)) return splitRows(v);
    const keys = Object.keys(v);
    if (keys.length > 0 && keys.every((k) => Array.isArray(v[k]))) {
      // Column-oriented: {"a": [1, 2], "b": [3, 4]} -> [{a: 1, b: 3}, {a: 2, b: 4}].
      const n = Math.max(...keys.map((k) => (v[k] as unknown[]).length));
      const rows: Record<string, unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const r: Record<string, unknown> = {};
        for (const k of keys) r[k] = (v[k] as unknown[])[i];
        rows.push(r);
      }
      return rows;
    }
    return [v];
  }
  if (v === undefined) return [];
  return [[v]];
}

function splitRows(o: Record<string, unknown>): Row[] {
  const columns = o.columns as unknown[];
  const data = (o.data ?? []) as unknown[];
  return data.map((r) => {
    const row: Record<string, unknown> = {};
    const cells: unknown[] = Array.isArray(r) ? r : [r];
    columns.forEach((c, i) => (row[String(c)] = cells[i]));
    return row;
  });
}

/** Decodes base64 to UTF-8 text (web-standard globals only, so core stays free of node:). */
export function base64ToText(b64: string): string {
  const bin = atob(b64.replace(/\s+/g, ''));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder('utf-8').decode(bytes);
}

function parseJsonBody(text: string, contentType: string, width: number): Row[] {
  const t = text.trim();
  if (t === '') return [];
  if (contentType.includes('jsonlines') || contentType.includes('x-ndjson')) {
    return t.split('\n').flatMap((line) => (line.trim() ? jsonRows(JSON.parse(line), width) : []));
  }
  try {
    return jsonRows(JSON.parse(t), width);
  } catch (err) {
    // JSON Lines sent with a plain JSON content type.
    if (t.includes('\n')) return t.split('\n').flatMap((line) => (line.trim() ? jsonRows(JSON.parse(line), width) : []));
    throw err;
  }
}

/** Rows of one payload (endpointInput or endpointOutput). Throws on a body it cannot parse. */
export function decodePayload(p: CapturePayload | undefined, width: number, names?: ReadonlySet<string>): Row[] {
  if (!p || p.data === undefined || p.data === null) return [];
  if (!isObject(p)) throw new CaptureLineError('not a capture record', 'a payload is not a JSON object');
  if (typeof p.encoding !== 'string')
    throw new CaptureLineError('unknown encoding', `unknown capture encoding ${JSON.stringify(p.encoding)}`);
  if (typeof p.data !== 'string') throw new CaptureLineError('unreadable payload', `the payload data is a ${typeof p.data}, not a string`);
  const encoding = p.encoding.toUpperCase();
  const contentType = (typeof p.observedContentType === 'string' ? p.observedContentType : '').toLowerCase();
  try {
    return decodeBody(p.data, encoding, contentType, width, names, p.encoding);
  } catch (err) {
    if (err instanceof CaptureLineError) throw err;
    throw new CaptureLineError('unreadable payload', `unreadable ${encoding} payload: ${(err as Error).message}`);
  }
}

function decodeBody(
  data: string,
  encoding: string,
  contentType: string,
  width: number,
  names: ReadonlySet<string> | undefined,
  raw: string,
): Row[] {
  const p = { data };
  if (encoding === 'CSV') return csvRows(p.data, names);
  if (encoding === 'JSON') return parseJsonBody(p.data, contentType, width);
  if (encoding === 'BASE64') {
    const text = base64ToText(p.data);
    if (contentType.includes('csv')) return csvRows(text, names);
    if (contentType.includes('json')) return parseJsonBody(text, contentType, width);
    const t = text.trimStart();
    return t.startsWith('{') || t.startsWith('[') ? parseJsonBody(text, contentType, width) : csvRows(text, names);
  }
  throw new CaptureLineError('unknown encoding', `unknown capture encoding ${JSON.stringify(raw)} (SageMaker writes CSV, JSON or BASE64)`);
}

/** Input and output rows of one capture record. */
export function decodeRecord(rec: CaptureRecord, layout: RowLayout): DecodedRecord {
  const notObject = (v: unknown) => typeof v !== 'object' || v === null || Array.isArray(v);
  if (notObject(rec)) throw new CaptureLineError('not a capture record', 'not a capture record: the line is not a JSON object');
  const cd = rec.captureData;
  if (!cd || notObject(cd)) throw new CaptureLineError('not a capture record', 'not a capture record: no captureData object');
  const inputs = decodePayload(cd.endpointInput, layout.inputWidth, layout.names);
  let outputs = decodePayload(cd.endpointOutput, layout.outputWidth, layout.names);
  // One output line carrying one value per input row (e.g. XGBoost's CSV "0.1,0.7,0.3").
  if (outputs.length === 1 && inputs.length > 1 && layout.outputWidth === 1) {
    const only = outputs[0];
    if (Array.isArray(only) && only.length === inputs.length) outputs = only.map((x) => [x]);
  }
  return { inputs, outputs };
}

/**
 * The value of the first `"key": "..."` string field in line[from, to), or undefined. Only valid on
 * a line without backslashes: then no string holds a quote, so a quoted key can only be a key.
 */
function stringField(line: string, key: string, from: number, to: number): string | undefined {
  const k = line.indexOf(key, from);
  if (k < 0 || k >= to) return undefined;
  return stringAt(line, k + key.length, to);
}

/** The quoted string after `: ` at position i (just past a key). */
function stringAt(line: string, i: number, to: number): string | undefined {
  while (line.charCodeAt(i) === 32) i++;
  if (line.charCodeAt(i) !== 58 /* : */) return undefined;
  i++;
  while (line.charCodeAt(i) === 32) i++;
  if (line.charCodeAt(i) !== 34 /* " */) return undefined;
  const end = line.indexOf('"', i + 1);
  if (end < 0 || end > to) return undefined;
  return line.slice(i + 1, end);
}

function fastPayload(line: string, from: number, to: number): CapturePayload | undefined {
  const dk = line.indexOf('"data"', from);
  if (dk < 0 || dk >= to) return undefined;
  const data = stringAt(line, dk + 6, to);
  if (data === undefined) return undefined;
  // Keys usually come in SageMaker's order (observedContentType, mode, data, encoding): look after
  // the data first, then anywhere in the object.
  const encoding = stringField(line, '"encoding"', dk + 8 + data.length, to) ?? stringField(line, '"encoding"', from, to);
  if (encoding === undefined) return undefined;
  // The content type matters only to read BASE64 (and JSON Lines) bodies.
  const observedContentType = encoding === 'CSV' ? undefined : stringField(line, '"observedContentType"', from, to);
  return observedContentType === undefined ? { data, encoding } : { data, encoding, observedContentType };
}

/** The payloads and inference time of a capture line, read without JSON.parse (see decodeLineFast). */
export interface FastLine {
  time: string | undefined;
  input: CapturePayload;
  output?: CapturePayload;
}

/**
 * JSON.parse + field access for the common case, without building the record object: a line with
 * no backslash (no escaped characters, so no JSON body inside a string) whose fields are found by
 * position. Returns undefined when the line needs the full parser.
 */
export function readLineFast(line: string): FastLine | undefined {
  if (line.indexOf('\\') >= 0) return undefined;
  const pIn = line.indexOf('"endpointInput"');
  if (pIn < 0) return undefined;
  const pOut = line.indexOf('"endpointOutput"');
  const inEnd = pOut > pIn ? pOut : line.length;
  const input = fastPayload(line, pIn, inEnd);
  if (!input) return undefined;
  let output: CapturePayload | undefined;
  if (pOut >= 0) {
    output = fastPayload(line, pOut, pOut > pIn ? line.length : pIn);
    if (!output) return undefined;
  }
  // eventMetadata usually comes last: search from the end.
  const tk = line.lastIndexOf('"inferenceTime"');
  const time = tk < 0 ? undefined : stringAt(line, tk + 15, line.length);
  return { time, input, output };
}

/** Whether a payload is one CSV row without quoting (the case rows can be read straight from the text). */
export function isPlainCsvRow(p: CapturePayload | undefined): boolean {
  return p !== undefined && p.encoding === 'CSV' && p.data !== undefined && p.data.indexOf('\n') < 0 && p.data.indexOf('"') < 0;
}

/** The record's inference time in ms since the epoch (NaN when absent or unreadable). */
export function recordTime(rec: CaptureRecord): number {
  const t = rec.eventMetadata?.inferenceTime;
  return t ? Date.parse(t) : NaN;
}
