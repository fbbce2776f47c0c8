/**
 * The AWS account as `mlops bootstrap` and `mlops doctor` see it: who the caller is (STS), what
 * exists of the buckets, the execution role and the ECR repository the config needs (read-only
 * calls), and the one place that executes a bootstrap plan's calls.
 */
import type { AccountNeeds, AccountObservation, BucketObservation, Call, EcrImage, RoleObservation } from '../core/bootstrap-plan.js';
import { InterruptedError } from '../core/errors.js';
import { awsErrorName, awsFailure, awsHttpStatus, ecrClient, iamClient, s3Client, stsClient, type AwsSettings } from './aws.js';

export interface AccountClients {
  s3: Awaited<ReturnType<typeof s3Client>>;
  iam: Awaited<ReturnType<typeof iamClient>>;
  sts: Awaited<ReturnType<typeof stsClient>>;
  ecr: Awaited<ReturnType<typeof ecrClient>>;
  /** Whether the command was interrupted (its signal aborted). */
  interrupted(): boolean;
  /** Per call: aborted by the command's signal, or after the timeout. */
  callOptions(): { abortSignal?: AbortSignal };
  destroy(): void;
}

/** The four clients; each call is aborted by `signal`, and after `timeoutMs` when given (doctor answers in bounded time). */
export async function accountClients(settings: AwsSettings, o: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<AccountClients> {
  const [s3, iam, sts, ecr] = await Promise.all([s3Client(settings), iamClient(settings), stsClient(settings), ecrClient(settings)]);
  return {
    s3,
    iam,
    sts,
    ecr,
    interrupted: () => o.signal?.aborted === true,
    callOptions: () => {
      const signals = [o.signal, o.timeoutMs ? AbortSignal.timeout(o.timeoutMs) : undefined].filter(
        (x): x is AbortSignal => x !== undefined,
      );
      return signals.length ? { abortSignal: AbortSignal.any(signals) } : {};
    },
    destroy: () => [s3, iam, sts, ecr].forEach((c) => c.destroy()),
  };
}

/** An interrupted call is an interrupt (exit 130), any other failure awsFailure's. */
const failure = (c: AccountClients, ...args: Parameters<typeof awsFailure>) =>
  c.interrupted() ? new InterruptedError() : awsFailure(...args);

export interface CallerIdentity {
  accountId: string;
  arn: string;
}

/** STS GetCallerIdentity: which identity and account the credentials are. */
export async function callerIdentity(c: AccountClients): Promise<CallerIdentity> {
  const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  try {
    const out = await c.sts.send(new GetCallerIdentityCommand({}), c.callOptions());
    return { accountId: out.Account ?? '', arn: out.Arn ?? '' };
  } catch (e) {
    throw failure(c, 'STS', 'GetCallerIdentity', e, { hint: 'Check the AWS credentials (`aws sts get-caller-identity` shows the same).' });
  }
}

const missing = (e: unknown, ...names: string[]) => names.includes(awsErrorName(e)) || awsHttpStatus(e) === 404;
/** IAM returns policy documents URL-encoded. */
const policyOf = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(decodeURIComponent(text)));

async function observeBucket(c: AccountClients, name: string, lockNeeded: boolean, expectedRegion: string): Promise<BucketObservation> {
  const s3 = await import('@aws-sdk/client-s3');
  let region: string | undefined;
  try {
    const out = await c.s3.send(new s3.HeadBucketCommand({ Bucket: name }), c.callOptions());
    region = out.BucketRegion;
  } catch (e) {
    const status = awsHttpStatus(e);
    if (missing(e, 'NotFound', 'NoSuchBucket')) return { state: 'missing' };
    if (status === 301) {
      // A bucket in another region: S3 says which in a header.
      const headers = (e as { $response?: { headers?: Record<string, string> } }).$response?.headers ?? {};
      region = headers['x-amz-bucket-region'];
    } else if (status === 403) {
      return { state: 'forbidden', detail: 'HTTP 403' };
    } else {
      throw failure(c, 'S3', 'HeadBucket', e, { where: name, hint: 'Check the S3 endpoint and the credentials.' });
    }
  }
  try {
    if (!region) {
      const loc = await c.s3.send(new s3.GetBucketLocationCommand({ Bucket: name }), c.callOptions());
      region = !loc.LocationConstraint ? 'us-east-1' : loc.LocationConstraint === 'EU' ? 'eu-west-1' : loc.LocationConstraint;
    }
  } catch (e) {
    throw failure(c, 'S3', 'GetBucketLocation', e, { where: name, hint: 'Check the credentials allow s3:GetBucketLocation.' });
  }
  // A bucket in another region is reported as such; its settings are not read across regions.
  if (!lockNeeded || region !== expectedRegion) return { state: 'exists', region };
  let versioning: string;
  try {
    versioning = (await c.s3.send(new s3.GetBucketVersioningCommand({ Bucket: name }), c.callOptions())).Status ?? 'Unversioned';
  } catch (e) {
    throw failure(c, 'S3', 'GetBucketVersioning', e, { where: name, hint: 'Check the credentials allow s3:GetBucketVersioning.' });
  }
  try {
    const out = await c.s3.send(new s3.GetObjectLockConfigurationCommand({ Bucket: name }), c.callOptions());
    const conf = out.ObjectLockConfiguration;
    if (conf?.ObjectLockEnabled !== 'Enabled') return { state: 'exists', region, versioning };
    const r = conf.Rule?.DefaultRetention;
    return { state: 'exists', region, versioning, objectLock: { mode: r?.Mode, days: r?.Days, years: r?.Years } };
  } catch (e) {
    if (awsErrorName(e) === 'ObjectLockConfigurationNotFoundError' || awsHttpStatus(e) === 404)
      return { state: 'exists', region, versioning };
    throw failure(c, 'S3', 'GetObjectLockConfiguration', e, {
      where: name,
      hint: 'Check the credentials allow s3:GetBucketObjectLockConfiguration.',
    });
  }
}

