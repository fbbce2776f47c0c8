/**
 * Profiles of data files, the drift baseline: read a CSV (with a header), JSON Lines file or
 * SageMaker Model Monitor statistics.json, and write a profile JSON. Used by `mlops profile`, by
 * train (it profiles train.holdout after a run and logs the result as PROFILE_ARTIFACT_PATH) and
 * by monitor (which reads that artifact).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { splitLines } from './capture-source.js';
import { parseCsv } from '../core/capture.js';
import { isModelMonitorStatistics, profileFromModelMonitor } from '../core/drift/model-monitor.js';
import { ProfileBuilder, type Profile, type ProfileOptions } from '../core/drift/profile.js';

export type ProfileFormat = 'csv' | 'jsonl' | 'model-monitor';

async function sniff(file: string): Promise<ProfileFormat> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead).toString('utf8').trimStart();
    if (ext === '.json' || head.startsWith('{')) {
      // statistics.json is one (usually pretty-printed) document; JSON Lines has one object per line.
      const firstLine = head.split('\n')[0].trim();
      return firstLine.startsWith('{') && firstLine.endsWith('}') && ext !== '.json' ? 'jsonl' : 'model-monitor';
    }
    return 'csv';
  } finally {
    await fh.close();
  }
}

/** Profiles a CSV (with header), JSON Lines file or Model Monitor statistics.json. Throws UserError on bad input. */
export async function profileFile(
  file: string,
  opts: ProfileOptions & { format?: ProfileFormat; signal?: AbortSignal } = {},
): Promise<Profile> {
  let format: ProfileFormat;
  try {
    format = opts.format ?? (await sniff(file));
  } catch (e) {
    throw new UserError('PROFILE_INPUT_NOT_FOUND', `Cannot read ${file}: ${(e as Error).message}`, {
      hint: 'Pass a CSV (with a header row) or JSON Lines file.',
    });
  }
  const source = { file: path.basename(file), format, ...(opts.source ?? {}) };
  if (format === 'model-monitor') {
    const { readFile } = await import('node:fs/promises');
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new UserError('PROFILE_BAD_INPUT', `${file} is not valid JSON: ${(e as Error).message}`, {
        hint: 'Pass a CSV, a JSON Lines file, or a Model Monitor statistics.json.',
      });
    }
    if (!isModelMonitorStatistics(doc)) {
      throw new UserError('PROFILE_BAD_INPUT', `${file} is JSON but not a Model Monitor statistics.json.`, {
        hint: 'JSON Lines input needs one object per line (use the .jsonl extension); a baseline from Model Monitor needs "dataset" and "features".',
      });
    }
    return profileFromModelMonitor(doc, { outputs: [...(opts.outputs ?? []), ...(opts.labels ?? [])], source });
  }
  const builder = new ProfileBuilder({ ...opts, source, createdAt: opts.createdAt ?? new Date().toISOString() });
  let header: string[] | undefined;
  let lineNo = 0;
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const batch of splitLines(stream as AsyncIterable<Uint8Array>, file, opts.signal)) {
      for (let line of batch.lines) {
        lineNo++;
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line.trim() === '') continue;
        if (format === 'csv') {
          const cells = parseCsv(line)[0] ?? [];
          if (!header) {
            header = cells.map((c) => c.trim());
            builder.setColumns(header);
            continue;
          }
          builder.addRow(cells);
        } else {
          let v: unknown;
          try {
            v = JSON.parse(line);
          } catch (e) {
            throw new UserError('PROFILE_BAD_INPUT', `${file}:${lineNo}: not a JSON object: ${(e as Error).message}`, {
              hint: 'JSON Lines input needs one JSON object per line.',
            });
          }
          if (typeof v !== 'object' || v === null || Array.isArray(v)) {
            throw new UserError('PROFILE_BAD_INPUT', `${file}:${lineNo}: expected a JSON object (one record per line).`);
          }
          builder.addRow(v as Record<string, unknown>);
        }
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError('PROFILE_INPUT_NOT_FOUND', `${file} does not exist.`, {
        hint: 'Pass the holdout data file (CSV with header, or JSON Lines).',
      });
    }
    throw e;
  } finally {
    stream.destroy();
  }
  try {
    return builder.finish();
  } catch (e) {
    throw new UserError('PROFILE_BAD_COLUMN', (e as Error).message, { hint: "Check --label/--prediction against the file's header." });
  }
}
