import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcCall, RpcMessage } from '../records.ts';
import { asCall, asMessage, HashedIds, SortedIds, SpecRecords, UniqueIdIndex } from './spec-records.ts';

const CONN = { id: '10.0.0.5:40000 -> 10.0.0.1:5672', client: '10.0.0.5:40000', server: '10.0.0.1:5672' };

type Loose<T> = { [K in keyof T]?: T[K] | undefined };

/** Drops the keys set to undefined: they are absent from the record, as a decoder leaves them. */
function absent<T extends object>(o: T): T {
  for (const [k, v] of Object.entries(o)) if (v === undefined) delete (o as Record<string, unknown>)[k];
  return o;
}

function message(over: Loose<RpcMessage> = {}, wire: Loose<RpcMessage['wire']> = {}): RpcMessage {
  const w = absent({
    seq: 7,
    ts: 1_700_000_000_123.456,
    source: 'pcap',
    event: 'publish',
    connection: { ...CONN },
    channel: 1,
    exchange: 'nova',
    routingKey: 'compute.host-1',
    properties: {},
    bodySize: 1234,
    ...wire,
  });
  return absent({
    kind: 'call',
    envelope: '2.0',
    exchange: 'nova',
    topic: 'compute',
    server: 'host-1',
    method: 'build_and_run_instance',
    msgId: '0123456789abcdef0123456789abcdef',
    uniqueId: 'fedcba98-7654-3210-fedc-ba9876543210',
    replyQ: 'reply_abc',
    requestId: 'req-11111111-2222-3333-4444-555555555555',
    context: { user_id: 'u1' },
    bodySize: 1234,
    hints: { ids: ['11111111-2222-3333-4444-555555555555'] },
    ...over,
    wire: w,
  }) as RpcMessage;
}

const FIELDS = [
  'kind',
  'envelope',
  'exchange',
  'topic',
  'server',
  'method',
  'object',
  'namespace',
  'version',
  'msgId',
  'replyQ',
  'uniqueId',
  'timeoutS',
  'expirationMs',
  'requestId',
  'globalRequestId',
  'eventType',
  'priority',
  'publisherId',
  'ending',
  'failure',
  'context',
  'bodySize',
  'hints',
] as const;
const WIRE = [
  'seq',
  'ts',
  'source',
  'event',
  'connection',
  'channel',
  'exchange',
  'routingKey',
  'queue',
  'routedQueues',
  'consumerTag',
  'replyCode',
  'node',
  'bodySize',
] as const;

function assertSame(view: RpcMessage, m: RpcMessage): void {
  for (const f of FIELDS) assert.deepEqual(view[f], m[f], f);
  for (const f of WIRE) assert.deepEqual(view.wire[f], m.wire[f], `wire.${f}`);
  assert.deepEqual(view.wire.properties, {});
}

test('a row reads back every field the message had, absent ones as undefined', () => {
  const r = new SpecRecords();
  const odd = [
    message(),
    // ids that are not lower-case uuid hex are kept as they are
    message(
      {
        kind: 'reply',
        msgId: 'ABCDEF0123456789ABCDEF0123456789',
        uniqueId: 'not-a-uuid',
        server: undefined,
        method: undefined,
        failure: { class: 'ValueError', message: 'boom' },
        ending: true,
        hints: undefined,
        context: {},
      },
      { seq: 2 ** 40, bodySize: 99, connection: undefined, routedQueues: ['q1', 'q2'], node: 'rabbit@a' },
    ),
    // sizes and order that do not fit 32 unsigned bits, -0, fractions
    message(
      { bodySize: -0, msgId: undefined, uniqueId: '0123456789abcdef0123456789abcde' },
      { seq: 1.5, bodySize: 2 ** 33 },
    ),
    message({
      kind: 'notification',
      eventType: 'compute.instance.create.end',
      priority: 'INFO',
      timeoutS: 60,
      expirationMs: 60000,
    }),
  ];
  const views = odd.map((m, i) => asMessage(r.add(m, m.context, i === 0)));
  for (const [i, m] of odd.entries()) assertSame(views[i] as RpcMessage, m);
  // the same row gives the same view; connections equal by content are shared
  assert.equal(r.views[0], r.views[0]);
  const again = asMessage(r.add(message(), {}, false));
  assert.deepEqual(again.wire.connection, CONN);
  assert.equal(again.wire.connection, views[0]?.wire.connection);
  assert.deepEqual(again.context, {});
});

