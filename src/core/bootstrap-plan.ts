/**
 * What an AWS account needs for the config's deploy and monitor sections (buckets, the SageMaker
 * execution role, the serving image's ECR repository), and the plan that turns what was observed
 * into calls: create what is missing, add what only strengthens, and report (never change) what
 * differs. Pure: `mlops bootstrap` executes the plan, `mlops doctor` reports it.
 */
import { parseS3Uri } from './s3-uri.js';

/** An IAM policy document, as IAM stores it. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Array<Record<string, unknown>>;
}

export type LockMode = 'COMPLIANCE' | 'GOVERNANCE';

/** What the command reads from the config (core's own shape, so core needs no config types). */
export interface NeedsInput {
  region: string;
  deploy?: {
    executionRoleArn: string;
    image: string;
    artifacts: string;
    captureDestination: string;
    stateUri: string;
    lockUri: string;
    audit: { uri: string; mode: LockMode; retentionDays: number };
  };
  monitor?: { capture?: string; stateUri?: string };
  /** S3 prefixes a SageMaker training job reads (code, data channels) and writes (output, checkpoints), beyond deploy.artifacts. */
  training?: { read: string[]; write: string[]; image?: string };
}

export interface BucketNeed {
  name: string;
  /** The config settings that point into it. */
  uses: string[];
  objectLock?: { mode: LockMode; days: number };
}

export interface EcrImage {
  uri: string;
  accountId: string;
  region: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export interface RoleNeed {
  arn: string;
  name: string;
  path: string;
  accountId: string;
  partition: string;
  policyName: string;
  policy: PolicyDocument;
  trust: PolicyDocument;
}

export interface AccountNeeds {
  region: string;
  buckets: BucketNeed[];
  role?: RoleNeed;
  /** The serving image's ECR repository; undefined when the image is not in ECR. */
  image?: EcrImage;
}

export const SAGEMAKER_SERVICE = 'sagemaker.amazonaws.com';
/** Name of the inline policy bootstrap puts on the execution role. */
export const EXECUTION_POLICY_NAME = 'mlops-execution';

/** Parses an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@DIGEST]); undefined for other registries. */
export function parseEcrImage(uri: string): EcrImage | undefined {
  const m =
    /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(
      uri,
    );
  if (!m) return undefined;
  const tag = m[4] ?? (m[5] ? undefined : 'latest');
  return { uri, accountId: m[1], region: m[2], repository: m[3], ...(tag ? { tag } : {}), ...(m[5] ? { digest: m[5] } : {}) };
}

/** The trust policy that lets SageMaker (endpoints and training jobs) assume the execution role. */
export function sagemakerTrustPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: SAGEMAKER_SERVICE }, Action: 'sts:AssumeRole' }],
  };
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Whether a trust policy lets the service assume the role. */
export function trustsService(doc: unknown, service: string): boolean {
  const statements = list((doc as { Statement?: unknown } | undefined)?.Statement) as Array<Record<string, unknown>>;
  return statements.some((s) => {
    const principal = s.Principal as { Service?: unknown } | undefined;
    const actions = list(s.Action);
    return (
      s.Effect === 'Allow' &&
      s.Condition === undefined &&
      list(principal?.Service).includes(service) &&
      actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')
    );
  });
}

