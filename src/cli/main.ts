/**
 * argv -> command table -> command -> printed result and exit code.
 * `main` never calls process.exit; the bin sets process.exitCode from its return value.
 */
import { getEventListeners, setMaxListeners } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import type { Command, OutputConfiguration } from 'commander';
import { COMMANDS, type CommandDef } from './commands.js';
import { loadCommand, type AnyRun } from './loaders.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { ExitCode, MlopsError, UserError, exitCodeFor, isExpected } from '../core/errors.js';
import { printableLines } from '../core/escape.js';
import type { Io, Stream } from './io.js';
import {
  AFTER_HELP,
  GLOBAL_OPTIONS,
  PROGRAM_DESCRIPTION,
  isRootHelp,
  isVersion,
  renderRootHelp,
  unknownCommandWithHelp,
} from './root-help.js';

export interface MainDeps {
  stdout?: Stream;
  stderr?: Stream;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Aborts the running command (tests use it to simulate Ctrl-C). */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers on this process (the bin does; tests need not). */
  handleSignals?: boolean;
  /** The command table and how to load each command by its words (tests add commands of their own). */
  commands?: readonly CommandDef[];
  load?: (path: string) => Promise<{ run: AnyRun }>;
}

let version: string | undefined;

/** The package version (read on first use: no work at import time). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** The error code of an empty value for a flag whose wrong value has a code of its own; else BAD_OPTION. */
const EMPTY_VALUE_CODES: Record<string, string> = { cwd: 'BAD_CWD', config: 'CONFIG_NOT_FOUND' };

const tolerant = new WeakSet<object>();

/**
 * A reader that goes away (`mlops compare --help | head -2`) ends the output, not the command: the
 * write fails with EPIPE, later writes are dropped, and the command runs to its end (a deployment
 * is not abandoned because a log pipe closed) and returns its exit code. Any other stream error
 * still surfaces.
 */
