/**
 * The emulator's AMQP 0-9-1 client: what an emulated service needs of a connection (a confirm
 * channel, declares, consumers, acks, mandatory publishes with their returns, heartbeats), in as
 * few bytes per connection as the wire allows. An emulated OVS agent holds 13 connections, and
 * amqplib's ~11 KiB each (two heartbeat intervals, a Heart, Connection, ChannelModel and Channel
 * EventEmitters, a PassThrough per channel, a muxer, Buffer.concat'ed read tails) kept it at
 * ~146 KiB; the target is 100 KiB per agent. Everything else (capture, firehose, chaos, demo)
 * keeps amqplib.
 *
 * Per connection: one net.Socket that reads into ONE buffer shared by every socket (`onread`: the
 * callback runs synchronously, so frames are parsed out of it before the next read; only a frame
 * cut by a read is copied out), one heartbeat interval, two small records (connection, channel),
 * handler properties instead of EventEmitters, callbacks instead of promises per delivery and per
 * confirm, writes of one tick coalesced with cork/uncork.
 *
 * On the wire it is amqplib 2.3.1, byte for byte, for everything the emulator does (checked by
 * amqp-client.test.ts, which records both clients' bytes through a proxy): the same client
 * properties (amqplib's defaults under the caller's, in amqplib's key order), PLAIN, locale en_US,
 * tune-ok with channel_max/frame_max/heartbeat negotiated as amqplib negotiates them (the URL's
 * `heartbeat`, `frameMax`, `channelMax` and `locale` query parameters as amqplib reads them), the
 * same method arguments and defaults, bodies cut at frame_max, channel ids from 1 up, 'Goodbye' and
 * 'Cheers, thanks' on close, a heartbeat after half a heartbeat interval without a write (amqplib's
 * Heart: the heartbeat itself counts as a write) and a timeout after two heartbeat intervals
 * without a read. The errors handed to callers carry amqplib's messages ('Unexpected close',
 * 'Heartbeat timeout', 'Channel closed by server: 404 (NOT-FOUND) with message "..."', 'connect
 * ETIMEDOUT', 'message nacked', 'channel closed'), which the emulator reports as reasons.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { parse as qsParse, unescape as qsUnescape } from 'node:querystring';
import type { AmqpProperties } from '../records.ts';
import { encodeMethodFrame, encodePublish, HEARTBEAT_FRAME, type MethodArgs } from '../wire/amqp/encode.ts';
import {
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_METHOD,
  PROTOCOL_HEADER,
} from '../wire/amqp/frame-stream.ts';
import { decodeMethod, methodSpec } from '../wire/amqp/methods.ts';

/** A connection or channel error, with the reply code (and failing method) the broker gave, if any. */
export class AmqpClientError extends Error {
  /** The broker's reply code (404, 406, 320...), when the broker closed the channel or connection. */
  code?: number;
  classId?: number;
  methodId?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'AmqpClientError';
    if (code !== undefined) this.code = code;
  }
}

/** A message delivered to a consumer. `content` is the consumer's to keep. */
export interface Delivery {
  readonly deliveryTag: number;
  readonly redelivered: boolean;
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
}

/** A mandatory publish the broker could not route (Basic.Return). */
export interface Returned {
  readonly replyCode: number;
  readonly replyText: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
}

/** A publisher confirm: null for ack, an error for nack ('message nacked') or a lost channel ('channel closed'). */
export type ConfirmCallback = (err: Error | null) => void;
/**
 * What a connection and its channels report, to one handler object shared by every connection of
 * a kind (no closures per connection), with the `owner` the connection was given.
 */
export interface AmqpClientHandler<O> {
  /** The connection ended: the broker's close (with its code), a socket error, 'Unexpected close', 'Heartbeat timeout'; undefined when closed by close(). */
  connectionClosed(owner: O, conn: AmqpClientConnection, err: Error | undefined): void;
  /** The channel is closed (by the broker: `ch.error` says why; by close(); or with its connection). */
  channelClosed(owner: O, ch: AmqpClientChannel): void;
  /** A delivery from the consumer on `queue`, or null when the broker cancelled that consumer. */
  delivered(owner: O, ch: AmqpClientChannel, queue: string, m: Delivery | null): void;
  /** A mandatory publish came back unroutable. */
  returned(owner: O, ch: AmqpClientChannel, m: Returned): void;
}

export interface ConnectOptions {
  /** Idle time allowed for the TCP connect and the AMQP handshake (amqplib's socket `timeout`). */
  readonly timeoutMs: number;
  readonly noDelay: boolean;
  /** Written over amqplib's defaults, as amqplib's `clientProperties` option. */
  readonly clientProperties: Readonly<Record<string, unknown>>;
}

/**
 * What amqplib 2.3.1 sends as client properties under the caller's own (lib/connect.js
 * CLIENT_PROPERTIES): kept so that the broker, its management API and anything reading the wire see
 * the emulated services exactly as before.
 */
const AMQPLIB_CLIENT_PROPERTIES: Readonly<Record<string, unknown>> = {
  product: 'amqplib',
  version: '2.3.1',
  platform: `Node.JS ${process.version}`,
  information: 'https://amqp-node.github.io/amqplib/',
  capabilities: {
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    'basic.nack': true,
    consumer_cancel_notify: true,
    'connection.blocked': true,
    authentication_failure_close: true,
  },
};

