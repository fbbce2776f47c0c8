/** `mlops config show`: the effective config, with defaults, interpolation and the environment applied, secrets redacted. */
import type { CommandRun } from '../cli/context.js';
import { fastYamlText } from '../config/fast-yaml.js';
import { redactObject } from '../core/redact.js';

export const run: CommandRun<'config show'> = async (ctx) => {
  const { config, filepath, sources } = await ctx.loadConfig();
  const safe = redactObject(config);
  ctx.io.info(ctx.io.style('dim', `# resolved from ${filepath}`));
  const fromEnv = Object.entries(sources).flatMap(([at, source]) => (source.startsWith('env:') ? [`${at} ($${source.slice(4)})`] : []));
  if (fromEnv.length) ctx.io.info(ctx.io.style('dim', `# from the environment, over the file: ${fromEnv.join(', ')}`));
  // yaml's own writer only for what the small one does not write (it costs start-up time to load).
  const text = fastYamlText(safe) ?? (await import('yaml')).stringify(safe);
  return { data: { file: filepath, config: safe, sources }, text };
};
