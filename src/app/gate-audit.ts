/**
 * Appends gate verdicts (compare, monitor) to the deploy endpoint's audit chain. Kept apart from
 * the deploy wiring (src/app/deploy.ts) so that a gate without a deploy section loads no AWS code
 * at all: the wiring is imported only when there is a chain to append to.
 */
import type { CommandContext } from '../cli/context.js';
import type { Config } from '../config/schema.js';
import type { AuditEvent } from '../core/audit.js';
import type { AuditLog } from '../core/ports.js';
import { MlopsError } from '../core/errors.js';

/**
 * The appender of gate verdicts. Without a deploy section there is no chain: nothing is appended
 * (a debug line says so). With one, a failure to reach AWS (no credentials in a PR job, an
 * unreachable endpoint) is one warning, and the command still exits by its verdict.
 */
export function gateAudit(
  ctx: CommandContext,
  config: Config,
  endpoint = config.deploy?.endpointName,
): (event: Omit<AuditEvent, 'endpoint' | 'actor'>) => Promise<void> {
  const deploy = config.deploy;
  let log: AuditLog | undefined;
  let gaveUp = false;
  return async (event) => {
    if (!deploy) {
      ctx.io.debug(`${event.action} not audited: the config has no deploy section (no audit chain)`);
      return;
    }
    if (gaveUp) return;
    try {
      const [{ actorOf, deployAwsSettings }, { s3Client }, { s3Store }, { auditLogFor }] = await Promise.all([
        import('./deploy.js'),
        import('../adapters/aws.js'),
        import('../adapters/s3-store.js'),
        import('../adapters/audit-log.js'),
      ]);
      log ??= auditLogFor(await s3Store(await s3Client(deployAwsSettings(config, deploy, ctx.env))), {
        ...deploy,
        endpointName: endpoint ?? deploy.endpointName,
      });
      const record = await log.append({ ...event, actor: actorOf(ctx).actor });
      ctx.io.debug(`${event.action} audited as #${record.seq} of ${endpoint}'s chain`);
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      gaveUp = true;
      const why = e instanceof MlopsError ? e.message : e instanceof Error ? e.message : String(e);
      ctx.io.warn(`AWS is not reachable, so this verdict is not in ${endpoint}'s audit trail: ${why}`);
    }
  };
}
