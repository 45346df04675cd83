/**
 * Live capture: startTcpdump on `lo` while amqplib publishes N messages through the local
 * RabbitMQ into a fresh vhost (and consumes them); all N publishes and deliveries are decoded
 * live, and the teed pcap file decodes to the same.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import amqp from 'amqplib';
import { readPcapFile } from '../../src/capture/pcap-file.ts';
import { startTcpdump } from '../../src/capture/tcpdump.ts';
import { isRpcscopeError } from '../../src/errors.ts';
import type { CaptureEvent, WireMessage } from '../../src/records.ts';

// lo: Ethernet link type; any: LINUX_SLL2 (libpcap ≥ 1.10), where loopback packets show up too.
for (const [iface, N] of [
  ['lo', 60],
  ['any', 20],
] as const) {
  test(`tcpdump -i ${iface} decodes ${N} publishes and deliveries made by amqplib in a fresh vhost`, (t) =>
    live(t, iface, N));
}

async function live(t: TestContext, iface: string, N: number): Promise<void> {
  const vhost = `rpcscope-wire-${process.pid}-${Date.now()}`;
  // The management API is much faster than rabbitmqctl (no Erlang VM start per call).
  const api = async (method: string, path: string, body?: unknown): Promise<void> => {
    const r = await fetch(`http://127.0.0.1:15672/api/${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.ok(r.ok, `${method} ${path}: ${r.status}`);
  };
  const v = encodeURIComponent(vhost);
  await api('PUT', `vhosts/${v}`);
  t.after(() => api('DELETE', `vhosts/${v}`));
  await api('PUT', `permissions/${v}/guest`, { configure: '.*', write: '.*', read: '.*' });
  const d = mkdtempSync(join(tmpdir(), 'rpcscope-tcpdump-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const outFile = join(d, 'live.pcap');

  const events: CaptureEvent[] = [];
  const run = startTcpdump({ iface, port: 5672, outFile, sink: { event: (e) => events.push(e) } });
  t.after(() => run.stop().catch(() => undefined));
  await run.ready;

  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`, {
    clientProperties: { connection_name: 'rpcscope-wire-test' },
  });
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange('nova', 'topic', { durable: false });
  const q = await ch.assertQueue('conductor', { durable: false, arguments: { 'x-expires': 60000 } });
  await ch.bindQueue(q.queue, 'nova', 'conductor');
  let received = 0;
  const allIn = new Promise<void>((resolve) => {
    void ch.consume(q.queue, (m) => {
      if (m === null) return;
      ch.ack(m);
      if (++received === N) resolve();
    });
  });
  for (let i = 0; i < N; i++) {
    const body = Buffer.from(
      JSON.stringify({
        'oslo.version': '2.0',
        'oslo.message': JSON.stringify({ method: 'ping', i, pad: 'x'.repeat(i * 500) }),
      }),
    );
    ch.publish('nova', 'conductor', body, {
      contentType: 'application/json',
      expiration: '60000',
      headers: { i },
    });
  }
  await ch.waitForConfirms();
  await allIn;
  await conn.close();
  const mine = (es: CaptureEvent[]): WireMessage[] =>
    es.flatMap((e) => (e.type === 'message' && e.message.connection?.vhost === vhost ? [e.message] : []));
  // On a loaded machine tcpdump may be scheduled late: wait (bounded) until the traffic this test
  // made has come through before stopping it. The assertions below say what arrived.
  const closed = (): boolean =>
    events.some(
      (e) =>
        e.type === 'topology' &&
        e.topology.type === 'connection-close' &&
        e.topology.connection.vhost === vhost,
    );
  for (let i = 0; i < 300 && !(mine(events).length >= 2 * N && closed()); i++)
    await new Promise((r) => setTimeout(r, 50));
  const result = await run.stop();
  const live = mine(events);
  const pubs = live.filter((m) => m.event === 'publish');
  const dels = live.filter((m) => m.event === 'deliver');
  assert.equal(pubs.length, N, `publishes decoded; skipped ${JSON.stringify(result.skipped)}`);
  assert.equal(dels.length, N);
  assert.deepEqual(
    pubs.map((m) => (m.properties.headers as { i: number }).i),
    Array.from({ length: N }, (_, i) => i),
  );
  assert.ok(dels.every((m) => m.queue === 'conductor' && m.exchange === 'nova'));
  assert.equal(pubs[0]!.connection!.name, 'rpcscope-wire-test');
  assert.equal(pubs[0]!.connection!.user, 'guest');
  assert.match(pubs[0]!.connection!.id, /^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:5672$/);
  assert.equal(result.skipped.frames, 0);
  assert.ok(
    events.some(
      (e) =>
        e.type === 'topology' &&
        e.topology.type === 'connection-close' &&
        e.topology.connection.vhost === vhost,
    ),
  );

  // the teed file holds the same capture
  const again: CaptureEvent[] = [];
  const r2 = await readPcapFile(outFile, { event: (e) => again.push(e) });
  assert.equal(r2.bytes, result.bytes);
  assert.equal(mine(again).length, 2 * N);
}

test('tcpdump missing, or an interface that does not exist: clear RpcscopeErrors', async () => {
  const missing = startTcpdump({
    iface: 'lo',
    tcpdumpPath: '/nonexistent/tcpdump',
    sink: { event: () => undefined },
  });
  await assert.rejects(
    missing.done,
    (e: unknown) => isRpcscopeError(e) && e.code === 'RPCSCOPE_TOOL_MISSING' && /not found/.test(e.message),
  );
  await assert.rejects(missing.ready);
  const noIface = startTcpdump({ iface: 'rpcscope-no-such0', sink: { event: () => undefined } });
  await assert.rejects(
    noIface.done,
    (e: unknown) =>
      isRpcscopeError(e) && e.code === 'RPCSCOPE_BAD_ARGUMENT' && /rpcscope-no-such0/.test(e.message),
  );
});
