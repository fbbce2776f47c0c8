/**
 * `mlops audit verify`: walks every stored version of the endpoint's audit chain and checks it
 * against the heads its deployment records quote; exit 1 on any problem, 3 when the bucket keeps
 * no versions.
 */
import type { CommandRun } from '../cli/context.js';
import { auditLogFor, deploymentAnchors } from '../adapters/audit-log.js';
import { wire } from '../app/deploy.js';

export const run: CommandRun<'audit verify'> = async (ctx, _args, opts) => {
  const w = await wire(ctx);
  const target = { ...w.deploy, endpointName: typeof opts.endpoint === 'string' ? opts.endpoint : w.deploy.endpointName };
  const log = auditLogFor(w.store, target);
  const report = await log.verify(await deploymentAnchors(w.store, target));
  const where = `s3://${log.location.bucket}/${log.location.prefix}/`;
  const anchored = `${report.anchors ?? 0} anchor(s) checked`;
  if (report.ok) {
    ctx.io.success(`audit chain ${where} intact: ${report.records} record(s), ${anchored}`);
    return {
      data: { ...report, location: where },
      text: report.head ? `ok: ${report.records} records, head #${report.head.seq} ${report.head.hash}, ${anchored}` : 'ok: no records yet',
    };
  }
  for (const p of report.problems) ctx.io.error(`${p.kind}: ${p.message}`);
  return {
    data: { ...report, location: where },
    text: `FAILED: ${report.problems.length} problem(s) in ${report.records} records at ${where}`,
    exitCode: 1,
  };
};
