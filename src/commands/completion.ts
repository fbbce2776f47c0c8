/** `mlops completion bash|zsh|fish`: prints the shell completion script made from the command table. */
import type { CommandRun } from '../cli/context.js';
import { completionScript, SHELLS, type Shell } from '../cli/completion.js';
import { UserError } from '../core/errors.js';

export const run: CommandRun<'completion'> = async (_ctx, args) => {
  const shell = args[0] as Shell;
  if (!SHELLS.includes(shell)) throw new UserError('BAD_OPTION', `The shell must be bash, zsh or fish, not "${String(args[0])}".`);
  const script = completionScript(shell);
  return { data: { shell, script }, text: script };
};
