/**
 * What an emulated service does when its broker connection or channel goes, compared with what
 * oslo.messaging does (impl_rabbit.Connection.ensure, py-amqp, kombu): publishes made while
 * disconnected are held and sent after the reconnection, in order, each accounted once; a service
 * that stops while holding some accounts them as unsent and does not hang; a channel closed by
 * the broker is reopened on the live connection; a consumer cancelled by the broker (its queue
 * deleted) makes the service reconnect and re-declare; in quorum mode the notifier's default
 * queue is a quorum queue. The shared broker on 5672 is used through a loopback proxy that the
 * test cuts; each test has its own vhost, deleted afterwards.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import amqp from 'amqplib';
import { buildLedger } from '../../src/chaos/ledger.ts';
import type { MessageRecord } from '../../src/emulate/accounting.ts';
import { startEmulation } from '../../src/emulate/emulator.ts';
import { parseScenario } from '../../src/emulate/scenario.ts';
import type { EmulationEvent } from '../../src/emulate/types.ts';
import { brokerRelay, makeVhost, mgmt } from '../harness/oslo.ts';

async function ownVhost(t: TestContext, tag: string): Promise<string> {
  const v = await makeVhost(`rpcscope-emu-${tag}`);
  t.after(() => v.remove().catch(() => {}));
  return v.name;
}

/** An emulation of `yaml` through `amqpUrl`, running until stopped, its events collected. */
async function emulate(yaml: string, amqpUrl: string) {
  const events: EmulationEvent[] = [];
  const h = startEmulation(parseScenario(yaml), {
    amqpUrl,
    managementUrl: null,
    durationS: Number.POSITIVE_INFINITY,
    keepMessages: true,
    onEvent: (e) => events.push(e),
  });
  await h.ready;
  return { h, events };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what} did not end within ${ms} ms`)), ms)),
  ]);
}

/** [from, to) intervals during which a group's service had no connection, from the events. */
function outages(events: readonly EmulationEvent[], group: string): [number, number][] {
  const out: [number, number][] = [];
  let since: number | undefined;
  for (const e of events) {
    if (e.type === 'disconnected' && e.group === group) since = e.ts;
    if (e.type === 'connected' && e.group === group && since !== undefined) {
      out.push([since, e.ts]);
      since = undefined;
    }
  }
  if (since !== undefined) out.push([since, Number.POSITIVE_INFINITY]);
  return out;
}

test('publishes made while disconnected are held, sent after reconnecting in order, accounted once; a stop while holding does not hang', async (t) => {
  const vhost = await ownVhost(t, 'held');
  const proxy = await brokerRelay();
  t.after(() => proxy.close());
  const { h, events } = await emulate(
    `version: 1
oslo: { controlExchange: emu, rpcResponseTimeoutS: 3 }
services:
  - name: client
    periodic:
      - { kind: cast, topic: srv, method: c, periodS: 0.1, bytes: 200 }
      - { kind: call, topic: srv, method: k, periodS: 0.25, bytes: 200 }
  - name: server
    topics: [srv]
    fanout: false
    serve: { delayMs: 1, replyBytes: 100 }
