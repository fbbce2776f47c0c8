/**
 * The config's full reader: parses the text with positions (yaml), interpolates ${VAR}, validates
 * with zod, and turns every problem into a message that names the line, the dotted path, what was
 * expected and what was found. The loader's fast path (load.ts) answers for valid files without it;
 * this reader decides everything else, so every message comes from here.
 */
import path from 'node:path';
import { isMap, LineCounter, parseDocument, visit, type Node } from 'yaml';
import type { Config } from './schema.js';
import { interpolateValue, type InterpolationProblem } from './interpolate.js';
import { positionOf } from './positions.js';
import { MAX_ALIAS_COUNT, MAX_CONFIG_BYTES, tooLarge, withFileHash } from './text.js';
import { validateConfig, type ConfigProblem } from './validate.js';

/**
 * Parses, interpolates and validates config text. Reads nothing: tests call it directly.
 * Interpolation and schema problems are reported together.
 */
export function parseConfigText(
  text: string,
  filepath: string,
  env: Record<string, string | undefined>,
): { config?: Config; problems: ConfigProblem[]; fileHash?: string } {
  if (text.length > MAX_CONFIG_BYTES) return { problems: [{ path: '', message: tooLarge(Buffer.byteLength(text)) }] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    let at = e.pos[0];
    // yaml reports an unclosed quote at the end of the text; the opening quote is the useful place.
    const quote = e.code === 'MISSING_CHAR' ? /closing (["'])/.exec(e.message)?.[1] : undefined;
    if (quote) at = Math.max(0, text.lastIndexOf(quote, at - 1));
    const pos = lineCounter.linePos(at);
    problems.push({ path: '', message: `YAML syntax error: ${firstLine(e.message)}; ${yamlFix(e.code)}`, line: pos.line, column: pos.col });
  }
  if (problems.length) return { problems };

  const isPackageJson = path.basename(filepath) === 'package.json';
  let root: Node | null = doc.contents;
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml refuses an alias "bomb" (aliases of aliases that expand exponentially) while converting.
    let first: Node | undefined;
    visit(doc, {
      Alias(_key, node) {
        first = node;
        return visit.BREAK;
      },
    });
    const pos = first?.range ? lineCounter.linePos(first.range[0]) : { line: 1, col: 1 };
    const what = /alias/i.test((err as Error).message)
      ? `its aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies`
      : `it cannot be read as data (${firstLine((err as Error).message)})`;
    return {
      problems: [
        { path: '', line: pos.line, column: pos.col, message: `YAML error: ${what}; write the values out instead of nesting aliases` },
      ],
    };
  }
  if (isPackageJson) {
    raw = (raw as Record<string, unknown> | null)?.mlops;
    root = isMap(doc.contents) ? ((doc.contents.get('mlops', true) as Node | undefined) ?? null) : null;
  }
  const place = (p: ConfigProblem): ConfigProblem => ({ ...p, ...positionOf(root, p.path, p.at ?? 'value', lineCounter) });

  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    const { problems: shape } = validateConfig(raw);
    return { problems: shape.map((p) => ({ ...p, line: p.line ?? positionOf(root, '', 'value', lineCounter).line ?? 1 })) };
  }

  const interp: Array<InterpolationProblem & { path: string }> = [];
  const value = interpolateValue(raw, env, '', interp);
  for (const p of interp) {
    problems.push(
      place({
        path: p.path,
        message: `environment variable ${p.variable} is not set (referenced as "${p.text}"); set it, or give a default with \${${p.variable}:-value}`,
      }),
    );
  }

  const result = validateConfig(value);
  // A value whose variable is unset is already reported; its empty stand-in would only add noise.
  const unset = new Set(interp.map((p) => p.path));
  for (const p of result.problems) if (!unset.has(p.path)) problems.push(place(p));
  // In file order, so the list reads top to bottom.
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (problems.length) return { problems };
  return withFileHash({ config: result.config, problems }, raw);
}

/** What to do about a YAML syntax error, by the parser's error code. */
function yamlFix(code: string): string {
  switch (code) {
    case 'MISSING_CHAR':
      return 'add the missing closing character';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a setting needs a colon after its key (`key: value`); check this line and the one before';
    case 'BLOCK_AS_IMPLICIT_KEY':
      return 'put a value that contains ": " in quotes';
    case 'DUPLICATE_KEY':
      return 'a key may appear once per mapping: remove or merge one of them';
    case 'BAD_INDENT':
      return 'indent nested settings by the same number of spaces, deeper than their parent key';
    default:
      return 'check indentation, colons and quotes on this line and the one before';
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
