#!/usr/bin/env node
// Writes what is generated from the zod schema (src/config/schema.ts):
//   schema/mlops.config.schema.json   the JSON Schema for editors
//   README.md                         the configuration reference, between the config-reference markers
//   src/config/config-plan.json       the plan of the fast validator (src/config/fast-validate.ts)
// It builds dist/ first (the generator is src/config/json-schema.ts, the same code the staleness
// test in test/unit/config-schema.test.ts runs; src/config/plan.ts and test/unit/config-plan.test.ts
// for the plan), so `npm run schema` is all there is to do.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const gen = await import(pathToFileURL(path.join(root, 'dist/config/json-schema.js')).href);

const schemaFile = path.join(root, gen.JSON_SCHEMA_FILE);
mkdirSync(path.dirname(schemaFile), { recursive: true });
writeFileSync(schemaFile, gen.jsonSchemaText());
console.log(`wrote ${gen.JSON_SCHEMA_FILE}`);

const readme = path.join(root, 'README.md');
const text = readFileSync(readme, 'utf8');
if (!text.includes(gen.README_START) || !text.includes(gen.README_END)) {
  console.error(`README.md has no ${gen.README_START} ... ${gen.README_END} markers; the reference was not written.`);
  process.exit(1);
}
writeFileSync(readme, gen.replaceBetweenMarkers(text, gen.renderReference()));
console.log('wrote the configuration reference in README.md');

const plan = await import(pathToFileURL(path.join(root, 'dist/config/plan.js')).href);
const planFile = path.join(root, plan.PLAN_FILE);
const options = (await prettier.resolveConfig(planFile)) ?? {};
writeFileSync(planFile, await prettier.format(plan.planText(), { ...options, filepath: planFile }));
console.log(`wrote ${plan.PLAN_FILE}`);
