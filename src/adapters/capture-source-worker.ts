/**
 * Worker-thread entry of the parallel capture scan (see scanCapture in capture-source.ts): waits
 * for its job, then takes files, ranges or objects from the job's shared queue and scans them into
 * one live summary, and posts the summary's snapshot.
 * Module-scope code is the point of a worker entry; nothing imports this file.
 */
import { parentPort } from 'node:worker_threads';
import { LiveSummary } from '../core/drift/evaluate.js';
import { scanCapture, type CaptureBatch } from '../core/drift/scan.js';
import { localCaptureLines, s3CaptureLines, type ScanJob } from './capture-source.js';
import { MlopsError } from '../core/errors.js';

/** The batches of every queue entry this worker takes. */
async function* taken(job: ScanJob): AsyncGenerator<CaptureBatch> {
  const next = new Int32Array(job.next);
  const source = job.source;
  const refs = source.kind === 'local' ? source.files : source.objects;
  let client;
  for (let i = Atomics.add(next, 0, 1); i < refs.length; i = Atomics.add(next, 0, 1)) {
    if (source.kind === 'local') yield* localCaptureLines([refs[i]]);
    else {
      client ??= await (await import('./aws.js')).s3Client(source.settings);
      yield* s3CaptureLines(client, [refs[i]]);
    }
  }
}

parentPort!.once('message', (job: ScanJob) => {
  void (async () => {
    try {
      const live = new LiveSummary(job.profile, job.grids);
      const stats = await scanCapture(taken(job), live, { window: job.window });
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
  })();
});
