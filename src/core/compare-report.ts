/**
 * The result of `mlops compare` and its two renderings: a terminal table and a Markdown report
 * (pull-request comment, $GITHUB_STEP_SUMMARY) with links to both runs. Pure.
 */
import type { BaselineSource } from './baseline.js';
import { printable } from './escape.js';
import { describeTolerance, fmt, pct, type MetricComparison, type NoBaselinePolicy } from './gates.js';
import { mermaidNumber, mermaidText } from './mermaid.js';

export interface RunRef {
  runId: string;
  experimentId: string;
  runName?: string;
  /** The run in the MLflow UI. */
  url: string;
}

export interface CompareResult {
  /** pass: every gate passed (possibly with warnings); fail: at least one regression. */
  verdict: 'pass' | 'fail';
  candidate: RunRef;
  /** null when there is no baseline yet. */
  baseline: (RunRef & { description: string; source: BaselineSource }) | null;
  /** Set when there is no baseline: the policy applied and why there is none. */
  noBaseline?: { policy: NoBaselinePolicy; reason: string; spec: string };
  gates: MetricComparison[];
  /** Metrics no gate names: shown, never failing. */
  others: MetricComparison[];
  failed: number;
  warnings: string[];
  /** MLflow's compare-runs view of candidate and baseline (when there is a baseline). */
  compareUrl?: string;
}

const VERDICT_TEXT = { pass: 'pass', fail: 'FAIL', warn: 'pass*', info: '' } as const;

