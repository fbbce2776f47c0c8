/** `{{placeholder}}` rendering of the files `mlops init` writes. Pure. */

/**
 * The placeholder syntax: `{{name}}`, no spaces inside. GitHub Actions expressions (`${{ x }}`)
 * always have spaces, so they pass through untouched.
 */
const PLACEHOLDER = /\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g;

/** Replaces every `{{name}}` with vars[name]; an unknown name is a bug in the template and throws. */
export function renderTemplate(text: string, vars: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return v;
  });
}

/** The placeholders a template uses. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** A name usable as a project, experiment, model, bucket and endpoint name: lower-case letters, digits, hyphens. */
export function slugify(s: string): string {
  const slug = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return slug || 'model';
}

/**
 * The lines of `wanted` that `existing` (a .gitignore) lacks, ignoring comments and blank lines.
 * `/x`, `x` and `x/` count as the same entry: close enough that adding another would be noise.
 */
export function missingLines(existing: string, wanted: string): string[] {
  const norm = (l: string) => l.trim().replace(/^\//, '').replace(/\/$/, '');
  const have = new Set(existing.split(/\r?\n/).map(norm));
  return wanted
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !have.has(norm(l)));
}
