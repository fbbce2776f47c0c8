/**
 * `mlops bootstrap`: creates what the config's deploy and monitor sections need in the AWS
 * account (buckets, the audit bucket's Object Lock, the SageMaker execution role, with --ecr the
 * serving image's repository), or checks and reports it. Idempotent; never weakens or replaces
 * an existing resource: what differs is reported with its fix (exit 1).
 */
import type { CommandRun } from '../cli/context.js';
import { inspectAccount } from '../app/account.js';
import { executeCall } from '../adapters/account.js';
import type { Call, PlannedResource, Problem } from '../core/bootstrap-plan.js';
import { UserError } from '../core/errors.js';

type Outcome = 'created' | 'updated' | 'exists' | 'drifted' | 'missing' | 'would create' | 'would update';

export interface BootstrapResource {
  kind: PlannedResource['kind'];
  name: string;
  status: Outcome;
  detail: string;
  calls: Call[];
  problems: Problem[];
}

/** One line per call, as --dry-run prints it. */
const formatCall = (c: Call) => `${c.service} ${c.op} ${JSON.stringify(c.input)}`;

export const run: CommandRun<'bootstrap'> = async (ctx, _args, opts) => {
  const { config } = await ctx.loadConfig();
  if (!config.deploy && !config.monitor.capture && !config.monitor.stateUri) {
    throw new UserError('NOTHING_TO_BOOTSTRAP', 'The config has no deploy section (and monitor names no S3 location): nothing to create.', {
      hint: 'Add a deploy section (`npx mlops init` writes one) and run `mlops bootstrap` again.',
    });
  }
  const dryRun = opts.dryRun === true;
  const { clients, identity, needs, plan } = await inspectAccount(config, ctx.env, { createEcr: opts.ecr === true, signal: ctx.signal });
  ctx.io.info(`Account ${identity.accountId} as ${identity.arn}, region ${needs.region}${dryRun ? ' (dry run: nothing is changed)' : ''}`);
  const resources: BootstrapResource[] = [];
  try {
    for (const r of plan) {
      let status: Outcome;
      if (r.status !== 'create' && r.status !== 'update') status = r.status;
      else {
        for (const call of r.calls) {
          ctx.io.info(`${dryRun ? 'would call' : 'calling'} ${formatCall(call)}`);
          if (!dryRun) await executeCall(clients, call);
        }
        status = dryRun ? (r.status === 'create' ? 'would create' : 'would update') : r.status === 'create' ? 'created' : 'updated';
      }
      resources.push({ kind: r.kind, name: r.name, status, detail: r.detail, calls: r.calls, problems: r.problems });
    }
  } finally {
    clients.destroy();
  }

  const problems = resources.flatMap((r) => r.problems);
  const changed = resources.some((r) => r.calls.length > 0);
  const lines = resources.map((r) => `${r.status.padEnd(12)} ${r.kind.padEnd(10)} ${r.name}  (${r.detail})`);
  for (const p of problems) lines.push('', `✖ ${p.summary}`, `  → ${p.fix}`);
  const outcome = !changed
    ? 'No change: everything the config needs that bootstrap manages already exists.'
    : dryRun
      ? 'Nothing was changed (dry run); run without --dry-run to make these calls.'
      : 'Created or completed what was missing.';
  lines.push(
    '',
    outcome,
    problems.length
      ? `${problems.length} problem(s) left for you to fix (bootstrap changes nothing about them); then \`mlops doctor\`.`
      : 'Next: `mlops doctor`.',
  );
  return {
    data: {
      dryRun,
      account: identity.accountId,
      identity: identity.arn,
      region: needs.region,
      changed: changed && !dryRun,
      resources,
      ...(needs.role ? { executionRolePolicy: needs.role.policy, executionRoleTrust: needs.role.trust } : {}),
    },
    text: lines.join('\n'),
    exitCode: problems.length ? 1 : 0,
  };
};
