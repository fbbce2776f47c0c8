/**
 * What `mlops init` writes for IAM: the execution-role policy (the very document `mlops bootstrap`
 * puts on the role for the scaffold's config) and the CI's OIDC trust policies.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needsOfConfig } from '../../src/app/account.js';
import { loadConfig } from '../../src/config/load.js';
import { samePolicy } from '../../src/core/bootstrap-plan.js';
import { runCli } from '../support/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function init(...flags: string[]): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlops-init-iam-'));
  dirs.push(dir);
  // No dvc on PATH and no .git: init writes its files and leaves DVC to the person.
  const r = await runCli(['init', '--name', 'fraud', '--account-id', '111122223333', '--region', 'eu-west-1', ...flags], {
    cwd: dir,
    env: { PATH: '' },
  });
  expect(r.code).toBe(0);
  return dir;
}

const readJson = (dir: string, file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, any>;

describe('init: IAM templates', () => {
  it("the execution-role policy is the one bootstrap puts on the role for the scaffold's config", async () => {
    const dir = await init('--ci', 'none');
    const { config } = await loadConfig({ cwd: dir, env: {} });
    const needs = needsOfConfig(config, {});
    expect(needs.role?.arn).toBe('arn:aws:iam::111122223333:role/fraud-sagemaker-execution');
    const written = readJson(dir, 'iam/mlops-execution-policy.json');
    expect(samePolicy(written, needs.role!.policy)).toBe(true);
    expect(JSON.stringify(written)).toContain('arn:aws:s3:::fraud-mlops/models/*');
    expect(existsSync(path.join(dir, 'iam/github-oidc-trust.json'))).toBe(false);
    expect(existsSync(path.join(dir, 'iam/gitlab-oidc-trust.json'))).toBe(false);
  });

  it('with train.backend sagemaker, the role may also read and write the training prefix and the checkpoints (issue 18)', async () => {
    const dir = await init('--ci', 'none');
    const { config } = await loadConfig({ cwd: dir, env: {} });
    const withTraining = {
      ...config,
      train: {
        ...config.train,
        backend: 'sagemaker',
        sagemaker: { image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/sk-train:1', spot: { checkpointS3Uri: 's3://fraud-ckpt/run' } },
      },
    } as unknown as typeof config;
    const policy = JSON.stringify(needsOfConfig(withTraining, {}).role!.policy);
    expect(policy).toContain('arn:aws:s3:::fraud-mlops/models/training/*');
    expect(policy).toContain('arn:aws:s3:::fraud-ckpt/run/*');
    expect(policy).toContain('repository/sk-train');
    expect(JSON.stringify(needsOfConfig(config, {}).role!.policy)).not.toContain('training/*');
  });

  it('OIDC trust for GitHub (one repo, production environment) and GitLab (one project, main branch)', async () => {
    const dir = await init('--ci', 'both');
    const github = readJson(dir, 'iam/github-oidc-trust.json').Statement[0];
    expect(github).toMatchObject({
      Effect: 'Allow',
      Action: 'sts:AssumeRoleWithWebIdentity',
      Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' },
      Condition: {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': 'repo:OWNER/REPO:environment:production',
        },
      },
    });
    const gitlab = readJson(dir, 'iam/gitlab-oidc-trust.json').Statement[0];
    expect(gitlab).toMatchObject({
      Action: 'sts:AssumeRoleWithWebIdentity',
      Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/gitlab.com' },
      Condition: {
        StringEquals: { 'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:sub': 'project_path:GROUP/PROJECT:ref_type:branch:ref:main' },
      },
    });
  });

  it("the deploy policy lets CI run this project's SageMaker training jobs and read their logs", async () => {
    const dir = await init('--ci', 'github');
    const statements = readJson(dir, 'iam/mlops-deploy-policy.json').Statement as Array<{
      Action: string | string[];
      Resource: string | string[];
    }>;
    const training = statements.find((s) => [s.Action].flat().includes('sagemaker:CreateTrainingJob'))!;
    expect([training.Action].flat()).toEqual(expect.arrayContaining(['sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob']));
    expect(training.Resource).toBe('arn:aws:sagemaker:eu-west-1:111122223333:training-job/fraud-*');
    const logs = statements.find((s) => [s.Action].flat().includes('logs:GetLogEvents'))!;
    expect([logs.Resource].flat()[0]).toBe('arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/TrainingJobs');
  });
});
