/**
 * Link, network and transport headers of one captured packet, down to the TCP payload.
 * Link types (https://www.tcpdump.org/linktypes.html): NULL/loopback (0, host-order family),
 * Ethernet (1, with 802.1Q/802.1ad tags), RAW (101; also 12 and 14 on some BSDs), LOOP (108,
 * network-order family), LINUX_SLL (113, `tcpdump -i any` before libpcap 1.10), LINUX_SLL2
 * (276, `tcpdump -i any` since 1.10), IPV4 (228), IPV6 (229).
 *
 * Results go into one reusable TcpPacket object: no allocation per packet.
 */

export interface TcpPacket {
  v6: boolean;
  /** IPv4 addresses as uint32; for IPv6 the address start offsets in `buf`. */
  src: number;
  dst: number;
  buf: Uint8Array;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  /** TCP payload buf[payload, end). */
  payload: number;
  end: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export const PARSE_OK = 0;
/** Not TCP over IP (ARP, UDP, ICMP...): ignored, not an error. */
export const PARSE_OTHER = 1;
/** Truncated or malformed headers. */
export const PARSE_BAD = 2;
/** An IP fragment: not reassembled (AMQP over TCP on a sane MTU never fragments). */
export const PARSE_FRAGMENT = 3;
/** A link type this reader does not know. */
export const PARSE_LINK = 4;

export function newTcpPacket(): TcpPacket {
  return {
    v6: false,
    src: 0,
    dst: 0,
    buf: new Uint8Array(0),
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    payload: 0,
    end: 0,
  };
}

/** Parses buf[start, end) of link type `link` into `out`. */
export function parsePacket(
  link: number,
  buf: Uint8Array,
  start: number,
  end: number,
  out: TcpPacket,
): number {
  let p = start;
  let ethertype: number;
  switch (link) {
    case 1: {
      if (p + 14 > end) return PARSE_BAD;
      ethertype = (buf[p + 12]! << 8) | buf[p + 13]!;
      p += 14;
      while (ethertype === 0x8100 || ethertype === 0x88a8) {
        if (p + 4 > end) return PARSE_BAD;
        ethertype = (buf[p + 2]! << 8) | buf[p + 3]!;
        p += 4;
      }
      break;
    }
    case 113:
      if (p + 16 > end) return PARSE_BAD;
      ethertype = (buf[p + 14]! << 8) | buf[p + 15]!;
      p += 16;
      break;
    case 276:
      if (p + 20 > end) return PARSE_BAD;
      ethertype = (buf[p]! << 8) | buf[p + 1]!;
      p += 20;
      break;
    case 0:
    case 108: {
      if (p + 4 > end) return PARSE_BAD;
      // NULL: AF_ value in the capturing host's byte order; LOOP: network order. Either way
      // the value is small, so whichever end holds it tells.
      const fam = buf[p]! | buf[p + 1]! | buf[p + 2]! | buf[p + 3]!;
      p += 4;
      if (fam === 2) ethertype = 0x0800;
      else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) ethertype = 0x86dd;
      else return PARSE_OTHER;
      break;
    }
    case 101:
    case 12:
    case 14:
    case 228:
    case 229: {
      if (p >= end) return PARSE_BAD;
      const v = buf[p]! >> 4;
      ethertype = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
      break;
    }
    default:
      return PARSE_LINK;
  }
  if (ethertype === 0x0800) return ipv4(buf, p, end, out);
  if (ethertype === 0x86dd) return ipv6(buf, p, end, out);
  return PARSE_OTHER;
}

function ipv4(buf: Uint8Array, p: number, end: number, out: TcpPacket): number {
  if (p + 20 > end) return PARSE_BAD;
  const vihl = buf[p]!;
  if (vihl >> 4 !== 4) return PARSE_BAD;
  const ihl = (vihl & 15) * 4;
  if (ihl < 20) return PARSE_BAD;
  if (buf[p + 9] !== 6) return PARSE_OTHER;
  const total = (buf[p + 2]! << 8) | buf[p + 3]!;
  // Fragments: MF set or a non-zero offset.
  if (((buf[p + 6]! & 0x3f) | buf[p + 7]!) !== 0) return PARSE_FRAGMENT;
  // total may be 0 with TSO offload captured on the sender; then the capture length rules.
  let ipEnd = total === 0 ? end : p + total;
  if (ipEnd > end) ipEnd = end; // snaplen cut: what was captured is what there is
  out.v6 = false;
  out.src = buf[p + 12]! * 0x1000000 + ((buf[p + 13]! << 16) | (buf[p + 14]! << 8) | buf[p + 15]!);
  out.dst = buf[p + 16]! * 0x1000000 + ((buf[p + 17]! << 16) | (buf[p + 18]! << 8) | buf[p + 19]!);
  return tcp(buf, p + ihl, ipEnd, out);
}

function ipv6(buf: Uint8Array, p: number, end: number, out: TcpPacket): number {
  if (p + 40 > end) return PARSE_BAD;
  if (buf[p]! >> 4 !== 6) return PARSE_BAD;
  const plen = (buf[p + 4]! << 8) | buf[p + 5]!;
  let next = buf[p + 6]!;
  out.v6 = true;
  out.src = p + 8;
  out.dst = p + 24;
  let q = p + 40;
  let ipEnd = plen === 0 ? end : q + plen; // 0: jumbogram or TSO
  if (ipEnd > end) ipEnd = end;
  // Extension headers (RFC 8200 §4): hop-by-hop 0, routing 43, destination options 60.
  while (next === 0 || next === 43 || next === 60) {
    if (q + 8 > ipEnd) return PARSE_BAD;
    next = buf[q]!;
    q += (buf[q + 1]! + 1) * 8;
  }
  if (next === 44) return PARSE_FRAGMENT;
  if (next !== 6) return PARSE_OTHER;
  return tcp(buf, q, ipEnd, out);
}

function tcp(buf: Uint8Array, p: number, end: number, out: TcpPacket): number {
  if (p + 20 > end) return PARSE_BAD;
  const off = (buf[p + 12]! >> 4) * 4;
  if (off < 20 || p + off > end) return PARSE_BAD;
  out.buf = buf;
  out.sport = (buf[p]! << 8) | buf[p + 1]!;
  out.dport = (buf[p + 2]! << 8) | buf[p + 3]!;
  out.seq = buf[p + 4]! * 0x1000000 + ((buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!);
  out.ack = buf[p + 8]! * 0x1000000 + ((buf[p + 9]! << 16) | (buf[p + 10]! << 8) | buf[p + 11]!);
  out.flags = buf[p + 13]!;
  out.payload = p + off;
  out.end = end;
  return PARSE_OK;
}

/** "a.b.c.d" or the RFC 5952 text of an IPv6 address at buf[p, p+16). */
export function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function ipv6Text(buf: Uint8Array, p: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((buf[p + 2 * i]! << 8) | buf[p + 2 * i + 1]!);
  // IPv4-mapped ::ffff:a.b.c.d
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff)
    return `::ffff:${ipv4Text(w[6]! * 65536 + w[7]!)}`;
  // Longest run (≥ 2) of zero words becomes "::", the first one on ties (RFC 5952 §4.2).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}
