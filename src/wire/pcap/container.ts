/**
 * The pcap and pcapng container formats, read incrementally from chunks of any size.
 *
 * pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html): 24-byte file header, magic
 * a1b2c3d4 (µs) or a1b23c4d (ns) in the writer's byte order, link type in the last 4 bytes (upper
 * bits are FCS flags); then 16-byte record headers (ts_sec, ts_frac, incl_len, orig_len).
 *
 * pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html): blocks of
 * type/total-length/body/total-length. A Section Header Block (0x0a0d0d0a, byte-order magic
 * 1a2b3c4d) starts each section and fixes its byte order; Interface Description Blocks (1) give
 * each interface's link type and `if_tsresol` (option 9); packets come in Enhanced Packet Blocks
 * (6), Simple Packet Blocks (3, no timestamp: the last one seen is used) or the obsolete Packet
 * Block (2).
 *
 * Packets are handed on as views into the chunk; a record straddling chunks is the only thing
 * copied. Damage (impossible lengths) is counted and skipped by scanning for the next plausible
 * record, confirmed by the one after it.
 */

import { RpcscopeError } from '../../errors.ts';
import { type DecodeContext, validTimestamp } from '../context.ts';

export interface PacketHandler {
  /** One captured packet: buf[start, end), link type, time (epoch ms), input offset of buf[start]. */
  packet(linkType: number, ts: number, buf: Uint8Array, start: number, end: number, offset: number): void;
}

const KIND_UNKNOWN = 0;
const KIND_PCAP = 1;
const KIND_PCAPNG = 2;

/** Larger records than this are taken as damage (tcpdump's max snaplen is 262144). */
const MAX_RECORD = 262144 + 64;
const MAX_BLOCK = 16 * 1024 * 1024;

interface Iface {
  linkType: number;
  /** Timestamp units per millisecond (if_tsresol; default 10^-6 s → 1000). */
  unitsPerMs: number;
}

export class PcapContainer {
  private readonly ctx: DecodeContext;
  private readonly handler: PacketHandler;
  private kind = KIND_UNKNOWN;
  private le = true;
  /** pcap: timestamp fraction units per millisecond (µs: 1000, ns: 1e6). */
  private fracPerMs = 1000;
  private linkType = 0;
  private snapLen = MAX_RECORD;
  private ifaces: Iface[] = [];
  private lastTs = 0;
  /** Input offset of the next unconsumed byte. */
  private offset = 0;
  private carry: Buffer | null = null;
  /**
   * Chunks that arrived while the record `carry` starts was still incomplete, kept apart until
   * they complete it: concatenating each small chunk onto the carry would copy it once per chunk
   * (quadratic in a record's size when a pipe delivers it a few bytes at a time).
   */
  private waiting: Uint8Array[] = [];
  private waitingLen = 0;
  private waitNeed = 0;
  /** Records seen (packets). */
  packets = 0;
  /**
   * Earliest and latest packet time (epoch ms), NaN before the first: the capture's own span,
   * wider than its messages' (heartbeats, TCP keepalives and acks before and after them).
   */
  startMs = Number.NaN;
  endMs = Number.NaN;
  private resyncing = false;

  constructor(ctx: DecodeContext, handler: PacketHandler) {
    this.ctx = ctx;
    this.handler = handler;
  }

  get bytes(): number {
    return this.offset + (this.carry?.length ?? 0) + this.waitingLen;
  }

  /** The waiting chunks with `chunk` after them, as one (they are copies: chunks are reused). */
  private takeWaiting(chunk: Uint8Array): Uint8Array {
    if (this.waiting.length === 0) return chunk;
    const all = Buffer.concat([...this.waiting, chunk]);
    this.waiting = [];
    this.waitingLen = 0;
    this.waitNeed = 0;
    return all;
  }

  push(input: Uint8Array): void {
    if (this.waiting.length > 0 && this.waitingLen + input.length < this.waitNeed) {
      this.waiting.push(Buffer.from(input));
      this.waitingLen += input.length;
      return;
    }
    const chunk = this.takeWaiting(input);
    let buf: Uint8Array = chunk;
    const carry = this.carry;
    if (carry !== null) {
      // Complete only the record that straddles the chunks (a small copy), then parse the rest
      // of the chunk in place; a full concatenation would copy every chunk once more.
      const k = this.kind === KIND_UNKNOWN || this.resyncing ? -1 : this.toComplete(carry);
      if (k > chunk.length) {
        // still incomplete: wait for the bytes it needs without growing the carry
        this.waiting.push(Buffer.from(chunk));
        this.waitingLen = chunk.length;
        this.waitNeed = k;
        return;
      }
      this.carry = null;
      if (k > 0 && k < chunk.length) {
        const head = Buffer.concat([carry, chunk.subarray(0, k)]);
        const used = this.parse(head, false);
        this.offset += used;
        buf =
          used === head.length ? chunk.subarray(k) : Buffer.concat([head.subarray(used), chunk.subarray(k)]);
      } else buf = Buffer.concat([carry, chunk]);
    }
    const used = this.parse(buf, false);
    this.offset += used;
    if (used < buf.length) this.carry = Buffer.from(buf.subarray(used)); // copy: chunk is reused
  }

