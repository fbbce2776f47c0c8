/** Where a dotted config path sits in the YAML text: for problems, and for annotations on a config's lines. */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

type Segment = string | number;

/** The line of each dotted path's key in a config file (for annotations); undefined when the file cannot be read. */
export function configLines(filepath: string, dottedPaths: string[]): (number | undefined)[] {
  let text: string;
  try {
    text = readFileSync(filepath, 'utf8');
  } catch {
    return dottedPaths.map(() => undefined);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return dottedPaths.map((p) => positionOf(doc.contents, p, 'key', lineCounter).line);
}

/**
 * Line and column of a dotted path in the YAML document. `at: 'key'` points at the key (unknown
 * keys, missing values); otherwise at the value. A path that does not exist (a missing key) points
 * at the key of its nearest existing parent.
 */
export function positionOf(
  root: Node | null,
  dottedPath: string,
  at: 'key' | 'value',
  lc: LineCounter,
): { line?: number; column?: number } {
  let node: unknown = root;
  let target: unknown = root;
  const segs = splitPath(dottedPath);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      target = last && at === 'value' && pair.value ? pair.value : pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      target = item;
      node = item;
    } else break;
  }
  const range = (target as { range?: [number, number, number] } | null)?.range;
  if (!range) return {};
  const pos = lc.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

/** Segments from a dotted path. */
export function splitPath(p: string): Segment[] {
  const out: Segment[] = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}
