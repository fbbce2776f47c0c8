/**
 * Progress on long waits: promote over in-memory fakes on a compressed clock, with the reporter
 * in CI mode (lines) and in terminal mode (an ora spinner on a fake TTY stream).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openAuditLog } from '../../src/adapters/audit-log.js';
import { MemoryMetrics } from '../../src/adapters/cloudwatch.js';
import { progressReporter, ProgressReporter, type ProgressOutput } from '../../src/adapters/progress.js';
import { MemorySageMaker } from '../../src/adapters/sagemaker.js';
import { MemoryStore } from '../../src/adapters/s3-store.js';
import { Io, type Stream } from '../../src/cli/io.js';
import { configSchema } from '../../src/config/schema.js';
import { consoleLinks } from '../../src/core/console-links.js';
import type { DeployPorts } from '../../src/core/ports.js';
import { runPromote } from '../../src/core/promote-run.js';

class Sink implements Stream {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  // What ora calls on a TTY stream (tty.WriteStream) to redraw its line.
  cursorTo(): boolean {
    this.text += '\r';
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
}

const deploy = configSchema.parse({
  deploy: {
    endpointName: 'churn-prod',
    executionRoleArn: 'arn:aws:iam::123456789012:role/deploy',
    image: 'img:1',
    artifacts: 's3://models/churn',
    dataCapture: { destination: 's3://capture/churn' },
    state: { uri: 's3://state/deployments' },
    lock: { uri: 's3://state/locks' },
    audit: { uri: 's3://audit/trail' },
    cutover: { type: 'canary', size: 10, wait: '5m' },
  },
}).deploy!;

/** Ports over fakes whose clock only moves when promote sleeps; SageMaker stays busy for `busyPolls` polls. */
function fakes(busyPolls: number, clock: { t: number }): DeployPorts {
  const store = new MemoryStore(() => new Date(clock.t));
  return {
    sagemaker: new MemorySageMaker({ busyPolls }),
    metrics: new MemoryMetrics(),
    store,
    registry: {
      getVersion: async (_n, v) => ({ version: v }),
      getAlias: async () => undefined,
      setAlias: async () => {},
      deleteAlias: async () => {},
      setVersionTag: async () => {},
      versionTags: async () => [],
    },
    packager: {
      package: async (_c, dest) => {
        const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(dest)!;
        await store.putBytes(m[1], m[2], new Uint8Array([1]));
      },
    },
    capture: { read: async function* () {} },
    audit: openAuditLog({
      store,
      location: { bucket: 'audit', prefix: 'trail' },
      endpoint: 'churn-prod',
      retentionDays: 1,
      now: () => new Date(clock.t),
    }),
    clock: { now: () => new Date(clock.t), sleep: async (ms) => void (clock.t += ms) },
    log: () => {},
  };
}

describe('progress without a TTY (CI)', () => {
  it('a 10-minute endpoint creation prints a line at least every minute, on stderr only, on the wait clock', async () => {
    const clock = { t: Date.parse('2026-03-01T00:00:00Z') };
    const start = clock.t;
    const lines: { at: number; text: string }[] = [];
    const out: ProgressOutput = {
      spinnerAllowed: false,
      spinnerMaker: () => Promise.reject(new Error('no spinner without a TTY')),
      info: (text) => lines.push({ at: clock.t, text }),
    };
    const progress = await progressReporter(out, { now: () => clock.t, tickMs: 0 });
    // 5 s polls, 130 polls busy: the new endpoint is Creating for about 11 minutes.
    const ports = { ...fakes(130, clock), progress, log: (m: string) => progress.log(m) };
    const r = await runPromote(
      ports,
      { deploy, registeredModel: 'churn', alias: 'production', actor: 't', waitBudgetMs: 30 * 60_000, pollMs: 5000 },
      { registeredModel: 'churn', version: '1' },
    );
    progress.end();
    expect(r.deployment?.stage).toBe('done');
    const waited = clock.t - start;
    expect(waited).toBeGreaterThanOrEqual(10 * 60_000);

    const waitLines = lines.filter((l) => l.text.includes('endpoint churn-prod'));
    expect(waitLines[0]).toEqual({ at: start, text: '[promote cutover] endpoint churn-prod Creating, new endpoint' });
    expect(waitLines[1].text).toMatch(/^\[promote cutover\] endpoint churn-prod still Creating \(30s\), new endpoint$/);
    expect(waitLines.at(-1)!.text).toMatch(/still Creating \(10m \d\ds\)/);
    // Never a minute of silence from the first line to the end of the wait; and not one line per poll either.
    const times = [...waitLines.map((l) => l.at), clock.t];
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeLessThanOrEqual(60_000);
    expect(waitLines.length).toBeLessThan(130 / 5);
  });

  it('names the bake it waits for and how long is left', () => {
    const clock = { t: 0 };
    const lines: string[] = [];
    const p = new ProgressReporter(
      { spinnerAllowed: false, spinnerMaker: () => Promise.reject(new Error('no')), info: (l) => lines.push(l) },
      undefined,
      {
        now: () => clock.t,
        tickMs: 0,
      },
    );
    for (; clock.t <= 65_000; clock.t += 5000) {
      p.waiting({
        subject: 'v7 on churn-prod',
        status: 'in shadow bake',
        stage: 'promote bake',
        detail: `judged in ${60 - clock.t / 1000}s`,
      });
    }
    p.end();
    expect(lines).toEqual([
      '[promote bake] v7 on churn-prod in shadow bake, judged in 60s',
      '[promote bake] v7 on churn-prod still in shadow bake (30s), judged in 30s',
      '[promote bake] v7 on churn-prod still in shadow bake (1m 00s), judged in 0s',
    ]);
  });
});

