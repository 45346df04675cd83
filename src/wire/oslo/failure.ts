/**
 * Remote exceptions in replies. oslo.messaging `_drivers/common.py` serialize_remote_exception
 * puts a JSON *string* in the reply's `failure`: {"class", "module", "message", "tb", "args",
 * "kwargs"}. The traceback and args are dropped here (they may hold arguments verbatim).
 */
import type { RemoteFailure } from '../../records.ts';
import { redactString } from './redact.ts';

export function parseFailure(failure: unknown): RemoteFailure | undefined {
  if (failure === null || failure === undefined || failure === false || failure === '') return undefined;
  let f: unknown = failure;
  if (typeof failure === 'string') {
    try {
      f = JSON.parse(failure);
    } catch {
      return { class: 'unknown', message: redactString(failure.slice(0, 500)) };
    }
  }
  if (f === null || typeof f !== 'object')
    return { class: 'unknown', message: redactString(String(f).slice(0, 500)) };
  const o = f as Record<string, unknown>;
  const cls = typeof o.class === 'string' ? o.class : 'unknown';
  const message = typeof o.message === 'string' ? redactString(o.message.slice(0, 500)) : '';
  return typeof o.module === 'string' ? { class: cls, module: o.module, message } : { class: cls, message };
}
