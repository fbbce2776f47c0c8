/** `mlops config show`: the resolved config, with defaults, interpolation applied and secrets redacted. */
import { stringify } from 'yaml';
import type { CommandRun } from '../cli/context.js';
import { redactObject } from '../core/redact.js';

export const run: CommandRun<'config show'> = async (ctx) => {
  const { config, filepath } = await ctx.loadConfig();
  const safe = redactObject(config);
  ctx.io.info(ctx.io.style('dim', `# resolved from ${filepath}`));
  return { data: { file: filepath, config: safe }, text: stringify(safe) };
};
