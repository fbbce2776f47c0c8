/**
 * The result of `mlops compare` and its two renderings: a terminal table and a Markdown report
 * (pull-request comment, $GITHUB_STEP_SUMMARY) with links to both runs. Pure.
 */
import type { BaselineSource } from './baseline.js';
import { printable } from './escape.js';
import { describeTolerance, fmt, pct, type MetricComparison, type NoBaselinePolicy } from './gates.js';

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

/** The Markdown report: heading with the verdict, links to both runs, the table, failures, warnings. */
export function renderMarkdown(result: CompareResult, opts: { title?: string } = {}): string {
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
  if (others.length) {
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