  /** Bytes still needed to complete the record (or its header) that `carry` starts, or -1. */
  private toComplete(carry: Uint8Array): number {
    if (this.kind === KIND_PCAP) {
      if (carry.length < 16) return 16 - carry.length;
      const incl = this.u32(carry, 8);
      return incl <= this.snapLen ? 16 + incl - carry.length : -1;
    }
    if (carry.length < 12) return 12 - carry.length;
    const total = u32be(carry, 0) === 0x0a0d0d0a ? -1 : this.u32(carry, 4);
    return total > 0 && total <= MAX_BLOCK ? total - carry.length : -1;
  }

  end(): void {
    const tail = this.takeWaiting(new Uint8Array(0));
    const buf = this.carry === null ? tail : tail.length > 0 ? Buffer.concat([this.carry, tail]) : this.carry;
    this.carry = null;
    const used = this.parse(buf, true);
    const rest = buf.length - used;
    if (this.kind === KIND_UNKNOWN && this.offset + buf.length === 0)
      throw new RpcscopeError(
        'RPCSCOPE_INPUT_FORMAT',
        `${this.ctx.input} is empty; expected a pcap or pcapng capture`,
        {
          context: { input: this.ctx.input, offset: 0 },
        },
      );
    if (rest > 0) {
      this.ctx.skipped.records++;
      this.ctx.skipped.bytes += rest;
      this.ctx.issue(
        this.offset + used,
        `capture ends inside a record: ${rest} bytes of a truncated record skipped`,
      );
    }
    this.offset += buf.length;
  }

  /** Parses whole records in buf; returns the bytes consumed. */
  private parse(buf: Uint8Array, final: boolean): number {
    let p = 0;
    if (this.kind === KIND_UNKNOWN) {
      if (buf.length < 24 && !final) return 0;
      p = this.fileHeader(buf);
    }
    return this.kind === KIND_PCAP ? this.pcapRecords(buf, p, final) : this.ngBlocks(buf, p, final);
  }

