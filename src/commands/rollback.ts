/**
 * `mlops rollback`: puts the previous model back on the endpoint now, whatever the deployment's
 * stage (drops a shadow, stops a cutover in flight, or restores the remembered config / shifts
 * the weights back to the warm previous variant), restores the production alias and writes the
 * audit record. Exit 0 when rolled back (or nothing to do), 3 when AWS or MLflow failed, 4 when
 * the lock is held. `mlops monitor` rolls back through the same rollbackEndpoint (src/app/deploy.ts).
 */
import type { CommandRun } from '../cli/context.js';
import { rollbackEndpoint } from '../app/deploy.js';

export const run: CommandRun<'rollback'> = async (ctx, _args, opts) => {
  const reason = typeof opts.reason === 'string' ? opts.reason : 'manual rollback';
  const r = await rollbackEndpoint(ctx, { reason, dryRun: Boolean(opts.dryRun) }, opts);
  const text = [...r.steps.map((s) => `  ${s}`), r.detail].join('\n');
  return { data: r, text };
};
