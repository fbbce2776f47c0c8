import { describe, expect, it } from 'vitest';
import {
  accountNeeds,
  parseEcrImage,
  planBootstrap,
  samePolicy,
  trustsService,
  type AccountObservation,
  type NeedsInput,
} from '../../src/core/bootstrap-plan.js';

const ACCOUNT = '111122223333';
const input = (o: Partial<NonNullable<NeedsInput['deploy']>> = {}, region = 'eu-west-1'): NeedsInput => ({
  region,
  deploy: {
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/churn-exec`,
    image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mlflow-pyfunc:2.9`,
    artifacts: 's3://churn-mlops/models',
    captureDestination: 's3://churn-mlops/datacapture',
    stateUri: 's3://churn-mlops/deployments',
    lockUri: 's3://churn-mlops/locks',
    audit: { uri: 's3://churn-audit/audit', mode: 'COMPLIANCE', retentionDays: 2557 },
    ...o,
  },
});
const needs = accountNeeds(input());
const nothing: AccountObservation = { accountId: ACCOUNT, buckets: {}, role: { state: 'missing' }, repository: { state: 'missing' } };
const everything = (): AccountObservation => ({
  accountId: ACCOUNT,
  buckets: {
    'churn-mlops': { state: 'exists', region: 'eu-west-1' },
    'churn-audit': { state: 'exists', region: 'eu-west-1', versioning: 'Enabled', objectLock: { mode: 'COMPLIANCE', days: 2557 } },
  },
  role: { state: 'exists', trust: needs.role!.trust, policy: needs.role!.policy },
  repository: { state: 'exists' },
});
const byKind = (plan: ReturnType<typeof planBootstrap>, name: string) => plan.find((r) => r.name === name || r.kind === name)!;

