/** `mlops config validate`: load and check the config; every problem is reported by loadConfig. */
import type { CommandRun } from '../cli/context.js';

export const run: CommandRun<'config validate'> = async (ctx) => {
  const { filepath } = await ctx.loadConfig();
  ctx.io.success(`${filepath} is valid`);
  return { data: { ok: true, file: filepath } };
};
