/**
 * Builds captures for tests: TCP conversations over Ethernet/SLL/SLL2/RAW/NULL with IPv4 or
 * IPv6, written as pcap (either byte order, µs or ns) or pcapng (EPB/SPB, any if_tsresol).
 */

import type { CaptureEvent, WireMessage } from '../../src/records.ts';
import { type PcapReadResult, PcapStreamDecoder } from '../../src/wire/pcap/decoder.ts';
import { method, PROTOCOL_HEADER } from '../wire/amqp/oracle.ts';

export interface Packet {
  /** epoch ms */
  ts: number;
  data: Uint8Array;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export interface SegmentOpts {
  seq?: number;
  ack?: number;
  flags?: number;
  ts?: number;
}

const FIN = 1;
const SYN = 2;
const RST = 4;
const PSH = 8;
const ACK = 16;
export const TCP = { FIN, SYN, RST, PSH, ACK };

function ipBytes(ip: string): Uint8Array {
  if (!ip.includes(':')) return Uint8Array.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const words = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t].map((w) =>
    Number.parseInt(w, 16),
  );
  const b = new Uint8Array(16);
  words.forEach((w, i) => {
    b[2 * i] = w >> 8;
    b[2 * i + 1] = w & 255;
  });
  return b;
}

/** IP + TCP headers and payload. */
export function ipTcp(
  src: Endpoint,
  dst: Endpoint,
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array,
): Uint8Array {
  const v6 = src.ip.includes(':');
  const tcp = new Uint8Array(20 + payload.length);
  const tv = new DataView(tcp.buffer);
  tv.setUint16(0, src.port);
  tv.setUint16(2, dst.port);
  tv.setUint32(4, seq >>> 0);
  tv.setUint32(8, ack >>> 0);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tv.setUint16(14, 65535);
  tcp.set(payload, 20);
  if (v6) {
    const ip = new Uint8Array(40 + tcp.length);
    const v = new DataView(ip.buffer);
    ip[0] = 0x60;
    v.setUint16(4, tcp.length);
    ip[6] = 6;
    ip[7] = 64;
    ip.set(ipBytes(src.ip), 8);
    ip.set(ipBytes(dst.ip), 24);
    ip.set(tcp, 40);
    return ip;
  }
  const ip = new Uint8Array(20 + tcp.length);
  const v = new DataView(ip.buffer);
  ip[0] = 0x45;
  v.setUint16(2, ip.length);
  v.setUint16(6, 0x4000); // DF
  ip[8] = 64;
  ip[9] = 6;
  ip.set(ipBytes(src.ip), 12);
  ip.set(ipBytes(dst.ip), 16);
  ip.set(tcp, 20);
  return ip;
}

/** Wraps an IP packet in the link-layer header of `linkType`. */
export function link(linkType: number, ip: Uint8Array): Uint8Array {
  const v6 = ip[0]! >> 4 === 6;
  const et = v6 ? 0x86dd : 0x0800;
  let h: Uint8Array;
  switch (linkType) {
    case 1:
      h = new Uint8Array(14);
      h.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
      h[12] = et >> 8;
      h[13] = et & 255;
      break;
    case 113:
      h = new Uint8Array(16);
      h[14] = et >> 8;
      h[15] = et & 255;
      break;
    case 276:
      h = new Uint8Array(20);
      h[0] = et >> 8;
      h[1] = et & 255;
      break;
    case 0:
      // host byte order (little-endian here): AF_INET 2, AF_INET6 30 (BSD) / 10 (Linux)
      h = Uint8Array.of(v6 ? 10 : 2, 0, 0, 0);
      break;
    case 101:
      h = new Uint8Array(0);
      break;
    default:
      throw new Error(`link type ${linkType} not supported by the builder`);
  }
  const out = new Uint8Array(h.length + ip.length);
  out.set(h, 0);
  out.set(ip, h.length);
  return out;
}

/** A TCP conversation with sequence numbers tracked per side. */
export class Conversation {
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly linkType: number;
  readonly packets: Packet[] = [];
  seqC: number;
  seqS: number;
  ts: number;

