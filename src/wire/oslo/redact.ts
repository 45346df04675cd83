/**
 * Secrets never leave the decoder: oslo.messaging flattens the request context into
 * `_context_*` keys (`_context_auth_token` carries the Keystone token), nova passes
 * `admin_password` in build arguments, transport URLs carry broker passwords, and failure
 * messages quote whatever the server raised on (`password=…`, `Authorization: Bearer …`, a PEM
 * private key in a config error). Everything an output writes (report and spec JSON, the store
 * and its Parquet export, OTLP attributes, metric labels) comes from records redacted here.
 *
 * Two rules:
 * - a key is secret when, lower-cased and with its separators (`-`, `_`, `.`, space) removed, it
 *   names a password, token, secret, credential, API/access/private key, authorization or cookie
 *   (`X-Auth-Token`, `api-key`, `ApiKey`, `private_key`, `db.passwd` alike);
 * - inside any string, values that look like secrets are masked wherever they stand: HTTP
 *   credentials (`Bearer …`, `Basic …`), `key=value` / `key: value` pairs with a secret key, PEM
 *   private key blocks, and the password of URL userinfo (`scheme://user:pass@host`).
 *
 * Context keys and their verdicts repeat in every message and are memoised; strings go through a
 * one-pass character pre-check so the usual id, name and timestamp values cost one regex test.
 */
import { redactUrl } from '../../util/url.ts';

export const REDACTED = '***';

/** What a normalised key (lower case, no separators) contains when its value is a secret. */
const SECRET_KEY_WORD =
  /pass|pwd|token|secret|credential|apikey|accesskey|privatekey|authorization|cookie|sessionid|signature/;
/** Separators ignored when comparing keys: `api-key`, `api_key`, `api.key`, `api key`, `apikey`. */
const KEY_SEPARATORS = /[-_.\s]/g;

/** Context and argument keys repeat in every message: remember the verdict per key. */
const verdicts = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let v = verdicts.get(key);
  if (v === undefined) {
    v = SECRET_KEY_WORD.test(key.toLowerCase().replace(KEY_SEPARATORS, ''));
    if (verdicts.size < 10_000) verdicts.set(key, v);
  }
  return v;
}

/**
 * Characters without which no value pattern can match: whitespace (`Bearer x`), `=` and `:`
 * (`password=x`, `password: x`, URLs) and `@` (userinfo). A PEM block has spaces. Ids, names and
 * most words have none of them, so they are returned after this one test.
 */
const MAYBE_SECRET_CHAR = /[\s=:@]/;
/** Second pre-check: a word or shape some pattern below needs. */
const MAYBE_SECRET =
  /bearer|basic|pass|pwd|token|secret|credential|api[-_.\s]?key|access[-_.\s]?key|authorization|cookie|session|signature|private key|:\/\/[^\s/@]*@/i;

/** `Bearer <token>` / `Basic <base64>` (RFC 6750, RFC 7617), as in an Authorization header. */
const HTTP_CREDENTIALS = /\b(Bearer|Basic|Digest|Negotiate)(\s+)(?!\*\*\*)[A-Za-z0-9._~+/=-]{6,}/gi;
/** A PEM private key block (any type), possibly cut off by a message length limit. */
const PEM_PRIVATE_KEY =
  /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
/**
 * `key=value`, `key: value`, `"key": "value"` with a secret key: the key may carry prefixes and
 * separators (`admin_password`, `X-Auth-Token`, `OS_PASSWORD`); the value is a quoted string or a
 * run up to whitespace or a delimiter. `pass` must end the word (`passed: 3` is not a secret).
 */
const KEY_VALUE =
  /(?<![A-Za-z0-9])([A-Za-z0-9_.-]*?(?:pass(?:word|wd|phrase)?|pwd|token|secret|credentials?|api[-_.]?key|access[-_.]?key|private[-_.]?key|authorization|cookie|session[-_.]?id|signature)s?["']?)(?![A-Za-z0-9])(\s*[:=]\s*)(?!\*\*\*|(?:Bearer|Basic|Digest|Negotiate)\s)("[^"]*"|'[^']*'|[^\s,;&)}\]"']+)/gi;
/** A URL with a scheme, for userinfo and token-like query parameters. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

function maskQuoted(v: string): string {
  const q = v[0];
  return q === '"' || q === "'" ? `${q}${REDACTED}${q}` : REDACTED;
}

/** Masks secrets inside a free-text string (see the module comment for what counts). */
export function redactString(s: string): string {
  if (!MAYBE_SECRET_CHAR.test(s) || !MAYBE_SECRET.test(s)) return s;
  let out = s;
  if (out.includes('PRIVATE KEY-----'))
    out = out.replace(PEM_PRIVATE_KEY, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----${REDACTED}`);
  if (out.includes('://')) out = out.replace(URL_IN_TEXT, (url) => redactUrl(url));
  out = out.replace(HTTP_CREDENTIALS, `$1$2${REDACTED}`);
  out = out.replace(KEY_VALUE, (_m, k: string, sep: string, v: string) => `${k}${sep}${maskQuoted(v)}`);
  return out;
}

/** Deep copy of a JSON value with secret keys masked and secrets in strings removed. */
export function redactValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return redactString(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth > 32) return REDACTED;
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = isSecretKey(k) && x !== null && x !== '' ? REDACTED : redactValue(x, depth + 1);
  }
  return out;
}

/**
 * Per message key: its context name and whether it is secret, or null for non-context keys.
 * Keys repeat in every message and JSON.parse hands them out internalized, so this lookup is
 * cheaper than the prefix test, the slice and the secret-key lookup it replaces.
 */
const contextKeys = new Map<string, { name: string; secret: boolean } | null>();

export function contextKey(k: string): { name: string; secret: boolean } | null {
  let v = contextKeys.get(k);
  if (v === undefined) {
    v = k.startsWith('_context_') ? { name: k.slice(9), secret: isSecretKey(k.slice(9)) } : null;
    if (contextKeys.size < 10_000) contextKeys.set(k, v);
  }
  return v;
}

/** A context value as it leaves the decoder: secret keys masked, secrets in strings removed. */
export function contextValue(secret: boolean, x: unknown): unknown {
  if (secret && x !== null && x !== '') return REDACTED;
  // null, booleans and numbers are their own redaction (redactValue returns them as they are)
  return x === null || typeof x === 'boolean' || typeof x === 'number' ? x : redactValue(x, 1);
}
