/**
 * The monitor report's pictures: per drifted numeric feature, the baseline and live shares of the
 * baseline's decile bins as a Mermaid chart, worst drift first, checked with Mermaid's own parser.
 */
import { describe, expect, it } from 'vitest';
import { evaluateDrift, LiveSummary, type FeatureDrift } from '../../src/core/drift/evaluate.js';
import { ProfileBuilder } from '../../src/core/drift/profile.js';
import { MAX_DISTRIBUTION_CHARTS, renderDistributionChart, renderMarkdown } from '../../src/core/monitor-report.js';
import type { MonitorOutcome } from '../../src/core/monitor.js';
import { mermaidBlocks, parseMermaid } from '../support/mermaid.js';
import { mulberry32 } from '../support/random.js';

interface Shift {
  /** Added to the strongly drifting feature. */
  big: number;
  /** Added to the mildly drifting one. */
  small: number;
}
const COLUMNS = ['far', 'near', 'steady', 'kind'];

function rows(n: number, seed: number, shift: Shift): string[][] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => [
    String(r() + shift.big),
    String(r() * 10 + shift.small),
    String(r() * 5),
    ['a', 'b', 'c'][Math.floor(r() * 3)],
  ]);
}

/** A monitor outcome around a real drift evaluation of live rows against a baseline profile. */
function outcome(shift: Shift): MonitorOutcome {
  const builder = new ProfileBuilder({});
  builder.setColumns(COLUMNS);
  for (const row of rows(4000, 1, { big: 0, small: 0 })) builder.addRow(row);
  const profile = builder.finish();
  const live = new LiveSummary(profile);
  for (const row of rows(2000, 2, shift)) live.addInputCsv(row.join(','));
  const report = evaluateDrift(live, { minSamples: 100, driftedShare: 0.3 });
  return {
    ok: report.dataset.status !== 'drift',
    status: report.dataset.status,
    endpoint: 'churn-prod',
    variant: 'blue',
    baseline: 'run r1 (mlops/profile.json)',
    capture: { source: 'memory', files: 1, bytes: 1, records: 2000, lines: 2000, bad: 0, outsideWindow: 0 },
    recordsPerSecond: 1,
    elapsedMs: 1,
    dataset: report.dataset,
    driftScore: 0,
    features: report.features,
    consecutive: 1,
    consecutiveWindows: 3,
    rollback: { due: false, performed: false, detail: '' },
    metrics: { namespace: 'mlops', published: 0 },
    violations: [],
  } as unknown as MonitorOutcome;
}

const feature = (o: MonitorOutcome, name: string) => o.features.find((f) => f.name === name)!;

describe('drift result: decile shares', () => {
  it('each numeric feature carries the baseline and live share of every baseline decile bin; categorical ones none', () => {
    const o = outcome({ big: 0.5, small: 2 });
    for (const name of ['far', 'near', 'steady']) {
      const { bins } = feature(o, name);
      expect(bins, name).toBeDefined();
      expect(bins!.baseline).toHaveLength(bins!.edges.length + 1);
      expect(bins!.live).toHaveLength(bins!.baseline.length);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      expect(sum(bins!.baseline)).toBeCloseTo(1, 4);
      expect(sum(bins!.live)).toBeCloseTo(1, 4);
      // Deciles of the baseline: about a tenth of its rows in each bin.
      for (const s of bins!.baseline) expect(s).toBeCloseTo(0.1, 1);
    }
    // Shifted up by half its range: no live row in the baseline's lowest half.
    expect(feature(o, 'far').bins!.live.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(feature(o, 'kind').bins).toBeUndefined();
  });
});

describe('monitor report charts', () => {
  it('one valid chart per drifted numeric feature, the worst drift first, bars baseline and a line live', async () => {
    const o = outcome({ big: 0.5, small: 2 });
    const drifted = o.features.filter((f) => f.status === 'drift').map((f) => f.name);
    expect(drifted.sort()).toEqual(['far', 'near']);
    const md = renderMarkdown(o);
    const blocks = mermaidBlocks(md);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) await expect(parseMermaid(b)).resolves.toMatchObject({ diagramType: 'xychart' });
    // far moved by half its range, near by a fifth: far first.
    expect(blocks[0]).toMatch(/^ {2}title "far: /m);
    expect(blocks[1]).toMatch(/^ {2}title "near: /m);
    const far = feature(o, 'far');
    const chart = renderDistributionChart(far)!;
    expect(chart).toBe(blocks[0]);
    const pct = (xs: number[]) => `[${xs.map((x) => Math.round(x * 1000) / 10).join(', ')}]`;
    expect(chart).toContain(`bar "baseline" ${pct(far.bins!.baseline)}`);
    expect(chart).toContain(`line "live" ${pct(far.bins!.live)}`);
    expect(chart.match(/x-axis \[(.*)\]/)![1].split('", "')).toHaveLength(far.bins!.baseline.length);
    expect(md).toContain("share of rows in each of the baseline's decile bins (bars: baseline, line: live)");
  });

  it('no drift, no charts', () => {
    const o = outcome({ big: 0, small: 0 });
    expect(o.status).toBe('no-drift');
    expect(mermaidBlocks(renderMarkdown(o))).toEqual([]);
  });

  it('a feature name cannot break the chart or its code block', async () => {
    const o = outcome({ big: 0.5, small: 0 });
    const far = feature(o, 'far');
    far.name = 'x"```\ny';
    const md = renderMarkdown(o);
    const blocks = mermaidBlocks(md);
    expect(blocks).toHaveLength(1);
    await expect(parseMermaid(blocks[0])).resolves.toMatchObject({ diagramType: 'xychart' });
    expect(blocks[0]).toContain(`title "x''''\\ny: `);
  });

  it(`charts at most ${MAX_DISTRIBUTION_CHARTS} features and names the rest`, () => {
    const o = outcome({ big: 0.5, small: 0 });
    const far = feature(o, 'far');
    const many: FeatureDrift[] = Array.from({ length: MAX_DISTRIBUTION_CHARTS + 2 }, (_, i) => ({ ...far, name: `f${i}`, value: i }));
    const md = renderMarkdown({ ...o, features: many });
    expect(mermaidBlocks(md)).toHaveLength(MAX_DISTRIBUTION_CHARTS);
    // Sorted by drift: the two smallest values are the ones left out.
    expect(md).toContain('_Not charted (2 more): f1, f0._');
  });
});
