/**
 * The config schema: the single source of truth for types, defaults and descriptions.
 * The JSON Schema in schema/ and the README's config reference are generated from it.
 * Every object is strict: an unknown key is an error (with a "did you mean").
 */
import * as z from 'zod';
import { durationMs, formatDuration, MAX_DURATION_MS } from '../core/duration.js';
import { lockExpiryProblem } from '../core/lock.js';
import { directionClashes, rule, type RuleName } from './rules.js';

// One parse per process: zod's compiled (new Function) fast path costs more to build than it saves.
z.config({ jitless: true });

/** A duration: seconds as a number, or a string such as "90s", "15m", "24h", "7d". */
export const duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration like "90s", "15m", "24h" or "7d"')])
  .refine(rule('durationWithinMax'), {
    message: `expected a duration of at most ${formatDuration(MAX_DURATION_MS)} ("365d")`,
  })
  .describe('A duration: seconds as a number, or a string like "90s", "15m", "24h", "7d".');

/** A duration within [min, max] (SageMaker's limits), e.g. a blue/green wait of 0-1h. */
function durationBetween(minMs: number, maxMs: number, range: string, why = "SageMaker's limit") {
  return duration.refine(rule('durationBetween', minMs, maxMs), {
    message: `expected a duration of ${range} (${why}), e.g. "10m"`,
  });
}

/**
 * s3://bucket/key-prefix. A `.`, `..` or empty segment in the key is refused: S3 keeps them
 * literally, so `s3://b/a/../x` is not `s3://b/x` and would write where nobody looks.
 */
const s3Uri = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'an S3 URI like s3://bucket/prefix')
  .refine(rule('s3KeySegments'), { message: 'expected an S3 URI without "..", "." or empty (//) segments, like s3://bucket/prefix' });

/** SageMaker's pattern for endpoint and variant names. */
const sagemakerName = (what: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, `a SageMaker ${what} name (letters, digits and hyphens, at most 63, no leading hyphen)`);

/**
 * A file mlops writes, relative to the config file's folder and inside it: an absolute path or
 * one that climbs out with ".." could overwrite any file the user can write.
 */
const localOutput = z.string().refine(rule('localOutput'), {
  message: 'expected a relative path inside the config file\'s folder (no absolute path, no ".." out of it), e.g. .mlops/report.md',
});

/**
 * An MLflow tracking URI mlops can talk to: an http(s) URL, or the ARN of a SageMaker-managed
 * MLflow tracking server (requests SigV4-signed). (MLflow's other forms, a local folder, `file:`
 * or `databricks`, are not served over plain REST.)
 */
const trackingUri = z.string().min(1).refine(rule('trackingUri'), {
  message:
    'expected an http(s) URL of the MLflow tracking server, such as http://127.0.0.1:5000, or a SageMaker MLflow tracking server ARN (arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME)',
});

const gate = z
  .object({
    metric: z.string().min(1).describe('Metric name as logged to MLflow, e.g. "accuracy".'),
    direction: z.enum(['higher', 'lower']).default('higher').describe('Whether a higher or a lower value is better.'),
    maxRelativeDrop: z
      .number()
      .nonnegative()
      .optional()
      .describe('Largest allowed worsening relative to the baseline, as a fraction (0.01 = 1%).'),
    maxAbsoluteDrop: z.number().nonnegative().optional().describe("Largest allowed worsening in the metric's own units."),
    min: z.number().optional().describe('Absolute floor: the candidate fails below this value, whatever the baseline.'),
    max: z.number().optional().describe('Absolute ceiling: the candidate fails above this value, whatever the baseline.'),
  })
  .strict();

/** Two gates on one metric that disagree on which way is better cannot both be meant. */
function oneDirectionPerMetric(gates: Array<z.infer<typeof gate>>, ctx: z.RefinementCtx): void {
  for (const { index, first } of directionClashes(gates)) {
    const g = gates[index];
    ctx.addIssue({
      code: 'custom',
      path: [index, 'direction'],
      message: `gate ${index} says ${g.direction} is better for "${g.metric}", gate ${first} says ${gates[first].direction}; give the metric one direction (merge the two gates, or fix the direction)`,
    });
  }
}

/**
 * The rule of each superRefine check, by check: zod keeps no reference to a superRefine's function,
 * so the plan generator (plan.ts) finds the rule here. `superRule` is the only writer.
 */
