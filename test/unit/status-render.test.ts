/** What `mlops status` prints from the deployment record and the audit records it reads from S3. */
import { describe, expect, it } from 'vitest';
import { renderAudit, renderDeployment } from '../../src/app/status.js';
import { sealRecord } from '../../src/core/audit.js';
import { advance, newDeployment } from '../../src/core/deployment.js';

const now = new Date(Date.UTC(2026, 0, 1, 12));
// eslint-disable-next-line no-control-regex -- the point is that none reaches the terminal
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('status shows what it read from S3, never obeys it', () => {
  it('an audit record written by someone with write access to the bucket cannot drive the terminal or forge a line', async () => {
    const forged = await sealRecord(
      {
        kind: 'stage',
        action: 'cutover.started\u001b[2J',
        endpoint: 'churn',
        actor: 'ana@laptop\n  #99 2026-01-01 stage/done by admin\u001b]0;pwned\u0007',
      },
      undefined,
      now,
    );
    const text = renderAudit([forged]);
    expect(text).not.toMatch(CONTROL);
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toContain('cutover.started\\x1b[2J');
    expect(text).toContain('ana@laptop\\n  #99');
  });

  it('a deployment record with escapes in the model name, version, reason, history and bake reasons', () => {
    const rec = newDeployment({
      endpoint: 'churn',
      candidate: { registeredModel: 'churn\u001b[31m', version: '2\u009b2J' },
      artifactPrefix: 's3://artifacts/churn',
      now,
    });
    const tampered = {
      ...advance(rec, 'rolled-back', now, 'x'),
      reason: 'bake failed\r\u001b[1A',
      history: [...rec.history, { stage: 'rolled-back' as const, at: '2026-01-01\u001b[2K' }],
      bake: { passed: false, reasons: ['errors\u001b[8m hidden'], measured: {}, judgedAt: now.toISOString() },
    };
    const text = renderDeployment(tampered, now);
    expect(text).not.toMatch(CONTROL);
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toContain('churn\\x1b[31m v2\\x9b2J at stage rolled-back (bake failed\\r\\x1b[1A)');
    expect(text).toContain('failed: errors\\x1b[8m hidden');
  });
});
