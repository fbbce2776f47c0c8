#!/usr/bin/env node
// Start-up cost of the CLI: median wall time of a few `node bin/mlops.js ...` commands against a
// bare `node -e 0`, in one interleaved run, each with its target met / NOT met. The commands run
// in a scratch repository holding mlops.config.example.yaml (as after `mlops init`).
// Run `npm run build` first.
// Usage: node bench/startup.mjs [runs]   (default 21 runs each, after 2 warm-up runs)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Math.max(15, Number(process.argv[2]) || 21);
const bin = path.join(root, 'bin/mlops.js');

if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}

const repo = mkdtempSync(path.join(tmpdir(), 'mlops-bench-startup-'));
mkdirSync(path.join(repo, '.git'));
copyFileSync(path.join(root, 'mlops.config.example.yaml'), path.join(repo, 'mlops.config.yaml'));

/** Children's user+sys CPU so far, in ms (Linux /proc; 10 ms ticks), else undefined. */
function childCpuMs() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Wall and CPU time of one run. */
function time(args) {
  const c0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c1 = childCpuMs();
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, cpuMs: c0 === undefined ? undefined : c1 - c0 };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** label -> [argv, target ratio to `node -e 0`]. */
const cases = {
  'node -e 0': [['-e', '0']],
  'mlops --help': [[bin, '--help'], 1.3],
  'mlops --version': [[bin, '--version'], 1.3],
  'mlops config validate': [[bin, 'config', 'validate'], 1.8],
  'mlops config show': [[bin, 'config', 'show'], 1.8],
  'mlops compare --help': [[bin, 'compare', '--help'], 1.8],
  'mlops promote --help': [[bin, 'promote', '--help'], 1.8],
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
try {
  for (const [args] of Object.values(cases)) for (let i = 0; i < 2; i++) time(args);
  const load0 = loadavg()[0];
  // Interleaved, so drift in machine load hits all alike.
  for (let i = 0; i < runs; i++) {
    for (const [label, [args]] of Object.entries(cases)) {
      const t = time(args);
      samples[label].push(t.ms);
      if (t.cpuMs !== undefined) cpu[label].push(t.cpuMs);
    }
  }
  const load1 = loadavg()[0];

  const bare = median(samples['node -e 0']);
  const bareCpu = cpu['node -e 0'].length ? median(cpu['node -e 0']) : undefined;
  console.log(`runs: ${runs} each (interleaved, after 2 warm-ups); medians`);
  console.log(
    `machine: ${cpus().length} cores, 1-min load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} (wall times stretch with load; CPU times much less)`,
  );
  console.log('');
  console.log(
    `${'command'.padEnd(24)} ${'wall'.padStart(9)}  ${'/ node'.padStart(6)}  ${'CPU'.padStart(9)}  ${'/ node'.padStart(6)}  target (wall / node)`,
  );
  for (const [label, [, target]] of Object.entries(cases)) {
    const ms = median(samples[label]);
    const ratio = ms / bare;
    const c = cpu[label].length ? median(cpu[label]) : undefined;
    const cpuText = c === undefined ? '—' : `${c.toFixed(0)} ms`;
    const cpuRatio = c === undefined || !bareCpu ? '—' : `${(c / bareCpu).toFixed(2)}x`;
    const verdict = target === undefined ? 'baseline' : `<= ${target.toFixed(1)}x  ${ratio <= target ? 'met' : 'NOT met'}`;
    console.log(
      `${label.padEnd(24)} ${`${ms.toFixed(1)} ms`.padStart(9)}  ${`${ratio.toFixed(2)}x`.padStart(6)}  ${cpuText.padStart(9)}  ${cpuRatio.padStart(6)}  ${verdict}`,
    );
  }
} finally {
  rmSync(repo, { recursive: true, force: true });
}