export const SUPER_RULES = new WeakMap<object, RuleName>();

/** schema.superRefine(refine), its check named after the rule whose predicate says yes exactly when refine adds no issue. */
function superRule<S extends z.ZodType>(schema: S, name: RuleName, refine: (value: z.output<S>, ctx: z.RefinementCtx) => void): S {
  const out = schema.superRefine(refine);
  const checks = out._zod.def.checks ?? [];
  SUPER_RULES.set(checks[checks.length - 1], name);
  return out;
}

const baseline = z
  .union([
    z.object({ alias: z.string().min(1).describe('Registered-model alias, e.g. "production".') }).strict(),
    z.object({ stage: z.string().min(1).describe('Legacy registered-model stage, e.g. "Production".') }).strict(),
    z
      .object({
        filter: z.string().min(1).describe('MLflow search filter, e.g. "tags.`mlops.git.branch` = \'main\'".'),
        experiment: z.string().optional().describe("Experiment to search (default: the candidate run's experiment)."),
      })
      .strict(),
    z.object({ runId: z.string().min(1).describe('A fixed MLflow run id.') }).strict(),
  ])
  .describe('How to find the production baseline: one of alias, stage, filter or runId.');

// --- deploy (promote / rollback) -------------------------------------------------------------
const percent = z.number().min(0).max(100);

const cutover = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('all-at-once').describe('Shift all traffic to the new fleet in one step.') }).strict(),
    z
      .object({
        type: z.literal('canary').describe('Shift a canary share first, wait, then the rest.'),
        size: z.number().min(1).max(50).default(10).describe("Canary size, in percent of the new fleet's capacity (at most 50)."),
        wait: durationBetween(0, 3_600_000, '0-1h').default('10m').describe('Wait after the canary step before shifting the rest (0-1h).'),
      })
      .strict(),
    z
      .object({
        type: z.literal('linear').describe('Shift traffic in equal steps with a wait between them.'),
        step: z.number().min(10).max(50).default(20).describe("Step size, in percent of the new fleet's capacity (10-50)."),
        wait: durationBetween(0, 3_600_000, '0-1h').default('5m').describe('Wait between steps (0-1h).'),
      })
      .strict(),
  ])
  .describe('How traffic moves to the candidate: all-at-once, canary {size, wait} or linear {step, wait}.');

/** An IAM role ARN. */
const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'an IAM role ARN');

/** A duration within SageMaker's limits of a training job's MaxRuntimeInSeconds / MaxWaitTimeInSeconds (1 s to 28 days). */
const trainingDuration = durationBetween(1000, 28 * 24 * 3600 * 1000, '1s to 28d');

/** `train.sagemaker`: the training script as a SageMaker Training Job (script mode). */
const trainSageMaker = z
  .object({
    image: z
      .string()
      .min(1)
      .describe(
        "Training image URI: a SageMaker framework image in script mode (e.g. the scikit-learn or PyTorch one) that has the script's packages or installs requirements.txt.",
      ),
    instanceType: z.string().min(1).default('ml.m5.large').describe('Instance type of the training job.'),
    instanceCount: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe('Instances; above 1 each gets SM_HOSTS and SM_CURRENT_HOST (distributed training).'),
    volumeSizeGb: z.number().int().positive().default(30).describe('Storage volume of each instance, in GB.'),
    maxRuntime: trainingDuration.default('24h').describe('MaxRuntimeInSeconds: SageMaker stops the job after this much training time.'),
    spot: z
      .object({
        maxWait: trainingDuration.describe('MaxWaitTimeInSeconds: spot capacity waits plus training time; at least maxRuntime.'),
        checkpointS3Uri: s3Uri.optional().describe('Where SageMaker syncs /opt/ml/checkpoints, so an interrupted job resumes.'),
      })
      .strict()
      .optional()
      .describe('Managed spot training (cheaper, may be interrupted).'),
    hyperparameters: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .default({})
      .describe('Hyperparameters of the job (the script sees them in SM_HPS and as --name value arguments).'),
    role: roleArn.optional().describe('Execution role of the training job. Default: deploy.executionRoleArn.'),
    entryPoint: z
      .string()
      .min(1)
      .optional()
      .describe("The script the job runs. Default: the script in train.command (src/train.py). Relative to the config file's folder."),
    sourceDir: z
      .string()
      .min(1)
      .optional()
      .describe("The folder packed as the job's source archive (only git-tracked files). Default: the entry point's folder."),
    include: z
      .array(z.string().min(1))
      .optional()
      .describe("More files packed at the archive's root (e.g. requirements.txt). Default: requirements.txt when it exists."),
    channels: z
      .record(z.string().regex(/^[A-Za-z0-9.\-_]{1,64}$/, 'a channel name'), z.string().min(1))
      .default({ train: 'data' })
      .describe(
        'Input channels: name -> local folder (its DVC-tracked files are uploaded once per content hash). The script reads SM_CHANNEL_<NAME>.',
      ),
    outputPath: s3Uri
      .optional()
      .describe('S3 prefix for the source archive, the data and the model artifact. Default: deploy.artifacts + /training.'),
    pollInterval: duration.default('10s').describe('How often the job status and its logs are read.'),
  })
  .strict()
  .refine(rule('spotMaxWait'), {
    message: 'spot.maxWait must be at least maxRuntime (SageMaker counts the training time in the wait)',
    path: ['spot', 'maxWait'],
  })
  .describe('The SageMaker backend of `mlops train` (train.backend: sagemaker).');

