import { describe, expect, it } from 'vitest';
import { reflow } from '../../src/cli/main.js';

describe('reflow of help descriptions', () => {
  it('joins hard-wrapped lines so commander can wrap them to the terminal', () => {
    expect(reflow('Checks Node, git, and\nthe config. Exits 0\nwhen all pass.')).toBe(
      'Checks Node, git, and the config. Exits 0 when all pass.',
    );
  });

  it('keeps paragraphs, indented lists and lines after a colon', () => {
    const text =
      'Stages:\npackage -> shadow\n-> done.\n\nForms:\n  alias:NAME   an alias\n  run:ID       a run\nExit codes: 0 ok,\n1 regression.';
    expect(reflow(text)).toBe(
      'Stages:\npackage -> shadow -> done.\n\nForms:\n  alias:NAME   an alias\n  run:ID       a run\nExit codes: 0 ok, 1 regression.',
    );
  });
});
