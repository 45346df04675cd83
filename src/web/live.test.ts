import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcMessage } from '../records.ts';
import { LiveState, NO_MANAGEMENT } from './live.ts';

const msg = (kind: RpcMessage['kind'], event: 'publish' | 'deliver'): RpcMessage =>
  ({
    wire: {
      seq: 0,
      ts: 0,
      source: 'firehose',
      event,
      exchange: 'nova',
      routingKey: 'conductor',
      properties: {},
      bodySize: 10,
    },
    kind,
    envelope: '2.0',
    exchange: 'nova',
    topic: 'conductor',
    method: 'ping',
    context: {},
    bodySize: 10,
  }) as RpcMessage;

test('published and delivered are counted apart (a call delivered twice is published once)', () => {
  let now = 10_000;
  const live = new LiveState({ now: () => now });
  live.message(msg('call', 'publish'));
  live.message(msg('call', 'deliver'));
  live.message(msg('fanout', 'publish'));
  live.message(msg('fanout', 'deliver'));
  live.message(msg('fanout', 'deliver'));
  now = 11_000;
  const s = live.snapshot();
  assert.equal(s.totals.messages, 2);
  assert.equal(s.totals.delivered, 3);
  assert.deepEqual(s.totals.byKind, { call: 1, fanout: 1 });
  assert.deepEqual(s.totals.deliveredByKind, { call: 1, fanout: 2 });
  assert.equal(s.rate.byKind.call?.at(-1), 1);
  assert.equal(s.rate.byKind.fanout?.at(-1), 1);
  assert.equal(s.rate.delivered.at(-1), 3);
});

test('the queue panel says why it is empty', () => {
  assert.equal(new LiveState().snapshot().queues.empty, NO_MANAGEMENT);
  const live = new LiveState({ management: true });
  assert.equal(live.snapshot().queues.empty, 'waiting for the first management API poll');
  live.healthError('connect ECONNREFUSED 127.0.0.1:15672');
  assert.equal(live.snapshot().queues.empty, 'management API failed: connect ECONNREFUSED 127.0.0.1:15672');
  live.health({ ts: 10_000, hazards: [], queues: [], clientNames: new Map() } as never);
  assert.equal(live.snapshot().queues.empty, 'no queues in the watched vhosts');
  live.health({
    ts: 11_000,
    hazards: [],
    queues: [{ queue: 'nova/conductor', messages: 3 }],
    clientNames: new Map(),
  } as never);
  const q = live.snapshot().queues;
  assert.equal(q.empty, undefined);
  assert.deepEqual(
    q.series.map((x) => x.queue),
    ['nova/conductor'],
  );
});
