/**
 * The declarative command table: metadata only (no imports), so `mlops --help` loads no command
 * module and no heavy dependency. The table is `as const`, so each command's option types are
 * derived from its flags (`OptionsOf<'promote'>`); src/cli/loaders.ts maps each command to the
 * module that runs it, and the compiler checks that the module's `run` takes those options.
 */

export interface OptionDef {
  readonly flags: string;
  readonly description: string;
  readonly default?: string | boolean | number;
  readonly choices?: readonly string[];
}

export interface ArgDef {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly variadic?: boolean;
  readonly choices?: readonly string[];
}

export interface CommandDef {
  readonly name: string;
  readonly summary: string;
  /** Longer help text shown under the summary. */
  readonly description?: string;
  readonly examples: readonly string[];
  readonly args?: readonly ArgDef[];
  readonly options?: readonly OptionDef[];
  readonly subcommands?: readonly CommandDef[];
}

export const COMMANDS = [
  {
    name: 'init',
    summary: 'Scaffold mlops into this repository (config, CI workflow, training code, DVC stage, IAM policy)',
    description:
      'Writes mlops.config.yaml, .github/workflows/mlops.yml (and/or .gitlab-ci.yml),\n' +
      'src/prepare.py, src/train.py, src/evaluate.py, dvc.yaml, requirements.txt,\n' +
      'iam/mlops-deploy-policy.json, iam/mlops-data-policy.json, iam/mlops-execution-policy.json,\n' +
      'the OIDC trust policy of the CI (iam/github-oidc-trust.json, iam/gitlab-oidc-trust.json) and .gitignore\n' +
      'entries into the current folder. An existing file is never overwritten without\n' +
      '--force (.gitignore and requirements.txt only get the missing lines); nothing\n' +
      'prompts, and running it again is safe.',
    examples: ['npx mlops init', 'npx mlops init --name churn --endpoint churn-prod --ci both', 'npx mlops init --dry-run'],
    options: [
      { flags: '--name <name>', description: 'project name (default: the folder name)' },
      { flags: '--experiment <name>', description: 'MLflow experiment (default: the project name)' },
      { flags: '--model <name>', description: 'MLflow registered model (default: the project name)' },
      { flags: '--endpoint <name>', description: 'SageMaker endpoint (default: <name>-prod)' },
      { flags: '--ci <provider>', description: 'CI files to write', default: 'github', choices: ['github', 'gitlab', 'both', 'none'] },
      { flags: '--region <region>', description: 'AWS region for the config and IAM policy (default: us-east-1)' },
      { flags: '--account-id <id>', description: 'AWS account id for ARNs (default: a placeholder to edit)' },
      { flags: '--bucket <name>', description: 'S3 bucket for models, data capture, state, locks (default: <name>-mlops)' },
      { flags: '--audit-bucket <name>', description: 'S3 bucket with Object Lock for the audit trail (default: <name>-mlops-audit)' },
      { flags: '--force', description: 'overwrite existing files that differ', default: false },
      { flags: '--dry-run', description: 'list what would be written, write nothing', default: false },
    ],
  },
  {
    name: 'pull',
    summary: 'Fetch the DVC-versioned data (dvc pull with the remote, targets and jobs from config)',
    description:
      'Runs `dvc pull` (the `dvc` on PATH) in the folder of the config file, with\n' +
      'data.remote, data.targets and data.jobs from config (flags and arguments\n' +
      "override them), and streams DVC's output. Each DVC failure exits 3 with a\n" +
      'message saying what to do: DVC not installed, not a DVC repository, no remote\n' +
      'configured, unknown remote, missing remote plugin, authentication failure,\n' +
      'files missing from the remote.',
    examples: ['mlops pull', 'mlops pull data/raw.csv.dvc --jobs 8', 'mlops pull --remote backup --dry-run'],
    args: [{ name: 'targets', description: 'DVC targets to pull (default: data.targets, else everything)', variadic: true }],
    options: [
      { flags: '-r, --remote <name>', description: 'DVC remote to pull from (default: data.remote, else the default remote)' },
      { flags: '-j, --jobs <n>', description: "parallel download jobs (default: data.jobs, else DVC's default)" },
      { flags: '--dry-run', description: 'print the dvc command instead of running it', default: false },
    ],
  },
  {
    name: 'train',
    summary: 'Run the training command as a tracked MLflow run (tags, status, timeout, required metrics)',
    description:
      'Creates an MLflow run (experiment created if missing) tagged with the git\n' +
      'commit, branch and dirty flag, the DVC data version (dvc.lock / *.dvc), a hash\n' +
      'of the resolved config and the CI run URL; runs train.command (or the command\n' +
      'after --) in the config folder with MLFLOW_TRACKING_URI,\n' +
      'MLFLOW_EXPERIMENT_NAME and MLFLOW_RUN_ID set, streams its output, and marks\n' +
      'the run FINISHED, FAILED or KILLED (never left RUNNING). SIGINT/SIGTERM are\n' +
      'forwarded to the command; train.timeout kills it. Then every metric of\n' +
      'compare.gates and train.requiredMetrics must have been logged, and the holdout\n' +
      '(train.holdout) is profiled as the run artifact mlops/profile.json (the drift\n' +
      'baseline). The run is recorded in .mlops/last-run.json (for compare and\n' +
      'promote) and its id printed on stdout (the whole record with --json).\n' +
      '\n' +
      'Exit codes: 0 trained and required metrics logged; 3 the training command\n' +
      "exited non-zero (mlops exits 3, not the script's own code, which is in the\n" +
      'message, the --json error details and the run tag mlops.train.exit_code),\n' +
      'could not start, timed out, or missed a required metric, or MLflow failed; 2\n' +
      'bad config; 130 interrupted (the run is marked KILLED).\n' +
      '\n' +
      'With train.backend: sagemaker (or --backend sagemaker) the script runs as a\n' +
      'SageMaker Training Job (train.sagemaker): the git-tracked code and the DVC data\n' +
      '(uploaded once per content hash) go to S3, the job logs into the same run, its\n' +
      'CloudWatch logs and status transitions stream here, Ctrl-C and the timeout stop\n' +
      'it, and a failed job exits 3 with its FailureReason. --attach JOB re-attaches.',
    examples: [
      'mlops train',
      'mlops train --timeout 45m',
      'mlops train --json | jq -r .runId',
      'mlops train -- python src/train.py --fast',
      'mlops train --backend sagemaker',
      'mlops train --attach mlops-train-20260101-120000-ab12',
    ],
    args: [{ name: 'command', description: 'training command overriding train.command (after --)', variadic: true }],
    options: [
      { flags: '--timeout <duration>', description: 'kill training after this long (default: train.timeout)' },
      {
        flags: '--backend <backend>',
        description: 'where to train, for this run (default: train.backend)',
        choices: ['local', 'sagemaker'],
      },
      { flags: '--attach <job>', description: 'watch a running SageMaker training job again and end its run' },
      { flags: '--dry-run', description: "print the run's tags and the command, create nothing", default: false },
    ],
  },
  {
    name: 'doctor',
    summary: 'Check tools, config, MLflow and AWS access; say what to fix',
    description:
      'Checks Node (>= 20.19), git, DVC, Python (>= 3.9), the config, that the MLflow server answers\n' +
      '(/health and the REST API, with the auth from MLFLOW_TRACKING_TOKEN or USERNAME/PASSWORD), and\n' +
      'AWS credentials, region and endpoint overrides. One line per check, marked required or optional;\n' +
      'DVC is required when the repo uses it, Python when train.command does, AWS when the config has a\n' +
      'deploy or monitor section; then, unless --offline, the account itself: the identity (STS), each\n' +
      "bucket, the audit bucket's Object Lock, the execution role and its trust, the serving image in\n" +
      'ECR and that the regions agree, each failure with its fix (often `mlops bootstrap`).\n' +
      'Exits 0 when every required check passes, 1 otherwise.',
    examples: [
      'mlops doctor',
      'mlops doctor --offline',
      'mlops doctor --json | jq \'.checks[] | select(.status != "ok")\'',
      'mlops doctor --timeout 2',
    ],
    options: [
      { flags: '--timeout <seconds>', description: 'timeout of each network check', default: '5' },
      { flags: '--offline', description: 'skip the AWS account checks (credentials and endpoints only)', default: false },
    ],
  },
  {
    name: 'bootstrap',
    summary: 'Create or check what the config needs in the AWS account: buckets, audit Object Lock, execution role, ECR',
    description:
      "Creates what the config's deploy and monitor sections need in the AWS account, or checks\n" +
      'that it is there: the S3 buckets (artifacts, data capture, state, locks; the audit bucket\n' +
      'with versioning and Object Lock in deploy.audit.mode and retentionDays), the SageMaker\n' +
      'execution role of deploy.executionRoleArn (trusted by sagemaker.amazonaws.com, with a\n' +
      'least-privilege inline policy for endpoints and training jobs) and, with --ecr, the ECR\n' +
      'repository of deploy.image. Running it again changes nothing. An existing resource is never\n' +
      'weakened or replaced: an audit bucket without Object Lock, a role with another trust policy\n' +
      'or a bucket in another region is reported with its fix.\n' +
      '\n' +
      'Exit codes: 0 everything exists (created now or before); 1 something differs or is missing\n' +
      'and was left for you to fix; 2 bad config; 3 AWS failed (e.g. not allowed to create).',
    examples: ['mlops bootstrap --dry-run', 'mlops bootstrap', 'mlops bootstrap --ecr --json'],
    options: [
      { flags: '--ecr', description: "also create deploy.image's ECR repository when it is missing", default: false },
      { flags: '--dry-run', description: 'print every call that would change the account, change nothing', default: false },
    ],
  },
  {
    name: 'profile',
    summary: 'Make the drift baseline profile of a dataset (CSV, JSON Lines, or a Model Monitor statistics.json)',
    description:
      'Reads a CSV file with a header row or a JSON Lines file (one object per record) in one pass and\n' +
      'prints its profile as JSON: per numeric feature a KLL quantile sketch, counts on the baseline\n' +
      'deciles, mean/std/min/max and missing count; per categorical feature its value counts. A column is\n' +
      'numeric when every present value is a number. --prediction marks model-output columns, --label the\n' +
      'label (the output baseline when there is no prediction column, else left out). A SageMaker Model\n' +
      'Monitor statistics.json is converted instead. `mlops monitor --baseline` reads the result.',
    examples: [
      'mlops profile data/holdout.csv --label target --out .mlops/profile.json',
      'mlops profile holdout.jsonl --prediction score --categorical region',
      'mlops profile statistics.json --out profile.json',
    ],
    args: [{ name: 'file', description: 'CSV (with header), JSON Lines, or statistics.json', required: true }],
    options: [
      { flags: '-o, --out <file>', description: 'write the profile here instead of stdout' },
      { flags: '--label <columns>', description: 'label column(s), comma-separated' },
      { flags: '--prediction <columns>', description: 'prediction (model output) column(s), comma-separated' },
      { flags: '--categorical <columns>', description: 'treat these columns as categorical even if numeric' },
      { flags: '--ignore <columns>', description: 'leave these columns out' },
      { flags: '--k <n>', description: 'KLL sketch size (rank error about 1.65% at 200)' },
    ],
  },
  {
    name: 'monitor',
    summary: 'Drift of live inputs and outputs against the training baseline; publish, report, roll back',
    description:
      'Streams the data capture of one endpoint variant for a time window (S3, or --capture-dir), compares\n' +
      'every feature and output with the baseline profile (--baseline, monitor.baselineProfile, or the\n' +
      'production model run\'s mlops/profile.json), publishes the drift to CloudWatch (namespace "mlops":\n' +
      'DriftScore {EndpointName, VariantName}, FeatureDrift {.., Feature}), prints a table, writes a Markdown\n' +
      'report and a constraint_violations.json, and after monitor.consecutiveWindows drifting windows in a\n' +
      'row rolls the endpoint back. Exits 1 when the window drifts past the guards, 0 otherwise\n' +
      '(including "insufficient data").',
    examples: [
      'mlops monitor',
      'mlops monitor --since 6h --no-rollback',
      'mlops monitor --baseline .mlops/profile.json --capture-dir ./capture --json',
      'mlops monitor --from 2026-11-26T00:00:00Z --to 2026-11-26T12:00:00Z',
    ],
    options: [
      {
        flags: '--baseline <file>',
        description: "baseline profile file (default: monitor.baselineProfile, else the production model's run artifact)",
      },
      { flags: '--capture-dir <path...>', description: 'local capture files or folders instead of S3' },
      { flags: '--endpoint <name>', description: 'endpoint (default: monitor.endpoint, else deploy.endpointName)' },
      { flags: '--variant <name>', description: 'variant (default: monitor.variant, else deploy.variantName)' },
      { flags: '--since <duration>', description: 'window ending now, e.g. 1h, 30m (default: monitor.window)' },
      { flags: '--from <time>', description: 'window start (ISO 8601)' },
      { flags: '--to <time>', description: 'window end (ISO 8601, default now)' },
      { flags: '--no-rollback', description: 'report and count, but never roll back' },
      { flags: '--no-publish', description: 'do not publish CloudWatch metrics' },
      { flags: '--violations <file>', description: 'where to write constraint_violations.json (default: monitor.violations)' },
      { flags: '--report <file>', description: 'where to write the Markdown report (default: monitor.report)' },
      { flags: '--dry-run', description: 'compute and report only: no metrics, no state update, no rollback', default: false },
    ],
  },
  {
    name: 'compare',
    summary: 'Compare the candidate run with the production baseline in MLflow; exit 1 on a regression',
    description:
      'Compares the candidate (the run `mlops train` recorded in .mlops/last-run.json,\n' +
      'or --run) with the baseline (compare.baseline, or --baseline), evaluates every\n' +
      'gate of compare.gates, prints a table and writes a Markdown report with links to\n' +
      'both runs (compare.report, and $GITHUB_STEP_SUMMARY under GitHub Actions);\n' +
      'with --comment, also one comment on the pull/merge request, updated in place.\n' +
      'A gated metric that is missing or NaN fails. With no baseline yet (the first\n' +
      'model), compare.noBaseline decides: pass with a warning, or fail.\n' +
      '\n' +
      '--baseline forms:\n' +
      '  production, alias:NAME     the registered-model version with that alias\n' +
      '  stage:Production           the latest version in a legacy stage\n' +
      '  run:RUN_ID, RUN_ID         that run\n' +
      '  "filter:EXPR"              the latest FINISHED run matching an MLflow filter\n' +
      '\n' +
      'A candidate run that did not finish (FAILED, KILLED, RUNNING) is not compared.\n' +
      '\n' +
      'Exit codes: 0 every gate passed, 1 a regression or a candidate run that did not\n' +
      'finish, 2 bad input,\n' +
      '3 MLflow unreachable or failing. Details: docs/compare.md.',
    examples: [
      'mlops compare',
      'mlops compare --baseline production',
      'mlops compare --baseline "filter:tags.`mlops.git.branch` = \'main\'" --run 3f2a...',
      'mlops compare --baseline run:0123abcd... --json',
    ],
    options: [
      {
        flags: '-b, --baseline <spec>',
        description: 'baseline: alias (default from compare.baseline), alias:NAME, stage:NAME, run:ID, filter:EXPR',
      },
      { flags: '-r, --run <id>', description: 'candidate run id (default: the run recorded by mlops train)' },
      {
        flags: '--if-no-baseline <policy>',
        description: 'when there is no baseline yet (default: compare.noBaseline)',
        choices: ['pass', 'fail'],
      },
      { flags: '--report <file>', description: 'where to write the Markdown report (default: compare.report)' },
      { flags: '--comment', description: 'post the report as one sticky PR/MR comment, updated in place (default: compare.comment)' },
    ],
  },
  {
    name: 'promote',
    summary: 'Deploy the candidate to SageMaker: shadow bake, then a guarded blue/green cutover',
    description:
      "Advances the endpoint's deployment as far as it can now and exits 0 with the stage reached:\n" +
      'package (model.tar.gz to S3, CreateModel) -> shadow (smoke test first: example rows sent to the\n' +
      'candidate at weight 0 with TargetVariant, before any user request can reach it; then the\n' +
      'candidate beside production as a shadow, data capture on)\n' +
      '-> bake (after deploy.shadow.duration: errors, latency and output agreement vs production) ->\n' +
      'cutover (blue/green UpdateEndpoint with auto-rollback on 5XX, latency and drift alarms) -> done\n' +
      '(the production alias moves to the candidate). Run it again (a scheduled job) to continue.\n' +
      'The first deployment of a new endpoint creates it directly. One writer per endpoint (S3 lock).\n' +
      'Only a candidate whose MLflow run is FINISHED is registered and deployed.\n' +
      '\n' +
      'Exit codes: 0 advanced, waiting or nothing to do; 1 the smoke test or the bake failed (rolled\n' +
      'back by itself), SageMaker kept failing the shadow update (deploy.shadow.maxUpdateAttempts),\n' +
      'SageMaker rolled the cutover back on an alarm, or a deployment of another version is still in\n' +
      'progress (continue it with `mlops promote`, or end it with `mlops rollback`); 2 bad input, or\n' +
      'the candidate run is not FINISHED; 3 AWS or MLflow failed, or the deployment state in S3 is\n' +
      'not valid; 4 another promote or rollback holds the lock (`mlops unlock` if it is dead); 130\n' +
      'interrupted (SIGINT/SIGTERM) after the current step was recorded: run it again to continue.',
    examples: [
      'mlops promote',
      'mlops promote --status',
      'mlops promote --dry-run --run 3f2a...',
      'mlops promote --model-version 7 --wait 30m',
    ],
    options: [
      { flags: '--run <id>', description: 'MLflow run to promote (default: .mlops/last-run.json; registered as a new version if needed)' },
      { flags: '--model-version <n>', description: 'registered model version to promote' },
      { flags: '--status', description: 'show the endpoint and the deployment instead of advancing it', default: false },
      { flags: '--dry-run', description: 'print each AWS call it would make, in order, and change nothing', default: false },
      {
        flags: '--wait <duration>',
        description: 'how long this run may wait for SageMaker before exiting 0 (default 15m)',
      },
      { flags: '--poll <duration>', description: 'how often to poll SageMaker while waiting (default 5s)' },
    ],
  },
  {
    name: 'rollback',
    summary: 'Restore the previous model on the endpoint now, whatever the deployment stage',
    description:
      "Drops a shadow, stops a cutover in flight (SageMaker's auto-rollback), or after a finished\n" +
      'promotion restores the remembered endpoint config (or, with deploy.rollback.strategy keep-warm,\n' +
      'shifts the weights back to the warm previous variant: a single call). Restores the production\n' +
      'alias and appends the audit record. A deployment that failed before it touched the endpoint\n' +
      '(stage package, e.g. a missing artifact) is abandoned: it ends rolled-back, audited.\n' +
      '\n' +
      'Exit codes: 0 rolled back, abandoned or nothing to do; 3 AWS or MLflow failed, or the\n' +
      'deployment state is not valid; 4 another promote or rollback holds the lock.',
    examples: ['mlops rollback', 'mlops rollback --reason "latency regression"', 'mlops rollback --dry-run'],
    options: [
      { flags: '--reason <text>', description: 'why, for the audit trail', default: 'manual rollback' },
      { flags: '--dry-run', description: 'say what the next rollback step would be, change nothing', default: false },
      { flags: '--wait <duration>', description: 'how long to wait for SageMaker before exiting (default 15m)' },
      { flags: '--poll <duration>', description: 'how often to poll SageMaker while waiting (default 5s)' },
    ],
  },
  {
    name: 'gc',
    summary: 'Delete the models, endpoint configs, alarms and archives of old deployments (keeps deploy.retain)',
    description:
      'Keeps the resources of the newest deploy.retain finished deployments (default 3, the\n' +
      'current one included) and deletes those of older ones: SageMaker models and endpoint\n' +
      'configs, their CloudWatch alarms and model.tar.gz archives. Never deleted: what the\n' +
      'endpoint serves, the rollback target, a deployment in progress, or anything while the\n' +
      'endpoint is updating. promote runs it after each finished deployment; run it by hand\n' +
      'with --dry-run to see what would go. Deletions are appended to the audit trail.\n' +
      '\n' +
      'Exit codes: 0 done (or nothing to do), 4 a promote or rollback holds the lock, 3 AWS\n' +
      'failed or a deletion failed (the rest were still attempted; run it again).',
    examples: ['mlops gc --dry-run', 'mlops gc --retain 5', 'mlops gc --json'],
    options: [
      { flags: '--dry-run', description: 'list what would be deleted, delete nothing', default: false },
      { flags: '--retain <n>', description: 'finished deployments to keep (default: deploy.retain)' },
    ],
  },
  {
    name: 'unlock',
    summary: "Break the endpoint's lock left by a dead promote or rollback (audited)",
    description:
      'Deletes the endpoint lock (deploy.lock) that a crashed or killed promote or rollback\n' +
      'left behind, so the next run need not wait for lock.expiry. A lock whose holder\n' +
      'renewed it within the last heartbeat (10 s) belongs to a live run: unlock refuses\n' +
      'it (exit 4) unless --force, which also removes a lock object that is not readable.\n' +
      'Every broken lock is appended to the audit trail (lock.broken).\n' +
      '\n' +
      'Exit codes: 0 broken (or not locked), 4 the holder looks alive, 3 AWS failed.',
    examples: ['mlops unlock', 'mlops unlock --dry-run', 'mlops unlock --force --json'],
    options: [
      { flags: '--force', description: 'break it even if its holder renewed it recently (make sure that run is dead)', default: false },
      { flags: '--dry-run', description: 'say what would be broken, change nothing', default: false },
    ],
  },
  {
    name: 'status',
    summary: 'Show the endpoint, its variants and weights, the deployment stage, timings and last audit entries',
    examples: ['mlops status', 'mlops status --json'],
  },
  {
    name: 'traffic',
    summary: 'Replay holdout rows to the endpoint at a rate, optionally shifted, to rehearse a bake or drift',
    description:
      'Sends the rows of a CSV or JSONL file (default: train.holdout) to the endpoint\n' +
      '(default: deploy.endpointName) with InvokeEndpoint, one row per request in turn,\n' +
      'at --rate requests per second, for --duration or --count requests (default 60s).\n' +
      'Each request carries an InferenceId (PREFIX-N), so the bake matches the shadow\n' +
      'and production answers to the same request. Label and prediction columns are\n' +
      'left out. --shift adds to a feature (f=+0.5) or scales it (f=*1.6; all features:\n' +
      '*=*1.6) to rehearse drift. While the endpoint is being created, requests wait.\n' +
      'Exit codes: 0 requests answered (failures, e.g. between fleets, are counted in the\n' +
      'result), 1 none was answered, 2 bad input or no such endpoint, 3 AWS failed.',
    examples: [
      'mlops traffic',
      'mlops traffic --rate 20 --duration 5m',
      'mlops traffic --count 500 --shift petal_length=+0.5 --json',
      'mlops traffic --file data/live.jsonl --shift "*=*1.6"',
    ],
    options: [
      { flags: '--file <path>', description: 'CSV (with a header) or JSONL rows to replay (default: train.holdout)' },
      { flags: '--endpoint <name>', description: 'endpoint to send to (default: deploy.endpointName)' },
      { flags: '--rate <n>', description: 'requests per second', default: '10' },
      { flags: '--duration <duration>', description: 'how long to send (default 60s, unless --count is given)' },
      { flags: '--count <n>', description: 'stop after this many requests' },
      { flags: '--shift <feature=change...>', description: 'shift a feature: f=+0.5, f=-2, f=*1.6; * for every feature (repeatable)' },
      { flags: '--id-prefix <prefix>', description: 'InferenceId prefix (default: traffic-<time>)' },
    ],
  },
  {
    name: 'audit',
    summary: 'Inspect the audit trail of promotions and rollbacks',
    examples: ['mlops audit verify'],
    subcommands: [
      {
        name: 'verify',
        summary: "Check every stored version of the endpoint's audit chain, its retention and its anchors; exit 1 on any problem",
        examples: ['mlops audit verify', 'mlops audit verify --endpoint churn-prod --json'],
        options: [
          { flags: '--endpoint <name>', description: 'endpoint whose chain to verify (default: deploy.endpointName)' },
          {
            flags: '--no-mlflow-anchors',
            description: 'skip the heads quoted on the MLflow model versions (without it, an unreachable MLflow is exit 3)',
          },
        ],
      },
    ],
  },
  {
    name: 'sandbox',
    summary: 'Run the local stack (MLflow, moto for S3/CloudWatch, a SageMaker emulator) to rehearse without AWS',
    examples: ['mlops sandbox up', 'eval "$(mlops sandbox env)"', 'mlops sandbox status', 'mlops sandbox down'],
    subcommands: [
      {
        name: 'up',
        summary: "Start MLflow, moto and the SageMaker emulator in the background; create the config's buckets",
        description:
          'Starts a real MLflow tracking server (sqlite, artifacts on disk), moto (S3,\n' +
          'CloudWatch) and the SageMaker emulator on free loopback ports, waits until\n' +
          "they answer, creates the S3 buckets the config's deploy section names (the\n" +
          'audit bucket with Object Lock) and prints what runs where. The servers keep\n' +
          "running after the command; state, logs and MLflow's data are in\n" +
          '.mlops/sandbox/ under the project. Running it again while up says so.\n' +
          "The Python programs come from the clone's .venv, else a venv made in\n" +
          '$XDG_CACHE_HOME/mlops/sandbox-venv (~/.cache/...; --venv or\n' +
          'MLOPS_SANDBOX_VENV override it) from the pinned testbed/requirements.txt.',
        examples: ['mlops sandbox up', 'mlops sandbox up --time-scale 60', 'mlops sandbox up --venv ~/venvs/mlops --json'],
        options: [
          { flags: '--time-scale <x>', description: 'emulated SageMaker seconds per real second (default 10)' },
          { flags: '--venv <dir>', description: 'Python virtual environment to use or create' },
        ],
      },
      {
        name: 'down',
        summary: "Stop the sandbox's servers and remove its state, logs and MLflow data",
        examples: ['mlops sandbox down'],
      },
      {
        name: 'env',
        summary: 'Print export lines that point mlops, DVC, the AWS CLI/SDKs and MLflow at the sandbox, its Python first on PATH',
        description:
          'Prints the variables that point mlops, the AWS CLI and SDKs, DVC and MLflow at the\n' +
          "sandbox's servers (dummy credentials, AWS_ENDPOINT_URL_*, MLFLOW_TRACKING_URI) and\n" +
          "puts the sandbox's Python environment (python, dvc with its S3 plugin, mlflow,\n" +
          'scikit-learn) first on PATH, as lines for sh/bash/zsh (default), fish or PowerShell.',
        examples: [
          'eval "$(mlops sandbox env)"',
          'mlops sandbox env --shell fish | source',
          'mlops sandbox env --shell powershell | Invoke-Expression',
          'mlops sandbox env --json',
        ],
        options: [{ flags: '--shell <shell>', description: 'syntax of the lines', default: 'sh', choices: ['sh', 'fish', 'powershell'] }],
      },
      {
        name: 'status',
        summary: 'Show whether each sandbox server runs and answers; exit 1 when one does not',
        examples: ['mlops sandbox status', 'mlops sandbox status --json'],
      },
    ],
  },
  {
    name: 'completion',
    summary: 'Print the shell completion script for bash, zsh or fish',
    description:
      "Prints a completion script for the shell, generated from this version's commands and\n" +
      'options. Install it once (a new shell then completes commands, subcommands, flags and\n' +
      'their choices):\n' +
      '  bash  mlops completion bash > ~/.local/share/bash-completion/completions/mlops\n' +
      '  zsh   mlops completion zsh > "${fpath[1]}/_mlops"\n' +
      '  fish  mlops completion fish > ~/.config/fish/completions/mlops.fish\n' +
      "or load it from the shell's startup file: source <(mlops completion bash).",
    examples: [
      'mlops completion bash > ~/.local/share/bash-completion/completions/mlops',
      'source <(mlops completion zsh)',
      'mlops completion fish | source',
    ],
    args: [{ name: 'shell', description: 'the shell to complete in', required: true, choices: ['bash', 'zsh', 'fish'] }],
  },
  {
    name: 'config',
    summary: 'Check and show the resolved configuration',
    examples: ['mlops config validate', 'mlops config show --json'],
    subcommands: [
      {
        name: 'validate',
        summary: 'Validate the config file and report every problem with its place',
        examples: ['mlops config validate', 'mlops config validate --config ci/mlops.config.yaml'],
      },
      {
        name: 'show',
        summary: 'Print the resolved config (defaults filled, env interpolated, secrets redacted)',
        examples: ['mlops config show', 'mlops config show --json | jq .mlflow'],
      },
    ],
  },
] as const satisfies readonly CommandDef[];

