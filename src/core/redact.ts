/** Redaction of secrets from anything mlops prints, writes or reports. Pure. */

/** A config or env key whose value is a secret. */
const SECRET_KEY = /(token|secret|password|passwd|apikey|api_key|access[_-]?key|private[_-]?key|credential|(^|[_.-])key$)/i;

export const REDACTED = '***';

/** Whether a key names a secret (token, secret, password, key...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Deep copy of a value with every secret-named key's value replaced by ***. */
export function redactObject<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactObject(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactObject(v);
    }
    return out as T;
  }
  return value;
}

/** Replaces known secret values, and credential-shaped text, in a string. */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a literal secret (e.g. an MLflow token) to be masked wherever it appears. */
  add(secret: string | undefined | null): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  /** Registers every secret-named value of an environment or config object. */
  addFromObject(obj: Record<string, unknown> | undefined): void {
    if (!obj) return;
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v === 'string' && isSecretKey(k)) this.add(v);
      else if (v && typeof v === 'object') this.addFromObject(v as Record<string, unknown>);
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
    return out
      .replace(/(Authorization:\s*(?:Bearer|Basic)\s+)\S+/gi, `$1${REDACTED}`)
      .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED)
      .replace(/(\/\/[^/\s:@]+:)[^@\s/]+@/g, `$1${REDACTED}@`);
  }
}
