/** The pure helpers of the SageMaker training backend (src/core/training.ts). */
import { describe, expect, it } from 'vitest';
import { channelVersion, scriptModeHyperparameters, spotSavingsPercent, trainingJobName } from '../../src/core/training.js';

const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

describe('trainingJobName', () => {
  it('is a valid SageMaker name with the project, the time and the suffix', () => {
    expect(trainingJobName('Churn_Model', new Date('2026-01-02T03:04:05Z'), 'ab12')).toBe('churn-model-20260102-030405-ab12');
  });

  it('stays within 63 characters and valid for any project name', () => {
    for (const project of ['x'.repeat(200), '--a--', '___', undefined, 'Ünïcode model']) {
      const name = trainingJobName(project, new Date('2026-01-02T03:04:05Z'), 'ab12');
      expect(name, String(project)).toMatch(SAGEMAKER_NAME);
      expect(name.endsWith('-20260102-030405-ab12')).toBe(true);
    }
  });
});

describe('scriptModeHyperparameters', () => {
  it('JSON-encodes every value and adds the script-mode entries', () => {
    expect(
      scriptModeHyperparameters(
        { C: 0.5, solver: 'lbfgs', warm: true },
        { program: 'train.py', submitDirectory: 's3://b/k.tar.gz', region: 'eu-west-1', jobName: 'j' },
      ),
    ).toEqual({
      C: '0.5',
      solver: '"lbfgs"',
      warm: 'true',
      sagemaker_program: '"train.py"',
      sagemaker_submit_directory: '"s3://b/k.tar.gz"',
      sagemaker_region: '"eu-west-1"',
      sagemaker_job_name: '"j"',
      sagemaker_container_log_level: '20',
    });
  });
});

describe('spotSavingsPercent', () => {
  it('is 1 - billable / training, in percent with one decimal', () => {
    expect(spotSavingsPercent(1000, 300)).toBe(70);
    expect(spotSavingsPercent(3, 1)).toBe(66.7);
    expect(spotSavingsPercent(0, 0)).toBe(0);
  });
});

describe('channelVersion', () => {
  it('depends on the paths and hashes, not on their order', () => {
    const a = { path: 'data/raw.csv', hash: '1f' };
    const b = { path: 'data/extra.csv', hash: '2e' };
    expect(channelVersion([a, b])).toBe(channelVersion([b, a]));
    expect(channelVersion([a, b])).toMatch(/^[0-9a-f]{16}$/);
    expect(channelVersion([a, { ...b, hash: '2f' }])).not.toBe(channelVersion([a, b]));
    expect(channelVersion([a, { ...b, path: 'data/other.csv' }])).not.toBe(channelVersion([a, b]));
  });
});
