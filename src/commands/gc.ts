/**
 * `mlops gc`: deletes the SageMaker models, endpoint configs, alarms and model archives of
 * deployments older than the newest deploy.retain finished ones (src/app/gc.ts). --dry-run lists
 * them. Exit 3 when a deletion failed (the others were still attempted).
 */
import type { CommandRun } from '../cli/context.js';
import { numberFlag } from '../core/number-flag.js';
import { collectGarbage, type GcResult } from '../app/gc.js';
import { lockFor, wire } from '../app/deploy.js';

export const run: CommandRun<'gc'> = async (ctx, _args, opts) => {
  const retain = numberFlag('--retain', opts.retain, { whole: true, min: 1, example: '3', note: 'the current deployment counts as one' });
  const w = await wire(ctx);
  // Deleting takes the endpoint's lock like promote and rollback (exit 4 while one runs); a dry run does not.
  const lock = opts.dryRun ? undefined : await lockFor(w, 'gc');
  let r: GcResult;
  try {
    r = await collectGarbage(w, { retain: retain ?? w.deploy.retain, dryRun: opts.dryRun, log: (m) => ctx.io.info(m) });
  } finally {
    await lock?.release();
  }
  const lines: string[] = [];
  if (r.skipped) lines.push(`nothing deleted: ${r.skipped}`);
  const deployments = (xs: { deployment: string }[]) => new Set(xs.map((x) => x.deployment)).size;
  if (r.dryRun) {
    lines.push(
      r.pending.length
        ? `(dry run) would delete ${r.pending.length} resources of ${deployments(r.pending)} old deployments:`
        : '(dry run) nothing to delete',
    );
    for (const x of r.pending) lines.push(`  ${x.kind.padEnd(15)} ${x.name}  (deployment ${x.deployment})`);
  } else if (!r.skipped) {
    lines.push(
      r.deleted.length ? `deleted ${r.deleted.length} resources of ${deployments(r.deleted)} old deployments` : 'nothing to delete',
    );
    for (const x of r.pending) lines.push(`  FAILED ${x.kind} ${x.name}: ${x.error}`);
  }
  lines.push(`kept ${r.kept.length} deployments (retain ${r.retain})`);
  if (r.protectedInUse.length)
    lines.push(`kept ${r.protectedInUse.length} resources of old deployments still in use (the live model or the rollback target)`);
  for (const u of r.unreadable) lines.push(`left alone (record not readable): ${u}`);
  const failed = !r.dryRun && r.pending.length > 0;
  return { data: r, text: lines.join('\n'), exitCode: failed ? 3 : 0 };
};