function tolerateGoneReader(stream: Stream): void {
  const emitter = stream as Partial<NodeJS.EventEmitter>;
  if (typeof emitter.on !== 'function' || tolerant.has(stream)) return;
  tolerant.add(stream);
  emitter.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

/** Help goes to the injected streams, wrapped to their width, never styled by commander's own detection. */
function outputConfig(stdout: Stream, stderr: Stream): OutputConfiguration {
  return {
    writeOut: (s: string) => void stdout.write(s),
    // Commander's usage errors quote what was typed (`unknown command 'x'`): never raw escapes.
    writeErr: (s: string) => void stderr.write(printableLines(s)),
    getOutHelpWidth: () => (stdout.isTTY && stdout.columns ? stdout.columns : 80),
    getErrHelpWidth: () => (stderr.isTTY && stderr.columns ? stderr.columns : 80),
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  };
}

/** The global flags as they appear in argv, for errors raised before commander parsed them. */
function rawGlobals(argv: string[]): { json: boolean; verbose: boolean; quiet: boolean; color?: boolean } {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  return {
    json: flags.includes('--json'),
    verbose: flags.includes('--verbose') || flags.includes('-v'),
    quiet: flags.includes('--quiet') || flags.includes('-q'),
    color: flags.includes('--no-color') ? false : undefined,
  };
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const env = deps.env ?? process.env;
  const baseCwd = deps.cwd ?? process.cwd();
  for (const s of [stdout, stderr]) tolerateGoneReader(s);

  // `mlops --help` and `mlops --version` are answered without loading commander (the largest part
  // of start-up); the rendering is tested to be identical to commander's.
  if (isRootHelp(argv)) {
    stdout.write(renderRootHelp(stdout.isTTY && stdout.columns ? stdout.columns : 80));
    return ExitCode.OK;
  }
  if (isVersion(argv)) {
    stdout.write(rawGlobals(argv).json ? `${JSON.stringify({ ok: true, version: packageVersion() }, null, 2)}\n` : `${packageVersion()}\n`);
    return ExitCode.OK;
  }

  const [{ Argument, Command, CommanderError, Option }, { Io, createIo }] = await Promise.all([import('commander'), import('./io.js')]);
  let exitCode: number = ExitCode.OK;
  let io: Io | undefined;

  const abort = new AbortController();
  // Every concurrent request (S3 reads 16 at a time, MLflow calls) listens for the interrupt; that
  // is not a leak, so raise Node's default of 10 listeners before it warns.
  setMaxListeners(64, abort.signal);
  if (deps.signal) deps.signal.addEventListener('abort', () => abort.abort(deps.signal?.reason), { once: true });
  const hurry = new AbortController();
  const cleanupSignals = deps.handleSignals ? installSignalHandlers(abort, hurry) : () => {};

  const program = new Command('mlops').description(PROGRAM_DESCRIPTION);
  const [versionOption, ...globalOptions] = GLOBAL_OPTIONS;
  program.version(packageVersion(), versionOption.flags, versionOption.description);
  for (const o of globalOptions) program.option(o.flags, o.description);
  program
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput(outputConfig(stdout, stderr))
    .addHelpText('after', AFTER_HELP);

  const commands = deps.commands ?? COMMANDS;
  const load = deps.load ?? loadCommand;
  const register = (parent: Command, def: CommandDef, prefix: string) => {
    const cmd = parent
      .command(def.name)
      .summary(def.summary)
      .description(reflow(def.description ?? def.summary));
    cmd.exitOverride();
    cmd.configureOutput(outputConfig(stdout, stderr));
    cmd.showSuggestionAfterError(true);
    for (const a of def.args ?? []) {
      const name = a.variadic ? `${a.name}...` : a.name;
      const arg = new Argument(a.required ? `<${name}>` : `[${name}]`, a.description);
      if (a.choices) arg.choices(a.choices);
      cmd.addArgument(arg);
    }
    // A boolean flag's `false` default is applied in the action, not by commander, which would
    // print "(default: false)" after every flag.
    const falseDefaults: string[] = [];
    for (const o of def.options ?? []) {
      const opt = new Option(o.flags, o.description);
      if (o.default === false && opt.isBoolean()) falseDefaults.push(opt.attributeName());
      else if (o.default !== undefined) opt.default(o.default);
      if (o.choices) opt.choices(o.choices);
      cmd.addOption(opt);
    }
    if (def.examples.length) {
      cmd.addHelpText('after', `\nExamples:\n${def.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    }
    if (def.subcommands) {
      for (const sub of def.subcommands) register(cmd, sub, `${prefix}${def.name} `);
      return;
    }
    cmd.action(async (...actionArgs: unknown[]) => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const opts = command.opts<Record<string, unknown>>();
      for (const k of falseDefaults) opts[k] ??= false;
      const globals = command.optsWithGlobals() as unknown as GlobalOptions;
      globals.json = globals.json === true;
      globals.verbose = globals.verbose === true;
      globals.quiet = globals.quiet === true;
      const positional = command.args;
      io = await createIo({
        stdout,
        stderr,
        env,
        json: globals.json,
        verbose: globals.verbose,
        quiet: globals.quiet,
        color: globals.color,
      });
      // An empty value is a variable that was not set (`-c "$CONFIG"`, `--file "$ROWS"`), not a
      // request for the default: for --config, --cwd, --file it would silently mean another input.
      const given = globals as unknown as Record<string, unknown>;
      for (let c: Command | null = command; c; c = c.parent) {
        const empty = c.options.find((o) => {
          const v = given[o.attributeName()];
          return v === '' || (Array.isArray(v) && v.includes(''));
        });
        if (empty) {
          const flag = empty.long ?? empty.flags;
          throw new UserError(EMPTY_VALUE_CODES[empty.attributeName()] ?? 'BAD_OPTION', `${flag} was given an empty value.`, {
            hint: `Give ${flag} a value (a variable that is not set expands to nothing), or leave ${flag} out for its default.`,
          });
        }
      }
      const cwd = globals.cwd ? path.resolve(baseCwd, globals.cwd) : baseCwd;
      // Else init would create the folder and scaffold there, and other commands would look for a
      // config in a folder that does not exist.
      if (globals.cwd && !statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) {
        throw new UserError('BAD_CWD', `--cwd ${globals.cwd}: ${cwd} is not an existing folder.`, {
          hint: 'Give --cwd (-C) the folder to run in, e.g. the root of your repository.',
        });
      }
      let configCache: ReturnType<CommandContext['loadConfig']> | undefined;
      const ctx: CommandContext = {
        io,
        cwd,
        env,
        globals,
        signal: abort.signal,
        hurry: hurry.signal,
        loadConfig: () => {
          configCache ??= import('../config/load.js').then((m) =>
            m.loadConfig({ cwd, env, configPath: globals.config }).then((loaded) => {
              io!.redactor.addFromObject(loaded.config);
              return loaded;
            }),
          );
          return configCache;
        },
      };
      const mod = await load(`${prefix}${def.name}`);
      const result = await mod.run(ctx, positional, opts);
      io.result(result.data, result.text);
      exitCode = result.exitCode ?? ExitCode.OK;
    });
  };
  for (const def of commandsToRegister(argv, commands)) register(program, def, '');

  // Without the help flag, commander reports the unknown word (exit 2) with its nearest command.
  const unknown = unknownCommandWithHelp(
    argv,
    commands.map((c) => c.name),
  );
  const parsed = unknown === undefined ? argv : argv.filter((a) => a !== '--help' && a !== '-h');
  try {
    await program.parseAsync(parsed, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; usage problems exit 2 with commander's message
      // (already on stderr), and with --json also as the one JSON document on stdout.
      exitCode = err.exitCode === 0 ? ExitCode.OK : ExitCode.BAD_INPUT;
      const nested = err.code === 'commander.unknownCommand' ? nestedCommandFor(err.message, commands) : undefined;
      if (nested) stderr.write(`(Did you mean \`mlops ${nested}\`?)\n`);
      if (exitCode !== ExitCode.OK && rawGlobals(argv).json) {
        // Commander shows the usage (on stderr) for a command group run without its command; its
        // message for that is "(outputHelp)".
        const message =
          err.code === 'commander.help' ? 'a command is needed: the usage on stderr lists them' : err.message.replace(/^error: /, '');
        const usage = new UserError('USAGE', message, {
          hint: 'run with --help for usage',
          details: { commander: err.code },
        });
        new Io({ stdout, stderr, env, quiet: true, json: true }).result(errorDocument(usage, exitCode));
      }
    } else {
      exitCode = report(err, io ?? (await createIo({ stdout, stderr, env, ...rawGlobals(argv) })), env);
    }
  } finally {
    cleanupSignals();
  }
  return exitCode;
}

/**
 * The commands commander needs for this argv. To run a command (no help flag), only that one, with
 * its subcommands: building every command's options and help text is start-up time that only help
 * and the "did you mean" of an unknown command use, and those get the whole table.
 */
export function commandsToRegister(argv: string[], commands: readonly CommandDef[]): readonly CommandDef[] {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) return commands;
  for (let i = 0; i < flags.length; i++) {
    const a = flags[i];
    if (a === '-c' || a === '--config' || a === '-C' || a === '--cwd') i++;
    else if (!a.startsWith('-')) {
      const def = commands.find((c) => c.name === a);
      return def ? [def] : commands;
    }
  }
  return commands;
}

/** `mlops validate` -> "config validate": a subcommand named like the unknown top-level word. */
function nestedCommandFor(message: string, commands: readonly CommandDef[]): string | undefined {
  const word = /unknown command '([^']+)'/.exec(message)?.[1];
  if (!word || /Did you mean/.test(message)) return undefined;
  for (const parent of commands) {
    const sub = parent.subcommands?.find((s) => s.name === word);
    if (sub) return `${parent.name} ${sub.name}`;
  }
  return undefined;
}

