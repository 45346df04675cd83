import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  OSLO_DEFAULT_QUEUE_OPTIONS as D,
  encodeCall,
  encodeCast,
  encodeFanout,
  encodeNotification,
  encodeReply,
  fanoutQueue,
  openEnvelope,
  type PyJson,
  pyDumps,
  queueArguments,
  replyQueue,
  topicQueue,
} from './encode.ts';

const fixture = new URL('../../../data/nova-zed/', import.meta.url);

interface TracingRecord {
  type: string;
  exchange: string;
  routing_keys: string[];
  properties: Record<string, unknown>;
  payload: string;
}

function published(name: string): TracingRecord[] {
  return readFileSync(new URL(`${name}.tracing.json`, fixture), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TracingRecord)
    .filter((r) => r.type === 'published');
}

test('pyDumps writes what Python json.dumps writes', () => {
  assert.equal(
    pyDumps({ a: 1, b: [1, 2, { c: null }], d: 'x' }),
    '{"a": 1, "b": [1, 2, {"c": null}], "d": "x"}',
  );
  assert.equal(pyDumps({}), '{}');
  assert.equal(pyDumps([]), '[]');
  assert.equal(pyDumps('é\u2603\n"\\'), '"\\u00e9\\u2603\\n\\"\\\\"');
  assert.equal(pyDumps('😀'), '"\\ud83d\\ude00"');
  assert.equal(pyDumps(1.5e-7), '1.5e-07');
  assert.equal(pyDumps(true), 'true');
});

test('every real nova message in the fixtures re-encodes byte for byte', () => {
  let n = 0;
  for (const s of ['idle', 'boot', 'stop', 'start', 'delete']) {
    for (const r of published(s)) {
      const raw = Buffer.from(r.payload, 'base64').toString('utf8');
      const outer = JSON.parse(raw) as Record<string, string>;
      const inner = JSON.parse(outer['oslo.message']!) as Record<string, PyJson>;
      const again = pyDumps({ 'oslo.version': '2.0', 'oslo.message': pyDumps(inner) });
      // Python floats like 1.0 print as "1.0"; JSON.parse loses that, so compare where no such float exists.
      if (/\d\.0[,}\]]/.test(outer['oslo.message']!)) continue;
      assert.equal(again, raw, `${s}: ${raw.slice(0, 120)}`);
      n++;
    }
  }
  assert.ok(n > 100, `compared ${n} messages`);
});

test('a call has the keys, order and AMQP properties of a real nova call', () => {
  const real = published('idle').find((r) => r.exchange === 'nova' && r.properties.expiration !== undefined)!;
  const realInner = openEnvelope(Buffer.from(real.payload, 'base64'))!;
  const ctx: Record<string, PyJson> = {};
  for (const k of Object.keys(realInner)) if (k.startsWith('_context_')) ctx[k.slice(9)] = null;
  const c = encodeCall(
    { exchange: 'nova', topic: 'conductor', method: 'object_action', args: {}, version: '3.0', context: ctx },
    { replyQ: 'reply_0123', timeoutS: 60 },
  );
  assert.equal(c.exchange, 'nova');
  assert.equal(c.routingKey, 'conductor');
  assert.equal(c.mandatory, false);
  assert.deepEqual(c.properties, {
    contentType: real.properties.content_type,
    contentEncoding: real.properties.content_encoding,
    deliveryMode: real.properties.delivery_mode,
    priority: real.properties.priority,
    headers: real.properties.headers,
    expiration: real.properties.expiration,
  });
  const inner = openEnvelope(c.body)!;
  assert.deepEqual(Object.keys(inner), Object.keys(realInner));
  assert.match(c.uniqueId, /^[0-9a-f]{32}$/);
  assert.equal(inner._unique_id, c.uniqueId);
  assert.equal(inner._msg_id, c.msgId);
  assert.equal(inner._timeout, null);
  assert.ok(c.body.toString().startsWith('{"oslo.version": "2.0", "oslo.message": "{\\"method\\": '));
});

test('cast, fanout, reply and notification shapes', () => {
  const cast = encodeCast({
    exchange: 'nova',
    topic: 'compute',
    server: 'host.example.org',
    method: 'build_and_run_instance',
    args: {},
    context: { request_id: 'req-1' },
  });
  assert.equal(cast.routingKey, 'compute.host.example.org');
  assert.equal(cast.properties.expiration, undefined);
  assert.deepEqual(Object.keys(openEnvelope(cast.body)!), [
    'method',
    'args',
    '_unique_id',
    '_context_request_id',
  ]);

  const fan = encodeFanout({ topic: 'scheduler', method: 'sync_instance_info', args: {}, context: {} });
  assert.equal(fan.exchange, 'scheduler_fanout');
  assert.equal(fan.routingKey, '');

  const rep = encodeReply({ msgId: 'm1', replyQ: 'reply_x', result: [1, null] });
  assert.equal(rep.exchange, '');
  assert.equal(rep.routingKey, 'reply_x');
  assert.equal(rep.mandatory, true);
  assert.deepEqual(Object.keys(openEnvelope(rep.body)!), [
    'result',
    'failure',
    'ending',
    '_msg_id',
    '_unique_id',
  ]);

  const n = encodeNotification({
    exchange: 'nova',
    topic: 'notifications',
    priority: 'info',
    eventType: 'compute.instance.update',
    publisherId: 'compute.h1',
    payload: {},
    context: {},
  });
  assert.equal(n.routingKey, 'notifications.info');
  const ni = openEnvelope(n.body)!;
  assert.equal(ni.priority, 'INFO');
  assert.deepEqual(Object.keys(ni).slice(0, 6), [
    'message_id',
    'publisher_id',
    'event_type',
    'priority',
    'payload',
    'timestamp',
  ]);
});

test('queue declarations follow impl_rabbit defaults and options', () => {
  assert.deepEqual(queueArguments(D, 0, false), {});
  const t = topicQueue('nova', 'compute.h1', D);
  assert.deepEqual(
    { name: t.name, durable: t.durable, autoDelete: t.autoDelete, args: t.arguments },
    { name: 'compute.h1', durable: false, autoDelete: false, args: {} },
  );
  const f = fanoutQueue('compute', D, 'abc');
  assert.equal(f.name, 'compute_fanout_abc');
  assert.deepEqual(f.arguments, { 'x-expires': 1800000 });
  assert.deepEqual(f.exchange, { name: 'compute_fanout', type: 'fanout', durable: false, autoDelete: true });
  assert.deepEqual(replyQueue('reply_1', D).arguments, { 'x-expires': 1800000 });
  const q = topicQueue('nova', 'conductor', { ...D, quorumQueues: true });
  assert.equal(q.durable, true);
  assert.deepEqual(q.arguments, { 'x-queue-type': 'quorum' });
  assert.deepEqual(topicQueue('nova', 'c', { ...D, haQueues: true }).arguments, { 'x-ha-policy': 'all' });
});
