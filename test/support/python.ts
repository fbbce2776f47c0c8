/** Runs Python snippets in the test bed's venv (fixtures via the official MLflow client, reference values). */
import { spawn } from 'node:child_process';
import { requireVenvBin } from './peers.js';

export interface PythonResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs `.venv/bin/python -c code` with a small base environment (PATH, HOME, TMPDIR, LANG) plus
 * `env`; throws with the stderr when it exits non-zero.
 */
export async function runPython(
  code: string,
  env: Record<string, string> = {},
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<PythonResult> {
  const python = requireVenvBin('python');
  const base: Record<string, string> = { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  const child = spawn(python, ['-c', code], {
    cwd: opts.cwd,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 120_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const result = await new Promise<PythonResult>((res, rej) => {
    child.once('error', rej);
    child.once('close', (exitCode, signal) => res({ stdout, stderr, code: exitCode ?? (signal ? 128 : 1) }));
  });
  if (result.code !== 0) {
    const snippet = code.trim().split('\n').slice(0, 3).join('\n');
    throw new Error(`python exited with ${result.code}\n--- code ---\n${snippet}\n--- stderr ---\n${result.stderr}`);
  }
  return result;
}
