/**
 * AMQP 0-9-1 frame encoding, the inverse of this folder's decoders (methods.ts, properties.ts,
 * field-table.ts): method frames from the same METHODS table decodeMethod reads, content header
 * and body frames, field tables. Pure functions returning fresh Buffers.
 *
 * Field values are typed as amqplib types them, so a client built on this module puts the same
 * bytes on the wire as amqplib did for the same arguments: strings 'S' (never shortstr), booleans
 * 't', null 'V', arrays 'A', Buffers 'x', objects 'F', and JS numbers by value: integers as the
 * smallest of 'b' (int8), 's' (int16), 'I' (int32), 'l' (int64), other numbers 'd' (double).
 * Keys whose value is undefined are left out; keys are written in `for...in` order (own keys, then
 * inherited ones), as amqplib does.
 */
import type { AmqpProperties } from '../../records.ts';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD } from './frame-stream.ts';
import { methodSpec } from './methods.ts';

/** A frame's header (type, channel, size) and end octet. */
export const FRAME_OVERHEAD = 8;

/** Thrown for arguments the wire cannot carry (a shortstr over 255 bytes, an unknown method). */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

/** A growable write cursor; one scratch instance serves every call (encoding is synchronous). */
class Writer {
  buf: Buffer = Buffer.allocUnsafe(4096);
  pos = 0;

