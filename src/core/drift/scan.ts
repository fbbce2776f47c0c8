/**
 * One pass over capture lines into a live summary: parse, keep the records of the window, decode,
 * accumulate. Pure (the lines come from an adapter). Unreadable lines are counted, not fatal.
 */
import {
  decodeRecord,
  isPlainCsvRow,
  readLineFast,
  recordTime,
  type CaptureRecord,
  type DecodedRecord,
  type RowLayout,
} from '../capture.js';
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
  /** Lines that were not valid capture records. */
  bad: number;
  /** The first few problems, with their source. */
  badExamples: string[];
  /** Records whose output row count differs from their input row count. */
  rowMismatch: number;
  sources: number;
}

/** Feeds every capture line of `batches` into `live`. */
export async function scanCapture(
  batches: AsyncIterable<{ source: string; lines: string[] }>,
  live: LiveSummary,
  opts: ScanOptions = {},
): Promise<ScanStats> {
  const layout: RowLayout = {
    inputWidth: live.profile.inputColumns.length,
    outputWidth: live.profile.outputColumns.length,
    names: new Set(live.profile.features.map((f) => f.name)),
  };
  const stats: ScanStats = { lines: 0, records: 0, outsideWindow: 0, bad: 0, badExamples: [], rowMismatch: 0, sources: 0 };
  const from = opts.window?.from ?? -Infinity;
  const to = opts.window?.to ?? Infinity;
  const filter = opts.window !== undefined;
  const inWindow = windowTest(from, to);
  const every = opts.progressEvery ?? 100_000;
  let nextProgress = every;
  let lastSource = '';
  for await (const batch of batches) {
    if (opts.signal?.aborted)
      throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error(`aborted: ${String(opts.signal.reason)}`);
    if (batch.source !== lastSource) {
      stats.sources++;
      lastSource = batch.source;
    }
    for (const line of batch.lines) {
      if (line.length === 0 || (line.length < 3 && line.trim() === '')) continue;
      stats.lines++;
      let decoded: DecodedRecord;
      try {
        const fast = readLineFast(line);
        if (fast) {
          if (filter && !(fast.time !== undefined && inWindow(fast.time))) {
            stats.outsideWindow++;
            continue;
          }
          if (isPlainCsvRow(fast.input) && (fast.output === undefined || isPlainCsvRow(fast.output))) {
            // The hot path: one CSV row in, one CSV row out, read straight from the text.
            live.addInputCsv(fast.input.data!);
            if (fast.output && layout.outputWidth > 0) live.addOutputCsv(fast.output.data!);
            stats.records++;
            continue;
          }
          decoded = decodeRecord({ captureData: { endpointInput: fast.input, endpointOutput: fast.output } }, layout);
        } else {
          const rec = JSON.parse(line) as CaptureRecord;
          if (filter) {
            const t = recordTime(rec);
            if (!(t >= from && t < to)) {
              stats.outsideWindow++;
              continue;
            }
          }
          decoded = decodeRecord(rec, layout);
        }
      } catch (e) {
        stats.bad++;
        if (stats.badExamples.length < 5) stats.badExamples.push(`${batch.source}: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      stats.records++;
      const ins = decoded.inputs;
      const outs = decoded.outputs;
      for (let i = 0; i < ins.length; i++) live.addInput(ins[i]);
      if (layout.outputWidth > 0) for (let i = 0; i < outs.length; i++) live.addOutput(outs[i]);
      if (outs.length !== ins.length && outs.length > 0) stats.rowMismatch++;
    }
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
    badExamples: [...a.badExamples, ...b.badExamples].slice(0, 5),
    rowMismatch: a.rowMismatch + b.rowMismatch,
    sources: a.sources + b.sources,
  };
}

/** Empty statistics (the start of a merge). */
export function emptyScanStats(): ScanStats {
  return { lines: 0, records: 0, outsideWindow: 0, bad: 0, badExamples: [], rowMismatch: 0, sources: 0 };
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
