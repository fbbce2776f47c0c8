/**
 * Probes for `mlops doctor`: is a tool on PATH and which version, does an HTTP endpoint answer,
 * where would AWS credentials come from. Every outcome is a value; nothing here throws for the
 * thing probed being absent or broken.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runProcess } from './process.js';

export interface ToolProbe {
  found: boolean;
  /** The first version-looking string in its output, e.g. "3.59.1". */
  version?: string;
  /** First line of its output, or why it could not run. */
  detail: string;
}

/** Runs `<tool> --version` (or the given args) with the given env's PATH. */
export async function probeTool(
  argv: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; timeoutMs?: number },
): Promise<ToolProbe> {
  const r = await runProcess(argv, { cwd: opts.cwd, env: opts.env, stream: false, timeoutMs: opts.timeoutMs ?? 15_000, maxCapture: 4096 });
  if (r.notFound) return { found: false, detail: `${argv[0]} not found on PATH` };
  const out = r.output.trim();
  if (r.timedOut) return { found: true, detail: `\`${argv.join(' ')}\` did not answer within ${(opts.timeoutMs ?? 15_000) / 1000}s` };
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1];
  if (!r.ok && !version) return { found: true, detail: `\`${argv.join(' ')}\` exited ${r.exitCode ?? r.signal}: ${firstLine(out)}` };
  return { found: true, version, detail: firstLine(out) };
}

/** The version of the Node.js running mlops, e.g. "20.20.2". */
export function runningNodeVersion(): string {
  return process.versions.node;
}

/** Whether version a >= b, comparing numeric dotted parts. */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

export interface HttpProbe {
  /** Something answered over HTTP (any status). */
  answered: boolean;
  status?: number;
  /** Body start (for a 200) or why nothing answered (ECONNREFUSED, timeout, DNS...). */
  detail: string;
  /** The body is a JSON object (what a REST API answers; a login page or a proxy's page is not). */
  jsonObject?: boolean;
}

/** One GET with a short timeout; never throws. */
export async function probeHttp(url: string, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpProbe> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  try {
    const res = await fetch(url, { headers: opts.headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const body = await res.text().catch(() => '');
    return { answered: true, status: res.status, detail: firstLine(body).slice(0, 120), jsonObject: isJsonObject(body) };
  } catch (err) {
    return { answered: false, detail: fetchFailure(err, timeoutMs) };
  }
}

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000}s`;
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? String(err);
}

export interface AwsCredentialSource {
  /** Where credentials would come from, or undefined when no source is visible. */
  source?: string;
  /** The profile in use (AWS_PROFILE, else "default"). */
  profile: string;
  /** Region from the env or the profile, if any. */
  region?: string;
  /** When no source is visible: a pair of variables of which only one is set (a CI secret misnamed, say). */
  incomplete?: string;
}

/** The environment's credential sources that need two variables, each named as [first, second]. */
const PAIRS = [
  ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'],
] as const;

/**
 * Where the AWS SDK's default chain would find credentials, judged from the env and the shared
 * files only: no network call (an instance or container role is reported as a possibility, not
 * resolved, so doctor never waits on the metadata service).
 */
export function findAwsCredentials(env: Record<string, string | undefined>): AwsCredentialSource {
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  const home = env.HOME || env.USERPROFILE || '';
  const credFile = env.AWS_SHARED_CREDENTIALS_FILE || (home && path.join(home, '.aws', 'credentials'));
  const configFile = env.AWS_CONFIG_FILE || (home && path.join(home, '.aws', 'config'));
  const creds = readIni(credFile);
  const conf = readIni(configFile);
  const confSection = conf[profile === 'default' ? 'default' : `profile ${profile}`] ?? conf[profile];
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || confSection?.region;

  let source: string | undefined;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) source = 'environment (AWS_ACCESS_KEY_ID)';
  else if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) source = 'web identity (AWS_ROLE_ARN)';
  else if (creds[profile]?.aws_access_key_id) source = `profile "${profile}" in ${credFile}`;
  else if (confSection?.aws_access_key_id) source = `profile "${profile}" in ${configFile}`;
  else if (
    confSection &&
    (confSection.role_arn || confSection.sso_session || confSection.sso_start_url || confSection.credential_process)
  ) {
    source = `profile "${profile}" in ${configFile} (role, SSO or credential_process)`;
  } else if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) source = 'container role (ECS/EKS)';
  if (source) return { source, profile, region };
  const half = PAIRS.flatMap(([a, b]) => (env[a] && !env[b] ? [[a, b]] : !env[a] && env[b] ? [[b, a]] : []))[0];
  return { source, profile, region, ...(half ? { incomplete: `${half[0]} is set but ${half[1]} is not` } : {}) };
}

/** A tolerant reader of the AWS shared-config INI files: section -> key -> value. */
function readIni(file: string | undefined): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (!file || !existsSync(file)) return out;
  let section: Record<string, string> | undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const head = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (head) {
      section = out[head[1]] ??= {};
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv && section) section[kv[1].toLowerCase()] = kv[2]!;
  }
  return out;
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? ''
  );
}
