/** `mlops status` (and `mlops promote --status`): endpoint, variants, weights, the deployment's stage, timings, last audit entries. */
import type { CommandRun } from '../cli/context.js';
import { statusOf } from '../app/status.js';

export const run: CommandRun<'status'> = (ctx) => statusOf(ctx);
