/**
 * `mlops bootstrap` and `mlops doctor`'s account checks against real moto (S3 with Object Lock,
 * IAM, STS, ECR): bootstrap from nothing, again (no change), a dry run that changes nothing,
 * drifted resources reported and left alone, and each doctor failure with its named fix.
 * Names carry a random suffix: the moto server is shared by the whole integration run.
 */
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { motoEnv } from '../support/peers.js';

const ACCOUNT = '123456789012'; // moto's default account
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let motoUrl: string;
let s3: S3Client;
let iam: IAMClient;
let ecr: ECRClient;
const dirs: string[] = [];

beforeAll(() => {
  motoUrl = inject('motoUrl');
  s3 = new S3Client({ region: 'us-east-1', endpoint: motoUrl, forcePathStyle: true, credentials });
  iam = new IAMClient({ region: 'us-east-1', endpoint: motoUrl, credentials });
  ecr = new ECRClient({ region: 'us-east-1', endpoint: motoUrl, credentials });
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const c of [s3, iam, ecr]) c.destroy();
});

interface Names {
  bucket: string;
  audit: string;
  role: string;
  repo: string;
}

function names(): Names {
  const id = randomUUID().slice(0, 8);
  return { bucket: `boot-${id}`, audit: `boot-${id}-audit`, role: `boot-${id}-sagemaker-execution`, repo: `boot-${id}/serving` };
}

/** A project whose config deploys with these names; `image` overrides the serving image URI. */
function project(n: Names, o: { image?: string; extra?: string } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlops-bootstrap-'));
  dirs.push(dir);
  const config = [
    'project: boot',
    'mlflow:',
    `  trackingUri: ${inject('mlflowUrl')}`,
    'aws:',
    '  region: us-east-1',
    'deploy:',
    '  endpointName: boot-prod',
    `  executionRoleArn: arn:aws:iam::${ACCOUNT}:role/${n.role}`,
    `  image: ${o.image ?? `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${n.repo}:v1`}`,
    `  artifacts: s3://${n.bucket}/models`,
    '  dataCapture:',
    `    destination: s3://${n.bucket}/datacapture`,
    '  state:',
    `    uri: s3://${n.bucket}/deployments`,
    '  lock:',
    `    uri: s3://${n.bucket}/locks`,
    '  audit:',
    `    uri: s3://${n.audit}/audit`,
    '    retentionDays: 30',
    o.extra ?? '',
  ].join('\n');
  writeFileSync(path.join(dir, 'mlops.config.yaml'), config);
  return dir;
}

const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...motoEnv(motoUrl) });
const cli = (dir: string, ...argv: string[]) => runCli(argv, { cwd: dir, env: env() });

async function bucketExists(name: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    return true;
  } catch {
    return false;
  }
}

async function roleExists(name: string): Promise<boolean> {
  try {
    await iam.send(new GetRoleCommand({ RoleName: name }));
    return true;
  } catch {
    return false;
  }
}

type Resource = { kind: string; name: string; status: string; problems: Array<{ summary: string; fix: string }> };
type DoctorCheck = { name: string; status: string; summary: string; fix?: string };

