/**
 * `mlops rollback`: puts the previous model back on the endpoint now, whatever the deployment's
 * stage (drops a shadow, stops a cutover in flight, or restores the remembered config / shifts
 * the weights back to the warm previous variant), restores the production alias and writes the
 * audit record. Exit 0 when rolled back (or nothing to do), 3 when AWS or MLflow failed, 4 when
 * the lock is held. `mlops monitor` rolls back through the same rollbackEndpoint (src/app/deploy.ts).
 */
import type { CommandRun } from '../cli/context.js';
import { progressReporter } from '../adapters/progress.js';
import { deployAwsSettings, rollbackEndpoint } from '../app/deploy.js';
import { consoleLinks, linkLines } from '../core/console-links.js';

export const run: CommandRun<'rollback'> = async (ctx, _args, opts) => {
  const reason = typeof opts.reason === 'string' ? opts.reason : 'manual rollback';
  const { config } = await ctx.loadConfig();
  // Without a deploy section rollbackEndpoint says what is missing.
  const links = config.deploy && consoleLinks(deployAwsSettings(config, config.deploy, ctx.env).region, config.deploy.endpointName);
  if (links && !ctx.globals.json) linkLines(links).forEach((l) => ctx.io.info(l));
  const progress = await progressReporter(ctx.io);
  try {
    const r = await rollbackEndpoint(ctx, { reason, dryRun: Boolean(opts.dryRun), progress }, opts);
    const text = [...r.steps.map((s) => `  ${s}`), r.detail].join('\n');
    return { data: { ...r, ...(links && { links }) }, text };
  } finally {
    progress.end();
  }
};
