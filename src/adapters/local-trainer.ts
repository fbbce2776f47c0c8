/**
 * The local backend of `mlops train`: train.command on this machine, in the config folder, with
 * the MLflow run in its environment, its output streamed, signals forwarded, and the timeout.
 */
import type { TrainerPort, TrainingOutcome } from '../core/training.js';
import { formatCommand, runProcess, type ProcessIo } from './process.js';

export interface LocalTrainerOptions {
  command: string[];
  root: string;
  env: Record<string, string | undefined>;
  holdout: string;
  io: ProcessIo & { info(msg: string): void };
}

/** The training command as a local process. */
export function localTrainer(o: LocalTrainerOptions): TrainerPort {
  return {
    plan: (timeout) => [`would run: ${formatCommand(o.command)}   (in ${o.root}, timeout ${timeout})`],
    train: async (run, opts): Promise<TrainingOutcome> => {
      const env: Record<string, string | undefined> = {
        ...o.env,
        MLFLOW_TRACKING_URI: run.trackingUri,
        MLFLOW_EXPERIMENT_NAME: run.experimentName,
        MLFLOW_EXPERIMENT_ID: run.experimentId,
        MLFLOW_RUN_ID: run.runId,
        MLOPS_HOLDOUT: o.holdout,
        // Python buffers a piped stdout; unbuffered, its logs stream as they happen.
        PYTHONUNBUFFERED: o.env.PYTHONUNBUFFERED ?? '1',
      };
      o.io.info(`$ ${formatCommand(o.command)}`);
      // dieWithParent: even a SIGKILL of mlops must not leave the training running unwatched.
      const proc = await runProcess(o.command, {
        cwd: o.root,
        env,
        io: o.io,
        signal: opts.signal,
        hurry: opts.hurry,
        timeoutMs: opts.timeoutMs,
        dieWithParent: true,
      });
      const base = {
        durationMs: proc.durationMs,
        exitCode: proc.exitCode,
        signal: proc.signal,
        spawnError: proc.spawnError,
        output: proc.output,
        tags: {},
        metrics: {},
      };
      if (proc.aborted) return { kind: 'interrupted', ...base };
      if (proc.timedOut) return { kind: 'timed-out', ...base };
      if (proc.notFound) return { kind: 'not-found', ...base };
      return { kind: proc.exitCode === 0 ? 'succeeded' : 'failed', ...base };
    },
  };
}
