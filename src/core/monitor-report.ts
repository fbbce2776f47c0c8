/** How a monitor window's outcome reads: the text table for stdout and the Markdown report. */
import { METHOD_LABEL, type FeatureDrift } from './drift/evaluate.js';
import { markdownCell, printable } from './escape.js';
import { mermaidNumber, mermaidText } from './mermaid.js';
import type { MonitorOutcome } from './monitor.js';

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2)) : '-');

function rows(o: MonitorOutcome): string[][] {
  return o.features.map((f) => [
    printable(f.name),
    f.role,
    f.kind,
    f.method,
    fmt(f.value),
    (f.method === 'chi2' ? '< ' : '> ') + f.threshold,
    String(f.liveCount),
    f.status + (f.critical ? ' (critical)' : ''),
  ]);
}
const HEAD = ['feature', 'role', 'kind', 'method', 'value', 'drift if', 'live n', 'status'];

/** ", 3 unreadable (2 extra columns, 1 not JSON)" for the record counts, or "". */
function badLines(o: MonitorOutcome): string {
  if (!o.capture.bad) return '';
  const reasons = Object.entries(o.capture.badReasons ?? {}).map(([reason, n]) => `${n} ${reason}`);
  return `, ${o.capture.bad} unreadable${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
}

function verdictLine(o: MonitorOutcome): string {
  const d = o.dataset;
  if (d.status === 'insufficient-data') return `Insufficient data: ${d.reasons.join('; ')}.`;
  if (d.status === 'no-drift')
    return `No drift: ${d.driftedInputs.length} of ${d.inputFeatures} input features drifted (threshold ${(d.driftedShareThreshold * 100).toFixed(0)}%), no output drift.`;
  return `DRIFT: ${d.reasons.join('; ')}.`;
}

/** The plain-text table for stdout. */
export function renderText(o: MonitorOutcome): string {
  const table = [HEAD, ...rows(o)];
  const widths = HEAD.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [
    `Drift of ${o.endpoint}/${o.variant}${o.window ? ` from ${o.window.from} to ${o.window.to}` : ''} against ${printable(o.baseline)}`,
    `${o.capture.records.toLocaleString('en-US')} records (${o.dataset.samples.toLocaleString('en-US')} rows) from ${o.capture.files} file(s)${badLines(o)}${o.capture.outsideWindow ? `, ${o.capture.outsideWindow} outside the window` : ''}`,
    '',
    line(HEAD),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows(o).map(line),
    '',
    verdictLine(o),
  ];
  if (o.dataset.status === 'drift' || o.evaluatedBefore)
    // After a rollback the count starts again at 0: say what happened rather than "0 (rollback after N)".
    out.push(
      (o.rollback.performed
        ? `Drifting in ${o.consecutiveWindows} consecutive window(s): rolled back. ${o.rollback.detail}`
        : `Consecutive drifting windows: ${o.consecutive} (rollback after ${o.consecutiveWindows}). ${o.rollback.detail}`
      ).trim(),
    );
  return out.join('\n');
}

/** At most this many distribution charts in a report: the worst drift first, the rest are named. */
export const MAX_DISTRIBUTION_CHARTS = 10;

/**
 * How far past its threshold a feature is (1 at the threshold), so that features judged by
 * different methods sort together; chi2 drifts as its p-value falls.
 */
function severity(f: FeatureDrift): number {
  if (f.method === 'chi2') return f.value > 0 ? f.threshold / f.value : Number.POSITIVE_INFINITY;
  return f.threshold > 0 ? f.value / f.threshold : f.value;
}

const edge = (x: number) => String(Number(x.toPrecision(3)));

/**
 * A Mermaid xychart of one numeric feature: the share of baseline rows (bars) and of live rows
 * (line) in each of the baseline's decile bins. undefined when the feature has no bins.
 */
export function renderDistributionChart(f: FeatureDrift): string | undefined {
  const b = f.bins;
  if (!b || b.baseline.length < 2 || b.live.length !== b.baseline.length) return undefined;
  const last = b.baseline.length - 1;
  const labels = b.baseline.map((_, i) =>
    i === 0 ? `≤ ${edge(b.edges[0])}` : i === last ? `> ${edge(b.edges[i - 1])}` : `${edge(b.edges[i - 1])} to ${edge(b.edges[i])}`,
  );
  const percent = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 10);
  const base = percent(b.baseline);
  const live = percent(b.live);
  const top = Math.min(100, Math.ceil(Math.max(...base, ...live) * 1.1) || 1);
  const series = (xs: number[]) => `[${xs.map(mermaidNumber).join(', ')}]`;
  return [
    'xychart-beta',
    `  title "${mermaidText(`${printable(f.name)}: ${f.method} ${fmt(f.value)} (drift if ${f.method === 'chi2' ? '<' : '>'} ${f.threshold})`)}"`,
    `  x-axis [${labels.map((l) => `"${mermaidText(l)}"`).join(', ')}]`,
    `  y-axis "% of rows" 0 --> ${top}`,
    `  bar "baseline" ${series(base)}`,
    `  line "live" ${series(live)}`,
  ].join('\n');
}

/** The Markdown section of distribution charts: drifted features with bins, worst first; [] when there are none. */
function distributionSection(o: MonitorOutcome): string[] {
  const charts = o.features
    .filter((f) => f.status === 'drift')
    .sort((a, b) => severity(b) - severity(a))
    .flatMap((f) => {
      const chart = renderDistributionChart(f);
      return chart ? [{ name: f.name, chart }] : [];
    });
  if (!charts.length) return [];
  const out = [
    '',
    `<details open><summary>Drifted features, worst first: share of rows in each of the baseline's decile bins (bars: baseline, line: live)</summary>`,
  ];
  for (const { chart } of charts.slice(0, MAX_DISTRIBUTION_CHARTS)) out.push('', '```mermaid', chart, '```');
  const rest = charts.slice(MAX_DISTRIBUTION_CHARTS);
  if (rest.length) out.push('', `_Not charted (${rest.length} more): ${rest.map((c) => markdownCell(c.name)).join(', ')}._`);
  out.push('', '</details>');
  return out;
}

/** The Markdown report (file and step summary). */
export function renderMarkdown(o: MonitorOutcome): string {
  const esc = markdownCell;
  const icon = o.status === 'drift' ? '🔴' : o.status === 'no-drift' ? '🟢' : '⚪';
  const lines = [
    `## ${icon} Drift: ${o.endpoint} / ${o.variant}`,
    '',
    verdictLine(o),
    '',
    `- Window: ${o.window ? `${o.window.from} → ${o.window.to}` : 'all records in the capture files'}`,
    `- Baseline: ${esc(o.baseline)}`,
    `- Records: ${o.capture.records} (${o.dataset.samples} rows; minimum ${o.dataset.minSamples})${badLines(o)}`,
    `- Drift score (CloudWatch ${o.metrics.namespace}/DriftScore): ${o.driftScore === null ? 'not published (insufficient data)' : o.driftScore.toFixed(4)}`,
    `- Consecutive drifting windows: ${o.consecutive} of ${o.consecutiveWindows}${o.rollback.detail ? ` — ${esc(o.rollback.detail)}` : ''}`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map(() => '---').join(' | ')} |`,
    ...rows(o).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    `Methods: ${[...new Set(o.features.map((f) => f.method))].map((m) => `${m} = ${METHOD_LABEL[m]}`).join('; ')}.`,
    ...distributionSection(o),
  ];
  return lines.join('\n') + '\n';
}
