/**
 * WireMessage → RpcMessage: the oslo.messaging meaning of one AMQP message. The body never leaves
 * this function: only routing facts, the redacted context and a few scalar fields are kept (RPC
 * arguments are never copied out, they hold passwords and user data).
 */
import type { RpcMessage, WireMessage } from '../records.ts';
import { BodyCache } from './body-cache.ts';
import { classify, TRACE_EXCHANGE } from './classify.ts';
import type { ParsedBody } from './envelope.ts';
import { parseFailure } from './failure.ts';
import { novaObjectName } from './nova-object.ts';
import { extractContext, redactString } from './redact.ts';

function s(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Strips the body from a wire message (records that leave the decoder carry no raw bytes). */
export function wireWithoutBody(wire: WireMessage): Omit<WireMessage, 'body'> {
  const { body: _body, ...rest } = wire;
  return rest;
}

function expirationMs(e: string | undefined): number | undefined {
  if (e === undefined) return undefined;
  const n = Number(e);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The process-wide parse cache (exported for benchmarks: hit counts, switch). */
export const bodyCache = new BodyCache();
const bodies = bodyCache;
const NOT_OSLO: ParsedBody = { envelope: 'none' };

export function decodeRpc(wire: WireMessage): RpcMessage {
  // Firehose copies delivered to a trace consumer are never RPC (classify.ts): do not parse them.
  const parsed = wire.exchange === TRACE_EXCHANGE ? NOT_OSLO : bodies.parse(wire.body);
  const msg = parsed.msg;
  const c = classify(wire.exchange, wire.routingKey, msg);
  // One object, fields added in a fixed order: cheaper than spreading partial objects.
  const out: Mutable<RpcMessage> = {
    wire: wireWithoutBody(wire),
    kind: c.kind,
    envelope: parsed.envelope,
    exchange: wire.exchange,
    topic: c.topic,
    context: EMPTY,
    bodySize: wire.bodySize,
  };
  if (c.server !== undefined) out.server = c.server;
  const exp = expirationMs(wire.properties.expiration);
  if (exp !== undefined) out.expirationMs = exp;
  if (msg === undefined || c.kind === 'other') return out;

  const context = extractContext(msg);
  out.context = context;
  const method = s(msg.method);
  if (method !== undefined) {
    out.method = method;
    const object = novaObjectName(method, msg.args);
    if (object !== undefined) out.object = object;
  }
  const ns = s(msg.namespace);
  if (ns !== undefined) out.namespace = ns;
  const ver = s(msg.version);
  if (ver !== undefined) out.version = ver;
  const msgId = s(msg._msg_id);
  if (msgId !== undefined) out.msgId = msgId;
  const replyQ = c.kind === 'reply' ? wire.routingKey : s(msg._reply_q);
  if (replyQ !== undefined && replyQ !== '') out.replyQ = replyQ;
  const uid = s(msg._unique_id);
  if (uid !== undefined) out.uniqueId = uid;
  const timeout = msg._timeout;
  if (typeof timeout === 'number' && Number.isFinite(timeout)) out.timeoutS = timeout;
  const requestId = s(context.request_id);
  if (requestId !== undefined) out.requestId = requestId;
  const globalRequestId = s(context.global_request_id);
  if (globalRequestId !== undefined) out.globalRequestId = globalRequestId;
  if (c.kind === 'notification') {
    const et = s(msg.event_type);
    if (et !== undefined) out.eventType = et;
    if (c.priority !== undefined) out.priority = c.priority;
    const pub = s(msg.publisher_id);
    if (pub !== undefined) out.publisherId = redactString(pub);
  } else if (c.kind === 'reply') {
    if (typeof msg.ending === 'boolean') out.ending = msg.ending;
    const f = parseFailure(msg.failure);
    if (f !== undefined) out.failure = f;
  }
  return out;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});
