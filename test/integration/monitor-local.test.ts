/**
 * `mlops profile` and `mlops monitor` end to end over local capture files: baseline-like traffic
 * reports no drift, shifted traffic reports drift (exit 1, violations file, consecutive count),
 * too few records is "insufficient data", and a due rollback goes through the rollback port.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { mermaidBlocks, parseMermaid } from '../support/mermaid.js';
import { gaussian, mulberry32 } from '../support/random.js';

function rng(seed: number) {
  const u = mulberry32(seed);
  return { u, normal: () => gaussian(u) };
}

interface Row {
  x1: number;
  x2: number;
  x3: number;
  color: string;
  score: number;
}
function makeRows(n: number, seed: number, shift = 0): Row[] {
  const r = rng(seed);
  const colors = ['red', 'green', 'blue'];
  return Array.from({ length: n }, () => {
    const x1 = r.normal() + shift;
    const x2 = 5 + 2 * r.normal() + shift * 2;
    const x3 = r.u() * 10;
    const color = colors[Math.min(2, Math.floor((shift ? r.u() * 0.5 : r.u()) * 3))];
    const score = 1 / (1 + Math.exp(-(x1 + 0.2 * x2 - 1)));
    return { x1, x2, x3, color, score };
  });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
/** Capture lines in SageMaker's format, cycling through encodings (CSV, JSON, BASE64; several rows per record sometimes). */
function captureLines(rows: Row[], start: Date): string[] {
  const lines: string[] = [];
  let i = 0;
  let k = 0;
  while (i < rows.length) {
    const t = new Date(start.getTime() + k * 1000).toISOString();
    const mode = k % 4;
    let input: object;
    let output: object;
    if (mode === 0 || mode === 3) {
      const batch = rows.slice(i, i + (mode === 3 ? 3 : 1));
      i += batch.length;
      input = {
        observedContentType: 'text/csv',
        mode: 'INPUT',
        data: batch.map((r) => `${r.x1},${r.x2},${r.x3},${r.color}`).join('\n'),
        encoding: 'CSV',
      };
      output = {
        observedContentType: 'application/json',
        mode: 'OUTPUT',
        data: JSON.stringify({ predictions: batch.map((r) => r.score) }),
        encoding: 'JSON',
      };
    } else if (mode === 1) {
      const r = rows[i++];
      input = {
        observedContentType: 'application/json',
        mode: 'INPUT',
        data: JSON.stringify({ dataframe_split: { columns: ['x1', 'x2', 'x3', 'color'], data: [[r.x1, r.x2, r.x3, r.color]] } }),
        encoding: 'JSON',
      };
      output = { observedContentType: 'text/csv', mode: 'OUTPUT', data: String(r.score), encoding: 'CSV' };
    } else {
      const r = rows[i++];
      input = {
        observedContentType: 'application/json',
        mode: 'INPUT',
        data: b64(JSON.stringify({ instances: [{ x1: r.x1, x2: r.x2, x3: r.x3, color: r.color }] })),
        encoding: 'BASE64',
      };
      output = { observedContentType: 'application/octet-stream', mode: 'OUTPUT', data: b64(String(r.score)), encoding: 'BASE64' };
    }
    lines.push(
      JSON.stringify({
        captureData: { endpointInput: input, endpointOutput: output },
        eventMetadata: { eventId: `e${k}`, inferenceId: `i${k}`, inferenceTime: t },
        eventVersion: '0',
      }),
    );
    k++;
  }
  return lines;
}

