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
