/**
 * The fast validator's plan (src/config/config-plan.json) is generated from the zod schema by
 * `npm run schema`: it must be current, and cover the whole schema (an `unknown` node or check
 * makes the fast path give every config that uses the field to zod, slowly).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { PLAN_FILE, planText } from '../../src/config/plan.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the fast validator plan', () => {
  it(`${PLAN_FILE} is current`, async () => {
    const file = path.join(root, PLAN_FILE);
    const expected = await prettier.format(planText(), { ...(await prettier.resolveConfig(file)), filepath: file });
    expect(readFileSync(file, 'utf8') === expected, `${PLAN_FILE} is stale: run \`npm run schema\` and commit the result.`).toBe(true);
  });

  it('knows every node and check of the schema', () => {
    const unknown = [...planText().matchAll(/"(?:t|c)":"unknown","what":"([^"]+)"/g)].map((m) => m[1]);
    expect(unknown, 'teach src/config/plan.ts and fast-validate.ts these, or name the refinement with rule() from rules.ts').toEqual([]);
  });
});
