/**
 * TCP connections by 4-tuple, each with both directions reassembled and decoded as AMQP.
 * The server side is the one on the AMQP port (5672 unless configured); on other ports a flow is
 * taken as AMQP when a client opens it with the protocol header "AMQP\x00\x00\x09\x01".
 */

import { AmqpConnection, CLIENT_TO_SERVER, SERVER_TO_CLIENT } from '../amqp/connection.ts';
import { AmqpFrameStream } from '../amqp/frame-stream.ts';
import type { DecodeContext } from '../context.ts';
import type { PacketHandler } from '../pcap/container.ts';
import {
  ipv4Text,
  ipv6Text,
  newTcpPacket,
  PARSE_BAD,
  PARSE_FRAGMENT,
  PARSE_LINK,
  PARSE_OK,
  parsePacket,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  type TcpPacket,
} from '../pcap/link.ts';
import { TcpDirection } from './reassembly.ts';

interface Flow {
  readonly key: string;
  readonly conn: AmqpConnection;
  /** [client → server, server → client] */
  readonly dirs: readonly [TcpDirection, TcpDirection];
  readonly streams: readonly [AmqpFrameStream, AmqpFrameStream];
}

export class TcpFlows implements PacketHandler {
  private readonly ctx: DecodeContext;
  private readonly port: number;
  private readonly flows = new Map<string, Flow>();
  private readonly pkt: TcpPacket = newTcpPacket();
  /** AMQP connections seen. */
  connections = 0;
  lastTs = 0;
  private lastOffset = 0;
  private fragments = 0;
  private readonly unknownLinks = new Set<number>();

  constructor(ctx: DecodeContext, port: number) {
    this.ctx = ctx;
    this.port = port;
  }

