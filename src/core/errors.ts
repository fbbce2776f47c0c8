/**
 * The error hierarchy and the one place that maps errors to exit codes.
 * Every error carries a stable code (for tests and users to match), a source, and an optional hint.
 */

export const ExitCode = {
  OK: 0,
  CHECK_FAILED: 1,
  BAD_INPUT: 2,
  EXTERNAL: 3,
  CONFLICT: 4,
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorSource = 'user' | 'check' | 'external' | 'conflict' | 'interrupted' | 'internal';

export interface MlopsErrorOptions {
  /** What the person can do about it. */
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable detail, included in --json error output. */
  details?: Record<string, unknown>;
}

/** Base class of every error the CLI expects to report. */
export class MlopsError extends Error {
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  constructor(
    readonly code: string,
    message: string,
    readonly source: ErrorSource,
    opts: MlopsErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
    this.details = opts.details;
  }
}

/** Bad input: usage, config file, a missing required value. Exit 2. */
export class UserError extends MlopsError {
  constructor(code: string, message: string, opts?: MlopsErrorOptions) {
    super(code, message, 'user', opts);
  }
}

/** A check said no: a metric regressed, drift crossed its threshold, a bake failed. Exit 1. */
export class CheckFailedError extends MlopsError {
  constructor(code: string, message: string, opts?: MlopsErrorOptions) {
    super(code, message, 'check', opts);
  }
}

/** An external tool or service failed: DVC, the training script, MLflow, AWS. Exit 3. */
export class ExternalError extends MlopsError {
  constructor(code: string, message: string, opts?: MlopsErrorOptions & { exitCode?: number }) {
    super(code, message, 'external', opts);
    this.exitCode = opts?.exitCode;
  }
  /** A tool's own exit code to pass through (train may choose to), else 3. */
  readonly exitCode?: number;
}

/** Another promotion or rollback holds the endpoint's lock. Exit 4. */
export class ConflictError extends MlopsError {
  constructor(code: string, message: string, opts?: MlopsErrorOptions) {
    super(code, message, 'conflict', opts);
  }
}

/** The user interrupted (SIGINT/SIGTERM). Exit 130. */
export class InterruptedError extends MlopsError {
  constructor(message = 'Interrupted', opts?: MlopsErrorOptions) {
    super('INTERRUPTED', message, 'interrupted', opts);
  }
}

/** Maps any thrown value to the documented exit code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof MlopsError) {
    switch (err.source) {
      case 'user':
        return ExitCode.BAD_INPUT;
      case 'check':
        return ExitCode.CHECK_FAILED;
      case 'external':
        return (err as ExternalError).exitCode ?? ExitCode.EXTERNAL;
      case 'conflict':
        return ExitCode.CONFLICT;
      case 'interrupted':
        return ExitCode.INTERRUPTED;
      default:
        return ExitCode.EXTERNAL;
    }
  }
  // The exit-code table has no row for a bug in mlops itself. It is neither a "no" (1) nor bad
  // input (2), so it exits 3 like any other failure, and the printer asks the user to report it.
  return ExitCode.EXTERNAL;
}

/** Whether an error is one mlops raised on purpose (no stack trace for those). */
export function isExpected(err: unknown): err is MlopsError {
  return err instanceof MlopsError && err.source !== 'internal';
}
