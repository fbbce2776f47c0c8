/** `mlops audit verify`: walks the endpoint's audit chain; exit 1 on a gap, a reordering or an altered record. */
import type { CommandRun } from '../cli/context.js';
import { openAuditLog } from '../adapters/audit-log.js';
import { parseS3Uri } from '../adapters/s3-store.js';
import { wire } from '../app/deploy.js';

export const run: CommandRun<'audit verify'> = async (ctx, _args, opts) => {
  const w = await wire(ctx);
  const endpoint = typeof opts.endpoint === 'string' ? opts.endpoint : w.deploy.endpointName;
  const log = openAuditLog({
    store: w.store,
    location: parseS3Uri(w.deploy.audit.uri),
    endpoint,
    retentionDays: w.deploy.audit.retentionDays,
  });
  const report = await log.verify();
  const where = `s3://${log.location.bucket}/${log.location.prefix}/`;
  if (report.ok) {
    ctx.io.success(`audit chain ${where} intact: ${report.records} record(s)`);
    return {
      data: { ...report, location: where },
      text: report.head ? `ok: ${report.records} records, head #${report.head.seq} ${report.head.hash}` : 'ok: no records yet',
    };
  }
  for (const p of report.problems) ctx.io.error(`${p.kind}: ${p.message}`);
  return {
    data: { ...report, location: where },
    text: `FAILED: ${report.problems.length} problem(s) in ${report.records} records at ${where}`,
    exitCode: 1,
  };
};