`,
    `amqp://guest:guest@127.0.0.1:${proxy.port}/${vhost}`,
  );
  await sleep(1500);
  // First outage: the reconnection after 1 s is refused, the one 3 s later gets through.
  proxy.cut();
  await sleep(2500);
  proxy.restore();
  await sleep(4000);
  const firstOutage = outages(events, 'client')[0];
  assert.ok(firstOutage !== undefined && Number.isFinite(firstOutage[1]), 'the client reconnected');
  // Second outage, never healed: the service stops while holding publishes.
  proxy.cut();
  await sleep(1500);
  const r = await within(h.stop(), 20_000, 'stop while disconnected');
  assert.equal(r.services.upAtEnd, 0);

  const records = [...h.accounting.messages()];
  const ofClient = (kind: string) => records.filter((m) => m.group === 'client' && m.kind === kind);
  const inOutage = (m: MessageRecord, o: [number, number]) => m.sentAt >= o[0] && m.sentAt < o[1];

  // Sent during the first outage: held, then published once the connection was back.
  const heldCasts = ofClient('cast').filter((m) => inOutage(m, firstOutage));
  const heldCalls = ofClient('call').filter((m) => inOutage(m, firstOutage));
  assert.ok(heldCasts.length >= 15, `casts sent while disconnected: ${heldCasts.length}`);
  assert.ok(heldCalls.length >= 5, `calls sent while disconnected: ${heldCalls.length}`);
  for (const m of heldCasts) {
    assert.ok(
      m.confirmedAt !== undefined && m.confirmedAt >= firstOutage[1],
      `${m.id} confirmed after reconnecting`,
    );
    assert.equal(m.nacked, undefined);
    assert.deepEqual([...m.deliveries.values()], [1], `${m.id} delivered exactly once`);
  }
  // oslo starts a call's reply wait once the call is published: a call held ~4 s with a 3 s
  // timeout is answered, not timed out.
  for (const m of heldCalls) {
    assert.ok(m.answeredAt !== undefined, `held call ${m.id} answered`);
    assert.equal(m.timedOutAt, undefined);
  }
  // In the order they were sent (one connection, one lock in oslo).
  const heldIds = new Set(heldCasts.map((m) => m.id));
  const receivedOrder = events.flatMap((e) =>
    e.type === 'received' && e.uniqueId !== undefined && heldIds.has(e.uniqueId) ? [e.uniqueId] : [],
  );
  assert.deepEqual(
    receivedOrder,
    [...heldCasts].sort((a, b) => a.sentAt - b.sentAt).map((m) => m.id),
  );

  // Second outage: what was still held at stop is unsent, with its reason, never delivered.
  const unsent = records.filter((m) => m.unsent !== undefined);
  assert.ok(unsent.length > 0, 'messages held when the service stopped');
  for (const m of unsent) {
    assert.match(m.unsent!, /stopped while disconnected/);
    assert.equal(m.nacked, true);
    assert.equal(m.confirmedAt, undefined);
    assert.equal(m.deliveries.size, 0);
  }

  // Every client message settled exactly once: sent = confirmed + failed, none both.
  for (const kind of ['cast', 'call']) {
    const c = h.accounting.counts()[`${kind}/client`]!;
    assert.equal(c.sent, ofClient(kind).length);
    assert.equal(c.sent, c.confirmed + c.nacked, `${kind}: each publish confirmed or failed once`);
  }
  assert.ok(!records.some((m) => m.confirmedAt !== undefined && m.nacked === true), 'none both');
  const ledger = buildLedger({
    messages: records,
    expired: new Set(),
    remoteErrors: new Map(),
    from: 0,
    to: Number.POSITIVE_INFINITY,
  });
  assert.equal(ledger.closes, true);
  const casts = ledger.rows.find((x) => x.kind === 'cast')!;
  assert.equal(casts.lost - casts.lostAfterConfirm, casts.unsent, 'lost without confirm = unsent at stop');
  assert.ok(casts.unsent > 0);
});

