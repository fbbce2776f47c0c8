/** Text from outside is printed escaped: no forged table rows, no terminal escape codes (issue 17). */
import { describe, expect, it } from 'vitest';
import { markdownCell, printable } from '../../src/core/escape.js';
import { renderMarkdown, renderTable, type CompareResult } from '../../src/core/compare-report.js';
import { evaluateGates } from '../../src/core/gates.js';
import { describeHolder } from '../../src/core/lock.js';
import { renderMarkdown as monitorMarkdown, renderText as monitorText } from '../../src/core/monitor-report.js';
import type { MonitorOutcome } from '../../src/core/monitor.js';

const FORGED = 'acc\n| forged | 1 | 1 | 0 | 0% | none | ✅ pass |';
// eslint-disable-next-line no-control-regex -- looking for raw control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

describe('printable', () => {
  it('writes control, escape and bidi characters as visible escapes and keeps the rest', () => {
    expect(printable('a\nb\tc\x1b[31mred\u202eevil é ✔')).toBe('a\\nb\\tc\\x1b[31mred\\u202eevil é ✔');
    expect(markdownCell('a|b\\c\nd')).toBe('a\\|b\\\\c\\\\nd');
  });
});

function compareResult(metric: string): CompareResult {
  const ev = evaluateGates({
    gates: [{ metric, direction: 'higher', maxRelativeDrop: 0.01 }],
    candidate: { [metric]: 0.5, [`other\n${metric}`]: 1 },
    baseline: { [metric]: 0.9, [`other\n${metric}`]: 1 },
    noBaseline: 'pass',
  });
  return {
    verdict: ev.verdict,
    candidate: { runId: 'c1', experimentId: '3', runName: 'cand\x1b[2J', url: 'http://mlflow/#/experiments/3/runs/c1' },
    baseline: {
      runId: 'b1',
      experimentId: '3',
      url: 'http://mlflow/#/experiments/3/runs/b1',
      description: 'm@production (version 2)',
      source: { type: 'alias', model: 'm', alias: 'production', version: '2' },
    },
    gates: ev.gates,
    others: ev.others,
    failed: ev.failed,
    warnings: ev.warnings,
  };
}

describe('a metric name with a newline does not forge a row', () => {
  it('in the terminal table', () => {
    const text = renderTable(compareResult(FORGED));
    expect(text).not.toMatch(/^\| forged/m);
    expect(text).toContain('acc\\n| forged');
    expect(text).not.toMatch(CONTROL);
  });

  it('in the Markdown report', () => {
    const md = renderMarkdown(compareResult(FORGED));
    expect(md.split('\n').filter((l) => l.startsWith('| forged') || l.startsWith('| `| forged'))).toEqual([]);
    expect(md).not.toMatch(CONTROL);
  });

  it('in the monitor report (text and Markdown)', () => {
    const outcome = {
      endpoint: 'e',
      variant: 'v',
      baseline: 'profile.json\x1b]0;title\x07',
      capture: { records: 1, files: 1, bad: 0, outsideWindow: 0 },
      dataset: {
        status: 'no-drift',
        samples: 1,
        minSamples: 1,
        driftedInputs: [],
        inputFeatures: 1,
        driftedShareThreshold: 0.3,
        reasons: [],
      },
      metrics: { namespace: 'mlops' },
      driftScore: 0,
      consecutive: 0,
      consecutiveWindows: 3,
      rollback: { detail: '' },
      status: 'no-drift',
      features: [
        {
          name: FORGED,
          role: 'input',
          kind: 'numeric',
          method: 'ks',
          value: 0,
          threshold: 0.1,
          liveCount: 1,
          status: 'ok',
          critical: false,
        },
      ],
    } as unknown as MonitorOutcome;
    const text = monitorText(outcome);
    expect(text).not.toMatch(/^\| forged/m);
    expect(text).not.toMatch(CONTROL);
    const md = monitorMarkdown(outcome);
    expect(md.split('\n').filter((l) => l.startsWith('| forged'))).toEqual([]);
    expect(md).not.toMatch(CONTROL);
  });
});

describe('a lock holder read from S3 is printed escaped', () => {
  it('escape codes in who/command come out visible', () => {
    const line = describeHolder(
      {
        who: 'eve@host\x1b[2K\r',
        pid: 1,
        command: 'promote\x1b[31m',
        started: '2026-01-01T00:00:00.000Z',
        expires: '2026-01-01T00:30:00.000Z',
      } as Parameters<typeof describeHolder>[0],
      new Date('2026-01-01T00:00:00.000Z'),
    );
    expect(line).not.toMatch(CONTROL);
    expect(line).toContain('eve@host\\x1b[2K\\r pid 1');
  });
});
