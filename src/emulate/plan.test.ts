import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconnectDelayMs, withHeartbeat } from './connection.ts';
import { parseShard, planServices, prng } from './plan.ts';
import { expectedRates } from './rates.ts';
import { parseScenario } from './scenario.ts';

const s = parseScenario(`version: 1
speedup: 2
services:
  - { name: nova-compute, count: 7, host: "c-{i:2}", topics: [compute],
      periodic: [{ kind: call, topic: conductor, method: object_action, object: Service.save, periodS: 10, count: 1 }] }
  - { name: nova-conductor, count: 2, topics: [conductor] }
operations:
  - name: boot
    perMinute: 6
    steps:
      - { from: nova-conductor, kind: cast, topic: compute, server: op, method: build_and_run_instance, count: 2 }
`);

test('shards split the services deterministically and completely', () => {
  const all = planServices(s, 'amqp://x');
  assert.equal(all.length, 9);
  assert.equal(all[0]!.host, 'c-01');
  assert.equal(all[7]!.host, 'nova-conductor-1');
  const parts = [0, 1, 2].map((index) => planServices(s, 'amqp://x', { index, count: 3 }).map((p) => p.host));
  assert.deepEqual(parts.flat().sort(), all.map((p) => p.host).sort());
  assert.equal(new Set(parts.flat()).size, 9);
  assert.deepEqual(
    parts,
    [0, 1, 2].map((index) => planServices(s, 'amqp://x', { index, count: 3 }).map((p) => p.host)),
  );
  assert.deepEqual(parseShard('2/8'), { index: 1, count: 8 });
  assert.equal(parseShard('0/8'), undefined);
  assert.equal(parseShard('9/8'), undefined);
});

test('expected rates follow counts, periods, operation rates and the speed-up', () => {
  const r = expectedRates(s);
  assert.equal(r.get('call conductor object_action Service.save'), (7 * 2) / 10);
  assert.equal(r.get('cast compute build_and_run_instance'), (6 * 2 * 2) / 60);
});

test('oslo backoff and heartbeat URL', () => {
  assert.deepEqual(
    [1, 2, 3, 15, 16, 40].map((a) => reconnectDelayMs(s, a)),
    [1000, 3000, 5000, 29000, 30000, 30000],
  );
  assert.equal(withHeartbeat('amqp://h/v', 60), 'amqp://h/v?heartbeat=60');
  assert.equal(withHeartbeat('amqp://h/v?frameMax=0', 60), 'amqp://h/v?frameMax=0&heartbeat=60');
  assert.equal(withHeartbeat('amqp://h/v?heartbeat=5', 60), 'amqp://h/v?heartbeat=5');
});

test('the PRNG is seeded', () => {
  const a = prng(7);
  const b = prng(7);
  const xs = [a(), a(), a()];
  assert.deepEqual(xs, [b(), b(), b()]);
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});
