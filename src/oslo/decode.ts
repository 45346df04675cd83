/**
 * WireMessage → RpcMessage: the oslo.messaging meaning of one AMQP message. The body never leaves
 * this function: only routing facts, the redacted context and a few scalar fields are kept (RPC
 * arguments are never copied out, they hold passwords and user data).
 */
import type { RpcMessage, WireMessage } from '../records.ts';
import { classify } from './classify.ts';
import { parseBody } from './envelope.ts';
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

export function decodeRpc(wire: WireMessage): RpcMessage {
  const parsed = parseBody(wire.body);
  const msg = parsed.msg;
  const c = classify(wire.exchange, wire.routingKey, msg);
  const exp = expirationMs(wire.properties.expiration);
  const base = {
    wire: wireWithoutBody(wire),
    kind: c.kind,
    envelope: parsed.envelope,
    exchange: wire.exchange,
    topic: c.topic,
    ...(c.server !== undefined ? { server: c.server } : {}),
    ...(exp !== undefined ? { expirationMs: exp } : {}),
    bodySize: wire.bodySize,
  };
  if (msg === undefined || c.kind === 'other') return { ...base, context: {} };

  const context = extractContext(msg);
  const requestId = s(context.request_id);
  const globalRequestId = s(context.global_request_id);
  const method = s(msg.method);
  const object = novaObjectName(method, msg.args);
  const timeout = msg._timeout;
  const out: Record<string, unknown> = { ...base };
  if (method !== undefined) out.method = method;
  if (object !== undefined) out.object = object;
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
  if (typeof timeout === 'number' && Number.isFinite(timeout)) out.timeoutS = timeout;
  if (requestId !== undefined) out.requestId = requestId;
  if (globalRequestId !== undefined) out.globalRequestId = globalRequestId;
  if (c.kind === 'notification') {
    const et = s(msg.event_type);
    if (et !== undefined) out.eventType = et;
    if (c.priority !== undefined) out.priority = c.priority;
    const pub = s(msg.publisher_id);
    if (pub !== undefined) out.publisherId = redactString(pub);
  }
  if (c.kind === 'reply') {
    if (typeof msg.ending === 'boolean') out.ending = msg.ending;
    const f = parseFailure(msg.failure);
    if (f !== undefined) out.failure = f;
  }
  out.context = context;
  return out as unknown as RpcMessage;
}