/** A canonical form for comparing policies: key order, list order and one-element lists do not count. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(canonical).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    return items.length === 1 ? items[0] : items;
  }
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Whether two policy documents grant the same (up to ordering). */
export function samePolicy(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

const objectArn = (partition: string, uri: string): string => {
  const { bucket, prefix } = parseS3Uri(uri);
  return `arn:${partition}:s3:::${bucket}/${prefix ? `${prefix}/` : ''}*`;
};

/**
 * The execution role's least-privilege policy: read the model artifacts and training inputs,
 * write data capture and training output, pull the image(s) from ECR, and SageMaker's own metrics
 * and logs. The state, lock and audit buckets are the deploy role's (iam/mlops-deploy-policy.json):
 * SageMaker never touches them.
 */
export function executionRolePolicy(input: {
  partition: string;
  region: string;
  accountId: string;
  artifacts: string;
  captureDestination: string;
  training?: NeedsInput['training'];
  images: EcrImage[];
}): PolicyDocument {
  const p = input.partition;
  const read = [input.artifacts, ...(input.training?.read ?? [])];
  const write = [input.artifacts, input.captureDestination, ...(input.training?.write ?? [])];
  const prefixesByBucket = new Map<string, Set<string>>();
  for (const uri of [...read, ...write]) {
    const { bucket, prefix } = parseS3Uri(uri);
    const set = prefixesByBucket.get(bucket) ?? new Set<string>();
    set.add(prefix ? `${prefix}/*` : '*');
    prefixesByBucket.set(bucket, set);
  }
  const uniq = (xs: string[]) => [...new Set(xs)];
  const repos = uniq(input.images.map((i) => `arn:${p}:ecr:${i.region}:${i.accountId}:repository/${i.repository}`));
  const logGroup = `arn:${p}:logs:${input.region}:${input.accountId}:log-group:/aws/sagemaker/*`;
  return {
    Version: '2012-10-17',
    Statement: [
      ...[...prefixesByBucket].map(([bucket, prefixes], i) => ({
        Sid: `ListTheModelAndTrainingPrefixes${i || ''}`,
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: `arn:${p}:s3:::${bucket}`,
        ...(prefixes.has('*') ? {} : { Condition: { StringLike: { 's3:prefix': [...prefixes] } } }),
      })),
      {
        Sid: 'ReadModelArtifactsAndTrainingInputs',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: uniq(read.map((u) => objectArn(p, u))),
      },
      {
        Sid: 'WriteDataCaptureAndTrainingOutput',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: uniq(write.map((u) => objectArn(p, u))),
      },
      ...(repos.length
        ? [
            { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
            {
              Sid: 'PullTheImages',
              Effect: 'Allow',
              Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
              Resource: repos,
            },
          ]
        : []),
      {
        Sid: 'SageMakerMetrics',
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
      },
      {
        Sid: 'SageMakerLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        Resource: [logGroup, `${logGroup}:log-stream:*`],
      },
    ],
  };
}

/** Everything the config needs in the account. */
export function accountNeeds(input: NeedsInput): AccountNeeds {
  const buckets = new Map<string, BucketNeed>();
  const need = (uri: string | undefined, setting: string) => {
    if (!uri) return;
    const name = parseS3Uri(uri).bucket;
    const b = buckets.get(name) ?? { name, uses: [] };
    b.uses.push(setting);
    buckets.set(name, b);
  };
  const d = input.deploy;
  if (d) {
    need(d.artifacts, 'deploy.artifacts');
    need(d.captureDestination, 'deploy.dataCapture.destination');
    need(d.stateUri, 'deploy.state.uri');
    need(d.lockUri, 'deploy.lock.uri');
    need(d.audit.uri, 'deploy.audit.uri');
    buckets.get(parseS3Uri(d.audit.uri).bucket)!.objectLock = { mode: d.audit.mode, days: d.audit.retentionDays };
  }
  need(input.monitor?.capture, 'monitor.capture');
  need(input.monitor?.stateUri, 'monitor.stateUri');
  if (!d) return { region: input.region, buckets: [...buckets.values()] };

  const image = parseEcrImage(d.image);
  const trainingImage = input.training?.image ? parseEcrImage(input.training.image) : undefined;
  const m = /^arn:(aws[a-z-]*):iam::(\d{12}):role(\/.*\/|\/)([^/]+)$/.exec(d.executionRoleArn);
  const role: RoleNeed | undefined = m
    ? {
        arn: d.executionRoleArn,
        partition: m[1],
        accountId: m[2],
        path: m[3],
        name: m[4],
        policyName: EXECUTION_POLICY_NAME,
        trust: sagemakerTrustPolicy(),
        policy: executionRolePolicy({
          partition: m[1],
          region: input.region,
          accountId: m[2],
          artifacts: d.artifacts,
          captureDestination: d.captureDestination,
          training: input.training,
          images: [image, trainingImage].filter((i): i is EcrImage => i !== undefined),
        }),
      }
    : undefined;
  return { region: input.region, buckets: [...buckets.values()], ...(role ? { role } : {}), ...(image ? { image } : {}) };
}

// ---- what was observed -----------------------------------------------------------------------

export type BucketObservation =
  | { state: 'missing' }
  | { state: 'forbidden'; detail: string }
  | {
      state: 'exists';
      region?: string;
      versioning?: string;
      /** undefined: Object Lock is not enabled on the bucket. */
      objectLock?: { mode?: string; days?: number; years?: number };
    };

export type RoleObservation = { state: 'missing' } | { state: 'exists'; trust: unknown; policy?: unknown };

export type RepositoryObservation = { state: 'missing' } | { state: 'exists' };

export interface AccountObservation {
  /** The caller's account (STS GetCallerIdentity). */
  accountId: string;
  buckets: Record<string, BucketObservation>;
  role?: RoleObservation;
  repository?: RepositoryObservation;
}

// ---- the plan ---------------------------------------------------------------------------------

/** One AWS call: its service, operation and input, as the SDK's command takes it. */
export interface Call {
  service: 'S3' | 'IAM' | 'ECR';
  op: string;
  input: Record<string, unknown>;
}

/**
 * create: missing, the plan creates it; update: exists, the plan only adds to it; exists: as
 * needed; drifted: differs in a way the plan will not change (see problems); missing: absent and
 * not created (ECR without --ecr, or in another account).
 */
export type PlanStatus = 'create' | 'update' | 'exists' | 'drifted' | 'missing';

export interface Problem {
  summary: string;
  fix: string;
}

export interface PlannedResource {
  kind: 'bucket' | 'role' | 'repository';
  name: string;
  status: PlanStatus;
  /** What was found or what the calls do, for a person. */
  detail: string;
  calls: Call[];
  problems: Problem[];
}

const json = (doc: unknown) => JSON.stringify(doc);

function planBucket(b: BucketNeed, seen: BucketObservation | undefined, region: string): PlannedResource {
  const base = { kind: 'bucket' as const, name: b.name };
  const lock = b.objectLock;
  const lockCall = (): Call | undefined =>
    lock && {
      service: 'S3',
      op: 'PutObjectLockConfiguration',
      input: {
        Bucket: b.name,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } } },
      },
    };
  const lockText = lock ? `Object Lock ${lock.mode} ${lock.days} days` : '';
  if (!seen || seen.state === 'missing') {
    const calls: Call[] = [
      {
        service: 'S3',
        op: 'CreateBucket',
        input: {
          Bucket: b.name,
          ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region } }),
          ...(lock ? { ObjectLockEnabledForBucket: true } : {}),
        },
      },
      {
        service: 'S3',
        op: 'PutPublicAccessBlock',
        input: {
          Bucket: b.name,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: true,
            RestrictPublicBuckets: true,
          },
        },
      },
      ...(lock ? [lockCall()!] : []),
    ];
    return {
      ...base,
      status: 'create',
      detail: `in ${region}${lock ? `, with versioning and ${lockText}` : ''}`,
      calls,
      problems: [],
    };
  }
  if (seen.state === 'forbidden') {
    return {
      ...base,
      status: 'drifted',
      detail: `exists but is not reachable: ${seen.detail}`,
      calls: [],
      problems: [
        {
          summary: `bucket ${b.name} is not reachable with these credentials (${seen.detail}); bucket names are global, it may belong to another account`,
          fix: `Grant this identity access to ${b.name}, or choose another bucket name for ${b.uses.join(', ')} in mlops.config.yaml and run \`mlops bootstrap\`.`,
        },
      ],
    };
  }
  const problems: Problem[] = [];
  if (seen.region && seen.region !== region) {
    problems.push({
      summary: `bucket ${b.name} is in ${seen.region}, the config's region is ${region}`,
      fix: `Set aws.region (or AWS_REGION) to ${seen.region}, or use a bucket in ${region} for ${b.uses.join(', ')}.`,
    });
  }
  let calls: Call[] = [];
  let detail = `exists${seen.region ? ` in ${seen.region}` : ''}`;
  // In another region its settings were not read: the region is the one thing to say.
  if (lock && !problems.length) {
    const l = seen.objectLock;
    const fixCmd = `aws s3api put-object-lock-configuration --bucket ${b.name} --object-lock-configuration '${json({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } } })}'`;
    if (!l) {
      problems.push({
        summary: `audit bucket ${b.name} has no Object Lock: records there could be deleted or overwritten`,
        fix:
          `Enable it (irreversible; mlops will not do it for you): \`aws s3api put-bucket-versioning --bucket ${b.name} --versioning-configuration Status=Enabled\` ` +
          `then \`${fixCmd}\`; or point deploy.audit.uri at a new bucket and run \`mlops bootstrap\`.`,
      });
    } else if (seen.versioning !== undefined && seen.versioning !== 'Enabled') {
      problems.push({
        summary: `audit bucket ${b.name} has Object Lock but versioning is ${seen.versioning}`,
        fix: `\`aws s3api put-bucket-versioning --bucket ${b.name} --versioning-configuration Status=Enabled\``,
      });
    } else if (l.mode === undefined && l.days === undefined && l.years === undefined) {
      // Enabled without a default retention: adding one only strengthens the bucket.
      calls = [lockCall()!];
      detail += `, Object Lock enabled; add the default retention ${lock.mode} ${lock.days} days`;
    } else {
      const days = l.days ?? (l.years !== undefined ? l.years * 365 : undefined);
      if (l.mode !== lock.mode || days !== lock.days) {
        problems.push({
          summary: `audit bucket ${b.name} has Object Lock ${l.mode ?? '?'} ${l.days !== undefined ? `${l.days} days` : `${l.years} years`}, the config says ${lockText}`,
          fix: `Set deploy.audit.mode/retentionDays to match the bucket, or (if allowed: a COMPLIANCE default can only grow) \`${fixCmd}\`.`,
        });
      } else {
        detail += `, versioning and ${lockText}`;
      }
    }
  }
  if (problems.length) return { ...base, status: 'drifted', detail, calls: [], problems };
  return { ...base, status: calls.length ? 'update' : 'exists', detail, calls, problems };
}

