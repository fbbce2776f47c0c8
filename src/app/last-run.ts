/** Reads `.mlops/last-run.json` (written by `mlops train`): the one reader, for compare and promote. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LAST_RUN_FILE, parseLastRun, type LastRunRef } from '../core/last-run.js';

/** The recorded run, undefined when the file does not exist; UserError (exit 2) when it is unreadable. */
export async function readLastRun(root: string): Promise<(LastRunRef & { file: string }) | undefined> {
  const file = path.join(root, LAST_RUN_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return { ...parseLastRun(text, file), file };
}

/** Where the record lives for a config folder (for messages). */
export const lastRunPath = (root: string) => path.join(root, LAST_RUN_FILE);
