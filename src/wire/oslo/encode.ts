/**
 * The oslo.messaging rabbit driver's wire format, byte for byte, as emulated services publish it.
 *
 * Sources mirrored (oslo.messaging 14.0.3, Debian 12):
 * - `_drivers/common.py` serialize_msg: envelope `{"oslo.version": "2.0", "oslo.message": dumps(msg)}`,
 *   both levels written by `jsonutils.dumps` = Python `json.dumps` (separators ", " and ": ",
 *   ensure_ascii=True).
 * - `_drivers/amqp.py` `_add_unique_id` (uuid4 hex) and `pack_context` (`_context_<key>`).
 * - `_drivers/amqpdriver.py` `_send`: calls add `_msg_id` (uuid4 hex), `_reply_q` (`reply_<uuid4 hex>`),
 *   `_timeout` (the call-monitor timeout, null by default) before `_unique_id` and the context;
 *   replies are `{"result", "failure", "ending", "_msg_id", "_unique_id"}`.
 * - `_drivers/impl_rabbit.py`: topic_send (control exchange, key `topic[.server]`, AMQP expiration =
 *   timeout on calls only), fanout_send (exchange `<topic>_fanout`, empty routing key), direct_send
 *   (default exchange, key = reply queue, mandatory), notify_send (key `<topic>.<priority>`);
 *   kombu's Producer sets content type application/json, encoding utf-8, delivery mode 2,
 *   priority 0 and empty headers on every message (checked against data/nova-zed).
 */
import { randomUUID } from 'node:crypto';
import type { AmqpProperties } from '../../records.ts';
import {
  fanoutExchangeName,
  fanoutQueueName,
  notificationKey,
  replyQueueName as replyQueueNamed,
  serverKey,
} from '../naming.ts';

/** A JSON value as Python's json module would write it. */
export type PyJson = null | boolean | number | string | readonly PyJson[] | { readonly [k: string]: PyJson };

