import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bodyFrame,
  deliver,
  HEARTBEAT,
  header,
  method,
  PROTOCOL_HEADER,
  publish,
} from '../../../test/wire/amqp/oracle.ts';
import type { CaptureEvent, TopologyEvent, WireMessage } from '../../records.ts';
import { DecodeContext } from '../context.ts';
import { AmqpConnection } from './connection.ts';
import { AmqpFrameStream } from './frame-stream.ts';

function setup(synced = true) {
  const events: CaptureEvent[] = [];
  const ctx = new DecodeContext('test', { event: (e) => events.push(e) });
  const conn = new AmqpConnection(ctx, {
    id: '127.0.0.1:40000 -> 127.0.0.1:5672',
    client: '127.0.0.1:40000',
    server: '127.0.0.1:5672',
  });
  conn.syncedFromStart[0] = synced;
  conn.syncedFromStart[1] = synced;
  const c2s = new AmqpFrameStream(ctx, conn, 0, synced);
  const s2c = new AmqpFrameStream(ctx, conn, 1, synced);
  const messages = (): WireMessage[] => events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
  const topology = (): TopologyEvent[] => events.flatMap((e) => (e.type === 'topology' ? [e.topology] : []));
  return { ctx, conn, c2s, s2c, events, messages, topology };
}

function feed(s: AmqpFrameStream, bytes: Uint8Array, ts = 1000): void {
  s.push(bytes, 0, bytes.length, ts, 0);
}

const handshakeC = (): Buffer =>
  Buffer.concat([
    PROTOCOL_HEADER,
    method('ConnectionStartOk', 0, {
      clientProperties: {
        product: 'py-amqp',
        connection_name: 'nova-compute:42:abc',
        capabilities: { publisher_confirms: true },
      },
      mechanism: 'PLAIN',
      response: Buffer.from('\0nova\0s3cret-password'),
      locale: 'en_US',
    }),
    method('ConnectionTuneOk', 0, { channelMax: 2047, frameMax: 131072, heartbeat: 60 }),
    method('ConnectionOpen', 0, { virtualHost: '/nova' }),
  ]);

const handshakeS = (): Buffer =>
  Buffer.concat([
    method('ConnectionStart', 0, {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: { product: 'RabbitMQ' },
      mechanisms: Buffer.from('PLAIN AMQPLAIN'),
      locales: Buffer.from('en_US'),
    }),
    method('ConnectionTune', 0, { channelMax: 2047, frameMax: 131072, heartbeat: 60 }),
    method('ConnectionOpenOk', 0, {}),
  ]);

test('handshake: vhost, user (never the password), connection_name and product reach the ConnectionRef', () => {
  const t = setup();
  feed(t.s2c, handshakeS());
  feed(t.c2s, handshakeC());
  feed(t.c2s, publish(1, 'nova', 'compute.host1', Buffer.from('{"x":1}')));
  const [open] = t.topology();
  assert.equal(open?.type, 'connection-open');
  const m = t.messages()[0]!;
  assert.deepEqual(m.connection, {
    id: '127.0.0.1:40000 -> 127.0.0.1:5672',
    client: '127.0.0.1:40000',
    server: '127.0.0.1:5672',
    user: 'nova',
    name: 'nova-compute:42:abc',
    product: 'py-amqp',
    vhost: '/nova',
  });
  assert.equal(t.conn.frameMax, 131072);
  const all = JSON.stringify(t.events, (_k, v) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
  );
  assert.ok(!all.includes('s3cret'), 'the password must not appear in any event');
  assert.deepEqual(t.ctx.skipped, { bytes: 0, frames: 0, records: 0, issues: [] });
});

test('AMQPLAIN response: the LOGIN is kept', () => {
  const t = setup();
  // AMQPLAIN response = a field table without its length prefix
  const login = Buffer.concat([
    Buffer.from([5]),
    Buffer.from('LOGIN'),
    Buffer.from('S'),
    Buffer.from([0, 0, 0, 4]),
    Buffer.from('nova'),
  ]);
  const pw = Buffer.concat([
    Buffer.from([8]),
    Buffer.from('PASSWORD'),
    Buffer.from('S'),
    Buffer.from([0, 0, 0, 2]),
    Buffer.from('pw'),
  ]);
  feed(
    t.c2s,
    method('ConnectionStartOk', 0, {
      clientProperties: {},
      mechanism: 'AMQPLAIN',
      response: Buffer.concat([login, pw]),
      locale: 'en_US',
    }),
  );
  assert.equal(t.conn.ref.user, 'nova');
});

