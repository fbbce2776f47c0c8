/**
 * Text from outside (metric and feature names from MLflow or capture data, a lock holder read
 * from S3) is made printable before it reaches a table or a message: a newline would forge a table
 * row, an escape sequence would drive the terminal, a bidi override would reorder what is shown.
 * Pure.
 */

// C0 controls, DEL, C1 controls, and the Unicode format characters that reorder or hide text.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The text with every control or invisible formatting character written as a visible escape (\n, \x1b, \u202e). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** printable() line by line: a message may span lines, so its line breaks stay. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/** Text for one cell of a Markdown table: printable, with pipes and backslashes escaped. */
export function markdownCell(text: string): string {
  return printable(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}
