/**
 * End to end, `rpcscope watch` by firehose: the real python oslo.messaging harness runs in a
 * fresh vhost while `watch` (the CLI, as an operator starts it) serves /metrics; the counters
 * must equal what the harness says it sent. Then a fanout queue left without consumer, a reply
 * queue without consumer and a reply to a vanished queue (mandatory publish → NO_ROUTE) must show
 * up as hazards and metrics. Tracing is restored off when watch stops; the secret never shows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqp from 'amqplib';
import type { LiveSnapshot } from '../../src/web/live.ts';
import { encodeFanout, encodeReply } from '../../src/wire/oslo/encode.ts';
import { makeVhost, mgmt, runHarness, startCli, until } from '../harness/oslo.ts';
import { assertMetricsMatchManifest, scrape, sum } from './watch-metrics.ts';

test('watch --vhost: metrics equal what oslo.messaging sent; hazards and NO_ROUTE show', {
  timeout: 240_000,
}, async (t) => {
  const vh = await makeVhost('rpcscope-e2e-watch');
  t.after(vh.remove);
  const w = await startCli(
    [
      'watch',
      '--amqp',
      'amqp://guest:guest@127.0.0.1:5672',
      '--vhost',
      vh.name,
      '--http',
      '127.0.0.1:0',
      '--poll',
      '1',
    ],
    /watch: ready/,
  );
  t.after(() => {
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  });
  const base = /dashboard (http:\/\/127\.0\.0\.1:\d+\/)/.exec(w.stderr())?.[1];
  assert.ok(base, w.stderr());
  assert.doesNotMatch(w.stderr(), /guest:guest/, 'credentials are not printed');
  assert.equal((await mgmt.vhost(vh.name)).tracing, true, 'tracing on while watching');

  const { manifest } = await runHarness(`rabbit://guest:guest@127.0.0.1:5672/${vh.name}`);
  const expectedEvents = manifest.messages.published + manifest.messages.delivered;
  await until(
    `${expectedEvents} messages and ${manifest.calls.total} finished calls in /metrics`,
    async () => {
      const s = await scrape(base);
      return (
        sum(s, 'rpcscope_messages_total') >= expectedEvents &&
        sum(s, 'rpcscope_calls_total') >= manifest.calls.total
      );
    },
    30_000,
  );
  const samples = await scrape(base);
  await t.test('counters equal the harness manifest', () => assertMetricsMatchManifest(samples, manifest));
  await t.test('oslo.metrics histogram buckets', () => {
    const les = samples
      .filter(
        (x) => x.name === 'oslo_messaging_rpc_client_processing_seconds_bucket' && x.labels.method === 'echo',
      )
      .map((x) => x.labels.le);
    assert.deepEqual(les, [
      '0.01',
      '0.025',
      '0.05',
      '0.075',
      '0.1',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '2.5',
      '5',
      '7.5',
      '10',
      '25',
      '50',
      '75',
      '100',
      '+Inf',
    ]);
  });

  // Hazards: a fanout queue nobody consumes, a reply queue nobody consumes, a reply to a queue
  // that is gone. Published the way oslo.messaging does (src/wire/oslo/encode.ts).
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vh.name)}`, {
    timeout: 10_000,
  });
  // Closed in the body; after a failure, bounded: a close over a torn-down socket may never settle.
  t.after(() => Promise.race([conn.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]));
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange('compute_fanout', 'fanout', { durable: false, autoDelete: true });
  const orphan = 'compute_fanout_0badc0ffee0000000000000000000001';
  await ch.assertQueue(orphan, { durable: false, arguments: { 'x-expires': 1_800_000 } });
  await ch.bindQueue(orphan, 'compute_fanout', '');
  await ch.assertQueue('reply_abandoned0000000000000000000001', { durable: false });
  const fan = encodeFanout({ topic: 'compute', method: 'update_aggregates', args: {}, context: {} });
  ch.publish(fan.exchange, fan.routingKey, fan.body, fan.properties);
  const returned: string[] = [];
  ch.on('return', (m: amqp.Message) => returned.push(m.fields.routingKey));
  const rep = encodeReply({
    msgId: 'f'.repeat(32),
    replyQ: 'reply_vanished00000000000000000000001',
    result: null,
  });
  ch.publish(rep.exchange, rep.routingKey, rep.body, { ...rep.properties, mandatory: true });
  await ch.waitForConfirms();
  await until('the broker returned the reply', () => returned.length === 1);

  await until(
    'hazards and NO_ROUTE in /metrics',
    async () => {
      const s = await scrape(base);
      const state = (await (await fetch(`${base}api/state`)).json()) as LiveSnapshot;
      // queue message counts in the management API lag by its stats interval (5 s)
      const fanoutHeld = state.hazards.some((h) => h.object === `${vh.name}/${orphan}` && h.value === 1);
      return (
        sum(s, 'rpcscope_broker_hazard') >= 2 && sum(s, 'rpcscope_reply_no_route_total') >= 1 && fanoutHeld
      );
    },
    20_000,
  );
  const after = await scrape(base);
  await t.test('hazards name the queues, as gauges and in the dashboard state', async () => {
    assert.equal(
      sum(after, 'rpcscope_broker_hazard', {
        hazard: 'fanout-queue-no-consumer',
        object: `${vh.name}/${orphan}`,
      }),
      1,
    );
    assert.equal(
      sum(after, 'rpcscope_broker_hazard', {
        hazard: 'reply-queue-no-consumer',
        object: `${vh.name}/reply_abandoned0000000000000000000001`,
      }),
      1,
    );
    assert.equal(sum(after, 'rpcscope_reply_no_route_total'), 1);
    const state = (await (await fetch(`${base}api/state`)).json()) as LiveSnapshot;
    const h = state.hazards.find((x) => x.object === `${vh.name}/${orphan}`);
    assert.ok(h, JSON.stringify(state.hazards));
    assert.equal(h.kind, 'fanout-queue-no-consumer');
    assert.equal(h.value, 1, 'the fanout sits in it');
    assert.equal(state.totals.noRoute, 1);
    assert.equal(state.totals.calls, manifest.calls.total);
    assert.ok(state.methodsByCount.some((r) => r.method === 'echo'));
    assert.equal(state.totals.dropped, 0);
  });

  await t.test('the secret reaches neither /metrics, the dashboard state nor the log', async () => {
    const text = await (await fetch(`${base}metrics`)).text();
    const state = await (await fetch(`${base}api/state`)).text();
    for (const out of [text, state, w.stderr()]) assert.ok(!out.includes(manifest.secret));
  });

  await conn.close();
  w.child.kill('SIGINT');
  const r = await w.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /watch: stopped: \d+ messages, \d+ calls, 0 dropped/);
  assert.equal((await mgmt.vhost(vh.name)).tracing, false, 'tracing restored off');
});
