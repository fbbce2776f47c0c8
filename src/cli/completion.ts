/**
 * Shell completion scripts generated from the command table (src/cli/commands.ts) and the global
 * options, so a new command or flag completes without anyone editing a script. bash and zsh get
 * the same logic (find the command words typed so far, then offer its subcommands or flags, a
 * flag's choices, or file names); fish gets its declarative `complete` lines with descriptions.
 */
import { COMMANDS, type CommandDef, type OptionDef } from './commands.js';
import { GLOBAL_OPTIONS } from './root-help.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a flag's value completes to. */
type ValueKind = { kind: 'none' } | { kind: 'choices'; words: readonly string[] } | { kind: 'files' } | { kind: 'dirs' } | { kind: 'text' };

interface Flag {
  short?: string;
  long: string;
  description: string;
  value: ValueKind;
}

interface Node {
  /** The command words, e.g. "sandbox up" ("" for the program). */
  path: string;
  summary: string;
  /** Subcommands (a group) ... */
  subcommands: { name: string; summary: string }[];
  /** ... or flags and what a positional argument completes to (a runnable command). */
  flags: Flag[];
  positional: ValueKind;
}

/** What a value named like this completes to: files for <file>/<path>, folders for <dir>. */
function valueKindOf(name: string, choices?: readonly string[]): ValueKind {
  if (choices) return { kind: 'choices', words: choices };
  if (/dir/.test(name)) return { kind: 'dirs' };
  if (/file|path|targets/.test(name)) return { kind: 'files' };
  return { kind: 'text' };
}

function parseFlag(o: Pick<OptionDef, 'flags' | 'description' | 'choices'>): Flag {
  const m = /^(?:(-\w), )?(--[\w-]+)(?: [<[]([\w.=-]+)[>\]])?/.exec(o.flags);
  if (!m) throw new Error(`cannot read the flags "${o.flags}"`);
  return { short: m[1], long: m[2], description: o.description, value: m[3] ? valueKindOf(m[3], o.choices) : { kind: 'none' } };
}

const GLOBAL_FLAGS: Flag[] = GLOBAL_OPTIONS.map(parseFlag);
const HELP: Flag = { short: '-h', long: '--help', description: 'display help for command', value: { kind: 'none' } };

/** Every command of the table, the program first, parents before their subcommands. */
function nodes(commands: readonly CommandDef[]): Node[] {
  const out: Node[] = [
    {
      path: '',
      summary: '',
      subcommands: commands.map((c) => ({ name: c.name, summary: c.summary })),
      flags: [...GLOBAL_FLAGS, HELP],
      positional: { kind: 'none' },
    },
  ];
  const walk = (def: CommandDef, prefix: string) => {
    const path = `${prefix}${def.name}`;
    const arg = def.args?.[0];
    out.push({
      path,
      summary: def.summary,
      subcommands: (def.subcommands ?? []).map((c) => ({ name: c.name, summary: c.summary })),
      flags: def.subcommands
        ? [HELP]
        : [...(def.options ?? []).map(parseFlag), ...GLOBAL_FLAGS.filter((f) => f.long !== '--version'), HELP],
      positional: arg ? valueKindOf(arg.name, arg.choices) : { kind: 'none' },
    });
    for (const sub of def.subcommands ?? []) walk(sub, `${path} `);
  };
  for (const def of commands) walk(def, '');
  return out;
}

const flagWords = (f: Flag) => [f.short, f.long].filter((w): w is string => w !== undefined);

/** The case lists of the shared bash/zsh function, one entry per command path, flag value and positional argument. */
function posixCases(all: Node[]): { pathCase: string; valueCase: string; wordsCase: string; positionalCase: string } {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const paths = all.filter((n) => n.path !== '').map((n) => q(n.path));
  const valueLines: string[] = [];
  for (const n of all) {
    for (const f of n.flags) {
      if (f.value.kind === 'none') continue;
      const pattern = flagWords(f)
        .map((w) => q(`${n.path}|${w}`))
        .join('|');
      valueLines.push(`      ${pattern}) ${valueAction(f.value)} ;;`);
    }
  }
  const wordsLines = all.map((n) => {
    const subs = [...n.subcommands.map((s) => s.name), ...(n.path === '' ? ['help'] : [])];
    return `      ${q(n.path)}) subs=${q(subs.join(' '))}; cands=${q(n.flags.flatMap(flagWords).join(' '))} ;;`;
  });
  const positionalLines = all.filter((n) => n.positional.kind !== 'none').map((n) => `      ${q(n.path)}) ${valueAction(n.positional)} ;;`);
  return {
    pathCase: `      ${paths.join('|')}) cmd="$next" ;;`,
    valueCase: valueLines.join('\n'),
    wordsCase: wordsLines.join('\n'),
    positionalCase: positionalLines.join('\n'),
  };
}

