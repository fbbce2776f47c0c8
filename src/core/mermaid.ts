/** What Mermaid's xychart grammar takes, for the reports' charts (GitHub and GitLab render them). Pure. */

/** A number as Mermaid's xychart grammar takes it: plain decimal, never exponent notation. */
export function mermaidNumber(v: number): string {
  const s = String(Number(v.toPrecision(8)));
  if (!/e/i.test(s)) return s;
  return v.toFixed(20).replace(/\.?0+$/, '');
}

/**
 * Text inside a Mermaid quoted string: no double quotes, no line breaks, and no backticks (a
 * fence of them would end the Markdown code block the chart sits in).
 */
export function mermaidText(text: string): string {
  return text.replace(/["`\r\n]/g, (ch) => (ch === '\r' || ch === '\n' ? ' ' : "'"));
}
