/**
 * `mlops --help` and `--version` are answered without commander (start-up cost, see
 * src/cli/root-help.ts); these tests hold that rendering identical to commander's own.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { renderRootHelp } from '../../src/cli/root-help.js';

class Sink {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

async function run(argv: string[], tty?: number) {
  const stdout = new Sink(tty !== undefined, tty);
  const stderr = new Sink(tty !== undefined, tty);
  const code = await main(argv, { stdout, stderr, env: {}, cwd: '/' });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('top-level help without commander', () => {
  it.each([undefined, 50, 60, 80, 100, 132, 200])('is identical to commander’s at width %s', async (width) => {
    // Any other argument sends `--help` through commander.
    const viaCommander = await run(['--verbose', '--help'], width);
    expect(viaCommander.code).toBe(0);
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const fast = await run(argv, width);
      expect(fast.code).toBe(0);
      expect(fast.stderr).toBe('');
      expect(fast.stdout).toBe(viaCommander.stdout);
    }
    expect(renderRootHelp(width ?? 80)).toBe(viaCommander.stdout);
  });

  it('--version is identical too', async () => {
    const viaCommander = await run(['--verbose', '--version']);
    for (const argv of [['--version'], ['-V']]) expect((await run(argv)).stdout).toBe(viaCommander.stdout);
    expect(viaCommander.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('help for a command still goes through commander', async () => {
    const r = await run(['help', 'config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: mlops config [options] [command]');
  });
});