  packet(linkType: number, ts: number, buf: Uint8Array, start: number, end: number, offset: number): void {
    this.lastTs = ts;
    this.lastOffset = offset;
    const t = this.pkt;
    const r = parsePacket(linkType, buf, start, end, t);
    if (r !== PARSE_OK) {
      if (r === PARSE_BAD) {
        this.ctx.skipped.records++;
        this.ctx.skipped.bytes += end - start;
        this.ctx.issue(
          offset,
          `packet with truncated or malformed link/IP/TCP headers (link type ${linkType})`,
        );
      } else if (r === PARSE_FRAGMENT && this.fragments++ === 0) {
        this.ctx.issue(offset, 'IP fragments are not reassembled; fragmented TCP segments are skipped');
      } else if (r === PARSE_LINK) {
        this.ctx.skipped.records++;
        this.ctx.skipped.bytes += end - start;
        if (!this.unknownLinks.has(linkType)) {
          this.unknownLinks.add(linkType);
          this.ctx.issue(
            offset,
            `link type ${linkType} is not supported (Ethernet, SLL, SLL2, RAW, NULL/LOOP are); capture with tcpdump -i lo, -i any or an Ethernet interface`,
          );
        }
      }
      return;
    }
    let toServer: boolean;
    let key: string;
    const a = t.v6 ? v6key(t.buf, t.src) : t.src;
    const b = t.v6 ? v6key(t.buf, t.dst) : t.dst;
    if (t.dport === this.port) {
      toServer = true;
      key = `${a}|${t.sport}|${b}|${t.dport}`;
    } else if (t.sport === this.port) {
      toServer = false;
      key = `${b}|${t.dport}|${a}|${t.sport}`;
    } else {
      key = `${a}|${t.sport}|${b}|${t.dport}`;
      toServer = true;
      if (!this.flows.has(key)) {
        const rev = `${b}|${t.dport}|${a}|${t.sport}`;
        if (this.flows.has(rev)) {
          key = rev;
          toServer = false;
        } else if (!startsWithProtocolHeader(t)) return;
      }
    }
    const flags = t.flags;
    let f = this.flows.get(key);
    // A client SYN on a known 4-tuple whose first sequence differs: the port was reused.
    if (
      f !== undefined &&
      toServer &&
      (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN &&
      f.dirs[0].next !== (t.seq + 1) >>> 0
    ) {
      this.drop(f, ts, offset);
      f = undefined;
    }
    if (f === undefined) {
      if ((flags & TCP_SYN) === 0 && t.payload === t.end) return; // a stray ACK/FIN: nothing to decode
      if ((flags & TCP_RST) !== 0) return;
      f = this.open(key, t, toServer);
    }
    const dir = toServer ? f.dirs[0] : f.dirs[1];
    if ((flags & TCP_SYN) !== 0) {
      if (dir.next < 0) {
        dir.syn(t.seq);
        f.streams[toServer ? 0 : 1].startAtBeginning();
        f.conn.syncedFromStart[toServer ? CLIENT_TO_SERVER : SERVER_TO_CLIENT] = true;
      }
    }
    if ((flags & TCP_ACK) !== 0) (toServer ? f.dirs[1] : f.dirs[0]).peerAck(t.ack);
    const data = (flags & TCP_SYN) !== 0 ? (t.seq + 1) >>> 0 : t.seq; // data on a SYN follows the ISN
    if (t.payload < t.end || (flags & TCP_FIN) !== 0)
      dir.segment(data, t.buf, t.payload, t.end, (flags & TCP_FIN) !== 0, ts, offset + (t.payload - start));
    if ((flags & TCP_RST) !== 0) {
      this.drop(f, ts, offset);
      return;
    }
    if (f.dirs[0].ended && f.dirs[1].ended) {
      f.conn.closed(ts);
      this.flows.delete(f.key);
    }
  }

  /** End of input: deliver what is held and end every stream (connections stay open: no close event). */
  end(): void {
    for (const f of this.flows.values()) {
      f.dirs[0].flush(this.lastTs, this.lastOffset);
      f.dirs[1].flush(this.lastTs, this.lastOffset);
    }
    this.flows.clear();
  }

  private drop(f: Flow, ts: number, offset: number): void {
    f.dirs[0].flush(ts, offset);
    f.dirs[1].flush(ts, offset);
    f.conn.closed(ts);
    this.flows.delete(f.key);
  }

  private open(key: string, t: TcpPacket, toServer: boolean): Flow {
    const src = t.v6 ? `[${ipv6Text(t.buf, t.src)}]:${t.sport}` : `${ipv4Text(t.src)}:${t.sport}`;
    const dst = t.v6 ? `[${ipv6Text(t.buf, t.dst)}]:${t.dport}` : `${ipv4Text(t.dst)}:${t.dport}`;
    const client = toServer ? src : dst;
    const server = toServer ? dst : src;
    const id = `${client} -> ${server}`;
    const conn = new AmqpConnection(this.ctx, { id, client, server });
    const c2s = new AmqpFrameStream(this.ctx, conn, CLIENT_TO_SERVER, false);
    const s2c = new AmqpFrameStream(this.ctx, conn, SERVER_TO_CLIENT, false);
    const f: Flow = {
      key,
      conn,
      dirs: [
        new TcpDirection(this.ctx, c2s, `${id} (client to server)`),
        new TcpDirection(this.ctx, s2c, `${id} (server to client)`),
      ],
      streams: [c2s, s2c],
    };
    this.flows.set(key, f);
    this.connections++;
    return f;
  }
}

function v6key(buf: Uint8Array, p: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += buf[p + i]!.toString(16).padStart(2, '0');
  return s;
}

function startsWithProtocolHeader(t: TcpPacket): boolean {
  const b = t.buf;
  const p = t.payload;
  return (
    t.end - p >= 8 &&
    b[p] === 0x41 &&
    b[p + 1] === 0x4d &&
    b[p + 2] === 0x51 &&
    b[p + 3] === 0x50 &&
    b[p + 4] === 0 &&
    b[p + 5] === 0 &&
    b[p + 6] === 9 &&
    b[p + 7] === 1
  );
}