/** Python `json.dumps(s)` of a string with ensure_ascii: every non-ASCII UTF-16 unit as \uXXXX. */
function pyString(s: string): string {
  // JSON.stringify already escapes ", \ and C0 controls the way Python does (\n, \t, \u001f...).
  return JSON.stringify(s).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Python float repr differs from JS for exponents: 1e-07 not 1e-7. */
function pyNumber(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** `json.dumps(value)` with Python's default separators (", ", ": ") and ensure_ascii=True. */
export function pyDumps(value: PyJson | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) return `[${value.map((v: PyJson) => pyDumps(v)).join(', ')}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) parts.push(`${pyString(k)}: ${pyDumps(v)}`);
  return `{${parts.join(', ')}}`;
}

/** `uuid.uuid4().hex`: 32 lower-case hex digits, what oslo uses for `_unique_id` and `_msg_id`. */
export function uuidHex(): string {
  return randomUUID().replaceAll('-', '');
}

/** A reply queue name as oslo's AMQPDriverBase._get_reply_q makes it. */
export function replyQueueName(): string {
  return replyQueueNamed(uuidHex());
}

/** The oslo 2.0 envelope around an inner message. */
export function envelope(inner: Record<string, PyJson>): Buffer {
  return Buffer.from(pyDumps({ 'oslo.version': '2.0', 'oslo.message': pyDumps(inner) }), 'utf8');
}

/** kombu Producer.publish defaults as seen on every nova message in the fixtures. */
export function osloProperties(expirationMs?: number): AmqpProperties {
  const p: AmqpProperties = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    deliveryMode: 2,
    priority: 0,
    headers: {},
  };
  if (expirationMs !== undefined) p.expiration = String(Math.trunc(expirationMs));
  return p;
}

/** One message ready to publish: where, what, how. */
export interface OsloPublish {
  readonly kind: 'call' | 'cast' | 'fanout' | 'reply' | 'notification';
  readonly exchange: string;
  readonly routingKey: string;
  readonly mandatory: boolean;
  readonly properties: AmqpProperties;
  readonly body: Buffer;
  /** `_unique_id` of the inner message: the identity accounting tracks it by. */
  readonly uniqueId: string;
  /** calls only. */
  readonly msgId?: string;
}

export interface RpcRequest {
  /** Control exchange (`control_exchange`, nova sets "nova"; oslo's default "openstack"). */
  readonly exchange: string;
  readonly topic: string;
  /** Target server: routing key becomes `topic.server`. */
  readonly server?: string;
  readonly method: string;
  readonly args: Record<string, PyJson>;
  /** Target namespace; oslo's RPCClient adds the key only when set. */
  readonly namespace?: string;
  readonly version?: string;
  /** Request context; each key becomes `_context_<key>`. */
  readonly context: Record<string, PyJson>;
  /** Given by tests that need a fixed identity; a fresh uuid4 hex otherwise. */
  readonly uniqueId?: string;
}

/** oslo.messaging RPCClient.prepare(...).call/cast builds {"method", "args", ["namespace"], ["version"]}. */
function baseMessage(r: RpcRequest): Record<string, PyJson> {
  const m: Record<string, PyJson> = { method: r.method, args: r.args };
  if (r.namespace !== undefined) m.namespace = r.namespace;
  if (r.version !== undefined) m.version = r.version;
  return m;
}

function packContext(m: Record<string, PyJson>, context: Record<string, PyJson>): void {
  for (const [k, v] of Object.entries(context)) m[`_context_${k}`] = v;
}

function routingKey(r: RpcRequest): string {
  return serverKey(r.topic, r.server);
}

export interface CallOptions {
  readonly replyQ: string;
  /** rpc_response_timeout (oslo default 60 s): AMQP expiration in ms. */
  readonly timeoutS: number;
  /** call_monitor_timeout, null unless the client sets it. */
  readonly callMonitorTimeoutS?: number;
  readonly msgId?: string;
}

/** A call (amqpdriver._send with wait_for_reply): key order method, args, [namespace, version], _msg_id, _reply_q, _timeout, _unique_id, _context_*. */
export function encodeCall(r: RpcRequest, o: CallOptions): OsloPublish {
  const m = baseMessage(r);
  const msgId = o.msgId ?? uuidHex();
  m._msg_id = msgId;
  m._reply_q = o.replyQ;
  m._timeout = o.callMonitorTimeoutS ?? null;
  const uniqueId = r.uniqueId ?? uuidHex();
  m._unique_id = uniqueId;
  packContext(m, r.context);
  return {
    kind: 'call',
    exchange: r.exchange,
    routingKey: routingKey(r),
    mandatory: false,
    properties: osloProperties(o.timeoutS * 1000),
    body: envelope(m),
    uniqueId,
    msgId,
  };
}

/** A cast: as a call without `_msg_id`/`_reply_q`/`_timeout` and without AMQP expiration. */
export function encodeCast(r: RpcRequest): OsloPublish {
  const m = baseMessage(r);
  const uniqueId = r.uniqueId ?? uuidHex();
  m._unique_id = uniqueId;
  packContext(m, r.context);
  return {
    kind: 'cast',
    exchange: r.exchange,
    routingKey: routingKey(r),
    mandatory: false,
    properties: osloProperties(),
    body: envelope(m),
    uniqueId,
  };
}

/** A fanout cast: exchange `<topic>_fanout`, routing key "" (kombu passes None). */
export function encodeFanout(r: Omit<RpcRequest, 'server' | 'exchange'>): OsloPublish {
  const c = encodeCast({ ...r, exchange: '' });
  return { ...c, kind: 'fanout', exchange: fanoutExchangeName(r.topic), routingKey: '' };
}

export interface ReplyOptions {
  readonly msgId: string;
  readonly replyQ: string;
  readonly result: PyJson;
  /** serialize_remote_exception output (a JSON string) or null. */
  readonly failure?: string | null;
  /** false = call-monitor heartbeat (RpcIncomingMessage.heartbeat). */
  readonly ending?: boolean;
  readonly uniqueId?: string;
}

/** A reply (AMQPIncomingMessage._send_reply → direct_send): default exchange, mandatory. */
export function encodeReply(o: ReplyOptions): OsloPublish {
  const uniqueId = o.uniqueId ?? uuidHex();
  const m: Record<string, PyJson> = {
    result: o.result,
    failure: o.failure ?? null,
    ending: o.ending ?? true,
    _msg_id: o.msgId,
    _unique_id: uniqueId,
  };
  return {
    kind: 'reply',
    exchange: '',
    routingKey: o.replyQ,
    mandatory: true,
    properties: osloProperties(),
    body: envelope(m),
    uniqueId,
  };
}

/** serialize_remote_exception: what a failing emulated server sends back. */
export function remoteFailure(className: string, module: string, message: string): string {
  return pyDumps({ class: className, module, message, tb: [], args: [message], kwargs: {} });
}

export interface NotificationRequest {
  readonly exchange: string;
  /** e.g. "notifications" or "versioned_notifications". */
  readonly topic: string;
  /** Lower-case as in the routing key; upper-cased in the body as the Notifier does. */
  readonly priority: string;
  readonly eventType: string;
  readonly publisherId: string;
  readonly payload: PyJson;
  readonly context: Record<string, PyJson>;
  readonly messageId?: string;
  readonly timestamp?: string;
  readonly uniqueId?: string;
}

/** Python `str(datetime.utcnow())` as oslo's Notifier puts in `timestamp`. */
export function pyUtcNow(d: Date = new Date()): string {
  const iso = d.toISOString(); // 2026-11-26T08:21:58.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** A messagingv2 notification (notify/messaging.py → send_notification → notify_send). */
export function encodeNotification(n: NotificationRequest): OsloPublish {
  const m: Record<string, PyJson> = {
    message_id: n.messageId ?? randomUUID(),
    publisher_id: n.publisherId,
    event_type: n.eventType,
    priority: n.priority.toUpperCase(),
    payload: n.payload,
    timestamp: n.timestamp ?? pyUtcNow(),
  };
  const uniqueId = n.uniqueId ?? uuidHex();
  m._unique_id = uniqueId;
  packContext(m, n.context);
  return {
    kind: 'notification',
    exchange: n.exchange,
    routingKey: notificationKey(n.topic, n.priority),
    mandatory: false,
    properties: osloProperties(),
    body: envelope(m),
    uniqueId,
  };
}

/** Driver options that shape declarations (impl_rabbit.py rabbit_opts / amqp_opts). */
export interface OsloQueueOptions {
  /** amqp_durable_queues (default false). */
  readonly durableQueues: boolean;
  /** amqp_auto_delete (default false). */
  readonly autoDelete: boolean;
  /** rabbit_ha_queues: x-ha-policy all. */
  readonly haQueues: boolean;
  /** rabbit_quorum_queue: topic queues become x-queue-type quorum (and durable). */
  readonly quorumQueues: boolean;
  /** rabbit_transient_queues_ttl seconds (default 1800): x-expires of reply and fanout queues. */
  readonly transientQueuesTtlS: number;
  /** Newer oslo (2024.1+): rabbit_transient_quorum_queue for reply/fanout queues. */
  readonly transientQuorumQueues?: boolean;
  /** Newer oslo: rabbit_stream_fanout, fanout queues as streams. */
  readonly streamFanout?: boolean;
}

export const OSLO_DEFAULT_QUEUE_OPTIONS: OsloQueueOptions = {
  durableQueues: false,
  autoDelete: false,
  haQueues: false,
  quorumQueues: false,
  transientQueuesTtlS: 1800,
};

export interface ExchangeDecl {
  readonly name: string;
  readonly type: 'topic' | 'fanout' | 'direct';
  readonly durable: boolean;
  readonly autoDelete: boolean;
}

export interface QueueDecl {
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Record<string, unknown>;
  /** Exchange and routing key it is bound to; none for reply queues (default exchange). */
  readonly bind?: { readonly exchange: string; readonly routingKey: string };
  readonly exchange?: ExchangeDecl;
}

/** _get_queue_arguments(rabbit_ha_queues, ttl, rabbit_quorum_queue, ...). */
export function queueArguments(o: OsloQueueOptions, ttlS: number, quorum: boolean): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (o.haQueues) args['x-ha-policy'] = 'all';
  if (quorum) args['x-queue-type'] = 'quorum';
  if (ttlS > 0) args['x-expires'] = ttlS * 1000;
  return args;
}

/** The control exchange as topic_send/declare_topic_consumer declare it. */
export function controlExchange(name: string, o: OsloQueueOptions): ExchangeDecl {
  return { name, type: 'topic', durable: o.durableQueues || o.quorumQueues, autoDelete: o.autoDelete };
}

/** declare_topic_consumer: queue named like its routing key (`topic` or `topic.server`). */
export function topicQueue(exchange: string, key: string, o: OsloQueueOptions): QueueDecl {
  return {
    name: key,
    durable: o.durableQueues || o.quorumQueues,
    autoDelete: o.autoDelete,
    arguments: queueArguments(o, 0, o.quorumQueues),
    bind: { exchange, routingKey: key },
    exchange: controlExchange(exchange, o),
  };
}

/** declare_fanout_consumer: `<topic>_fanout_<uuid hex>` on fanout exchange `<topic>_fanout` (auto-delete). */
export function fanoutQueue(topic: string, o: OsloQueueOptions, unique: string = uuidHex()): QueueDecl {
  const args = queueArguments(o, o.transientQueuesTtlS, o.transientQuorumQueues === true);
  const exchange = fanoutExchangeName(topic);
  if (o.streamFanout === true) {
    // rabbit_stream_fanout (oslo 2024.1+): one durable stream per topic, no x-expires.
    return {
      name: exchange,
      durable: true,
      autoDelete: false,
      arguments: { 'x-queue-type': 'stream' },
      bind: { exchange, routingKey: topic },
      exchange: { name: exchange, type: 'fanout', durable: true, autoDelete: false },
    };
  }
  return {
    name: fanoutQueueName(topic, unique),
    durable: false,
    autoDelete: false,
    arguments: args,
    bind: { exchange, routingKey: topic },
    exchange: { name: exchange, type: 'fanout', durable: false, autoDelete: true },
  };
}

/** declare_direct_consumer for the reply queue: non-durable, x-expires, on the default exchange. */
export function replyQueue(name: string, o: OsloQueueOptions): QueueDecl {
  return {
    name,
    durable: o.transientQuorumQueues === true,
    autoDelete: false,
    arguments: queueArguments(o, o.transientQueuesTtlS, o.transientQuorumQueues === true),
  };
}

/** The inner oslo message of a 2.0 envelope (for the emulated servers' own decoding). */
export function openEnvelope(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const outer: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    if (outer === null || typeof outer !== 'object') return undefined;
    const o = outer as Record<string, unknown>;
    const inner = o['oslo.message'];
    if (typeof inner === 'string') {
      const m: unknown = JSON.parse(inner);
      return m !== null && typeof m === 'object' ? (m as Record<string, unknown>) : undefined;
    }
    return o;
  } catch {
    return undefined;
  }
}
