import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { test } from 'node:test';
import amqp from 'amqplib';
import { makeVhost } from '../../test/harness/oslo.ts';
import { osloProperties } from '../wire/oslo/encode.ts';
import {
  type AmqpClientChannel,
  type AmqpClientConnection,
  type AmqpClientHandler,
  connect,
  type Delivery,
  type Returned,
} from './amqp-client.ts';

/** A test's connection events, each to a function the test sets when it cares. */
interface Hooks {
  closed?: (e: Error | undefined) => void;
  chClosed?: (ch: AmqpClientChannel) => void;
  delivery?: (ch: AmqpClientChannel, queue: string, m: Delivery | null) => void;
  returned?: (m: Returned) => void;
}

const HOOKS: AmqpClientHandler<Hooks> = {
  connectionClosed: (h, _c, e) => h.closed?.(e),
  channelClosed: (h, ch) => h.chClosed?.(ch),
  delivered: (h, ch, q, m) => h.delivery?.(ch, q, m),
  returned: (h, _ch, m) => h.returned?.(m),
};

function hooks(c: AmqpClientConnection): Hooks {
  const h: Hooks = {};
  c.setHandler(HOOKS, h);
  return h;
}

const BROKER_PORT = 5672;

/** A TCP proxy to the machine's broker that records what clients send, and can cut or stall. */
class Relay {
  readonly server: Server;
  /** Bytes each client connection sent, in connection order. */
  readonly sent: Buffer[][] = [];
  readonly #pairs: [Socket, Socket][] = [];
  /** Server-to-client bytes are dropped while true (a broker that went silent). */
  silent = false;
  /** Accept TCP but never reach the broker (a broker out of sockets). */
  blackhole = false;

  constructor() {
    this.server = createServer((c) => {
      const chunks: Buffer[] = [];
      this.sent.push(chunks);
      if (this.blackhole) {
        c.on('data', (d: Buffer) => chunks.push(d));
        c.on('error', () => {});
        this.#pairs.push([c, c]);
        return;
      }
      const b = tcpConnect(BROKER_PORT, '127.0.0.1');
      this.#pairs.push([c, b]);
      c.on('data', (d: Buffer) => {
        chunks.push(d);
        b.write(d);
      });
      b.on('data', (d: Buffer) => {
        if (!this.silent) c.write(d);
      });
      c.on('end', () => b.end());
      b.on('end', () => c.end());
      c.on('error', () => b.destroy());
      b.on('error', () => c.destroy());
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as { port: number }).port;
  }

  /** Ends both sides of every connection, as a broker node going away. */
  cut(): void {
    for (const [c, b] of this.#pairs) {
      c.end();
      b.destroy();
    }
  }

  async close(): Promise<void> {
    for (const [c, b] of this.#pairs) {
      c.destroy();
      b.destroy();
    }
    await new Promise((r) => this.server.close(r));
  }
}

/** Frames of a recorded client stream as [type, channel, payload] (protocol header first). */
function frames(bytes: Buffer): { type: number; channel: number; payload: Buffer }[] {
  const out: { type: number; channel: number; payload: Buffer }[] = [];
  let pos = 8;
  while (pos + 7 <= bytes.length) {
    const size = bytes.readUInt32BE(pos + 3);
    out.push({
      type: bytes[pos]!,
      channel: bytes.readUInt16BE(pos + 1),
      payload: bytes.subarray(pos + 7, pos + 7 + size),
    });
    pos += size + 8;
  }
  return out;
}

const SIZES = [0, 1, 100, 4087, 4088, 4089, 65_535, 65_536, 131_063, 131_064, 131_065, 300_000];
const body = (n: number, salt: number) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + salt) & 0xff;
  return b;
};

/**
 * What the emulator does on a connection, written once for each client: the same calls in the same
 * order, each awaited, so both put the same bytes on the wire.
 */
interface Ops {
  confirmChannel(): Promise<void>;
  exchange(name: string): Promise<void>;
  queue(name: string, args: Record<string, unknown>): Promise<void>;
  bind(queue: string, exchange: string, key: string): Promise<void>;
  consume(queue: string): Promise<void>;
  /** Publishes, waits for the confirm, then for the delivery, which it acks. */
  roundTrip(exchange: string, key: string, b: Buffer): Promise<Buffer>;
  /** A mandatory publish nothing is bound to: resolves with the returned body. */
  returned(exchange: string, key: string, b: Buffer): Promise<Buffer>;
  deleteQueue(name: string): Promise<void>;
  closeChannel(): Promise<void>;
  close(): Promise<void>;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const p = new Promise<T>((r) => {
    resolve = r;
  });
  return { p, resolve };
}