const deploy = z
  .object({
    region: z.string().min(1).optional().describe('Region of the endpoint. Default: aws.region.'),
    endpointName: sagemakerName('endpoint').describe('SageMaker endpoint to deploy to (created by the first promotion).'),
    executionRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'an IAM role ARN')
      .describe('IAM role SageMaker assumes to pull the image and the model artifact.'),
    image: z.string().min(1).describe('Serving container image URI (an MLflow pyfunc serving image).'),
    instanceType: z.string().min(1).default('ml.m5.large').describe('Instance type of each variant.'),
    instanceCount: z.number().int().positive().default(1).describe('Instances per variant.'),
    variantName: sagemakerName('variant')
      .default('AllTraffic')
      .describe('Production variant name; blue/green keeps the same name across configs.'),
    artifacts: s3Uri.describe("Where promote uploads each candidate's model.tar.gz (s3://bucket/prefix)."),
    dataCapture: z
      .object({
        destination: s3Uri.describe('S3 URI that data capture writes to.'),
        samplingPercent: percent.default(100).describe('Share of requests captured, in percent.'),
      })
      .strict()
      .describe('Data capture of requests and responses (the bake and monitor read it).'),
    shadow: z
      .object({
        duration: duration.default('24h').describe('How long the shadow bakes before it is judged.'),
        samplingPercent: percent.default(100).describe('Share of production requests copied to the shadow, in percent.'),
        maxUpdateAttempts: z
          .number()
          .int()
          .min(1)
          .default(3)
          .describe('UpdateEndpoint attempts to put the shadow in service before the deployment fails (exit 1).'),
      })
      .strict()
      .default({ duration: '24h', samplingPercent: 100, maxUpdateAttempts: 3 })
      .describe('Shadow stage: the candidate receives a copy of live requests; its answers are discarded.'),
    bake: z
      .object({
        maxErrorRateIncrease: z
          .number()
          .min(0)
          .max(1)
          .default(0.01)
          .describe('Largest allowed (shadow error rate - production error rate), as a fraction.'),
        latencyStatistic: z
          .enum(['average', 'p50', 'p99'])
          .default('p99')
          .describe('Latency statistic compared between shadow and production.'),
        maxLatencyRatio: z.number().positive().default(1.5).describe('Largest allowed shadow/production latency ratio.'),
        minOutputAgreement: z
          .number()
          .min(0)
          .max(1)
          .default(0.95)
          .describe('Smallest share of matched requests whose shadow output agrees with production.'),
        outputTolerance: z
          .number()
          .nonnegative()
          .default(1e-6)
          .describe('Numeric outputs agree when their relative difference is at most this.'),
        minComparedSamples: z
          .number()
          .int()
          .nonnegative()
          .default(100)
          .describe('Fewest matched request pairs needed to judge; fewer fails the bake (fail closed).'),
        maxPendingRecords: z
          .number()
          .int()
          .min(1)
          .default(100_000)
          .describe("Most capture records held while waiting for their match (bounds the bake's memory); the oldest is dropped beyond it."),
      })
      .strict()
      .default({
        maxErrorRateIncrease: 0.01,
        latencyStatistic: 'p99',
        maxLatencyRatio: 1.5,
        minOutputAgreement: 0.95,
        outputTolerance: 1e-6,
        minComparedSamples: 100,
        maxPendingRecords: 100_000,
      })
      .describe('When the shadow passes the bake.'),
    smokeTest: z
      .object({
        enabled: z.boolean().default(true).describe('Send example rows to the candidate before any user request can reach it.'),
        rows: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(5)
          .describe("Rows sent: the first of the model's MLflow input example, else of train.holdout."),
      })
      .strict()
      .default({ enabled: true, rows: 5 })
      .describe('Smoke test: the candidate must answer example rows (2xx, same shape as production) or it is removed (exit 1).'),
    cutover: cutover.default({ type: 'canary', size: 10, wait: '10m' }),
    terminationWait: durationBetween(0, 3_600_000, '0-1h').default('5m').describe('How long the old fleet stays after the cutover (0-1h).'),
    maxExecutionTimeout: durationBetween(600_000, 28_800_000, '10m-8h')
      .default('1h')
      .describe('Longest the blue/green deployment may take (10m-8h).'),
    alarms: z
      .object({
        errorRate5xx: z
          .number()
          .min(0)
          .max(1)
          .default(0.01)
          .describe('Alarm when 5XX errors / invocations on the new fleet exceed this fraction.'),
        latencyMs: z.number().positive().default(1000).describe("Alarm when the new fleet's p99 model latency exceeds this (ms)."),
        drift: z
          .number()
          .min(0)
          .max(1)
          .default(0.3)
          .describe('Alarm when the drift metric published by `mlops monitor` exceeds this share of drifted features.'),
        period: duration.default('60s').describe('Alarm evaluation period.'),
        evaluationPeriods: z.number().int().positive().default(1).describe('Periods over the threshold before the alarm fires.'),
      })
      .strict()
      .default({ errorRate5xx: 0.01, latencyMs: 1000, drift: 0.3, period: '60s', evaluationPeriods: 1 })
      .describe('CloudWatch alarms promote creates on the new fleet; any of them rolls the cutover back.'),
    rollback: z
      .object({
        strategy: z
          .enum(['config', 'keep-warm'])
          .default('config')
          .describe(
            'config: UpdateEndpoint to the remembered config; keep-warm: keep the previous variant at weight 0 and roll back by weights only.',
          ),
      })
      .strict()
      .default({ strategy: 'config' })
      .describe('How `mlops rollback` restores the previous model after a finished promotion.'),
    retain: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe(
        'Finished deployments whose SageMaker models, endpoint configs, alarms and archives are kept (the current one included); promote deletes older ones when it finishes (`mlops gc`). The live model and the rollback target are never deleted.',
      ),
    state: z
      .object({ uri: s3Uri.describe('Prefix of the deployment records (one JSON object per deployment).') })
      .strict()
      .describe('Where deployment state lives, visible to every machine.'),
    lock: z
      .object({
        uri: s3Uri.describe('Prefix of the per-endpoint lock object.'),
        expiry: superRule(duration.default('30m'), 'lockExpiry', (d, ctx) => {
          const problem = lockExpiryProblem(durationMs(d));
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }).describe('A lock older than this may be taken over (its holder is presumed dead).'),
      })
      .strict()
      .describe('One writer per endpoint: a lock object taken with a conditional write.'),
    audit: z
      .object({
        uri: s3Uri.describe('Prefix of the audit records (bucket created with Object Lock enabled).'),
        retentionDays: z
          .number()
          .int()
          .positive()
          .default(2557)
          .describe('Object Lock retention of each record, in days (default 7 years).'),
        mode: z.literal('COMPLIANCE').default('COMPLIANCE').describe('Object Lock mode: COMPLIANCE (nobody can shorten or delete).'),
      })
      .strict()
      .describe('Append-only, hash-chained audit trail under Object Lock.'),
  })
  .strict()
  .describe('SageMaker deployment target of `mlops promote` / `mlops rollback`.');

