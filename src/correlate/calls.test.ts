import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pipeline } from '../pipeline/pipeline.ts';
import type { RpcCall, WireEvent, WireMessage } from '../records.ts';
import { decodeRpc } from '../wire/oslo/decode.ts';

const enc = new TextEncoder();
let seq = 0;

function w(
  ts: number,
  event: WireEvent,
  exchange: string,
  routingKey: string,
  msg: Record<string, unknown>,
  extra: Partial<WireMessage> = {},
): WireMessage {
  const body = enc.encode(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(msg) }));
  return {
    seq: seq++,
    ts,
    source: 'tracing',
    event,
    exchange,
    routingKey,
    properties: {},
    body,
    bodySize: body.length,
    ...extra,
  };
}

const call = (ts: number, id: string, event: WireEvent = 'publish', expiration = '60000') =>
  w(
    ts,
    event,
    'nova',
    'conductor',
    { method: 'ping', args: {}, _msg_id: id, _reply_q: 'reply_x' },
    { properties: { expiration } },
  );
const reply = (
  ts: number,
  id: string,
  event: WireEvent = 'publish',
  body: Record<string, unknown> = {},
  extra: Partial<WireMessage> = {},
) => w(ts, event, '', 'reply_x', { result: 1, failure: null, ending: true, _msg_id: id, ...body }, extra);

function run(msgs: WireMessage[], endMs?: number) {
  const p = new Pipeline();
  for (const m of msgs) p.event({ type: 'message', message: m });
  const r = p.finish(endMs);
  return { ...r, stats: p.callStats, byId: new Map(r.calls.map((c) => [c.call.msgId, c])) };
}

test('answered call: latency and its split into queue, server, return', () => {
  const { calls } = run([
    call(1000, 'a'),
    call(1002, 'a', 'deliver'),
    reply(1030, 'a'),
    reply(1031, 'a', 'deliver'),
  ]);
  assert.equal(calls.length, 1);
  const c = calls[0] as RpcCall;
  assert.equal(c.outcome, 'ok');
  assert.equal(c.latencyMs, 31);
  assert.equal(c.queueMs, 2);
  assert.equal(c.serverMs, 28);
  assert.equal(c.returnMs, 1);
  assert.equal(c.delivered?.wire.ts, 1002);
});

test('heartbeats (ending false) are counted, not taken as the answer', () => {
  const { calls, stats } = run([
    call(0, 'a'),
    call(1, 'a', 'deliver'),
    reply(10, 'a', 'publish', { ending: false, result: null }),
    reply(11, 'a', 'deliver', { ending: false, result: null }),
    reply(20, 'a', 'publish', { ending: false, result: null }),
    reply(50, 'a'),
    reply(51, 'a', 'deliver'),
  ]);
  const c = calls[0] as RpcCall;
  assert.equal(c.heartbeats, 2);
  assert.equal(stats.heartbeats, 2);
  assert.equal(c.latencyMs, 51);
  assert.equal(c.reply?.ending, true);
});

test('remote error carries the exception class', () => {
  const failure = JSON.stringify({
    class: 'NoValidHost',
    module: 'nova.exception',
    message: 'No valid host',
  });
  const { calls } = run([call(0, 'a'), reply(5, 'a', 'publish', { failure, result: null })]);
  assert.equal(calls[0]?.outcome, 'remote-error');
  assert.equal(calls[0]?.reply?.failure?.class, 'NoValidHost');
});

test('no-route: reply routed nowhere (tracing) or returned (pcap Basic.Return)', () => {
  const a = run([call(0, 'a'), reply(5, 'a', 'publish', {}, { routedQueues: [] })]);
  assert.equal(a.calls[0]?.outcome, 'no-route');
  const b = run([
    call(0, 'b'),
    reply(5, 'b', 'publish', {}, { mandatory: true }),
    reply(6, 'b', 'return', {}, { replyCode: 312, replyText: 'NO_ROUTE' }),
  ]);
  assert.equal(b.calls[0]?.outcome, 'no-route');
});

