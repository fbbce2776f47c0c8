/** What every command receives: the output object, where it runs, and how to get its config. */
import type { Io } from './io.js';
import type { LoadedConfig } from '../config/load.js';
import type { CommandPath, OptionsOf } from './commands.js';

export interface GlobalOptions {
  config?: string;
  json: boolean;
  /** --quiet: only errors and the result. */
  quiet?: boolean;
  color: boolean;
  verbose: boolean;
  cwd?: string;
}

export interface CommandContext {
  io: Io;
  /** The directory the command works in (--cwd, else the process's). */
  cwd: string;
  env: Record<string, string | undefined>;
  globals: GlobalOptions;
  /** Aborted on SIGINT/SIGTERM; long work checks it and child processes are told. */
  signal: AbortSignal;
  /**
   * Aborted on a second SIGINT/SIGTERM, when the command listens on it: it should then stop at once
   * but still record how it ended (a third signal exits regardless). Unlistened, the second signal exits.
   */
  hurry?: AbortSignal;
  /** Finds, parses, interpolates and validates the config (cached). Throws UserError (exit 2). */
  loadConfig(): Promise<LoadedConfig>;
}

/** What a command returns; the CLI layer prints it as text or JSON. */
export interface CommandResult {
  /** The machine-readable result (--json prints exactly this). */
  data: unknown;
  /** Human rendering for stdout. */
  text?: string;
  /** Non-zero when a check said no (1) while still producing a result. Default 0. */
  exitCode?: number;
}

/** A command: its context, positional arguments, and the options its flags in the table produce. */
export type CommandRun<P extends CommandPath> = (ctx: CommandContext, args: string[], opts: OptionsOf<P>) => Promise<CommandResult>;
