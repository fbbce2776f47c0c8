/**
 * Writing the files a command leaves behind (reports, constraint violations, the last-run
 * record). A file that cannot be written (a full disk, /dev/full, a read-only folder) is an
 * expected outcome, returned as an ExternalError (exit 3) naming the path and the OS error: the
 * command prints its result first and then fails with it, so the verdict is never lost.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExternalError } from '../core/errors.js';

/**
 * Writes text to file (creating its folder); `atomic` writes a temporary file next to it and
 * renames it over, so a reader never sees half a file. Returns the failure, or undefined.
 */
export async function writeReportFile(
  file: string,
  text: string,
  opts: { atomic?: boolean; what?: string } = {},
): Promise<ExternalError | undefined> {
  const tmp = opts.atomic ? `${file}.${process.pid}.tmp` : undefined;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp ?? file, text);
    if (tmp) await rename(tmp, file);
    return undefined;
  } catch (err) {
    if (tmp) await rm(tmp, { force: true }).catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    return new ExternalError(
      'FILE_NOT_WRITTEN',
      `Could not write the ${opts.what ?? 'report'} ${file}: ${e.code ? `${e.code}: ` : ''}${osMessage(e)}`,
      {
        hint: `${remedyFor(file, e.code)}.`,
        details: { file, errno: e.code },
        cause: err,
      },
    );
  }
}

/** The fix for a write that failed with this OS error code. */
function remedyFor(file: string, code: string | undefined): string {
  if (code === 'EISDIR') return `${file} is a folder: name a file (one inside it, say), not the folder`;
  if (code === 'ENOTDIR') return `A part of ${path.dirname(file)} is a file, not a folder: move that file, or write to another path`;
  return `Free some space or make ${path.dirname(file)} writable, or write it elsewhere`;
}

/** The OS error without Node's "ENOSPC: " prefix and ", write '/path'" suffix (both are said already). */
function osMessage(e: Error): string {
  return e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '[^']*'$/, '');
}

/**
 * The failure to raise once the result is known: with --json only one document is printed (the
 * error), so the result goes into its details; otherwise the caller prints the result first.
 */
export function failureWithResult(err: ExternalError, result: unknown): ExternalError {
  return new ExternalError(err.code, err.message, {
    hint: `${err.hint ?? ''} The result above is complete.`.trim(),
    details: { ...err.details, result },
    cause: err.cause,
  });
}
