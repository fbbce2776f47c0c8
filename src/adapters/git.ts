/** Git facts for run tags: commit, branch, dirty flag. Read-only; never changes any git config. */
import { runProcess } from './process.js';

export interface GitInfo {
  /** false when git is missing or cwd is not inside a work tree. */
  available: boolean;
  commit?: string;
  branch?: string;
  dirty?: boolean;
  root?: string;
}

/** Reads HEAD's commit, the branch (undefined when detached) and whether tracked or untracked files changed. */
export async function readGitInfo(cwd: string, env: Record<string, string | undefined>): Promise<GitInfo> {
  const gitEnv = { ...env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' };
  const git = (args: string[]) => runProcess(['git', ...args], { cwd, env: gitEnv, stream: false });
  const top = await git(['rev-parse', '--show-toplevel']);
  if (!top.ok) return { available: false };
  const [head, branch, status] = await Promise.all([
    git(['rev-parse', '--verify', '--quiet', 'HEAD']),
    git(['symbolic-ref', '--quiet', '--short', 'HEAD']),
    git(['status', '--porcelain', '--untracked-files=normal']),
  ]);
  return {
    available: true,
    root: top.stdout.trim(),
    commit: head.ok ? head.stdout.trim() : undefined,
    branch: branch.ok ? branch.stdout.trim() : undefined,
    dirty: status.ok ? status.stdout.trim() !== '' : undefined,
  };
}
