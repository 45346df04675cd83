/**
 * Per-connection AMQP 0-9-1 state, fed the frames of both directions: per-channel assembly of
 * method + content header + body frames into messages (§4.2.6, bodies may span many frames),
 * and what the handshake and declarations tell (vhost, user, client properties, consumer tag →
 * queue). Emits WireMessages and TopologyEvents in the order their last frame was captured.
 */
import type { AmqpProperties, ConnectionRef, TopologyEvent, WireEvent, WireMessage } from '../../records.ts';
import type { DecodeContext } from '../context.ts';
import { Cursor, FrameFormatError } from './cursor.ts';
import { decodeTable } from './field-table.ts';
import {
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  type FrameHandler,
} from './frame-stream.ts';
import { type DecodedMethod, decodeMethod } from './methods.ts';
import { decodeContentHeader } from './properties.ts';

/** dir 0: client → server; dir 1: server → client. */
export const CLIENT_TO_SERVER = 0;
export const SERVER_TO_CLIENT = 1;

/** A content-bearing method waiting for its header and body frames. */
interface Pending {
  event: WireEvent;
  exchange: string;
  routingKey: string;
  queue: string | undefined;
  mandatory: boolean | undefined;
  redelivered: boolean | undefined;
  consumerTag: string | undefined;
  replyCode: number | undefined;
  replyText: string | undefined;
  properties: AmqpProperties | undefined;
  bodySize: number;
  body: Uint8Array | undefined;
  got: number;
  /** The announced body is over the size limit: its frames are counted and dropped, never stored. */
  discard?: boolean;
}

type MutableWire = { -readonly [K in keyof WireMessage]: WireMessage[K] };
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const EMPTY = new Uint8Array(0);

export class AmqpConnection implements FrameHandler {
  private readonly ctx: DecodeContext;
  ref: ConnectionRef;
  frameMax = 0;
  /** Messages being assembled, per direction, by channel. */
  private readonly pending: [Map<number, Pending>, Map<number, Pending>] = [new Map(), new Map()];
  /** "channel tag" → queue, from Basic.Consume / ConsumeOk. */
  private readonly consumers = new Map<string, string>();
  /** Basic.Consume waiting for ConsumeOk, per channel (FIFO). */
  private readonly consumeWait = new Map<number, { queue: string; ts: number }[]>();
  /** Queue.Declare with a server-named queue waiting for DeclareOk, per channel. */
  private readonly declareWait = new Map<number, { m: DecodedMethod; named: boolean }[]>();
  /** Queue of the last Basic.Get per channel, for the GetOk that answers it. */
  private readonly getQueue = new Map<number, string>();
  private clientProperties: Record<string, unknown> = {};
  private closeSeen = false;

  constructor(ctx: DecodeContext, ref: ConnectionRef) {
    this.ctx = ctx;
    this.ref = ref;
  }

