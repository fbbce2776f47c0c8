/**
 * What `deploy.retain` and `mlops gc` may delete: the SageMaker models, endpoint configs, alarms and
 * model archives of deployments older than the newest `retain` finished ones. Never anything the
 * endpoint serves now, the remembered rollback target, or a deployment still in progress.
 */
import { isTerminal, type DeploymentRecord } from './deployment.js';

export type GcKind = 'model' | 'endpoint-config' | 'alarm' | 'artifact';

export interface GcResource {
  kind: GcKind;
  /** SageMaker/CloudWatch name, or the s3:// URI of an archive. */
  name: string;
  /** The deployment that created it. */
  deployment: string;
}

export interface GcPlan {
  /** Deployments whose resources stay, with why. */
  kept: { deployment: string; why: string }[];
  /** Resources to delete, oldest deployment first. */
  remove: GcResource[];
  /** Resources of old deployments that stay because something live uses them. */
  protectedInUse: GcResource[];
}

export interface GcInput {
  /** Every deployment record of the endpoint (any order). */
  records: DeploymentRecord[];
  /** How many finished deployments keep their resources (the newest ones, the current one included). */
  retain: number;
  /** The current deployment (current.json), if any. */
  currentId?: string;
  /** What the endpoint serves right now (describe-endpoint), if it exists. */
  live?: { endpointConfig?: string; models: string[] };
}

const resourcesOf = (r: DeploymentRecord): GcResource[] => allResourcesOf(r).filter((x) => !r.deleted?.includes(x.name));

const allResourcesOf = (r: DeploymentRecord): GcResource[] => [
  { kind: 'model', name: r.names.model, deployment: r.id },
  ...[r.names.smokeConfig, r.names.shadowConfig, r.names.finalConfig, r.names.restoreConfig]
    .filter((n): n is string => Boolean(n))
    .map((name) => ({ kind: 'endpoint-config' as const, name, deployment: r.id })),
  ...r.names.alarms.map((name) => ({ kind: 'alarm' as const, name, deployment: r.id })),
  ...(r.artifact ? [{ kind: 'artifact' as const, name: r.artifact, deployment: r.id }] : []),
];

/** The plan for one endpoint; pure. */
export function planGc(input: GcInput): GcPlan {
  const retain = Math.max(1, Math.floor(input.retain));
  // Deployment ids start with a sortable UTC timestamp: newest first.
  const records = [...input.records].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const kept: GcPlan['kept'] = [];
  const old: DeploymentRecord[] = [];
  let finished = 0;
  for (const r of records) {
    if (r.id === input.currentId) kept.push({ deployment: r.id, why: 'current deployment' });
    else if (!isTerminal(r.stage)) kept.push({ deployment: r.id, why: `in progress (${r.stage})` });
    else if (finished < retain) kept.push({ deployment: r.id, why: `one of the newest ${retain} finished` });
    else {
      old.push(r);
      continue;
    }
    if (isTerminal(r.stage) || r.id === input.currentId) finished++;
  }
  // Names something live or kept still refers to: the endpoint's config and models, each kept
  // deployment's own resources and its rollback target (`previous`).
  const inUse = new Set<string>();
  if (input.live?.endpointConfig) inUse.add(input.live.endpointConfig);
  for (const m of input.live?.models ?? []) inUse.add(m);
  const keptIds = new Set(kept.map((k) => k.deployment));
  for (const r of records) {
    if (!keptIds.has(r.id)) continue;
    for (const x of resourcesOf(r)) inUse.add(x.name);
    if (r.previous) {
      inUse.add(r.previous.endpointConfig);
      inUse.add(r.previous.model);
    }
  }
  // A model still in use needs its archive: SageMaker reads it again when it adds an instance.
  for (const r of old) if (inUse.has(r.names.model) && r.artifact) inUse.add(r.artifact);
  const remove: GcResource[] = [];
  const protectedInUse: GcResource[] = [];
  for (const r of old.reverse()) for (const x of resourcesOf(r)) (inUse.has(x.name) ? protectedInUse : remove).push(x);
  return { kept, remove, protectedInUse };
}
