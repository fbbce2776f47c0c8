/**
 * The monitoring of one window (`mlops monitor`): scan the capture, judge drift against the
 * baseline profile, publish it, keep the consecutive-drift count, audit the verdict and roll back
 * when the guards say so. Every outside effect goes through MonitorPorts (src/core/ports.ts).
 */
import { constraintViolations, evaluateDrift, LiveSummary, type DriftOptions, type DriftReport } from './drift/evaluate.js';
import { driftMetrics, driftScore, DRIFT_NAMESPACE } from './drift/metrics.js';
import type { ScanStats } from './drift/scan.js';
import { advanceState, afterRollback, evaluatedBefore, initialState, rollbackDue } from './drift/windows.js';
import type { MonitorPorts } from './ports.js';

export interface MonitorInput {
  endpoint: string;
  variant: string;
  /** Filter records by inferenceTime; undefined keeps every record (local files without a window). */
  window?: { from: number; to: number };
  drift: Partial<DriftOptions>;
  sketchK: number;
  consecutiveWindows: number;
  rollback: boolean;
  publish: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
}

export interface MonitorOutcome {
  ok: boolean;
  status: DriftReport['dataset']['status'];
  endpoint: string;
  variant: string;
  window?: { from: string; to: string };
  baseline: string;
  capture: { source: string; files: number; bytes: number } & ScanStats;
  recordsPerSecond: number;
  elapsedMs: number;
  dataset: DriftReport['dataset'];
  driftScore: number | null;
  features: DriftReport['features'];
  consecutive: number;
  consecutiveWindows: number;
  /** When an overlapping window was judged before (then this one did not change the count). */
  evaluatedBefore?: string;
  rollback: { due: boolean; performed: boolean; detail: string };
  metrics: { namespace: string; published: number };
  violations: ReturnType<typeof constraintViolations>;
}

/** The monitoring of one window, with every outside effect behind a port. */
export async function monitorWindow(input: MonitorInput, ports: MonitorPorts, log?: { debug(msg: string): void }): Promise<MonitorOutcome> {
  const { profile, source } = await ports.baseline();
  const live = new LiveSummary(profile);
  const t0 = performance.now();
  const cap = await ports.scan(live, {
    window: input.window,
    signal: input.signal,
    onProgress: (n) => log?.debug(`… ${n.toLocaleString('en-US')} records`),
  });
  const scan = cap.stats;
  const report = evaluateDrift(live, input.drift);
  const elapsedMs = performance.now() - t0;
  const now = ports.now();

  let published = 0;
  if (input.publish && !input.dryRun && ports.metrics) {
    const data = driftMetrics(report, input.endpoint, input.variant).map((d) => ({ ...d, timestamp: now }));
    await ports.metrics.putMetricData(DRIFT_NAMESPACE, data);
    published = data.length;
  }

  const prev = (await ports.state.read()) ?? initialState(input.endpoint, input.variant, now);
  const judged = input.window
    ? { from: new Date(input.window.from).toISOString(), to: new Date(input.window.to).toISOString() }
    : undefined;
  const before = evaluatedBefore(prev, judged);
  let state = advanceState(prev, report.dataset, now, judged);
  const due = rollbackDue(state, report.dataset, input.consecutiveWindows);
  const window = input.window
    ? { from: new Date(input.window.from).toISOString(), to: new Date(input.window.to).toISOString() }
    : undefined;
  const score = report.dataset.status === 'insufficient-data' ? null : driftScore(report);
  if (!input.dryRun) {
    await ports.audit?.({
      kind: 'gate',
      action: `monitor.${report.dataset.status}`,
      details: {
        variant: input.variant,
        window: window ?? null,
        baseline: source,
        verdict: report.dataset,
        driftScore: score,
        drifted: report.features
          .filter((f) => f.status === 'drift')
          .map((f) => ({ name: f.name, method: f.method, value: f.value, threshold: f.threshold })),
        consecutive: state.consecutive,
        consecutiveWindows: input.consecutiveWindows,
        rollbackDue: due,
      },
    });
  }
  let rollback = { due, performed: false, detail: '' };
  if (due && !input.rollback) rollback.detail = 'rollback due but disabled (--no-rollback or monitor.rollback: false)';
  else if (due && input.dryRun) rollback.detail = 'rollback due; --dry-run: not performed';
  else if (due) {
    const reason = `drift in ${state.consecutive} consecutive windows: ${report.dataset.reasons.join('; ')}`;
    const r = await ports.rollback({ endpoint: input.endpoint, variant: input.variant, reason, dryRun: false });
    rollback = { due, performed: r.performed, detail: r.detail };
    if (r.performed) state = afterRollback(state);
  } else if (before) {
    rollback.detail = `this window was judged before (at ${before.at}, ${before.status}): the count of distinct drifting windows stays ${state.consecutive} of ${input.consecutiveWindows}`;
  } else if (report.dataset.status === 'drift') {
    rollback.detail = `drifting window ${state.consecutive} of ${input.consecutiveWindows} before rollback`;
  }
  if (!input.dryRun) await ports.state.write(state);

  return {
    ok: report.dataset.status !== 'drift',
    status: report.dataset.status,
    endpoint: input.endpoint,
    variant: input.variant,
    ...(window ? { window } : {}),
    baseline: source,
    capture: { source: cap.describe, files: cap.files, bytes: cap.bytes, ...scan },
    recordsPerSecond: Math.round(scan.lines / Math.max(elapsedMs / 1000, 1e-6)),
    elapsedMs: Math.round(elapsedMs),
    dataset: report.dataset,
    driftScore: score,
    features: report.features,
    consecutive: state.consecutive,
    consecutiveWindows: input.consecutiveWindows,
    ...(before ? { evaluatedBefore: before.at } : {}),
    rollback,
    metrics: { namespace: DRIFT_NAMESPACE, published },
    violations: constraintViolations(report),
  };
}
