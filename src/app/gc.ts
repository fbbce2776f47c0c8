/**
 * Deletes what old deployments left behind (SageMaker models, endpoint configs, CloudWatch alarms,
 * model archives), as planned by core/gc.ts, and records the deletion on the audit chain. Used by
 * `mlops gc` and after each finished promotion (deploy.retain).
 */
import { parseS3Uri } from '../core/s3-uri.js';
import { deploymentStore } from '../core/deployment-store.js';
import { planGc, type GcPlan, type GcResource } from '../core/gc.js';
import type { Wiring } from './deploy.js';

export interface GcResult {
  endpoint: string;
  retain: number;
  dryRun: boolean;
  /** Why nothing was planned (the endpoint is busy, state unreadable), when that is the case. */
  skipped?: string;
  kept: GcPlan['kept'];
  protectedInUse: GcResource[];
  deleted: GcResource[];
  /** Planned but not (yet) deleted: everything in a dry run; what failed otherwise. */
  pending: (GcResource & { error?: string })[];
  /** Deployment records that did not validate (their resources are left alone). */
  unreadable: string[];
}

/** Plans and (unless dryRun) performs the cleanup of one endpoint. */
export async function collectGarbage(w: Wiring, o: { retain: number; dryRun: boolean; log?: (m: string) => void }): Promise<GcResult> {
  const endpoint = w.deploy.endpointName;
  const base = { endpoint, retain: o.retain, dryRun: o.dryRun, kept: [], protectedInUse: [], deleted: [], pending: [], unreadable: [] };
  const ep = await w.sagemaker.describeEndpoint(endpoint);
  // An update in flight may still need any config or model; decide only on a settled endpoint.
  if (ep && ep.status !== 'InService' && ep.status !== 'Failed') {
    return { ...base, skipped: `endpoint ${endpoint} is ${ep.status}; nothing is deleted while it changes` };
  }
  const states = deploymentStore(w.store, w.deploy);
  const current = await states.current();
  const { records, problems } = await states.all();
  const liveConfig = ep ? await w.sagemaker.describeEndpointConfig(ep.configName) : undefined;
  const plan = planGc({
    records,
    retain: o.retain,
    currentId: current?.id,
    live: ep
      ? {
          endpointConfig: ep.configName,
          models: [...(liveConfig?.productionVariants ?? []), ...(liveConfig?.shadowVariants ?? [])].map((v) => v.model),
        }
      : undefined,
  });
  const result: GcResult = { ...base, kept: plan.kept, protectedInUse: plan.protectedInUse, unreadable: problems };
  if (o.dryRun || plan.remove.length === 0) return { ...result, pending: plan.remove };

  const attempt = async (items: GcResource[], del: () => Promise<void>) => {
    try {
      await del();
      result.deleted.push(...items);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      result.pending.push(...items.map((x) => ({ ...x, error })));
    }
  };
  const of = (kind: GcResource['kind']) => plan.remove.filter((x) => x.kind === kind);
  // Alarms first, then configs, then the models they name, then the archives the models read.
  const alarms = of('alarm');
  if (alarms.length) await attempt(alarms, () => w.metrics.deleteAlarms(alarms.map((a) => a.name)));
  for (const c of of('endpoint-config')) await attempt([c], () => w.sagemaker.deleteEndpointConfig(c.name));
  for (const m of of('model')) await attempt([m], () => w.sagemaker.deleteModel(m.name));
  for (const a of of('artifact')) {
    await attempt([a], async () => {
      const { bucket, prefix } = parseS3Uri(a.name);
      await w.store.delete(bucket, prefix);
    });
  }
  // Each deployment remembers what was deleted, so the next run does not plan it again.
  for (const r of records) {
    const gone = result.deleted.filter((x) => x.deployment === r.id).map((x) => x.name);
    if (gone.length) await states.save({ ...r, deleted: [...(r.deleted ?? []), ...gone] });
  }
  o.log?.(`deleted ${result.deleted.length} resources of ${new Set(result.deleted.map((x) => x.deployment)).size} old deployments`);
  if (result.deleted.length) {
    await w.audit.append({
      kind: 'cleanup',
      action: 'gc.deleted',
      actor: w.settings.actor,
      details: { retain: o.retain, deleted: result.deleted.map((x) => `${x.kind} ${x.name}`), failed: result.pending.length },
    });
  }
  return result;
}
