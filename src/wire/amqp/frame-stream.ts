/**
 * Splits one direction of an AMQP 0-9-1 byte stream into frames (§4.2.3: type octet, channel
 * short, size long, payload, frame-end octet 0xCE), like Wireshark's dissector after TCP
 * desegmentation. Frames inside one pushed chunk are handed on as views (no copy); only a frame
 * that straddles chunks is stitched into a buffer of its exact size.
 *
 * Streams that start mid-connection, or resume after bytes missing from the capture, are
 * resynchronised on a frame boundary: a plausible header (type 1/2/3/8, a size that fits
 * frame-max, type-specific checks), 0xCE at offset 7+size, confirmed by a plausible next frame.
 * The bytes passed over are counted as skipped.
 */
import type { DecodeContext } from '../context.ts';
import { methodSpec } from './methods.ts';

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
/** "AMQP" 0 0 9 1: the protocol header a client sends first (§4.2.2). */
export const PROTOCOL_HEADER = Uint8Array.of(0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1);

/** RabbitMQ's default frame_max; used to judge plausibility before Connection.Tune is seen. */
const DEFAULT_FRAME_MAX = 131072;
/** Largest frame accepted on a synchronised stream when frame-max is unknown. */
const SYNCED_FRAME_LIMIT = 1 << 24;

/** Receives the frames of both directions of one connection. */
export interface FrameHandler {
  /** Payload is buf[start, end). `owned`: buf is a fresh copy the handler may keep. */
  frame(
    dir: number,
    type: number,
    channel: number,
    buf: Uint8Array,
    start: number,
    end: number,
    ts: number,
    offset: number,
    owned: boolean,
  ): void;
  /** Negotiated frame-max, 0 while unknown. */
  readonly frameMax: number;
  /** Bytes went missing in direction `dir`: anything half-assembled there is lost. */
  lost(dir: number): void;
}

const MODE_SYNCED = 0;
const MODE_SCAN = 1;

export class AmqpFrameStream {
  private readonly ctx: DecodeContext;
  private readonly handler: FrameHandler;
  private readonly dir: number;
  private mode: number;
  /** The stream was synchronised from its first byte (handshake seen): orphan content is a violation. */
  private fromStart: boolean;
  // A frame straddling pushes: its first bytes (header in `head` until 7 are known, then `part`).
  private readonly head = new Uint8Array(8);
  private headLen = 0;
  private part: Uint8Array | null = null;
  private partLen = 0;
  private partOffset = 0;
  // Scan mode: bytes kept until a frame boundary is found.
  private scan: Buffer | null = null;
  private scanOffset = 0;

  constructor(ctx: DecodeContext, handler: FrameHandler, dir: number, synced: boolean) {
    this.ctx = ctx;
    this.handler = handler;
    this.dir = dir;
    this.mode = synced ? MODE_SYNCED : MODE_SCAN;
    this.fromStart = synced;
  }

  /** The connection's first bytes (SYN seen): frames start at the first byte. */
  startAtBeginning(): void {
    if (this.scan === null && this.headLen === 0) {
      this.mode = MODE_SYNCED;
      this.fromStart = true;
    }
  }

  get synchronisedFromStart(): boolean {
    return this.fromStart;
  }

  /** Stream bytes buf[start, end), in order; `offset` = input byte offset of buf[start]. */
  push(buf: Uint8Array, start: number, end: number, ts: number, offset: number): void {
    if (this.mode === MODE_SCAN) {
      this.scanPush(buf, start, end, ts, offset, false);
      return;
    }
    let p = start;
    if (this.headLen > 0) {
      p = this.continuePartial(buf, p, end, ts);
      if (p < 0) return;
    }
    const q = this.frames(buf, p, end, ts, offset - start, false);
    if (q >= 0) this.scanPush(buf, q, end, ts, offset - start + q, false);
  }

  /** Bytes of the stream are missing (not captured; the TCP layer counted them). */
  gap(): void {
    this.dropPartial();
    this.handler.lost(this.dir);
    this.fromStart = false;
    if (this.mode === MODE_SCAN) {
      this.ctx.skipped.bytes += this.scan === null ? 0 : this.scan.length;
      this.scan = null;
    }
    this.mode = MODE_SCAN;
  }

  /** The stream ended (FIN/RST or end of capture): anything incomplete is counted as skipped. */
  end(ts: number): void {
    if (this.mode === MODE_SCAN && this.scan !== null) {
      const s = this.scan;
      this.scan = null;
      this.scanPush(s, 0, s.length, ts, this.scanOffset, true);
    }
    this.dropPartial();
    if (this.scan !== null) {
      this.ctx.skipped.bytes += this.scan.length;
      this.scan = null;
    }
  }

  private dropPartial(): void {
    this.ctx.skipped.bytes += this.part !== null ? this.partLen : this.headLen;
    this.part = null;
    this.partLen = 0;
    this.headLen = 0;
  }

  private frameLimit(): number {
    const fm = this.handler.frameMax;
    return fm > 0 ? Math.max(fm, 4096) : SYNCED_FRAME_LIMIT;
  }

