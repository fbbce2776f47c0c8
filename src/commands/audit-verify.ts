/**
 * `mlops audit verify`: walks every stored version of the endpoint's audit chain and checks it
 * against the heads quoted outside it: by its deployment records (state bucket) and by the MLflow
 * model versions it deployed (tag mlops.audit.head.<endpoint>). Exit 1 on any problem; 3 when the
 * bucket keeps no versions, or when MLflow cannot be read (fail closed) unless
 * --no-mlflow-anchors says to check the deployment records' anchors only.
 */
import type { CommandRun } from '../cli/context.js';
import { auditLogFor, deploymentAnchors, registryAnchors } from '../adapters/audit-log.js';
import { registryOver, wire } from '../app/deploy.js';
import type { AnchorClaim, AuditRecord } from '../core/audit.js';
import { ExternalError, InterruptedError } from '../core/errors.js';

export const run: CommandRun<'audit verify'> = async (ctx, _args, opts) => {
  const w = await wire(ctx);
  const target = { ...w.deploy, endpointName: typeof opts.endpoint === 'string' ? opts.endpoint : w.deploy.endpointName };
  const log = auditLogFor(w.store, target);
  const state = await deploymentAnchors(w.store, target);
  const withMlflow = opts.mlflowAnchors !== false;
  const checked: AnchorClaim[] = [];
  const report = await log.verify(async (records: AuditRecord[]) => {
    checked.push(...state.anchors);
    if (withMlflow) checked.push(...(await mlflowAnchors(records)));
    return checked;
  });

  async function mlflowAnchors(records: AuditRecord[]): Promise<AnchorClaim[]> {
    try {
      const registry = registryOver(await w.mlflow());
      return await registryAnchors(registry, target.endpointName, [w.settings.registeredModel, ...state.models])(records);
    } catch (e) {
      if (ctx.signal.aborted || e instanceof InterruptedError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new ExternalError('AUDIT_ANCHORS_UNREADABLE', `Cannot read the audit anchors on the MLflow model versions: ${why}`, {
        hint:
          'The chain was not verified (fail closed). Make MLflow reachable and run again, or run with --no-mlflow-anchors ' +
          "to check only the heads the deployment records quote (weaker: see the README's audit section).",
        cause: e,
      });
    }
  }

  const where = `s3://${log.location.bucket}/${log.location.prefix}/`;
  const by = report.anchorsBySource ?? { 'deployment-record': 0, mlflow: 0 };
  const anchored =
    `${report.anchors ?? 0} anchor(s) checked: ${by['deployment-record']} deployment record(s), ` +
    (withMlflow ? `${by.mlflow} MLflow model version(s)` : 'MLflow model versions not checked (--no-mlflow-anchors)');
  if (!withMlflow)
    ctx.io.warn(
      'the MLflow anchors were not checked (--no-mlflow-anchors): a tail rewritten together with the deployment records would pass',
    );
  const data = {
    ...report,
    location: where,
    mlflowAnchors: withMlflow ? 'checked' : 'not-checked',
    checkedAnchors: checked.map((a) =>
      'absent' in a ? { source: a.source, absent: a.absent } : { source: a.source, seq: a.seq, hash: a.hash },
    ),
  };
  if (report.ok) {
    ctx.io.success(`audit chain ${where} intact: ${report.records} record(s), ${anchored}`);
    return {
      data,
      text: report.head ? `ok: ${report.records} records, head #${report.head.seq} ${report.head.hash}, ${anchored}` : 'ok: no records yet',
    };
  }
  for (const p of report.problems) ctx.io.error(`${p.kind}: ${p.message}`);
  return {
    data,
    text: `FAILED: ${report.problems.length} problem(s) in ${report.records} records at ${where}; ${anchored}`,
    exitCode: 1,
  };
};
