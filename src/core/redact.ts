/** Redaction of secrets from anything mlops prints, writes or reports. Pure. */

export const REDACTED = '***';

/** Words that make a key a secret wherever they appear in it (MLFLOW_TRACKING_TOKEN, dbPassword). */
const SECRET_WORDS = new Set([
  'token',
  'secret',
  'secrets',
  'password',
  'passwd',
  'passphrase',
  'credential',
  'credentials',
  'apikey',
  'authorization',
]);

/**
 * The words of a key: split at `_`, `-`, `.`, spaces and camelCase humps, lower-cased.
 * "AWS_SECRET_ACCESS_KEY" -> aws secret access key; "apiKey" -> api key; "registeredModel" -> registered model.
 */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_.-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/**
 * Whether a key names a secret: it contains a word such as token, secret or password, or its last
 * word is "key" (apiKey, secretKey, ssh_key, key). Whole words only, so `monkey`, `tokenizer`,
 * `maxTokens` and `registeredModel` are not secrets, and neither is AWS_ACCESS_KEY_ID (an id).
 */
export function isSecretKey(key: string): boolean {
  const w = words(key);
  if (w.some((x) => SECRET_WORDS.has(x))) return true;
  return w[w.length - 1] === 'key';
}

/** Deep copy of a value with every secret-named key's value replaced by ***. */
export function redactObject<T>(value: T): T {
  if (Array.isArray(value)) return (value as unknown[]).map((v) => redactObject(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactObject(v);
    }
    return out as T;
  }
  return value;
}

const NOT_SECRETS = new Set(['true', 'false', 'yes', 'no', 'null', 'none', 'undefined', 'enabled', 'disabled', 'off']);

/** Replaces known secret values, and credential-shaped text, in a string. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] | undefined;

  /** Registers a literal secret (e.g. an MLflow token) to be masked wherever it appears. */
  add(secret: string | undefined | null): void {
    // Very short values, flags and small numbers would mask ordinary text (and break JSON output:
    // SOME_TOKEN=true would turn every `true` into ***); they are not real secrets anyway.
    if (!secret || secret.length < 4 || NOT_SECRETS.has(secret.toLowerCase()) || /^\d{1,7}$/.test(secret)) return;
    // Also the forms it takes inside JSON output and URLs.
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) this.secrets.add(form);
    this.sorted = undefined;
  }

  /** Registers every secret-named string value of an environment or config object (deeply). */
  addFromObject(obj: Record<string, unknown> | undefined): void {
    if (!obj) return;
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v === 'string' && isSecretKey(k)) {
        this.add(v);
      } else if (Array.isArray(v) && isSecretKey(k)) {
        for (const x of v) if (typeof x === 'string') this.add(x);
      } else if (v && typeof v === 'object') {
        this.addFromObject(v as Record<string, unknown>);
      }
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length);
    for (const s of this.sorted) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out
      .replace(/(Authorization:\s*(?:Bearer|Basic)\s+)[^\s"',]+/gi, `$1${REDACTED}`)
      .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED)
      .replace(/(\/\/[^/\s:@]+:)[^@\s/]+@/g, `$1${REDACTED}@`);
  }
}
