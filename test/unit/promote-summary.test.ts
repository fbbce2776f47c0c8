/** What `mlops promote` prints about the deployment it advanced, read back from the record in S3. */
import { describe, expect, it } from 'vitest';
import { newDeployment } from '../../src/core/deployment.js';
import { promoteSummary } from '../../src/core/promote-run.js';

// eslint-disable-next-line no-control-regex -- the point is that none reaches the terminal
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('promote shows what it read from S3, never obeys it', () => {
  it('a deployment record whose candidate version carries escapes and a newline cannot drive the terminal or forge a line', () => {
    const rec = newDeployment({
      endpoint: 'churn',
      candidate: { registeredModel: 'churn', version: '3\u001b]0;pwned\u0007\nchurn: deployment x (v9) at stage done: done' },
      artifactPrefix: 's3://artifacts/churn',
      now: new Date(Date.UTC(2026, 0, 1, 12)),
    });
    const text = promoteSummary('churn', { outcome: 'advanced', deployment: rec, steps: [] });
    expect(text).not.toMatch(CONTROL);
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toContain(`(v3\\x1b]0;pwned\\x07\\nchurn: deployment x (v9) at stage done: done) at stage ${rec.stage}: advanced`);
  });

  it('a dry run lists its plan, one line per step, each printable', () => {
    const text = promoteSummary('churn', { outcome: 'nothing', steps: ['MLflow alias production -> churn v3\u001b[2J'] }, true);
    expect(text.split('\n')).toEqual([
      'Plan (dry run: nothing was changed):',
      '  1. MLflow alias production -> churn v3\\x1b[2J',
      'churn: deployment -  at stage -: nothing',
    ]);
  });
});
