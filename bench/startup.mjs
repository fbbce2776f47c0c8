#!/usr/bin/env node
// Start-up cost of the CLI: median wall time of `node bin/mlops.js --help` against a bare
// `node -e 0`, and their ratio (target: <= 1.5). Run `npm run build` first.
// Usage: node bench/startup.mjs [runs]   (default 21 runs each, after 2 warm-up runs)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Math.max(15, Number(process.argv[2]) || 21);

if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const cases = { help: ['bin/mlops.js', '--help'], bare: ['-e', '0'] };
const samples = { help: [], bare: [] };
for (const args of Object.values(cases)) for (let i = 0; i < 2; i++) time(args);
// Interleave the two so drift in machine load hits both alike.
for (let i = 0; i < runs; i++) {
  samples.help.push(time(cases.help));
  samples.bare.push(time(cases.bare));
}
const help = median(samples.help);
const bare = median(samples.bare);
const ratio = help / bare;
console.log(`runs:              ${runs} each (interleaved, after 2 warm-ups)`);
console.log(`mlops --help:      ${help.toFixed(1)} ms (median)`);
console.log(`node -e 0:         ${bare.toFixed(1)} ms (median)`);
console.log(`ratio:             ${ratio.toFixed(2)} (target <= 1.5)`);