/** Prints an error once, in the right shape, and returns its exit code. */
function report(err: unknown, io: Io, env: Record<string, string | undefined>): number {
  const code = exitCodeFor(err);
  if (isExpected(err)) {
    if (err.source !== 'interrupted') io.error(err.message, err.hint);
    else io.info(err.message);
    annotateProblems(err, io, env);
    if (io.verbose) printCauses(err, io);
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    io.error(`internal error: ${e.message}`, 'This is a bug in mlops. Please report it with the output of `--verbose`.');
    if (io.verbose && e.stack) io.info(e.stack);
  }
  if (io.json && !io.hasResult) io.result(errorDocument(err, code));
  return code;
}

/** Under GitHub Actions, each config problem also becomes an annotation on its file and line. */
function annotateProblems(err: MlopsError, io: Io, env: Record<string, string | undefined>): void {
  const file = err.details?.file;
  const problems = err.details?.problems;
  if (!io.githubActions || typeof file !== 'string' || !Array.isArray(problems)) return;
  const rel = path.relative(env.GITHUB_WORKSPACE || path.dirname(file), file) || path.basename(file);
  for (const p of problems as Array<{ path?: string; message: string; line?: number; column?: number }>) {
    io.annotate('error', `${p.path ? `${p.path}: ` : ''}${p.message}`, { file: rel, line: p.line, col: p.column, title: 'mlops config' });
  }
}

/** The --json document for an error. */
function errorDocument(err: unknown, exitCode: number) {
  const e = err instanceof MlopsError ? err : undefined;
  return {
    ok: false,
    error: {
      code: e?.code ?? 'INTERNAL',
      message: err instanceof Error ? err.message : String(err),
      hint: e?.hint,
      details: e?.details,
      exitCode,
    },
  };
}

function printCauses(err: Error, io: Io): void {
  let cause = (err as { cause?: unknown }).cause;
  let depth = 0;
  while (cause !== undefined && depth < 5) {
    const text =
      cause instanceof Error
        ? `${cause.name}: ${cause.message}`
        : typeof cause === 'string'
          ? cause
          : inspect(cause, { depth: 1, breakLength: Infinity });
    io.info(io.style('dim', `  caused by: ${text}`));
    cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
    depth++;
  }
}

function installSignalHandlers(abort: AbortController, hurry: AbortController): () => void {
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      abort.abort(sig);
      return;
    }
    // A second signal means "now". A command that must still record how it ended (train marks its
    // MLflow run KILLED) listens on `hurry` and finishes quickly; a third signal exits regardless.
    if (count === 2 && getEventListeners(hurry.signal, 'abort').length > 0) {
      hurry.abort(sig);
      return;
    }
    process.exit(ExitCode.INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * Joins the hard-wrapped lines of a help description into paragraphs, so commander can wrap them
 * to the terminal's width. Blank lines, indented lines (lists), the line after a list and lines after a colon stay.
 */
export function reflow(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const prev = out[out.length - 1];
    const joinable =
      prev !== undefined && prev.trim() !== '' && !prev.endsWith(':') && !/^\s/.test(prev) && line.trim() !== '' && !/^\s/.test(line);
    if (joinable) out[out.length - 1] = `${prev} ${line.trim()}`;
    else out.push(line);
  }
  return out.join('\n');
}
