/**
 * The settings of the config file that have an environment twin, and the one rule they follow:
 * flags > environment > file > defaults. No flag sets any of them today, so in effect the
 * environment beats the file. An empty variable counts as unset (CI systems export a missing
 * secret as ""), and a setting with several twins takes the first one set, in the order listed
 * (the AWS SDKs' order: the service-specific endpoint variable before AWS_ENDPOINT_URL).
 *
 * loadConfig applies the rule, so every command sees the effective values; the adapters read the
 * same table (envTwinValue) only to fill a config built without a file.
 */
import { UserError } from '../core/errors.js';
import { RULES } from './rules.js';
import type { Config } from './schema.js';

export interface EnvTwin {
  /** Dotted path of the setting in the config. */
  path: string;
  /** Its environment variables, the first set one wins. */
  variables: readonly string[];
}

/** AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns the endpoint variables off, as in the AWS SDKs. */
const IGNORE_ENDPOINT_VARIABLES = 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS';

/** Every setting with an environment twin. */
export const ENV_TWINS: readonly EnvTwin[] = [
  { path: 'mlflow.trackingUri', variables: ['MLFLOW_TRACKING_URI'] },
  { path: 'aws.region', variables: ['AWS_REGION', 'AWS_DEFAULT_REGION'] },
  { path: 'aws.endpoints.s3', variables: ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'] },
  { path: 'aws.endpoints.sagemaker', variables: ['AWS_ENDPOINT_URL_SAGEMAKER', 'AWS_ENDPOINT_URL'] },
  // SageMaker's runtime falls back to the SageMaker endpoint (awsSettings), which AWS_ENDPOINT_URL already sets.
  { path: 'aws.endpoints.sagemakerRuntime', variables: ['AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME'] },
  { path: 'aws.endpoints.cloudwatch', variables: ['AWS_ENDPOINT_URL_CLOUDWATCH', 'AWS_ENDPOINT_URL'] },
  { path: 'aws.endpoints.iam', variables: ['AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL'] },
  { path: 'aws.endpoints.sts', variables: ['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL'] },
  { path: 'aws.endpoints.ecr', variables: ['AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL'] },
];

/** Where an effective value came from: `env:VARIABLE`, `file`, or `default` (unset, or the schema's default). */
export type SettingSource = `env:${string}` | 'file' | 'default';

/** The environment's value for a setting, and the variable it came from; undefined when none is set. */
export function envTwinValue(path: string, env: Record<string, string | undefined>): { value: string; variable: string } | undefined {
  const twin = ENV_TWINS.find((t) => t.path === path);
  if (!twin) return undefined;
  if (path.startsWith('aws.endpoints.') && env[IGNORE_ENDPOINT_VARIABLES] === 'true') return undefined;
  for (const variable of twin.variables) {
    const value = env[variable];
    if (value !== undefined && value !== '') return { value, variable };
  }
  return undefined;
}

/**
 * The config with the environment applied over the file, and the source of each twinned
 * setting. Pure: returns a new config, the input is not changed.
 */
export function applyEnvironment(
  config: Config,
  env: Record<string, string | undefined>,
): { config: Config; sources: Record<string, SettingSource> } {
  const out = structuredClone(config);
  const sources: Record<string, SettingSource> = {};
  for (const twin of ENV_TWINS) {
    const keys = twin.path.split('.');
    const leaf = keys.pop()!;
    let parent = out as unknown as Record<string, unknown>;
    for (const k of keys) parent = parent[k] as Record<string, unknown>;
    const fromEnv = envTwinValue(twin.path, env);
    if (fromEnv) {
      parent[leaf] = fromEnv.value;
      sources[twin.path] = `env:${fromEnv.variable}`;
    } else {
      sources[twin.path] = parent[leaf] === undefined ? 'default' : 'file';
    }
  }
  return { config: out, sources };
}

/** What a setting's value must be, as the schema checks it in the file; undefined when it is fine. */
function twinProblem(path: string, value: string): string | undefined {
  if (path === 'mlflow.trackingUri' && !RULES.trackingUri(value)) {
    return 'expected an http(s) URL of the MLflow tracking server, or a SageMaker MLflow tracking server ARN';
  }
  if (path.startsWith('aws.endpoints.') && !URL.canParse(value)) return 'expected a URL, such as http://127.0.0.1:4566';
  return undefined;
}

/**
 * The variables that override a setting checked as the file's value is (the file's own check
 * never sees them): a malformed one is bad input naming it, not a failed call. `config validate`
 * and `doctor` check them all; the MLflow and AWS adapters check, with `only`, the settings they
 * are about to use (the value given), so a command that uses neither is not stopped by a variable
 * meant for other work (MLFLOW_TRACKING_URI=sqlite:///mlflow.db). Each variable is named once,
 * whatever it feeds.
 */
export function checkEnvironment(env: Record<string, string | undefined>, only?: (path: string, value: string) => boolean): void {
  const problems = new Map<string, { variable: string; settings: string[]; message: string; found: string }>();
  for (const twin of ENV_TWINS) {
    const fromEnv = envTwinValue(twin.path, env);
    const message = fromEnv && (!only || only(twin.path, fromEnv.value)) && twinProblem(twin.path, fromEnv.value);
    if (!fromEnv || !message) continue;
    const seen = problems.get(fromEnv.variable);
    if (seen) seen.settings.push(twin.path);
    else problems.set(fromEnv.variable, { variable: fromEnv.variable, settings: [twin.path], message, found: fromEnv.value });
  }
  if (!problems.size) return;
  const list = [...problems.values()];
  throw new UserError(
    'CONFIG_ENV_INVALID',
    `Invalid setting from the environment (${list.length} problem${list.length === 1 ? '' : 's'}):\n` +
      list.map((p) => `  $${p.variable} (over ${p.settings.join(', ')}): ${p.message}, found ${JSON.stringify(p.found)}`).join('\n'),
    {
      hint: 'Fix or unset the variable: it overrides the config file for these settings (`mlops config show` says where each value comes from).',
      details: { problems: list },
    },
  );
}
