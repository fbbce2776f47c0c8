/**
 * The one output object of the program. Results go to stdout; logs, progress and errors to stderr.
 * With --json, stdout carries exactly one JSON document (the result, or the error).
 */
import { appendFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ChalkInstance, Options as ChalkOptions } from 'chalk';
import { printableLines } from '../core/escape.js';
import { Redactor } from '../core/redact.js';

export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width, when a TTY. */
  columns?: number;
}

export interface Spinner {
  /** Changes the text of a running spinner (or logs it when there is no spinner). */
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface IoOptions {
  stdout: Stream;
  stderr: Stream;
  env: Record<string, string | undefined>;
  json?: boolean;
  verbose?: boolean;
  /** false when --no-color was given. */
  color?: boolean;
  /** --quiet: nothing on stderr but errors (the result still goes to stdout). */
  quiet?: boolean;
  /** What paints colour (createIo supplies it when needed); without it the output is plain. */
  Chalk?: ChalkClass;
}

export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold';

/** chalk's Chalk class; createIo loads it only when a stream gets colour, so plain runs never import chalk. */
export type ChalkClass = new (options?: ChalkOptions) => ChalkInstance;

/** Decides whether a stream gets colour: NO_COLOR (non-empty) and --no-color win; FORCE_COLOR forces. */
export function colorEnabled(stream: Stream, env: Record<string, string | undefined>, flag?: boolean): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** An Io whose streams are coloured by chalk as colorEnabled decides; chalk is imported only when a stream gets colour. */
export async function createIo(opts: IoOptions): Promise<Io> {
  const wanted = colorEnabled(opts.stdout, opts.env, opts.color) || colorEnabled(opts.stderr, opts.env, opts.color);
  if (!wanted || opts.Chalk) return new Io(opts);
  const { Chalk } = await import('chalk');
  return new Io({ ...opts, Chalk });
}

export class Io {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly redactor = new Redactor();
  private readonly paintOut?: ChalkInstance;
  private readonly paintErr?: ChalkInstance;
  private resultWritten = false;
  private readonly env: Record<string, string | undefined>;

  constructor(private readonly opts: IoOptions) {
    this.json = opts.json ?? false;
    this.verbose = opts.verbose ?? false;
    this.env = opts.env;
    // Level 1 (16 colours) is all mlops uses; chalk's own detection reads process.* and is not used.
    const paint = (stream: Stream) => (opts.Chalk && colorEnabled(stream, opts.env, opts.color) ? new opts.Chalk({ level: 1 }) : undefined);
    this.paintOut = paint(opts.stdout);
    this.paintErr = paint(opts.stderr);
    this.redactor.addFromObject(opts.env);
  }

  /** Whether we run under GitHub Actions. */
  get githubActions(): boolean {
    return this.env.GITHUB_ACTIONS === 'true';
  }

  /** Styles text for stderr (no-op without colour). */
  style(style: Style, text: string): string {
    return this.paintErr ? this.paintErr[style](text) : text;
  }

  /** Styles text for stdout (no-op without colour). */
  styleOut(style: Style, text: string): string {
    return this.paintOut && !this.json ? this.paintOut[style](text) : text;
  }

  private err(line: string): void {
    this.opts.stderr.write(this.redactor.redact(line) + '\n');
  }

  /** A log line for people, on stderr. */
  info(msg: string): void {
    if (!this.opts.quiet) this.err(msg);
  }

  /** A success line, on stderr. */
  success(msg: string): void {
    this.info(`${this.style('green', '✔')} ${msg}`);
  }

  /** A warning on stderr (and a ::warning:: annotation under GitHub Actions); nothing with --quiet. */
  warn(msg: string): void {
    if (this.opts.quiet) return;
    // Like an error, a warning quotes outside text (a service's answer, a capture line): shown, not obeyed.
    msg = printableLines(msg);
    this.err(`${this.style('yellow', 'warning:')} ${msg}`);
    if (this.githubActions) this.err(`::warning::${escapeAnnotation(msg)}`);
  }

  /** An error message (with optional hint), on stderr; an ::error:: annotation under GitHub Actions. */
  error(msg: string, hint?: string): void {
    // An error echoes what was typed or read (a flag, a config value, a server's answer): shown, not obeyed.
    msg = printableLines(msg);
    hint = hint && printableLines(hint);
    this.err(`${this.style('red', 'error:')} ${msg}`);
    if (hint) this.err(`${this.style('dim', 'hint:')} ${hint}`);
    if (this.githubActions) this.err(`::error::${escapeAnnotation(hint ? `${msg} (${hint})` : msg)}`);
  }

  /**
   * A GitHub Actions annotation tied to a place in a file (shown inline on the pull request).
   * No-op outside GitHub Actions. `file` should be relative to the repository root.
   */
  annotate(level: 'error' | 'warning' | 'notice', msg: string, where: { file: string; line?: number; col?: number; title?: string }): void {
    if (!this.githubActions) return;
    const props = [`file=${escapeProperty(where.file)}`];
    if (where.line) props.push(`line=${where.line}`);
    if (where.line && where.col) props.push(`col=${where.col}`);
    if (where.title) props.push(`title=${escapeProperty(where.title)}`);
    this.err(`::${level} ${props.join(',')}::${escapeAnnotation(msg)}`);
  }