function planRole(role: RoleNeed, seen: RoleObservation | undefined, accountId: string): PlannedResource {
  const base = { kind: 'role' as const, name: role.arn };
  const putPolicy: Call = {
    service: 'IAM',
    op: 'PutRolePolicy',
    input: { RoleName: role.name, PolicyName: role.policyName, PolicyDocument: json(role.policy) },
  };
  if (role.accountId !== accountId) {
    return {
      ...base,
      status: 'drifted',
      detail: `in account ${role.accountId}, the credentials are for ${accountId}`,
      calls: [],
      problems: [
        {
          summary: `deploy.executionRoleArn is in account ${role.accountId}, but these credentials are for account ${accountId}`,
          fix: `Set deploy.executionRoleArn (or MLOPS_EXECUTION_ROLE_ARN) to arn:${role.partition}:iam::${accountId}:role${role.path}${role.name}, or use credentials for account ${role.accountId}.`,
        },
      ],
    };
  }
  if (!seen || seen.state === 'missing') {
    return {
      ...base,
      status: 'create',
      detail: `trusted by ${SAGEMAKER_SERVICE}, with the inline policy ${role.policyName}`,
      calls: [
        {
          service: 'IAM',
          op: 'CreateRole',
          input: {
            RoleName: role.name,
            Path: role.path,
            AssumeRolePolicyDocument: json(role.trust),
            Description: 'SageMaker execution role of mlops (endpoints and training jobs)',
          },
        },
        putPolicy,
      ],
      problems: [],
    };
  }
  if (!trustsService(seen.trust, SAGEMAKER_SERVICE)) {
    return {
      ...base,
      status: 'drifted',
      detail: `exists, but its trust policy does not let ${SAGEMAKER_SERVICE} assume it`,
      calls: [],
      problems: [
        {
          summary: `role ${role.name} does not trust ${SAGEMAKER_SERVICE} (trust policy: ${json(seen.trust)})`,
          fix: `\`aws iam update-assume-role-policy --role-name ${role.name} --policy-document '${json(role.trust)}'\` (check first what else uses this role), or set deploy.executionRoleArn to another role and run \`mlops bootstrap\`.`,
        },
      ],
    };
  }
  if (seen.policy === undefined) {
    return { ...base, status: 'update', detail: `exists; add the inline policy ${role.policyName}`, calls: [putPolicy], problems: [] };
  }
  if (!samePolicy(seen.policy, role.policy)) {
    return {
      ...base,
      status: 'drifted',
      detail: `exists; its inline policy ${role.policyName} differs from the one mlops needs`,
      calls: [],
      problems: [
        {
          summary: `role ${role.name}: inline policy ${role.policyName} differs from what this config needs`,
          fix: `Review and apply it: \`aws iam put-role-policy --role-name ${role.name} --policy-name ${role.policyName} --policy-document file://iam/mlops-execution-policy.json\` (\`mlops bootstrap --dry-run --json\` prints the document).`,
        },
      ],
    };
  }
  return { ...base, status: 'exists', detail: `exists, trusted by ${SAGEMAKER_SERVICE}, inline policy as needed`, calls: [], problems: [] };
}

