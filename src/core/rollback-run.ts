/**
 * Runs a rollback: puts the previous model back whatever the deployment's stage, through the
 * same ports as promote (src/core/ports.ts).
 */
import { UserError } from './errors.js';
import type { DeploySettings } from './deploy-target.js';
import type { DeployPorts } from './ports.js';
import { advance, decideRollback, type DeploymentRecord } from './deployment.js';
import { deploymentStore } from './deployment-store.js';
import { registryAnchor, type RunResult } from './promote-run.js';
import { warmVariantName } from './sagemaker-requests.js';
import { endpointWait } from './wait-event.js';

/**
 * Puts the previous model back on the endpoint now, whatever the deployment's stage, restores
 * the alias and writes the audit record. The caller holds the lock.
 */
export async function runRollback(p: DeployPorts, s: DeploySettings, reason: string): Promise<RunResult> {
  const d = s.deploy;
  const states = deploymentStore(p.store, d);
  const steps: string[] = [];
  const alias = s.alias;
  const registry = registryAnchor(p, s);
  // A rollback is short: each tag write is waited for.
  const anchor = async (rec: DeploymentRecord) => {
    await registry.start(rec);
    await registry.settle();
  };
  let rec = await states.current();
  if (!rec)
    throw new UserError('NO_DEPLOYMENT', `no deployment of ${d.endpointName} is recorded in ${d.state.uri}`, {
      hint: 'Nothing to roll back.',
    });
  if (rec.stage === 'rolled-back' || rec.stage === 'failed') return { outcome: 'nothing', deployment: rec, steps };
  let aliasRestored = !rec.aliasMoved;
  const started = p.clock.now().getTime();
  // rollback.started is written with the first step, so a rollback with nothing to do leaves no
  // record that no rollback.done ever completes.
  let announced = false;
  const announce = async (r: DeploymentRecord) => {
    if (announced) return;
    announced = true;
    await p.audit.append({
      kind: 'rollback',
      action: 'rollback.started',
      deploymentId: r.id,
      actor: s.actor,
      details: { stage: r.stage, reason },
    });
  };
  let stopped = false;
  // What this rollback put back, for its audit record (verify checks it against deployment.started).
  const restored: { config?: string; alias?: string | null } = {};
  // Waits are bounded by the wait budget; each other step is taken at most a few times.
  for (let acts = 0; acts < 50;) {
    if (p.signal?.aborted) break;
    const ep = await p.sagemaker.describeEndpoint(d.endpointName);
    const a = decideRollback(
      rec,
      { now: p.clock.now(), endpoint: ep },
      { strategy: d.rollback.strategy, warmVariant: warmVariantName(d.variantName), aliasRestored },
    );
    if (a.kind !== 'nothing') await announce(rec);
    switch (a.kind) {
      case 'nothing':
        p.log(a.why);
        return { outcome: 'nothing', deployment: rec, steps };
      case 'wait-endpoint':
        if (p.clock.now().getTime() - started > s.waitBudgetMs) {
          await anchor(rec);
          return { outcome: 'waiting', deployment: rec, steps, waitingFor: `endpoint is ${a.status}` };
        }
        p.progress?.waiting(endpointWait(d, rec, a.status, 'rollback'));
        await p.heartbeat?.();
        await p.clock.sleep(s.pollMs, p.signal);
        continue;
      case 'stop-cutover':
        if (!stopped) {
          // SageMaker has no "stop deployment" call: an alarm in ALARM makes it roll back itself.
          await p.metrics.setAlarmState(rec.names.alarms[0], 'ALARM', `mlops rollback: ${reason}`);
          steps.push(`CloudWatch SetAlarmState ${rec.names.alarms[0]} ALARM`);
          stopped = true;
        }
        p.progress?.waiting({ ...endpointWait(d, rec, 'Updating', 'rollback'), detail: 'stopping the cutover (SageMaker rolls it back)' });
        await p.clock.sleep(s.pollMs, p.signal);
        continue;
      case 'update-endpoint':
        acts++;
        await p.sagemaker.updateEndpoint({ EndpointName: d.endpointName, EndpointConfigName: rec.previous!.endpointConfig });
        restored.config = rec.previous!.endpointConfig;
        steps.push(`SageMaker UpdateEndpoint ${d.endpointName} -> ${rec.previous!.endpointConfig}`);
        continue;
      case 'weights':
        acts++;
        await p.sagemaker.updateEndpointWeightsAndCapacities({
          EndpointName: d.endpointName,
          DesiredWeightsAndCapacities: [
            { VariantName: d.variantName, DesiredWeight: 0 },
            { VariantName: warmVariantName(d.variantName), DesiredWeight: 1 },
          ],
        });
        steps.push(`SageMaker UpdateEndpointWeightsAndCapacities ${d.endpointName} ${warmVariantName(d.variantName)}=1 ${d.variantName}=0`);
        continue;
      case 'restore-alias': {
        acts++;
        const cur = await p.registry.getAlias(s.registeredModel, alias);
        if (cur === rec.candidate.version) {
          if (rec.previousAliasVersion) await p.registry.setAlias(s.registeredModel, alias, rec.previousAliasVersion);
          else await p.registry.deleteAlias(s.registeredModel, alias);
          restored.alias = rec.previousAliasVersion ?? null;
          steps.push(`MLflow alias ${alias} -> ${rec.previousAliasVersion ? 'v' + rec.previousAliasVersion : '(removed)'}`);
        }
        aliasRestored = true;
        continue;
      }
      case 'finish': {
        const from = rec.stage;
        rec = advance({ ...rec, reason, aliasMoved: false }, 'rolled-back', p.clock.now(), reason);
        await states.save(rec);
        await p.audit.append({
          kind: 'rollback',
          action: 'rollback.done',
          deploymentId: rec.id,
          actor: s.actor,
          details: {
            from,
            reason,
            steps,
            ...restored,
            ...(from === 'package' ? { abandoned: 'ended before it touched the endpoint' } : {}),
          },
        });
        await anchor(rec);
        return { outcome: 'rolled-back', deployment: rec, steps };
      }
    }
  }
  await anchor(rec);
  return { outcome: 'waiting', deployment: rec, steps };
}
