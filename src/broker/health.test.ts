import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessHazards, newHealthState } from './health.ts';
import type { Connection, Queue } from './management.ts';

const q = (name: string, consumers: number | undefined, messages: number): Queue => ({
  name,
  vhost: 'v',
  durable: false,
  auto_delete: false,
  arguments: { 'x-expires': 1800000 },
  ...(consumers === undefined ? {} : { consumers }),
  messages,
});
const conn = (n: number, binary = 'neutron-openvswitch-agent'): Connection => ({
  name: `10.0.0.9:${n} -> 10.0.0.1:5672`,
  vhost: 'v',
  user: 'u',
  peer_host: '10.0.0.9',
  peer_port: n,
  client_properties: { connection_name: `${binary}:77:${n}` },
});

test('fanout and reply queues without consumer are hazards named by queue; consumed or unknown ones are not', () => {
  const st = newHealthState();
  const h = assessHazards(
    {
      ts: 0,
      queues: [
        q('compute_fanout_abc', 0, 4),
        q('compute_fanout_def', 1, 0),
        q('reply_123', 0, 0),
        q('reply_456', undefined, 0),
        q('conductor', 2, 0),
      ],
      connections: [],
      nodes: [],
    },
    st,
  );
  assert.deepEqual(
    h.map((x) => [x.kind, x.object, x.value]),
    [
      ['fanout-queue-no-consumer', 'v/compute_fanout_abc', 4],
      ['reply-queue-no-consumer', 'v/reply_123', 0],
    ],
  );
  assert.match(h[0]!.detail, /x-expires \(1800000 ms\)/);
});

test('a queue growing without consumer is flagged from the second poll on, and keeps its since', () => {
  const st = newHealthState();
  const snap = (ts: number, messages: number, consumers = 0) => ({
    ts,
    queues: [q('notifications.info', consumers, messages)],
    connections: [],
    nodes: [],
  });
  assert.deepEqual(assessHazards(snap(0, 10), st), []);
  const h1 = assessHazards(snap(1000, 25), st);
  assert.deepEqual(
    h1.map((x) => [x.kind, x.object, x.value, x.since]),
    [['queue-growing-no-consumer', 'v/notifications.info', 25, 1000]],
  );
  const h2 = assessHazards(snap(2000, 25), st);
  assert.equal(h2[0]?.since, 1000);
  // drained by a consumer: gone
  assert.deepEqual(assessHazards(snap(3000, 0, 1), st), []);
});

test('connection churn counts opens and closes per client group over a minute', () => {
  const st = newHealthState();
  const th = { churnPerMinute: 5, limitFraction: 0.9, growthWindowMs: 60000 };
  assessHazards({ ts: 0, queues: [], connections: [conn(1), conn(100, 'nova-compute')], nodes: [] }, st, th);
  // 4 new, 1 closed: 5, not above 5
  let h = assessHazards(
    {
      ts: 10_000,
      queues: [],
      connections: [2, 3, 4, 5].map((n) => conn(n)).concat(conn(100, 'nova-compute')),
      nodes: [],
    },
    st,
    th,
  );
  assert.deepEqual(h, []);
  h = assessHazards(
    {
      ts: 20_000,
      queues: [],
      connections: [6].map((n) => conn(n)).concat(conn(100, 'nova-compute')),
      nodes: [],
    },
    st,
    th,
  );
  assert.equal(h.length, 1);
  assert.equal(h[0]?.kind, 'connection-churn');
  assert.equal(h[0]?.object, 'neutron-openvswitch-agent@10.0.0.9');
  assert.equal(h[0]?.value, 5 + 1 + 4);
  // a quiet minute later it is gone
  h = assessHazards(
    { ts: 90_000, queues: [], connections: [conn(6), conn(100, 'nova-compute')], nodes: [] },
    st,
    th,
  );
  assert.deepEqual(h, []);
});

test('node alarms and limits', () => {
  const h = assessHazards(
    {
      ts: 0,
      queues: [],
      connections: [],
      nodes: [
        {
          name: 'rabbit@a',
          running: true,
          mem_alarm: true,
          mem_used: 9,
          mem_limit: 10,
          disk_free_alarm: false,
          fd_used: 95,
          fd_total: 100,
        },
        {
          name: 'rabbit@b',
          running: true,
          mem_alarm: false,
          disk_free_alarm: true,
          sockets_used: 10,
          sockets_total: 100,
        },
      ],
    },
    newHealthState(),
  );
  assert.deepEqual(
    h.map((x) => [x.kind, x.object]),
    [
      ['memory-alarm', 'rabbit@a'],
      ['fd-near-limit', 'rabbit@a'],
      ['disk-alarm', 'rabbit@b'],
    ],
  );
});