/** What the posix function does for a value: offer words, or say files/dirs (or nothing: free text). */
function valueAction(v: ValueKind): string {
  switch (v.kind) {
    case 'choices':
      return `cands='${v.words.join(' ')}'; kind=words`;
    case 'files':
      return 'kind=files';
    case 'dirs':
      return 'kind=dirs';
    default:
      return 'kind=text';
  }
}

/**
 * The shared function: `_mlops_candidates CWORD WORD...` prints `kind` then the candidate words;
 * the bash and zsh wrappers turn that into their shell's completion calls.
 */
function posixFunction(all: Node[]): string {
  const c = posixCases(all);
  return `_mlops_candidates() {
  local cword=$1; shift
  local cur="" prev="" cmd="" next word kind="" cands="" i=1 skip=0
  [ "$cword" -lt "$#" ] && eval "cur=\\\${$((cword + 1))}"
  [ "$cword" -ge 1 ] && eval "prev=\\\${$cword}"
  # The command words typed before the cursor; flags and the values of flags are skipped.
  while [ "$i" -lt "$cword" ]; do
    eval "word=\\\${$((i + 1))}"
    i=$((i + 1))
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$word" in
      -*) case "$(_mlops_value_kind "$cmd" "$word")" in text|files|dirs|words) skip=1 ;; esac; continue ;;
    esac
    next="\${cmd:+$cmd }$word"
    case "$next" in
${c.pathCase}
    esac
  done
  kind=$(_mlops_value_kind "$cmd" "$prev")
  if [ -n "$kind" ]; then
    case "$kind" in words) echo words; _mlops_value_words "$cmd" "$prev" ;; *) echo "$kind" ;; esac
    return
  fi
  case "$cur" in
    -*) ;;
    *)
      case "$cmd" in
${c.positionalCase}
      esac
      if [ -n "$kind" ]; then echo "$kind"; [ "$kind" = words ] && echo "$cands"; return; fi ;;
  esac
  local subs=""
  case "$cmd" in
${c.wordsCase}
  esac
  # Flags when the word starts with a dash (or the command has nothing else), else subcommands.
  case "$cur" in -*) ;; *) [ -n "$subs" ] && cands="$subs" ;; esac
  echo words
  echo "$cands"
}

_mlops_value() {
  local kind="" cands=""
  case "$1|$2" in
${c.valueCase}
  esac
  if [ "$3" = words ]; then echo "$cands"; else echo "$kind"; fi
}
_mlops_value_kind() { _mlops_value "$1" "$2" kind; }
_mlops_value_words() { _mlops_value "$1" "$2" words; }`;
}

function bashScript(all: Node[]): string {
  return `# mlops completion for bash, generated by \`mlops completion bash\`.
# Install: mlops completion bash > ~/.local/share/bash-completion/completions/mlops
#      or: echo 'source <(mlops completion bash)' >> ~/.bashrc
${posixFunction(all)}

_mlops_completion() {
  local out kind cur="\${COMP_WORDS[COMP_CWORD]}"
  out=$(_mlops_candidates "$COMP_CWORD" "\${COMP_WORDS[@]}")
  kind=\${out%%$'\\n'*}
  COMPREPLY=()
  case "$kind" in
    words) local IFS=$' \\n'; COMPREPLY=($(compgen -W "\${out#*$'\\n'}" -- "$cur")) ;;
    files) local IFS=$'\\n'; COMPREPLY=($(compgen -f -- "$cur")) ;;
    dirs) local IFS=$'\\n'; COMPREPLY=($(compgen -d -- "$cur")) ;;
  esac
}
complete -F _mlops_completion mlops
`;
}