let dir: string;
const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mlops-monitor-'));
  const holdout = makeRows(3000, 1);
  writeFileSync(
    path.join(dir, 'holdout.csv'),
    'x1,x2,x3,color,target,score\n' +
      holdout.map((r) => `${r.x1},${r.x2},${r.x3},${r.color},${r.score > 0.5 ? 1 : 0},${r.score}`).join('\n') +
      '\n',
  );
  const start = new Date('2026-11-26T10:00:00Z');
  for (const [name, rows] of [
    ['same', makeRows(2000, 2)],
    ['shifted', makeRows(2000, 3, 1)],
    ['few', makeRows(20, 4)],
  ] as const) {
    const d = path.join(dir, name, 'ep', 'AllTraffic', '2026', '11', '26', '10');
    mkdirSync(d, { recursive: true });
    const lines = captureLines(rows, start);
    const half = Math.ceil(lines.length / 2);
    writeFileSync(path.join(d, 'a.jsonl'), lines.slice(0, half).join('\n') + '\n');
    writeFileSync(path.join(d, 'b.jsonl'), lines.slice(half).join('\n')); // no trailing newline
  }
  writeFileSync(path.join(dir, 'mlops.config.yaml'), 'monitor:\n  publish: false\n  consecutiveWindows: 2\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mlops profile', () => {
  it('profiles a CSV holdout: numeric and categorical features, prediction as output, label left out', async () => {
    const r = await runCli(['profile', 'holdout.csv', '--label', 'target', '--prediction', 'score', '--out', 'profile.json', '--json'], {
      cwd: dir,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(readFileSync(path.join(dir, 'profile.json'), 'utf8'));
    expect(p.schema).toBe('mlops.profile/v2');
    expect(p.rows).toBe(3000);
    expect(p.inputColumns).toEqual(['x1', 'x2', 'x3', 'color']);
    expect(p.outputColumns).toEqual(['score']);
    expect(p.ignoredColumns).toEqual(['target']);
    const byName = Object.fromEntries(p.features.map((f: { name: string }) => [f.name, f]));
    expect(byName.x1.kind).toBe('numeric');
    expect(byName.x1.bins.counts.reduce((s: number, c: number) => s + c, 0)).toBe(3000);
    expect(byName.color.kind).toBe('categorical');
    expect(Object.keys(byName.color.values).sort()).toEqual(['blue', 'green', 'red']);
  });

  it('prints the profile on stdout without --out, and says what is wrong with a bad column', async () => {
    const r = await runCli(['profile', 'holdout.csv'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).features).toHaveLength(6);
    const bad = await runCli(['profile', 'holdout.csv', '--prediction', 'nope'], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/column "nope" is not in the data/);
  });
});

describe('mlops profile: bad input and a file it cannot write', () => {
  it('--out naming a folder is FILE_NOT_WRITTEN (exit 3) saying to name a file, not an internal error', async () => {
    mkdirSync(path.join(dir, 'profiles'), { recursive: true });
    const r = await runCli(['profile', 'holdout.csv', '--out', 'profiles', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).not.toMatch(/internal error|This is a bug/);
    expect(r.json().error).toMatchObject({ code: 'FILE_NOT_WRITTEN', hint: expect.stringContaining('is a folder: name a file') as string });
    expect(r.json().error.hint).not.toContain('result above');
  });

  it('data without rows (only a header, or /dev/null) is bad input, not an empty baseline', async () => {
    writeFileSync(path.join(dir, 'header-only.csv'), 'x1,x2\n');
    for (const file of ['header-only.csv', '/dev/null']) {
      const r = await runCli(['profile', file, '--json'], { cwd: dir, env });
      expect(r.code, `${file}: ${r.stderr}`).toBe(2);
      expect(r.json().error.code).toBe('PROFILE_NO_ROWS');
    }
  });
});

describe('mlops monitor over local capture files', () => {
  it('--since with --from is bad input (exit 2): two windows, not --since silently ignored', async () => {
    const r = await runCli(['monitor', '--capture-dir', 'same', '--since', '1h', '--from', '2026-11-26T10:00:00Z', '--dry-run', '--json'], {
      cwd: dir,
      env,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'BAD_OPTION', message: expect.stringContaining('--since') as string });
  });

  it('baseline-like traffic: no drift, exit 0, empty violations', async () => {
    const r = await runCli(['monitor', '--baseline', 'profile.json', '--capture-dir', 'same', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const o = r.json();
    expect(o.status).toBe('no-drift');
    expect(o.capture.bad).toBe(0);
    expect(o.dataset.samples).toBe(2000);
    expect(o.features.find((f: { name: string }) => f.name === 'score').liveCount).toBe(2000);
    expect(o.features.every((f: { status: string }) => f.status === 'ok')).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, '.mlops/constraint_violations.json'), 'utf8'))).toEqual({ violations: [] });
    expect(o.consecutive).toBe(0);
  });

  it('shifted traffic: drift, exit 1, violations in Model Monitor format, count 1 of 2, no rollback yet', async () => {
    const r = await runCli(
      [
        'monitor',
        '--baseline',
        'profile.json',
        '--capture-dir',
        'same',
        '--capture-dir',
        'shifted',
        '--from',
        '2026-11-26T10:00:00Z',
        '--to',
        '2026-11-26T11:00:00Z',
      ],
      { cwd: dir, env },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/DRIFT: /);
    expect(r.stdout).toMatch(/x1\s+input\s+numeric\s+ks/);
    const v = JSON.parse(readFileSync(path.join(dir, '.mlops/constraint_violations.json'), 'utf8'));
    const names = v.violations.map((x: { feature_name: string }) => x.feature_name);
    expect(names).toEqual(expect.arrayContaining(['x1', 'x2', 'score']));
    expect(v.violations[0]).toEqual({
      feature_name: expect.any(String),
      constraint_check_type: 'baseline_drift_check',
      description: expect.stringMatching(/exceeds the threshold/),
    });
    const report = readFileSync(path.join(dir, '.mlops/monitor-report.md'), 'utf8');
    expect(report).toMatch(/\| x1 \| input \| numeric \| ks \|/);
    // Each drifted numeric feature drawn, baseline vs live, as Mermaid that Mermaid parses.
    const charts = mermaidBlocks(report);
    expect(charts.map((c) => /title "([^:]+):/.exec(c)?.[1]).sort()).toEqual(['score', 'x1', 'x2']);
    for (const c of charts) await parseMermaid(c);
    expect(r.stdout).toMatch(/Consecutive drifting windows: 1 \(rollback after 2\)/);
  });

  it('the same window monitored again says so and does not advance the count (issue 17)', async () => {
    const argv = ['monitor', '--baseline', 'profile.json', '--capture-dir', 'same', '--capture-dir', 'shifted'];
    const r = await runCli([...argv, '--from', '2026-11-26T10:00:00Z', '--to', '2026-11-26T11:00:00Z', '--json'], { cwd: dir, env });
    expect(r.code).toBe(1);
    const o = r.json();
    expect(o.consecutive).toBe(1);
    expect(o.evaluatedBefore).toEqual(expect.any(String));
    expect(o.rollback).toEqual({ due: false, performed: false, detail: expect.stringMatching(/judged before .* stays 1 of 2/) });
  });

  it('a second drifting window makes the rollback due: with --no-rollback it is only reported', async () => {
    const r = await runCli(['monitor', '--baseline', 'profile.json', '--capture-dir', 'shifted', '--no-rollback', '--json'], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(1);
    const o = r.json();
    expect(o.consecutive).toBe(2);
    expect(o.rollback).toEqual({ due: true, performed: false, detail: expect.stringMatching(/disabled/) });
  });

  it('a due rollback without a deploy section to roll back with fails plainly (exit 2), not silently', async () => {
    const r = await runCli(['monitor', '--baseline', 'profile.json', '--capture-dir', 'shifted', '--json'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('ROLLBACK_NOT_CONFIGURED');
  });

  it('too few records: insufficient data, exit 0, the count is left alone', async () => {
    const r = await runCli(['monitor', '--baseline', 'profile.json', '--capture-dir', 'few', '--json'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const o = r.json();
    expect(o.status).toBe('insufficient-data');
    expect(o.driftScore).toBeNull();
    expect(o.consecutive).toBe(2);
  });

  it('a report that cannot be written (/dev/full) is exit 3 with the path and the OS error, after the table (issue 17)', async () => {
    const r = await runCli(['monitor', '--baseline', 'profile.json', '--capture-dir', 'same', '--report', '/dev/full'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/x1\s+input\s+numeric\s+ks/);
    expect(r.stdout).toMatch(/No drift/);
    expect(r.stderr).toMatch(/Could not write the report \/dev\/full: ENOSPC: no space left on device/);
    expect(r.stderr).not.toMatch(/internal error|This is a bug/);
    const json = await runCli(['monitor', '--baseline', 'profile.json', '--capture-dir', 'same', '--violations', '/dev/full', '--json'], {
      cwd: dir,
      env,
    });
    expect(json.code).toBe(3);
    expect(json.json().error).toMatchObject({ code: 'FILE_NOT_WRITTEN', details: { file: '/dev/full', result: { status: 'no-drift' } } });
  });

  it('a window that holds none of the records, and --dry-run writes no state', async () => {
    const r = await runCli(['monitor', '--baseline', 'profile.json', '--capture-dir', 'same', '--since', '1h', '--dry-run', '--json'], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(0);
    expect(r.json().capture.outsideWindow).toBe(r.json().capture.lines);
    expect(existsSync(path.join(dir, '.mlops/monitor-state.local.AllTraffic.json'))).toBe(true);
  });
});