test('a call reads back its call, reply and outcome fields', () => {
  const r = new SpecRecords();
  const call = r.add(message(), {}, false);
  const reply = r.add(message({ kind: 'reply' }), {}, false);
  const c: RpcCall = { call: asMessage(call), heartbeats: 2, outcome: 'ok', latencyMs: 12.25, serverMs: 0 };
  const v = asCall(r.addCall(c, call.row, reply.row));
  assert.equal(v.call, asMessage(call));
  assert.equal(v.reply, asMessage(reply));
  assert.equal(v.heartbeats, 2);
  assert.equal(v.outcome, 'ok');
  assert.equal(v.latencyMs, 12.25);
  assert.equal(v.serverMs, 0);
  assert.equal(v.queueMs, undefined);
  assert.equal(v.returnMs, undefined);
  assert.equal(v.unansweredReason, undefined);
  assert.equal(v.delivered, undefined);
  const u = asCall(r.addCall({ ...c, outcome: 'unanswered', unansweredReason: 'expired' }, call.row, -1));
  assert.equal(u.reply, undefined);
  assert.equal(u.outcome, 'unanswered');
  assert.equal(u.unansweredReason, 'expired');
});

test('the unique-id index finds exactly the ids added, also ids alike but in their first bytes', () => {
  const r = new SpecRecords();
  const index = new UniqueIdIndex(r.uniqueId);
  // like the bench capture: the same ids with the first 8 hex digits replaced per pass
  const ids: string[] = [];
  for (let pass = 0; pass < 3000; pass++) {
    const p = pass.toString(16).padStart(8, '0');
    ids.push(`${p}aaaabbbbccccddddeeeeffff`, `${p}-aaaa-bbbb-cccc-ddddeeeeffff`);
  }
  ids.push('x', '', '00000000aaaabbbbccccddddeeeeffff0000');
  for (const id of ids) {
    const v = r.add(message({ uniqueId: id }), {}, false);
    index.add(v.row, id);
  }
  for (const id of ids) assert.ok(index.has(id), id);
  // not added: a later pass, upper case, dashes elsewhere, another string
  for (const id of [
    '00000bb8aaaabbbbccccddddeeeeffff',
    '00000000AAAABBBBCCCCDDDDEEEEFFFF',
    '00000bb8-aaaa-bbbb-cccc-ddddeeeeffff',
    '00000000aaaa-bbbb-cccc-dddd-eeeeffff',
    'y',
  ])
    assert.ok(!index.has(id), id);
  assert.equal(r.uniqueId.get(0), '00000000aaaabbbbccccddddeeeeffff');
  assert.equal(r.uniqueId.get(1), '00000000-aaaa-bbbb-cccc-ddddeeeeffff');
});

test('HashedIds: ids added are found, through growth, others are not', () => {
  const set = new HashedIds();
  const id = (i: number): string => `0a1b2c3d-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  for (let i = 0; i < 20_000; i += 2) set.add(id(i));
  set.add(id(0));
  assert.equal(set.size, 10_000);
  for (let i = 0; i < 20_000; i++) assert.equal(set.has(id(i)), i % 2 === 0, id(i));
});

test('SortedIds: the ids it was built from are found, others are not', () => {
  const id = (i: number): string => `0a1b2c3d-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const evens = Array.from({ length: 10_000 }, (_, i) => id(2 * i));
  const set = new SortedIds(evens);
  assert.equal(set.size, 10_000);
  for (let i = 0; i < 20_000; i++) assert.equal(set.has(id(i)), i % 2 === 0, id(i));
  assert.equal(new SortedIds([]).has(id(0)), false);
});