  constructor(opts: {
    client: Endpoint;
    server: Endpoint;
    linkType?: number;
    isnC?: number;
    isnS?: number;
    ts?: number;
  }) {
    this.client = opts.client;
    this.server = opts.server;
    this.linkType = opts.linkType ?? 1;
    this.seqC = opts.isnC ?? 1000;
    this.seqS = opts.isnS ?? 5000;
    this.ts = opts.ts ?? 1_700_000_000_000;
  }

  private push(
    fromClient: boolean,
    seq: number,
    ack: number,
    flags: number,
    payload: Uint8Array,
    ts?: number,
  ): Packet {
    const src = fromClient ? this.client : this.server;
    const dst = fromClient ? this.server : this.client;
    this.ts = ts ?? this.ts + 1;
    const p = { ts: this.ts, data: link(this.linkType, ipTcp(src, dst, seq, ack, flags, payload)) };
    this.packets.push(p);
    return p;
  }

  /** Three-way handshake. */
  handshake(): this {
    this.push(true, this.seqC, 0, SYN, new Uint8Array(0));
    this.seqC = (this.seqC + 1) >>> 0;
    this.push(false, this.seqS, this.seqC, SYN | ACK, new Uint8Array(0));
    this.seqS = (this.seqS + 1) >>> 0;
    this.push(true, this.seqC, this.seqS, ACK, new Uint8Array(0));
    return this;
  }

  /** Payload from one side, split into segments of at most `mss` bytes; advances that side's seq. */
  send(fromClient: boolean, payload: Uint8Array, mss = 65483, opts: SegmentOpts = {}): Packet[] {
    const out: Packet[] = [];
    for (let i = 0; i < Math.max(payload.length, 1); i += mss) {
      const part = payload.subarray(i, i + mss);
      const seq = opts.seq ?? (fromClient ? this.seqC : this.seqS);
      const ack = opts.ack ?? (fromClient ? this.seqS : this.seqC);
      out.push(this.push(fromClient, seq, ack, opts.flags ?? PSH | ACK, part, opts.ts));
      if (opts.seq === undefined) {
        if (fromClient) this.seqC = (this.seqC + part.length) >>> 0;
        else this.seqS = (this.seqS + part.length) >>> 0;
      }
    }
    return out;
  }

  /** A pure ACK from one side acknowledging `ack` (default: everything the other side sent). */
  ackOnly(fromClient: boolean, ack?: number): void {
    this.push(
      fromClient,
      fromClient ? this.seqC : this.seqS,
      ack ?? (fromClient ? this.seqS : this.seqC),
      ACK,
      new Uint8Array(0),
    );
  }

  fin(fromClient: boolean): void {
    this.push(
      fromClient,
      fromClient ? this.seqC : this.seqS,
      fromClient ? this.seqS : this.seqC,
      FIN | ACK,
      new Uint8Array(0),
    );
    if (fromClient) this.seqC = (this.seqC + 1) >>> 0;
    else this.seqS = (this.seqS + 1) >>> 0;
  }

  rst(fromClient: boolean): void {
    this.push(fromClient, fromClient ? this.seqC : this.seqS, 0, RST, new Uint8Array(0));
  }
}

/** The broker's Connection.Start: AMQP 0-9-1, PLAIN, en_US. */
export function connectionStart(): Buffer {
  return method('ConnectionStart', 0, {
    versionMajor: 0,
    versionMinor: 9,
    serverProperties: {},
    mechanisms: Buffer.from('PLAIN'),
    locales: Buffer.from('en_US'),
  });
}

/**
 * An AMQP connection opening on `c` after its TCP handshake, as amqplib and the broker exchange
 * it: protocol header, Connection.Start, Connection.StartOk (guest), Connection.Open of `vhost`.
 */
export function amqpOpen(c: Conversation, vhost = '/'): Conversation {
  c.send(true, PROTOCOL_HEADER);
  c.send(false, connectionStart());
  c.send(
    true,
    method('ConnectionStartOk', 0, {
      clientProperties: { product: 'amqplib' },
      mechanism: 'PLAIN',
      response: Buffer.from('\0guest\0guest'),
      locale: 'en_US',
    }),
  );
  c.send(true, method('ConnectionOpen', 0, { virtualHost: vhost }));
  return c;
}