test('a body split over several frames and pushed one byte at a time is assembled exactly', () => {
  const t = setup();
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 255;
  const bytes = publish(
    3,
    'nova',
    'conductor',
    body,
    { contentType: 'application/json', expiration: '60000', deliveryMode: 2 },
    4096,
    true,
  );
  for (let i = 0; i < bytes.length; i++) t.c2s.push(bytes, i, i + 1, 5000 + i, i);
  const [m] = t.messages();
  assert.ok(m);
  assert.equal(m.event, 'publish');
  assert.equal(m.channel, 3);
  assert.equal(m.exchange, 'nova');
  assert.equal(m.routingKey, 'conductor');
  assert.equal(m.mandatory, true);
  assert.deepEqual(m.properties, { contentType: 'application/json', expiration: '60000', deliveryMode: 2 });
  assert.equal(m.bodySize, body.length);
  assert.ok(Buffer.from(m.body).equals(body));
  assert.equal(m.ts, 5000 + bytes.length - 1, 'ts is the time of the last byte of the message');
  assert.equal(t.ctx.skipped.bytes, 0);
});

test('interleaved channels, heartbeats, zero-length bodies; consumer tag → queue; seq in order', () => {
  const t = setup();
  feed(t.c2s, method('BasicConsume', 2, { queue: 'compute.host1', consumerTag: '' }));
  feed(t.s2c, method('BasicConsumeOk', 2, { consumerTag: 'amq.ctag-1' }));
  feed(t.c2s, method('BasicConsume', 5, { queue: 'reply_abc', consumerTag: 'mine', nowait: true }));
  // two deliveries interleaved frame by frame on channels 2 and 5
  const a = [
    method('BasicDeliver', 2, {
      consumerTag: 'amq.ctag-1',
      deliveryTag: 1,
      exchange: 'nova',
      routingKey: 'compute.host1',
    }),
    header(2, 6, {}),
    bodyFrame(2, Buffer.from('abc')),
  ];
  const b = [
    method('BasicDeliver', 5, {
      consumerTag: 'mine',
      deliveryTag: 9,
      redelivered: true,
      exchange: '',
      routingKey: 'reply_abc',
    }),
    header(5, 0, {}),
  ];
  feed(
    t.s2c,
    Buffer.concat([
      a[0]!,
      HEARTBEAT,
      b[0]!,
      a[1]!,
      a[2]!,
      b[1]!,
      HEARTBEAT,
      bodyFrame(2, Buffer.from('def')),
    ]),
  );
  const ms = t.messages();
  assert.equal(ms.length, 2);
  assert.deepEqual(
    ms.map((m) => [
      m.seq,
      m.channel,
      m.queue,
      m.consumerTag,
      m.redelivered,
      Buffer.from(m.body).toString(),
      m.bodySize,
    ]),
    [
      [0, 5, 'reply_abc', 'mine', true, '', 0],
      [1, 2, 'compute.host1', 'amq.ctag-1', false, 'abcdef', 6],
    ],
  );
  assert.deepEqual(
    t.topology().map((x) => (x.type === 'consume' ? [x.channel, x.queue, x.consumerTag] : x.type)),
    [
      [2, 'compute.host1', 'amq.ctag-1'],
      [5, 'reply_abc', 'mine'],
    ],
  );
});