// --- monitor (drift) ---------------------------------------------------------------------------
const NUMERIC_METHODS = ['ks', 'psi', 'wasserstein'] as const;
const CATEGORICAL_METHODS = ['linf', 'chi2', 'js'] as const;
const NUMERIC_HELP =
  'ks (Kolmogorov-Smirnov distance, robust-corrected), psi (population stability index on baseline deciles), wasserstein (W1 divided by the baseline std)';
const CATEGORICAL_HELP =
  'linf (largest change of a category share), chi2 (chi-squared test; threshold is the significance level), js (Jensen-Shannon divergence, base 2)';

// Two enums, not one: a categorical statistic on a numeric feature (or the reverse) is judged with
// the wrong sense, so the kind is part of the type.
const numericMethod = z.enum(NUMERIC_METHODS);
const categoricalMethod = z.enum(CATEGORICAL_METHODS);
// A per-feature override may name either kind: the feature's kind is in the baseline profile, and
// the monitor rejects a method of the other kind there (exit 2) before judging anything.
const driftMethod = z
  .enum([...NUMERIC_METHODS, ...CATEGORICAL_METHODS])
  .describe(
    `Drift statistic of this feature, of its kind. Numeric: ${NUMERIC_HELP}. Categorical: ${CATEGORICAL_HELP}. A method of the other kind is an error when the monitor runs.`,
  );

