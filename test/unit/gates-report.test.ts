/** The compare table and Markdown report (core/compare-report.ts). */
import { describe, expect, it } from 'vitest';
import { JSDOM } from 'jsdom';
import {
  allowedRange,
  commentMarker,
  renderGateChart,
  renderJunit,
  renderMarkdown,
  renderMetricsReport,
  renderTable,
  type CompareResult,
} from '../../src/core/compare-report.js';
import { evaluateGates, type GateSpec } from '../../src/core/gates.js';
import { mermaidBlocks, parseMermaid } from '../support/mermaid.js';

function result(candidate: Record<string, number>, baseline?: Record<string, number>): CompareResult {
  const ev = evaluateGates({
    gates: [
      { metric: 'accuracy', direction: 'higher', maxRelativeDrop: 0.01 },
      { metric: 'loss', direction: 'lower', maxAbsoluteDrop: 0.05, max: 1 },
    ],
    candidate,
    baseline,
    noBaseline: 'pass',
  });
  return {
    verdict: ev.verdict,
    candidate: { runId: 'c1', experimentId: '3', runName: 'cand', url: 'http://mlflow/#/experiments/3/runs/c1' },
    baseline: baseline
      ? {
          runId: 'b1',
          experimentId: '3',
          url: 'http://mlflow/#/experiments/3/runs/b1',
          description: 'm@production (version 2)',
          source: { type: 'alias', model: 'm', alias: 'production', version: '2' },
        }
      : null,
    noBaseline: baseline
      ? undefined
      : { policy: 'pass', reason: 'registered model m does not exist yet', spec: 'alias "production" of model m' },
    gates: ev.gates,
    others: ev.others,
    failed: ev.failed,
    warnings: ev.warnings,
  };
}

describe('renderTable', () => {
  it('aligns the columns and lists failures', () => {
    const text = renderTable(result({ accuracy: 0.85, loss: 0.3, 'f1|x': 0.5 }, { accuracy: 0.9, loss: 0.3, 'f1|x': 0.6 }));
    expect(text).toBe(
      [
        'candidate: cand (c1)',
        'baseline:  m@production (version 2) — b1',
        '',
        'metric    baseline  candidate  delta  rel. delta  tolerance         verdict',
        'accuracy       0.9       0.85  -0.05     -5.556%  drop ≤ 1%         FAIL',
        'loss           0.3        0.3      0          0%  rise ≤ 0.05, ≤ 1  pass',
        '-'.repeat(75),
        'f1|x           0.6        0.5   -0.1     -16.67%  not gated',
        '',
        '✖ accuracy: worse by 5.556% (allowed 1%)',
        '',
        '✖ 1 of 2 gates failed: regression',
      ].join('\n'),
    );
  });
  it('says when there is no baseline', () => {
    const text = renderTable(result({ accuracy: 0.85, loss: 0.3 }));
    expect(text).toContain('baseline:  none (registered model m does not exist yet; policy: pass)');
    expect(text).toMatch(/accuracy\s+—\s+0\.85\s+—\s+—\s+drop ≤ 1%\s+pass\*/);
    expect(text).toContain('✔ 2 gates passed (with warnings)');
  });
});

describe('renderMarkdown', () => {
  it('links both runs, escapes cells, folds the other metrics', () => {
    const md = renderMarkdown(result({ accuracy: 0.85, loss: 0.3, 'f1|x': 0.5 }, { accuracy: 0.9, loss: 0.3, 'f1|x': 0.6 }));
    expect(md).toContain('### ❌ mlops compare: regression in 1 of 2 gates');
    expect(md).toContain('- **Candidate:** [cand (c1)](http://mlflow/#/experiments/3/runs/c1)');
    expect(md).toContain('- **Baseline:** m@production (version 2): [b1](http://mlflow/#/experiments/3/runs/b1)');
    expect(md).toContain('| Metric | Baseline | Candidate | Delta | Rel. delta | Tolerance | Verdict |');
    expect(md).toContain('| `accuracy` | 0.9 | 0.85 | -0.05 | -5.556% | drop ≤ 1% | ❌ **fail** |');
    expect(md).toContain('- ❌ `accuracy`: worse by 5.556% (allowed 1%)');
    expect(md).toContain('<details><summary>Other metrics (1, not gated)</summary>');
    expect(md).toContain('| `f1\\|x` | 0.6 | 0.5 | -0.1 | -16.67% | not gated |');
  });
  it('a pass with no baseline carries the warning', () => {
    const md = renderMarkdown(result({ accuracy: 0.85, loss: 0.3 }));
    expect(md).toContain('### ✅ mlops compare: all 2 gates passed');
    expect(md).toContain(
      '- **Baseline:** none — registered model m does not exist yet (looked for alias "production" of model m; policy: pass)',
    );
    expect(md).toContain('⚠️ pass (no baseline)');
    expect(md).toContain('> ⚠️ No baseline yet');
  });
});

