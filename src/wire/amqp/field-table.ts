/**
 * AMQP field tables and arrays with every type RabbitMQ sends (AMQP 0-9-1 §4.2.5.5 as amended by
 * RabbitMQ's errata, https://www.rabbitmq.com/amqp-0-9-1-errata.html#section_3): the spec's 's' is
 * a signed 16-bit integer there, 'x' is a byte array, 'l' a signed 64-bit integer.
 *
 * Values: integers and floats as numbers (64-bit ones exact up to 2^53), 'S' as a UTF-8 string,
 * 't' boolean, 'V' null, 'x' a Uint8Array copy, 'D' `{ places, digits }` (the decimal value is
 * digits / 10^places), 'T' `{ timestamp: seconds }`, 'F' a nested record, 'A' an array.
 */
import { type Cursor, FrameFormatError } from './cursor.ts';

export interface AmqpDecimal {
  readonly places: number;
  readonly digits: number;
}

export interface AmqpTimestamp {
  /** Seconds since the epoch (AMQP timestamps are POSIX time_t). */
  readonly timestamp: number;
}

export function decodeTable(c: Cursor): Record<string, unknown> {
  const len = c.u32();
  c.need(len);
  const end = c.pos + len;
  const out: Record<string, unknown> = {};
  while (c.pos < end) {
    const key = c.shortstr();
    const v = decodeFieldValue(c, end);
    // A key named __proto__ must stay data, not change the object's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
    else out[key] = v;
  }
  if (c.pos !== end) throw new FrameFormatError('field table overruns its length', c.pos);
  return out;
}

export function decodeArray(c: Cursor): unknown[] {
  const len = c.u32();
  c.need(len);
  const end = c.pos + len;
  const out: unknown[] = [];
  while (c.pos < end) out.push(decodeFieldValue(c, end));
  if (c.pos !== end) throw new FrameFormatError('field array overruns its length', c.pos);
  return out;
}

/**
 * Deepest nesting of tables and arrays decoded. Real headers nest a few levels; a hostile frame
 * could nest ~16M/5 levels and overflow the stack here and in everything that walks the value.
 */
export const MAX_FIELD_NESTING = 64;
let depth = 0;

function nested<T>(c: Cursor, decode: (c: Cursor) => T): T {
  if (depth >= MAX_FIELD_NESTING)
    throw new FrameFormatError(`field tables nested deeper than ${MAX_FIELD_NESTING} levels`, c.pos);
  depth++;
  try {
    return decode(c);
  } finally {
    depth--;
  }
}

function decodeFieldValue(c: Cursor, limit: number): unknown {
  const at = c.pos;
  const tag = c.u8();
  let v: unknown;
  switch (tag) {
    case 0x74: // 't' boolean
      v = c.u8() !== 0;
      break;
    case 0x62: // 'b' int8
      v = c.i8();
      break;
    case 0x42: // 'B' uint8
      v = c.u8();
      break;
    case 0x73: // 's' int16 (RabbitMQ errata)
      v = c.i16();
      break;
    case 0x75: // 'u' uint16
      v = c.u16();
      break;
    case 0x49: // 'I' int32
      v = c.i32();
      break;
    case 0x69: // 'i' uint32
      v = c.u32();
      break;
    case 0x6c: // 'l' int64
      v = c.i64();
      break;
    case 0x4c: // 'L' uint64 (0-9-1 spec grammar; RabbitMQ never sends it but accepts it)
      v = c.u64();
      break;
    case 0x66: // 'f' float
      v = c.f32();
      break;
    case 0x64: // 'd' double
      v = c.f64();
      break;
    case 0x44: {
      // 'D' decimal: scale octet + uint32 digits
      const places = c.u8();
      const digits = c.u32();
      v = { places, digits } satisfies AmqpDecimal;
      break;
    }
    case 0x53: // 'S' long string
      v = c.longstr();
      break;
    case 0x41: // 'A' array
      v = nested(c, decodeArray);
      break;
    case 0x54: // 'T' timestamp (uint64 seconds)
      v = { timestamp: c.u64() } satisfies AmqpTimestamp;
      break;
    case 0x46: // 'F' nested table
      v = nested(c, decodeTable);
      break;
    case 0x56: // 'V' void
      v = null;
      break;
    case 0x78: // 'x' byte array (RabbitMQ)
      v = c.bytes(c.u32());
      break;
    default:
      throw new FrameFormatError(`unknown field type 0x${tag.toString(16)}`, at);
  }
  if (c.pos > limit) throw new FrameFormatError('field value overruns its table', at);
  return v;
}