test('a channel closed by the broker under a live connection is reopened; a cancelled consumer makes the service reconnect', async (t) => {
  const vhost = await ownVhost(t, 'channel');
  const url = `amqp://guest:guest@127.0.0.1:5672/${vhost}`;
  // An exchange the client's fanout will declare with other properties: 406 PRECONDITION_FAILED,
  // a channel-level error, every time it tries (as oslo's fanout_send would get).
  const admin = await amqp.connect(url);
  t.after(() => admin.close().catch(() => {}));
  const ach = await admin.createChannel();
  await ach.assertExchange('boom_fanout', 'topic', { durable: true, autoDelete: false });
  const { h, events } = await emulate(
    `version: 1
oslo: { controlExchange: emu, rpcResponseTimeoutS: 3 }
services:
  - name: client
    periodic:
      - { kind: call, topic: srv, method: k, periodS: 0.2, bytes: 200 }
      - { kind: fanout, topic: boom, method: f, periodS: 2, bytes: 100 }
  - name: server
    topics: [srv]
    fanout: false
    serve: { delayMs: 1, replyBytes: 100 }
`,
    url,
  );
  await sleep(5000);
  const channelDeaths = events.flatMap((e) =>
    e.type === 'disconnected' && e.group === 'client' && /channel closed: .*406/.test(e.reason) ? [e] : [],
  );
  assert.ok(channelDeaths.length >= 1, 'the fanout declare killed the client channel');
  const firstDeath = channelDeaths[0]!.ts;
  assert.equal(
    events.filter((e) => e.type === 'reconnect' && e.group === 'client').length,
    0,
    'the connection stayed: only the channel was reopened',
  );

  // The server's queue deleted by an operator: basic.cancel → the server reconnects, re-declares.
  const deletedAt = Date.now();
  await ach.deleteQueue('srv');
  await sleep(6000);
  const r = await within(h.stop(), 20_000, 'stop');

  assert.ok(
    events.some(
      (e) => e.type === 'disconnected' && e.group === 'server' && /consumer of srv cancelled/.test(e.reason),
    ),
    'the server saw its consumer cancelled',
  );
  assert.ok(
    events.some((e) => e.type === 'reconnect' && e.group === 'server' && e.ts >= deletedAt),
    'the server reconnected',
  );
  const calls = [...h.accounting.messages()].filter((m) => m.kind === 'call');
  const answeredBetween = calls.filter(
    (m) => m.sentAt > firstDeath + 500 && m.sentAt < deletedAt && m.answeredAt !== undefined,
  );
  assert.ok(answeredBetween.length >= 5, `calls answered after the channel died: ${answeredBetween.length}`);
  const answeredAfterDelete = calls.filter((m) => m.sentAt > deletedAt + 3000 && m.answeredAt !== undefined);
  assert.ok(
    answeredAfterDelete.length >= 3,
    `calls answered after srv was re-declared: ${answeredAfterDelete.length}`,
  );
  const fanouts = [...h.accounting.messages()].filter((m) => m.kind === 'fanout');
  assert.ok(fanouts.length > 0 && fanouts.every((m) => m.nacked === true), 'the refused fanouts failed');
  assert.equal(r.services.connected, 2);
});

test('quorum mode: the notifier declares its default notifications queue as a quorum queue', async (t) => {
  const vhost = await ownVhost(t, 'quorum');
  const { h, events } = await emulate(
    `version: 1
oslo: { controlExchange: emu, queues: { type: quorum } }
services:
  - name: notifier
    periodic:
      - { kind: notification, topic: notifications, method: e.x, eventType: e.x, periodS: 0.2, bytes: 100 }
  - name: listener
    topics: [notifications.info]
    fanout: false
`,
    `amqp://guest:guest@127.0.0.1:5672/${vhost}`,
  );
  await sleep(2000);
  const q = await mgmt.queue(vhost, 'notifications.info');
  const r = await h.stop();
  assert.equal(q.arguments['x-queue-type'], 'quorum');
  assert.equal(q.type, 'quorum');
  assert.equal(q.durable, true);
  assert.equal(r.services.connected, 2);
  assert.deepEqual(
    events.filter((e) => e.type === 'disconnected'),
    [],
    'neither side had its declaration refused',
  );
  const n = [...h.accounting.messages()].filter((m) => m.kind === 'notification');
  assert.ok(n.length >= 5, `notifications sent: ${n.length}`);
  // all confirmed but those still in flight when the emulation stopped
  assert.ok(n.filter((m) => m.confirmedAt !== undefined).length >= n.length - 2, 'notifications confirmed');
  assert.ok(
    n.some((m) => m.deliveries.size > 0),
    'the quorum listener received notifications',
  );
});
