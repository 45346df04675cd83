import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcMessage } from '../records.ts';
import { ReplyRouteTracker } from './no-route.ts';

const reply = (event: 'publish' | 'deliver', msgId: string, ts: number, q: string): RpcMessage => ({
  wire: {
    seq: 0,
    ts,
    source: 'firehose',
    event,
    exchange: '',
    routingKey: q,
    ...(event === 'publish' ? { routedQueues: [q] } : { queue: q }),
    properties: {},
    bodySize: 1,
    connection: { id: 'c', client: 'a', server: 'b', vhost: 'v' },
  },
  kind: 'reply',
  envelope: '2.0',
  exchange: '',
  topic: q,
  msgId,
  uniqueId: `u${msgId}`,
  ending: true,
  context: {},
  bodySize: 1,
});

test('undelivered replies to a queue that does not exist are NO_ROUTE; delivered or queued ones are not', () => {
  const t = new ReplyRouteTracker(1000);
  t.message(reply('publish', 'a', 0, 'reply_gone'));
  t.message(reply('publish', 'b', 0, 'reply_live'));
  t.message(reply('deliver', 'b', 5, 'reply_live'));
  t.message(reply('publish', 'c', 0, 'reply_unconsumed'));
  t.message(reply('publish', 'd', 900, 'reply_gone'));
  const exists = (vhost: string, q: string) => (vhost === 'v' ? q !== 'reply_gone' : undefined);
  assert.deepEqual(t.sweep(500, exists), []);
  assert.deepEqual(
    t.sweep(1000, exists).map((m) => m.msgId),
    ['a'],
  );
  assert.equal(t.size, 1, 'd waits for its grace period');
  assert.deepEqual(
    t.sweep(2000, exists).map((m) => m.msgId),
    ['d'],
  );
  assert.equal(t.size, 0);
});

test('unknown queue state waits instead of guessing', () => {
  const t = new ReplyRouteTracker(10);
  t.message(reply('publish', 'a', 0, 'reply_x'));
  assert.deepEqual(
    t.sweep(100, () => undefined),
    [],
  );
  assert.equal(t.size, 1);
});
