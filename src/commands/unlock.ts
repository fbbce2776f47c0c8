/**
 * `mlops unlock`: breaks the endpoint's lock that a dead promote or rollback left behind, so the
 * next run need not wait for it to expire. Refuses a lock whose holder renewed it within the last
 * heartbeat (it is alive) unless --force; every broken lock is an audit record (lock.broken).
 * Exit 0 when broken or there was none, 4 when the holder looks alive, 3 when AWS failed.
 */
import type { CommandRun } from '../cli/context.js';
import { unlockEndpoint } from '../app/deploy.js';
import { describeHolder } from '../core/lock.js';

export const run: CommandRun<'unlock'> = async (ctx, _args, opts) => {
  const r = await unlockEndpoint(ctx, { force: opts.force, dryRun: opts.dryRun });
  const who = r.holder ? `held by ${describeHolder(r.holder, new Date())}` : 'an unreadable lock object';
  const text =
    r.outcome === 'none'
      ? `${r.endpoint} is not locked (${r.lock} does not exist)`
      : r.dryRun
        ? `(dry run) would break the lock ${r.lock}, ${who}`
        : `broke the lock ${r.lock}, ${who}; the audit trail records it`;
  return { data: r, text };
};
