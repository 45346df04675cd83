/**
 * RabbitMQ firehose records (exchange `amq.rabbitmq.trace`) → WireMessage.
 *
 * The broker (rabbit_trace.erl) publishes a copy of every message with routing key
 * `publish.<exchange>` or `deliver.<queue>` and headers `exchange_name`, `routing_keys`,
 * `properties` (a table keyed by the AMQP basic property names in snake_case), `node`, `vhost`,
 * `channel`, `connection`, `user`, plus `routed_queues` (publish) or `redelivered` (deliver).
 * The `rabbitmq_tracing` plugin writes the same fields to its log, so both share this mapping.
 */
import type { AmqpProperties, ConnectionRef, WireMessage } from '../../records.ts';

const utf8 = new TextDecoder('utf-8');

/** Header values may arrive as Buffers (amqplib longstr) or strings (JSON logs). */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return utf8.decode(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function strList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const x of v) {
    const s = str(x);
    if (s !== undefined) out.push(s);
  }
  return out;
}

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

/** The snake_case property table of the firehose / tracing log → AmqpProperties (§1.8.2 Basic). */
export function propertiesFromTable(t: unknown): AmqpProperties {
  const p: AmqpProperties = {};
  if (t === null || typeof t !== 'object') return p;
  const r = t as Record<string, unknown>;
  const s = (k: string) => str(r[k]);
  const ct = s('content_type');
  if (ct !== undefined) p.contentType = ct;
  const ce = s('content_encoding');
  if (ce !== undefined) p.contentEncoding = ce;
  if (r.headers !== null && typeof r.headers === 'object' && !Array.isArray(r.headers))
    p.headers = plain(r.headers) as Record<string, unknown>;
  const dm = num(r.delivery_mode);
  if (dm !== undefined) p.deliveryMode = dm;
  const pr = num(r.priority);
  if (pr !== undefined) p.priority = pr;
  const ci = s('correlation_id');
  if (ci !== undefined) p.correlationId = ci;
  const rt = s('reply_to');
  if (rt !== undefined) p.replyTo = rt;
  const ex = r.expiration;
  if (ex !== undefined && ex !== null) p.expiration = str(ex) ?? String(ex);
  const mi = s('message_id');
  if (mi !== undefined) p.messageId = mi;
  const ts = num(r.timestamp);
  if (ts !== undefined) p.timestamp = ts;
  const ty = s('type');
  if (ty !== undefined) p.type = ty;
  const ui = s('user_id');
  if (ui !== undefined) p.userId = ui;
  const ai = s('app_id');
  if (ai !== undefined) p.appId = ai;
  const cl = s('cluster_id');
  if (cl !== undefined) p.clusterId = cl;
  return p;
}

/**
 * AmqpProperties → the snake_case table, keys in sorted order: the tracing plugin encodes an
 * Erlang map, and small Erlang maps iterate (and so serialise) in key order.
 */
export function propertiesToTable(p: AmqpProperties): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (p.appId !== undefined) o.app_id = p.appId;
  if (p.clusterId !== undefined) o.cluster_id = p.clusterId;
  if (p.contentEncoding !== undefined) o.content_encoding = p.contentEncoding;
  if (p.contentType !== undefined) o.content_type = p.contentType;
  if (p.correlationId !== undefined) o.correlation_id = p.correlationId;
  if (p.deliveryMode !== undefined) o.delivery_mode = p.deliveryMode;
  if (p.expiration !== undefined) o.expiration = p.expiration;
  if (p.headers !== undefined) o.headers = sortKeys(p.headers);
  if (p.messageId !== undefined) o.message_id = p.messageId;
  if (p.priority !== undefined) o.priority = p.priority;
  if (p.replyTo !== undefined) o.reply_to = p.replyTo;
  if (p.timestamp !== undefined) o.timestamp = p.timestamp;
  if (p.type !== undefined) o.type = p.type;
  if (p.userId !== undefined) o.user_id = p.userId;
  return o;
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

/** "127.0.0.1:54838 -> 127.0.0.1:5672" (the broker's connection name) → ConnectionRef. */
export function connectionFromName(name: string, vhost?: string, user?: string): ConnectionRef {
  const i = name.indexOf(' -> ');
  const client = i >= 0 ? name.slice(0, i) : name;
  const server = i >= 0 ? name.slice(i + 4) : '';
  return {
    id: name,
    client,
    server,
    ...(vhost !== undefined ? { vhost } : {}),
    ...(user !== undefined ? { user } : {}),
  };
}

/**
 * One message consumed from `amq.rabbitmq.trace` → WireMessage.
 * @param traceRoutingKey `publish.<exchange>` or `deliver.<queue>` (the name may contain dots)
 * @param ts epoch milliseconds (capture time; the firehose itself carries no timestamp)
 */
export function wireFromFirehose(
  traceRoutingKey: string,
  headers: Record<string, unknown>,
  body: Uint8Array,
  ts: number,
  seq: number,
): WireMessage {
  const dot = traceRoutingKey.indexOf('.');
  const kind = dot >= 0 ? traceRoutingKey.slice(0, dot) : traceRoutingKey;
  const name = dot >= 0 ? traceRoutingKey.slice(dot + 1) : '';
  const isDeliver = kind === 'deliver';
  const vhost = str(headers.vhost);
  const user = str(headers.user);
  const connName = str(headers.connection);
  const routingKeys = strList(headers.routing_keys) ?? [];
  const exchange = str(headers.exchange_name) ?? (isDeliver ? '' : name);
  const channel = num(headers.channel);
  const node = str(headers.node);
  const routed = isDeliver ? undefined : strList(headers.routed_queues);
  const redelivered = headers.redelivered;
  return {
    seq,
    ts,
    source: 'firehose',
    event: isDeliver ? 'deliver' : 'publish',
    ...(connName !== undefined ? { connection: connectionFromName(connName, vhost, user) } : {}),
    ...(channel !== undefined ? { channel } : {}),
    exchange,
    // A publish may carry CC/BCC keys; the first is the Basic.Publish routing key.
    routingKey: routingKeys[0] ?? '',
    ...(isDeliver ? { queue: name } : {}),
    ...(routed !== undefined ? { routedQueues: routed } : {}),
    ...(isDeliver && redelivered !== undefined
      ? { redelivered: Boolean(num(redelivered) ?? redelivered) }
      : {}),
    properties: propertiesFromTable(headers.properties),
    body,
    bodySize: body.length,
    ...(node !== undefined ? { node } : {}),
  };
}