  /** Completes a straddling frame; returns where the rest of buf starts, or -1 if buf is used up. */
  private continuePartial(buf: Uint8Array, p: number, end: number, ts: number): number {
    if (this.part === null) {
      const need = (this.head[0] === 0x41 ? 8 : 7) - this.headLen;
      const n = Math.min(need, end - p);
      this.head.set(buf.subarray(p, p + n), this.headLen);
      this.headLen += n;
      p += n;
      if (this.headLen < (this.head[0] === 0x41 ? 8 : 7)) return -1;
      const total = this.checkHeader(this.head, 0, this.partOffset);
      if (total < 0) {
        // Bad header: rescan from its second byte (the header bytes plus the rest of this chunk).
        const carry = Buffer.concat([this.head.subarray(1, this.headLen), buf.subarray(p, end)]);
        this.ctx.skipped.bytes += 1;
        this.headLen = 0;
        this.mode = MODE_SCAN;
        this.scanPush(carry, 0, carry.length, ts, this.partOffset + 1, false);
        return -1;
      }
      if (this.head[0] === 0x41) {
        this.headLen = 0; // protocol header, nothing to hand on
        return p;
      }
      this.part = Buffer.allocUnsafe(total);
      this.part.set(this.head.subarray(0, this.headLen));
      this.partLen = this.headLen;
    }
    const part = this.part;
    const n = Math.min(part.length - this.partLen, end - p);
    part.set(buf.subarray(p, p + n), this.partLen);
    this.partLen += n;
    p += n;
    if (this.partLen < part.length) return -1;
    this.part = null;
    this.headLen = 0;
    this.partLen = 0;
    if (part[part.length - 1] !== FRAME_END) {
      this.corrupt(this.partOffset, 'frame does not end with 0xCE');
      const carry = Buffer.concat([part.subarray(1), buf.subarray(p, end)]);
      this.ctx.skipped.bytes += 1;
      this.scanPush(carry, 0, carry.length, ts, this.partOffset + 1, false);
      return -1;
    }
    this.dispatch(part, 0, part.length, ts, this.partOffset, true);
    return p;
  }

  /**
   * Frames in buf[p, end); `base` maps a position to an input offset (offset = base + position).
   * Leaves an incomplete trailing frame in head/part and returns -1, or, on damage, switches to
   * scan mode and returns where scanning starts (the caller scans: no recursion, however many
   * damaged frames a chunk holds).
   */
  private frames(buf: Uint8Array, p: number, end: number, ts: number, base: number, owned: boolean): number {
    while (p < end) {
      const avail = end - p;
      if (avail < 7 || (buf[p] === 0x41 && avail < 8)) {
        this.head.set(buf.subarray(p, end), 0);
        this.headLen = avail;
        this.partOffset = base + p;
        return -1;
      }
      const total = this.checkHeader(buf, p, base + p);
      if (total < 0) {
        this.ctx.skipped.bytes += 1;
        this.mode = MODE_SCAN;
        return p + 1;
      }
      if (total > avail) {
        this.part = Buffer.allocUnsafe(total);
        this.part.set(buf.subarray(p, end), 0);
        this.partLen = avail;
        this.headLen = 7;
        this.partOffset = base + p;
        return -1;
      }
      if (buf[p] === 0x41) {
        p += 8;
        continue;
      }
      if (buf[p + total - 1] !== FRAME_END) {
        this.corrupt(base + p, 'frame does not end with 0xCE');
        this.ctx.skipped.bytes += 1;
        this.mode = MODE_SCAN;
        return p + 1;
      }
      this.dispatch(buf, p, p + total, ts, base + p, owned);
      p += total;
    }
    return -1;
  }

  /** Frame length for a header at b[p] (7 bytes available, 8 for "AMQP"), or -1 if implausible. */
  private checkHeader(b: Uint8Array, p: number, offset: number): number {
    const type = b[p]!;
    if (type === 0x41) {
      for (let i = 1; i < 8; i++) {
        if (b[p + i] !== PROTOCOL_HEADER[i]) {
          this.corrupt(
            offset,
            'bytes at a frame boundary are neither a frame nor the AMQP 0-9-1 protocol header',
          );
          return -1;
        }
      }
      return 8;
    }
    const size = b[p + 3]! * 0x1000000 + ((b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!);
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
      this.corrupt(offset, `unknown frame type ${type}`);
      return -1;
    }
    if (size > this.frameLimit()) {
      this.corrupt(offset, `frame size ${size} exceeds frame-max ${this.frameLimit()}`);
      return -1;
    }
    return size + 8;
  }

  private corrupt(offset: number, message: string): void {
    this.ctx.skipped.frames++;
    this.ctx.issue(offset, `AMQP: ${message}; resynchronising`);
    this.fromStart = false;
    this.handler.lost(this.dir);
  }

