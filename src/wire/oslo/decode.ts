/**
 * WireMessage → RpcMessage: the oslo.messaging meaning of one AMQP message. The body never leaves
 * this function: only routing facts, the redacted context and a few scalar fields are kept (RPC
 * arguments are never copied out, they hold passwords and user data).
 */
import type { RpcMessage, WireMessage } from '../../records.ts';
import { classify, TRACE_EXCHANGE } from './classify.ts';
import { bodyFacts } from './envelope.ts';
import { NOT_OSLO } from './facts.ts';
import { parseFailure } from './failure.ts';
import { isNeutronExchange, isNovaHintMessage, messageHints, novaHints } from './hints.ts';
import { redactString } from './redact.ts';

function s(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Strips the body from a wire message (records that leave the decoder carry no raw bytes).
 * Field by field rather than `{ body, ...rest }`: an object rest is a runtime call in V8, once per
 * message. A field added to WireMessage must be added here (wireWithoutBody is tested on all).
 */
export function wireWithoutBody(wire: WireMessage): Omit<WireMessage, 'body'> {
  const w: Mutable<Omit<WireMessage, 'body'>> = {
    seq: wire.seq,
    ts: wire.ts,
    source: wire.source,
    event: wire.event,
    exchange: wire.exchange,
    routingKey: wire.routingKey,
    properties: wire.properties,
    bodySize: wire.bodySize,
  };
  if (wire.connection !== undefined) w.connection = wire.connection;
  if (wire.channel !== undefined) w.channel = wire.channel;
  if (wire.queue !== undefined) w.queue = wire.queue;
  if (wire.routedQueues !== undefined) w.routedQueues = wire.routedQueues;
  if (wire.mandatory !== undefined) w.mandatory = wire.mandatory;
  if (wire.redelivered !== undefined) w.redelivered = wire.redelivered;
  if (wire.consumerTag !== undefined) w.consumerTag = wire.consumerTag;
  if (wire.replyCode !== undefined) w.replyCode = wire.replyCode;
  if (wire.replyText !== undefined) w.replyText = wire.replyText;
  if (wire.node !== undefined) w.node = wire.node;
  return w;
}

function expirationMs(e: string | undefined): number | undefined {
  if (e === undefined) return undefined;
  const n = Number(e);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function decodeRpc(wire: WireMessage): RpcMessage {
  // Firehose copies delivered to a trace consumer are never RPC (classify.ts): do not parse them.
  const f = wire.exchange === TRACE_EXCHANGE ? NOT_OSLO : bodyFacts(wire.body);
  const oslo = f.envelope !== 'none';
  const c = classify(wire.exchange, wire.routingKey, oslo ? f : undefined);
  // One object, fields added in a fixed order: cheaper than spreading partial objects.
  const out: Mutable<RpcMessage> = {
    wire: wireWithoutBody(wire),
    kind: c.kind,
    envelope: f.envelope,
    exchange: wire.exchange,
    topic: c.topic,
    context: EMPTY,
    bodySize: wire.bodySize,
  };
  if (c.server !== undefined) out.server = c.server;
  const exp = expirationMs(wire.properties.expiration);
  if (exp !== undefined) out.expirationMs = exp;
  if (!oslo || c.kind === 'other') return out;

  const context = f.context;
  out.context = context;
  if (f.method !== undefined) {
    out.method = f.method;
    if (f.object !== undefined) out.object = f.object;
  }
  if (f.namespace !== undefined) out.namespace = f.namespace;
  if (f.version !== undefined) out.version = f.version;
  if (f.msgId !== undefined) out.msgId = f.msgId;
  const replyQ = c.kind === 'reply' ? wire.routingKey : f.replyQ;
  if (replyQ !== undefined && replyQ !== '') out.replyQ = replyQ;
  if (f.uniqueId !== undefined) out.uniqueId = f.uniqueId;
  if (f.timeoutS !== undefined) out.timeoutS = f.timeoutS;
  const requestId = s(context.request_id);
  if (requestId !== undefined) out.requestId = requestId;
  const globalRequestId = s(context.global_request_id);
  if (globalRequestId !== undefined) out.globalRequestId = globalRequestId;
  if (c.kind === 'notification') {
    if (f.eventType !== undefined) out.eventType = f.eventType;
    if (c.priority !== undefined) out.priority = c.priority;
    if (f.publisherId !== undefined) out.publisherId = redactString(f.publisherId);
  } else if (c.kind === 'reply') {
    if (f.ending !== undefined) out.ending = f.ending;
    const failure = parseFailure(f.failure);
    if (failure !== undefined) out.failure = failure;
  }
  if (c.kind !== 'reply' && isNeutronExchange(wire.exchange)) {
    const h = messageHints(wire.body);
    if (h !== undefined) out.hints = h;
  } else if ((c.kind === 'call' || c.kind === 'cast') && isNovaHintMessage(c.topic, f.method)) {
    const h = novaHints(wire.body);
    if (h !== undefined) out.hints = h;
  }
  return out;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});
