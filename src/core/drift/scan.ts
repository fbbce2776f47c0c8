/**
 * One pass over capture lines into a live summary: parse, keep the records of the window, decode,
 * accumulate. Pure (the lines come from an adapter). Unreadable lines are counted, not fatal.
 */
import {
  CaptureLineError,
  decodeRecord,
  isPlainCsvRow,
  readLineFast,
  recordTime,
  type CaptureRecord,
  type DecodedRecord,
  type BadLineReason,
  type Row,
  type RowLayout,
} from '../capture.js';
import { MAX_CAPTURE_LINE_BYTES } from '../capture.js';
import { CaptureByteReader, cellText, parseCsvRow } from './capture-bytes.js';
import type { LiveSummary } from './evaluate.js';

export interface ScanOptions {
  /** Keep records with from <= inferenceTime < to (ms since the epoch); no window keeps all. */
  window?: { from: number; to: number };
  /** Checked between batches; the scan stops with the abort reason. */
  signal?: AbortSignal;
  /** Called about every `progressEvery` records. */
  onProgress?: (records: number) => void;
  progressEvery?: number;
}

export interface ScanStats {
  /** Lines read (non-empty). */
  lines: number;
  /** Records inside the window and decoded. */
  records: number;
  /** Records outside the window (or without a readable inferenceTime when a window is set). */
  outsideWindow: number;
  /** Lines that were not valid capture records (each counted under one reason in badReasons). */
  bad: number;
  /** The bad lines by reason ("extra columns": 3). */
  badReasons: Partial<Record<BadLineReason, number>>;
  /** The first few problems, with their source. */
  badExamples: string[];
  /** Records whose output row count differs from their input row count. */
  rowMismatch: number;
  sources: number;
}

/**
 * A batch of capture lines: decoded, or the bytes of whole lines (each ended by a newline, the
 * last one maybe not), which the scan reads without decoding them.
 */
export interface CaptureBatch {
  source: string;
  lines?: string[];
  bytes?: Uint8Array;
  /** Lines too long to keep, skipped (counted as bad). */
  tooLong?: number;
}

const utf8 = new TextDecoder();