const monitorDefaults = {
  window: '1h',
  numericMethod: 'ks' as const,
  categoricalMethod: 'linf' as const,
  ksRobust: true,
  features: {},
  minSamples: 100,
  driftedShare: 0.3,
  outputDrift: true,
  consecutiveWindows: 3,
  rollback: true,
  publish: true,
  sketchK: 200,
  workers: 0,
  violations: '.mlops/constraint_violations.json',
  report: '.mlops/monitor-report.md',
};

const monitor = z
  .object({
    endpoint: sagemakerName('endpoint').optional().describe('Endpoint whose data capture is monitored. Default: deploy.endpointName.'),
    variant: sagemakerName('variant')
      .optional()
      .describe('Variant whose capture is read and whose drift is published. Default: deploy.variantName.'),
    capture: s3Uri
      .optional()
      .describe(
        'Data-capture destination (s3://bucket/prefix; keys {prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/*.jsonl). Default: deploy.dataCapture.destination.',
      ),
    window: duration.default('1h').describe('Length of the monitored window, ending now (overridden by --since, --from/--to).'),
    baselineProfile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Baseline profile file (from `mlops profile`), relative to the config file's folder. Default: the artifact mlops/profile.json of the production model's MLflow run (compare.baseline).",
      ),
    numericMethod: numericMethod.default('ks').describe(`Statistic for numeric features: ${NUMERIC_HELP}.`),
    categoricalMethod: categoricalMethod.default('linf').describe(`Statistic for categorical features: ${CATEGORICAL_HELP}.`),
    ksRobust: z.boolean().default(true).describe("Apply Model Monitor's robust KS correction max(0, D - 1.8*sqrt((n+m)/(n*m)))."),
    features: z
      .record(
        z.string(),
        z
          .object({
            method: driftMethod.optional(),
            threshold: z
              .number()
              .nonnegative()
              .optional()
              .describe('Drift threshold (defaults: ks 0.1, psi 0.25, wasserstein 0.1, linf 0.1, chi2 0.01, js 0.1).'),
            critical: z.boolean().optional().describe('Drift of this feature alone makes the window drift.'),
            ignore: z.boolean().optional().describe('Leave this feature out of the verdict.'),
          })
          .strict(),
      )
      .default({})
      .describe('Per-feature overrides by feature (column) name; outputs (predictions) included.'),
    minSamples: z
      .number()
      .int()
      .nonnegative()
      .default(100)
      .describe('Fewer records in the window than this is "insufficient data", never drift.'),
    driftedShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.3)
      .describe('The window drifts when at least this share of input features drift (also when a critical feature or an output drifts).'),
    outputDrift: z.boolean().default(true).describe('Whether drift of an output (prediction) alone makes the window drift.'),
    consecutiveWindows: z
      .number()
      .int()
      .positive()
      .default(3)
      .describe('Roll back only after this many consecutive drifting windows (the count is kept next to the deployment state).'),
    rollback: z
      .boolean()
      .default(true)
      .describe('Roll back automatically when drift passes the guards (--no-rollback turns it off for a run).'),
    publish: z
      .boolean()
      .default(true)
      .describe(
        'Publish drift to CloudWatch: namespace "mlops", metric DriftScore {EndpointName, VariantName} (the promote alarm watches it), FeatureDrift/FeatureDrifted {EndpointName, VariantName, Feature}, DatasetDrift and SampleCount {EndpointName, VariantName}.',
      ),
    stateUri: s3Uri
      .optional()
      .describe(
        'Where the consecutive-drift count lives ({uri}/{endpoint}/monitor-state.json). Default: deploy.state.uri; without either, .mlops/ in the working directory.',
      ),
    sketchK: z
      .number()
      .int()
      .min(8)
      .max(10000)
      .default(200)
      .describe(
        'Ignored (kept so existing configs stay valid): live values are now counted on a grid of the baseline, KS within 1/2048 of exact, with no sketch to size.',
      ),
    workers: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(0)
      .describe('Worker threads that read capture data in parallel (0: one per core, at most 4; 1: read in the main thread).'),
    violations: localOutput
      .default('.mlops/constraint_violations.json')
      .describe("Where to write the Model Monitor-style constraint_violations.json. Relative to the config file's folder."),
    report: localOutput
      .default('.mlops/monitor-report.md')
      .describe("Where to write the Markdown report. Relative to the config file's folder."),
  })
  .strict()
  .describe('Drift monitoring of live inputs and outputs against the training baseline (`mlops monitor`).');

