import { describe, expect, it } from 'vitest';
import { pollUntil, sleep } from '../../src/adapters/clock.js';

describe('the one sleep and poll loop', () => {
  it('pollUntil returns the first defined value of check', async () => {
    let calls = 0;
    const got = await pollUntil(() => (++calls === 3 ? 'ready' : undefined), { intervalMs: 1, timeoutMs: 5_000 });
    expect(got).toBe('ready');
    expect(calls).toBe(3);
  });

  it('pollUntil gives undefined at the deadline, after checking at least once more', async () => {
    let calls = 0;
    const got = await pollUntil(() => void calls++, { intervalMs: 5, timeoutMs: 30 });
    expect(got).toBeUndefined();
    expect(calls).toBeGreaterThan(1);
  });

  it('pollUntil stops at once when the signal aborts', async () => {
    const abort = new AbortController();
    let calls = 0;
    const pending = pollUntil(
      () => {
        calls++;
        if (calls === 2) abort.abort();
        return undefined;
      },
      { intervalMs: 1, timeoutMs: 60_000, signal: abort.signal },
    );
    expect(await pending).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('sleep resolves at once on an aborted signal and leaves no listener behind', async () => {
    const abort = new AbortController();
    abort.abort();
    await sleep(60_000, abort.signal);
    const live = new AbortController();
    let added = 0;
    let removed = 0;
    const add = live.signal.addEventListener.bind(live.signal);
    const remove = live.signal.removeEventListener.bind(live.signal);
    live.signal.addEventListener = (...a: Parameters<typeof add>) => (added++, add(...a));
    live.signal.removeEventListener = (...a: Parameters<typeof remove>) => (removed++, remove(...a));
    await sleep(1, live.signal);
    expect([added, removed]).toEqual([1, 1]);
  });
});
