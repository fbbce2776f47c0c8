// The option types each command receives are derived from its flags in the command table. These
// assertions are checked by the compiler (`npm run typecheck`, part of npm test); the runtime test
// checks that commander produces exactly those names.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { OptionsOf } from '../../src/cli/commands.js';
import type { CommandContext, CommandResult } from '../../src/cli/context.js';
import { runCli } from '../support/cli.js';

describe('options derived from the command table', () => {
  it('value flags are strings, negatable flags and defaults always present, choices a union, variadic an array', () => {
    expectTypeOf<OptionsOf<'promote'>>().toEqualTypeOf<{
      status: boolean;
      dryRun: boolean;
      run?: string;
      modelVersion?: string;
      wait?: string;
      poll?: string;
    }>();
    expectTypeOf<OptionsOf<'monitor'>['rollback']>().toEqualTypeOf<boolean>();
    expectTypeOf<OptionsOf<'monitor'>['captureDir']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<OptionsOf<'compare'>['ifNoBaseline']>().toEqualTypeOf<'pass' | 'fail' | undefined>();
    expectTypeOf<OptionsOf<'init'>['ci']>().toEqualTypeOf<'github' | 'gitlab' | 'both' | 'none'>();
    expectTypeOf<OptionsOf<'doctor'>['timeout']>().toEqualTypeOf<string>();
    expectTypeOf<OptionsOf<'audit verify'>>().toEqualTypeOf<{ endpoint?: string; mlflowAnchors: boolean }>();
    expectTypeOf<OptionsOf<'status'>>().toEqualTypeOf<Record<never, never>>();
  });

  it('commander hands a command exactly the options its type names', async () => {
    let seen: Record<string, unknown> = {};
    const run = (_ctx: CommandContext, _args: string[], opts: Record<string, unknown>): Promise<CommandResult> => {
      seen = opts;
      return Promise.resolve({ data: {} });
    };
    const { COMMANDS } = await import('../../src/cli/commands.js');
    const r = await runCli(['monitor', '--no-rollback', '--capture-dir', 'a', 'b', '--since', '1h', '--dry-run'], {
      env: { PATH: process.env.PATH },
      deps: { commands: COMMANDS, load: () => Promise.resolve({ run }) },
    });
    expect(r.code).toBe(0);
    const expected: OptionsOf<'monitor'> = { rollback: false, publish: true, captureDir: ['a', 'b'], since: '1h', dryRun: true };
    expect(seen).toEqual(expected);
  });
});
