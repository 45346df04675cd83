/**
 * One direction of a TCP connection put back in order (RFC 9293 sequence space, modulo 2^32):
 * in-order payload goes straight on as a view; retransmitted and overlapping bytes are cut off;
 * segments ahead of a hole are copied and held until the hole fills.
 *
 * A hole is declared lost (bytes missing from the capture, counted) when the peer has already
 * acknowledged past it (the receiver got bytes the capture never saw, as Wireshark's "ACKed
 * unseen segment"), when more than HOLD_LIMIT bytes wait behind it, or at the end.
 */
import type { DecodeContext } from '../context.ts';

/** Receives the reassembled byte stream. */
export interface ByteStreamSink {
  push(buf: Uint8Array, start: number, end: number, ts: number, offset: number): void;
  /** Bytes are missing here. */
  gap(): void;
  end(ts: number): void;
}

interface Held {
  seq: number;
  data: Uint8Array;
  ts: number;
  offset: number;
}

const HOLD_LIMIT = 8 * 1024 * 1024;

export class TcpDirection {
  private readonly ctx: DecodeContext;
  readonly sink: ByteStreamSink;
  readonly label: string;
  /** Next expected sequence number, -1 until the first segment. */
  next = -1;
  /** Highest sequence number the peer acknowledged, -1 until known. */
  private acked = -1;
  private held: Held[] = [];
  private heldBytes = 0;
  private finSeq = -1;
  ended = false;

  constructor(ctx: DecodeContext, sink: ByteStreamSink, label: string) {
    this.ctx = ctx;
    this.sink = sink;
    this.label = label;
  }

  /** SYN with initial sequence number isn: data starts at isn+1. */
  syn(isn: number): void {
    if (this.next < 0) this.next = (isn + 1) >>> 0;
  }

  /** The peer acknowledged up to `ack` (ACK flag set on a segment of the other direction). */
  peerAck(ack: number): void {
    if (this.acked < 0 || ((ack - this.acked) | 0) > 0) this.acked = ack;
  }

  segment(
    seq: number,
    buf: Uint8Array,
    start: number,
    end: number,
    fin: boolean,
    ts: number,
    offset: number,
  ): void {
    if (this.ended) return;
    const len = end - start;
    if (this.next < 0) this.next = seq;
    if (fin) this.finSeq = (seq + len) >>> 0;
    if (len > 0) {
      const d = (seq - this.next) | 0;
      if (d <= 0) {
        if (d + len > 0) {
          this.next = (seq + len) >>> 0;
          this.sink.push(buf, start - d, end, ts, offset - d);
          if (this.held.length > 0) this.drain(ts);
        }
      } else {
        this.hold(seq, buf.slice(start, end), ts, offset);
        // Acked past the hole: the receiver has bytes the capture missed; they will not come.
        if (this.acked >= 0 && ((this.acked - this.next) | 0) > 0) this.skipHole(ts, offset);
        while (this.heldBytes > HOLD_LIMIT) this.skipHole(ts, offset);
      }
    }
    if (this.finSeq >= 0 && this.next === this.finSeq && this.held.length === 0) this.finish(ts);
  }

  /** End of capture or RST: deliver what is held, counting the holes, and end the stream. */
  flush(ts: number, offset: number): void {
    if (this.ended) return;
    while (this.held.length > 0) this.skipHole(ts, offset);
    this.finish(ts);
  }

  private finish(ts: number): void {
    this.ended = true;
    this.sink.end(ts);
  }

  private hold(seq: number, data: Uint8Array, ts: number, offset: number): void {
    const h: Held = { seq, data, ts, offset };
    let i = this.held.length;
    while (i > 0 && ((this.held[i - 1]!.seq - seq) | 0) > 0) i--;
    this.held.splice(i, 0, h);
    this.heldBytes += data.length;
  }

  /** Gives up on the hole before the first held segment. */
  private skipHole(ts: number, offset: number): void {
    const h = this.held[0]!;
    const n = (h.seq - this.next) | 0;
    if (n > 0) {
      this.ctx.skipped.bytes += n;
      this.ctx.issue(
        h.offset,
        `TCP: ${n} bytes of ${this.label} missing from the capture before this segment (seen at offset ${offset})`,
      );
      this.sink.gap();
      this.next = h.seq;
    }
    this.drain(ts);
  }

  /**
   * Delivers held segments that are now in order. They are stamped `now`, the time the stream
   * had these bytes in order, so events stay in capture time order across connections.
   */
  private drain(now: number): void {
    while (this.held.length > 0) {
      const h = this.held[0]!;
      const d = (h.seq - this.next) | 0;
      if (d > 0) return;
      this.held.shift();
      this.heldBytes -= h.data.length;
      const len = h.data.length;
      if (d + len > 0) {
        this.next = (h.seq + len) >>> 0;
        this.sink.push(h.data, -d, len, Math.max(now, h.ts), h.offset - d);
      }
    }
  }
}
