/**
 * A bounds-checked reader over one AMQP frame payload (AMQP 0-9-1 §4.2.5: big-endian integers,
 * shortstr = octet length + bytes, longstr = long length + bytes). Reading past `end` throws
 * FrameFormatError, which the frame layer turns into a counted skip; it never escapes the decoder.
 */

/** A malformed frame payload; caught by the frame stream and counted, never thrown to callers. */
export class FrameFormatError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'FrameFormatError';
    this.offset = offset;
  }
}

export class Cursor {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  private view: DataView | undefined;

  constructor(buf: Uint8Array, start: number, end: number) {
    // Buffer's C++ utf8Slice is much faster than TextDecoder on short strings; the view costs no copy.
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  need(n: number): void {
    if (this.pos + n > this.end)
      throw new FrameFormatError(`field needs ${n} bytes, ${this.end - this.pos} left`, this.pos);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** 64-bit unsigned as a number (exact up to 2^53; delivery tags and timestamps stay far below). */
  u64(): number {
    const hi = this.u32();
    return hi * 4294967296 + this.u32();
  }

  i8(): number {
    return (this.u8() << 24) >> 24;
  }

  i16(): number {
    return (this.u16() << 16) >> 16;
  }

  i32(): number {
    return this.u32() | 0;
  }

  i64(): number {
    const hi = this.u32() | 0;
    return hi * 4294967296 + this.u32();
  }

  private dv(): DataView {
    if (this.view === undefined)
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view;
  }

  f32(): number {
    this.need(4);
    const v = this.dv().getFloat32(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.dv().getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  str(len: number): string {
    this.need(len);
    const p = this.pos;
    this.pos = p + len;
    return len === 0 ? '' : this.buf.toString('utf8', p, p + len);
  }

  shortstr(): string {
    return this.str(this.u8());
  }

  longstr(): string {
    return this.str(this.u32());
  }

  /** A copy of the next `len` bytes (field-table byte arrays outlive the input chunk). */
  bytes(len: number): Uint8Array {
    this.need(len);
    const p = this.pos;
    this.pos = p + len;
    return Uint8Array.prototype.slice.call(this.buf, p, p + len);
  }

  /** A view of the next `len` bytes, valid only while the input chunk is (never stored). */
  subview(len: number): Uint8Array {
    this.need(len);
    const p = this.pos;
    this.pos = p + len;
    return this.buf.subarray(p, p + len);
  }
}