describe('mlops bootstrap', () => {
  it('from nothing: --dry-run changes nothing, then creates everything, then a second run changes nothing', async () => {
    const n = names();
    const dir = project(n);

    const dry = await cli(dir, 'bootstrap', '--ecr', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const planned = dry.json().resources as Resource[];
    expect(planned.map((r) => [r.kind, r.status])).toEqual([
      ['bucket', 'would create'],
      ['bucket', 'would create'],
      ['role', 'would create'],
      ['repository', 'would create'],
    ]);
    for (const op of ['S3 CreateBucket', 'S3 PutObjectLockConfiguration', 'IAM CreateRole', 'IAM PutRolePolicy', 'ECR CreateRepository'])
      expect(dry.stderr).toContain(`would call ${op} `);
    expect(await bucketExists(n.bucket)).toBe(false);
    expect(await bucketExists(n.audit)).toBe(false);
    expect(await roleExists(n.role)).toBe(false);
    await expect(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [n.repo] }))).rejects.toThrow(/not.*found|does not exist/i);

    const first = await cli(dir, 'bootstrap', '--ecr', '--json');
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ account: ACCOUNT, changed: true });
    expect((first.json().resources as Resource[]).map((r) => r.status)).toEqual(['created', 'created', 'created', 'created']);

    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: n.audit }));
    expect(lock.ObjectLockConfiguration).toMatchObject({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
    });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: n.audit }))).Status).toBe('Enabled');
    const role = await iam.send(new GetRoleCommand({ RoleName: n.role }));
    expect(JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!))).toMatchObject({
      Statement: [{ Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const policy = JSON.parse(
      decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: n.role, PolicyName: 'mlops-execution' }))).PolicyDocument!),
    ) as { Statement: Array<{ Action: string | string[]; Resource: string | string[] }> };
    const resourcesOf = (action: string) =>
      policy.Statement.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());
    expect(resourcesOf('s3:GetObject')).toEqual([`arn:aws:s3:::${n.bucket}/models/*`]);
    expect(resourcesOf('s3:PutObject').sort()).toEqual([`arn:aws:s3:::${n.bucket}/datacapture/*`, `arn:aws:s3:::${n.bucket}/models/*`]);
    expect(resourcesOf('ecr:BatchGetImage')).toEqual([`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${n.repo}`]);
    expect(JSON.stringify(policy)).not.toContain(n.audit); // the audit trail is the deploy role's, never SageMaker's

    const again = await cli(dir, 'bootstrap', '--ecr');
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('calling ');
    expect(again.stdout).toContain('No change: everything the config needs that bootstrap manages already exists.');
    const json = await cli(dir, 'bootstrap', '--ecr', '--json');
    expect(json.json()).toMatchObject({ changed: false });
    expect((json.json().resources as Resource[]).every((r) => r.status === 'exists')).toBe(true);
  });

  it('drifted resources are reported with their fix and left as they are (exit 1)', async () => {
    const n = names();
    const dir = project(n);
    await s3.send(new CreateBucketCommand({ Bucket: n.audit })); // no Object Lock
    await s3.send(new CreateBucketCommand({ Bucket: n.bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    const ec2Trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    await iam.send(new CreateRoleCommand({ RoleName: n.role, AssumeRolePolicyDocument: ec2Trust }));

    const r = await cli(dir, 'bootstrap', '--json');
    expect(r.code).toBe(1);
    const resources = r.json().resources as Resource[];
    const byName = (name: string) => resources.find((x) => x.name === name)!;
    expect(byName(n.audit)).toMatchObject({ status: 'drifted' });
    expect(byName(n.audit).problems[0].summary).toContain('has no Object Lock');
    expect(byName(n.audit).problems[0].fix).toContain(`aws s3api put-object-lock-configuration --bucket ${n.audit}`);
    expect(byName(n.bucket)).toMatchObject({ status: 'drifted' });
    expect(byName(n.bucket).problems[0].summary).toBe(`bucket ${n.bucket} is in eu-west-1, the config's region is us-east-1`);
    const role = resources.find((x) => x.kind === 'role')!;
    expect(role.status).toBe('drifted');
    expect(role.problems[0].fix).toContain(`aws iam update-assume-role-policy --role-name ${n.role}`);
    expect(r.stderr).not.toContain('calling ');

    // Nothing was changed.
    await expect(s3.send(new GetObjectLockConfigurationCommand({ Bucket: n.audit }))).rejects.toThrow();
    const trust = (await iam.send(new GetRoleCommand({ RoleName: n.role }))).Role!.AssumeRolePolicyDocument!;
    expect(JSON.parse(decodeURIComponent(trust))).toEqual(JSON.parse(ec2Trust));
    await expect(iam.send(new GetRolePolicyCommand({ RoleName: n.role, PolicyName: 'mlops-execution' }))).rejects.toThrow();
  });
});

describe('mlops doctor: the account', () => {
  const doctor = async (dir: string) => {
    const r = await cli(dir, 'doctor', '--json');
    const checks = r.json().checks as DoctorCheck[];
    return { code: r.code, check: (name: string) => checks.find((c) => c.name === name), checks };
  };

  it('a bootstrapped account with its image passes every account check; --offline skips them', async () => {
    const n = names();
    const dir = project(n);
    expect((await cli(dir, 'bootstrap', '--ecr')).code).toBe(0);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', layers: [] });
    await ecr.send(new PutImageCommand({ repositoryName: n.repo, imageManifest: manifest, imageTag: 'v1' }));
    const d = await doctor(dir);
    for (const name of ['identity', `s3://${n.bucket}`, `s3://${n.audit}`, 'role', 'ecr', 'region', 'image'])
      expect(d.check(name), name).toMatchObject({ status: 'ok' });
    expect(d.check('identity')!.summary).toContain(`(account ${ACCOUNT})`);

    const offline = await cli(dir, 'doctor', '--offline', '--json');
    const names_ = (offline.json().checks as DoctorCheck[]).map((c) => c.name);
    expect(names_).not.toContain('identity');
    expect(names_).not.toContain('role');
  });

  it('missing buckets, role and repository: each fails with `mlops bootstrap` as the fix', async () => {
    const n = names();
    const d = await doctor(project(n));
    expect(d.code).toBe(1);
    expect(d.check(`s3://${n.bucket}`)).toMatchObject({
      status: 'fail',
      summary: `bucket ${n.bucket} does not exist`,
      fix: expect.stringContaining('mlops bootstrap'),
    });
    expect(d.check(`s3://${n.audit}`)).toMatchObject({ status: 'fail', fix: expect.stringContaining('mlops bootstrap') });
    expect(d.check('role')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('does not exist'),
      fix: expect.stringContaining('mlops bootstrap'),
    });
    expect(d.check('ecr')).toMatchObject({ status: 'fail', fix: expect.stringContaining('mlops bootstrap --ecr') });
  });

  it('audit bucket without Object Lock, role with a wrong trust, image not pushed: each named with its fix', async () => {
    const n = names();
    const dir = project(n);
    expect((await cli(dir, 'bootstrap', '--ecr')).code).toBe(0);
    // Replace what bootstrap made with drifted copies under new names the config then points at.
    const m = names();
    await s3.send(new CreateBucketCommand({ Bucket: m.audit }));
    await iam.send(
      new CreateRoleCommand({
        RoleName: m.role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const drifted = project({ ...n, audit: m.audit, role: m.role });
    const d = await doctor(drifted);
    expect(d.code).toBe(1);
    expect(d.check(`s3://${n.bucket}`)).toMatchObject({ status: 'ok' });
    expect(d.check(`s3://${m.audit}`)).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('has no Object Lock'),
      fix: expect.stringContaining('put-object-lock-configuration'),
    });
    expect(d.check('role')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('does not trust sagemaker.amazonaws.com'),
      fix: expect.stringContaining('update-assume-role-policy'),
    });
    expect(d.check('image')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('is not in ECR'),
      fix: expect.stringContaining('build-and-push-container'),
    });
  });

  it('a role that SageMaker can assume but without the inline policy is a warning, with bootstrap (which only adds) as the fix', async () => {
    const n = names();
    const dir = project(n);
    expect((await cli(dir, 'bootstrap', '--ecr')).code).toBe(0);
    const m = names();
    await iam.send(
      new CreateRoleCommand({
        RoleName: m.role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const d = await doctor(project({ ...n, role: m.role }));
    expect(d.check('role')).toMatchObject({
      status: 'warn',
      summary: expect.stringContaining('add the inline policy mlops-execution'),
      fix: expect.stringContaining('mlops bootstrap'),
    });
  });

  it('regions that disagree: the image and a bucket in another region, each named', async () => {
    const n = names();
    await s3.send(new CreateBucketCommand({ Bucket: n.bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    const d = await doctor(project(n, { image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${n.repo}:v1` }));
    expect(d.code).toBe(1);
    expect(d.check('region')).toMatchObject({
      status: 'fail',
      summary: "deploy.image is in eu-west-1, the endpoint's region is us-east-1",
      fix: expect.stringContaining('Use one region'),
    });
    expect(d.check(`s3://${n.bucket}`)).toMatchObject({
      status: 'fail',
      summary: `bucket ${n.bucket} is in eu-west-1, the config's region is us-east-1`,
      fix: expect.stringContaining('Set aws.region'),
    });
  });
});

describe('mlops bootstrap: what exists already', () => {
  it('a repository made outside bootstrap counts as existing', async () => {
    const n = names();
    await ecr.send(new CreateRepositoryCommand({ repositoryName: n.repo }));
    const r = await cli(project(n), 'bootstrap', '--dry-run', '--json');
    expect((r.json().resources as Resource[]).find((x) => x.kind === 'repository')).toMatchObject({ status: 'exists' });
  });
});
