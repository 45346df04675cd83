import assert from 'node:assert/strict';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { test } from 'node:test';
import amqp from 'amqplib';
import { makeVhost } from '../../test/harness/oslo.ts';
import { shedHandshake } from './lean.ts';

type Sock = import('node:events').EventEmitter;
const streamOf = (c: unknown) => (c as { connection: { stream: Sock; rest: Buffer } }).connection;

test('shedHandshake: the connection still carries messages of every size, and its leftovers are gone', async (t) => {
  const vh = await makeVhost('rpcscope-lean');
  t.after(() => vh.remove());
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${vh.name}?heartbeat=60`, {
    timeout: 5000,
  });
  t.after(() => conn.close().catch(() => {}));
  const c = streamOf(conn);
  const endBefore = c.stream.listenerCount('end');
  shedHandshake(conn);
  const s = c.stream;
  assert.equal(s.listenerCount('end'), endBefore, 'the end listener is replaced, not dropped');
  assert.ok(!s.rawListeners('end').some((l) => l.name === 'bound onSocketError'));
  assert.equal(s.listenerCount('timeout'), 0, 'connect timeout listener removed');
  assert.ok(
    s.rawListeners('error').some((l) => l.name === 'bound onSocketError'),
    "amqplib's own error handler stays",
  );
  assert.equal(
    (conn as unknown as { connection: { serverProperties?: unknown } }).connection.serverProperties,
    undefined,
  );

  const ch = await conn.createConfirmChannel();
  const q = await ch.assertQueue('', { exclusive: true });
  const sizes = [0, 1, 100, 4095, 4096, 8191, 8192, 9000, 70_000, 300_000];
  const got: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    void ch.consume(
      q.queue,
      (m) => {
        if (m === null) return;
        got.push(m.content);
        if (got.length === sizes.length * 3) resolve();
      },
      { noAck: true },
    );
  });
  for (let r = 0; r < 3; r++) for (const n of sizes) ch.sendToQueue(q.queue, Buffer.alloc(n, (n + r) % 251));
  await ch.waitForConfirms();
  await done;
  assert.deepEqual(
    got.map((b) => b.length),
    [...sizes, ...sizes, ...sizes],
  );
  for (const [i, b] of got.entries()) {
    const r = Math.floor(i / sizes.length);
    assert.ok(
      b.every((x) => x === (b.length + r) % 251),
      `message ${i} intact`,
    );
  }
  assert.equal(c.rest.length, 0);
  assert.equal(c.rest.byteOffset, 0, 'an empty tail no longer views a pooled slab');
});

test('shedHandshake: a socket cut by the peer still closes the connection with "Unexpected close"', async (t) => {
  const vh = await makeVhost('rpcscope-lean');
  t.after(() => vh.remove());
  // A relay the test can cut: the broker side stays up, the client sees its socket end.
  const pairs: Socket[] = [];
  const relay = createServer((client) => {
    const up = tcpConnect(5672, '127.0.0.1');
    client.on('error', () => {});
    up.on('error', () => {});
    client.pipe(up);
    up.pipe(client);
    pairs.push(client, up);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const p of pairs) p.destroy();
    relay.close();
  });
  const port = (relay.address() as { port: number }).port;
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}/${vh.name}?heartbeat=60`, {
    timeout: 5000,
  });
  shedHandshake(conn);
  conn.on('error', () => {});
  const closed = new Promise<Error | undefined>((r) => conn.once('close', r));
  pairs[0]!.end();
  const err = await Promise.race([
    closed,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no close 5 s after the socket ended')), 5000).unref(),
    ),
  ]);
  assert.equal(err?.message, 'Unexpected close');
});