describe('a wait that does not poll (sandbox up)', () => {
  afterEach(() => vi.useRealTimers());

  it('gets a line at least every minute from the tick, through log lines, until it ends', () => {
    vi.useFakeTimers({ now: 0 });
    const lines: { at: number; text: string }[] = [];
    const p = new ProgressReporter(
      { spinnerAllowed: false, spinnerMaker: () => Promise.reject(new Error('no')), info: (text) => lines.push({ at: Date.now(), text }) },
      undefined,
    );
    p.begin({ subject: 'MLflow, moto and the SageMaker emulator', status: 'starting', stage: 'sandbox up' });
    vi.advanceTimersByTime(5 * 60_000);
    p.log('MLflow ready');
    vi.advanceTimersByTime(5 * 60_000);
    p.end();
    vi.advanceTimersByTime(5 * 60_000);
    expect(lines[0]).toEqual({ at: 0, text: '[sandbox up] MLflow, moto and the SageMaker emulator starting' });
    expect(lines).toContainEqual({ at: 300_000, text: 'MLflow ready' });
    expect(lines.at(-1)).toEqual({ at: 600_000, text: '[sandbox up] MLflow, moto and the SageMaker emulator still starting (10m 00s)' });
    const times = [...lines.map((l) => l.at), 600_000];
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeLessThanOrEqual(60_000);
  });

  it('a polled wait ends when its poller logs: no stale status after it', () => {
    vi.useFakeTimers({ now: 0 });
    const lines: string[] = [];
    const p = new ProgressReporter(
      { spinnerAllowed: false, spinnerMaker: () => Promise.reject(new Error('no')), info: (t) => lines.push(t) },
      undefined,
    );
    p.waiting({ subject: 'endpoint e', status: 'Updating' });
    p.log('endpoint e is InService');
    vi.advanceTimersByTime(5 * 60_000);
    p.end();
    expect(lines).toEqual(['endpoint e Updating', 'endpoint e is InService']);
  });
});

describe('progress on a terminal', () => {
  it('an ora spinner on stderr whose text follows the stage, the status and the elapsed time', async () => {
    const clock = { t: 0 };
    const stderr = new Sink(true);
    const stdout = new Sink(true);
    const io = new Io({ stdout, stderr, env: {} });
    const p = await progressReporter(io, { now: () => clock.t, tickMs: 0 });
    const wait = (status: string) => p.waiting({ subject: 'endpoint churn-prod', status, stage: 'promote cutover', detail: 'canary 10%' });
    wait('Updating');
    clock.t = 72_000;
    wait('Updating');
    expect(stderr.text).toContain('[promote cutover] endpoint churn-prod Updating (0s), canary 10%');
    expect(stderr.text).toContain('[promote cutover] endpoint churn-prod Updating (1m 12s), canary 10%');
    clock.t = 200_000;
    wait('RollingBack');
    clock.t = 230_000;
    wait('RollingBack');
    expect(stderr.text).toContain('endpoint churn-prod RollingBack (30s)');
    p.log('alarm fired');
    p.end();
    expect(stderr.text).toContain('alarm fired\n');
    expect(stdout.text).toBe('');
  });

  it('--quiet shows nothing; --json no spinner, only plain lines on stderr', async () => {
    for (const o of [{ quiet: true }, { json: true }]) {
      const stderr = new Sink(true);
      const stdout = new Sink(true);
      const io = new Io({ stdout, stderr, env: {}, ...o });
      const p = await progressReporter(io, { now: () => 0, tickMs: 0 });
      p.waiting({ subject: 'endpoint e', status: 'Updating' });
      p.end();
      expect(stderr.text, JSON.stringify(o)).toBe(o.json ? 'endpoint e Updating\n' : '');
      expect(stdout.text).toBe('');
    }
  });
});

describe('console links', () => {
  it('point at the region, in its partition', () => {
    expect(consoleLinks('eu-west-1', 'churn-prod')).toEqual({
      sagemaker: 'https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/endpoints/churn-prod',
      alarms: "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:?~(search~'churn-prod)",
    });
    expect(consoleLinks('cn-north-1', 'e').sagemaker).toMatch(
      /^https:\/\/cn-north-1\.console\.amazonaws\.cn\/sagemaker\/home\?region=cn-north-1#/,
    );
    expect(consoleLinks('us-gov-west-1', 'e').alarms).toMatch(
      /^https:\/\/console\.amazonaws-us-gov\.com\/cloudwatch\/home\?region=us-gov-west-1#/,
    );
  });
});
