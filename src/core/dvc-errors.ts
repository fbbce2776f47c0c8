/**
 * DVC's failures, turned into messages a person can act on. Pure: takes what the process runner
 * saw (exit code, captured output) and returns a stable code, a message and a hint.
 *
 * The patterns were taken from the real `dvc` 3.67 (see test/unit/dvc-errors.test.ts for the
 * recorded output); the authentication ones also from the messages of the remote plugins
 * (dvc-s3/botocore, dvc-gs, dvc-azure, dvc-ssh, dvc-http/aiohttp), which are not installed here.
 */

export type DvcFailureCode =
  | 'DVC_NOT_INSTALLED'
  | 'DVC_NOT_A_REPO'
  | 'DVC_NO_REMOTE'
  | 'DVC_REMOTE_NOT_FOUND'
  | 'DVC_PLUGIN_MISSING'
  | 'DVC_AUTH_FAILED'
  | 'DVC_CONFIG_ERROR'
  | 'DVC_MISSING_FILES'
  | 'DVC_INTERRUPTED'
  | 'DVC_FAILED';

export interface DvcFailure {
  code: DvcFailureCode;
  message: string;
  hint: string;
  /** Extra detail: the missing plugin, the remote name, the targets that could not be checked out. */
  details?: Record<string, unknown>;
}

export interface DvcOutcome {
  exitCode?: number;
  signal?: string;
  notFound?: boolean;
  /** stdout + stderr as captured. */
  output: string;
}

export interface PullSpec {
  remote?: string;
  targets?: string[];
  jobs?: number;
}

/** The argv of `dvc pull` for the data section of the config (argv[0] is the binary). */
export function dvcPullArgv(spec: PullSpec, bin = 'dvc'): string[] {
  const argv = [bin, 'pull'];
  if (spec.remote) argv.push('--remote', spec.remote);
  if (spec.jobs) argv.push('--jobs', String(spec.jobs));
  if (spec.targets?.length) argv.push('--', ...spec.targets);
  return argv;
}

