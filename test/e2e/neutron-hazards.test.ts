/**
 * Neutron hazards, named, on the neutron rig's captures (test/fixtures/neutron-rig) and a live
 * broker: dead fanouts (Zed still publishes to legacy `q-agent-notifier-*_fanout` exchanges no
 * queue is bound to; the broker drops it) and orphan fanout / reply queues a killed agent leaves
 * (0 consumers, still bound, `x-expires` 30 min) with the duplicate deliveries they take.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import amqp from 'amqplib';
import { assessHazards, HealthPoller, newHealthState, topologyHazards } from '../../src/broker/health.ts';
import { type Binding, type Exchange, ManagementClient, type Queue } from '../../src/broker/management.ts';
import { amqpUrlForVhost } from '../../src/capture/broker-endpoints.ts';
import { ReportAccumulator } from '../../src/outputs/report.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';
import type { ConnectionRef, TopologyEvent } from '../../src/records.ts';
import { renderReport } from '../../src/render/report-text.ts';
import { decodeRpc } from '../../src/wire/oslo/decode.ts';

const DIR = new URL('../fixtures/neutron-rig/', import.meta.url).pathname;

interface VhostSnapshot {
  exchanges: Pick<Exchange, 'name' | 'type'>[];
  bindings: Binding[];
  queues: (Pick<Queue, 'name' | 'consumers' | 'messages' | 'arguments'> & { consumed_by: string[] })[];
}
function snapshot(s: string, at: 'snapshot_start' | 'snapshot_end', vhost: string): VhostSnapshot {
  const m = JSON.parse(readFileSync(`${DIR}${s}.meta.json`, 'utf8')) as Record<
    string,
    Record<string, VhostSnapshot>
  >;
  const v = m[at]?.[vhost];
  assert.ok(v !== undefined);
  return v;
}

async function report(s: string) {
  const acc = new ReportAccumulator();
  return acc.result(await loadCaptures([`${DIR}${s}.pcap`], { keep: false, sinks: [acc] }));
}

const LEGACY = [
  'q-agent-notifier-network-delete_fanout',
  'q-agent-notifier-port-delete_fanout',
  'q-agent-notifier-port-update_fanout',
  'q-agent-notifier-security_group-update_fanout',
];

test('report: the legacy fanouts neutron publishes are dead, each named, as the broker confirms', async () => {
  const unbound = new Set(
    topologyHazards(snapshot('idle', 'snapshot_end', 'neutron'))
      .filter((h) => h.kind === 'dead-fanout')
      .map((h) => h.object),
  );
  assert.deepEqual([...unbound].sort(), LEGACY, 'the broker: these fanout exchanges have no binding');
  const seen = new Map<string, number>();
  for (const s of ['server-create', 'port-delete', 'network-delete', 'port-create']) {
    const r = await report(s);
    const dead = r.hazards.filter((h) => h.kind === 'dead-fanout');
    assert.ok(dead.length >= 1, `${s}: a dead fanout`);
    for (const h of dead) {
      assert.ok(unbound.has(h.object), `${s}: ${h.object} has no binding on the broker`);
      assert.match(h.detail, /dropped by the broker/);
      // the count is what was published there
      const published = r.methods.filter((m) => m.exchange === h.object).reduce((a, m) => a + m.count, 0);
      assert.equal(h.count, published, `${s}: ${h.object} count`);
      seen.set(h.object, (seen.get(h.object) ?? 0) + h.count);
    }
    // a fanout that reached a queue is not dead (neutron-vo pushes are delivered to the agent)
    assert.ok(!dead.some((h) => h.object.startsWith('neutron-vo-')));
    assert.match(renderReport(r), /Hazards[\s\S]*dead-fanout[\s\S]*dropped by the broker/);
  }
  assert.ok(seen.has('q-agent-notifier-port-update_fanout'), 'port-update: the classic one');
});

test('the agent restart leaves orphan fanout and reply queues, each named with what it is bound to', () => {
  const snap = snapshot('agent-restart', 'snapshot_end', 'neutron');
  const hz = topologyHazards({ ...snap, vhost: 'neutron' });
  const orphans = hz.filter((h) => h.kind === 'fanout-queue-no-consumer');
  const replies = hz.filter((h) => h.kind === 'reply-queue-no-consumer');
  // the old OVS agent's 11 fanout queues and its reply queue (README of the fixtures)
  assert.equal(orphans.length, 11, orphans.map((h) => h.object).join(', '));
  assert.equal(replies.length, 1);
  for (const h of orphans) {
    assert.match(h.object, /^neutron\/.+_fanout_[0-9a-f]{32}$/);
    const exchange = h.object.replace(/^neutron\//, '').replace(/_[0-9a-f]{32}$/, '');
    assert.match(h.detail, new RegExp(`still bound to ${exchange}\\b`));
    assert.match(h.detail, /\(30 min\)/);
  }
  // the duplicate: the tunnel-update fanout went to the new agent's queue and to the orphan
  const tunnel = orphans.find((h) => h.object.includes('q-agent-notifier-tunnel-update_fanout_'));
  assert.equal(tunnel?.value, 1, 'one duplicate delivery waits in the orphan');
  // before the restart there was none
  const before = topologyHazards({
    ...snapshot('agent-restart', 'snapshot_start', 'neutron'),
    vhost: 'neutron',
  });
  assert.equal(before.filter((h) => h.kind !== 'dead-fanout').length, 0);
  // assessHazards (watch) names them the same way when the snapshot has bindings
  const q = snap.queues.map((x) => ({ ...x, vhost: 'neutron', durable: false, auto_delete: false }));
  const live = assessHazards(
    {
      ts: 0,
      queues: q,
      connections: [],
      nodes: [],
      exchanges: snap.exchanges.map((e) => ({
        ...e,
        vhost: 'neutron',
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      })),
      bindings: snap.bindings,
    },
    newHealthState(),
  );
  assert.equal(live.filter((h) => h.kind === 'fanout-queue-no-consumer').length, 11);
  assert.equal(live.filter((h) => h.kind === 'dead-fanout').length, LEGACY.length);
});

test('report: a fanout queue whose consumer connection closed is an orphan; later fanouts duplicate into it', () => {
  const conn = (port: number): ConnectionRef => ({
    id: `127.0.0.1:${port} -> 127.0.0.1:5672`,
    client: `127.0.0.1:${port}`,
    server: '127.0.0.1:5672',
    vhost: 'neutron',
  });
  const old = conn(40001);
  const ex = 'neutron-vo-Port-1.7_fanout';
  const queue = `${ex}_0123456789abcdef0123456789abcdef`;
  const acc = new ReportAccumulator();
  const topo: TopologyEvent[] = [
    {
      type: 'queue-declare',
      ts: 1,
      connection: old,
      queue,
      durable: false,
      exclusive: false,
      autoDelete: false,
      arguments: { 'x-expires': 1_800_000 },
    },
    { type: 'queue-bind', ts: 2, connection: old, queue, exchange: ex, routingKey: 'neutron-vo-Port-1.7' },
    { type: 'consume', ts: 3, connection: old, channel: 1, queue, consumerTag: 'c1' },
    { type: 'connection-close', ts: 4, connection: old },
  ];
  for (const t of topo) acc.topology(t);
  const publish = (ts: number) =>
    acc.message(
      decodeRpc({
        seq: ts,
        ts,
        source: 'pcap',
        event: 'publish',
        connection: conn(40002),
        exchange: ex,
        routingKey: 'neutron-vo-Port-1.7',
        properties: {},
        body: new Uint8Array(),
        bodySize: 0,
      }),
    );
  publish(3.5); // before the close: delivered to the live consumer
  publish(5);
  publish(6);
  const r = acc.result({
    inputs: [],
    skipped: { bytes: 0, frames: 0, records: 0, issues: [] },
    startMs: 0,
    endMs: 10,
    callStats: {
      orphanReplies: 0,
      orphanDeliveries: 0,
      heartbeats: 0,
      duplicateCalls: 0,
      duplicateReplies: 0,
      evicted: 0,
      lateReplies: 0,
    },
  });
  const o = r.hazards.find((h) => h.kind === 'orphan-queue');
  assert.ok(o !== undefined, JSON.stringify(r.hazards));
  assert.equal(o.object, queue);
  assert.equal(o.count, 2, 'two fanouts after the close');
  assert.match(o.detail, new RegExp(`still bound to ${ex}, x-expires 30 min`));
  // a Queue.Bind was seen: not a dead fanout
  assert.ok(!r.hazards.some((h) => h.kind === 'dead-fanout'));
});

test('watch: the live broker poll names dead fanouts and orphan queues (real RabbitMQ)', async (t) => {
  const mgmt = new ManagementClient({ url: 'http://127.0.0.1:15672', user: 'guest', password: 'guest' });
  const vhost = `rpcscope-test-hazards-${randomBytes(4).toString('hex')}`;
  await mgmt.putVhost(vhost, { tracing: false });
  t.after(() => mgmt.deleteVhost(vhost).catch(() => {}));
  await mgmt.setPermissions(vhost, 'guest');
  const c = await amqp.connect(amqpUrlForVhost('amqp://guest:guest@127.0.0.1:5672', vhost));
  t.after(() => c.close().catch(() => {}));
  const ch = await c.createChannel();
  await ch.assertExchange('q-agent-notifier-port-update_fanout', 'fanout', { durable: false });
  await ch.assertExchange('neutron-vo-Port-1.7_fanout', 'fanout', { durable: false });
  const orphan = 'neutron-vo-Port-1.7_fanout_aaaabbbbccccddddeeeeffff00001111';
  await ch.assertQueue(orphan, { durable: false, arguments: { 'x-expires': 1_800_000 } });
  await ch.bindQueue(orphan, 'neutron-vo-Port-1.7_fanout', 'neutron-vo-Port-1.7');
  ch.publish('neutron-vo-Port-1.7_fanout', 'neutron-vo-Port-1.7', Buffer.from('{}'));
  const poller = new HealthPoller({
    client: mgmt,
    vhosts: [vhost],
    intervalMs: 60_000,
    onUpdate: () => {},
    onError: () => {},
  });
  let hazards: Awaited<ReturnType<HealthPoller['pollOnce']>>['hazards'] = [];
  for (let i = 0; i < 50; i++) {
    hazards = (await poller.pollOnce()).hazards;
    if (hazards.some((h) => h.kind === 'fanout-queue-no-consumer' && h.value === 1)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await poller.close();
  const dead = hazards.filter((h) => h.kind === 'dead-fanout').map((h) => h.object);
  assert.deepEqual(dead, [`${vhost}/q-agent-notifier-port-update_fanout`]);
  const o = hazards.find((h) => h.kind === 'fanout-queue-no-consumer');
  assert.equal(o?.object, `${vhost}/${orphan}`);
  assert.match(o?.detail ?? '', /still bound to neutron-vo-Port-1\.7_fanout \(30 min\)/);
  assert.equal(o?.value, 1, 'the fanout landed in the orphan');
});