function zshScript(all: Node[]): string {
  return `#compdef mlops
# mlops completion for zsh, generated by \`mlops completion zsh\`.
# Install: mlops completion zsh > "\${fpath[1]}/_mlops"   (then start a new shell)
#      or: echo 'source <(mlops completion zsh)' >> ~/.zshrc   (after compinit)
${posixFunction(all)}

_mlops() {
  local out kind
  local -a lines
  out=$(_mlops_candidates $((CURRENT - 1)) "\${words[@]}")
  lines=("\${(@f)out}")
  kind=\${lines[1]}
  case "$kind" in
    words) compadd -- \${=lines[2]} ;;
    files) _files ;;
    dirs) _files -/ ;;
  esac
}

if [ "$funcstack[1]" = "_mlops" ]; then
  _mlops "$@"
else
  compdef _mlops mlops
fi
`;
}

/** fish: one `complete` line per command, subcommand and flag, with its description. */
function fishScript(all: Node[]): string {
  const q = (s: string) => `'${s.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
  const firstLine = (s: string) => s.split('\n')[0];
  const lines = [
    '# mlops completion for fish, generated by `mlops completion fish`.',
    '# Install: mlops completion fish > ~/.config/fish/completions/mlops.fish',
    'complete -c mlops -f',
  ];
  const groups = all.filter((n) => n.path !== '' && n.subcommands.length > 0);
  /** The condition that the words of `path` were typed (and, for a group, none of its subcommands yet). */
  const condition = (n: Node): string => {
    if (n.path === '') return '__fish_use_subcommand';
    const words = n.path.split(' ');
    const seen = words.map((w) => `__fish_seen_subcommand_from ${w}`);
    // A top-level word that is also a subcommand of a group (status, sandbox status) is the top-level one only without that group.
    const clashing = words.length === 1 ? groups.filter((g) => g.subcommands.some((s) => s.name === words[0])).map((g) => g.path) : [];
    const not = [...clashing, ...(n.subcommands.length ? [n.subcommands.map((s) => s.name).join(' ')] : [])].map(
      (w) => `not __fish_seen_subcommand_from ${w}`,
    );
    return [...seen, ...not].join('; and ');
  };
  const valueOpts = (v: ValueKind) =>
    v.kind === 'choices'
      ? ` -x -a ${q(v.words.join(' '))}`
      : v.kind === 'files'
        ? ' -r -F'
        : v.kind === 'dirs'
          ? " -x -a '(__fish_complete_directories)'"
          : v.kind === 'text'
            ? ' -x'
            : '';
  for (const n of all) {
    const cond = q(condition(n));
    for (const s of n.subcommands) lines.push(`complete -c mlops -n ${cond} -a ${s.name} -d ${q(firstLine(s.summary))}`);
    if (n.path === '') {
      for (const f of n.flags)
        lines.push(
          `complete -c mlops${f.short ? ` -s ${f.short.slice(1)}` : ''} -l ${f.long.slice(2)} -d ${q(f.description)}${valueOpts(f.value)}`,
        );
      continue;
    }
    if (n.subcommands.length) continue;
    for (const f of n.flags.filter((x) => !GLOBAL_FLAGS.includes(x) && x !== HELP)) {
      lines.push(
        `complete -c mlops -n ${cond}${f.short ? ` -s ${f.short.slice(1)}` : ''} -l ${f.long.slice(2)} -d ${q(f.description)}${valueOpts(f.value)}`,
      );
    }
    if (n.positional.kind === 'choices') lines.push(`complete -c mlops -n ${cond} -a ${q(n.positional.words.join(' '))}`);
    else if (n.positional.kind === 'files') lines.push(`complete -c mlops -n ${cond} -F`);
  }
  return lines.join('\n') + '\n';
}

/** The completion script for a shell, from the command table. */
export function completionScript(shell: Shell, commands: readonly CommandDef[] = COMMANDS): string {
  const all = nodes(commands);
  if (shell === 'fish') return fishScript(all);
  return shell === 'zsh' ? zshScript(all) : bashScript(all);
}
