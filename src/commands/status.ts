/** `mlops status` (and `mlops promote --status`): endpoint, variants, weights, the deployment's stage, timings, last audit entries. */
import type { CommandContext, CommandResult, CommandRun } from '../cli/context.js';
import { deploymentStore } from '../core/deployment-run.js';
import { renderAudit, renderTimings, wire } from './promote.js';

export async function statusOf(ctx: CommandContext): Promise<CommandResult> {
  const w = await wire(ctx);
  const [endpoint, deployment, audit] = await Promise.all([
    w.sagemaker.describeEndpoint(w.deploy.endpointName),
    deploymentStore(w.store, w.deploy).current(),
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
    lines.push(
      `deployment ${deployment.id}: ${deployment.candidate.registeredModel} v${deployment.candidate.version} at stage ${deployment.stage}${deployment.reason ? ` (${deployment.reason})` : ''}`,
    );
    lines.push(renderTimings(deployment));
    if (deployment.bake) lines.push(`  bake: ${deployment.bake.passed ? 'passed' : 'failed: ' + deployment.bake.reasons.join('; ')}`);
  } else {
    lines.push('no deployment recorded');
  }
  if (audit.length) lines.push('last audit entries:', renderAudit(audit));
  return { data: { endpoint: endpoint ?? null, deployment: deployment ?? null, audit }, text: lines.join('\n') };
}

export const run: CommandRun<'status'> = (ctx) => statusOf(ctx);
