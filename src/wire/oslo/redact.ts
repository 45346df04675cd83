/**
 * Secrets never leave the decoder: oslo.messaging flattens the request context into
 * `_context_*` keys (`_context_auth_token` carries the Keystone token), nova passes
 * `admin_password` in build arguments, and transport URLs carry broker passwords.
 */
import { redactUrl } from '../../util/url.ts';

export const REDACTED = '***';

/** Keys whose value is a secret, wherever they appear (context, args, nested objects). */
const SECRET_KEY = /pass(word|wd)?|token|secret|credential|admin_pass|private_key|api_key/i;

/** Context and argument keys repeat in every message: remember the verdict per key. */
const verdicts = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let v = verdicts.get(key);
  if (v === undefined) {
    v = SECRET_KEY.test(key);
    if (verdicts.size < 10_000) verdicts.set(key, v);
  }
  return v;
}

/** Cheap pre-check so most strings are returned untouched. */
const MAYBE_URL_CREDENTIALS = /:[^@\s/]*@/;

/** Removes credentials from URLs inside a free-text string. */
export function redactString(s: string): string {
  // URL credentials need an '@', token-like query parameters a '?' or '&'
  if (!s.includes('@') && !s.includes('?') && !s.includes('&')) return s;
  if (!MAYBE_URL_CREDENTIALS.test(s) && !/[?&][^=]*(pass|token|secret|key)/i.test(s)) return s;
  return s.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}

/** Deep copy of a JSON value with secret keys masked and URL credentials removed. */
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

/** A context value as it leaves the decoder: secret keys masked, URL credentials removed. */
export function contextValue(secret: boolean, x: unknown): unknown {
  if (secret && x !== null && x !== '') return REDACTED;
  // null, booleans and numbers are their own redaction (redactValue returns them as they are)
  return x === null || typeof x === 'boolean' || typeof x === 'number' ? x : redactValue(x, 1);
}