async function amqplibOps(url: string, name: string): Promise<Ops> {
  const c = await amqp.connect(url, {
    noDelay: true,
    timeout: 5000,
    clientProperties: { connection_name: name, capabilities: { 'connection.blocked': true } },
  } as Parameters<typeof amqp.connect>[1]);
  let ch!: amqp.ConfirmChannel;
  let delivery = deferred<Buffer>();
  let ret = deferred<Buffer>();
  return {
    async confirmChannel() {
      ch = await c.createConfirmChannel();
      ch.on('return', (m: amqp.Message) => ret.resolve(m.content));
    },
    exchange: async (x) => void (await ch.assertExchange(x, 'topic', { durable: false, autoDelete: false })),
    queue: async (q, args) =>
      void (await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: args })),
    bind: async (q, x, k) => void (await ch.bindQueue(q, x, k)),
    consume: async (q) =>
      void (await ch.consume(
        q,
        (m) => {
          if (m === null) return;
          ch.ack(m);
          delivery.resolve(m.content);
        },
        { noAck: false },
      )),
    async roundTrip(x, k, b) {
      delivery = deferred();
      await new Promise<void>((resolve, reject) =>
        ch.publish(x, k, b, { ...osloProperties(60_000), mandatory: true }, (e) =>
          e ? reject(e) : resolve(),
        ),
      );
      return delivery.p;
    },
    async returned(x, k, b) {
      ret = deferred();
      await new Promise<void>((resolve, reject) =>
        ch.publish(x, k, b, { ...osloProperties(), mandatory: true }, (e) => (e ? reject(e) : resolve())),
      );
      return ret.p;
    },
    deleteQueue: async (q) => void (await ch.deleteQueue(q)),
    closeChannel: () => ch.close(),
    close: () => c.close(),
  };
}

async function leanOps(url: string, name: string): Promise<Ops> {
  const c = await connect(url, {
    noDelay: true,
    timeoutMs: 5000,
    clientProperties: { connection_name: name, capabilities: { 'connection.blocked': true } },
  });
  let ch!: AmqpClientChannel;
  let delivery = deferred<Buffer>();
  let ret = deferred<Buffer>();
  const h = hooks(c);
  return {
    async confirmChannel() {
      ch = await c.createConfirmChannel();
      h.returned = (m) => ret.resolve(m.content);
    },
    exchange: (x) => ch.assertExchange(x, 'topic', { durable: false, autoDelete: false }),
    queue: async (q, args) =>
      void (await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: args })),
    bind: (q, x, k) => ch.bindQueue(q, x, k),
    async consume(q) {
      h.delivery = (_ch, _queue, m) => {
        if (m === null) return;
        ch.ack(m.deliveryTag);
        delivery.resolve(m.content);
      };
      await ch.consume(q, { noAck: false });
    },
    async roundTrip(x, k, b) {
      delivery = deferred();
      await new Promise<void>((resolve, reject) =>
        ch.publish(x, k, b, osloProperties(60_000), true, (e) => (e ? reject(e) : resolve())),
      );
      return delivery.p;
    },
    async returned(x, k, b) {
      ret = deferred();
      await new Promise<void>((resolve, reject) =>
        ch.publish(x, k, b, osloProperties(), true, (e) => (e ? reject(e) : resolve())),
      );
      return ret.p;
    },
    deleteQueue: (q) => ch.deleteQueue(q),
    closeChannel: () => ch.close(),
    close: () => c.close(),
  };
}

async function script(ops: Ops, tag: string): Promise<Buffer[]> {
  const got: Buffer[] = [];
  await ops.confirmChannel();
  await ops.exchange(`ex-${tag}`);
  await ops.queue(`q-${tag}`, { 'x-expires': 1_800_000, 'x-queue-type': 'classic' });
  await ops.bind(`q-${tag}`, `ex-${tag}`, 'k');
  await ops.consume(`q-${tag}`);
  for (const [i, n] of SIZES.entries()) got.push(await ops.roundTrip(`ex-${tag}`, 'k', body(n, i)));
  got.push(await ops.returned(`ex-${tag}`, 'nobody', body(5000, 99)));
  await ops.deleteQueue(`q-${tag}`);
  await ops.closeChannel();
  await ops.close();
  return got;
}