/** amqplib's reply-code names (defs.constant_strs), for its error messages. */
const REPLY_NAMES: Readonly<Record<number, string>> = {
  200: 'REPLY-SUCCESS',
  311: 'CONTENT-TOO-LARGE',
  312: 'NO-ROUTE',
  313: 'NO-CONSUMERS',
  320: 'CONNECTION-FORCED',
  402: 'INVALID-PATH',
  403: 'ACCESS-REFUSED',
  404: 'NOT-FOUND',
  405: 'RESOURCE-LOCKED',
  406: 'PRECONDITION-FAILED',
  501: 'FRAME-ERROR',
  502: 'SYNTAX-ERROR',
  503: 'COMMAND-INVALID',
  504: 'CHANNEL-ERROR',
  505: 'UNEXPECTED-FRAME',
  506: 'RESOURCE-ERROR',
  530: 'NOT-ALLOWED',
  540: 'NOT-IMPLEMENTED',
  541: 'INTERNAL-ERROR',
};

const id = (classId: number, methodId: number) => ((classId << 16) | methodId) >>> 0;
const CONNECTION_START = id(10, 10);
const CONNECTION_SECURE = id(10, 20);
const CONNECTION_TUNE = id(10, 30);
const CONNECTION_OPEN_OK = id(10, 41);
const CONNECTION_CLOSE = id(10, 50);
const CONNECTION_CLOSE_OK = id(10, 51);
const CONNECTION_BLOCKED = id(10, 60);
const CONNECTION_UNBLOCKED = id(10, 61);
const CHANNEL_OPEN_OK = id(20, 11);
const CHANNEL_FLOW = id(20, 20);
const CHANNEL_CLOSE = id(20, 40);
const CHANNEL_CLOSE_OK = id(20, 41);
const EXCHANGE_DECLARE_OK = id(40, 11);
const QUEUE_DECLARE_OK = id(50, 11);
const QUEUE_BIND_OK = id(50, 21);
const QUEUE_DELETE_OK = id(50, 41);
const BASIC_CONSUME_OK = id(60, 21);
const BASIC_CANCEL = id(60, 30);
const BASIC_RETURN = id(60, 50);
const BASIC_DELIVER = id(60, 60);
const BASIC_ACK = id(60, 80);
const BASIC_NACK = id(60, 120);
const CONFIRM_SELECT_OK = id(85, 11);

const REPLY_SUCCESS = 200;
const CHANNEL_ERROR = 504;
const UNEXPECTED_FRAME = 505;
const NOT_IMPLEMENTED = 540;
const INTERNAL_ERROR = 541;
const FRAME_MIN_SIZE = 4096;

function nameOf(method: number): string {
  return methodSpec(method >>> 16, method & 0xffff)?.name ?? `${method >>> 16}.${method & 0xffff}`;
}

function closeMessage(a: Record<string, unknown>): string {
  const code = a.replyCode as number;
  return `${code} (${REPLY_NAMES[code]}) with message "${String(a.replyText)}"`;
}

/**
 * Every socket reads into this buffer: Node calls `onread` synchronously after each read, and the
 * frames are parsed out of it (copied only when a read cut one) before the next read reuses it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const OPENING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

interface Handshake {
  step: number;
  readonly user: string;
  readonly pass: string;
  readonly vhost: string;
  readonly heartbeat: number | null;
  readonly frameMax: number;
  readonly channelMax: number;
  readonly locale: string;
  readonly clientProperties: Readonly<Record<string, unknown>>;
  readonly resolve: (c: AmqpClientConnection) => void;
  readonly reject: (e: Error) => void;
}

/** amqplib's negotiate(): 0 is "no limit", so whichever side sets a limit wins, else the lower. */
function negotiate(server: number, desired: number): number {
  return server === 0 || desired === 0 ? Math.max(server, desired) : Math.min(server, desired);
}

/** amqplib's openFrames(): its defaults as the prototype, the caller's keys copied in reverse order. */
function clientProperties(extra: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = Object.create(AMQPLIB_CLIENT_PROPERTIES) as Record<string, unknown>;
  const keys = Object.keys(extra);
  for (let i = keys.length - 1; i >= 0; i--) out[keys[i]!] = extra[keys[i]!];
  return out;
}

/**
 * Opens a connection: TCP connect, protocol header, start-ok (PLAIN), tune-ok, open. Rejects with
 * 'connect ETIMEDOUT' when the socket is idle for `timeoutMs` before the connection is open.
 */
