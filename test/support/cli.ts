/** Runs the CLI in-process with captured stdout/stderr, as tests need it. */
import { main, type MainDeps } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws if it is not exactly one JSON document). */
  json<T = any>(): T;
}

class Capture {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs `mlops ...argv` with the given cwd and env (default: an env without colour or CI noise). */
export async function runCli(
  argv: string[],
  opts: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    signal?: AbortSignal;
    tty?: boolean;
    /** Other dependencies of main (a command table of the test's own). */
    deps?: Pick<MainDeps, 'commands' | 'load'>;
  } = {},
): Promise<CliRun> {
  const stdout = new Capture(opts.tty);
  const stderr = new Capture(opts.tty);
  const deps: MainDeps = {
    stdout,
    stderr,
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? { PATH: process.env.PATH, HOME: process.env.HOME },
    signal: opts.signal,
    ...opts.deps,
  };
  const code = await main(argv, deps);
  return {
    code,
    stdout: stdout.text,
    stderr: stderr.text,
    json: () => JSON.parse(stdout.text),
  };
}