test('Basic.Return and Basic.GetOk become return and deliver messages', () => {
  const t = setup();
  feed(
    t.s2c,
    Buffer.concat([
      method('BasicReturn', 1, {
        replyCode: 312,
        replyText: 'NO_ROUTE',
        exchange: '',
        routingKey: 'reply_x',
      }),
      header(1, 2, {}),
      bodyFrame(1, Buffer.from('{}')),
    ]),
  );
  feed(t.c2s, method('BasicGet', 4, { queue: 'q1' }));
  feed(
    t.s2c,
    Buffer.concat([
      method('BasicGetOk', 4, { deliveryTag: 1, exchange: 'e', routingKey: 'k', messageCount: 0 }),
      header(4, 1, {}),
      bodyFrame(4, Buffer.from('x')),
    ]),
  );
  const [ret, get] = t.messages();
  assert.equal(ret?.event, 'return');
  assert.equal(ret?.replyCode, 312);
  assert.equal(ret?.replyText, 'NO_ROUTE');
  assert.equal(get?.event, 'deliver');
  assert.equal(get?.queue, 'q1');
});

test('topology: exchange and queue declarations (server-named queue from DeclareOk), bindings, close', () => {
  const t = setup();
  feed(
    t.c2s,
    method('ExchangeDeclare', 1, {
      exchange: 'nova',
      type: 'topic',
      durable: false,
      autoDelete: false,
      arguments: {},
    }),
  );
  feed(
    t.c2s,
    method('QueueDeclare', 1, {
      queue: 'reply_1',
      durable: false,
      autoDelete: true,
      arguments: { 'x-expires': 1800000 },
    }),
  );
  feed(t.c2s, method('QueueDeclare', 1, { queue: '', exclusive: true, arguments: {} }));
  feed(t.s2c, method('QueueDeclareOk', 1, { queue: 'reply_1', messageCount: 0, consumerCount: 0 }));
  feed(t.s2c, method('QueueDeclareOk', 1, { queue: 'amq.gen-XYZ', messageCount: 0, consumerCount: 0 }));
  feed(t.c2s, method('QueueBind', 1, { queue: 'reply_1', exchange: 'nova', routingKey: 'reply_1' }));
  feed(
    t.c2s,
    method('ConnectionClose', 0, { replyCode: 200, replyText: 'Normal shutdown', classId: 0, methodId: 0 }),
  );
  t.conn.closed(2000); // the TCP FIN after it must not add a second close
  assert.deepEqual(
    t.topology().map((x) => {
      switch (x.type) {
        case 'exchange-declare':
          return [x.type, x.exchange, x.exchangeType];
        case 'queue-declare':
          return [x.type, x.queue, x.autoDelete, x.exclusive, x.arguments];
        case 'queue-bind':
          return [x.type, x.queue, x.exchange, x.routingKey];
        case 'connection-close':
          return [x.type, x.replyCode, x.replyText];
        default:
          return [x.type];
      }
    }),
    [
      ['exchange-declare', 'nova', 'topic'],
      ['queue-declare', 'reply_1', true, false, { 'x-expires': 1800000 }],
      ['queue-declare', 'amq.gen-XYZ', false, true, {}],
      ['queue-bind', 'reply_1', 'nova', 'reply_1'],
      ['connection-close', 200, 'Normal shutdown'],
    ],
  );
});

test('mid-stream start: leading partial frames are skipped as bytes (not frames) and decoding resumes', () => {
  const t = setup(false);
  const first = publish(1, 'nova', 'a', Buffer.from('x'.repeat(500)));
  const second = publish(1, 'nova', 'b', Buffer.from('{"oslo.version": "2.0"}'));
  const third = publish(2, 'nova', 'c', Buffer.from('z'));
  const all = Buffer.concat([first, second, third]);
  // start in the middle of the first message's body frame
  const cut = first.length - 100;
  feed(t.c2s, all.subarray(cut));
  assert.deepEqual(
    t.messages().map((m) => m.routingKey),
    ['b', 'c'],
  );
  assert.equal(t.ctx.skipped.frames, 0);
  assert.equal(t.ctx.skipped.bytes, 100);
  assert.deepEqual(t.ctx.skipped.issues, []);
});

