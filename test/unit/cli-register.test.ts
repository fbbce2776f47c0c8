/** Running a command builds only its commander command; help and unknown words get the whole table. */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { commandsToRegister } from '../../src/cli/main.js';
import { runCli } from '../support/cli.js';

const names = (argv: string[]) => commandsToRegister(argv, COMMANDS).map((c) => c.name);

describe('commandsToRegister', () => {
  it('a command to run: only it (with its subcommands), after global options and their values', () => {
    expect(names(['config', 'validate'])).toEqual(['config']);
    expect(names(['-c', 'compare', 'compare', '--run', 'x'])).toEqual(['compare']);
    expect(names(['--json', '--cwd', 'promote', 'status'])).toEqual(['status']);
  });

  it('help, an unknown word or no command: the whole table', () => {
    const all = COMMANDS.map((c) => c.name);
    expect(names(['config', 'validate', '--help'])).toEqual(all);
    expect(names(['compare', '-h'])).toEqual(all);
    expect(names(['valdate'])).toEqual(all);
    expect(names(['help', 'compare'])).toEqual(all);
    expect(names(['--json'])).toEqual(all);
  });

  it('a usage error of a command reads as before (its options and "did you mean" come from that command)', async () => {
    const r = await runCli(['config', 'validat']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'validat'");
    expect(r.stderr).toContain('(Did you mean validate?)');
    const o = await runCli(['compare', '--baselin', 'x']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain("unknown option '--baselin'");
    expect(o.stderr).toContain('(Did you mean --baseline?)');
  });
});
