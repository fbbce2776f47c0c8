/**
 * The account wiring that `mlops bootstrap` and `mlops doctor` share: what the config needs in
 * AWS, read from the config, and the plan that compares it with what the account has.
 */
import { trainingOutputPath } from '../config/derived.js';
import type { Config } from '../config/schema.js';
import {
  accountClients,
  callerIdentity,
  executeCall,
  observeAccount,
  type AccountClients,
  type CallerIdentity,
} from '../adapters/account.js';
import { awsSettings } from '../adapters/aws.js';
import { accountNeeds, planBootstrap, type AccountNeeds, type PlannedResource } from '../core/bootstrap-plan.js';

/** The needs of the config's deploy and monitor sections, in the deploy region (else aws.region). */
export function needsOfConfig(config: Config, env: Record<string, string | undefined>): AccountNeeds {
  const d = config.deploy;
  const region = awsSettings({ ...config, aws: { ...config.aws, region: d?.region ?? config.aws.region } }, env).region;
  // SageMaker training jobs read their code and data and write their output under one prefix.
  const sm = config.train.sagemaker;
  const output = trainingOutputPath(config);
  const training =
    (config.train.backend === 'sagemaker' || sm) && output
      ? { read: [output], write: [output, ...(sm?.spot?.checkpointS3Uri ? [sm.spot.checkpointS3Uri] : [])], image: sm?.image }
      : undefined;
  return accountNeeds({
    region,
    ...(d
      ? {
          deploy: {
            executionRoleArn: d.executionRoleArn,
            image: d.image,
            artifacts: d.artifacts,
            captureDestination: d.dataCapture.destination,
            stateUri: d.state.uri,
            lockUri: d.lock.uri,
            audit: d.audit,
          },
        }
      : {}),
    monitor: { capture: config.monitor.capture, stateUri: config.monitor.stateUri },
    ...(training ? { training } : {}),
  });
}

export interface AccountInspection {
  clients: AccountClients;
  identity: CallerIdentity;
  needs: AccountNeeds;
  plan: PlannedResource[];
}

/** Who the caller is, and the plan for the config's needs; the caller destroys the clients. */
export async function inspectAccount(
  config: Config,
  env: Record<string, string | undefined>,
  opts: { createEcr: boolean; signal?: AbortSignal; timeoutMs?: number },
): Promise<AccountInspection> {
  const needs = needsOfConfig(config, env);
  const settings = awsSettings({ ...config, aws: { ...config.aws, region: needs.region } }, env);
  const clients = await accountClients(settings, { signal: opts.signal, timeoutMs: opts.timeoutMs });
  try {
    const identity = await callerIdentity(clients);
    const observed = await observeAccount(clients, needs, identity.accountId);
    return { clients, identity, needs, plan: planBootstrap(needs, observed, opts) };
  } catch (e) {
    clients.destroy();
    throw e;
  }
}

/**
 * The bucket part of the bootstrap plan, applied: creates the buckets the config needs that are
 * missing (the audit one with Object Lock and its default retention) and adds what only
 * strengthens an existing one; what differs is left for `mlops bootstrap` and `doctor` to report.
 * `sandbox up` runs it against moto. Returns the names of the buckets created.
 */
export async function applyBucketPlan(config: Config, env: Record<string, string | undefined>, signal?: AbortSignal): Promise<string[]> {
  const { clients, plan } = await inspectAccount(config, env, { createEcr: false, signal });
  const created: string[] = [];
  try {
    for (const r of plan) {
      if (r.kind !== 'bucket' || (r.status !== 'create' && r.status !== 'update')) continue;
      for (const call of r.calls) await executeCall(clients, call);
      if (r.status === 'create') created.push(r.name);
    }
  } finally {
    clients.destroy();
  }
  return created;
}