  private dispatch(
    buf: Uint8Array,
    p: number,
    end: number,
    ts: number,
    offset: number,
    owned: boolean,
  ): void {
    const channel = (buf[p + 1]! << 8) | buf[p + 2]!;
    this.handler.frame(this.dir, buf[p]!, channel, buf, p + 7, end - 1, ts, offset, owned);
  }

  // ---- resynchronisation -------------------------------------------------------------------

  private scanPush(
    buf: Uint8Array,
    start: number,
    end: number,
    ts: number,
    offset: number,
    final: boolean,
  ): void {
    for (;;) {
      let b: Buffer;
      if (this.scan === null) {
        b = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
        this.scanOffset = offset;
      } else {
        b = Buffer.concat([this.scan, buf.subarray(start, end)]);
      }
      this.scan = null;
      const r = this.findSync(b, final);
      if (r < 0) {
        // Undecided from position -r-1 on: keep that tail (copied: b may view the caller's chunk).
        const keep = -r - 1;
        this.ctx.skipped.bytes += keep;
        this.scan = keep < b.length ? Buffer.from(b.subarray(keep)) : null;
        this.scanOffset += keep;
        if (final && this.scan !== null) {
          this.ctx.skipped.bytes += this.scan.length;
          this.scan = null;
        }
        return;
      }
      this.ctx.skipped.bytes += r;
      this.mode = MODE_SYNCED;
      const base = this.scanOffset;
      // frames() may keep a straddling tail in head/part: those are copies, so b may go.
      const q = this.frames(b, r, b.length, ts, base, false);
      if (q < 0) return;
      buf = b; // damaged again at q: scan on from there
      start = q;
      end = b.length;
      offset = base + q;
    }
  }

  /**
   * Position of the first frame boundary in b, or -(p+1) when no boundary is found before p and
   * positions from p on need more bytes to decide.
   */
  private findSync(b: Uint8Array, final: boolean): number {
    const len = b.length;
    const fm = this.handler.frameMax > 0 ? this.handler.frameMax : DEFAULT_FRAME_MAX;
    for (let i = 0; i < len; i++) {
      const t = b[i]!;
      if (t === 0x41) {
        if (i + 8 > len) {
          if (final) continue;
          return -(i + 1);
        }
        if (
          b[i + 1] === 0x4d &&
          b[i + 2] === 0x51 &&
          b[i + 3] === 0x50 &&
          b[i + 4] === 0 &&
          b[i + 5] === 0 &&
          b[i + 6] === 9 &&
          b[i + 7] === 1
        )
          return i;
        continue;
      }
      if (t !== FRAME_METHOD && t !== FRAME_HEADER && t !== FRAME_BODY && t !== FRAME_HEARTBEAT) continue;
      const v = plausibleFrame(b, i, len, fm);
      if (v === NO) continue;
      if (v === MORE) {
        if (final) continue;
        return -(i + 1);
      }
      // v = end of the frame (exclusive); confirm with the next one.
      if (v === len) {
        if (final) return i;
        return -(i + 1);
      }
      const w = plausibleFrame(b, v, len, fm);
      if (w === NO) continue;
      if (w === MORE && !final && len - v < 7) return -(i + 1);
      return i;
    }
    return -(len + 1);
  }
}

const NO = -1;
const MORE = -2;

/**
 * Is there a plausible frame at b[i]? Returns its end (exclusive), NO, or MORE (needs bytes past
 * len to decide). Type-specific checks (§4.2.6): heartbeats are on channel 0 with no payload;
 * methods name a known class/method, class Connection only on channel 0; content headers are of
 * class Basic with weight 0; bodies are on a channel other than 0.
 */
function plausibleFrame(b: Uint8Array, i: number, len: number, frameMax: number): number {
  if (i + 7 > len) return MORE;
  const t = b[i]!;
  const ch = (b[i + 1]! << 8) | b[i + 2]!;
  const size = b[i + 3]! * 0x1000000 + ((b[i + 4]! << 16) | (b[i + 5]! << 8) | b[i + 6]!);
  if (size + 8 > frameMax) return NO;
  switch (t) {
    case FRAME_HEARTBEAT:
      if (ch !== 0 || size !== 0) return NO;
      break;
    case FRAME_METHOD:
      if (size < 4) return NO;
      if (i + 11 > len) return MORE;
      {
        const cls = (b[i + 7]! << 8) | b[i + 8]!;
        const mth = (b[i + 9]! << 8) | b[i + 10]!;
        if (methodSpec(cls, mth) === undefined) return NO;
        if ((cls === 10) !== (ch === 0)) return NO;
      }
      break;
    case FRAME_HEADER:
      if (size < 14 || ch === 0) return NO;
      if (i + 11 > len) return MORE;
      if (b[i + 7] !== 0 || b[i + 8] !== 60 || b[i + 9] !== 0 || b[i + 10] !== 0) return NO;
      break;
    case FRAME_BODY:
      if (size === 0 || ch === 0) return NO;
      break;
    default:
      return NO;
  }
  const endAt = i + 7 + size;
  if (endAt >= len) return MORE;
  if (b[endAt] !== FRAME_END) return NO;
  return endAt + 1;
}
