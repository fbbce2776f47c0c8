/**
 * Builds AWS SDK clients from the config: region, endpoint overrides (the local sandbox or a VPC
 * endpoint), path-style S3. Each client module is imported lazily, so commands that do not touch
 * AWS never load the SDK. Credentials come from the SDK's default chain.
 */
import { checkEnvironment, envTwinValue } from '../config/environment.js';
import type { Config } from '../config/schema.js';
import { ExternalError, MlopsError } from '../core/errors.js';
import { printable } from '../core/escape.js';

export interface AwsSettings {
  region: string;
  endpoints: Config['aws']['endpoints'];
  /**
   * Static keys from the command's env (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN),
   * so the env a command was given is the one used, not the process's; absent: the SDK's chain.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * The region and each endpoint of the config, which loadConfig made effective (environment over
 * file, src/config/environment.ts); a value the config lacks (a config built without a file) comes
 * from the same variables, then us-east-1 / the SDK's default endpoint. The SageMaker runtime
 * falls back to the SageMaker endpoint. Resolved here rather than left to the SDK because an S3
 * override also needs path-style addressing.
 */
export function awsSettings(config: Config, env: Record<string, string | undefined>): AwsSettings {
  const e = config.aws.endpoints;
  const pick = (key: keyof Config['aws']['endpoints']) => e[key] ?? envTwinValue(`aws.endpoints.${key}`, env)?.value;
  const sagemaker = pick('sagemaker');
  const endpoints: Config['aws']['endpoints'] = {
    ...e,
    s3: pick('s3'),
    sagemaker,
    sagemakerRuntime: pick('sagemakerRuntime') ?? sagemaker,
    cloudwatch: pick('cloudwatch'),
    iam: pick('iam'),
    sts: pick('sts'),
    ecr: pick('ecr'),
  };
  for (const k of Object.keys(endpoints) as Array<keyof typeof endpoints>) if (endpoints[k] === undefined) delete endpoints[k];
  // A malformed endpoint variable, about to be used: bad input naming it (not the SDK's 'Invalid URL').
  checkEnvironment(env, (p, value) => p.startsWith('aws.endpoints.') && endpoints[p.slice(14) as keyof typeof endpoints] === value);
  const credentials = envCredentials(env);
  return {
    region: config.aws.region ?? envTwinValue('aws.region', env)?.value ?? 'us-east-1',
    endpoints,
    ...(credentials ? { credentials } : {}),
  };
}

/** Static keys from the command's env (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN); undefined: the SDK's chain. */
export function envCredentials(env: Record<string, string | undefined>): AwsSettings['credentials'] {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

const common = (s: AwsSettings, endpoint?: string) => ({
  region: s.region,
  ...(endpoint ? { endpoint } : {}),
  ...(s.credentials ? { credentials: s.credentials } : {}),
  maxAttempts: 3,
});

export async function s3Client(s: AwsSettings) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({ ...common(s, s.endpoints.s3), forcePathStyle: Boolean(s.endpoints.s3) });
}

export async function sageMakerClient(s: AwsSettings) {
  const { SageMakerClient } = await import('@aws-sdk/client-sagemaker');
  return new SageMakerClient(common(s, s.endpoints.sagemaker));
}

export async function sageMakerRuntimeClient(s: AwsSettings) {
  const { SageMakerRuntimeClient } = await import('@aws-sdk/client-sagemaker-runtime');
  return new SageMakerRuntimeClient(common(s, s.endpoints.sagemakerRuntime ?? s.endpoints.sagemaker));
}

export async function cloudWatchClient(s: AwsSettings) {
  const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
  return new CloudWatchClient(common(s, s.endpoints.cloudwatch));
}

export async function iamClient(s: AwsSettings) {
  const { IAMClient } = await import('@aws-sdk/client-iam');
  // IAM is global: its endpoint lives in us-east-1 (the partition's default) whatever the region.
  return new IAMClient(common(s, s.endpoints.iam));
}

export async function stsClient(s: AwsSettings) {
  const { STSClient } = await import('@aws-sdk/client-sts');
  return new STSClient(common(s, s.endpoints.sts));
}

export async function ecrClient(s: AwsSettings) {
  const { ECRClient } = await import('@aws-sdk/client-ecr');
  return new ECRClient(common(s, s.endpoints.ecr));
}

/** The SDK error's name (or S3's Code), '' when it has none. */
export const awsErrorName = (e: unknown): string => (e as { name?: string; Code?: string })?.name ?? (e as { Code?: string })?.Code ?? '';

/** The HTTP status of an SDK error, when the service answered. */
export const awsHttpStatus = (e: unknown): number | undefined =>
  (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

const CODES = {
  S3: 'S3_ERROR',
  SageMaker: 'SAGEMAKER_ERROR',
  CloudWatch: 'CLOUDWATCH_ERROR',
  IAM: 'IAM_ERROR',
  STS: 'STS_ERROR',
  ECR: 'ECR_ERROR',
} as const;

/**
 * The one mapping of an AWS SDK failure to an error with an exit code: ExternalError (exit 3),
 * "<service> <op> <where> failed: <name>: <message>", with the caller's hint; an interrupt stays one.
 */
export function awsFailure(service: keyof typeof CODES, op: string, e: unknown, o: { where?: string; hint: string }): MlopsError {
  if (e instanceof MlopsError) return e;
  // The service's own text (an endpoint override may be anything) reaches the terminal: shown, not obeyed.
  const msg = printable(e instanceof Error ? e.message : String(e));
  const noCredentials = awsErrorName(e) === 'CredentialsProviderError';
  // Only an endpoint override (the sandbox's, usually) can refuse a connection: AWS itself does not.
  const refused = (e as { code?: string })?.code === 'ECONNREFUSED';
  return new ExternalError(
    CODES[service],
    `${service} ${op}${o.where ? ` ${o.where}` : ''} failed: ${awsErrorName(e) || 'error'}: ${msg}`,
    {
      hint: noCredentials
        ? 'No AWS credentials: configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a role; in CI the deploy role); ' +
          'for the local sandbox, `eval "$(npx mlops sandbox env)"` sets them.'
        : refused
          ? 'Nothing answers at the AWS endpoint override: the sandbox is down (`mlops sandbox up`, then `eval "$(npx mlops sandbox env)"` ' +
            'again: its ports change), or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> / aws.endpoints is stale.'
          : o.hint,
      cause: e,
    },
  );
}