  need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  u8(v: number): void {
    this.need(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.need(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.need(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  u64(v: number): void {
    this.need(8);
    this.buf.writeBigUInt64BE(BigInt(v), this.pos);
    this.pos += 8;
  }

  shortstr(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 255) throw new EncodeError(`shortstr of ${len} bytes (at most 255)`);
    this.need(1 + len);
    this.buf[this.pos++] = len;
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  longstr(s: string | Uint8Array): void {
    if (typeof s === 'string') {
      const len = Buffer.byteLength(s, 'utf8');
      this.u32(len);
      this.need(len);
      this.pos += this.buf.write(s, this.pos, 'utf8');
      return;
    }
    this.u32(s.length);
    this.need(s.length);
    this.buf.set(s, this.pos);
    this.pos += s.length;
  }

  /** Fresh Buffer of buf[from, pos). */
  take(from: number): Buffer {
    const out = Buffer.allocUnsafe(this.pos - from);
    this.buf.copy(out, 0, from, this.pos);
    return out;
  }
}

const scratch = new Writer();

/** amqplib's isFloatingPoint: what it does not encode as an integer. */
function isFloat(n: number): boolean {
  return n >= 0x8000000000000000 || (Math.abs(n) < 0x4000000000000 && Math.floor(n) !== n);
}

function writeFieldValue(w: Writer, v: unknown, depth: number): void {
  if (depth > 64) throw new EncodeError('field tables nested deeper than 64 levels');
  switch (typeof v) {
    case 'string':
      w.u8(0x53); // 'S'
      w.longstr(v);
      return;
    case 'boolean':
      w.u8(0x74); // 't'
      w.u8(v ? 1 : 0);
      return;
    case 'number':
      if (isFloat(v)) {
        w.u8(0x64); // 'd'
        w.need(8);
        w.buf.writeDoubleBE(v, w.pos);
        w.pos += 8;
      } else if (v < 128 && v >= -128) {
        w.u8(0x62); // 'b'
        w.need(1);
        w.buf.writeInt8(v, w.pos);
        w.pos += 1;
      } else if (v >= -0x8000 && v < 0x8000) {
        w.u8(0x73); // 's'
        w.need(2);
        w.buf.writeInt16BE(v, w.pos);
        w.pos += 2;
      } else if (v >= -0x80000000 && v < 0x80000000) {
        w.u8(0x49); // 'I'
        w.need(4);
        w.buf.writeInt32BE(v, w.pos);
        w.pos += 4;
      } else {
        w.u8(0x6c); // 'l'
        w.need(8);
        w.buf.writeBigInt64BE(BigInt(v), w.pos);
        w.pos += 8;
      }
      return;
    case 'object':
      if (v === null) {
        w.u8(0x56); // 'V'
      } else if (Array.isArray(v)) {
        w.u8(0x41); // 'A'
        const at = w.pos;
        w.u32(0);
        for (const x of v) writeFieldValue(w, x, depth + 1);
        w.buf.writeUInt32BE(w.pos - at - 4, at);
      } else if (v instanceof Uint8Array) {
        w.u8(0x78); // 'x'
        w.longstr(v);
      } else {
        w.u8(0x46); // 'F'
        writeTable(w, v as Record<string, unknown>, depth + 1);
      }
      return;
    default:
      throw new EncodeError(`cannot encode a ${typeof v} in a field table`);
  }
}

function writeTable(w: Writer, t: Record<string, unknown> | undefined, depth: number): void {
  const at = w.pos;
  w.u32(0);
  if (t !== undefined) {
    // for...in, not Object.keys: amqplib writes inherited keys too (its defaults under ours).
    for (const k in t) {
      const v = t[k];
      if (v === undefined) continue;
      w.shortstr(k);
      writeFieldValue(w, v, depth);
    }
  }
  w.buf.writeUInt32BE(w.pos - at - 4, at);
}

/** A field table (length-prefixed), as in a method argument or the headers property. */
export function encodeTable(t: Record<string, unknown>): Buffer {
  scratch.pos = 0;
  writeTable(scratch, t, 0);
  return scratch.take(0);
}

function writeFrameHeader(w: Writer, type: number, channel: number): number {
  w.u8(type);
  w.u16(channel);
  const sizeAt = w.pos;
  w.u32(0);
  return sizeAt;
}

function endFrame(w: Writer, sizeAt: number): void {
  w.buf.writeUInt32BE(w.pos - sizeAt - 4, sizeAt);
  w.u8(FRAME_END);
}

function writeMethod(w: Writer, channel: number, classId: number, methodId: number, args: MethodArgs): void {
  const spec = methodSpec(classId, methodId);
  if (spec === undefined) throw new EncodeError(`unknown method ${classId}.${methodId}`);
  const sizeAt = writeFrameHeader(w, FRAME_METHOD, channel);
  w.u16(classId);
  w.u16(methodId);
  let bits = 0;
  let bit = 0;
  let bitsAt = -1;
  for (const a of spec.args) {
    const v = args[a.name];
    if (a.type === 'bit') {
      if (bitsAt < 0) {
        bitsAt = w.pos;
        w.u8(0);
        bits = 0;
        bit = 0;
      }
      if (v === true) bits |= 1 << bit;
      w.buf[bitsAt] = bits;
      // §4.2.5.2: up to 8 consecutive bits share an octet.
      if (++bit === 8) bitsAt = -1;
      continue;
    }
    bitsAt = -1;
    switch (a.type) {
      case 'octet':
        w.u8(num(v));
        break;
      case 'short':
        w.u16(num(v));
        break;
      case 'long':
        w.u32(num(v));
        break;
      case 'longlong':
        w.u64(num(v));
        break;
      case 'shortstr':
        w.shortstr(typeof v === 'string' ? v : '');
        break;
      case 'longstr':
        w.longstr(typeof v === 'string' || v instanceof Uint8Array ? v : '');
        break;
      case 'table':
        writeTable(w, v as Record<string, unknown> | undefined, 0);
        break;
    }
  }
  endFrame(w, sizeAt);
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Arguments by the names of methods.ts; omitted numbers are 0, strings '', bits false, tables empty. */
export type MethodArgs = Readonly<Record<string, unknown>>;

/** One method frame. */
export function encodeMethodFrame(
  channel: number,
  classId: number,
  methodId: number,
  args: MethodArgs,
): Buffer {
  scratch.pos = 0;
  writeMethod(scratch, channel, classId, methodId, args);
  return scratch.take(0);
}

const PROPERTY_FLAGS: readonly [keyof AmqpProperties, number, 'shortstr' | 'table' | 'octet' | 'longlong'][] =
  [
    ['contentType', 0x8000, 'shortstr'],
    ['contentEncoding', 0x4000, 'shortstr'],
    ['headers', 0x2000, 'table'],
    ['deliveryMode', 0x1000, 'octet'],
    ['priority', 0x0800, 'octet'],
    ['correlationId', 0x0400, 'shortstr'],
    ['replyTo', 0x0200, 'shortstr'],
    ['expiration', 0x0100, 'shortstr'],
    ['messageId', 0x0080, 'shortstr'],
    ['timestamp', 0x0040, 'longlong'],
    ['type', 0x0020, 'shortstr'],
    ['userId', 0x0010, 'shortstr'],
    ['appId', 0x0008, 'shortstr'],
    ['clusterId', 0x0004, 'shortstr'],
  ];

function writeContentHeader(w: Writer, channel: number, bodySize: number, p: AmqpProperties): void {
  const sizeAt = writeFrameHeader(w, FRAME_HEADER, channel);
  w.u16(60); // class Basic
  w.u16(0); // weight
  w.u64(bodySize);
  const flagsAt = w.pos;
  w.u16(0);
  let flags = 0;
  for (const [name, flag, type] of PROPERTY_FLAGS) {
    const v = p[name];
    if (v === undefined || v === null) continue;
    flags |= flag;
    if (type === 'shortstr') w.shortstr(String(v));
    else if (type === 'table') writeTable(w, v as Record<string, unknown>, 0);
    else if (type === 'octet') w.u8(v as number);
    else w.u64(v as number);
  }
  w.buf.writeUInt16BE(flags, flagsAt);
  endFrame(w, sizeAt);
}

/** A content header frame of class Basic with the properties present in `p`. */
export function encodeContentHeader(channel: number, bodySize: number, p: AmqpProperties): Buffer {
  scratch.pos = 0;
  writeContentHeader(scratch, channel, bodySize, p);
  return scratch.take(0);
}

/**
 * Basic.Publish, its content header and the body cut into frames of at most frameMax bytes (an
 * empty body has no body frame), as one Buffer to write at once.
 */
export function encodePublish(
  channel: number,
  frameMax: number,
  publish: { readonly exchange: string; readonly routingKey: string; readonly mandatory: boolean },
  properties: AmqpProperties,
  body: Uint8Array,
): Buffer {
  const maxBody = frameMax - FRAME_OVERHEAD;
  if (!(maxBody > 0)) throw new EncodeError(`frame_max ${frameMax} leaves no room for a body frame`);
  scratch.pos = 0;
  writeMethod(scratch, channel, 60, 40, publish);
  writeContentHeader(scratch, channel, body.length, properties);
  const head = scratch.pos;
  const frames = Math.ceil(body.length / maxBody);
  const out = Buffer.allocUnsafe(head + body.length + frames * FRAME_OVERHEAD);
  scratch.buf.copy(out, 0, 0, head);
  let pos = head;
  for (let off = 0; off < body.length; off += maxBody) {
    const n = Math.min(maxBody, body.length - off);
    out[pos] = FRAME_BODY;
    out.writeUInt16BE(channel, pos + 1);
    out.writeUInt32BE(n, pos + 3);
    out.set(body.subarray(off, off + n), pos + 7);
    out[pos + 7 + n] = FRAME_END;
    pos += n + FRAME_OVERHEAD;
  }
  return out;
}

/** The heartbeat frame (§4.2.7): type 8, channel 0, empty payload. */
export const HEARTBEAT_FRAME: Uint8Array = Uint8Array.of(FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END);
