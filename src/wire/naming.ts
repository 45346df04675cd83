/**
 * The names oslo.messaging's rabbit driver gives queues and exchanges, in one place: who builds a
 * name (the emulator, the encoder) and who reads one (the classifier, service naming, broker
 * health) agree by construction. From `_drivers/impl_rabbit.py` and `_drivers/amqpdriver.py`:
 * - RPC server queues (declare_topic_consumer) on the control exchange: `<topic>` (shared by the
 *   group) and `<topic>.<server>` (one per host); calls and casts use the same names as routing keys;
 * - fanout (declare_fanout_consumer): exchange `<topic>_fanout`, queue `<topic>_fanout_<uuid hex>`
 *   (with rabbit_stream_fanout one stream per topic named like the exchange);
 * - replies (AMQPDriverBase._get_reply_q): queue `reply_<uuid hex>` on the default exchange;
 * - notifications (notify_send): routing key and queue `<topic>.<priority>`, priority lower-cased.
 * Server names are host names and hold dots, so a server key splits at the FIRST dot; notification
 * topics rarely hold dots, so a notification key splits at the LAST one.
 */

/** RabbitMQ's firehose exchange (rabbit_trace.erl): copies of every publish and delivery. */
export const TRACE_EXCHANGE = 'amq.rabbitmq.trace';

const REPLY_PREFIX = 'reply_';
const FANOUT_SUFFIX = '_fanout';

/** Priorities notify/messaging.py publishes with (lower-cased), i.e. the `<priority>` of a key. */
export const NOTIFICATION_PRIORITIES: readonly string[] = [
  'debug',
  'info',
  'warn',
  'warning',
  'error',
  'critical',
  'sample',
  'audit',
];
const PRIORITY_SET = new Set(NOTIFICATION_PRIORITIES);

/** `reply_<unique>`: a caller's reply queue (unique = uuid4 hex in oslo). */
export function replyQueueName(unique: string): string {
  return `${REPLY_PREFIX}${unique}`;
}

export function isReplyQueue(name: string): boolean {
  return name.startsWith(REPLY_PREFIX);
}

/** `<topic>` or `<topic>.<server>`: a server queue name and the routing key of calls and casts. */
export function serverKey(topic: string, server?: string): string {
  return server === undefined ? topic : `${topic}.${server}`;
}

/** Topic and server: the server is everything after the FIRST '.' (host names contain dots). */
export function splitTopic(routingKey: string): { topic: string; server?: string } {
  const i = routingKey.indexOf('.');
  return i < 0 ? { topic: routingKey } : { topic: routingKey.slice(0, i), server: routingKey.slice(i + 1) };
}

/** `<topic>_fanout`: the fanout exchange of a topic (and, with rabbit_stream_fanout, its stream). */
export function fanoutExchangeName(topic: string): string {
  return `${topic}${FANOUT_SUFFIX}`;
}

/** The topic of a fanout exchange `<topic>_fanout`; undefined for any other exchange. */
export function topicOfFanoutExchange(exchange: string): string | undefined {
  return exchange.endsWith(FANOUT_SUFFIX) ? exchange.slice(0, -FANOUT_SUFFIX.length) : undefined;
}

/** `<topic>_fanout_<unique>`: one consumer's queue on the topic's fanout exchange. */
export function fanoutQueueName(topic: string, unique: string): string {
  return `${fanoutExchangeName(topic)}_${unique}`;
}

/** `<topic>.<priority>`: a notification's routing key and default queue (priority lower-cased). */
export function notificationKey(topic: string, priority: string): string {
  return `${topic}.${priority.toLowerCase()}`;
}

/** A notification routing key: the priority is the part after the LAST '.', if any. */
export function splitNotificationKey(routingKey: string): { topic: string; priority?: string } {
  const i = routingKey.lastIndexOf('.');
  return i < 0 ? { topic: routingKey } : { topic: routingKey.slice(0, i), priority: routingKey.slice(i + 1) };
}

/** What a queue name says about the queue. */
export type QueueName =
  /** `reply_<unique>`. */
  | { readonly kind: 'reply' }
  /** `amq.gen-…`: a server-named queue (firehose consumers, exclusive queues). */
  | { readonly kind: 'anonymous' }
  /** `<topic>_fanout_<unique>`. */
  | { readonly kind: 'fanout'; readonly topic: string }
  /** `<topic>.<priority>` with a known notification priority. */
  | { readonly kind: 'notification'; readonly topic: string; readonly priority: string }
  /** `<topic>`: the group's shared server queue. */
  | { readonly kind: 'topic'; readonly topic: string }
  /** `<topic>.<server>`: one server's own queue. */
  | { readonly kind: 'server'; readonly topic: string; readonly server: string };

/** Reads a queue name as oslo names queues (see the module comment). */
export function parseQueueName(name: string): QueueName {
  if (isReplyQueue(name)) return { kind: 'reply' };
  if (name.startsWith('amq.')) return { kind: 'anonymous' };
  const f = /^(.+)_fanout_.+$/.exec(name);
  if (f !== null) return { kind: 'fanout', topic: f[1] as string };
  const i = name.indexOf('.');
  if (i < 0) return { kind: 'topic', topic: name };
  const topic = name.slice(0, i);
  const rest = name.slice(i + 1);
  if (PRIORITY_SET.has(rest)) return { kind: 'notification', topic, priority: rest };
  return { kind: 'server', topic, server: rest };
}