const AUTH_PATTERNS: RegExp[] = [
  /Unable to locate credentials/i, // botocore NoCredentialsError
  /\b(InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|InvalidToken|AccessDenied|TokenRefreshRequired)\b/,
  /An error occurred \((403|401)\)/, // botocore ClientError
  /\b(401|403)\b[^\n]*\b(Unauthorized|Forbidden)\b/i, // aiohttp / http remotes
  /\b(Unauthorized|Forbidden)\b[^\n]*\b(401|403)\b/i,
  /Anonymous caller does not have/i, // gcs
  /DefaultCredentialsError|Could not automatically determine credentials|invalid_grant/i, // google-auth
  /AuthenticationFailed|AuthorizationPermissionMismatch|ClientAuthenticationError/, // azure
  /Authentication failed|Permission denied \(publickey|No authentication methods available/i, // ssh (asyncssh)
  /authentication require both/i, // dvc-http: basic/custom auth half configured (verified, exit 251)
  /\bcredentials?\b[^\n]*(invalid|expired|not found|missing)/i,
];

function errorLines(output: string): string[] {
  return output
    .split(/\r?\n/)
    .filter((l) => /^(\S+ \S+ )?ERROR:/.test(l))
    .map((l) => l.replace(/^(\S+ \S+ )?ERROR:\s*/, '').trim());
}

/** The targets DVC lists after "Checkout failed for following targets:". */
export function failedTargets(output: string): string[] {
  const m = /Checkout failed for following targets:\s*\n([\s\S]*?)(\nIs your cache up to date\?|\n\n|$)/.exec(output);
  if (!m) return [];
  return m[1]
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Classifies a failed DVC run. Returns undefined when it did not fail. */
export function classifyDvcFailure(r: DvcOutcome, context: { remote?: string; command?: string } = {}): DvcFailure | undefined {
  const out = r.output ?? '';
  const cmd = context.command ?? 'dvc pull';
  if (r.notFound) {
    return {
      code: 'DVC_NOT_INSTALLED',
      message: 'DVC is not installed: there is no `dvc` on PATH.',
      hint:
        "Install it with `pip install dvc` plus the plugin for your remote (e.g. `pip install 'dvc[s3]'`), " +
        'or activate the virtual environment that has it.',
    };
  }
  if (r.exitCode === 0 && !r.signal) return undefined;
  if (r.signal || r.exitCode === 252) {
    return {
      code: 'DVC_INTERRUPTED',
      message: `\`${cmd}\` was interrupted${r.signal ? ` (${r.signal})` : ''}.`,
      hint: `Run \`${cmd}\` again; DVC resumes where it stopped.`,
    };
  }
  if (r.exitCode === 253 || /not inside of a DVC repository/i.test(out)) {
    return {
      code: 'DVC_NOT_A_REPO',
      message: 'This is not a DVC repository (no .dvc/ folder here or above).',
      hint: 'Run `dvc init` at the repository root and commit the .dvc/ folder, or run mlops from inside the repository.',
    };
  }
  const plugin = /(\w+) is supported, but requires '([\w.-]+)' to be installed/.exec(out);
  if (plugin) {
    return {
      code: 'DVC_PLUGIN_MISSING',
      message: `The DVC remote uses ${plugin[1]}://, but the DVC plugin '${plugin[2]}' is not installed.`,
      hint: `Install it next to dvc: \`pip install ${plugin[2]}\` (or \`pip install 'dvc[${plugin[1]}]'\`).`,
      details: { scheme: plugin[1], plugin: plugin[2] },
    };
  }
  const unknown = /remote '([^']+)' doesn't exist/.exec(out);
  if (unknown) {
    return {
      code: 'DVC_REMOTE_NOT_FOUND',
      message: `The DVC remote '${unknown[1]}' is not configured in this repository.`,
      hint: 'List the remotes with `dvc remote list`; fix `data.remote` in mlops.config.yaml, or add it with `dvc remote add <name> <url>`.',
      details: { remote: unknown[1] },
    };
  }
  if (/No remote provided and no default remote set/i.test(out)) {
    return {
      code: 'DVC_NO_REMOTE',
      message: 'No DVC remote is configured, so there is nowhere to pull the data from.',
      hint:
        'Add a default remote and commit .dvc/config: `dvc remote add -d storage s3://bucket/path` ' +
        '(or set `data.remote` in mlops.config.yaml to one listed by `dvc remote list`).',
    };
  }
  if (AUTH_PATTERNS.some((p) => p.test(out))) {
    const line = errorLines(out).at(-1);
    return {
      code: 'DVC_AUTH_FAILED',
      message: `DVC could not authenticate to the remote${context.remote ? ` '${context.remote}'` : ''}${line ? `: ${line}` : '.'}`,
      hint:
        "Check the remote's credentials: for S3 the AWS chain (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, " +
        'or the CI role), for GCS GOOGLE_APPLICATION_CREDENTIALS, for Azure AZURE_STORAGE_CONNECTION_STRING, for HTTP/SSH ' +
        '`dvc remote modify --local <remote> user|password`. Never commit secrets to .dvc/config (use --local).',
    };
  }
  if (r.exitCode === 251 || /configuration error/i.test(out)) {
    const line = errorLines(out).at(-1);
    return {
      code: 'DVC_CONFIG_ERROR',
      message: `DVC's configuration is invalid${line ? `: ${line}` : '.'}`,
      hint: 'Check .dvc/config and .dvc/config.local (`dvc config --list --show-origin` shows where each value comes from).',
    };
  }
  if (/do not exist neither locally nor on remote|Checkout failed for following targets|error\.dvc\.org\/missing-files/i.test(out)) {
    const targets = failedTargets(out);
    return {
      code: 'DVC_MISSING_FILES',
      message: `Some data is neither in the local cache nor in the DVC remote${targets.length ? `: ${targets.join(', ')}` : '.'}`,
      hint:
        'Whoever changed the data committed the .dvc/dvc.lock change without `dvc push`: run `dvc push` where the data is ' +
        '(or `dvc repro` to regenerate it). If the remote needs credentials, check them too: some remotes (HTTP) report a ' +
        'refused download as a missing file.',
      details: { targets },
    };
  }
  const line = errorLines(out).at(-1);
  return {
    code: 'DVC_FAILED',
    message: `\`${cmd}\` failed with exit code ${r.exitCode ?? '?'}${line ? `: ${line}` : '.'}`,
    hint: `Run \`${cmd} -v\` to see DVC's details.`,
  };
}