test('mid-stream start inside a content header: the orphan body is counted as bytes', () => {
  const t = setup(false);
  const first = publish(1, 'nova', 'a', Buffer.from('hello'));
  const second = publish(1, 'nova', 'b', Buffer.from('world'));
  const all = Buffer.concat([first, second]);
  const methodLen = method('BasicPublish', 1, { exchange: 'nova', routingKey: 'a' }).length;
  feed(t.c2s, all.subarray(methodLen + 3)); // inside the header frame
  assert.deepEqual(
    t.messages().map((m) => m.routingKey),
    ['b'],
  );
  assert.equal(t.ctx.skipped.frames, 0);
  assert.equal(t.ctx.skipped.bytes, first.length - methodLen - 3);
});

test('a corrupted frame end is a skipped frame with an issue; the next message still decodes', () => {
  const t = setup();
  const a = publish(1, 'nova', 'a', Buffer.from('aaaa'));
  const b = publish(1, 'nova', 'b', Buffer.from('bbbb'));
  const c = publish(1, 'nova', 'c', Buffer.from('cccc'));
  const bad = Buffer.from(b);
  bad[bad.length - 1] = 0x00; // body frame end of message b
  feed(t.c2s, Buffer.concat([a, bad, c]));
  assert.deepEqual(
    t.messages().map((m) => m.routingKey),
    ['a', 'c'],
  );
  assert.equal(t.ctx.skipped.frames, 1);
  assert.equal(t.ctx.skipped.issues.length, 1);
  assert.equal(t.ctx.skipped.issues[0]?.input, 'test');
  assert.equal(typeof t.ctx.skipped.issues[0]?.offset, 'number');
});

test('a gap drops the half-assembled message and resynchronises', () => {
  const t = setup();
  const a = publish(1, 'nova', 'a', Buffer.from('a'.repeat(1000)));
  const b = publish(1, 'nova', 'b', Buffer.from('bbbb'));
  feed(t.c2s, a.subarray(0, 500));
  t.c2s.gap();
  feed(t.c2s, Buffer.concat([a.subarray(700), b]));
  assert.deepEqual(
    t.messages().map((m) => m.routingKey),
    ['b'],
  );
  assert.equal(t.ctx.skipped.frames, 0);
  const methodAndHeader =
    method('BasicPublish', 1, { exchange: 'nova', routingKey: 'a' }).length + header(1, 1000).length;
  // the part of the body frame before the gap, and what the resync passed over after it
  assert.equal(t.ctx.skipped.bytes, 500 - methodAndHeader + (a.length - 700));
});

test('the stream ends inside a frame: the partial frame is counted as skipped bytes', () => {
  const t = setup();
  const a = publish(1, 'nova', 'a', Buffer.from('aaaa'));
  feed(t.c2s, a.subarray(0, a.length - 3));
  t.c2s.end(0);
  assert.equal(t.messages().length, 0);
  assert.equal(t.ctx.skipped.bytes, bodyFrame(1, Buffer.from('aaaa')).length - 3);
});

test('deliveries mid-stream without the Basic.Consume have no queue', () => {
  const t = setup(false);
  feed(
    t.s2c,
    Buffer.concat([
      deliver(1, 'x', 1, 'nova', 'k', Buffer.from('1')),
      deliver(1, 'x', 2, 'nova', 'k', Buffer.from('2')),
    ]),
  );
  assert.deepEqual(
    t.messages().map((m) => [m.queue, m.consumerTag]),
    [
      [undefined, 'x'],
      [undefined, 'x'],
    ],
  );
});

test('a chunk with 100,000 damaged frames is resynchronised iteratively (no stack overflow), all counted', () => {
  const t = setup();
  const bad = Buffer.from([8, 0, 0, 0, 0, 0, 0, 0x00]); // heartbeat without its 0xCE
  const unit = Buffer.concat([HEARTBEAT, HEARTBEAT, bad]);
  const n = 100_000;
  const chunk = Buffer.concat([
    Buffer.alloc(n * unit.length).fill(0),
    publish(1, 'nova', 'after', Buffer.from('ok')),
  ]);
  for (let i = 0; i < n; i++) unit.copy(chunk, i * unit.length);
  feed(t.c2s, chunk);
  assert.equal(t.ctx.skipped.frames, n);
  assert.equal(t.ctx.skipped.issues.length, 20);
  assert.deepEqual(
    t.messages().map((m) => m.routingKey),
    ['after'],
  );
});