export const configSchema = z
  .object({
    version: z.literal(1).default(1).describe('Config format version.'),
    project: z.string().min(1).optional().describe('Project name, used in tags, resource names and reports.'),
    mlflow: z
      .object({
        trackingUri: trackingUri
          .optional()
          .describe(
            'MLflow tracking server URL, or the ARN of a SageMaker-managed MLflow tracking server (requests then SigV4-signed with the AWS credentials). $MLFLOW_TRACKING_URI, when set, overrides it.',
          ),
        experiment: z.string().min(1).optional().describe('Experiment for training runs (created if missing). Default: the project name.'),
        registeredModel: z
          .string()
          .min(1)
          .optional()
          .describe('Registered model that holds versions and the production alias. Default: the project name.'),
        timeout: duration.default('30s').describe('Timeout of one MLflow request.'),
        retries: z.number().int().min(0).max(10).default(3).describe('Retries on connection errors, 429 and 5xx, with backoff.'),
      })
      .strict()
      .default({ timeout: '30s', retries: 3 })
      .describe('MLflow tracking server. Auth comes from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD.'),
    data: z
      .object({
        remote: z
          .string()
          .regex(/^[^-\s][^\s]*$/, 'a DVC remote name (not starting with "-", no spaces), as listed by `dvc remote list`')
          .optional()
          .describe("DVC remote to pull from (default: the repo's default remote)."),
        targets: z.array(z.string().min(1)).default([]).describe('DVC targets to pull (default: everything).'),
        jobs: z.number().int().positive().optional().describe('Parallel download jobs for dvc pull.'),
      })
      .strict()
      .default({ targets: [] })
      .describe('DVC-versioned data.'),
    train: z
      .object({
        command: z
          .array(z.string().min(1))
          .min(1)
          .default(['python', 'src/train.py'])
          .describe("Training command as an argv array (no shell), started in the config file's folder."),
        timeout: durationBetween(1000, MAX_DURATION_MS, '1s to 365d', '0 would end a SageMaker training job at once')
          .default('2h')
          .describe('Kill the training command (or stop the SageMaker training job) after this long.'),
        requiredMetrics: z.array(z.string().min(1)).default([]).describe('Metrics the run must log, besides those the gates need.'),
        holdout: z
          .string()
          .default('data/holdout.csv')
          .describe("Holdout file the training script writes; its profile is the drift baseline. Relative to the config file's folder."),
        backend: z
          .enum(['local', 'sagemaker'])
          .default('local')
          .describe(
            'Where training runs: train.command on this machine, or the script as a SageMaker Training Job (train.sagemaker). --backend overrides it.',
          ),
        sagemaker: trainSageMaker.optional(),
      })
      .strict()
      .default({ command: ['python', 'src/train.py'], timeout: '2h', requiredMetrics: [], holdout: 'data/holdout.csv', backend: 'local' })
      .describe('How to train.'),
    compare: z
      .object({
        baseline: baseline.default({ alias: 'production' }),
        noBaseline: z
          .enum(['pass', 'fail'])
          .default('pass')
          .describe('What to do when there is no baseline yet (the first model): pass with a warning, or fail.'),
        gates: superRule(z.array(gate), 'gatesOneDirection', oneDirectionPerMetric)
          .default([])
          .describe('The merge gate: one entry per metric.'),
        report: localOutput
          .default('.mlops/compare-report.md')
          .describe("Where to write the Markdown report. Relative to the config file's folder."),
        comment: z
          .boolean()
          .default(false)
          .describe(
            'Post the report as one sticky comment on the pull request (GitHub) or merge request (GitLab), updated in place on later runs (also --comment).',
          ),
        commentToken: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
          .optional()
          .describe(
            'Name of the environment variable holding the token for the comment. Default: GITHUB_TOKEN on GitHub; on GitLab CI_JOB_TOKEN (sent as a job token).',
          ),
        junitReport: z
          .string()
          .min(1)
          .optional()
          .describe(
            "JUnit XML of the gates (one test case per gate), for GitLab's artifacts:reports:junit. Default under GitLab CI: .mlops/compare-junit.xml. Relative to the config file's folder.",
          ),
        metricsReport: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Metrics of both runs in OpenMetrics text, for GitLab's artifacts:reports:metrics. Default under GitLab CI: .mlops/compare-metrics.txt. Relative to the config file's folder.",
          ),
      })
      .strict()
      .default({ baseline: { alias: 'production' }, noBaseline: 'pass', gates: [], report: '.mlops/compare-report.md', comment: false })
      .describe('The merge gate against the production baseline.'),
    aws: z
      .object({
        region: z
          .string()
          .min(1)
          .optional()
          .describe('AWS region. $AWS_REGION, else $AWS_DEFAULT_REGION, when set, overrides it. Default: us-east-1.'),
        endpoints: z
          .object({
            sagemaker: z
              .string()
              .url()
              .optional()
              .describe(
                'Endpoint override for the SageMaker API (local sandbox). $AWS_ENDPOINT_URL_SAGEMAKER, else $AWS_ENDPOINT_URL, overrides it.',
              ),
            sagemakerRuntime: z
              .string()
              .url()
              .optional()
              .describe(
                'Endpoint override for the SageMaker runtime API. $AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME overrides it. Default: the SageMaker API endpoint.',
              ),
            s3: z
              .string()
              .url()
              .optional()
              .describe(
                'Endpoint override for S3 (path-style addressing is used). $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, overrides it.',
              ),
            cloudwatch: z
              .string()
              .url()
              .optional()
              .describe('Endpoint override for CloudWatch. $AWS_ENDPOINT_URL_CLOUDWATCH, else $AWS_ENDPOINT_URL, overrides it.'),
            iam: z
              .string()
              .url()
              .optional()
              .describe(
                'Endpoint override for IAM (`mlops bootstrap`, `mlops doctor`). $AWS_ENDPOINT_URL_IAM, else $AWS_ENDPOINT_URL, overrides it.',
              ),
            sts: z
              .string()
              .url()
              .optional()
              .describe(
                'Endpoint override for STS (`mlops bootstrap`, `mlops doctor`). $AWS_ENDPOINT_URL_STS, else $AWS_ENDPOINT_URL, overrides it.',
              ),
            ecr: z
              .string()
              .url()
              .optional()
              .describe(
                'Endpoint override for ECR (`mlops bootstrap`, `mlops doctor`). $AWS_ENDPOINT_URL_ECR, else $AWS_ENDPOINT_URL, overrides it.',
              ),
          })
          .strict()
          .default({})
          .describe('Endpoint overrides, for the local sandbox or a VPC endpoint.'),
      })
      .strict()
      .default({ endpoints: {} })
      .describe('AWS access. Credentials come from the usual AWS chain (env, profile, role), never from this file.'),
    deploy: deploy.optional(),
    monitor: monitor.default(monitorDefaults),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type Gate = z.infer<typeof gate>;
export type BaselineSpec = z.infer<typeof baseline>;
export type DeployConfig = z.infer<typeof deploy>;
export type MonitorConfig = z.infer<typeof monitor>;
export type CutoverSpec = z.infer<typeof cutover>;
export type TrainSageMakerConfig = z.infer<typeof trainSageMaker>;