/** Feeds every capture line of `batches` into `live`. */
export async function scanCapture(batches: AsyncIterable<CaptureBatch>, live: LiveSummary, opts: ScanOptions = {}): Promise<ScanStats> {
  const layout: RowLayout = {
    inputWidth: live.profile.inputColumns.length,
    outputWidth: live.profile.outputColumns.length,
    names: new Set(live.profile.features.map((f) => f.name)),
  };
  const stats = emptyScanStats();
  const bad = (reason: BadLineReason, source: string, message: string, n = 1) => {
    stats.bad += n;
    stats.badReasons[reason] = (stats.badReasons[reason] ?? 0) + n;
    if (stats.badExamples.length < 5) stats.badExamples.push(`${source}: ${message}`);
  };
  const from = opts.window?.from ?? -Infinity;
  const to = opts.window?.to ?? Infinity;
  const filter = opts.window !== undefined;
  const inWindow = windowTest(from, to);
  const inWindowBytes = windowTestBytes(from, to);
  const every = opts.progressEvery ?? 100_000;
  let nextProgress = every;
  let lastSource = '';

  /** One line, decoded: the string fast path, else JSON.parse. */
  const scanLine = (line: string, source: string) => {
    if (line.length === 0 || (line.length < 3 && line.trim() === '')) return;
    stats.lines++;
    let decoded: DecodedRecord;
    try {
      const fast = readLineFast(line);
      if (fast) {
        if (filter && !(fast.time !== undefined && inWindow(fast.time))) {
          stats.outsideWindow++;
          return;
        }
        if (isPlainCsvRow(fast.input) && (fast.output === undefined || isPlainCsvRow(fast.output))) {
          const problem =
            csvRowProblem(fast.input.data!, layout.inputWidth) ??
            (fast.output && layout.outputWidth > 0 ? csvRowProblem(fast.output.data!, layout.outputWidth) : undefined);
          if (problem) throw problem;
          live.addInputCsv(fast.input.data!);
          if (fast.output && layout.outputWidth > 0) live.addOutputCsv(fast.output.data!);
          stats.records++;
          return;
        }
        decoded = decodeRecord({ captureData: { endpointInput: fast.input, endpointOutput: fast.output } }, layout);
      } else {
        const rec = JSON.parse(line) as CaptureRecord;
        if (filter) {
          const t = recordTime(rec);
          if (!(t >= from && t < to)) {
            stats.outsideWindow++;
            return;
          }
        }
        decoded = decodeRecord(rec, layout);
      }
      const problem = recordProblem(decoded, layout);
      if (problem) throw problem;
    } catch (e) {
      const reason: BadLineReason = e instanceof CaptureLineError ? e.reason : e instanceof SyntaxError ? 'not JSON' : 'unreadable payload';
      bad(reason, source, e instanceof Error ? e.message : String(e));
      return;
    }
    stats.records++;
    const ins = decoded.inputs;
    const outs = decoded.outputs;
    for (let i = 0; i < ins.length; i++) live.addInput(ins[i]);
    if (layout.outputWidth > 0) for (let i = 0; i < outs.length; i++) live.addOutput(outs[i]);
    if (outs.length !== ins.length && outs.length > 0) stats.rowMismatch++;
  };

  // The byte fast path: one CSV row in, one CSV row out, read from the bytes; any other line is decoded for scanLine.
  const reader = new CaptureByteReader();
  const inCells = live.csvCells(false);
  const outCells = live.csvCells(true);
  const rowProblem = (code: number, width: number) =>
    code === -1 ? new CaptureLineError('number out of range', 'a number too large for a double (e.g. 1e999)') : columnsProblem(code, width);
  const scanBytes = (b: Uint8Array, source: string) => {
    const n = b.length;
    for (let s = 0, e: number; s < n; s = e + 1) {
      e = b.indexOf(10, s);
      if (e < 0) e = n;
      if (e - s < 3 || !reader.read(b, s, e, filter)) {
        scanLine(utf8.decode(b.subarray(s, e)), source);
        continue;
      }
      stats.lines++;
      if (filter && !inWindowBytes(b, reader.timeS, reader.timeE)) {
        stats.outsideWindow++;
        continue;
      }
      const withOutput = reader.outS >= 0 && layout.outputWidth > 0;
      const pIn = parseCsvRow(b, reader.inS, reader.inE, inCells);
      const pOut = pIn === 0 && withOutput ? parseCsvRow(b, reader.outS, reader.outE, outCells) : 0;
      if (pIn !== 0 || pOut !== 0) {
        const problem = pIn !== 0 ? rowProblem(pIn, layout.inputWidth) : rowProblem(pOut, layout.outputWidth);
        bad(problem.reason, source, problem.message);
        continue;
      }
      live.addCells(inCells, false);
      if (withOutput) live.addCells(outCells, true);
      stats.records++;
    }
  };

  for await (const batch of batches) {
    if (opts.signal?.aborted)
      throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error(`aborted: ${String(opts.signal.reason)}`);
    if (batch.source !== lastSource) {
      stats.sources++;
      lastSource = batch.source;
    }
    if (batch.tooLong) {
      stats.lines += batch.tooLong;
      bad(
        'line too long',
        batch.source,
        `a line longer than ${MAX_CAPTURE_LINE_BYTES} bytes (more than a SageMaker capture record can hold) was skipped`,
        batch.tooLong,
      );
    }
    if (batch.bytes) scanBytes(batch.bytes, batch.source);
    if (batch.lines) for (const line of batch.lines) scanLine(line, batch.source);
    if (opts.onProgress && stats.records >= nextProgress) {
      opts.onProgress(stats.records);
      nextProgress = stats.records + every;
    }
  }
  return stats;
}

/** Sums the statistics of scans made in parallel. */
export function mergeScanStats(a: ScanStats, b: ScanStats): ScanStats {
  return {
    lines: a.lines + b.lines,
    records: a.records + b.records,
    outsideWindow: a.outsideWindow + b.outsideWindow,
    bad: a.bad + b.bad,
    badReasons: mergeCounts(a.badReasons, b.badReasons),
    badExamples: [...a.badExamples, ...b.badExamples].slice(0, 5),
    rowMismatch: a.rowMismatch + b.rowMismatch,
    sources: a.sources + b.sources,
  };
}

/** Empty statistics (the start of a merge). */
export function emptyScanStats(): ScanStats {
  return { lines: 0, records: 0, outsideWindow: 0, bad: 0, badReasons: {}, badExamples: [], rowMismatch: 0, sources: 0 };
}

function mergeCounts<K extends string>(a: Partial<Record<K, number>>, b: Partial<Record<K, number>>): Partial<Record<K, number>> {
  const out = { ...a };
  for (const [k, n] of Object.entries(b) as Array<[K, number]>) out[k] = (out[k] ?? 0) + n;
  return out;
}

// A number too large for a double ("1e999") would enter the statistics as Infinity, or hide as missing.
const BIG_EXPONENT = /\d[eE]\+?\d{3,}/;
const overflows = (v: unknown) =>
  typeof v === 'number'
    ? !Number.isFinite(v) && !Number.isNaN(v)
    : typeof v === 'string' && BIG_EXPONENT.test(v) && !Number.isFinite(Number(v)) && !Number.isNaN(Number(v));

