/**
 * What promote and rollback report while they wait (src/core/ports.ts ProgressPort): one event
 * per poll, worded for a person reading a CI log ("endpoint churn-prod still Updating (3m 12s),
 * canary 10%").
 */
import type { CutoverPolicy, DeployTarget } from './deploy-target.js';
import type { DeploymentRecord } from './deployment.js';
import { durationMs, formatDuration } from './duration.js';
import type { WaitEvent } from './ports.js';

/** How traffic moves in the cutover, in a few words. */
export function describeCutover(c: CutoverPolicy): string {
  if (c.type === 'canary') return `canary ${c.size}%, the rest after ${formatDuration(durationMs(c.wait))}`;
  if (c.type === 'linear') return `linear steps of ${c.step}% every ${formatDuration(durationMs(c.wait))}`;
  return 'all at once';
}

/** A poll of a wait for the endpoint's status during a deployment stage. */
export function endpointWait(d: DeployTarget, rec: DeploymentRecord, status: string, what: 'promote' | 'rollback' = 'promote'): WaitEvent {
  const detail =
    what === 'rollback'
      ? rec.previous && `back to ${rec.previous.endpointConfig}`
      : rec.stage === 'cutover'
        ? rec.previous
          ? `blue/green ${describeCutover(d.cutover)}`
          : 'new endpoint'
        : rec.stage === 'shadow'
          ? `adding v${rec.candidate.version} as a shadow`
          : undefined;
  return { subject: `endpoint ${d.endpointName}`, status, stage: `${what} ${rec.stage}`, ...(detail && { detail }) };
}

/** A poll of the wait for the shadow bake's end. */
export function bakeWait(d: DeployTarget, rec: DeploymentRecord, until: string, remainingMs: number): WaitEvent {
  return {
    subject: `v${rec.candidate.version} on ${d.endpointName}`,
    status: 'in shadow bake',
    stage: 'promote bake',
    detail: `judged in ${formatDuration(remainingMs)} (at ${until})`,
  };
}
