/** `${VAR}` and `${VAR:-default}` interpolation of config strings from the environment. */

export interface InterpolationProblem {
  variable: string;
  /** The string that referenced it. */
  text: string;
}

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$\$/g;

/** Replaces ${VAR} / ${VAR:-default} in one string; `$$` is a literal `$`. Unset vars without default are reported. */
export function interpolateString(text: string, env: Record<string, string | undefined>, problems: InterpolationProblem[]): string {
  return text.replace(PATTERN, (match, name: string | undefined, def: string | undefined) => {
    if (match === '$$') return '$';
    const value = env[name!];
    const hasDefault = def !== undefined;
    // ${VAR:-d} uses d when VAR is unset or empty; ${VAR-d} only when unset (as in POSIX shells).
    const colon = match.includes(':-');
    if (value === undefined || (colon && value === '')) {
      if (hasDefault) return def;
      problems.push({ variable: name!, text });
      return '';
    }
    return value;
  });
}

/** Interpolates every string in a parsed config value; each unset variable is reported with its dotted path. */
export function interpolateValue(
  v: unknown,
  env: Record<string, string | undefined>,
  at: string,
  problems: Array<InterpolationProblem & { path: string }>,
): unknown {
  if (typeof v === 'string') {
    const local: InterpolationProblem[] = [];
    const out = interpolateString(v, env, local);
    for (const p of local) problems.push({ ...p, path: at });
    return out;
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolateValue(x, env, `${at}[${i}]`, problems));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = interpolateValue(x, env, at ? `${at}.${k}` : k, problems);
    return out;
  }
  return v;
}