function planRepository(image: EcrImage, seen: RepositoryObservation | undefined, accountId: string, createEcr: boolean): PlannedResource {
  const base = { kind: 'repository' as const, name: `${image.accountId}.dkr.ecr.${image.region}.amazonaws.com/${image.repository}` };
  if (seen?.state === 'exists') return { ...base, status: 'exists', detail: 'exists', calls: [], problems: [] };
  if (image.accountId !== accountId) {
    return {
      ...base,
      status: 'missing',
      detail: `in account ${image.accountId}, not this one (${accountId}): not checked`,
      calls: [],
      problems: [],
    };
  }
  if (!createEcr) {
    return {
      ...base,
      status: 'missing',
      detail: 'does not exist',
      calls: [],
      problems: [
        {
          summary: `ECR repository ${image.repository} does not exist in ${image.region}`,
          fix: 'Run `mlops bootstrap --ecr`, then push the serving image (`mlflow sagemaker build-and-push-container`).',
        },
      ],
    };
  }
  return {
    ...base,
    status: 'create',
    detail: 'scan on push',
    calls: [
      {
        service: 'ECR',
        op: 'CreateRepository',
        input: { repositoryName: image.repository, imageScanningConfiguration: { scanOnPush: true } },
      },
    ],
    problems: [],
  };
}

/** The plan: for each needed resource, its status, the calls that make it so, and what is left to a person. */
export function planBootstrap(needs: AccountNeeds, seen: AccountObservation, opts: { createEcr: boolean }): PlannedResource[] {
  const out = needs.buckets.map((b) => planBucket(b, seen.buckets[b.name], needs.region));
  if (needs.role) out.push(planRole(needs.role, seen.role, seen.accountId));
  // The ECR client works in the config's region: an image elsewhere is reported by doctor's region check.
  if (needs.image && needs.image.region === needs.region)
    out.push(planRepository(needs.image, seen.repository, seen.accountId, opts.createEcr));
  return out;
}
