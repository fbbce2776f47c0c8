/**
 * Worker-thread entry of the parallel capture scan (see scanCapture in capture-source.ts): scans
 * its share of the capture files or objects into a live summary and posts the summary's snapshot.
 * Module-scope code is the point of a worker entry; nothing imports this file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LiveSummary } from '../core/drift/evaluate.js';
import { scanCapture } from '../core/drift/scan.js';
import { localCaptureLines, s3CaptureLines, type ScanJob } from './capture-source.js';
import { MlopsError } from '../core/errors.js';

const job = workerData as ScanJob;
try {
  const live = new LiveSummary(job.profile, job.grids);
  let batches;
  if (job.source.kind === 'local') batches = localCaptureLines(job.source.files);
  else {
    const { s3Client } = await import('./aws.js');
    batches = s3CaptureLines(await s3Client(job.source.settings), job.source.objects);
  }
  const stats = await scanCapture(batches, live, { window: job.window });
  parentPort!.postMessage({ ok: true, state: live.toState(), stats });
} catch (e) {
  const err = e as Error;
  parentPort!.postMessage({
    ok: false,
    error: {
      message: err?.message ?? String(e),
      code: e instanceof MlopsError ? e.code : undefined,
      source: e instanceof MlopsError ? e.source : undefined,
      hint: e instanceof MlopsError ? e.hint : undefined,
    },
  });
}
