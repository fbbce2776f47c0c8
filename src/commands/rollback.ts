/**
 * `mlops rollback`: puts the previous model back on the endpoint now, whatever the deployment's
 * stage (drops a shadow, stops a cutover in flight, or restores the remembered config / shifts
 * the weights back to the warm previous variant), restores the `production` alias and writes the
 * audit record. Exit 0 when rolled back (or nothing to do), 3 when AWS or MLflow failed, 4 when
 * the lock is held. `rollbackEndpoint` is what `mlops monitor` calls.
 */
import type { CommandContext, CommandRun } from '../cli/context.js';
import { decideRollback } from '../core/deployment.js';
import { deploymentStore, runRollback, warmVariantName } from '../core/deployment-run.js';
import { durationMs } from '../core/duration.js';
import { heartbeatFor, lockFor, wire } from './promote.js';

export interface RollbackRequest {
  reason: string;
  dryRun?: boolean;
  /** Overrides how long to wait for SageMaker (ms). */
  waitMs?: number;
}

export interface RollbackOutcome {
  performed: boolean;
  detail: string;
  steps: string[];
  deployment?: string;
}

/** Rolls the configured endpoint back (takes the lock; ConflictError when held). */
export async function rollbackEndpoint(
  ctx: CommandContext,
  req: RollbackRequest,
  opts: Record<string, unknown> = {},
): Promise<RollbackOutcome> {
  const w = await wire(ctx, opts);
  if (req.dryRun) {
    const rec = await deploymentStore(w.store, w.deploy).current();
    if (!rec) return { performed: false, detail: 'no deployment recorded: nothing to roll back', steps: [] };
    const ep = await w.sagemaker.describeEndpoint(w.deploy.endpointName);
    const a = decideRollback(
      rec,
      { now: new Date(), endpoint: ep },
      { strategy: w.deploy.rollback.strategy, warmVariant: warmVariantName(w.deploy.variantName), aliasRestored: !rec.aliasMoved },
    );
    return { performed: false, detail: `(dry run) next step: ${a.kind}${'why' in a ? ` (${a.why})` : ''}`, steps: [], deployment: rec.id };
  }
  const lock = await lockFor(ctx, w, 'rollback');
  try {
    const ports = { ...(await w.ports()), heartbeat: heartbeatFor(lock, durationMs(w.deploy.lock.expiry)) };
    const settings = req.waitMs !== undefined ? { ...w.settings, waitBudgetMs: req.waitMs } : w.settings;
    const r = await runRollback(ports, settings, req.reason);
    const detail =
      r.outcome === 'rolled-back'
        ? `rolled back deployment ${r.deployment?.id} to ${r.deployment?.previous?.endpointConfig}`
        : r.outcome === 'waiting'
          ? `rollback of ${r.deployment?.id} started; waiting for ${r.waitingFor} (run again to finish)`
          : `nothing to roll back (deployment ${r.deployment?.id} is ${r.deployment?.stage})`;
    return { performed: r.outcome === 'rolled-back', detail, steps: r.steps, deployment: r.deployment?.id };
  } finally {
    await lock.release();
  }
}

/** The shape `mlops monitor` takes as its rollback port. */
export function rollbackPort(ctx: CommandContext) {
  return async (req: { endpoint: string; variant: string; reason: string; dryRun: boolean }) => {
    const r = await rollbackEndpoint(ctx, { reason: req.reason, dryRun: req.dryRun });
    return { performed: r.performed, detail: r.detail };
  };
}

export const run: CommandRun<'rollback'> = async (ctx, _args, opts) => {
  const reason = typeof opts.reason === 'string' ? opts.reason : 'manual rollback';
  const r = await rollbackEndpoint(ctx, { reason, dryRun: Boolean(opts.dryRun) }, opts);
  const text = [...r.steps.map((s) => `  ${s}`), r.detail].join('\n');
  return { data: r, text };
};
