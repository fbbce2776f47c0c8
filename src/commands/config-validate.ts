/**
 * `mlops config validate`: load and check the config (every problem of the file is reported by
 * loadConfig), and the environment variables that override its settings.
 */
import type { CommandRun } from '../cli/context.js';
import { checkEnvironment } from '../config/environment.js';

export const run: CommandRun<'config validate'> = async (ctx) => {
  const { filepath } = await ctx.loadConfig();
  checkEnvironment(ctx.env);
  ctx.io.success(`${filepath} is valid`);
  return { data: { ok: true, file: filepath } };
};