export function connect(url: string, opts: ConnectOptions): Promise<AmqpClientConnection> {
  return new Promise((resolve, reject) => {
    let parts: URL;
    try {
      parts = new URL(url);
    } catch {
      reject(new AmqpClientError(`invalid AMQP URL`));
      return;
    }
    if (parts.protocol !== 'amqp:') {
      reject(new AmqpClientError(`Expected amqp: as the protocol; got ${parts.protocol}`));
      return;
    }
    const q = qsParse(parts.search.slice(1));
    const first = (k: string): string | undefined => {
      const v = q[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const int = (k: string, def: number) => {
      const v = first(k);
      return v === undefined ? def : Number.parseInt(v, 10);
    };
    const hb = first('heartbeat');
    const hasUser = parts.username !== '' || parts.password !== '';
    const hs: Handshake = {
      step: CONNECTION_START,
      user: hasUser ? qsUnescape(parts.username) : 'guest',
      pass: hasUser ? qsUnescape(parts.password) : 'guest',
      vhost: parts.pathname.length > 1 ? qsUnescape(parts.pathname.slice(1)) : '/',
      heartbeat: hb === undefined ? null : Number.parseInt(hb, 10),
      frameMax: int('frameMax', 131072),
      channelMax: int('channelMax', 0),
      locale: first('locale') ?? 'en_US',
      clientProperties: opts.clientProperties,
      resolve,
      reject,
    };
    const host = parts.hostname.replace(/^\[|\]$/g, '');
    const port = Number.parseInt(parts.port, 10) || 5672;
    new AmqpClientConnection(host, port, opts, hs);
  });
}

/** One AMQP connection. Its channels are AmqpClientChannel records, indexed by channel id. */
export class AmqpClientConnection {
  #handler: AmqpClientHandler<unknown> | undefined;
  #owner: unknown;
  frameMax = FRAME_MIN_SIZE;
  channelMax = 0;
  heartbeat = 0;
  readonly #sock: Socket;
  #state = OPENING;
  #hs: Handshake | undefined;
  #channels: (AmqpClientChannel | undefined)[] = [];
  /** A frame cut by the end of a read: its bytes so far (the 7-byte header first, then the whole frame). */
  #pend: Buffer | undefined;
  #pendLen = 0;
  #sent = false;
  #recv = false;
  #missed = 0;
  #ticks = 0;
  /** The handshake's idle timer (the heartbeat runs on a wheel shared by all connections). */
  #timer: NodeJS.Timeout | undefined;
  /** This connection's neighbours in its heartbeat wheel slot (a circular list). */
  #hbNext: AmqpClientConnection | undefined;
  #hbPrev: AmqpClientConnection | undefined;
  #hbWheel: Wheel | undefined;
  #hbSlot = 0;
  #corked = false;
  #blocked = false;
  #closed: (() => void) | undefined;
  #closeErr: Error | undefined;

  constructor(host: string, port: number, opts: ConnectOptions, hs: Handshake) {
    this.#hs = hs;
    // Module-level listeners and read callback (Node calls them with the socket as `this`), the
    // connection found through one property on the socket: no closures per connection.
    const sock = netConnect({ host, port, onread: ONREAD }) as OwnedSocket;
    sock[OWNER] = this;
    this.#sock = sock;
    // Applied once connected, as amqplib does in its connect callback; the protocol header waits
    // in the socket until then.
    sock.setNoDelay(opts.noDelay);
    sock.on('error', onSocketError);
    sock.on('close', onSocketClose);
    this.#write(PROTOCOL_HEADER);
    // amqplib's connect timeout is the socket's idle timeout; the same on the timer slot the
    // heartbeat does not use yet (socket.setTimeout would keep a Timeout and a bound function
    // on every socket for good).
    this.#timer = setTimeout(handshakeIdle, opts.timeoutMs, this);
  }

  /** @internal */
  onRead(n: number): void {
    this.#onRead(n);
  }

  /** @internal The socket errored (e) or closed (undefined). */
  socketGone(e: Error | undefined): void {
    this.#socketGone(e);
  }

  /** @internal The handshake timer fired: idle since the last check, the connect failed. */
  handshakeIdle(): void {
    if (this.#state !== OPENING) return;
    if (this.#recv) {
      this.#recv = false;
      this.#timer?.refresh();
      return;
    }
    this.#failOpen(new AmqpClientError('connect ETIMEDOUT'));
  }

  /** Where this connection and its channels report, with `owner` passed back. */
  setHandler<O>(handler: AmqpClientHandler<O>, owner: O): void {
    this.#handler = handler as AmqpClientHandler<unknown>;
    this.#owner = owner;
  }

  /** @internal */
  channelClosed(ch: AmqpClientChannel): void {
    this.#handler?.channelClosed(this.#owner, ch);
  }

  /** @internal */
  delivered(ch: AmqpClientChannel, queue: string, m: Delivery | null): boolean {
    if (this.#handler === undefined) return false;
    this.#handler.delivered(this.#owner, ch, queue, m);
    return true;
  }

  /** @internal */
  returned(ch: AmqpClientChannel, m: Returned): void {
    this.#handler?.returned(this.#owner, ch, m);
  }

  get blocked(): boolean {
    return this.#blocked;
  }

  #socketGone(e: Error | undefined): void {
    if (this.#state === OPENING) {
      this.#failOpen(e ?? new AmqpClientError('Socket closed abruptly during opening handshake'));
      return;
    }
    if (this.#state === CLOSED) return;
    this.#toClosed(e ?? new AmqpClientError('Unexpected close'));
  }

  /** The connection never opened: amqplib ends and destroys the socket (a refused login is not closed by the broker). */
  #failOpen(e: Error): void {
    const hs = this.#hs;
    this.#hs = undefined;
    this.#state = CLOSED;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sock.end();
    this.#sock.destroy();
    hs?.reject(e);
  }

  /** Writes made in one tick go out in one syscall. */
  #write(b: Uint8Array): void {
    this.#sent = true;
    if (!this.#corked) {
      this.#corked = true;
      this.#sock.cork();
      process.nextTick(uncork, this);
    }
    this.#sock.write(b);
  }

  /** @internal */
  uncorkNow(): void {
    this.#corked = false;
    this.#sock.uncork();
  }

  /** @internal A method frame, for a channel of this connection. */
  send(frame: Buffer): void {
    this.#write(frame);
  }

  #sendMethod(channel: number, classId: number, methodId: number, args: MethodArgs): void {
    this.#write(encodeMethodFrame(channel, classId, methodId, args));
  }

  #onRead(n: number): void {
    if (this.#state === CLOSED) return;
    this.#recv = true;
    const buf = READ_BUFFER;
    let pos = this.#pend === undefined ? 0 : this.#resume(buf, n);
    while (pos < n && this.#state !== CLOSED) {
      const avail = n - pos;
      if (avail < 7) {
        this.#pend = Buffer.allocUnsafe(7);
        buf.copy(this.#pend, 0, pos, n);
        this.#pendLen = avail;
        break;
      }
      const total = buf.readUInt32BE(pos + 3) + 8;
      if (!this.#sizeOk(total)) break;
      if (avail < total) {
        this.#pend = Buffer.allocUnsafe(total);
        buf.copy(this.#pend, 0, pos, n);
        this.#pendLen = avail;
        break;
      }
      this.#frame(buf, pos, total);
      pos += total;
    }
  }

  /** Completes the cut frame with the read's first bytes; returns how many it took. */
  #resume(buf: Buffer, n: number): number {
    let pend = this.#pend!;
    let pos = 0;
    if (this.#pendLen < 7) {
      const take = Math.min(7 - this.#pendLen, n);
      buf.copy(pend, this.#pendLen, 0, take);
      this.#pendLen += take;
      pos = take;
      if (this.#pendLen < 7) return pos;
      const total = pend.readUInt32BE(3) + 8;
      if (!this.#sizeOk(total)) return n;
      const full = Buffer.allocUnsafe(total);
      pend.copy(full, 0, 0, 7);
      pend = full;
      this.#pend = full;
    }
    const take = Math.min(pend.length - this.#pendLen, n - pos);
    buf.copy(pend, this.#pendLen, pos, pos + take);
    this.#pendLen += take;
    pos += take;
    if (this.#pendLen === pend.length) {
      this.#pend = undefined;
      this.#pendLen = 0;
      this.#frame(pend, 0, pend.length);
    }
    return pos;
  }

  #sizeOk(total: number): boolean {
    const limit = Math.max(this.frameMax, 131072);
    if (total <= limit) return true;
    this.#frameError(`Frame size exceeds frame max (${total - 8} > ${limit - 8})`);
    return false;
  }

  #frameError(msg: string): void {
    const e = new AmqpClientError(msg);
    if (this.#state === OPENING) this.#failOpen(e);
    else this.#toClosed(e);
  }

  /** One whole frame at buf[at, at + total). */
  #frame(buf: Buffer, at: number, total: number): void {
    const end = at + total - 1;
    if (buf[end] !== FRAME_END) {
      this.#frameError('Invalid frame: no frame-end octet');
      return;
    }
    const type = buf[at]!;
    const channel = buf.readUInt16BE(at + 1);
    const start = at + 7;
    if (type === FRAME_METHOD) {
      if (end - start < 4) {
        this.#frameError('Invalid frame: method frame too short');
        return;
      }
      const method = buf.readUInt32BE(start);
      if (this.#hs !== undefined) this.#handshake(channel, method, buf, start, end);
      else if (channel === 0) this.#channel0(method, buf, start, end);
      else this.#toChannel(channel)?.acceptMethod(method, buf, start, end);
    } else if (type === FRAME_HEADER || type === FRAME_BODY) {
      if (this.#hs !== undefined || channel === 0)
        this.#frameError(`Unexpected content frame on channel ${channel}`);
      else this.#toChannel(channel)?.acceptContent(type, buf, start, end);
    }
    // Heartbeats (type 8) only count as something read, done in #onRead.
  }

  #toChannel(n: number): AmqpClientChannel | undefined {
    if (this.#state === CLOSING) return undefined; // amqplib ignores all but Close/CloseOk once closing
    const ch = this.#channels[n];
    if (ch !== undefined) return ch;
    this.#closeWithError(`Frame on unknown channel ${n}`, CHANNEL_ERROR);
    return undefined;
  }

  #handshake(channel: number, method: number, buf: Buffer, start: number, end: number): void {
    const hs = this.#hs!;
    if (channel !== 0) {
      this.#failOpen(new AmqpClientError(`Frame on channel != 0 during handshake: ${channel}`));
      return;
    }
    const a = decodeMethod(buf, start, end).args;
    if (hs.step === CONNECTION_START) {
      if (method !== CONNECTION_START) {
        this.#failOpen(new AmqpClientError(`Expected ConnectionStart; got <${nameOf(method)} channel:0>`));
        return;
      }
      const mechanisms = Buffer.from(a.mechanisms as Uint8Array)
        .toString()
        .split(' ');
      if (!mechanisms.includes('PLAIN')) {
        this.#failOpen(new AmqpClientError('SASL mechanism PLAIN is not provided by the server'));
        return;
      }
      this.#sendMethod(0, 10, 11, {
        clientProperties: clientProperties(hs.clientProperties),
        mechanism: 'PLAIN',
        response: Buffer.from(`\0${hs.user}\0${hs.pass}`),
        locale: hs.locale,
      });
      hs.step = CONNECTION_TUNE;
      return;
    }
    if (hs.step === CONNECTION_TUNE) {
      if (method === CONNECTION_SECURE) {
        this.#failOpen(new AmqpClientError("Wasn't expecting to have to go through secure"));
        return;
      }
      if (method === CONNECTION_CLOSE) {
        this.#failOpen(new AmqpClientError(`Handshake terminated by server: ${closeMessage(a)}`));
        return;
      }
      if (method !== CONNECTION_TUNE) {
        this.#failOpen(
          new AmqpClientError(
            `Expected connection.secure, connection.close, or connection.tune during handshake; got <${nameOf(method)} channel:0>`,
          ),
        );
        return;
      }
      const serverFrameMax = a.frameMax as number;
      if (serverFrameMax !== 0 && serverFrameMax < FRAME_MIN_SIZE) {
        this.#failOpen(
          new AmqpClientError(
            `Server frameMax ${serverFrameMax} is below the protocol minimum ${FRAME_MIN_SIZE}`,
          ),
        );
        return;
      }
      const frameMax = negotiate(serverFrameMax, hs.frameMax);
      const channelMax = negotiate(a.channelMax as number, hs.channelMax);
      const heartbeat =
        hs.heartbeat === null
          ? (a.heartbeat as number)
          : hs.heartbeat === 0
            ? 0
            : negotiate(a.heartbeat as number, hs.heartbeat);
      this.#sendMethod(0, 10, 31, { channelMax, frameMax, heartbeat });
      this.#sendMethod(0, 10, 40, { virtualHost: hs.vhost, capabilities: '', insist: false });
      this.frameMax = frameMax || 0xffffffff;
      this.channelMax = channelMax || 0xffff;
      this.heartbeat = heartbeat;
      hs.step = CONNECTION_OPEN_OK;
      return;
    }
    if (method !== CONNECTION_OPEN_OK) {
      this.#failOpen(new AmqpClientError(`Expected ConnectionOpenOk; got <${nameOf(method)} channel:0>`));
      return;
    }
    this.#hs = undefined;
    this.#state = OPEN;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#recv = false;
    this.#sent = false;
    if (this.heartbeat > 0) AmqpClientConnection.#joinWheel(this);
    hs.resolve(this);
  }

  #channel0(method: number, buf: Buffer, start: number, end: number): void {
    if (this.#state === CLOSING) {
      if (method === CONNECTION_CLOSE_OK) this.#toClosed(this.#closeErr);
      else if (method === CONNECTION_CLOSE) this.#sendMethod(0, 10, 51, {});
      return;
    }
    if (method === CONNECTION_CLOSE) {
      const a = decodeMethod(buf, start, end).args;
      this.#sendMethod(0, 10, 51, {});
      this.#toClosed(new AmqpClientError(`Connection closed: ${closeMessage(a)}`, a.replyCode as number));
    } else if (method === CONNECTION_BLOCKED) this.#blocked = true;
    else if (method === CONNECTION_UNBLOCKED) this.#blocked = false;
    else {
      this.#closeWithError(`Unexpected frame on channel 0: ${nameOf(method)}`, UNEXPECTED_FRAME);
    }
  }

  /** @internal Heartbeat check, every half heartbeat interval (amqplib's Heart). */
  tick(): void {
    if (this.#state === CLOSED) return;
    // Heart's send check: a heartbeat when nothing was written since the last check; the
    // heartbeat itself counts as written, so an idle connection beats once per interval.
    if (!this.#sent) this.#write(HEARTBEAT_FRAME);
    else this.#sent = false;
    // Heart's receive check runs every full interval; the second miss in a row is the timeout.
    if (++this.#ticks % 2 !== 0) return;
    if (this.#recv) {
      this.#recv = false;
      this.#missed = 0;
      return;
    }
    if (++this.#missed >= 2) this.#toClosed(new AmqpClientError('Heartbeat timeout'));
  }

  /**
   * Heartbeat wheels, one per heartbeat value h (seconds): h slots of connections, one slot
   * visited every 500 ms, so each connection is checked every h/2 s, amqplib's Heart period, on
   * one timer per process instead of two per connection.
   */
  static readonly #wheels = new Map<number, Wheel>();

  static #joinWheel(c: AmqpClientConnection): void {
    const h = c.heartbeat;
    let w = AmqpClientConnection.#wheels.get(h);
    if (w === undefined) {
      const wheel: Wheel = { slots: new Array(h).fill(undefined), cursor: 0, count: 0, timer: undefined };
      wheel.timer = setInterval(turn, HEARTBEAT_TICK_MS, wheel);
      wheel.timer.unref();
      AmqpClientConnection.#wheels.set(h, wheel);
      w = wheel;
    }
    // The slot just visited comes round again in h ticks: half the heartbeat interval from now.
    const slot = w.cursor;
    const head = w.slots[slot];
    if (head === undefined) {
      c.#hbNext = c;
      c.#hbPrev = c;
      w.slots[slot] = c;
    } else {
      const tail = head.#hbPrev!;
      c.#hbNext = head;
      c.#hbPrev = tail;
      tail.#hbNext = c;
      head.#hbPrev = c;
    }
    c.#hbWheel = w;
    c.#hbSlot = slot;
    w.count++;
  }

  static #leaveWheel(c: AmqpClientConnection): void {
    const w = c.#hbWheel!;
    const next = c.#hbNext!;
    if (next === c) w.slots[c.#hbSlot] = undefined;
    else {
      c.#hbPrev!.#hbNext = next;
      next.#hbPrev = c.#hbPrev;
      if (w.slots[c.#hbSlot] === c) w.slots[c.#hbSlot] = next;
    }
    c.#hbNext = undefined;
    c.#hbPrev = undefined;
    c.#hbWheel = undefined;
    if (--w.count === 0) {
      clearInterval(w.timer);
      AmqpClientConnection.#wheels.delete(c.heartbeat);
    }
  }

  /** @internal One wheel tick: the connections of the next slot get their heartbeat check. */
  static turn(w: Wheel): void {
    w.cursor = (w.cursor + 1) % w.slots.length;
    const head = w.slots[w.cursor];
    if (head === undefined) return;
    // Collected first: a check can close its connection, which unlinks it.
    const due: AmqpClientConnection[] = [];
    let c = head;
    do {
      due.push(c);
      c = c.#hbNext!;
    } while (c !== head);
    for (const d of due) d.tick();
  }

  /** A confirm channel (Channel.Open, Confirm.Select) on the lowest free channel id. */
  async createConfirmChannel(): Promise<AmqpClientChannel> {
    if (this.#state !== OPEN) throw new AmqpClientError('Connection closed');
    let n = 1;
    while (this.#channels[n] !== undefined) n++;
    if (n > this.channelMax) throw new AmqpClientError('No channels left to allocate');
    const ch = new AmqpClientChannel(this, n);
    // Arrays sized exactly: a push would reserve room for 16 more on each of thousands of connections.
    const chans: (AmqpClientChannel | undefined)[] = new Array(Math.max(this.#channels.length, n + 1));
    for (let i = 0; i < this.#channels.length; i++) chans[i] = this.#channels[i];
    chans[n] = ch;
    this.#channels = chans;
    await ch.rpc(20, 10, { outOfBand: '' }, CHANNEL_OPEN_OK);
    await ch.rpc(85, 10, { nowait: false }, CONFIRM_SELECT_OK);
    return ch;
  }

  /** @internal */
  release(ch: AmqpClientChannel): void {
    if (this.#channels[ch.id] === ch) this.#channels[ch.id] = undefined;
    while (this.#channels.length > 0 && this.#channels[this.#channels.length - 1] === undefined)
      this.#channels.length--;
  }

  /** Connection.Close (200, 'Cheers, thanks'); resolves once the broker's CloseOk came or the socket ended. */
  close(): Promise<void> {
    if (this.#state === CLOSED || this.#state === OPENING)
      return Promise.reject(new AmqpClientError('Connection closed'));
    return new Promise((resolve) => {
      const prev = this.#closed;
      this.#closed = () => {
        prev?.();
        resolve();
      };
      if (this.#state === CLOSING) return;
      this.#sendMethod(0, 10, 50, {
        replyCode: REPLY_SUCCESS,
        replyText: 'Cheers, thanks',
        classId: 0,
        methodId: 0,
      });
      // A blocked connection gets no CloseOk until unblocked: amqplib closes at once.
      if (this.#blocked) this.#toClosed(undefined);
      else this.#state = CLOSING;
    });
  }

  /** amqplib's closeWithError: Connection.Close with the reason; the error is what connectionClosed reports. */
  #closeWithError(reason: string, code: number): void {
    this.#sendMethod(0, 10, 50, { replyCode: code, replyText: reason, classId: 0, methodId: 0 });
    this.#closeErr = new AmqpClientError(reason, code);
    this.#state = CLOSING;
  }

  #toClosed(err: Error | undefined): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    if (this.#hbWheel !== undefined) AmqpClientConnection.#leaveWheel(this);
    this.#pend = undefined;
    const chans = this.#channels;
    this.#channels = [];
    for (const ch of chans) ch?.toClosed();
    this.#sock.end();
    const done = this.#closed;
    this.#closed = undefined;
    done?.();
    this.#handler?.connectionClosed(this.#owner, this, err);
  }
}

function uncork(c: AmqpClientConnection): void {
  c.uncorkNow();
}

function handshakeIdle(c: AmqpClientConnection): void {
  c.handshakeIdle();
}

const OWNER = Symbol('amqp-client connection');
type OwnedSocket = Socket & { [OWNER]?: AmqpClientConnection };

const ONREAD = {
  buffer: READ_BUFFER,
  callback(this: OwnedSocket, n: number): boolean {
    this[OWNER]?.onRead(n);
    return true;
  },
};

function onSocketError(this: OwnedSocket, e: Error): void {
  this[OWNER]?.socketGone(e);
}

function onSocketClose(this: OwnedSocket): void {
  this[OWNER]?.socketGone(undefined);
}

/** Connections of one heartbeat value, by the 500 ms slot they are checked in. */
interface Wheel {
  readonly slots: (AmqpClientConnection | undefined)[];
  cursor: number;
  count: number;
  timer: NodeJS.Timeout | undefined;
}

const HEARTBEAT_TICK_MS = 500;

function turn(w: Wheel): void {
  AmqpClientConnection.turn(w);
}

interface RpcWait {
  readonly method: number;
  readonly expect: number;
  readonly resolve: (a: Record<string, unknown>) => void;
  readonly reject: (e: Error) => void;
  /** Run on the reply before anything after it in the same read (a consumer before its deliveries). */
  readonly onReply: ((a: Record<string, unknown>) => void) | undefined;
}

/** A message being received: its method's fields until the header gives its size, then its body. */
interface Incoming {
  readonly deliver: boolean;
  readonly a: Record<string, unknown>;
  body: Buffer | undefined;
  got: number;
}

/** One channel in confirm mode. */
export class AmqpClientChannel {
  readonly id: number;
  /** Why the channel was closed with an error (by the broker: 404, 406...), set before channelClosed. */
  error: AmqpClientError | undefined;
  /** The channel is closed (by the broker, by close(), or with its connection). */
  readonly #conn: AmqpClientConnection;
  #state = OPEN;
  #reply: RpcWait | undefined;
  #queued: [RpcWait, Buffer][] | undefined;
  /** Consumer tags and their queues, by index; sized exactly (see createConfirmChannel). */
  #tags: string[] = [];
  #queues: string[] = [];
  /** Confirm callbacks from delivery tag #lwm on (null: already confirmed out of order). */
  #unconfirmed: (ConfirmCallback | null)[] | undefined;
  #lwm = 1;
  #in: Incoming | undefined;
  #closedCb: (() => void) | undefined;

  constructor(conn: AmqpClientConnection, n: number) {
    this.#conn = conn;
    this.id = n;
  }

  /** @internal A synchronous method and its reply; one outstanding at a time, as amqplib sends them. */
  rpc(
    classId: number,
    methodId: number,
    args: MethodArgs,
    expect: number,
    onReply?: (a: Record<string, unknown>) => void,
  ): Promise<Record<string, unknown>> {
    if (this.#state !== OPEN) return Promise.reject(new AmqpClientError('Channel closed'));
    const frame = encodeMethodFrame(this.id, classId, methodId, args);
    return new Promise((resolve, reject) => {
      const w: RpcWait = { method: id(classId, methodId), expect, resolve, reject, onReply };
      if (this.#reply === undefined) {
        this.#reply = w;
        this.#conn.send(frame);
      } else if (this.#queued === undefined) this.#queued = [[w, frame]];
      else this.#queued.push([w, frame]);
    });
  }

  async assertExchange(
    exchange: string,
    type: string,
    o: { readonly durable?: boolean; readonly autoDelete?: boolean },
  ): Promise<void> {
    await this.rpc(
      40,
      10,
      {
        ticket: 0,
        exchange,
        type,
        passive: false,
        durable: o.durable ?? true,
        autoDelete: o.autoDelete === true,
        internal: false,
        nowait: false,
        arguments: {},
      },
      EXCHANGE_DECLARE_OK,
    );
  }

  async assertQueue(
    queue: string,
    o: {
      readonly durable?: boolean;
      readonly autoDelete?: boolean;
      readonly arguments?: Readonly<Record<string, unknown>>;
    },
  ): Promise<{ queue: string }> {
    const a = await this.rpc(
      50,
      10,
      {
        ticket: 0,
        queue,
        passive: false,
        durable: o.durable ?? true,
        exclusive: false,
        autoDelete: o.autoDelete === true,
        nowait: false,
        arguments: o.arguments ?? {},
      },
      QUEUE_DECLARE_OK,
    );
    return { queue: a.queue as string };
  }

  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    await this.rpc(
      50,
      20,
      { ticket: 0, queue, exchange, routingKey, nowait: false, arguments: {} },
      QUEUE_BIND_OK,
    );
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.rpc(
      50,
      40,
      { ticket: 0, queue, ifUnused: false, ifEmpty: false, nowait: false },
      QUEUE_DELETE_OK,
    );
  }

  /** Basic.Consume with a server-named tag; its deliveries go to the handler's `delivered` with `queue`. */
  async consume(queue: string, o: { readonly noAck: boolean }): Promise<string> {
    const a = await this.rpc(
      60,
      20,
      {
        ticket: 0,
        queue,
        consumerTag: '',
        noLocal: false,
        noAck: o.noAck,
        exclusive: false,
        nowait: false,
        arguments: {},
      },
      BASIC_CONSUME_OK,
      // Deliveries can follow Consume-Ok in the same read, before this function resumes.
      (r) => {
        // concat, not spread or push: those reserve room for ~16 more elements.
        this.#tags = this.#tags.concat(r.consumerTag as string);
        this.#queues = this.#queues.concat(queue);
      },
    );
    return a.consumerTag as string;
  }

  ack(deliveryTag: number): void {
    if (this.#state !== OPEN) throw new AmqpClientError('Channel closed');
    this.#conn.send(encodeMethodFrame(this.id, 60, 80, { deliveryTag, multiple: false }));
  }

  /** Publishes; `cb` gets the confirm. Throws if the channel is closed (nothing sent, cb never called). */
  publish(
    exchange: string,
    routingKey: string,
    body: Uint8Array,
    properties: AmqpProperties,
    mandatory: boolean,
    cb: ConfirmCallback,
  ): void {
    if (this.#state !== OPEN) throw new AmqpClientError('Channel closed');
    // amqplib always sends a headers table (empty when none is given).
    const p = properties.headers === undefined ? { ...properties, headers: {} } : properties;
    const frames = encodePublish(this.id, this.#conn.frameMax, { exchange, routingKey, mandatory }, p, body);
    if (this.#unconfirmed === undefined) this.#unconfirmed = [cb];
    else this.#unconfirmed.push(cb);
    this.#conn.send(frames);
  }

  /** Channel.Close (200, 'Goodbye'); resolves on the broker's CloseOk. */
  close(): Promise<void> {
    if (this.#state !== OPEN) return Promise.reject(new AmqpClientError('Channel closed'));
    return new Promise((resolve) => {
      this.#closeBecause('Goodbye', REPLY_SUCCESS, 0, resolve);
    });
  }

  #closeBecause(reason: string, code: number, method: number, k: () => void): void {
    this.#conn.send(
      encodeMethodFrame(this.id, 20, 40, {
        replyCode: code,
        replyText: reason,
        classId: method >>> 16,
        methodId: method & 0xffff,
      }),
    );
    this.#state = CLOSING;
    this.#closedCb = k;
  }

  /** amqplib's closeWithError: close, and report `err` once the broker confirmed. */
  #closeWithError(method: number, reason: string, code: number, err: AmqpClientError): void {
    this.#closeBecause(reason, code, method, () => {
      err.code = code;
      this.error = err;
    });
  }

  /** @internal */
  acceptMethod(method: number, buf: Buffer, start: number, end: number): void {
    if (this.#state === CLOSED) return;
    if (this.#state === CLOSING) {
      if (method === CHANNEL_CLOSE_OK) {
        const k = this.#closedCb;
        this.#closedCb = undefined;
        k?.();
        this.toClosed();
      } else if (method === CHANNEL_CLOSE) this.#conn.send(encodeMethodFrame(this.id, 20, 41, {}));
      return;
    }
    if (this.#in !== undefined) {
      this.#closeWithError(
        method,
        'Expected content header or body frame',
        UNEXPECTED_FRAME,
        new AmqpClientError(`Expected content frame; got ${nameOf(method)}`),
      );
      return;
    }
    switch (method) {
      case BASIC_DELIVER:
      case BASIC_RETURN:
        this.#in = {
          deliver: method === BASIC_DELIVER,
          a: decodeMethod(buf, start, end).args,
          body: undefined,
          got: 0,
        };
        return;
      case BASIC_ACK:
      case BASIC_NACK: {
        const a = decodeMethod(buf, start, end).args;
        this.#confirm(a.deliveryTag as number, a.multiple === true, method === BASIC_ACK);
        return;
      }
      case BASIC_CANCEL: {
        const tag = decodeMethod(buf, start, end).args.consumerTag as string;
        const i = this.#tags.indexOf(tag);
        if (i < 0) return;
        const queue = this.#queues[i]!;
        this.#tags = without(this.#tags, i);
        this.#queues = without(this.#queues, i);
        this.#conn.delivered(this, queue, null);
        return;
      }
      case CHANNEL_CLOSE: {
        const a = decodeMethod(buf, start, end).args;
        const r = this.#reply;
        this.#reply = undefined;
        if (r !== undefined) {
          const closed = id(a.classId as number, a.methodId as number);
          r.reject(
            withCode(
              new AmqpClientError(
                r.method === closed
                  ? `Operation failed: ${nameOf(r.method)}; ${closeMessage(a)}`
                  : `Channel closed by server: ${closeMessage(a)}`,
              ),
              a,
            ),
          );
        }
        this.#conn.send(encodeMethodFrame(this.id, 20, 41, {}));
        this.error = withCode(new AmqpClientError(`Channel closed by server: ${closeMessage(a)}`), a);
        this.toClosed();
        return;
      }
      case CHANNEL_FLOW:
        this.#closeWithError(
          method,
          'Flow not implemented',
          NOT_IMPLEMENTED,
          new AmqpClientError('Flow not implemented'),
        );
        return;
    }
    const r = this.#reply;
    if (r === undefined) {
      this.#closeWithError(
        method,
        `Unexpected ${nameOf(method)}`,
        UNEXPECTED_FRAME,
        new AmqpClientError(`Unexpected ${nameOf(method)} with no reply pending`),
      );
      return;
    }
    const next = this.#queued?.shift();
    this.#reply = next?.[0];
    if (next !== undefined) this.#conn.send(next[1]);
    if (this.#queued?.length === 0) this.#queued = undefined;
    if (method !== r.expect) {
      const e = new AmqpClientError(`Expected ${nameOf(r.expect)}; got ${nameOf(method)}`);
      this.#closeWithError(
        method,
        `Expected ${nameOf(r.expect)}; got ${nameOf(method)}`,
        UNEXPECTED_FRAME,
        e,
      );
      r.reject(e);
      return;
    }
    const a = decodeMethod(buf, start, end).args;
    r.onReply?.(a);
    r.resolve(a);
  }

  /** @internal A content header or body frame of the message being received. */
  acceptContent(type: number, buf: Buffer, start: number, end: number): void {
    if (this.#state !== OPEN) return;
    const m = this.#in;
    if (m === undefined || (type === FRAME_HEADER) !== (m.body === undefined)) {
      this.#closeWithError(
        0,
        'Unexpected content frame',
        UNEXPECTED_FRAME,
        new AmqpClientError('Unexpected content frame'),
      );
      return;
    }
    if (type === FRAME_HEADER) {
      if (end - start < 14) {
        this.#closeWithError(
          0,
          'Bad content header',
          UNEXPECTED_FRAME,
          new AmqpClientError('Bad content header'),
        );
        return;
      }
      m.body = Buffer.allocUnsafe(Number(buf.readBigUInt64BE(start + 4)));
    } else {
      const n = end - start;
      if (m.got + n > m.body!.length) {
        this.#closeWithError(
          0,
          'Body overruns its size',
          UNEXPECTED_FRAME,
          new AmqpClientError('Body overruns its size'),
        );
        return;
      }
      buf.copy(m.body!, m.got, start, end);
      m.got += n;
    }
    if (m.got === m.body!.length) {
      this.#in = undefined;
      this.#dispatch(m);
    }
  }

  #dispatch(m: Incoming): void {
    const a = m.a;
    const content = m.body!;
    try {
      if (!m.deliver) {
        this.#conn.returned(this, {
          replyCode: a.replyCode as number,
          replyText: a.replyText as string,
          exchange: a.exchange as string,
          routingKey: a.routingKey as string,
          content,
        });
        return;
      }
      const i = this.#tags.indexOf(a.consumerTag as string);
      const delivered =
        i >= 0 &&
        this.#conn.delivered(this, this.#queues[i]!, {
          deliveryTag: a.deliveryTag as number,
          redelivered: a.redelivered === true,
          exchange: a.exchange as string,
          routingKey: a.routingKey as string,
          content,
        });
      if (!delivered) throw new AmqpClientError(`Unknown consumer: ${String(a.consumerTag)}`);
    } catch (e) {
      // amqplib closes the channel when handling a message throws; `error` then says why.
      this.#closeWithError(
        0,
        'Error while processing message',
        INTERNAL_ERROR,
        e instanceof AmqpClientError ? e : new AmqpClientError(String(e)),
      );
    }
  }

  /** amqplib's handleConfirm: `multiple` settles every tag up to `tag`. */
  #confirm(tag: number, multiple: boolean, ok: boolean): void {
    const u = this.#unconfirmed;
    if (u === undefined) return;
    let settled: (ConfirmCallback | null | undefined)[];
    if (multiple) {
      settled = u.splice(0, tag - this.#lwm + 1);
      this.#lwm = tag + 1;
    } else if (tag === this.#lwm) {
      settled = [u.shift()];
      this.#lwm++;
      while (u.length > 0 && u[0] === null) {
        u.shift();
        this.#lwm++;
      }
    } else {
      settled = [u[tag - this.#lwm]];
      u[tag - this.#lwm] = null;
    }
    // Dropped once drained (before the callbacks, which may publish): an idle channel keeps no
    // array, nor the capacity it grew to.
    if (u.length === 0) this.#unconfirmed = undefined;
    const err = ok ? null : new AmqpClientError('message nacked');
    for (const cb of settled) cb?.(err);
  }

  /** @internal Closed: pending replies rejected, unconfirmed publishes failed ('channel closed'), then reported. */
  toClosed(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    const ended = () => new AmqpClientError('Channel ended, no reply will be forthcoming');
    this.#reply?.reject(ended());
    this.#reply = undefined;
    for (const [w] of this.#queued ?? []) w.reject(ended());
    this.#queued = undefined;
    this.#in = undefined;
    this.#conn.release(this);
    const u = this.#unconfirmed;
    this.#unconfirmed = undefined;
    if (u !== undefined) {
      const err = new AmqpClientError('channel closed');
      for (const cb of u) cb?.(err);
    }
    this.#conn.channelClosed(this);
  }
}

/** `a` less its element `i`, sized exactly (filter reserves room for more). */
function without<T>(a: readonly T[], i: number): T[] {
  return a.slice(0, i).concat(a.slice(i + 1));
}

function withCode(e: AmqpClientError, a: Record<string, unknown>): AmqpClientError {
  e.code = a.replyCode as number;
  e.classId = a.classId as number;
  e.methodId = a.methodId as number;
  return e;
}
