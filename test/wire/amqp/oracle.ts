/**
 * amqplib's generated AMQP 0-9-1 codec (lib/defs.js, generated from the spec XML) as an oracle:
 * frames encoded by another implementation, for the decoder's tests.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// defs.js is not in amqplib's `exports`; load it by path.
const amqplibDir = dirname(require.resolve('amqplib'));
interface ArgInfo {
  readonly name: string;
  readonly type: string;
  readonly default?: unknown;
}
interface MethodInfo {
  readonly id: number;
  readonly classId: number;
  readonly methodId: number;
  readonly name: string;
  readonly args: readonly ArgInfo[];
}
interface Defs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  info(id: number): MethodInfo;
  [k: string]: unknown;
}
export const defs = require(join(amqplibDir, 'lib', 'defs.js')) as Defs;

export function methodInfos(): MethodInfo[] {
  return Object.keys(defs)
    .filter((k) => k.startsWith('methodInfo'))
    .map((k) => defs[k] as MethodInfo);
}

export function methodId(name: string): number {
  const id = defs[name];
  if (typeof id !== 'number') throw new Error(`no method ${name}`);
  return id;
}

/** A whole method frame (header, payload, 0xCE). */
export function method(name: string, channel: number, fields: Record<string, unknown> = {}): Buffer {
  return defs.encodeMethod(methodId(name), channel, fields);
}

/** A content header frame for class Basic. */
export function header(channel: number, bodySize: number, props: Record<string, unknown> = {}): Buffer {
  return defs.encodeProperties(60, channel, bodySize, props);
}

export function bodyFrame(channel: number, body: Uint8Array): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b[0] = 3;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(body.length, 3);
  b.set(body, 7);
  b[7 + body.length] = 0xce;
  return b;
}

export const HEARTBEAT = Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]);
export const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

/** Basic.Publish + header + body split into frames of at most `frameMax - 8` body bytes. */
export function publish(
  channel: number,
  exchange: string,
  routingKey: string,
  body: Uint8Array,
  props: Record<string, unknown> = {},
  frameMax = 131072,
  mandatory = false,
): Buffer {
  const parts = [
    method('BasicPublish', channel, { exchange, routingKey, mandatory }),
    header(channel, body.length, props),
  ];
  for (let i = 0; i < body.length; i += frameMax - 8)
    parts.push(bodyFrame(channel, body.subarray(i, i + frameMax - 8)));
  return Buffer.concat(parts);
}

export function deliver(
  channel: number,
  consumerTag: string,
  deliveryTag: number,
  exchange: string,
  routingKey: string,
  body: Uint8Array,
  props: Record<string, unknown> = {},
): Buffer {
  const parts = [
    method('BasicDeliver', channel, { consumerTag, deliveryTag, redelivered: false, exchange, routingKey }),
    header(channel, body.length, props),
  ];
  if (body.length > 0) parts.push(bodyFrame(channel, body));
  return Buffer.concat(parts);
}
