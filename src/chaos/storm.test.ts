import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MessageRecord } from '../emulate/accounting.ts';
import type { EmulationEvent } from '../emulate/types.ts';
import { FanoutTracker, ResyncTracker, stormLines } from './storm.ts';
import { parseFaultFlag } from './timeline.ts';

const push = (id: string, sentAt: number, deliveries: [string, number][]): MessageRecord => ({
  id,
  kind: 'fanout',
  group: 'neutron-server',
  service: 'controller-1',
  method: 'neutron-vo-Port-1.7.push',
  sentAt,
  deliveries: new Map(deliveries),
});

test('fanout per agent: delivered, lost, late, duplicated', () => {
  const f = new FanoutTracker('ovs', 'push', 1);
  for (const h of ['a', 'b']) f.onEvent({ type: 'connected', service: h, group: 'ovs', ts: 0 });
  const rx = (id: string, h: string, ts: number): EmulationEvent => ({
    type: 'received',
    service: h,
    group: 'ovs',
    queue: 'q',
    method: 'push',
    uniqueId: id,
    duplicate: false,
    ts,
  });
  f.onEvent(rx('m1', 'a', 1100));
  f.onEvent(rx('m1', 'b', 2500)); // 1.5 s after the send: late
  f.onEvent(rx('m2', 'a', 2100));
  const s = f.summary(
    [
      push('m1', 1000, [
        ['a', 1],
        ['b', 1],
      ]),
      push('m2', 2000, [['a', 2]]),
      push('m3', 99_000, []),
    ],
    0,
    10_000,
  );
  assert.equal(s.sent, 2, 'm3 is outside the window');
  assert.equal(s.agents, 2);
  assert.equal(s.delivered, 3);
  assert.equal(s.lost, 1);
  assert.equal(s.late, 1);
  assert.equal(s.duplicated, 1);
  assert.equal(s.perAgent[0]!.host, 'b', 'worst agent first');
  assert.equal(s.delayMaxMs, 1500);
  assert.match(stormLines({ fanout: s }).join('\n'), /4 expected deliveries: 3 delivered, 1 lost, 1 late/);
});

test('resync runs on each return of a process, not on its first start', async () => {
  const ran: string[] = [];
  const r = new ResyncTracker('ovs', 'resync', async (_op, host) => {
    ran.push(host);
  });
  r.t0 = 0;
  const c = (h: string, ts: number): EmulationEvent => ({ type: 'connected', service: h, group: 'ovs', ts });
  r.onEvent(c('a', 1));
  r.onEvent(c('b', 2));
  r.onEvent(c('a', 5000));
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(ran, ['a']);
  const s = r.summary();
  assert.equal(s.reconnected, 1);
  assert.equal(s.resyncsDone, 1);
  assert.equal(s.lastBackS, 5);
});

test('--fault restart-group', () => {
  const f = parseFaultFlag('at=20s restart-group group=neutron-openvswitch-agent count=50 for=5s');
  assert.deepEqual(f, {
    action: 'restart-group',
    at: 20,
    for: 5,
    group: 'neutron-openvswitch-agent',
    count: 50,
  });
});
