/** The compare table and Markdown report (core/compare-report.ts). */
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderTable, type CompareResult } from '../../src/core/compare-report.js';
import { evaluateGates } from '../../src/core/gates.js';

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
