import { describe, expect, it, vi } from 'vitest';
import { Io } from '../../src/cli/io.js';
import { formatCommand, runProcess, setLongTimeout, whichOnPath } from '../../src/adapters/process.js';

const node = process.execPath;
const env = { PATH: process.env.PATH };

function captureIo(verbose = false) {
  const err = {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
  const out = {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
  return { io: new Io({ stdout: out, stderr: err, env: { API_TOKEN: 'sekrit-value' }, verbose }), err };
}

describe('runProcess', () => {
  it('streams stdout and stderr to io.passthrough (redacted) and keeps them', async () => {
    const { io, err } = captureIo();
    const r = await runProcess([node, '-e', 'console.log("out sekrit-value"); console.error("err")'], { cwd: process.cwd(), env, io });
    expect(r).toMatchObject({ ok: true, exitCode: 0, notFound: false, timedOut: false, aborted: false });
    expect(r.stdout).toBe('out sekrit-value\n');
    expect(r.stderr).toBe('err\n');
    expect(err.text).toContain('out ***');
    expect(err.text).not.toContain('sekrit-value');
  });

  it('gives the child exactly the env it is given, in the cwd given', async () => {
    const r = await runProcess([node, '-e', 'console.log(JSON.stringify([process.cwd(), process.env.ONLY, process.env.HOME ?? null]))'], {
      cwd: '/tmp',
      env: { ...env, ONLY: 'me' },
      stream: false,
    });
    expect(JSON.parse(r.stdout)).toEqual(['/tmp', 'me', null]);
  });

  it('reports a non-zero exit as a value', async () => {
    const r = await runProcess([node, '-e', 'process.exit(7)'], { cwd: process.cwd(), env });
    expect(r).toMatchObject({ ok: false, exitCode: 7 });
  });

  it('reports a missing binary as notFound, found on the env PATH only', async () => {
    const r = await runProcess(['definitely-not-a-binary-xyz'], { cwd: process.cwd(), env });
    expect(r).toMatchObject({ ok: false, notFound: true, spawnError: 'ENOENT' });
    expect(await whichOnPath('node', process.env.PATH)).toBeDefined();
    expect(await whichOnPath('node', '/nonexistent')).toBeUndefined();
  });

  it('kills on timeout', async () => {
    const r = await runProcess([node, '-e', 'setTimeout(() => {}, 60000)'], { cwd: process.cwd(), env, timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, timedOut: true, signal: 'SIGTERM' });
  });

  it('forwards the signal named by the abort reason', async () => {
    const ac = new AbortController();
    const script =
      'process.on("SIGINT", () => { console.log("got SIGINT"); process.exit(130) }); console.log("ready"); setTimeout(() => {}, 60000)';
    const pending = runProcess([node, '-e', script], {
      cwd: process.cwd(),
      env,
      signal: ac.signal,
      io: { debug() {}, passthrough: (s: string) => s.includes('ready') && ac.abort('SIGINT') },
    });
    const r = await pending;
    expect(r).toMatchObject({ aborted: true, ok: false, exitCode: 130 });
    expect(r.stdout).toContain('got SIGINT');
  });

  it('escalates to SIGKILL when the child ignores the signal', async () => {
    const ac = new AbortController();
    const script = 'process.on("SIGTERM", () => {}); console.log("ready"); setTimeout(() => {}, 60000)';
    const r = await runProcess([node, '-e', script], {
      cwd: process.cwd(),
      env,
      signal: ac.signal,
      killGraceMs: 200,
      io: { debug() {}, passthrough: (s: string) => s.includes('ready') && ac.abort() },
    });
    expect(r).toMatchObject({ aborted: true, signal: 'SIGKILL' });
  });

  it('kills at once with SIGKILL on hurry, without waiting for the grace period', async () => {
    const ac = new AbortController();
    const hurry = new AbortController();
    const script = 'process.on("SIGINT", () => console.log("shrugged")); console.log("ready"); setTimeout(() => {}, 60000)';
    const r = await runProcess([node, '-e', script], {
      cwd: process.cwd(),
      env,
      signal: ac.signal,
      hurry: hurry.signal,
      killGraceMs: 600_000,
      io: {
        debug() {},
        passthrough: (s: string) => (s.includes('ready') ? ac.abort('SIGINT') : s.includes('shrugged') && hurry.abort()),
      },
    });
    expect(r).toMatchObject({ aborted: true, ok: false, signal: 'SIGKILL' });
  });

  it('does not start when already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await runProcess([node, '-e', 'require("fs").writeFileSync("/tmp/should-not-exist", "")'], {
      cwd: process.cwd(),
      env,
      signal: ac.signal,
    });
    expect(r).toMatchObject({ aborted: true, ok: false });
  });

  it('echoes the command with --verbose, redacted', async () => {
    const { io, err } = captureIo(true);
    await runProcess([node, '-e', '0', '--token=sekrit-value'], { cwd: process.cwd(), env, io });
    expect(err.text).toMatch(/\$ .*node -e 0 --token=\*\*\*/);
  });

  it('formats commands for display', () => {
    expect(formatCommand(['python', 'src/train.py', 'a b', "it's"])).toBe(`python src/train.py 'a b' 'it'\\''s'`);
  });
});

describe('timeouts past the 32-bit timer limit (issue 17)', () => {
  it('a 25-day timeout does not fire at once (Node would overflow it to 1 ms)', async () => {
    const r = await runProcess([node, '-e', 'setTimeout(() => {}, 300)'], { cwd: process.cwd(), env, timeoutMs: 25 * 86_400_000 });
    expect(r).toMatchObject({ ok: true, exitCode: 0, timedOut: false });
  });

  it('setLongTimeout chains timers: a delay past 2^31-1 ms is armed in steps, and clear() stops it', () => {
    vi.useFakeTimers();
    try {
      let fired = 0;
      setLongTimeout(() => fired++, 2 ** 31 + 1000);
      vi.advanceTimersByTime(2 ** 31 - 1);
      expect(fired).toBe(0);
      vi.advanceTimersByTime(1001);
      expect(fired).toBe(1);
      const t = setLongTimeout(() => fired++, 30 * 86_400_000);
      vi.advanceTimersByTime(29 * 86_400_000);
      t.clear();
      vi.advanceTimersByTime(2 * 86_400_000);
      expect(fired).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
