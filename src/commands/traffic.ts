/**
 * `mlops traffic`: replays the rows of a data file (default: the holdout) to the endpoint at a
 * rate, for a duration or a count, optionally shifted, each request with an inference id, so a
 * bake has live requests to judge (shadow and production matched by id) and a drift can be
 * rehearsed. Works against any endpoint mlops can reach: the sandbox's emulator or AWS.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CommandRun } from '../cli/context.js';
import { resolveConfigPath } from '../config/load.js';
import { awsSettings, sageMakerClient, sageMakerRuntimeClient } from '../adapters/aws.js';
import { sageMakerPort } from '../adapters/sagemaker.js';
import { readFeatureRows, rowRequests, startTraffic } from '../adapters/traffic.js';
import { durationFlagMs, formatDuration } from '../core/duration.js';
import { CheckFailedError, UserError } from '../core/errors.js';
import { numberFlag } from '../core/number-flag.js';
import { parseShift, percentile, unknownShiftFeatures } from '../core/traffic-shift.js';

export const run: CommandRun<'traffic'> = async (ctx, _args, opts) => {
  const rate = numberFlag('--rate', opts.rate, { example: '20', note: 'requests per second' });
  const count = numberFlag('--count', opts.count, { whole: true, example: '500' });
  const limitMs =
    opts.duration !== undefined ? durationFlagMs('--duration', opts.duration, '90s') : count === undefined ? 60_000 : undefined;
  const { config, root } = await ctx.loadConfig();
  const endpoint = opts.endpoint ?? config.deploy?.endpointName;
  if (!endpoint) {
    throw new UserError('NO_ENDPOINT', 'No endpoint to send to.', { hint: 'Pass --endpoint NAME or set deploy.endpointName.' });
  }
  let shifts;
  try {
    shifts = (opts.shift ?? []).map(parseShift);
  } catch (err) {
    throw new UserError('BAD_SHIFT', (err as Error).message);
  }

  // A flag's path is the working directory's, a config path the config folder's (as everywhere).
  const file = opts.file ? path.resolve(ctx.cwd, opts.file) : resolveConfigPath({ root }, config.train.holdout);
  if (!existsSync(file)) {
    throw new UserError('NO_DATA_FILE', `${file} does not exist.`, {
      hint: opts.file ? 'Check --file.' : 'It is train.holdout, which `mlops train` writes: train first, or pass --file.',
    });
  }
  if (statSync(file).isDirectory()) {
    throw new UserError('NO_DATA_FILE', `${file} is a folder, not a data file.`, {
      hint: 'Pass a CSV (with a header) or JSON Lines file.',
    });
  }
  const data = readFeatureRows(file);
  if (data.rows.length === 0) throw new UserError('NO_DATA_ROWS', `${file} has no rows to send.`);
  const unknown = unknownShiftFeatures(data.header, shifts);
  if (unknown.length) {
    throw new UserError('BAD_SHIFT', `--shift names feature(s) not in ${file}: ${unknown.join(', ')}.`, {
      hint: `Its features: ${data.header.join(', ')}.`,
    });
  }

  const settings = awsSettings(config, ctx.env);
  const [sagemaker, runtime] = await Promise.all([sageMakerClient(settings), sageMakerRuntimeClient(settings)]);
  try {
    const ep = await (await sageMakerPort(sagemaker)).describeEndpoint(endpoint);
    if (!ep) {
      throw new UserError('ENDPOINT_NOT_FOUND', `The endpoint ${endpoint} does not exist.`, {
        hint: 'The first `mlops promote` creates it; or pass --endpoint NAME.',
      });
    }
    const idPrefix = opts.idPrefix ?? `traffic-${Date.now()}-`;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const timer = limitMs !== undefined ? setTimeout(() => stop.abort(), limitMs) : undefined;
    ctx.io.info(
      `sending rows of ${file} to ${endpoint} at ${rate}/s ` +
        `${count !== undefined ? `until ${count} answered` : ''}${count !== undefined && limitMs !== undefined ? ' or ' : ''}` +
        `${limitMs !== undefined ? `for ${formatDuration(limitMs)}` : ''}` +
        `${shifts.length ? `, shifted: ${(opts.shift ?? []).join(' ')}` : ''} (inference ids ${idPrefix}N)`,
    );
    const t0 = Date.now();
    const traffic = startTraffic({
      runtime,
      sagemaker,
      endpoint,
      request: rowRequests(data, { shifts, inferenceIdPrefix: idPrefix }),
      ratePerSecond: rate,
      count,
      signal: stop.signal,
    });
    try {
      await traffic.done;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
    const lat = traffic.latencies();
    const result = {
      endpoint,
      file,
      sent: traffic.sent() + traffic.failed(),
      ok: traffic.sent(),
      errors: traffic.failed(),
      latencyMs: { p50: percentile(lat, 50), p99: percentile(lat, 99) },
      seconds: Math.round((Date.now() - t0) / 100) / 10,
      inferenceIdPrefix: idPrefix,
      shifts,
    };
    if (result.ok === 0 && result.sent > 0) {
      throw new CheckFailedError('TRAFFIC_FAILED', `None of the ${result.sent} request(s) to ${endpoint} was answered.`, {
        hint: '`mlops status` shows the endpoint; --verbose adds the causes.',
        details: result,
      });
    }
    return {
      data: result,
      text:
        `${result.sent} request(s) to ${endpoint} in ${result.seconds} s: ${result.ok} answered, ${result.errors} failed` +
        (lat.length ? `; latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms` : ''),
    };
  } finally {
    sagemaker.destroy();
    runtime.destroy();
  }
};
