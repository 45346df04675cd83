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
import { splitNotificationKey, splitTopic, TRACE_EXCHANGE, topicOfFanoutExchange } from '../naming.ts';
import type { BodyFacts } from './facts.ts';

export { splitTopic, TRACE_EXCHANGE };

export interface Classified {
  readonly kind: RpcKind;
  readonly topic: string;
  readonly server?: string;
  readonly priority?: string;
}

export function classify(exchange: string, routingKey: string, msg: BodyFacts | undefined): Classified {
  if (msg === undefined) return { kind: 'other', topic: routingKey };
  // Firehose copies (rabbit_trace.erl) delivered to a trace consumer carry the original body:
  // they are the capture's own traffic, not RPC, and must not be joined or counted as such.
  if (exchange === TRACE_EXCHANGE) return { kind: 'other', topic: routingKey };
  if (msg.eventType !== undefined && msg.method === undefined) {
    // `<topic>.<priority>`: the body's own priority wins over the key's.
    const key = splitNotificationKey(routingKey);
    const pr = msg.priority !== undefined ? msg.priority.toLowerCase() : key.priority;
    const topic = key.topic;
    return pr !== undefined ? { kind: 'notification', topic, priority: pr } : { kind: 'notification', topic };
  }
  if (msg.method !== undefined) {
    const fanoutTopic = topicOfFanoutExchange(exchange);
    if (fanoutTopic !== undefined) return { kind: 'fanout', topic: fanoutTopic };
    const kind: RpcKind = msg.msgId !== undefined && msg.msgId !== '' ? 'call' : 'cast';
    const t = splitTopic(routingKey);
    return t.server !== undefined ? { kind, topic: t.topic, server: t.server } : { kind, topic: t.topic };
  }
  if (msg.msgId !== undefined && (msg.hasEnding || msg.hasResult || msg.hasFailure)) {
    return { kind: 'reply', topic: routingKey };
  }
  return { kind: 'other', topic: routingKey };
}