test('unanswered: expired when the capture runs past the expiration, else capture-ended', () => {
  const { byId } = run([call(0, 'old', 'publish', '1000'), call(5000, 'young', 'publish', '60000')], 6000);
  assert.equal(byId.get('old')?.outcome, 'unanswered');
  assert.equal(byId.get('old')?.unansweredReason, 'expired');
  assert.equal(byId.get('young')?.unansweredReason, 'capture-ended');
});

test('replies and deliveries of calls outside the capture are counted as orphans', () => {
  const { calls, stats } = run([call(0, 'z', 'deliver'), reply(3, 'z'), reply(4, 'z', 'deliver')]);
  assert.equal(calls.length, 0);
  assert.equal(stats.orphanDeliveries, 1);
  assert.equal(stats.orphanReplies, 1);
});

test('live: onCall streams outcomes, tick expires calls at their expiration, keep:false holds nothing', () => {
  const got: RpcCall[] = [];
  const p = new Pipeline({
    keep: false,
    sinks: [{ name: 'test', call: (c) => got.push(c) }],
    replyDeliverGraceMs: 100,
  });
  const feed = (m: WireMessage) => p.event({ type: 'message', message: m });
  feed(call(0, 'a', 'publish', '500'));
  feed(call(10, 'b', 'publish', '60000'));
  feed(reply(20, 'b'));
  p.tick(400);
  assert.equal(got.length, 1, 'answered b emitted after the reply-delivery grace');
  assert.equal(got[0]?.call.msgId, 'b');
  p.tick(499);
  assert.equal(got.length, 1);
  p.tick(500);
  assert.equal(got.length, 2);
  assert.equal(got[1]?.outcome, 'unanswered');
  assert.equal(got[1]?.unansweredReason, 'expired');
  assert.equal(p.pendingCalls, 0);
  assert.equal(p.finish().calls.length, 0);
  assert.equal(p.messages.length, 0);
});

test('live: maxPending bounds memory', () => {
  const got: RpcCall[] = [];
  const p = new Pipeline({ keep: false, sinks: [{ name: 'test', call: (c) => got.push(c) }], maxPending: 2 });
  for (let i = 0; i < 5; i++) p.event({ type: 'message', message: call(i, `c${i}`) });
  assert.equal(p.pendingCalls, 2);
  assert.equal(p.callStats.evicted, 3);
  assert.deepEqual(
    got.map((c) => c.call.msgId),
    ['c0', 'c1', 'c2'],
  );
});

test('decodeRpc output is what the pipeline keeps', () => {
  const m = call(0, 'a');
  const { messages } = run([m]);
  assert.deepEqual(messages[0], decodeRpc(m));
});

test('a reply after the call expired does not answer it: unanswered (expired), counted as late', () => {
  const { calls, stats } = run([
    call(0, 'a', 'publish', '1000'),
    call(1, 'a', 'deliver'),
    reply(2000, 'a'),
    reply(2001, 'a', 'deliver'),
  ]);
  assert.equal(calls[0]?.outcome, 'unanswered');
  assert.equal(calls[0]?.unansweredReason, 'expired');
  assert.equal(calls[0]?.latencyMs, undefined);
  assert.equal(stats.lateReplies, 1);
  assert.equal(stats.orphanReplies, 0);
  const got: RpcCall[] = [];
  const p = new Pipeline({ keep: false, sinks: [{ name: 'test', call: (c) => got.push(c) }] });
  p.event({ type: 'message', message: call(0, 'b', 'publish', '1000') });
  p.tick(1000);
  p.event({ type: 'message', message: reply(2000, 'b') });
  assert.equal(got[0]?.unansweredReason, 'expired');
  assert.equal(p.callStats.lateReplies, 1);
  assert.equal(p.callStats.orphanReplies, 0);
});
