/**
 * The RabbitMQ `rabbitmq_tracing` plugin's JSON log (format `json`): one object per line,
 * `type` published | received, `exchange`, `queue` ("none" for published), `routed_queues` (list,
 * "none" for received), `routing_keys`, `properties` (snake_case basic properties), `payload`
 * (base64 body), `timestamp` (ISO 8601 with ms), `node`, `vhost`, `user`, `connection`
 * ("<client ip:port> -> <server ip:port>"), `channel`.
 * Reader (→ WireMessage events) and writer (WireMessage → one line of that format).
 */
import { RpcscopeError } from '../errors.ts';
import type { CaptureSink, WireMessage } from '../records.ts';
import { validTimestamp } from '../wire/context.ts';
import { connectionFromName, propertiesFromTable, propertiesToTable } from '../wire/firehose/record.ts';
import { type LineOptions, readJsonLinesCapture } from './lines.ts';
import type { SourceResult } from './source.ts';

function strOrNone(v: unknown): string | undefined {
  return typeof v === 'string' && v !== 'none' ? v : undefined;
}

/**
 * One parsed tracing-log object → WireMessage, or a reason string when it is not one.
 * Exported for tests and for callers holding already-parsed records.
 */
export function wireFromTracingRecord(r: unknown, seq: number): WireMessage | string {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'not a JSON object';
  const o = r as Record<string, unknown>;
  const type = o.type;
  if (type !== 'published' && type !== 'received')
    return `unknown record type ${String(JSON.stringify(type)).slice(0, 80)}`;
  if (typeof o.payload !== 'string') return 'payload is not a base64 string';
  const ts = typeof o.timestamp === 'string' ? Date.parse(o.timestamp) : Number.NaN;
  if (!validTimestamp(ts)) return `bad timestamp ${JSON.stringify(o.timestamp)?.slice(0, 80)}`;
  if (typeof o.exchange !== 'string') return 'exchange missing';
  const body = Buffer.from(o.payload, 'base64');
  const keys = Array.isArray(o.routing_keys)
    ? o.routing_keys.filter((k): k is string => typeof k === 'string')
    : [];
  const vhost = strOrNone(o.vhost);
  const user = strOrNone(o.user);
  const conn = strOrNone(o.connection);
  const node = strOrNone(o.node);
  const queue = strOrNone(o.queue);
  const channel = typeof o.channel === 'number' ? o.channel : undefined;
  const routed = Array.isArray(o.routed_queues)
    ? o.routed_queues.filter((k): k is string => typeof k === 'string')
    : undefined;
  const published = type === 'published';
  return {
    seq,
    ts,
    source: 'tracing',
    event: published ? 'publish' : 'deliver',
    ...(conn !== undefined ? { connection: connectionFromName(conn, vhost, user) } : {}),
    ...(channel !== undefined ? { channel } : {}),
    exchange: o.exchange,
    routingKey: keys[0] ?? '',
    ...(!published && queue !== undefined ? { queue } : {}),
    ...(published && routed !== undefined ? { routedQueues: routed } : {}),
    properties: propertiesFromTable(o.properties),
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    bodySize: body.byteLength,
    ...(node !== undefined ? { node } : {}),
  };
}

/** ISO 8601 with milliseconds and "+00:00", as the plugin writes it. */
function isoTimestamp(ms: number): string {
  return new Date(Math.round(ms)).toISOString().replace('Z', '+00:00');
}

/**
 * WireMessage → one line (without the newline) of the plugin's JSON log, keys in the plugin's
 * order (it encodes an Erlang map: keys sorted). Basic.Return has no tracing record.
 */
export function formatTracingRecord(w: WireMessage): string {
  if (w.event === 'return') {
    throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'a Basic.Return has no rabbitmq_tracing record');
  }
  const published = w.event === 'publish';
  const rec = {
    channel: w.channel ?? 0,
    connection: w.connection?.id ?? 'none',
    exchange: w.exchange,
    node: w.node ?? 'none',
    payload: Buffer.from(w.body.buffer, w.body.byteOffset, w.body.byteLength).toString('base64'),
    properties: propertiesToTable(w.properties),
    queue: published ? 'none' : (w.queue ?? 'none'),
    // Unknown routing (a pcap shows no routing) is written as "none", never as [] which would
    // read back as "routed nowhere" (NO_ROUTE).
    routed_queues: published && w.routedQueues !== undefined ? [...w.routedQueues] : 'none',
    routing_keys: [w.routingKey],
    timestamp: isoTimestamp(w.ts),
    type: published ? 'published' : 'received',
    user: w.connection?.user ?? 'none',
    vhost: w.connection?.vhost ?? 'none',
  };
  return JSON.stringify(rec);
}

/** Reads a tracing log into `sink`; bad lines are counted and the first ones named file:line. */
export function readTracingFile(
  path: string,
  sink: CaptureSink,
  opts: LineOptions = {},
): Promise<SourceResult> {
  return readJsonLinesCapture(path, sink, wireFromTracingRecord, opts);
}
