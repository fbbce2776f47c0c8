/**
 * The config schema: the single source of truth for types, defaults and descriptions.
 * The JSON Schema in schema/ and the README's config reference are generated from it.
 * Every object is strict: an unknown key is an error (with a "did you mean").
 */
import { z } from 'zod';

/** A duration: seconds as a number, or a string such as "90s", "15m", "24h", "7d". */
export const duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration like "90s", "15m", "24h" or "7d"')])
  .describe('A duration: seconds as a number, or a string like "90s", "15m", "24h", "7d".');

const s3Uri = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'an S3 URI like s3://bucket/prefix');

const gate = z
  .object({
    metric: z.string().min(1).describe('Metric name as logged to MLflow, e.g. "accuracy".'),
    direction: z.enum(['higher', 'lower']).default('higher').describe('Whether a higher or a lower value is better.'),
    maxRelativeDrop: z
      .number()
      .nonnegative()
      .optional()
      .describe('Largest allowed worsening relative to the baseline, as a fraction (0.01 = 1%).'),
    maxAbsoluteDrop: z.number().nonnegative().optional().describe('Largest allowed worsening in the metric\'s own units.'),
    min: z.number().optional().describe('Absolute floor: the candidate fails below this value, whatever the baseline.'),
    max: z.number().optional().describe('Absolute ceiling: the candidate fails above this value, whatever the baseline.'),
  })
  .strict();

const baseline = z
  .union([
    z.object({ alias: z.string().min(1).describe('Registered-model alias, e.g. "production".') }).strict(),
    z.object({ stage: z.string().min(1).describe('Legacy registered-model stage, e.g. "Production".') }).strict(),
    z
      .object({
        filter: z.string().min(1).describe('MLflow search filter, e.g. "tags.`mlops.git.branch` = \'main\'".'),
        experiment: z.string().optional().describe('Experiment to search (default: mlflow.experiment).'),
      })
      .strict(),
    z.object({ runId: z.string().min(1).describe('A fixed MLflow run id.') }).strict(),
  ])
  .describe('How to find the production baseline: one of alias, stage, filter or runId.');

export const configSchema = z
  .object({
    version: z.literal(1).default(1).describe('Config format version.'),
    project: z.string().min(1).optional().describe('Project name, used in tags, resource names and reports.'),
    mlflow: z
      .object({
        trackingUri: z
          .string()
          .min(1)
          .optional()
          .describe('MLflow tracking server URL. Default: $MLFLOW_TRACKING_URI.'),
        experiment: z.string().min(1).optional().describe('Experiment for training runs (created if missing). Default: the project name.'),
        registeredModel: z.string().min(1).optional().describe('Registered model that holds versions and the production alias. Default: the project name.'),
        timeout: duration.default('30s').describe('Timeout of one MLflow request.'),
        retries: z.number().int().min(0).max(10).default(3).describe('Retries on connection errors, 429 and 5xx, with backoff.'),
      })
      .strict()
      .default({ timeout: '30s', retries: 3 })
      .describe('MLflow tracking server. Auth comes from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD.'),
    data: z
      .object({
        remote: z.string().min(1).optional().describe('DVC remote to pull from (default: the repo\'s default remote).'),
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
          .describe('Training command as an argv array (no shell).'),
        timeout: duration.default('2h').describe('Kill the training command after this long.'),
        requiredMetrics: z.array(z.string().min(1)).default([]).describe('Metrics the run must log, besides those the gates need.'),
        holdout: z.string().default('data/holdout.csv').describe('Holdout file the training script writes; its profile is the drift baseline.'),
      })
      .strict()
      .default({ command: ['python', 'src/train.py'], timeout: '2h', requiredMetrics: [], holdout: 'data/holdout.csv' })
      .describe('How to train.'),
    compare: z
      .object({
        baseline: baseline.default({ alias: 'production' }),
        noBaseline: z
          .enum(['pass', 'fail'])
          .default('pass')
          .describe('What to do when there is no baseline yet (the first model): pass with a warning, or fail.'),
        gates: z.array(gate).default([]).describe('The merge gate: one entry per metric.'),
        report: z.string().default('.mlops/compare-report.md').describe('Where to write the Markdown report.'),
      })
      .strict()
      .default({ baseline: { alias: 'production' }, noBaseline: 'pass', gates: [], report: '.mlops/compare-report.md' })
      .describe('The merge gate against the production baseline.'),
    aws: z
      .object({
        region: z.string().min(1).optional().describe('AWS region. Default: $AWS_REGION, then $AWS_DEFAULT_REGION.'),
        endpoints: z
          .object({
            sagemaker: z.string().url().optional().describe('Endpoint override for the SageMaker API (local sandbox).'),
            sagemakerRuntime: z.string().url().optional().describe('Endpoint override for the SageMaker runtime API.'),
            s3: z.string().url().optional().describe('Endpoint override for S3 (path-style addressing is used).'),
            cloudwatch: z.string().url().optional().describe('Endpoint override for CloudWatch.'),
          })
          .strict()
          .default({})
          .describe('Endpoint overrides, for the local sandbox or a VPC endpoint.'),
      })
      .strict()
      .default({ endpoints: {} })
      .describe('AWS access. Credentials come from the usual AWS chain (env, profile, role), never from this file.'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type Gate = z.infer<typeof gate>;
export type BaselineSpec = z.infer<typeof baseline>;