async function observeRole(c: AccountClients, name: string, policyName: string): Promise<RoleObservation> {
  const iam = await import('@aws-sdk/client-iam');
  let trust: unknown;
  try {
    const out = await c.iam.send(new iam.GetRoleCommand({ RoleName: name }), c.callOptions());
    trust = policyOf(out.Role?.AssumeRolePolicyDocument);
  } catch (e) {
    if (missing(e, 'NoSuchEntityException', 'NoSuchEntity')) return { state: 'missing' };
    throw failure(c, 'IAM', 'GetRole', e, { where: name, hint: 'Check the credentials allow iam:GetRole.' });
  }
  try {
    const out = await c.iam.send(new iam.GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }), c.callOptions());
    return { state: 'exists', trust, policy: policyOf(out.PolicyDocument) };
  } catch (e) {
    if (missing(e, 'NoSuchEntityException', 'NoSuchEntity')) return { state: 'exists', trust };
    throw failure(c, 'IAM', 'GetRolePolicy', e, { where: name, hint: 'Check the credentials allow iam:GetRolePolicy.' });
  }
}

/** What exists of the needs, by read-only calls only. */
export async function observeAccount(c: AccountClients, needs: AccountNeeds, accountId: string): Promise<AccountObservation> {
  const buckets: AccountObservation['buckets'] = {};
  for (const b of needs.buckets) buckets[b.name] = await observeBucket(c, b.name, b.objectLock !== undefined, needs.region);
  const role = needs.role && needs.role.accountId === accountId ? await observeRole(c, needs.role.name, needs.role.policyName) : undefined;
  let repository: AccountObservation['repository'];
  if (needs.image && needs.image.accountId === accountId && needs.image.region === needs.region) {
    const ecr = await import('@aws-sdk/client-ecr');
    try {
      await c.ecr.send(
        new ecr.DescribeRepositoriesCommand({ registryId: needs.image.accountId, repositoryNames: [needs.image.repository] }),
        c.callOptions(),
      );
      repository = { state: 'exists' };
    } catch (e) {
      if (awsErrorName(e) !== 'RepositoryNotFoundException') {
        throw failure(c, 'ECR', 'DescribeRepositories', e, {
          where: needs.image.repository,
          hint: 'Check the credentials allow ecr:DescribeRepositories.',
        });
      }
      repository = { state: 'missing' };
    }
  }
  return { accountId, buckets, ...(role ? { role } : {}), ...(repository ? { repository } : {}) };
}

/** Whether the image is in its ECR repository: found, or which of the two is missing. */
export async function findImage(c: AccountClients, image: EcrImage): Promise<'found' | 'no-image' | 'no-repository'> {
  const ecr = await import('@aws-sdk/client-ecr');
  try {
    const out = await c.ecr.send(
      new ecr.DescribeImagesCommand({
        registryId: image.accountId,
        repositoryName: image.repository,
        imageIds: [image.digest ? { imageDigest: image.digest } : { imageTag: image.tag }],
      }),
      c.callOptions(),
    );
    return out.imageDetails?.length ? 'found' : 'no-image';
  } catch (e) {
    if (awsErrorName(e) === 'ImageNotFoundException') return 'no-image';
    if (awsErrorName(e) === 'RepositoryNotFoundException') return 'no-repository';
    throw failure(c, 'ECR', 'DescribeImages', e, { where: image.uri, hint: 'Check the credentials allow ecr:DescribeImages.' });
  }
}

/** Executes one planned call. */
export async function executeCall(c: AccountClients, call: Call): Promise<void> {
  const hint = 'Check that the credentials may create it (an administrator usually runs `mlops bootstrap` once).';
  const where = [call.input.Bucket, call.input.RoleName, call.input.repositoryName].find((v): v is string => typeof v === 'string');
  const input = call.input as never;
  const s3 = call.service === 'S3' ? await import('@aws-sdk/client-s3') : undefined;
  const iam = call.service === 'IAM' ? await import('@aws-sdk/client-iam') : undefined;
  const ecr = call.service === 'ECR' ? await import('@aws-sdk/client-ecr') : undefined;
  try {
    const key = `${call.service} ${call.op}`;
    if (s3 && key === 'S3 CreateBucket') await c.s3.send(new s3.CreateBucketCommand(input), c.callOptions());
    else if (s3 && key === 'S3 PutPublicAccessBlock') await c.s3.send(new s3.PutPublicAccessBlockCommand(input), c.callOptions());
    else if (s3 && key === 'S3 PutObjectLockConfiguration')
      await c.s3.send(new s3.PutObjectLockConfigurationCommand(input), c.callOptions());
    else if (iam && key === 'IAM CreateRole') await c.iam.send(new iam.CreateRoleCommand(input), c.callOptions());
    else if (iam && key === 'IAM PutRolePolicy') await c.iam.send(new iam.PutRolePolicyCommand(input), c.callOptions());
    else if (ecr && key === 'ECR CreateRepository') await c.ecr.send(new ecr.CreateRepositoryCommand(input), c.callOptions());
    else throw new Error(`bootstrap has no call ${key}`);
  } catch (e) {
    throw failure(c, call.service, call.op, e, { where, hint });
  }
}
