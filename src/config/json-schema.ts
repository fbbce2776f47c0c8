/**
 * Everything generated from the zod schema: the JSON Schema for editors (schema/), the README's
 * configuration reference, and the list of leaf paths that mlops.config.example.yaml must cover.
 * `scripts/generate-json-schema.mjs` writes the files; test/unit/config-schema.test.ts fails when
 * a committed copy is stale. One code path for both.
 */
import * as z from 'zod';
import { configSchema } from './schema.js';

export const JSON_SCHEMA_FILE = 'schema/mlops.config.schema.json';
export const README_START = '<!-- config-reference:start -->';
export const README_END = '<!-- config-reference:end -->';

/** A JSON Schema node, as far as this file reads it. */
export interface JsonNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  properties?: Record<string, JsonNode>;
  required?: string[];
  additionalProperties?: boolean | JsonNode;
  items?: JsonNode;
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
  [k: string]: unknown;
}

/** The JSON Schema of the config file (input shape: fields with defaults are optional). */
export function configJsonSchema(): JsonNode {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as JsonNode;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'mlops configuration (mlops.config.yaml)',
    description:
      'Generated from src/config/schema.ts by `npm run schema`; do not edit. Relative paths in the config resolve against the folder of the config file.',
    ...rest,
  };
}

/** The committed text of the JSON Schema file. */
export function jsonSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}

export interface FieldRow {
  /** Dotted path: `compare.gates[].metric`, `monitor.features.<name>.method`. */
  path: string;
  type: string;
  default?: string;
  required: boolean;
  description: string;
}

const isDuration = (n: JsonNode) =>
  (n.anyOf ?? []).length === 2 &&
  n.anyOf!.some((o) => o.type === 'number') &&
  n.anyOf!.some((o) => typeof o.pattern === 'string' && o.pattern.includes('ms|s|m|h|d'));

const branches = (n: JsonNode): JsonNode[] => n.anyOf ?? n.oneOf ?? [];
const objectBranches = (n: JsonNode) => branches(n).filter((b) => b.properties);

function typeOf(n: JsonNode): string {
  if (isDuration(n)) return 'duration';
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.enum) return n.enum.map((v) => JSON.stringify(v)).join(' | ');
  const alts = branches(n);
  if (alts.length) {
    if (alts.every((b) => b.properties)) return `one of: ${alts.map((b) => `{${Object.keys(b.properties!).join(', ')}}`).join(' | ')}`;
    return alts.map(typeOf).join(' | ');
  }
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'any'}`;
  if (n.type === 'object') {
    if (n.properties) return 'mapping';
    if (n.additionalProperties && typeof n.additionalProperties === 'object') return `mapping of name → ${typeOf(n.additionalProperties)}`;
    return 'mapping';
  }
  if (n.type === 'string' && n.format === 'uri') return 'URL';
  if (n.type === 'string' && n.pattern?.startsWith('^s3:')) return 's3:// URI';
  return Array.isArray(n.type) ? n.type.join(' | ') : (n.type ?? 'any');
}

function showDefault(n: JsonNode): string | undefined {
  if (n.default === undefined) return undefined;
  // A section's default is the defaults of its fields, shown on their rows; a union's is shown whole.
  if (n.default !== null && typeof n.default === 'object' && !Array.isArray(n.default) && !branches(n).length) {
    return Object.keys(n.default).length ? undefined : '{}';
  }
  return JSON.stringify(n.default);
}

/** Every field of the schema, parents before children, in schema order. */
export function fieldRows(schema: JsonNode = configJsonSchema()): FieldRow[] {
  const rows: FieldRow[] = [];
  const byPath = new Map<string, FieldRow>();
  const add = (row: FieldRow) => {
    const prev = byPath.get(row.path);
    if (!prev) {
      byPath.set(row.path, row);
      rows.push(row);
      return;
    }
    // The same key in several alternatives (e.g. deploy.cutover.type): one row, types merged.
    if (!prev.type.split(' | ').includes(row.type)) prev.type = `${prev.type} | ${row.type}`;
    prev.default ??= row.default;
  };
  const children = (owner: JsonNode, at: string, required: (key: string) => boolean) => {
    for (const [key, child] of Object.entries(owner.properties ?? {})) visit(child, at ? `${at}.${key}` : key, required(key));
  };
  const visit = (node: JsonNode, at: string, required: boolean) => {
    if (at) add({ path: at, type: typeOf(node), default: showDefault(node), required, description: node.description ?? '' });
    children(node, at, (k) => (node.required ?? []).includes(k));
    const alts = objectBranches(node);
    // A field of an alternative is required only when every alternative requires it.
    for (const b of alts) children(b, at, (k) => alts.every((o) => (o.required ?? []).includes(k)));
    if (node.type === 'array' && node.items) {
      children(node.items, `${at}[]`, (k) => (node.items!.required ?? []).includes(k));
    }
    if (!node.properties && typeof node.additionalProperties === 'object') {
      const value = node.additionalProperties;
      children(value, `${at}.<name>`, (k) => (value.required ?? []).includes(k));
    }
  };
  visit(schema, '', false);
  return rows;
}

/** Paths of the fields that hold values (not sections): what the example file must show. */
export function leafPaths(schema: JsonNode = configJsonSchema()): string[] {
  const rows = fieldRows(schema);
  return rows.filter((r) => !rows.some((o) => o.path.startsWith(`${r.path}.`) || o.path.startsWith(`${r.path}[]`))).map((r) => r.path);
}

const cell = (s: string) => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

/** The README's configuration reference (the text between the markers). */
export function renderReference(rows: FieldRow[] = fieldRows()): string {
  const lines = [
    '',
    '<!-- Generated from src/config/schema.ts by `npm run schema`; edit the schema, not this table. -->',
    '',
    'Every field of `mlops.config.yaml` (also `.mlopsrc`, `.mlopsrc.yaml|.yml|.json`, or an `mlops` key in `package.json`).',
    'Types: *duration* is seconds as a number or a string like `90s`, `15m`, `24h`, `7d`. Strings may use `${VAR}` and',
    '`${VAR:-default}` from the environment. Relative paths resolve against the folder of the config file.',
    `Editors can validate against [\`${JSON_SCHEMA_FILE}\`](${JSON_SCHEMA_FILE}); \`mlops.config.example.yaml\` shows every field.`,
    '',
    '| Field | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| \`${r.path}\` | ${cell(r.type)} | ${r.required ? '**required**' : r.default !== undefined ? `\`${cell(r.default)}\`` : ''} | ${cell(r.description)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Replaces only the text between the two markers; throws when they are missing. */
export function replaceBetweenMarkers(text: string, content: string, start = README_START, end = README_END): string {
  const i = text.indexOf(start);
  const j = text.indexOf(end, i + start.length);
  if (i === -1 || j === -1) throw new Error(`markers ${start} ... ${end} not found`);
  return text.slice(0, i + start.length) + content + text.slice(j);
}
