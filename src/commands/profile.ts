/**
 * `mlops profile <file>`: the drift baseline of a dataset (CSV with a header, JSON Lines, or a
 * SageMaker Model Monitor statistics.json) as a profile JSON, on stdout or to --out.
 */
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { numberFlag } from '../core/number-flag.js';
import type { CommandRun } from '../cli/context.js';
import { profileFile } from '../adapters/profile-file.js';
import { writeReportFile } from '../adapters/report-file.js';

const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v])
    .flatMap((x) => String(x).split(','))
    .map((s) => s.trim())
    .filter(Boolean);

export const run: CommandRun<'profile'> = async (ctx, args, opts) => {
  const file = path.resolve(ctx.cwd, args[0]);
  const k = numberFlag('--k', opts.k, { whole: true, min: 8, example: '200' });
  const profile = await profileFile(file, {
    outputs: list(opts.prediction),
    labels: list(opts.label),
    categorical: list(opts.categorical),
    ignore: list(opts.ignore),
    k,
    signal: ctx.signal,
  });
  // A baseline of no rows would make every later drift verdict meaningless.
  if (profile.rows === 0) {
    throw new UserError('PROFILE_NO_ROWS', `${file} has no data rows: there is nothing to profile.`, {
      hint: 'Pass the holdout data: a CSV with a header and rows, or JSON Lines.',
    });
  }
  const numeric = profile.features.filter((f) => f.kind === 'numeric').length;
  const summary = `${profile.rows} rows, ${profile.features.length} features (${numeric} numeric, ${profile.features.length - numeric} categorical; inputs: ${profile.inputColumns.length}, outputs: ${profile.outputColumns.join(', ') || 'none'})`;
  if (opts.out) {
    const out = path.resolve(ctx.cwd, opts.out);
    const notWritten = await writeReportFile(out, JSON.stringify(profile, null, 1) + '\n', { what: 'profile' });
    if (notWritten) throw notWritten;
    ctx.io.success(`Profile of ${path.basename(file)} written to ${out}: ${summary}`);
    return {
      data: {
        ok: true,
        out,
        rows: profile.rows,
        features: profile.features.length,
        inputColumns: profile.inputColumns,
        outputColumns: profile.outputColumns,
      },
      text: '',
    };
  }
  ctx.io.info(`Profile of ${path.basename(file)}: ${summary}`);
  return { data: profile, text: JSON.stringify(profile, null, 1) };
};