  /** Detail shown only with --verbose. */
  debug(msg: string): void {
    if (this.verbose) this.err(this.style('dim', msg));
  }

  /** Raw child-process output passed through to stderr (streamed training logs, dvc output). */
  passthrough(chunk: string): void {
    if (this.opts.quiet) return;
    this.opts.stderr.write(this.redactor.redact(chunk));
  }

  /** Writes the command's result: the JSON document with --json, else the text (if any) on stdout. */
  result(data: unknown, text?: string): void {
    if (this.resultWritten) throw new Error('Io.result called twice');
    this.resultWritten = true;
    if (this.json) {
      this.opts.stdout.write(this.redactor.redact(JSON.stringify(data, null, 2)) + '\n');
    } else if (text !== undefined && text !== '') {
      this.opts.stdout.write(this.redactor.redact(text.endsWith('\n') ? text : text + '\n'));
    }
  }

  get hasResult(): boolean {
    return this.resultWritten;
  }

  /** Appends Markdown to $GITHUB_STEP_SUMMARY when it is set. Returns whether it wrote. */
  stepSummary(markdown: string): boolean {
    const file = this.env.GITHUB_STEP_SUMMARY;
    if (!file) return false;
    return this.append(file, this.redactor.redact(markdown.endsWith('\n') ? markdown : markdown + '\n'), 'append to $GITHUB_STEP_SUMMARY');
  }

  /**
   * Appends to a file the CI runner gave; a failure is a warning, not an error: the command's
   * verdict (a gate, a deployment already advanced) must not be lost to it.
   */
  private append(file: string, text: string, what: string): boolean {
    try {
      appendFileSync(file, text);
      return true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.warn(`could not ${what} (${file}): ${e.code ?? e.message}`);
      return false;
    }
  }

  /**
   * Appends step outputs to $GITHUB_OUTPUT when it is set (name=value; a multi-line value in
   * GitHub's heredoc form). Returns whether it wrote.
   */
  githubOutput(values: Record<string, string>): boolean {
    const file = this.env.GITHUB_OUTPUT;
    if (!file) return false;
    const lines = Object.entries(values).map(([name, raw]) => {
      const v = this.redactor.redact(raw);
      if (!/[\r\n]/.test(v)) return `${name}=${v}\n`;
      // The global Web Crypto, not node:crypto: loaded only here, not at every start-up.
      const delimiter = `mlops_${crypto.randomUUID()}`;
      return `${name}<<${delimiter}\n${v}\n${delimiter}\n`;
    });
    const names = Object.keys(values).join(', ');
    return this.append(
      file,
      lines.join(''),
      `write the step output${Object.keys(values).length === 1 ? '' : 's'} ${names} to $GITHUB_OUTPUT`,
    );
  }

  /** Whether an animated spinner may be shown: a TTY stderr, not CI, not --json, not --verbose. */
  get spinnerAllowed(): boolean {
    return this.opts.stderr.isTTY === true && !this.json && !this.verbose && !isCI(this.env) && !this.opts.quiet;
  }

  /** Progress for long work: an ora spinner on a terminal, plain log lines elsewhere. */
  async spinner(text: string): Promise<Spinner> {
    if (!this.spinnerAllowed) {
      this.info(`… ${text}`);
      return {
        update: (t) => this.info(`… ${t}`),
        succeed: (t) => this.success(t ?? text),
        fail: (t) => this.err(`${this.style('red', '✖')} ${t ?? text}`),
        stop: () => {},
      };
    }
    return (await this.spinnerMaker())(text);
  }

  /**
   * Starts ora spinners without waiting: ora is imported once, here, so a reporter that polls can
   * start and stop spinners in step with its log lines. Only when spinnerAllowed.
   */
  async spinnerMaker(): Promise<(text: string) => Spinner> {
    const { default: ora } = await import('ora');
    return (text) => {
      // ora colours by its own detection (process.env); our decision (NO_COLOR, --no-color) wins.
      const s = ora({
        text: this.redactor.redact(text),
        stream: this.opts.stderr as unknown as Writable,
        color: this.paintErr ? 'cyan' : false,
        isEnabled: true,
      }).start();
      return {
        update: (t) => {
          s.text = this.redactor.redact(t);
          // Drawn now, not at the next frame: the new text (elapsed time, status) shows at once.
          s.render();
        },
        succeed: (t) => void s.stopAndPersist({ symbol: this.style('green', '✔'), text: this.redactor.redact(t ?? text) }),
        fail: (t) => void s.stopAndPersist({ symbol: this.style('red', '✖'), text: this.redactor.redact(t ?? text) }),
        stop: () => void s.stop(),
      };
    };
  }
}

/** Whether we run in CI: CI set to anything but "" / "false" / "0". */
export function isCI(env: Record<string, string | undefined>): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

function escapeProperty(s: string): string {
  return escapeAnnotation(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function escapeAnnotation(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
