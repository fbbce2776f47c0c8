import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberFlag } from '../../src/core/number-flag.js';
import { runCli } from '../support/cli.js';

const refused = (value: string, rule: Parameters<typeof numberFlag>[2]) => {
  try {
    numberFlag('--n', value, rule);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'accepted';
};

describe('numberFlag', () => {
  it('takes plain decimals, as a user types a count or a rate', () => {
    expect(numberFlag('--jobs', '4', { whole: true, example: '4' })).toBe(4);
    expect(numberFlag('--rate', '2.5', { example: '20' })).toBe(2.5);
    expect(numberFlag('--retain', '1', { whole: true, min: 1, example: '3' })).toBe(1);
    expect(numberFlag('--k', '016', { whole: true, min: 8, example: '200' })).toBe(16);
    // A flag not given is no number: the caller's default applies.
    expect(numberFlag('--jobs', undefined, { whole: true, example: '4' })).toBeUndefined();
  });

  it('refuses what Number() would quietly turn into a number: hex, exponents, blanks, signs, Infinity', () => {
    for (const v of ['0x10', '0b1', '0o7', '1e3', '1e999', '', ' ', ' 4', '+4', '-4', 'Infinity', 'NaN', '4.', '.5', '4,5', '4 '])
      expect(refused(v, { example: '4' }), JSON.stringify(v)).toBe('BAD_OPTION');
  });

  it('refuses a number out of range or not whole where a whole one is needed, naming the flag, the value and an example', () => {
    expect(refused('0', { example: '4' })).toBe('BAD_OPTION');
    expect(refused('0', { min: 0, example: '4' })).toBe('accepted');
    expect(refused('7', { whole: true, min: 8, example: '200' })).toBe('BAD_OPTION');
    expect(refused('2.5', { whole: true, example: '4' })).toBe('BAD_OPTION');
    expect(() => numberFlag('--retain', '0', { whole: true, min: 1, example: '3', note: 'the current deployment counts as one' })).toThrow(
      expect.objectContaining({
        message: '--retain must be a whole number of at least 1, not "0".',
        hint: 'e.g. --retain 3 (the current deployment counts as one)',
      }),
    );
  });
});

describe('numeric flags on the command line', () => {
  // Each was read with Number(): `--jobs 0x4` ran dvc with 4 jobs, `--timeout ""` waited 0 s.
  it.each([
    [['doctor', '--timeout', '0x5']],
    [['pull', '--jobs', '0x4']],
    [['profile', 'rows.csv', '--k', '1e3']],
    [['traffic', '--rate', '']],
    [['traffic', '--count', '5e2']],
    [['gc', '--retain', ' 2']],
    [['sandbox', 'up', '--time-scale', 'Infinity']],
  ])('mlops %j is a usage error (exit 2) before anything is read or started', async (argv) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-numflag-'));
    writeFileSync(path.join(dir, 'rows.csv'), 'a\n1\n');
    // No config: a command that read it before its flags would fail with NO_CONFIG instead.
    const r = await runCli([...argv, '--json'], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.json().error.code).toBe('BAD_OPTION');
    expect(r.json().error.message).toContain(argv.find((a) => a.startsWith('--')));
  });
});