  private fileHeader(buf: Uint8Array): number {
    const fail = (why: string): never => {
      throw new RpcscopeError(
        'RPCSCOPE_INPUT_FORMAT',
        `${this.ctx.input} is not a pcap or pcapng capture (${why}); record one with tcpdump -w`,
        {
          context: { input: this.ctx.input, offset: 0 },
        },
      );
    };
    if (buf.length < 24) fail(`only ${buf.length} bytes`);
    const m = u32be(buf, 0);
    if (m === 0x0a0d0d0a) {
      this.kind = KIND_PCAPNG;
      return 0; // the SHB is parsed as a block
    }
    if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) this.le = false;
    else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) this.le = true;
    else fail(`magic ${m.toString(16).padStart(8, '0')}`);
    this.kind = KIND_PCAP;
    this.fracPerMs = m === 0xa1b23c4d || m === 0x4d3cb2a1 ? 1e6 : 1000;
    const snap = this.u32(buf, 16);
    this.snapLen = snap > 0 && snap < MAX_RECORD ? Math.max(snap, 65535) : MAX_RECORD;
    this.linkType = this.u32(buf, 20) & 0x0fffffff;
    return 24;
  }

  private u32(b: Uint8Array, p: number): number {
    return this.le ? u32le(b, p) : u32be(b, p);
  }

  private u16(b: Uint8Array, p: number): number {
    return this.le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
  }

  // ---- pcap ----------------------------------------------------------------------------------

  private pcapRecords(buf: Uint8Array, p: number, final: boolean): number {
    const len = buf.length;
    const base = this.offset;
    while (p < len) {
      if (this.resyncing) {
        const q = this.resync(buf, p, final, KIND_PCAP);
        if (q < 0) return final ? len : this.resyncAt;
        this.resyncing = false;
        p = q;
        continue;
      }
      if (p + 16 > len) return p;
      const incl = this.u32(buf, p + 8);
      const orig = this.u32(buf, p + 12);
      if (incl > this.snapLen || incl > orig) {
        this.damaged(base + p, `pcap record header with impossible length ${incl} (original ${orig})`);
        p++;
        continue;
      }
      if (p + 16 + incl > len) return p;
      const ts = this.u32(buf, p) * 1000 + this.u32(buf, p + 4) / this.fracPerMs;
      if (!validTimestamp(ts)) {
        this.badTime(base + p, 16 + incl, ts);
        p += 16 + incl;
        continue;
      }
      this.packets++;
      this.lastTs = ts;
      this.spans(ts);
      this.handler.packet(this.linkType, ts, buf, p + 16, p + 16 + incl, base + p + 16);
      p += 16 + incl;
    }
    return p;
  }

  /** End of a plausible pcap record at q, -1 if implausible, -2 if more bytes are needed. */
  private pcapPlausible(buf: Uint8Array, q: number): number {
    if (q + 16 > buf.length) return -2;
    const sec = this.u32(buf, q);
    const frac = this.u32(buf, q + 4);
    const incl = this.u32(buf, q + 8);
    const orig = this.u32(buf, q + 12);
    if (incl > this.snapLen || incl > orig || incl < 14 || frac >= this.fracPerMs * 1000) return -1;
    // Within a day of the last good record, if there was one.
    if (this.lastTs > 0 && Math.abs(sec * 1000 - this.lastTs) > 86400000) return -1;
    return q + 16 + incl;
  }

  /** End of a plausible pcapng block at q, -1 if implausible, -2 if more bytes are needed. */
  private ngPlausible(buf: Uint8Array, q: number): number {
    if (q + 12 > buf.length) return -2;
    const type = this.u32(buf, q);
    if (
      type !== 6 &&
      type !== 1 &&
      type !== 3 &&
      type !== 5 &&
      type !== 4 &&
      type !== 2 &&
      type !== 0x0a0d0d0a
    )
      return -1;
    const total = this.u32(buf, q + 4);
    if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) return -1;
    if (q + total > buf.length) return -2;
    if (this.u32(buf, q + total - 4) !== total) return -1;
    return q + total;
  }

  /**
   * The first plausible record at or after p, confirmed by the one after it (or the end of the
   * input). Returns its position, or -1 when more bytes are needed: bytes before `resyncAt` are
   * then skipped (and counted) and the rest is kept for the next chunk.
   */
  private resync(buf: Uint8Array, p: number, final: boolean, kind: number): number {
    const len = buf.length;
    for (let q = p; q < len; q++) {
      const n = kind === KIND_PCAP ? this.pcapPlausible(buf, q) : this.ngPlausible(buf, q);
      if (n === -1) continue;
      if (n === -2) {
        if (final) continue;
        return this.needMore(p, q);
      }
      if (n === len) {
        if (final) return this.skipTo(p, q);
        return this.needMore(p, q);
      }
      const m = kind === KIND_PCAP ? this.pcapPlausible(buf, n) : this.ngPlausible(buf, n);
      if (m === -1) continue;
      if (m === -2 && !final) return this.needMore(p, q);
      return this.skipTo(p, q);
    }
    this.ctx.skipped.bytes += len - p;
    this.skipRun += len - p;
    this.resyncAt = len;
    return -1;
  }

  private resyncAt = 0;

  private needMore(p: number, q: number): number {
    this.ctx.skipped.bytes += q - p;
    this.skipRun += q - p;
    this.resyncAt = q;
    return -1;
  }

  private skipTo(p: number, q: number): number {
    this.ctx.skipped.bytes += q - p;
    this.ctx.issue(
      this.offset + q,
      `resumed at the next plausible record after ${this.skipRun + q - p} damaged bytes`,
    );
    this.skipRun = 0;
    return q;
  }

  private skipRun = 0;

  private damaged(offset: number, message: string): void {
    this.ctx.skipped.records++;
    this.ctx.skipped.bytes++;
    this.skipRun = 1;
    this.ctx.issue(offset, `${message}; scanning for the next record`);
    this.resyncing = true;
  }

  // ---- pcapng --------------------------------------------------------------------------------

  private ngBlocks(buf: Uint8Array, p: number, final: boolean): number {
    const len = buf.length;
    const base = this.offset;
    while (p < len) {
      if (this.resyncing) {
        const q = this.resync(buf, p, final, KIND_PCAPNG);
        if (q < 0) return final ? len : this.resyncAt;
        this.resyncing = false;
        p = q;
        continue;
      }
      if (p + 12 > len) return p;
      let type = this.u32(buf, p);
      if (type === 0x0a0d0d0a || u32be(buf, p) === 0x0a0d0d0a) {
        // SHB: the byte-order magic decides this section's endianness.
        const bom = u32be(buf, p + 8);
        if (bom === 0x1a2b3c4d) this.le = false;
        else if (bom === 0x4d3c2b1a) this.le = true;
        else {
          this.damaged(base + p, 'section header with unknown byte-order magic');
          p++;
          continue;
        }
        type = 0x0a0d0d0a;
        this.ifaces = [];
      }
      const total = this.u32(buf, p + 4);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
        this.damaged(base + p, `pcapng block with impossible length ${total}`);
        p++;
        continue;
      }
      if (p + total > len) return p;
      if (this.u32(buf, p + total - 4) !== total) {
        this.damaged(base + p, `pcapng block length ${total} does not match its trailer`);
        p++;
        continue;
      }
      this.ngBlock(type, buf, p, total, base);
      p += total;
    }
    return p;
  }

  /**
   * A packet whose time is outside 1970..9999 (a damaged header, or an if_tsresol that does not
   * fit the timestamps): skipped and counted, as its place in time is unknown.
   */
  private spans(ts: number): void {
    if (!(ts >= this.startMs)) this.startMs = ts;
    if (!(ts <= this.endMs)) this.endMs = ts;
  }

  private badTime(offset: number, bytes: number, ts: number): void {
    this.ctx.skipped.records++;
    this.ctx.skipped.bytes += bytes;
    this.ctx.issue(offset, `packet timestamp out of range (${ts} ms since the epoch): record skipped`);
  }

  private ngBlock(type: number, buf: Uint8Array, p: number, total: number, base: number): void {
    switch (type) {
      case 1: {
        // IDB: link type (16 bits), reserved, snaplen, options.
        const iface: Iface = { linkType: this.u16(buf, p + 8), unitsPerMs: 1000 };
        let o = p + 16;
        const end = p + total - 4;
        while (o + 4 <= end) {
          const code = this.u16(buf, o);
          const olen = this.u16(buf, o + 2);
          if (code === 0) break;
          if (code === 9 && olen >= 1) {
            // if_tsresol: MSB 0 → 10^-n s, MSB 1 → 2^-n s.
            const r = buf[o + 4]!;
            // Beyond 2^-64 s or 10^-19 s no 64-bit timestamp reaches the present: damage, so
            // the default (µs) is kept and the interface's packets are judged by their times.
            if (r & 0x80 ? (r & 0x7f) > 64 : r > 19) {
              this.ctx.issue(
                base + o,
                `pcapng interface ${this.ifaces.length}: impossible if_tsresol ${r}, microseconds assumed`,
              );
            } else {
              const unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
              iface.unitsPerMs = unitsPerSec / 1000;
            }
          }
          o += 4 + ((olen + 3) & ~3);
        }
        this.ifaces.push(iface);
        return;
      }
      case 6:
      case 2: {
        // EPB: interface id (PB: 16-bit id + 16-bit drops), ts high, ts low, captured, original, data.
        const id = type === 6 ? this.u32(buf, p + 8) : this.u16(buf, p + 8);
        const iface = this.ifaces[id];
        const cap = this.u32(buf, p + 20);
        if (iface === undefined || 28 + cap + 4 > total) {
          this.ctx.skipped.records++;
          this.ctx.skipped.bytes += total;
          this.ctx.issue(
            base + p,
            iface === undefined
              ? `packet block names unknown interface ${id}`
              : 'packet block shorter than its captured length',
          );
          return;
        }
        const units = this.u32(buf, p + 12) * 4294967296 + this.u32(buf, p + 16);
        const ts = units / iface.unitsPerMs;
        if (!validTimestamp(ts)) {
          this.badTime(base + p, total, ts);
          return;
        }
        this.lastTs = ts;
        this.spans(ts);
        this.packets++;
        this.handler.packet(iface.linkType, ts, buf, p + 28, p + 28 + cap, base + p + 28);
        return;
      }
      case 3: {
        // SPB: original length, data (captured length = min(original, block room)), interface 0.
        const iface = this.ifaces[0];
        if (iface === undefined) {
          this.ctx.skipped.records++;
          this.ctx.skipped.bytes += total;
          this.ctx.issue(base + p, 'simple packet block before any interface description');
          return;
        }
        const cap = Math.min(this.u32(buf, p + 8), total - 16);
        this.packets++;
        this.handler.packet(iface.linkType, this.lastTs, buf, p + 12, p + 12 + cap, base + p + 12);
        return;
      }
      default:
        return; // SHB (handled above), name resolution, statistics, custom blocks: nothing to decode
    }
  }
}

function u32be(b: Uint8Array, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function u32le(b: Uint8Array, p: number): number {
  return b[p + 3]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 1]! << 8) | b[p]!);
}