test('on the wire the client is amqplib, byte for byte; messages 0 B to 300 KB arrive intact', {
  timeout: 30_000,
}, async (t) => {
  const vh = await makeVhost('rpcscope-client');
  t.after(() => vh.remove());
  const proxy = new Relay();
  const port = await proxy.listen();
  t.after(() => proxy.close());
  const url = `amqp://guest:guest@127.0.0.1:${port}/${vh.name}?heartbeat=60`;
  // The same names on both runs: only then are the byte streams comparable.
  const theirs = await script(await amqplibOps(url, 'same:1:uuid'), 'a');
  const mine = await script(await leanOps(url, 'same:1:uuid'), 'a');
  const expected = [...SIZES.map((n, i) => body(n, i)), body(5000, 99)];
  assert.deepEqual(
    theirs.map((b) => b.length),
    expected.map((b) => b.length),
  );
  for (const [i, b] of mine.entries())
    assert.ok(b.equals(expected[i]!), `message ${i} (${b.length} B) intact`);
  const [a, l] = [Buffer.concat(proxy.sent[0]!), Buffer.concat(proxy.sent[1]!)];
  const fa = frames(a);
  const fl = frames(l);
  assert.equal(fl.length, fa.length, 'as many frames');
  for (const [i, f] of fa.entries()) {
    assert.equal(fl[i]!.type, f.type, `frame ${i} type`);
    assert.equal(fl[i]!.channel, f.channel, `frame ${i} channel`);
    assert.ok(fl[i]!.payload.equals(f.payload), `frame ${i} (type ${f.type}) payload`);
  }
  assert.ok(l.equals(a), 'the whole client stream is identical');
});

test('a channel error surfaces as amqplib reported it, and the connection carries on', {
  timeout: 30_000,
}, async (t) => {
  const vh = await makeVhost('rpcscope-client');
  t.after(() => vh.remove());
  const c = await connect(`amqp://guest:guest@127.0.0.1:${BROKER_PORT}/${vh.name}?heartbeat=60`, {
    noDelay: true,
    timeoutMs: 5000,
    clientProperties: { connection_name: 'test' },
  });
  let connClosed: Error | undefined | null = null;
  const h = hooks(c);
  h.closed = (e) => {
    connClosed = e;
  };
  t.after(() => c.close().catch(() => {}));
  const ch = await c.createConfirmChannel();
  assert.equal(ch.id, 1);
  const closed = deferred<void>();
  h.chClosed = (x) => {
    if (x === ch) closed.resolve();
  };
  const confirm = deferred<Error | null>();
  ch.publish('no-such-exchange', 'k', Buffer.from('x'), osloProperties(), false, confirm.resolve);
  await closed.p;
  assert.match(
    ch.error?.message ?? '',
    /^Channel closed by server: 404 \(NOT-FOUND\) with message "NOT_FOUND - no exchange 'no-such-exchange'/,
  );
  assert.equal(ch.error?.code, 404);
  assert.equal((await confirm.p)?.message, 'channel closed');
  assert.throws(() => ch.publish('', 'q', Buffer.alloc(0), {}, false, () => {}), /Channel closed/);

  // The next channel takes id 1 again, as amqplib allocates it; a 406 rejects the declare.
  const ch2 = await c.createConfirmChannel();
  assert.equal(ch2.id, 1);
  await ch2.assertQueue('q406', { durable: false, autoDelete: false, arguments: {} });
  await assert.rejects(
    ch2.assertQueue('q406', { durable: true, autoDelete: false, arguments: {} }),
    (e: Error & { code?: number }) =>
      /^Operation failed: QueueDeclare; 406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - inequivalent arg 'durable'/.test(
        e.message,
      ) && e.code === 406,
  );
  assert.equal(ch2.error?.code, 406);
  const ch3 = await c.createConfirmChannel();
  await ch3.deleteQueue('q406');

  // A backlog: the broker sends Consume-Ok and the first deliveries in one write; none is lost.
  await ch3.assertQueue('backlog', { durable: false, autoDelete: false, arguments: {} });
  const n = 200;
  const confirmed = Array.from(
    { length: n },
    (_, i) =>
      new Promise<Error | null>((r) => ch3.publish('', 'backlog', Buffer.from(String(i)), {}, false, r)),
  );
  assert.deepEqual(await Promise.all(confirmed), Array(n).fill(null));
  const got: string[] = [];
  const all = deferred<void>();
  h.delivery = (_ch, q, m) => {
    if (m === null || q !== 'backlog') return;
    got.push(m.content.toString());
    if (got.length === n) all.resolve();
  };
  await ch3.consume('backlog', { noAck: true });
  await all.p;
  assert.deepEqual(
    got,
    Array.from({ length: n }, (_, i) => String(i)),
  );
  assert.equal(ch3.error, undefined);
  await ch3.deleteQueue('backlog');
  assert.equal(connClosed, null, 'the connection stayed open');
});