// ---- option types derived from the table ----------------------------------------------------

type Entry<D, Prefix extends string> = D extends { readonly name: infer N extends string; readonly subcommands: readonly (infer S)[] }
  ? Entry<S, `${Prefix}${N} `>
  : D extends { readonly name: infer N extends string }
    ? { path: `${Prefix}${N}`; def: D }
    : never;
type Entries = Entry<(typeof COMMANDS)[number], ''>;

/** A runnable command by its words: 'promote', 'audit verify', 'sandbox up'. */
export type CommandPath = Entries['path'];

type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
type LongFlag<F extends string> = F extends `${string}--${infer R}` ? (R extends `${infer N} ${string}` ? N : R) : never;
/** commander's attribute name: `--dry-run` -> dryRun, `--no-rollback` -> rollback. */
type Key<F extends string> = LongFlag<F> extends `no-${infer N}` ? Camel<N> : Camel<LongFlag<F>>;
type Value<O> = O extends { readonly choices: readonly (infer C)[] }
  ? C
  : O extends { readonly flags: `${string}...>${string}` }
    ? string[]
    : O extends { readonly flags: `${string}<${string}` }
      ? string
      : boolean;
/** Always present: negatable flags (default true) and options with a default (false included). */
type Present<O> = O extends { readonly flags: `${string}--no-${string}` } ? true : O extends { readonly default: unknown } ? true : false;
type Flatten<T> = { [K in keyof T]: T[K] };
type Options<D> = D extends { readonly options: readonly (infer O extends OptionDef)[] }
  ? Flatten<
      { -readonly [P in O as Present<P> extends true ? Key<P['flags']> : never]: Value<P> } & {
        -readonly [P in O as Present<P> extends true ? never : Key<P['flags']>]?: Value<P>;
      }
    >
  : Record<never, never>;

/** The parsed options a command receives, as commander produces them from its flags. */
export type OptionsOf<P extends CommandPath> = Options<Extract<Entries, { path: P }>['def']>;
