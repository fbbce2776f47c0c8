/**
 * The top-level program's metadata, and a commander-free rendering of `mlops --help`.
 *
 * Why: importing commander is the largest part of `mlops --help`'s start-up (measured with
 * bench/startup.mjs: the ratio to a bare `node -e 0` went from about 1.4-1.6 to about 1.2). The bare `mlops --help` / `-h` / `help` and `--version` are
 * answered from the command table without loading it; everything else (subcommand help, errors,
 * suggestions) goes through commander. test/unit/cli-help.test.ts asserts that this rendering is
 * byte-identical to commander's at several widths, so the two cannot drift apart.
 */
import { COMMANDS, type CommandDef } from './commands.js';

export const PROGRAM_DESCRIPTION =
  'CI/CD for ML models: DVC data, MLflow-tracked training, a metric merge gate,\n' +
  'guarded blue/green promotion to SageMaker, drift monitoring with rollback, audit trail.';

/** Global options, in help order (commander adds -h, --help last). */
export const GLOBAL_OPTIONS: ReadonlyArray<{ flags: string; description: string }> = [
  { flags: '-V, --version', description: 'print the version' },
  { flags: '-c, --config <path>', description: 'config file (default: searched upward from --cwd to the repository root)' },
  { flags: '--json', description: 'print only the result, as one JSON document, on stdout' },
  { flags: '-q, --quiet', description: 'print only errors and the result: no logs, progress or warnings' },
  { flags: '--no-color', description: 'no colour in output (NO_COLOR and FORCE_COLOR are honoured too)' },
  { flags: '-v, --verbose', description: 'show details and the causes of errors' },
  { flags: '-C, --cwd <dir>', description: 'run as if started in <dir>' },
];

export const AFTER_HELP =
  '\nExamples:\n' +
  '  $ mlops doctor                       # check tools, credentials, config and connectivity\n' +
  '  $ mlops config validate              # check the config file\n' +
  '  $ mlops pull && mlops train && mlops compare --baseline production\n' +
  '\nExit codes: 0 ok, 1 a check said no, 2 bad input, 3 a tool or service failed,\n' +
  '            4 another promotion holds the lock, 130 interrupted.\n' +
  'Docs: README.md; `mlops <command> --help` for each command.';

/** argv that asks for exactly the top-level help. */
export function isRootHelp(argv: string[]): boolean {
  return argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help');
}

/**
 * The first word of argv when it is not a command but help was asked for (`mlops nosuch --help`):
 * commander would answer the help flag with the root help and exit 0, hiding the typo.
 */
export function unknownCommandWithHelp(argv: string[], commandNames: readonly string[]): string | undefined {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (!flags.includes('--help') && !flags.includes('-h')) return undefined;
  for (let i = 0; i < flags.length; i++) {
    const a = flags[i];
    if (a === '-c' || a === '--config' || a === '-C' || a === '--cwd') i++;
    else if (!a.startsWith('-')) return a === 'help' || commandNames.includes(a) ? undefined : a;
  }
  return undefined;
}

/** argv that asks for exactly the version (as JSON with --json). */
export function isVersion(argv: string[]): boolean {
  const rest = argv.filter((a) => a !== '--json');
  return rest.length === 1 && (rest[0] === '--version' || rest[0] === '-V');
}

const MIN_WIDTH_TO_WRAP = 40; // commander's Help.minWidthToWrap
const HELP = { flags: '-h, --help', description: 'display help for command' };
const HELP_COMMAND = { term: 'help [command]', description: 'display help for command' };

/** The term commander shows for a subcommand: name, [options], then its arguments. */
function subcommandTerm(def: CommandDef): string {
  const args = (def.args ?? []).map((a) => {
    const name = a.name + (a.variadic ? '...' : '');
    return a.required ? `<${name}>` : `[${name}]`;
  });
  return def.name + (def.options?.length ? ' [options]' : '') + (args.length ? ' ' + args.join(' ') : '');
}

/** `mlops --help`, exactly as commander 14 renders it for this program (plus the after-help text). */
export function renderRootHelp(helpWidth = 80): string {
  const options = [...GLOBAL_OPTIONS, HELP].map((o) => ({ term: o.flags, description: o.description }));
  const commands = [...COMMANDS.map((d) => ({ term: subcommandTerm(d), description: d.summary })), HELP_COMMAND];
  const termWidth = Math.max(...options.map((o) => o.term.length), ...commands.map((c) => c.term.length));
  const item = (t: { term: string; description: string }) => formatItem(t.term, termWidth, t.description, helpWidth);
  const lines = [
    'Usage: mlops [options] [command]',
    '',
    boxWrap(PROGRAM_DESCRIPTION, helpWidth),
    '',
    'Options:',
    ...options.map(item),
    '',
    'Commands:',
    ...commands.map(item),
    '',
  ];
  return lines.join('\n') + AFTER_HELP + '\n';
}

// The two functions below follow commander's lib/help.js (formatItem, boxWrap), without colour.

function formatItem(term: string, termWidth: number, description: string, helpWidth: number): string {
  const indent = '  ';
  if (!description) return indent + term;
  const spacer = 2;
  const remaining = helpWidth - termWidth - spacer - 2;
  let text = description;
  if (remaining >= MIN_WIDTH_TO_WRAP && !/\n[^\S\r\n]/.test(description)) {
    text = boxWrap(description, remaining).replace(/\n/g, '\n' + ' '.repeat(termWidth + spacer));
  }
  return indent + term.padEnd(termWidth) + ' '.repeat(spacer) + text.replace(/\n/g, `\n${indent}`);
}

function boxWrap(str: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return str;
  const out: string[] = [];
  for (const line of str.split(/\r\n|\n/)) {
    const chunks = line.match(/[\s]*[^\s]+/g);
    if (chunks === null) {
      out.push('');
      continue;
    }
    let sum = [chunks.shift()!];
    let sumWidth = sum[0].length;
    for (const chunk of chunks) {
      if (sumWidth + chunk.length <= width) {
        sum.push(chunk);
        sumWidth += chunk.length;
        continue;
      }
      out.push(sum.join(''));
      const next = chunk.trimStart();
      sum = [next];
      sumWidth = next.length;
    }
    out.push(sum.join(''));
  }
  return out.join('\n');
}