describe('charts, MLflow link and CI reports', () => {
  const gate = (g: Partial<GateSpec> & { metric: string }, candidate: number, baseline?: number) =>
    evaluateGates({
      gates: [{ direction: 'higher', ...g }],
      candidate: { [g.metric]: candidate },
      baseline: baseline === undefined ? undefined : { [g.metric]: baseline },
      noBaseline: 'pass',
    }).gates[0];

  it('the allowed band is the stricter of the tolerances, clipped by the floor or ceiling', () => {
    expect(allowedRange(gate({ metric: 'a', maxRelativeDrop: 0.01, maxAbsoluteDrop: 0.02 }, 0.9, 0.9))).toEqual({
      low: 0.9 - 0.009,
      high: undefined,
    });
    expect(allowedRange(gate({ metric: 'a', maxAbsoluteDrop: 0.2, min: 0.8 }, 0.9, 0.9))).toEqual({ low: 0.8, high: undefined });
    expect(allowedRange(gate({ metric: 'l', direction: 'lower', maxAbsoluteDrop: 0.05, max: 0.52 }, 0.5, 0.5))).toEqual({
      low: undefined,
      high: 0.52,
    });
    expect(allowedRange(gate({ metric: 'l', direction: 'lower' }, 0.5, 0.5))).toEqual({ low: undefined, high: 0.5 });
    expect(allowedRange(gate({ metric: 'a', min: 0.7 }, 0.9))).toEqual({ low: 0.7, high: undefined });
  });

  it('each gate chart is valid Mermaid (parsed by mermaid itself), with both values and the band edge', async () => {
    const cases = [
      gate({ metric: 'accuracy', maxRelativeDrop: 0.01 }, 0.8909, 0.9),
      gate({ metric: 'val/loss "x"', direction: 'lower', maxAbsoluteDrop: 0.05, max: 1 }, -0.25, -0.3),
      gate({ metric: 'tiny', maxRelativeDrop: 0.5 }, 0.00000012, 0.0000002),
      gate({ metric: 'huge', direction: 'lower', maxRelativeDrop: 0.1 }, 123456789, 120000000),
      gate({ metric: 'same', maxAbsoluteDrop: 0 }, 3, 3),
    ];
    for (const c of cases) {
      const chart = renderGateChart(c)!;
      await expect(parseMermaid(chart)).resolves.toMatchObject({ diagramType: 'xychart' });
      // Data and axis take plain decimals only (the title is free text).
      expect(chart.split('\n').filter((l) => !l.includes('title'))).not.toContainEqual(expect.stringMatching(/\de[+-]?\d/));
    }
    const acc = renderGateChart(cases[0])!;
    expect(acc).toContain('bar [0.9, 0.8909]');
    expect(acc).toContain('line "lowest allowed" [0.891, 0.891]');
    expect(acc).toContain('title "accuracy (higher is better; allowed ≥ 0.891)"');
    expect(renderGateChart(cases[1])).toContain(`title "val/loss 'x' (lower is better; allowed ≤ -0.25)"`);
    // The parser really rejects what Mermaid would not draw.
    await expect(parseMermaid(acc.replace('bar [0.9, 0.8909]', 'bar [0.9, 0.89.09]'))).rejects.toThrow(/Parse error/);
  });

  it('no chart without both values; the report carries one chart per comparable gate and the compare-runs link', async () => {
    expect(renderGateChart(gate({ metric: 'a' }, 0.9))).toBeUndefined();
    expect(renderGateChart(gate({ metric: 'a' }, Number.NaN, 0.9))).toBeUndefined();
    const r = {
      ...result({ accuracy: 0.85, loss: 0.3 }, { accuracy: 0.9, loss: 0.3 }),
      compareUrl: 'http://mlflow/#/compare-runs?runs=%5B%22c1%22%5D',
    };
    const md = renderMarkdown(r);
    const blocks = mermaidBlocks(md);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) await parseMermaid(b);
    expect(md).toContain('- [Compare both runs in MLflow](http://mlflow/#/compare-runs?runs=%5B%22c1%22%5D)');
    expect(mermaidBlocks(renderMarkdown(result({ accuracy: 0.85, loss: 0.3 })))).toEqual([]);
  });

  it('the sticky marker differs per project', () => {
    expect(commentMarker('churn')).toBe('<!-- mlops:compare project=churn -->');
    expect(commentMarker('churn')).not.toBe(commentMarker('churn-2'));
    expect(commentMarker('a -->b')).not.toContain('-->b');
  });

  it('JUnit: one test case per gate, failures with their reasons; it parses as XML', () => {
    const r = result({ accuracy: 0.85, loss: 0.3 }, { accuracy: 0.9, loss: 0.3 });
    const doc = new new JSDOM('').window.DOMParser().parseFromString(renderJunit(r, 'mlops compare: a&b'), 'application/xml');
    expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
    const cases = [...doc.getElementsByTagName('testcase')];
    expect(cases.map((c) => [c.getAttribute('classname'), c.getAttribute('name'), c.getElementsByTagName('failure').length])).toEqual([
      ['mlops compare: a&b', 'accuracy (drop ≤ 1%)', 1],
      ['mlops compare: a&b', 'loss (rise ≤ 0.05, ≤ 1)', 0],
    ]);
    expect(cases[0].getElementsByTagName('failure')[0].getAttribute('message')).toBe('worse by 5.556% (allowed 1%)');
    expect(doc.documentElement.getAttribute('failures')).toBe('1');
  });

  it('metrics report: both runs per metric in OpenMetrics text, names made valid', () => {
    const text = renderMetricsReport(result({ accuracy: 0.85, loss: 0.3, 'f1|x': Number.NaN }, { accuracy: 0.9, loss: 0.3 }));
    expect(text.trimEnd().split('\n')).toEqual([
      'accuracy{run="candidate"} 0.85',
      'accuracy{run="baseline"} 0.9',
      'loss{run="candidate"} 0.3',
      'loss{run="baseline"} 0.3',
      'f1_x{run="candidate"} NaN',
      'mlops_gates_failed 1',
    ]);
  });
});
