/**
 * FirehoseSource against the local RabbitMQ: tracing switched on and restored, publish/deliver
 * copies turned into events, our own queues excluded, drops counted exactly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import amqp from 'amqplib';
import { isNotFound, ManagementClient } from '../../src/broker/management.ts';
import { amqpUrlForVhost, FirehoseSource } from '../../src/capture/firehose.ts';
import type { CaptureEvent, WireMessage } from '../../src/records.ts';

const AMQP = 'amqp://guest:guest@127.0.0.1:5672';
const mgmt = new ManagementClient({ url: 'http://127.0.0.1:15672', user: 'guest', password: 'guest' });

async function freshVhost(t: { after: (fn: () => Promise<void>) => void }, tracing = false): Promise<string> {
  const vhost = `rpcscope-test-firehose-${randomBytes(4).toString('hex')}`;
  await mgmt.putVhost(vhost, { tracing, description: 'firehose test', tags: 'rpcscope,test' });
  await mgmt.setPermissions(vhost, 'guest');
  t.after(() =>
    mgmt.deleteVhost(vhost).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e))),
  );
  return vhost;
}

function collector() {
  const messages: WireMessage[] = [];
  return {
    messages,
    sink: {
      event(e: CaptureEvent) {
        if (e.type === 'message') messages.push(e.message);
      },
    },
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, limitMs = 15_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('captures publishes and deliveries, turns tracing on and restores it off', async (t) => {
  const vhost = await freshVhost(t);
  const c = collector();
  const src = await FirehoseSource.open({
    amqpUrl: AMQP,
    vhost,
    sink: c.sink,
    connectionName: 'firehose-test',
  });
  t.after(() => src.close().then(() => {}));
  assert.equal((await mgmt.vhost(vhost)).tracing, true, 'tracing on while capturing');
  assert.deepEqual(
    {
      wasOn: src.stats().tracing.wasOn,
      turnedOn: src.stats().tracing.turnedOn,
      via: src.stats().tracing.via,
    },
    { wasOn: false, turnedOn: true, via: 'management' },
  );

  const conn = await amqp.connect(amqpUrlForVhost(AMQP, vhost));
  t.after(() => conn.close().catch(() => {}));
  const ch = await conn.createChannel();
  const q = await ch.assertQueue('app.work', { exclusive: true });
  await ch.assertExchange('app', 'topic', { durable: false });
  await ch.bindQueue(q.queue, 'app', 'work.#');
  ch.publish('app', 'work.host-a.example.org', Buffer.from('{"hello":1}'), {
    expiration: '60000',
    headers: { h: 'v' },
  });
  ch.publish('app', 'nowhere', Buffer.from('lost'));
  let got = 0;
  await ch.consume(
    q.queue,
    () => {
      got++;
    },
    { noAck: true },
  );
  await until('2 publishes and 1 delivery', () => c.messages.length >= 3);
  await until('the consumer to get its message', () => got === 1);

  const final = await src.close();
  assert.equal(final.published, 2);
  assert.equal(final.delivered, 1);
  assert.equal(final.own, 0);
  assert.equal(final.dropped, 0);
  assert.equal(final.sinkErrors, 0);
  assert.equal(final.tracing.restored, 'off');
  const after = await mgmt.vhost(vhost);
  assert.equal(after.tracing, false, 'tracing restored off');
  // PUT /api/vhosts/<v> replaces the settings: switching tracing must keep description and tags.
  assert.equal(after.description, 'firehose test');
  assert.deepEqual(after.tags, ['rpcscope', 'test']);

  const [p1, p2, d] = [
    c.messages.find((m) => m.event === 'publish' && m.routingKey === 'work.host-a.example.org'),
    c.messages.find((m) => m.event === 'publish' && m.routingKey === 'nowhere'),
    c.messages.find((m) => m.event === 'deliver'),
  ];
  assert.ok(p1 && p2 && d);
  assert.equal(p1.exchange, 'app');
  assert.deepEqual(p1.routedQueues, ['app.work']);
  assert.deepEqual(p2.routedQueues, []);
  assert.equal(p1.properties.expiration, '60000');
  assert.deepEqual(p1.properties.headers, { h: 'v' });
  assert.equal(Buffer.from(p1.body).toString(), '{"hello":1}');
  assert.equal(p1.connection?.vhost, vhost);
  assert.equal(p1.connection?.user, 'guest');
  assert.equal(d.queue, 'app.work');
  assert.equal(d.routingKey, 'work.host-a.example.org');
  assert.equal(p1.source, 'firehose');
  // close() is idempotent: same final stats, no second restore
  assert.deepEqual(await src.close(), final);
});

test('tracing that was on stays on after close', async (t) => {
  const vhost = await freshVhost(t, true);
  const src = await FirehoseSource.open({ amqpUrl: AMQP, vhost, sink: collector().sink });
  const s = await src.close();
  assert.equal(s.tracing.wasOn, true);
  assert.equal(s.tracing.turnedOn, false);
  assert.equal(s.tracing.restored, 'left-on');
  assert.equal((await mgmt.vhost(vhost)).tracing, true);
});

test('a sink that cannot keep up: the broker drops the oldest and every drop is counted', async (t) => {
  const vhost = await freshVhost(t);
  const total = 60;
  let blocked = false;
  const c = collector();
  const src = await FirehoseSource.open({
    amqpUrl: AMQP,
    vhost,
    maxBacklog: 5,
    prefetch: 1,
    sink: {
      event(e) {
        c.sink.event(e);
        if (blocked) return;
        blocked = true;
        // Block this process's event loop while another process publishes the rest: the broker
        // keeps at most 5 trace messages for us and dead-letters the others into the drop queue.
        execFileSync('/usr/bin/python3', [
          '-c',
          `import pika
c = pika.BlockingConnection(pika.URLParameters('amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}'))
ch = c.channel()
ch.confirm_delivery()
for i in range(${total - 1}):
    ch.basic_publish('amq.direct', 'nobody', b'x%d' % i)
c.close()`,
        ]);
      },
    },
  });
  t.after(() => src.close().then(() => {}));
  const conn = await amqp.connect(amqpUrlForVhost(AMQP, vhost));
  const ch = await conn.createConfirmChannel();
  ch.publish('amq.direct', 'nobody', Buffer.from('first'));
  await ch.waitForConfirms();
  await conn.close();
  await until('every trace message consumed or counted as dropped', () => {
    const s = src.stats();
    return s.published + s.dropped >= total;
  });
  const s = await src.close();
  assert.equal(s.published + s.dropped, total, 'nothing lost without being counted');
  assert.ok(s.dropped >= total - 5 - 2, `dropped ${s.dropped}`);
  assert.equal(c.messages.length, s.published);
});

test('an unknown vhost is a clear error, before anything is switched', async () => {
  await assert.rejects(
    FirehoseSource.open({
      amqpUrl: AMQP,
      vhost: `rpcscope-no-such-${randomBytes(3).toString('hex')}`,
      sink: collector().sink,
    }),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /does not exist/);
      return true;
    },
  );
});

test('a wrong password is RPCSCOPE_BROKER_REFUSED and the password is not in the message', async (t) => {
  const vhost = await freshVhost(t);
  await assert.rejects(
    FirehoseSource.open({
      amqpUrl: 'amqp://guest:wrong-pw-xyz@127.0.0.1:5672',
      vhost,
      sink: collector().sink,
      management: mgmt,
    }),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.equal((e as { code?: string }).code, 'RPCSCOPE_BROKER_REFUSED');
      assert.doesNotMatch(e.message, /wrong-pw-xyz/);
      return true;
    },
  );
  assert.equal((await mgmt.vhost(vhost)).tracing, false, 'tracing not left on after a failed open');
});

test('without a management API, tracing is switched with rabbitmqctl on a local broker', async (t) => {
  const vhost = await freshVhost(t);
  // A port nothing listens on: the management API is unreachable.
  const unreachable = new ManagementClient({
    url: 'http://127.0.0.1:9',
    user: 'guest',
    password: 'guest',
    timeoutMs: 2000,
  });
  const c = collector();
  const src = await FirehoseSource.open({ amqpUrl: AMQP, vhost, sink: c.sink, management: unreachable });
  t.after(() => src.close().then(() => {}));
  assert.deepEqual(
    {
      wasOn: src.stats().tracing.wasOn,
      turnedOn: src.stats().tracing.turnedOn,
      via: src.stats().tracing.via,
    },
    { wasOn: false, turnedOn: true, via: 'rabbitmqctl' },
  );
  assert.equal((await mgmt.vhost(vhost)).tracing, true);
  const conn = await amqp.connect(amqpUrlForVhost(AMQP, vhost));
  const ch = await conn.createConfirmChannel();
  ch.publish('amq.direct', 'x', Buffer.from('one'));
  await ch.waitForConfirms();
  await conn.close();
  await until('the publish', () => c.messages.length === 1);
  const s = await src.close();
  assert.equal(s.tracing.restored, 'off');
  assert.equal((await mgmt.vhost(vhost)).tracing, false);
});

test('two sources of one process on one vhost: the last to close restores tracing', async (t) => {
  const vhost = await freshVhost(t);
  const a = await FirehoseSource.open({ amqpUrl: AMQP, vhost, sink: collector().sink, management: mgmt });
  const b = await FirehoseSource.open({ amqpUrl: AMQP, vhost, sink: collector().sink, management: mgmt });
  t.after(async () => {
    await a.close();
    await b.close();
  });
  assert.equal(b.stats().tracing.turnedOn, true);
  const sa = await a.close();
  assert.equal(sa.tracing.restored, 'left-on');
  assert.equal((await mgmt.vhost(vhost)).tracing, true, 'still on for the other source');
  const sb = await b.close();
  assert.equal(sb.tracing.restored, 'off');
  assert.equal((await mgmt.vhost(vhost)).tracing, false);
});

test('the vhost deleted while capturing: the source ends by itself, no crash', async (t) => {
  const vhost = await freshVhost(t);
  const errors: string[] = [];
  const src = await FirehoseSource.open({
    amqpUrl: AMQP,
    vhost,
    sink: collector().sink,
    management: mgmt,
    onError: (e) => errors.push(e.message),
  });
  t.after(() => src.close().then(() => {}));
  await mgmt.deleteVhost(vhost);
  const s = await src.done;
  assert.equal(s.closed, true);
  assert.equal(s.tracing.restored, 'off');
  assert.match(s.tracing.restoreNote ?? '', /no longer exists/);
  assert.ok(errors.length > 0, 'the end was reported');
  // Restoring tracing must not have re-created the vhost (PUT /api/vhosts/<v> would).
  await assert.rejects(mgmt.vhost(vhost), { status: 404 });
});
