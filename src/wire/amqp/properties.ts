/**
 * The content header frame (AMQP 0-9-1 §4.2.6.1): class-id, weight (always 0), body size
 * (longlong), property flags, then the present properties in flag order. For class Basic the 14
 * flags run from bit 15 (content-type) down to bit 2 (cluster-id); bit 0 set means another flags
 * word follows (never for Basic, but allowed by the grammar).
 */
import type { AmqpProperties } from '../../records.ts';
import { Cursor, FrameFormatError } from './cursor.ts';
import { decodeTable } from './field-table.ts';

export interface ContentHeader {
  readonly classId: number;
  readonly bodySize: number;
  readonly properties: AmqpProperties;
}

export function decodeContentHeader(buf: Uint8Array, start: number, end: number): ContentHeader {
  const c = new Cursor(buf, start, end);
  const classId = c.u16();
  c.u16(); // weight
  const bodySize = c.u64();
  const flags = c.u16();
  let more = flags & 1;
  while (more) more = c.u16() & 1; // continuation words carry no Basic properties
  const p: {
    -readonly [K in keyof AmqpProperties]: AmqpProperties[K];
  } = {};
  if (classId !== 60) {
    if (flags !== 0) throw new FrameFormatError(`content header of class ${classId} with properties`, start);
    return { classId, bodySize, properties: p };
  }
  if (flags & 0x8000) p.contentType = c.shortstr();
  if (flags & 0x4000) p.contentEncoding = c.shortstr();
  if (flags & 0x2000) p.headers = decodeTable(c);
  if (flags & 0x1000) p.deliveryMode = c.u8();
  if (flags & 0x0800) p.priority = c.u8();
  if (flags & 0x0400) p.correlationId = c.shortstr();
  if (flags & 0x0200) p.replyTo = c.shortstr();
  if (flags & 0x0100) p.expiration = c.shortstr();
  if (flags & 0x0080) p.messageId = c.shortstr();
  if (flags & 0x0040) p.timestamp = c.u64();
  if (flags & 0x0020) p.type = c.shortstr();
  if (flags & 0x0010) p.userId = c.shortstr();
  if (flags & 0x0008) p.appId = c.shortstr();
  if (flags & 0x0004) p.clusterId = c.shortstr();
  return { classId, bodySize, properties: p };
}
