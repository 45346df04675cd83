/**
 * End to end, `rpcscope watch --tcpdump`: the same real oslo.messaging traffic, seen by a live
 * tcpdump instead of the firehose (no broker cost), must give the same counters. The harness
 * talks through a TCP relay on a loopback port of its own, which is the port tcpdump watches: the
 * local broker is shared with other tests, whose traffic on 5672 is not ours. A mandatory reply
 * to a vanished queue is returned by the broker (Basic.Return 312 NO_ROUTE), which tcpdump sees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqp from 'amqplib';
import { encodeReply } from '../../src/wire/oslo/encode.ts';
import { brokerRelay, makeVhost, runHarness, startCli, until } from '../harness/oslo.ts';
import { assertMetricsMatchManifest, scrape, sum } from './watch-metrics.ts';

test('watch --tcpdump: metrics equal what oslo.messaging sent; Basic.Return NO_ROUTE counted', {
  timeout: 240_000,
}, async (t) => {
  const vh = await makeVhost('rpcscope-e2e-watch-tcpdump');
  t.after(vh.remove);
  const r = await brokerRelay();
  t.after(r.close);
  const w = await startCli(
    ['watch', '--tcpdump', 'lo', '--port', String(r.port), '--http', '127.0.0.1:0', '--no-health'],
    /watch: ready/,
  );
  t.after(() => {
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  });
  const base = /dashboard (http:\/\/127\.0\.0\.1:\d+\/)/.exec(w.stderr())?.[1];
  assert.ok(base, w.stderr());

  const { manifest } = await runHarness(`rabbit://guest:guest@127.0.0.1:${r.port}/${vh.name}`);
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
  await t.test('counters equal the harness manifest', async () =>
    assertMetricsMatchManifest(await scrape(base), manifest),
  );

  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${r.port}/${encodeURIComponent(vh.name)}`, {
    timeout: 10_000,
  });
  // Closed in the body; after a failure, bounded: a close over a torn-down socket may never settle.
  t.after(() => Promise.race([conn.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]));
  const ch = await conn.createConfirmChannel();
  const returned: number[] = [];
  ch.on('return', (m: amqp.Message) => returned.push((m.fields as { replyCode?: number }).replyCode ?? 0));
  const rep = encodeReply({
    msgId: 'e'.repeat(32),
    replyQ: 'reply_vanished00000000000000000000002',
    result: null,
  });
  ch.publish(rep.exchange, rep.routingKey, rep.body, { ...rep.properties, mandatory: true });
  await ch.waitForConfirms();
  await until('the broker returned the reply', () => returned.length === 1);
  await until(
    'NO_ROUTE in /metrics',
    async () => sum(await scrape(base), 'rpcscope_reply_no_route_total') >= 1,
  );
  const s = await scrape(base);
  assert.equal(sum(s, 'rpcscope_reply_no_route_total'), 1);
  assert.equal(sum(s, 'rpcscope_returned_messages_total', { reply_code: '312', kind: 'reply' }), 1);
  assert.ok(!(await (await fetch(`${base}metrics`)).text()).includes(manifest.secret));

  await conn.close();
  w.child.kill('SIGINT');
  const done = await w.done;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, /watch: stopped: \d+ messages, \d+ calls, 0 dropped/);
});