test('a consumer cancelled by the broker gets null; a socket cut is "Unexpected close" and fails unconfirmed publishes', {
  timeout: 30_000,
}, async (t) => {
  const vh = await makeVhost('rpcscope-client');
  t.after(() => vh.remove());
  const proxy = new Relay();
  const port = await proxy.listen();
  t.after(() => proxy.close());
  const c = await connect(`amqp://guest:guest@127.0.0.1:${port}/${vh.name}?heartbeat=60`, {
    noDelay: true,
    timeoutMs: 5000,
    clientProperties: { connection_name: 'test' },
  });
  const h = hooks(c);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue('cancelled', { durable: false, autoDelete: false, arguments: {} });
  const cancelled = deferred<[string, Delivery | null]>();
  h.delivery = (_ch, q, m) => cancelled.resolve([q, m]);
  await ch.consume('cancelled', { noAck: false });
  const other = await c.createConfirmChannel();
  assert.equal(other.id, 2);
  await other.deleteQueue('cancelled');
  assert.deepEqual(await cancelled.p, ['cancelled', null]);

  const closed = deferred<Error | undefined>();
  h.closed = closed.resolve;
  const chClosed = deferred<void>();
  h.chClosed = (x) => {
    if (x === ch) chClosed.resolve();
  };
  const confirms: (Error | null)[] = [];
  proxy.silent = true; // the confirms never come back
  for (let i = 0; i < 3; i++) ch.publish('', 'nowhere', Buffer.alloc(10), {}, false, (e) => confirms.push(e));
  await new Promise((r) => setTimeout(r, 100));
  proxy.cut();
  assert.equal((await closed.p)?.message, 'Unexpected close');
  await chClosed.p;
  assert.deepEqual(
    confirms.map((e) => e?.message),
    ['channel closed', 'channel closed', 'channel closed'],
  );
  await assert.rejects(c.close(), /Connection closed/);
});

test('connect gives up after its timeout on a broker that accepts TCP but never speaks AMQP', {
  timeout: 30_000,
}, async (t) => {
  const proxy = new Relay();
  proxy.blackhole = true;
  const port = await proxy.listen();
  t.after(() => proxy.close());
  const t0 = Date.now();
  await assert.rejects(
    connect(`amqp://guest:guest@127.0.0.1:${port}/`, { noDelay: true, timeoutMs: 300, clientProperties: {} }),
    /^AmqpClientError: connect ETIMEDOUT$/,
  );
  assert.ok(Date.now() - t0 >= 290);
  assert.deepEqual(Buffer.concat(proxy.sent[0]!), Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
  // Nothing listening: the socket's own error.
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const dead = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  await assert.rejects(
    connect(`amqp://127.0.0.1:${dead}/`, { noDelay: true, timeoutMs: 1000, clientProperties: {} }),
    /ECONNREFUSED/,
  );
  // A refused login: the broker's close during the handshake.
  await assert.rejects(
    connect(`amqp://guest:wrong@127.0.0.1:${BROKER_PORT}/`, {
      noDelay: true,
      timeoutMs: 5000,
      clientProperties: {},
    }),
    /^AmqpClientError: Handshake terminated by server: 403 \(ACCESS-REFUSED\)/,
  );
});

test('heartbeats: sent when idle, and a silent broker is "Heartbeat timeout" after two intervals', {
  timeout: 30_000,
}, async (t) => {
  const vh = await makeVhost('rpcscope-client');
  t.after(() => vh.remove());
  const proxy = new Relay();
  const port = await proxy.listen();
  t.after(() => proxy.close());
  const c = await connect(`amqp://guest:guest@127.0.0.1:${port}/${vh.name}?heartbeat=1`, {
    noDelay: true,
    timeoutMs: 5000,
    clientProperties: {},
  });
  assert.equal(c.heartbeat, 1);
  const closed = deferred<Error | undefined>();
  hooks(c).closed = closed.resolve;
  await new Promise((r) => setTimeout(r, 2300));
  const beats = frames(Buffer.concat(proxy.sent[0]!)).filter((f) => f.type === 8).length;
  // Idle: one heartbeat per interval (the heartbeat itself counts as a write at the next check).
  assert.ok(beats >= 1 && beats <= 3, `${beats} heartbeats in 2.3 s at 1 s`);
  proxy.silent = true;
  const t0 = Date.now();
  assert.equal((await closed.p)?.message, 'Heartbeat timeout');
  const waited = Date.now() - t0;
  assert.ok(waited >= 900 && waited <= 3500, `timed out after ${waited} ms`);
});
