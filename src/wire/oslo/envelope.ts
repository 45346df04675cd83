/**
 * oslo.messaging message bodies. `_drivers/common.py` serialize_msg wraps every RPC message as
 * `{"oslo.version": "2.0", "oslo.message": "<JSON string>"}`; deserialize_msg also accepts a bare
 * dict without the envelope (format 1.0, still sent by old clients). Anything else is not oslo.
 */
import { scanBody } from './body-scan.ts';
import { type BodyFacts, factsOfMessage, NOT_OSLO } from './facts.ts';
import type { ParsedBody } from './types.ts';

export type { Envelope, ParsedBody } from './types.ts';

const utf8 = new TextDecoder('utf-8');

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keys that only an oslo.messaging message (RPC, reply or notification) carries. */
function looksOslo(m: Record<string, unknown>): boolean {
  return (
    typeof m.method === 'string' ||
    typeof m._msg_id === 'string' ||
    typeof m.event_type === 'string' ||
    'ending' in m ||
    ('failure' in m && 'result' in m)
  );
}

export function parseBody(body: Uint8Array): ParsedBody {
  // Skip non-JSON quickly: oslo bodies are JSON objects (first byte '{' after whitespace).
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09))
    i++;
  if (body[i] !== 0x7b) return { envelope: 'none' };
  let outer: unknown;
  try {
    outer = JSON.parse(utf8.decode(body));
  } catch {
    return { envelope: 'none' };
  }
  if (!isObject(outer)) return { envelope: 'none' };
  const inner = outer['oslo.message'];
  if ('oslo.version' in outer && typeof inner === 'string') {
    try {
      const m: unknown = JSON.parse(inner);
      return isObject(m) ? { envelope: '2.0', msg: m } : { envelope: 'none' };
    } catch {
      return { envelope: 'none' };
    }
  }
  return looksOslo(outer) ? { envelope: '1.0', msg: outer } : { envelope: 'none' };
}

/**
 * What the decoder keeps of a body (facts.ts): read by the fast scanner when the body is a 2.0
 * envelope of the usual shape, else from a full parse.
 */
export function bodyFacts(body: Uint8Array): BodyFacts {
  const fast = scanBody(body);
  if (fast !== undefined) return fast;
  const p = parseBody(body);
  return p.msg === undefined ? NOT_OSLO : factsOfMessage(p.envelope, p.msg);
}
