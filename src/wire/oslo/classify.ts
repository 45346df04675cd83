/**
 * What an oslo.messaging message is, from where it was sent and what it carries
 * (mirrors `_drivers/amqpdriver.py` AMQPDriverBase._send and `impl_rabbit.py`):
 * - call: topic_send to the control exchange (`nova`, default `openstack`), routing key `topic` or
 *   `topic.server`, the message carries `_msg_id` (and `_reply_q`, `_timeout`);
 * - cast: the same without `_msg_id`;
 * - fanout: fanout_send to exchange `<topic>_fanout`;
 * - reply: direct_send to the default exchange `""` with routing key = the caller's reply queue
 *   (`reply_<uuid>`), body {result, failure, ending, _msg_id, _unique_id};
 * - notification: notify_send to a topic exchange with key `<topic>.<priority>` (priority
 *   lower-cased by notify/messaging.py), body {message_id, publisher_id, event_type, priority,
 *   payload, timestamp}.
 */
import type { RpcKind } from '../../records.ts';
import type { BodyFacts } from './facts.ts';

export const TRACE_EXCHANGE = 'amq.rabbitmq.trace';

export interface Classified {
  readonly kind: RpcKind;
  readonly topic: string;
  readonly server?: string;
  readonly priority?: string;
}

/** Topic and server: the server is everything after the FIRST '.' (host names contain dots). */
export function splitTopic(routingKey: string): { topic: string; server?: string } {
  const i = routingKey.indexOf('.');
  return i < 0 ? { topic: routingKey } : { topic: routingKey.slice(0, i), server: routingKey.slice(i + 1) };
}

export function classify(exchange: string, routingKey: string, msg: BodyFacts | undefined): Classified {
  if (msg === undefined) return { kind: 'other', topic: routingKey };
  // Firehose copies (rabbit_trace.erl) delivered to a trace consumer carry the original body:
  // they are the capture's own traffic, not RPC, and must not be joined or counted as such.
  if (exchange === TRACE_EXCHANGE) return { kind: 'other', topic: routingKey };
  if (msg.eventType !== undefined && msg.method === undefined) {
    // `<topic>.<priority>`: the priority is the last part; topics themselves rarely hold dots.
    const i = routingKey.lastIndexOf('.');
    const pr =
      msg.priority !== undefined ? msg.priority.toLowerCase() : i >= 0 ? routingKey.slice(i + 1) : undefined;
    const topic = i >= 0 ? routingKey.slice(0, i) : routingKey;
    return pr !== undefined ? { kind: 'notification', topic, priority: pr } : { kind: 'notification', topic };
  }
  if (msg.method !== undefined) {
    if (exchange.endsWith('_fanout')) return { kind: 'fanout', topic: exchange.slice(0, -'_fanout'.length) };
    const kind: RpcKind = msg.msgId !== undefined && msg.msgId !== '' ? 'call' : 'cast';
    const t = splitTopic(routingKey);
    return t.server !== undefined ? { kind, topic: t.topic, server: t.server } : { kind, topic: t.topic };
  }
  if (msg.msgId !== undefined && (msg.hasEnding || msg.hasResult || msg.hasFailure)) {
    return { kind: 'reply', topic: routingKey };
  }
  return { kind: 'other', topic: routingKey };
}
