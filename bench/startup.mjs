#!/usr/bin/env node
// Start-up cost of the CLI: median wall time and mean CPU time of a few `node bin/mlops.cjs ...`
// commands against a bare `node -e 0`, in one interleaved run, each with its target met / NOT met.
// The commands run in a scratch repository holding mlops.config.example.yaml (as after `mlops init`).
// Two environments, side by side: this machine's (what a user here gets; a variable such as
// NODE_EXTRA_CA_CERTS makes every node start slower, `node -e 0` included) and a clean one (PATH,
// HOME, NO_COLOR only), where the ratio shows what mlops itself adds.
// CPU time is what to watch on a shared machine (wall time stretches with load); targets are wall.
// Run `npm run build` first.
// Usage: node bench/startup.mjs [runs]   (default 21 runs each, after 2 warm-up runs)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Math.max(15, Number(process.argv[2]) || 21);
const bin = path.join(root, 'bin/mlops.cjs');

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
function time(args, env) {
  const c0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env });
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

// CPU times come in 10 ms ticks: their mean over the runs is finer than their median.
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

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
const envs = {
  [`this machine's environment${process.env.NODE_EXTRA_CA_CERTS ? ' (with NODE_EXTRA_CA_CERTS)' : ''}`]: { ...process.env, NO_COLOR: '1' },
  'clean environment (PATH, HOME, NO_COLOR only)': { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
};
const samples = {};
for (const e of Object.keys(envs)) for (const c of Object.keys(cases)) samples[`${e}\0${c}`] = { wall: [], cpu: [] };
try {
  for (const env of Object.values(envs)) for (const [args] of Object.values(cases)) for (let i = 0; i < 2; i++) time(args, env);
  const load0 = loadavg()[0];
  // Interleaved, so drift in machine load hits all alike.
  for (let i = 0; i < runs; i++) {
    for (const [e, env] of Object.entries(envs)) {
      for (const [label, [args]] of Object.entries(cases)) {
        const t = time(args, env);
        samples[`${e}\0${label}`].wall.push(t.ms);
        if (t.cpuMs !== undefined) samples[`${e}\0${label}`].cpu.push(t.cpuMs);
      }
    }
  }
  const load1 = loadavg()[0];

  console.log(`runs: ${runs} each (interleaved, after 2 warm-ups); wall: median, CPU (user+sys): mean`);
  console.log(
    `machine: ${cpus().length} cores, 1-min load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} (wall times stretch with load; CPU times much less)`,
  );
  for (const e of Object.keys(envs)) {
    const bare = samples[`${e}\0node -e 0`];
    const bareWall = median(bare.wall);
    const bareCpu = bare.cpu.length ? mean(bare.cpu) : undefined;
    console.log('');
    console.log(`${e}:`);
    console.log(
      `${'command'.padEnd(24)} ${'wall'.padStart(9)}  ${'/ node'.padStart(6)}  ${'CPU'.padStart(9)}  ${'/ node'.padStart(6)}  target (wall / node)`,
    );
    for (const [label, [, target]] of Object.entries(cases)) {
      const { wall, cpu } = samples[`${e}\0${label}`];
      const ms = median(wall);
      const ratio = ms / bareWall;
      const c = cpu.length ? mean(cpu) : undefined;
      const cpuText = c === undefined ? '—' : `${c.toFixed(1)} ms`;
      const cpuRatio = c === undefined || !bareCpu ? '—' : `${(c / bareCpu).toFixed(2)}x`;
      const verdict = target === undefined ? 'baseline' : `<= ${target.toFixed(1)}x  ${ratio <= target ? 'met' : 'NOT met'}`;
      console.log(
        `${label.padEnd(24)} ${`${ms.toFixed(1)} ms`.padStart(9)}  ${`${ratio.toFixed(2)}x`.padStart(6)}  ${cpuText.padStart(9)}  ${cpuRatio.padStart(6)}  ${verdict}`,
      );
    }
  }
} finally {
  rmSync(repo, { recursive: true, force: true });
}