/** Optional colouring for the terminal table. */
export type Paint = (style: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string;

function signed(v: number | undefined): string {
  if (v === undefined) return '—';
  const s = fmt(v);
  return v > 0 ? `+${s}` : s;
}

function signedPct(v: number | undefined): string {
  if (v === undefined) return '—';
  const s = pct(v);
  return v > 0 ? `+${s}` : s;
}

function value(v: number | undefined): string {
  return v === undefined ? 'missing' : fmt(v);
}

function runLabel(r: RunRef): string {
  return printable(r.runName ? `${r.runName} (${r.runId})` : r.runId);
}

interface Row {
  cells: string[];
  verdict?: MetricComparison['verdict'];
}

function rows(result: CompareResult): { gated: Row[]; others: Row[] } {
  const gated = result.gates.map((c) => ({
    cells: [
      printable(c.metric),
      result.baseline ? value(c.baseline) : '—',
      value(c.candidate),
      signed(c.delta),
      signedPct(c.relativeDelta),
      c.gate ? describeTolerance(c.gate) : '',
      VERDICT_TEXT[c.verdict],
    ],
    verdict: c.verdict,
  }));
  const others = result.others.map((c) => ({
    cells: [printable(c.metric), value(c.baseline), value(c.candidate), signed(c.delta), signedPct(c.relativeDelta), 'not gated', ''],
  }));
  return { gated, others };
}

const HEADER = ['metric', 'baseline', 'candidate', 'delta', 'rel. delta', 'tolerance', 'verdict'];

/** The terminal table, with a heading and the reasons for each failure underneath. */
export function renderTable(result: CompareResult, paint: Paint = (_s, t) => t): string {
  const { gated, others } = rows(result);
  const all = [HEADER, ...gated.map((r) => r.cells), ...others.map((r) => r.cells)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 1 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  out.push(`candidate: ${runLabel(result.candidate)}`);
  out.push(
    result.baseline
      ? `baseline:  ${result.baseline.description} — ${runLabel(result.baseline)}`
      : `baseline:  none (${result.noBaseline?.reason ?? 'not found'}; policy: ${result.noBaseline?.policy ?? 'pass'})`,
  );
  out.push('');
  out.push(paint('bold', line(HEADER)));
  for (const r of gated) {
    const text = line(r.cells);
    out.push(r.verdict === 'fail' ? paint('red', text) : r.verdict === 'warn' ? paint('yellow', text) : text);
  }
  if (others.length) {
    out.push(
      paint(
        'dim',
        '-'.repeat(
          Math.min(
            100,
            widths.reduce((a, b) => a + b + 2, -2),
          ),
        ),
      ),
    );
    for (const r of others) out.push(paint('dim', line(r.cells)));
  }
  const failures = result.gates.filter((g) => g.verdict === 'fail');
  if (failures.length) {
    out.push('');
    for (const f of failures) out.push(paint('red', `✖ ${printable(f.metric)}: ${f.reasons.join('; ')}`));
  }
  out.push('');
  out.push(
    result.verdict === 'pass'
      ? paint(
          'green',
          `✔ ${result.gates.length} gate${result.gates.length === 1 ? '' : 's'} passed${result.warnings.length ? ' (with warnings)' : ''}`,
        )
      : paint('red', `✖ ${result.failed} of ${result.gates.length} gate${result.gates.length === 1 ? '' : 's'} failed: regression`),
  );
  return out.join('\n');
}

/** Escapes text for a Markdown table cell. */
function md(text: string): string {
  return printable(text)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ')
    .replace(/([<>*_`[\]])/g, '\\$1');
}

/** A metric name as inline code; GitHub needs \\| for a pipe even inside code in a table. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function link(text: string, url: string): string {
  return `[${md(text)}](${url.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\s/g, '%20')})`;
}

const MD_VERDICT = { pass: '✅ pass', fail: '❌ **fail**', warn: '⚠️ pass (no baseline)', info: '' } as const;

/** The values a gate allows the candidate, from its tolerance against the baseline and its floor/ceiling. */
export function allowedRange(c: MetricComparison): { low?: number; high?: number } {
  const g = c.gate;
  if (!g) return {};
  let low = g.min;
  let high = g.max;
  const b = c.baseline;
  if (b !== undefined && Number.isFinite(b)) {
    const slacks: number[] = [];
    if (g.maxRelativeDrop !== undefined) slacks.push(g.maxRelativeDrop * Math.abs(b));
    if (g.maxAbsoluteDrop !== undefined) slacks.push(g.maxAbsoluteDrop);
    if (!slacks.length && g.min === undefined && g.max === undefined) slacks.push(0);
    if (slacks.length) {
      // Both tolerances must hold, so the smaller slack is the limit.
      const worst = g.direction === 'higher' ? b - Math.min(...slacks) : b + Math.min(...slacks);
      if (g.direction === 'higher') low = low === undefined ? worst : Math.max(low, worst);
      else high = high === undefined ? worst : Math.min(high, worst);
    }
  }
  return { low, high };
}

/**
 * A Mermaid xychart of one gated metric: baseline and candidate as bars, the allowed band's edges
 * as lines. undefined when either value is missing or not finite (nothing to draw).
 */
export function renderGateChart(c: MetricComparison): string | undefined {
  const { baseline: b, candidate: v } = c;
  if (b === undefined || v === undefined || !Number.isFinite(b) || !Number.isFinite(v)) return undefined;
  const { low, high } = allowedRange(c);
  const edges = [low, high].filter((x): x is number => x !== undefined && Number.isFinite(x));
  const all = [b, v, ...edges];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || Math.abs(hi) || 1;
  // Padding keeps small differences visible; bars of positive metrics never start below 0.
  const axisMin = lo >= 0 && lo - span / 2 < 0 ? 0 : lo - span / 2;
  const axisMax = hi + span / 4;
  const band = [low !== undefined ? `≥ ${fmt(low)}` : '', high !== undefined ? `≤ ${fmt(high)}` : ''].filter(Boolean).join(', ');
  const lines = [
    'xychart-beta',
    `  title "${mermaidText(`${c.metric} (${c.direction ?? 'higher'} is better${band ? `; allowed ${band}` : ''})`)}"`,
    '  x-axis ["baseline", "candidate"]',
    `  y-axis "${mermaidText(c.metric)}" ${mermaidNumber(axisMin)} --> ${mermaidNumber(axisMax)}`,
    `  bar [${mermaidNumber(b)}, ${mermaidNumber(v)}]`,
  ];
  for (const [edge, word] of [
    [low, 'lowest allowed'],
    [high, 'highest allowed'],
  ] as const) {
    if (edge !== undefined && Number.isFinite(edge)) lines.push(`  line "${word}" [${mermaidNumber(edge)}, ${mermaidNumber(edge)}]`);
  }
  return lines.join('\n');
}

/** The hidden marker that finds this project's sticky comment again (two projects in one repository keep two). */
export function commentMarker(project: string): string {
  return `<!-- mlops:compare project=${encodeURIComponent(project)} -->`;
}

/**
 * The Markdown report: heading with the verdict, links to both runs, the table, failures, charts,
 * warnings. `brief` leaves out the metrics no gate names (for comments, whose size is limited).
 */
export function renderMarkdown(result: CompareResult, opts: { title?: string; brief?: boolean } = {}): string {
  const { gated, others } = rows(result);
  const out: string[] = [];
  const title = opts.title ?? 'mlops compare';
  out.push(
    result.verdict === 'pass'
      ? `### ✅ ${md(title)}: all ${result.gates.length} gate${result.gates.length === 1 ? '' : 's'} passed`
      : `### ❌ ${md(title)}: regression in ${result.failed} of ${result.gates.length} gate${result.gates.length === 1 ? '' : 's'}`,
  );
  out.push('');
  out.push(`- **Candidate:** ${link(runLabel(result.candidate), result.candidate.url)}`);
  if (result.baseline) {
    out.push(`- **Baseline:** ${md(result.baseline.description)}: ${link(runLabel(result.baseline), result.baseline.url)}`);
  } else {
    out.push(
      `- **Baseline:** none — ${md(result.noBaseline?.reason ?? 'not found')} (looked for ${md(result.noBaseline?.spec ?? '?')}; policy: ${result.noBaseline?.policy ?? 'pass'})`,
    );
  }
  if (result.compareUrl) out.push(`- ${link('Compare both runs in MLflow', result.compareUrl)}`);
  out.push('');
  const table = (rs: Row[], withVerdict: boolean) => {
    const head = withVerdict ? HEADER : HEADER.slice(0, 6);
    const lines = [
      `| ${head.map((h) => h[0].toUpperCase() + h.slice(1)).join(' | ')} |`,
      `| ${head.map((_, i) => (i >= 1 && i <= 4 ? '---:' : '---')).join(' | ')} |`,
    ];
    for (const r of rs) {
      const cells = r.cells.slice(0, head.length).map((c, i) => (i === 0 ? code(c) : md(c)));
      if (withVerdict) cells[6] = MD_VERDICT[r.verdict ?? 'info'];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    return lines.join('\n');
  };
  if (gated.length) out.push(table(gated, true));
  else out.push('_No gates configured (compare.gates is empty)._');
  const failures = result.gates.filter((g) => g.verdict === 'fail');
  if (failures.length) {
    out.push('');
    for (const f of failures) out.push(`- ❌ ${code(printable(f.metric))}: ${md(f.reasons.join('; '))}`);
  }
  const charts = result.gates.map(renderGateChart).filter((c): c is string => c !== undefined);
  if (charts.length) {
    out.push('');
    out.push(`<details open><summary>Charts: baseline vs candidate, lines at the edge of what the gate allows</summary>`);
    for (const c of charts) out.push('', '```mermaid', c, '```');
    out.push('', '</details>');
  }
  if (opts.brief && others.length) {
    out.push('', `_${others.length} metric${others.length === 1 ? '' : 's'} no gate names left out here: see the full report in the job._`);
  } else if (others.length) {
    out.push('');
    out.push(`<details><summary>Other metrics (${others.length}, not gated)</summary>`);
    out.push('');
    out.push(table(others, false));
    out.push('');
    out.push('</details>');
  }
  if (result.warnings.length) {
    out.push('');
    for (const w of result.warnings) out.push(`> ⚠️ ${md(w)}`);
  }
  return out.join('\n') + '\n';
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch);
}

/** JUnit XML with one test case per gate (GitLab's artifacts:reports:junit shows it in the merge request). */
export function renderJunit(result: CompareResult, suite: string): string {
  const cases = result.gates.map((c) => {
    const name = `${c.metric} (${c.gate ? describeTolerance(c.gate) : 'gate'})`;
    const numbers = `baseline ${value(c.baseline)}, candidate ${value(c.candidate)}`;
    const open = `    <testcase classname="${xml(suite)}" name="${xml(name)}">`;
    if (c.verdict === 'fail') {
      return `${open}\n      <failure message="${xml(c.reasons.join('; '))}" type="regression">${xml(numbers)}</failure>\n    </testcase>`;
    }
    return `${open}\n      <system-out>${xml([numbers, ...c.reasons].join('\n'))}</system-out>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mlops compare" tests="${result.gates.length}" failures="${result.failed}">`,
    `  <testsuite name="${xml(suite)}" tests="${result.gates.length}" failures="${result.failed}" errors="0" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** A metric name as an OpenMetrics metric name. */
function metricName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[a-zA-Z_:]/.test(s) ? s : `_${s}`;
}

/** Both runs' metrics in OpenMetrics text, for GitLab's artifacts:reports:metrics (the merge request widget diffs them). */
export function renderMetricsReport(result: CompareResult): string {
  const out: string[] = [];
  const num = (v: number) => (Number.isNaN(v) ? 'NaN' : !Number.isFinite(v) ? (v > 0 ? '+Inf' : '-Inf') : String(v));
  for (const c of [...result.gates, ...result.others]) {
    const name = metricName(c.metric);
    if (c.candidate !== undefined) out.push(`${name}{run="candidate"} ${num(c.candidate)}`);
    if (c.baseline !== undefined) out.push(`${name}{run="baseline"} ${num(c.baseline)}`);
  }
  out.push(`mlops_gates_failed ${result.failed}`);
  return out.join('\n') + '\n';
}
