/**
 * Which module runs each command, imported only when that command runs (so `mlops --help` loads
 * none). The mapped type makes the compiler check every module's `run` against the options its
 * flags in the command table produce.
 */
import type { CommandPath } from './commands.js';
import type { CommandContext, CommandResult, CommandRun } from './context.js';

export type Loaders = { [P in CommandPath]: () => Promise<{ run: CommandRun<P> }> };

export const LOADERS: Loaders = {
  init: () => import('../commands/init.js'),
  pull: () => import('../commands/pull.js'),
  train: () => import('../commands/train.js'),
  doctor: () => import('../commands/doctor.js'),
  bootstrap: () => import('../commands/bootstrap.js'),
  profile: () => import('../commands/profile.js'),
  monitor: () => import('../commands/monitor.js'),
  compare: () => import('../commands/compare.js'),
  promote: () => import('../commands/promote.js'),
  rollback: () => import('../commands/rollback.js'),
  status: () => import('../commands/status.js'),
  gc: () => import('../commands/gc.js'),
  unlock: () => import('../commands/unlock.js'),
  traffic: () => import('../commands/traffic.js'),
  'audit verify': () => import('../commands/audit-verify.js'),
  'sandbox up': () => import('../commands/sandbox.js').then((m) => ({ run: m.up })),
  'sandbox down': () => import('../commands/sandbox.js').then((m) => ({ run: m.down })),
  'sandbox env': () => import('../commands/sandbox.js').then((m) => ({ run: m.env })),
  'sandbox status': () => import('../commands/sandbox.js').then((m) => ({ run: m.status })),
  completion: () => import('../commands/completion.js'),
  'config validate': () => import('../commands/config-validate.js'),
  'config show': () => import('../commands/config-show.js'),
};

/** A command's run as the CLI layer calls it: with the options commander parsed. */
export type AnyRun = (ctx: CommandContext, args: string[], opts: Record<string, unknown>) => Promise<CommandResult>;

/** Loads the module of a command by its words ('audit verify'). */
export async function loadCommand(path: string): Promise<{ run: AnyRun }> {
  const load = (LOADERS as Record<string, (() => Promise<{ run: unknown }>) | undefined>)[path];
  if (!load) throw new Error(`no module for command "${path}"`);
  // The loaders' type ties each run to its options, and commander's parse produces exactly those.
  return (await load()) as { run: AnyRun };
}