/** Why one plain CSV row (no quotes) cannot be used: a cell count other than the profile's, or an overflowing number. */
function csvRowProblem(text: string, width: number): CaptureLineError | undefined {
  let cells = 1;
  for (let i = text.indexOf(','); i >= 0; i = text.indexOf(',', i + 1)) cells++;
  if (cells !== width) return columnsProblem(cells, width);
  if (BIG_EXPONENT.test(text) && text.split(',').some(overflows))
    return new CaptureLineError('number out of range', 'a number too large for a double (e.g. 1e999)');
  return undefined;
}

function columnsProblem(cells: number, width: number): CaptureLineError {
  return cells < width
    ? new CaptureLineError('missing columns', `a row has ${cells} columns, the baseline profile ${width}`)
    : new CaptureLineError('extra columns', `a row has ${cells} columns, the baseline profile ${width}`);
}

/** Why a decoded record cannot be used: positional rows of the wrong width, more outputs than inputs, or an overflowing number. */
function recordProblem(d: DecodedRecord, layout: RowLayout): CaptureLineError | undefined {
  if (d.inputs.length > 0 && layout.outputWidth > 0 && d.outputs.length > d.inputs.length) {
    return new CaptureLineError(
      'more output rows than input rows',
      `${d.outputs.length} output rows for ${d.inputs.length} input rows (extra output columns?)`,
    );
  }
  const check = (rows: Row[], width: number) => {
    for (const row of rows) {
      const values = Array.isArray(row) ? row : Object.values(row);
      if (Array.isArray(row) && row.length !== width) return columnsProblem(row.length, width);
      if (values.some(overflows)) return new CaptureLineError('number out of range', 'a number too large for a double (e.g. 1e999)');
    }
    return undefined;
  };
  return check(d.inputs, layout.inputWidth) ?? (layout.outputWidth > 0 ? check(d.outputs, layout.outputWidth) : undefined);
}

/**
 * A test of whether an inference time (ISO 8601 string) falls in [from, to). Canonical UTC strings
 * (YYYY-MM-DDTHH:MM:SS[.fff]Z, SageMaker's form) are compared as text up to the second, which
 * orders them like time; only strings in the boundary seconds, or in another form, are parsed.
 */
export function windowTest(from: number, to: number): (t: string) => boolean {
  const iso19 = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 19) : undefined);
  const f19 = iso19(from);
  const t19 = iso19(to);
  const parsed = (t: string) => {
    const x = Date.parse(t);
    return x >= from && x < to;
  };
  return (t) => {
    const n = t.length;
    const canonical =
      n >= 20 &&
      t.charCodeAt(n - 1) === 90 /* Z */ &&
      t.charCodeAt(10) === 84 /* T */ &&
      t.charCodeAt(4) === 45 &&
      (n === 20 || t.charCodeAt(19) === 46);
    if (!canonical) return parsed(t);
    if (f19 !== undefined) {
      if (t < f19) return false;
      if (t.startsWith(f19)) return parsed(t);
    }
    if (t19 !== undefined) {
      if (t.startsWith(t19)) return parsed(t);
      if (t > t19) return false;
    }
    return true;
  };
}

/** windowTest on the bytes b[s, e) of an inference time, decoding them only in the boundary seconds or another form. */
export function windowTestBytes(from: number, to: number): (b: Uint8Array, s: number, e: number) => boolean {
  const test = windowTest(from, to);
  const iso19 = (ms: number) =>
    Number.isFinite(ms) ? Uint8Array.from(new Date(ms).toISOString().slice(0, 19), (c) => c.charCodeAt(0)) : undefined;
  const f19 = iso19(from);
  const t19 = iso19(to);
  const cmp = (b: Uint8Array, s: number, p: Uint8Array) => {
    for (let i = 0; i < 19; i++) if (b[s + i] !== p[i]) return b[s + i] - p[i];
    return 0;
  };
  return (b, s, e) => {
    const n = e - s;
    const canonical = n >= 20 && b[e - 1] === 90 && b[s + 10] === 84 && b[s + 4] === 45 && (n === 20 || b[s + 19] === 46);
    if (!canonical) return test(cellText(b, s, e));
    if (f19) {
      const c = cmp(b, s, f19);
      if (c < 0) return false;
      if (c === 0) return test(cellText(b, s, e));
    }
    if (t19) {
      const c = cmp(b, s, t19);
      if (c === 0) return test(cellText(b, s, e));
      if (c > 0) return false;
    }
    return true;
  };
}
