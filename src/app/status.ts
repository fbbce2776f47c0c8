/** The status view (`mlops status`, `mlops promote --status`) and its renderers. */
import type { CommandContext, CommandResult } from '../cli/context.js';
import type { AuditRecord } from '../core/audit.js';
import { isTerminal, stageTimings, type DeploymentRecord } from '../core/deployment.js';
import { deploymentStore } from '../core/deployment-store.js';
import { formatDuration } from '../core/duration.js';
import { MlopsError } from '../core/errors.js';
import { printable } from '../core/escape.js';
import { wire } from './deploy.js';

// What status shows was read from S3 (the deployment record, the audit records): anyone who can
// write those buckets chooses these strings, so each is shown with its control characters
// escaped, never obeyed by the terminal and never able to forge a line.
const shown = (v: unknown) => printable(String(v));

/** Renders a deployment's stage timings for people. */
export function renderTimings(rec: DeploymentRecord, now: Date): string {
  return stageTimings(rec, now)
    .map((t) => `  ${t.stage.padEnd(12)} ${shown(t.at)}  ${isTerminal(t.stage) ? '' : formatDuration(t.ms)}`)
    .join('\n');
}

/** Renders audit records one a line. */
export function renderAudit(records: AuditRecord[]): string {
  return records.map((r) => `  #${shown(r.seq)} ${shown(r.at)} ${shown(r.kind)}/${shown(r.action)} by ${shown(r.actor)}`).join('\n');
}

/** Renders the deployment's line and its stage timings (and the bake's verdict, once judged). */
export function renderDeployment(rec: DeploymentRecord, now: Date): string {
  const { candidate: c, reason, bake } = rec;
  return [
    `deployment ${shown(rec.id)}: ${shown(c.registeredModel)} v${shown(c.version)} at stage ${rec.stage}${reason ? ` (${shown(reason)})` : ''}`,
    renderTimings(rec, now),
    ...(bake ? [`  bake: ${bake.passed ? 'passed' : 'failed: ' + bake.reasons.map(shown).join('; ')}`] : []),
  ].join('\n');
}

/** Endpoint, variants, weights, the deployment's stage and timings, the last audit entries. */
export async function statusOf(ctx: CommandContext): Promise<CommandResult> {
  const w = await wire(ctx);
  // Invalid deployment state is reported after what can still be shown (the endpoint, the
  // audit trail): status is where a person looks before repairing it.
  let invalid: MlopsError | undefined;
  const [endpoint, deployment, audit] = await Promise.all([
    w.sagemaker.describeEndpoint(w.deploy.endpointName),
    deploymentStore(w.store, w.deploy)
      .current()
      .catch((e: unknown) => {
        if (!(e instanceof MlopsError && e.code === 'STATE_INVALID')) throw e;
        invalid = e;
        return undefined;
      }),
    w.audit.tail(5),
  ]);
  const lines: string[] = [];
  if (endpoint) {
    lines.push(
      `endpoint ${endpoint.name}: ${endpoint.status} on ${endpoint.configName}${endpoint.failureReason ? ` (${endpoint.failureReason})` : ''}`,
    );
    for (const v of endpoint.variants) lines.push(`  variant ${v.name}: weight ${v.weight ?? '?'}, ${v.instances ?? '?'} instance(s)`);
    for (const v of endpoint.shadowVariants ?? []) lines.push(`  shadow ${v.name}: weight ${v.weight ?? '?'}`);
  } else {
    lines.push(`endpoint ${w.deploy.endpointName}: does not exist yet`);
  }
  if (deployment) {
    lines.push(renderDeployment(deployment, w.clock.now()));
  } else if (invalid) {
    lines.push(`deployment state unreadable: ${shown(invalid.message)}`);
  } else {
    lines.push('no deployment recorded');
  }
  if (audit.length) lines.push('last audit entries:', renderAudit(audit));
  const production = { registeredModel: w.settings.registeredModel, alias: w.settings.alias };
  lines.push(`production model: ${production.registeredModel}@${production.alias}`);
  const data = { endpoint: endpoint ?? null, deployment: deployment ?? null, audit, production };
  if (invalid) {
    ctx.io.error(invalid.message, invalid.hint);
    return { data: { ...data, stateError: { code: invalid.code, message: invalid.message } }, text: lines.join('\n'), exitCode: 3 };
  }
  return { data, text: lines.join('\n') };
}