  lost(dir: number): void {
    this.pending[dir]!.clear();
    // After lost bytes the next content frames may belong to a method we never saw.
    this.syncedFromStart[dir] = false;
  }

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
  ): void {
    try {
      if (type === FRAME_BODY) this.body(dir, channel, buf, start, end, ts, offset, owned);
      else if (type === FRAME_METHOD) this.method(dir, channel, decodeMethod(buf, start, end), ts, offset);
      else if (type === FRAME_HEADER) this.header(dir, channel, buf, start, end, ts, offset);
      else if (type !== FRAME_HEARTBEAT)
        this.violation(dir, channel, offset, `unexpected frame type ${type}`);
    } catch (e) {
      if (!(e instanceof FrameFormatError)) throw e;
      this.pending[dir]!.delete(channel);
      this.ctx.skipped.frames++;
      this.ctx.skipped.bytes += end - start + 8;
      this.ctx.issue(offset, `AMQP: malformed ${frameName(type)} frame on channel ${channel}: ${e.message}`);
    }
  }

  /** The TCP connection ended. */
  closed(ts: number): void {
    if (!this.closeSeen) {
      this.closeSeen = true;
      this.topology({ type: 'connection-close', ts, connection: this.ref });
    }
  }

  private violation(dir: number, channel: number, offset: number, message: string): void {
    this.pending[dir]!.delete(channel);
    this.ctx.skipped.frames++;
    this.ctx.issue(offset, `AMQP: ${message} on channel ${channel} of ${this.ref.id}`);
  }

  private topology(t: TopologyEvent): void {
    this.ctx.emit({ type: 'topology', topology: t });
  }

  private method(dir: number, ch: number, m: DecodedMethod, ts: number, offset: number): void {
    const a = m.args;
    const pend = this.pending[dir]!;
    const prev = pend.get(ch);
    if (prev !== undefined) {
      pend.delete(ch);
      // An oversized body already counted (its announced size was the damage): not counted twice.
      if (prev.discard !== true) this.ctx.skipped.frames++;
      this.ctx.issue(
        offset,
        `AMQP: ${m.name} on channel ${ch} of ${this.ref.id} before the previous message's content was complete`,
      );
    }
    switch (m.classId) {
      case 60:
        this.basic(dir, ch, m, ts);
        return;
      case 10:
        this.connection(m, ts);
        return;
      case 20:
        // Channel.Open/Close/CloseOk (§1.5.2): whatever was half-assembled there is gone.
        if (m.methodId === 10 || m.methodId === 40 || m.methodId === 41) {
          this.pending[0].delete(ch);
          this.pending[1].delete(ch);
          this.consumeWait.delete(ch);
          this.declareWait.delete(ch);
        }
        return;
      case 40:
        if (m.methodId === 10) {
          this.topology({
            type: 'exchange-declare',
            ts,
            connection: this.ref,
            exchange: a.exchange as string,
            exchangeType: a.type as string,
            durable: a.durable as boolean,
            autoDelete: a.autoDelete as boolean,
            arguments: a.arguments as Record<string, unknown>,
          });
        }
        return;
      case 50:
        if (m.methodId === 10) {
          // DeclareOks answer declarations in order (§2.3.3: one synchronous request at a time
          // per channel); a server-named queue ("" declared) is reported with the name it got.
          const named = a.queue !== '';
          if (named) this.queueDeclare(m, a.queue as string, ts);
          if (a.nowait !== true) {
            const w = this.declareWait.get(ch);
            const entry = { m, named };
            if (w === undefined) this.declareWait.set(ch, [entry]);
            else w.push(entry);
          }
        } else if (m.methodId === 11) {
          const d = this.declareWait.get(ch)?.shift();
          if (d !== undefined && !d.named) this.queueDeclare(d.m, a.queue as string, ts);
        } else if (m.methodId === 20) {
          this.topology({
            type: 'queue-bind',
            ts,
            connection: this.ref,
            queue: a.queue as string,
            exchange: a.exchange as string,
            routingKey: a.routingKey as string,
          });
        }
        return;
      default:
        return;
    }
  }

  private queueDeclare(m: DecodedMethod, queue: string, ts: number): void {
    const a = m.args;
    this.topology({
      type: 'queue-declare',
      ts,
      connection: this.ref,
      queue,
      durable: a.durable as boolean,
      exclusive: a.exclusive as boolean,
      autoDelete: a.autoDelete as boolean,
      arguments: a.arguments as Record<string, unknown>,
    });
  }

  private connection(m: DecodedMethod, ts: number): void {
    const a = m.args;
    switch (m.methodId) {
      case 11: {
        // Connection.StartOk: client properties and the SASL response. Only the user name is kept;
        // the password never leaves this function.
        this.clientProperties = a.clientProperties as Record<string, unknown>;
        const user = saslUser(a.mechanism as string, a.response as Uint8Array);
        const name = this.clientProperties.connection_name;
        const product = this.clientProperties.product;
        const r: Mutable<ConnectionRef> = { ...this.ref };
        if (user !== undefined) r.user = user;
        if (typeof name === 'string') r.name = name;
        if (typeof product === 'string') r.product = product;
        this.ref = r;
        return;
      }
      case 30:
      case 31: {
        // Tune proposes, TuneOk settles (§1.4.2.6); 0 means "no limit".
        const fm = a.frameMax as number;
        if (m.methodId === 31 || this.frameMax === 0) this.frameMax = fm;
        return;
      }
      case 40:
        this.ref = { ...this.ref, vhost: a.virtualHost as string };
        this.topology({
          type: 'connection-open',
          ts,
          connection: this.ref,
          clientProperties: this.clientProperties,
        });
        return;
      case 50:
        if (!this.closeSeen) {
          this.closeSeen = true;
          this.topology({
            type: 'connection-close',
            ts,
            connection: this.ref,
            replyCode: a.replyCode as number,
            replyText: a.replyText as string,
          });
        }
        return;
      default:
        return;
    }
  }

  private basic(dir: number, ch: number, m: DecodedMethod, ts: number): void {
    const a = m.args;
    switch (m.methodId) {
      case 40: // Publish
        this.start(
          dir,
          ch,
          'publish',
          a.exchange as string,
          a.routingKey as string,
          undefined,
          a.mandatory as boolean,
        );
        return;
      case 60: {
        // Deliver
        const tag = a.consumerTag as string;
        const p = this.start(
          dir,
          ch,
          'deliver',
          a.exchange as string,
          a.routingKey as string,
          this.consumers.get(`${ch} ${tag}`),
          undefined,
        );
        p.redelivered = a.redelivered as boolean;
        p.consumerTag = tag;
        return;
      }
      case 71: {
        // GetOk answers the channel's last Basic.Get (§1.8.3.10)
        const p = this.start(
          dir,
          ch,
          'deliver',
          a.exchange as string,
          a.routingKey as string,
          this.getQueue.get(ch),
          undefined,
        );
        p.redelivered = a.redelivered as boolean;
        return;
      }
      case 50: {
        // Return
        const p = this.start(
          dir,
          ch,
          'return',
          a.exchange as string,
          a.routingKey as string,
          undefined,
          undefined,
        );
        p.replyCode = a.replyCode as number;
        p.replyText = a.replyText as string;
        return;
      }
      case 70:
        this.getQueue.set(ch, a.queue as string);
        return;
      case 20: {
        // Consume: the tag is the client's, or the server's in ConsumeOk when left empty.
        const queue = a.queue as string;
        const tag = a.consumerTag as string;
        if (a.nowait === true) {
          this.consumers.set(`${ch} ${tag}`, queue);
          this.topology({ type: 'consume', ts, connection: this.ref, channel: ch, queue, consumerTag: tag });
        } else {
          const w = this.consumeWait.get(ch);
          if (w === undefined) this.consumeWait.set(ch, [{ queue, ts }]);
          else w.push({ queue, ts });
        }
        return;
      }
      case 21: {
        const c = this.consumeWait.get(ch)?.shift();
        if (c === undefined) return;
        const tag = a.consumerTag as string;
        this.consumers.set(`${ch} ${tag}`, c.queue);
        this.topology({
          type: 'consume',
          ts,
          connection: this.ref,
          channel: ch,
          queue: c.queue,
          consumerTag: tag,
        });
        return;
      }
      default:
        return;
    }
  }

  private start(
    dir: number,
    ch: number,
    event: WireEvent,
    exchange: string,
    routingKey: string,
    queue: string | undefined,
    mandatory: boolean | undefined,
  ): Pending {
    const p: Pending = {
      event,
      exchange,
      routingKey,
      queue,
      mandatory,
      redelivered: undefined,
      consumerTag: undefined,
      replyCode: undefined,
      replyText: undefined,
      properties: undefined,
      bodySize: 0,
      body: undefined,
      got: 0,
    };
    this.pending[dir]!.set(ch, p);
    return p;
  }

  private header(
    dir: number,
    ch: number,
    buf: Uint8Array,
    start: number,
    end: number,
    ts: number,
    offset: number,
  ): void {
    const p = this.pending[dir]!.get(ch);
    if (p === undefined || p.properties !== undefined) {
      this.orphan(
        dir,
        ch,
        end - start + 8,
        offset,
        p === undefined ? 'content header without a method' : 'second content header',
      );
      return;
    }
    const h = decodeContentHeader(buf, start, end);
    p.properties = h.properties;
    p.bodySize = h.bodySize;
    if (h.bodySize > this.ctx.limits.maxBodySize) {
      // Damage or a hostile peer: never allocate it. Its body frames are passed over (counted),
      // and the channel decodes on with the next method.
      p.discard = true;
      this.ctx.skipped.records++;
      this.ctx.issue(
        offset,
        `AMQP: content header announces a body of ${h.bodySize} bytes, over the ${this.ctx.limits.maxBodySize}-byte limit, on channel ${ch} of ${this.ref.id}: message skipped`,
      );
      return;
    }
    if (h.bodySize === 0) this.finish(dir, ch, p, ts);
  }

  private body(
    dir: number,
    ch: number,
    buf: Uint8Array,
    start: number,
    end: number,
    ts: number,
    offset: number,
    owned: boolean,
  ): void {
    const p = this.pending[dir]!.get(ch);
    if (p === undefined || p.properties === undefined) {
      this.orphan(dir, ch, end - start + 8, offset, 'body frame without a content header');
      return;
    }
    const n = end - start;
    if (p.discard === true) {
      this.ctx.skipped.bytes += n + 8;
      p.got += n;
      if (p.got >= p.bodySize) this.pending[dir]!.delete(ch);
      return;
    }
    if (p.got + n > p.bodySize) {
      this.violation(dir, ch, offset, `body frames exceed the announced body size ${p.bodySize}`);
      return;
    }
    if (p.body === undefined) {
      if (n === p.bodySize && owned) p.body = buf.subarray(start, end);
      else {
        // The one copy a message body gets: the input chunk is reused after this call.
        p.body = Buffer.allocUnsafe(p.bodySize); // every byte is written before the body is handed on
        p.body.set(buf.subarray(start, end), 0);
      }
    } else p.body.set(buf.subarray(start, end), p.got);
    p.got += n;
    if (p.got === p.bodySize) this.finish(dir, ch, p, ts);
  }

  /**
   * Content frames whose method was not seen. After joining a connection mid-stream (or after a
   * gap) this is expected for the first message on a channel, so only the bytes are counted; on a
   * stream seen from its handshake it is a protocol violation and counted as a skipped frame.
   */
  private orphan(dir: number, ch: number, bytes: number, offset: number, what: string): void {
    this.ctx.skipped.bytes += bytes;
    if (this.syncedFromStart[dir] === true) this.violation(dir, ch, offset, what);
  }

  /** Set by the flow: whether direction `dir` was decoded from its first byte. */
  readonly syncedFromStart: boolean[] = [false, false];

  private finish(dir: number, ch: number, p: Pending, ts: number): void {
    this.pending[dir]!.delete(ch);
    const w: MutableWire = {
      seq: this.ctx.seq++,
      ts,
      source: 'pcap',
      event: p.event,
      connection: this.ref,
      channel: ch,
      exchange: p.exchange,
      routingKey: p.routingKey,
      properties: p.properties!,
      body: p.body ?? EMPTY,
      bodySize: p.bodySize,
    };
    if (p.queue !== undefined) w.queue = p.queue;
    if (p.mandatory !== undefined) w.mandatory = p.mandatory;
    if (p.redelivered !== undefined) w.redelivered = p.redelivered;
    if (p.consumerTag !== undefined) w.consumerTag = p.consumerTag;
    if (p.replyCode !== undefined) w.replyCode = p.replyCode;
    if (p.replyText !== undefined) w.replyText = p.replyText;
    this.ctx.emit({ type: 'message', message: w });
  }
}

function frameName(type: number): string {
  return type === FRAME_METHOD
    ? 'method'
    : type === FRAME_HEADER
      ? 'content header'
      : type === FRAME_BODY
        ? 'body'
        : `type ${type}`;
}

/**
 * The user name from a SASL response (PLAIN: "authzid \0 user \0 password", RFC 4616; AMQPLAIN: a
 * field table without its length prefix holding LOGIN and PASSWORD). The password is not read.
 */
export function saslUser(mechanism: string, response: Uint8Array): string | undefined {
  if (mechanism === 'PLAIN') {
    const a = response.indexOf(0);
    if (a < 0) return undefined;
    const b = response.indexOf(0, a + 1);
    if (b < 0) return undefined;
    return Buffer.from(response.buffer, response.byteOffset + a + 1, b - a - 1).toString('utf8');
  }
  if (mechanism === 'AMQPLAIN') {
    // Re-frame as a table: 4-byte length + the response's fields.
    const t = new Uint8Array(response.length + 4);
    new DataView(t.buffer).setUint32(0, response.length);
    t.set(response, 4);
    try {
      const login = decodeTable(new Cursor(t, 0, t.length)).LOGIN;
      return typeof login === 'string' ? login : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
