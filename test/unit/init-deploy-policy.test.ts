/**
 * The deploy policy `mlops init` writes must allow every AWS call the CLI makes with the deploy
 * role, on the resources the scaffold's own config names. The calls are read from the adapters'
 * source (each `new XxxCommand`, and lib-storage's `new Upload`), so a new call fails this test
 * until it is mapped below to its IAM actions and resources (or excluded, with the reason).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { trainingOutputPath } from '../../src/config/derived.js';
import { auditKey } from '../../src/core/audit.js';
import { deploymentId, resourceNames } from '../../src/core/deployment.js';
import { deploymentStore } from '../../src/core/deployment-store.js';
import { lockKey } from '../../src/core/lock.js';
import { MLOPS_NAMESPACE } from '../../src/core/metric-names.js';
import { parseS3Uri } from '../../src/core/s3-uri.js';
import { trainingJobName } from '../../src/core/training.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { runCli } from '../support/cli.js';

const ADAPTERS = fileURLToPath(new URL('../../src/adapters/', import.meta.url));

/** `file:Command` for every SDK command (and multipart Upload) an adapter constructs. */
function sdkCalls(): string[] {
  const out = new Set<string>();
  for (const file of readdirSync(ADAPTERS).filter((f) => f.endsWith('.ts'))) {
    const code = readFileSync(path.join(ADAPTERS, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const m of code.matchAll(/\bnew\s+(?:\w+\.)?(\w+Command|Upload)\s*\(/g)) out.add(`${file}:${m[1]}`);
  }
  return [...out].sort();
}

interface Need {
  action: string;
  resource: string;
  /** Request context keys (s3:prefix for a listing, iam:PassedToService, cloudwatch:namespace). */
  context?: Record<string, string>;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(value);
const globCase = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/** Whether a statement's conditions hold for the request context (StringEquals, StringLike; a missing key fails them). */
function conditionsHold(s: Statement, context: Record<string, string>): boolean {
  for (const [op, tests] of Object.entries(s.Condition ?? {})) {
    for (const [key, wanted] of Object.entries(tests)) {
      const value = context[key];
      if (value === undefined) return false;
      const ok = [wanted]
        .flat()
        .some((w) => (op === 'StringEquals' ? w === value : op === 'StringLike' ? globCase(w, value) : fail(`condition ${op}`)));
      if (!ok) return false;
    }
  }
  return true;
}

const fail = (what: string): never => {
  throw new Error(`the evaluator does not know ${what}`);
};

/** Whether an Allow statement grants the need (the policy has no Deny statements). */
function allows(statements: Statement[], need: Need): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      [s.Action].flat().some((a) => glob(a, need.action)) &&
      [s.Resource].flat().some((r) => globCase(r, need.resource)) &&
      conditionsHold(s, need.context ?? {}),
  );
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let statements: Statement[];
let needs: Record<string, Need[] | { excluded: string }>;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlops-deploy-policy-'));
  dirs.push(dir);
  const r = await runCli(['init', '--name', 'fraud', '--account-id', '111122223333', '--region', 'eu-west-1', '--ci', 'none'], {
    cwd: dir,
    env: { PATH: '' },
  });
  expect(r.code).toBe(0);
  const policy = JSON.parse(readFileSync(path.join(dir, 'iam/mlops-deploy-policy.json'), 'utf8')) as { Statement: Statement[] };
  statements = policy.Statement;
  expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);

  const { config } = await loadConfig({ cwd: dir, env: {} });
  const d = config.deploy!;
  const region = 'eu-west-1';
  const account = '111122223333';
  const endpoint = d.endpointName;
  const sm = (type: string, name: string) => `arn:aws:sagemaker:${region}:${account}:${type}/${name}`;
  const names = resourceNames(endpoint, deploymentId(new Date('2026-12-01T00:00:00Z'), '7'));
  const obj = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
  const under = (uri: string, ...rest: string[]) => {
    const { bucket, prefix } = parseS3Uri(uri);
    return { bucket, key: [prefix, ...rest].filter(Boolean).join('/') };
  };
  const list = (action: string, uri: string, ...rest: string[]): Need => {
    const { bucket, key } = under(uri, ...rest);
    return { action, resource: `arn:aws:s3:::${bucket}`, context: { 's3:prefix': key } };
  };
  const s3 = (action: string, uri: string, ...rest: string[]): Need => {
    const { bucket, key } = under(uri, ...rest);
    return { action, resource: obj(bucket, key) };
  };
  const missingKey = (bucket: string): Need => ({ action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}` });

  const record = parseS3Uri(deploymentStore(new MemoryStore(), d).uri('20261201000000-v7'));
  const stateRecord: Need = { action: '', resource: obj(record.bucket, record.prefix) };
  const lock = under(d.lock.uri);
  const lockObject = obj(lock.bucket, lockKey(lock.key, endpoint));
  const audit = under(d.audit.uri);
  const auditRecord = obj(audit.bucket, auditKey(`${audit.key}/${endpoint}`, 2));
  const artifact = under(d.artifacts, '20261201000000-v7', 'model.tar.gz');
  const artifactObject = obj(artifact.bucket, artifact.key);
  const capture = d.dataCapture.destination;
  const training = trainingOutputPath(config)!;
  const job = sm('training-job', trainingJobName(config.project, new Date('2026-12-01T00:00:00Z'), 'ab12'));
  const role: Need = {
    action: 'iam:PassRole',
    resource: d.executionRoleArn,
    context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
  };
  const alarm = (n: string) => `arn:aws:cloudwatch:${region}:${account}:alarm:${n}`;
  const logGroup = `arn:aws:logs:${region}:${account}:log-group:/aws/sagemaker/TrainingJobs`;
  const on = (action: string, ...resources: string[]) => resources.map((resource) => ({ action, resource }));
  const bootstrap = { excluded: 'bootstrap and doctor: run with an administrator\u2019s credentials (README), not the deploy role' };

  needs = {
    // S3: state (promote, rollback, gc, status, monitor), lock (promote, rollback, unlock),
    // audit (every stage, gc, unlock, audit verify), model archives (promote, gc), capture (monitor).
    's3-store.ts:ListObjectsV2Command': [
      list('s3:ListBucket', d.state.uri, endpoint, 'deployments/'),
      list('s3:ListBucket', d.audit.uri, `${endpoint}/`),
      list('s3:ListBucket', capture, `${endpoint}/`),
      list('s3:ListBucket', capture, endpoint, 'AllTraffic', '2026/12/01/00'),
      // downloadPrefix also lists MLflow's own S3 artifact store: its bucket is MLflow's, not in this config.
    ],
    's3-store.ts:ListObjectVersionsCommand': [
      list('s3:ListBucketVersions', d.audit.uri, `${endpoint}/`),
      list('s3:ListBucketVersions', d.audit.uri, endpoint, '000000000002.json'),
    ],
    's3-store.ts:GetObjectCommand': [
      { ...stateRecord, action: 's3:GetObject' },
      // A missing key (no current.json, no lock yet) answers 404 only to a caller that may list
      // the bucket, and 403 (AccessDenied, exit 3) otherwise; the request has no s3:prefix.
      missingKey(record.bucket),
      missingKey(lock.bucket),
      ...on('s3:GetObject', lockObject, auditRecord),
      // audit verify and append read records by version id, and verify checks their retention,
      // which GetObject returns only with s3:GetObjectRetention.
      ...on('s3:GetObjectVersion', auditRecord),
      ...on('s3:GetObjectRetention', auditRecord),
    ],
    's3-store.ts:PutObjectCommand': [
      { ...stateRecord, action: 's3:PutObject' },
      ...on('s3:PutObject', lockObject, auditRecord, artifactObject),
      ...on('s3:PutObjectRetention', auditRecord),
    ],
    // promote's package stage streams model.tar.gz; a failed upload aborts its parts.
    's3-store.ts:Upload': on('s3:PutObject', artifactObject).concat(on('s3:AbortMultipartUpload', artifactObject)),
    's3-store.ts:HeadObjectCommand': [
      ...on('s3:GetObject', lockObject, artifactObject),
      missingKey(lock.bucket),
      missingKey(artifact.bucket),
    ],
    // unlock and a lock's release delete the lock; gc deletes old model archives.
    's3-store.ts:DeleteObjectCommand': on('s3:DeleteObject', lockObject, artifactObject),
    's3-store.ts:GetBucketVersioningCommand': [{ action: 's3:GetBucketVersioning', resource: `arn:aws:s3:::${audit.bucket}` }],
    'capture-source.ts:GetObjectCommand': [s3('s3:GetObject', capture, endpoint, 'AllTraffic', '2026/12/01/00', 'x.jsonl')],

    // CloudWatch: drift metrics (monitor), the rollout alarms (promote, rollback, gc), bake metrics.
    'cloudwatch.ts:PutMetricDataCommand': [
      { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': MLOPS_NAMESPACE } },
    ],
    'cloudwatch.ts:PutMetricAlarmCommand': on('cloudwatch:PutMetricAlarm', ...names.alarms.map(alarm)),
    'cloudwatch.ts:DescribeAlarmsCommand': on('cloudwatch:DescribeAlarms', ...names.alarms.map(alarm)),
    'cloudwatch.ts:SetAlarmStateCommand': on('cloudwatch:SetAlarmState', ...names.alarms.map(alarm)),
    'cloudwatch.ts:DeleteAlarmsCommand': on('cloudwatch:DeleteAlarms', ...names.alarms.map(alarm)),
    'cloudwatch.ts:GetMetricStatisticsCommand': on('cloudwatch:GetMetricStatistics', '*'),

    // SageMaker: promote, rollback, gc, status; Create* carry Tags, which needs AddTags on the new resource.
    'sagemaker.ts:CreateModelCommand': [
      ...on('sagemaker:CreateModel', sm('model', names.model)),
      ...on('sagemaker:AddTags', sm('model', names.model)),
      role,
    ],
    'sagemaker.ts:DescribeModelCommand': on('sagemaker:DescribeModel', sm('model', names.model)),
    'sagemaker.ts:CreateEndpointConfigCommand': on('sagemaker:CreateEndpointConfig', sm('endpoint-config', names.shadowConfig)).concat(
      on('sagemaker:AddTags', sm('endpoint-config', names.finalConfig)),
    ),
    'sagemaker.ts:DescribeEndpointConfigCommand': on('sagemaker:DescribeEndpointConfig', sm('endpoint-config', names.finalConfig)),
    'sagemaker.ts:CreateEndpointCommand': on(
      'sagemaker:CreateEndpoint',
      sm('endpoint', endpoint),
      sm('endpoint-config', names.shadowConfig),
    ).concat(on('sagemaker:AddTags', sm('endpoint', endpoint))),
    'sagemaker.ts:DescribeEndpointCommand': on('sagemaker:DescribeEndpoint', sm('endpoint', endpoint)),
    'sagemaker.ts:UpdateEndpointCommand': on(
      'sagemaker:UpdateEndpoint',
      sm('endpoint', endpoint),
      sm('endpoint-config', names.restoreConfig!),
    ),
    'sagemaker.ts:UpdateEndpointWeightsAndCapacitiesCommand': on('sagemaker:UpdateEndpointWeightsAndCapacities', sm('endpoint', endpoint)),
    'sagemaker.ts:AddTagsCommand': on('sagemaker:AddTags', sm('endpoint', endpoint)),
    'sagemaker.ts:ListTagsCommand': on('sagemaker:ListTags', sm('endpoint', endpoint)),
    'sagemaker.ts:DeleteEndpointConfigCommand': on('sagemaker:DeleteEndpointConfig', sm('endpoint-config', names.smokeConfig!)),
    'sagemaker.ts:DeleteModelCommand': on('sagemaker:DeleteModel', sm('model', names.model)),
    // promote removes an endpoint its first deployment created and could not bring up.
    'sagemaker.ts:DeleteEndpointCommand': on('sagemaker:DeleteEndpoint', sm('endpoint', endpoint)),
    'smoke-test.ts:InvokeEndpointCommand': on('sagemaker:InvokeEndpoint', sm('endpoint', endpoint)),
    'traffic.ts:DescribeEndpointCommand': on('sagemaker:DescribeEndpoint', sm('endpoint', endpoint)),
    'traffic.ts:InvokeEndpointCommand': on('sagemaker:InvokeEndpoint', sm('endpoint', endpoint)),

    // train with train.backend sagemaker: code, channels and output under the training output path.
    'sagemaker-training.ts:PutObjectCommand': [
      s3('s3:PutObject', training, 'fraud-20261201-000000-ab12', 'source', 'sourcedir.tar.gz'),
      s3('s3:PutObject', training, 'data', 'train', 'abc', 'train.csv'),
    ],
    'sagemaker-training.ts:HeadObjectCommand': [
      s3('s3:GetObject', training, 'data', 'train', 'abc', '.mlops-complete'),
      missingKey(parseS3Uri(training).bucket),
    ],
    'sagemaker-training.ts:GetObjectCommand': [s3('s3:GetObject', training, 'fraud-20261201-000000-ab12', 'output', 'output.tar.gz')],
    'sagemaker-training.ts:CreateTrainingJobCommand': [...on('sagemaker:CreateTrainingJob', job), ...on('sagemaker:AddTags', job), role],
    'sagemaker-training.ts:DescribeTrainingJobCommand': on('sagemaker:DescribeTrainingJob', job),
    'sagemaker-training.ts:StopTrainingJobCommand': on('sagemaker:StopTrainingJob', job),
    // A log group's ARN in a policy takes a trailing :* for every action but the tagging ones (CloudWatch
    // Logs' access-control guide); the form without it is what the service authorization reference names.
    'sagemaker-training.ts:DescribeLogStreamsCommand': on('logs:DescribeLogStreams', logGroup, `${logGroup}:*`),
    'sagemaker-training.ts:GetLogEventsCommand': on('logs:GetLogEvents', `${logGroup}:log-stream:${job.split('/')[1]}/algo-1-1700000000`),

    'account.ts:GetCallerIdentityCommand': bootstrap,
    'account.ts:HeadBucketCommand': bootstrap,
    'account.ts:GetBucketLocationCommand': bootstrap,
    'account.ts:GetBucketVersioningCommand': bootstrap,
    'account.ts:GetObjectLockConfigurationCommand': bootstrap,
    'account.ts:GetRoleCommand': bootstrap,
    'account.ts:GetRolePolicyCommand': bootstrap,
    'account.ts:DescribeRepositoriesCommand': bootstrap,
    'account.ts:DescribeImagesCommand': bootstrap,
    'account.ts:CreateBucketCommand': bootstrap,
    'account.ts:PutPublicAccessBlockCommand': bootstrap,
    'account.ts:PutObjectLockConfigurationCommand': bootstrap,
    'account.ts:CreateRoleCommand': bootstrap,
    'account.ts:PutRolePolicyCommand': bootstrap,
    'account.ts:CreateRepositoryCommand': bootstrap,
  };
});

describe('init: the deploy policy covers what mlops does with the deploy role', () => {
  it('every SDK call in src/adapters is mapped to its IAM actions, or excluded with a reason', () => {
    expect(sdkCalls()).toEqual(Object.keys(needs).sort());
  });

  it("allows each mapped call on the resources the scaffold's config names", () => {
    const missing: string[] = [];
    for (const [call, need] of Object.entries(needs)) {
      if (!Array.isArray(need)) continue;
      for (const n of need) {
        if (!allows(statements, n))
          missing.push(`${call}: ${n.action} on ${n.resource}${n.context ? ` ${JSON.stringify(n.context)}` : ''}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('grants no action that no call needs', () => {
    const needed = Object.values(needs).flatMap((n) => (Array.isArray(n) ? n.map((x) => x.action) : []));
    const granted = statements.flatMap((s) => [s.Action].flat());
    expect(granted.filter((a) => !needed.some((n) => glob(a, n)))).toEqual([]);
  });

  it('the evaluator says no where the policy does', () => {
    expect(allows(statements, { action: 's3:DeleteObject', resource: 'arn:aws:s3:::fraud-mlops/deployments/x' })).toBe(false);
    expect(
      allows(statements, { action: 's3:ListBucket', resource: 'arn:aws:s3:::fraud-mlops-audit', context: { 's3:prefix': 'x/' } }),
    ).toBe(false);
    expect(allows(statements, { action: 's3:ListBucketVersions', resource: 'arn:aws:s3:::fraud-mlops-audit' })).toBe(false);
    expect(
      allows(statements, { action: 'sagemaker:DeleteEndpoint', resource: 'arn:aws:sagemaker:eu-west-1:111122223333:endpoint/other' }),
    ).toBe(false);
    expect(allows(statements, { action: 'iam:PassRole', resource: 'arn:aws:iam::111122223333:role/fraud-sagemaker-execution' })).toBe(
      false,
    );
  });
});