export interface PcapOpts {
  linkType?: number;
  littleEndian?: boolean;
  nanoseconds?: boolean;
}

export function writePcap(packets: readonly Packet[], opts: PcapOpts = {}): Uint8Array {
  const le = opts.littleEndian ?? true;
  const ns = opts.nanoseconds ?? false;
  const size = 24 + packets.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, ns ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, 262144, le);
  v.setUint32(20, opts.linkType ?? 1, le);
  let o = 24;
  for (const p of packets) {
    const sec = Math.floor(p.ts / 1000);
    const frac = Math.round((p.ts - sec * 1000) * (ns ? 1e6 : 1e3));
    v.setUint32(o, sec, le);
    v.setUint32(o + 4, frac, le);
    v.setUint32(o + 8, p.data.length, le);
    v.setUint32(o + 12, p.data.length, le);
    out.set(p.data, o + 16);
    o += 16 + p.data.length;
  }
  return out;
}

export interface PcapngOpts {
  linkType?: number;
  littleEndian?: boolean;
  /** if_tsresol byte (default 6 = µs; 9 = ns; 0x80|n = 2^-n) */
  tsresol?: number;
  /** Write Simple Packet Blocks (no timestamps) instead of Enhanced Packet Blocks. */
  simple?: boolean;
}

export function writePcapng(packets: readonly Packet[], opts: PcapngOpts = {}): Uint8Array {
  const le = opts.littleEndian ?? true;
  const res = opts.tsresol ?? 6;
  const unitsPerMs = (res & 0x80 ? 2 ** (res & 0x7f) : 10 ** res) / 1000;
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const padded = (body.length + 3) & ~3;
    const total = 12 + padded;
    const b = new Uint8Array(total);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, le);
    v.setUint32(4, total, le);
    b.set(body, 8);
    v.setUint32(total - 4, total, le);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const sv = new DataView(shb.buffer);
  sv.setUint32(0, 0x1a2b3c4d, le);
  sv.setUint16(4, 1, le);
  sv.setUint16(6, 0, le);
  sv.setInt32(8, -1, le);
  sv.setInt32(12, -1, le);
  block(0x0a0d0d0a, shb);
  // IDB with if_tsresol (option 9) and opt_endofopt
  const idb = new Uint8Array(8 + 8 + 4);
  const iv = new DataView(idb.buffer);
  iv.setUint16(0, opts.linkType ?? 1, le);
  iv.setUint32(4, 262144, le);
  iv.setUint16(8, 9, le);
  iv.setUint16(10, 1, le);
  idb[12] = res;
  block(1, idb);
  for (const p of packets) {
    if (opts.simple) {
      const body = new Uint8Array(4 + p.data.length);
      new DataView(body.buffer).setUint32(0, p.data.length, le);
      body.set(p.data, 4);
      block(3, body);
      continue;
    }
    const body = new Uint8Array(20 + p.data.length);
    const bv = new DataView(body.buffer);
    const units = BigInt(Math.round(p.ts * unitsPerMs));
    bv.setUint32(0, 0, le);
    bv.setUint32(4, Number(units >> 32n), le);
    bv.setUint32(8, Number(units & 0xffffffffn), le);
    bv.setUint32(12, p.data.length, le);
    bv.setUint32(16, p.data.length, le);
    body.set(p.data, 20);
    block(6, body);
  }
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** Decodes a capture in chunks of `chunk` bytes (default: one piece). */
export function decodeBytes(
  bytes: Uint8Array,
  opts: { chunk?: number; amqpPort?: number; input?: string } = {},
): { events: CaptureEvent[]; messages: WireMessage[]; result: PcapReadResult } {
  const events: CaptureEvent[] = [];
  const dec = new PcapStreamDecoder(
    opts.input ?? 'mem.pcap',
    { event: (e) => events.push(e) },
    opts.amqpPort === undefined ? {} : { amqpPort: opts.amqpPort },
  );
  const step = opts.chunk ?? bytes.length;
  for (let i = 0; i < bytes.length; i += step) dec.push(bytes.slice(i, i + step));
  const result = dec.end();
  return { events, messages: events.flatMap((e) => (e.type === 'message' ? [e.message] : [])), result };
}