describe('accountNeeds', () => {
  it('one entry per bucket, with the settings that use it; Object Lock only on the audit bucket', () => {
    expect(needs.buckets).toEqual([
      { name: 'churn-mlops', uses: ['deploy.artifacts', 'deploy.dataCapture.destination', 'deploy.state.uri', 'deploy.lock.uri'] },
      { name: 'churn-audit', uses: ['deploy.audit.uri'], objectLock: { mode: 'COMPLIANCE', days: 2557 } },
    ]);
    expect(needs.role).toMatchObject({ name: 'churn-exec', path: '/service-role/', accountId: ACCOUNT, partition: 'aws' });
  });

  it('the execution policy: models and training inputs read, capture and output written, the image pulled; never the audit bucket', () => {
    const withTraining = accountNeeds({
      ...input(),
      training: {
        read: ['s3://churn-data/dvc'],
        write: ['s3://churn-mlops/checkpoints'],
        image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/train:1`,
      },
    });
    const statements = withTraining.role!.policy.Statement;
    const of = (action: string) => statements.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());
    expect(of('s3:GetObject')).toEqual(['arn:aws:s3:::churn-mlops/models/*', 'arn:aws:s3:::churn-data/dvc/*']);
    expect(of('s3:PutObject')).toEqual([
      'arn:aws:s3:::churn-mlops/models/*',
      'arn:aws:s3:::churn-mlops/datacapture/*',
      'arn:aws:s3:::churn-mlops/checkpoints/*',
    ]);
    expect(of('ecr:BatchGetImage')).toEqual([
      `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/mlflow-pyfunc`,
      `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/train`,
    ]);
    expect(of('logs:PutLogEvents')).toContain(`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/sagemaker/*`);
    expect(statements.find((s) => s.Action === 's3:ListBucket' && s.Resource === 'arn:aws:s3:::churn-mlops')).toMatchObject({
      Condition: { StringLike: { 's3:prefix': ['models/*', 'datacapture/*', 'checkpoints/*'] } },
    });
    expect(JSON.stringify(withTraining.role!.policy)).not.toContain('churn-audit');
  });
});

describe('planBootstrap', () => {
  it('from nothing: creates each resource (ECR only when asked), the audit bucket with its lock in the region', () => {
    const plan = planBootstrap(needs, nothing, { createEcr: true });
    expect(plan.map((r) => [r.kind, r.status])).toEqual([
      ['bucket', 'create'],
      ['bucket', 'create'],
      ['role', 'create'],
      ['repository', 'create'],
    ]);
    expect(byKind(plan, 'churn-audit').calls.map((c) => c.op)).toEqual([
      'CreateBucket',
      'PutPublicAccessBlock',
      'PutObjectLockConfiguration',
    ]);
    expect(byKind(plan, 'churn-audit').calls[0].input).toEqual({
      Bucket: 'churn-audit',
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      ObjectLockEnabledForBucket: true,
    });
    expect(byKind(plan, 'churn-audit').calls[2].input).toMatchObject({
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } } },
    });
    expect(byKind(plan, 'role').calls.map((c) => c.op)).toEqual(['CreateRole', 'PutRolePolicy']);
    const noEcr = byKind(planBootstrap(needs, nothing, { createEcr: false }), 'repository');
    expect(noEcr).toMatchObject({ status: 'missing', calls: [] });
    expect(noEcr.problems[0].fix).toContain('mlops bootstrap --ecr');
  });

  it('everything as needed: no calls', () => {
    const plan = planBootstrap(needs, everything(), { createEcr: true });
    expect(plan.every((r) => r.status === 'exists' && r.calls.length === 0 && r.problems.length === 0)).toBe(true);
  });

  it('only strengthens: adds a missing default retention and a missing inline policy', () => {
    const seen = everything();
    seen.buckets['churn-audit'] = { state: 'exists', region: 'eu-west-1', versioning: 'Enabled', objectLock: {} };
    seen.role = { state: 'exists', trust: needs.role!.trust };
    const plan = planBootstrap(needs, seen, { createEcr: false });
    expect(byKind(plan, 'churn-audit')).toMatchObject({ status: 'update', calls: [{ op: 'PutObjectLockConfiguration' }] });
    expect(byKind(plan, 'role')).toMatchObject({ status: 'update', calls: [{ op: 'PutRolePolicy' }] });
  });

  it('never changes what differs: no Object Lock, another retention, another trust, another policy, another region', () => {
    const seen = everything();
    seen.buckets['churn-audit'] = { state: 'exists', region: 'eu-west-1', versioning: 'Enabled' };
    seen.buckets['churn-mlops'] = { state: 'exists', region: 'us-east-1' };
    seen.role = {
      state: 'exists',
      trust: { Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    };
    let plan = planBootstrap(needs, seen, { createEcr: false });
    for (const r of plan.filter((x) => x.kind !== 'repository')) expect(r).toMatchObject({ status: 'drifted', calls: [] });
    expect(byKind(plan, 'churn-audit').problems[0].summary).toContain('has no Object Lock');
    expect(byKind(plan, 'churn-mlops').problems[0].fix).toContain('Set aws.region (or AWS_REGION) to us-east-1');
    seen.buckets['churn-audit'] = { state: 'exists', region: 'us-west-2' };
    expect(
      planBootstrap(needs, seen, { createEcr: false })
        .find((r) => r.name === 'churn-audit')!
        .problems.map((p) => p.summary),
    ).toEqual(["bucket churn-audit is in us-west-2, the config's region is eu-west-1"]);

    seen.buckets['churn-audit'] = { state: 'exists', versioning: 'Enabled', objectLock: { mode: 'GOVERNANCE', days: 1 } };
    seen.role = {
      state: 'exists',
      trust: needs.role!.trust,
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
    };
    plan = planBootstrap(needs, seen, { createEcr: false });
    expect(byKind(plan, 'churn-audit').problems[0].summary).toBe(
      'audit bucket churn-audit has Object Lock GOVERNANCE 1 days, the config says Object Lock COMPLIANCE 2557 days',
    );
    expect(byKind(plan, 'role')).toMatchObject({ status: 'drifted', calls: [] });
    expect(byKind(plan, 'role').problems[0].fix).toContain('put-role-policy');
  });

  it('a role in another account than the credentials is reported, not created', () => {
    const plan = planBootstrap(needs, { ...nothing, accountId: '999988887777' }, { createEcr: true });
    expect(byKind(plan, 'role')).toMatchObject({ status: 'drifted', calls: [] });
    expect(byKind(plan, 'role').problems[0].fix).toContain('arn:aws:iam::999988887777:role/service-role/churn-exec');
    expect(byKind(plan, 'repository')).toMatchObject({ status: 'missing', calls: [] });
  });

  it('a bucket that answers 403 (another owner) is reported', () => {
    const plan = planBootstrap(
      needs,
      { ...everything(), buckets: { ...everything().buckets, 'churn-mlops': { state: 'forbidden', detail: 'HTTP 403' } } },
      { createEcr: false },
    );
    expect(byKind(plan, 'churn-mlops')).toMatchObject({ status: 'drifted', calls: [] });
  });
});

describe('policy helpers', () => {
  it('samePolicy ignores key order, list order and one-element lists', () => {
    expect(
      samePolicy(
        { Version: '2012-10-17', Statement: [{ Action: ['a', 'b'], Effect: 'Allow' }] },
        { Statement: { Effect: 'Allow', Action: ['b', 'a'] }, Version: '2012-10-17' },
      ),
    ).toBe(true);
    expect(samePolicy({ Statement: [{ Action: 'a' }] }, { Statement: [{ Action: 'b' }] })).toBe(false);
  });

  it('trustsService wants an unconditional Allow of sts:AssumeRole for the service', () => {
    const t = (s: Record<string, unknown>) =>
      trustsService(
        { Statement: [{ Effect: 'Allow', Principal: { Service: ['sagemaker.amazonaws.com'] }, Action: 'sts:AssumeRole', ...s }] },
        'sagemaker.amazonaws.com',
      );
    expect(t({})).toBe(true);
    expect(t({ Effect: 'Deny' })).toBe(false);
    expect(t({ Action: 'sts:TagSession' })).toBe(false);
    expect(t({ Principal: { Service: 'ec2.amazonaws.com' } })).toBe(false);
  });

  it('parseEcrImage: tag, default tag, digest; other registries are not ECR', () => {
    expect(parseEcrImage(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/team/pyfunc:2.9`)).toMatchObject({
      accountId: ACCOUNT,
      region: 'eu-west-1',
      repository: 'team/pyfunc',
      tag: '2.9',
    });
    expect(parseEcrImage(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/pyfunc`)).toMatchObject({ repository: 'pyfunc', tag: 'latest' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseEcrImage(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/pyfunc@${digest}`)).toMatchObject({ repository: 'pyfunc', digest });
    expect(parseEcrImage('ghcr.io/org/pyfunc:1')).toBeUndefined();
  });
});
