import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Accounting } from './accounting.ts';

test('counts every event per kind and group, duplicates included', () => {
  const a = new Accounting({ keepMessages: true });
  a.sent('u1', 'call', 'nova-compute', 'c-1', 'object_action', 1);
  a.sent('u2', 'fanout', 'nova-compute', 'c-1', 'sync_instance_info', 2);
  a.confirmed('u1', true, 3);
  a.confirmed('u2', false, 3);
  a.delivered('u1', 'cond-1');
  a.delivered('u1', 'cond-1');
  a.delivered('u2', 'sch-1');
  a.delivered('u2', 'sch-2');
  a.answered('u1', 4);
  a.answered('u1', 5);
  a.sent('u3', 'reply', 'nova-conductor', 'cond-1', 'object_action', 4);
  a.returned('u3', 5);
  a.delivered('nope', 'x');
  const c = a.counts();
  assert.deepEqual(c['call/nova-compute'], {
    sent: 1,
    confirmed: 1,
    nacked: 0,
    returned: 0,
    delivered: 2,
    deliveredUnique: 1,
    duplicates: 1,
    answered: 1,
    timedOut: 0,
  });
  assert.equal(c['fanout/nova-compute']!.nacked, 1);
  assert.equal(c['fanout/nova-compute']!.deliveredUnique, 1);
  assert.equal(c['fanout/nova-compute']!.delivered, 2);
  assert.equal(c['reply/nova-conductor']!.returned, 1);
  assert.equal(a.total().sent, 3);
  assert.deepEqual([...a.message('u2')!.deliveries.keys()], ['sch-1', 'sch-2']);
});

test('without keepMessages settled calls and old records are dropped', () => {
  const a = new Accounting();
  a.sent('u1', 'call', 'g', 's', 'm', 1);
  a.confirmed('u1', true, 2);
  a.timedOut('u1', 3);
  assert.equal(a.message('u1'), undefined);
  assert.equal(a.counts()['call/g']!.timedOut, 1);
  a.sent('u2', 'cast', 'g', 's', 'm', 5);
  a.sent('u3', 'cast', 'g', 's', 'm', 9);
  a.forgetBefore(6);
  assert.equal(a.message('u2'), undefined);
  assert.ok(a.message('u3'));
});
