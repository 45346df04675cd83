import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcKind, RpcMessage } from '../records.ts';
import { buildOperations, publisherService, startsOperation } from './operations.ts';

const USER = { user_id: 'admin', remote_address: '127.0.0.1', request_id: '' };
const ADMIN = { user_id: null, remote_address: null };
let seq = 0;

function msg(
  ts: number,
  kind: RpcKind,
  topic: string,
  fields: Partial<Omit<RpcMessage, 'wire' | 'kind' | 'topic'>> & {
    conn?: string;
    event?: 'publish' | 'deliver';
  } = {},
): RpcMessage {
  const { conn, event, ...rest } = fields;
  const s = seq++;
  return {
    wire: {
      seq: s,
      ts,
      source: 'tracing',
      event: event ?? 'publish',
      exchange: kind === 'reply' ? '' : 'nova',
      routingKey: topic,
      properties: {},
      bodySize: 100,
      ...(conn !== undefined ? { connection: { id: conn, client: conn, server: '127.0.0.1:5672' } } : {}),
    },
    kind,
    envelope: '2.0',
    exchange: kind === 'reply' ? '' : 'nova',
    topic,
    context: {},
    bodySize: 100,
    uniqueId: `u${s}`,
    ...rest,
  };
}

/** A boot as nova does it (conductor/manager.py schedule_and_build_instances), with a periodic ComputeNode.save inside. */
function boot(servers: number, t0: number, req: string): RpcMessage[] {
  const ctx = { ...USER, request_id: req };
  const out: RpcMessage[] = [
    msg(t0, 'cast', 'conductor', {
      method: 'schedule_and_build_instances',
      requestId: req,
      context: ctx,
      conn: 'api',
    }),
    msg(t0 + 50, 'call', 'scheduler', {
      method: 'select_destinations',
      requestId: req,
      msgId: `sd-${req}`,
      context: ctx,
      conn: 'cond',
    }),
    msg(t0 + 300, 'reply', `reply_${req}`, { msgId: `sd-${req}`, conn: 'sched' }),
  ];
  for (let i = 0; i < servers; i++) {
    out.push(
      msg(t0 + 400 + i, 'cast', 'compute', {
        server: 'cmp1',
        method: 'build_and_run_instance',
        requestId: req,
        context: ctx,
        conn: 'cond2',
      }),
      msg(t0 + 500 + i * 10, 'call', 'conductor', {
        method: 'object_action',
        object: 'Instance.save',
        requestId: req,
        msgId: `is-${req}-${i}`,
        context: ctx,
        conn: 'cmp',
      }),
      msg(t0 + 520 + i * 10, 'reply', 'reply_x', { msgId: `is-${req}-${i}`, conn: 'cond' }),
    );
  }
  // the resource tracker's ComputeNode carries the periodic task's context
  out.push(
    msg(t0 + 510, 'call', 'conductor', {
      method: 'object_action',
      object: 'ComputeNode.save',
      requestId: 'req-periodic',
      msgId: `cn-${req}`,
      context: { ...ADMIN, request_id: 'req-periodic' },
      conn: 'cmp',
    }),
    msg(t0 + 515, 'reply', 'reply_x', { msgId: `cn-${req}`, conn: 'cond' }),
  );
  return out;
}

test('groups by request id, joins replies by msg id, names and counts servers', () => {
  const g = buildOperations([...boot(1, 1000, 'req-a'), ...boot(3, 5000, 'req-b')], []);
  assert.equal(g.operations.length, 2);
  const [a, b] = g.operations;
  assert.ok(a !== undefined && b !== undefined);
  assert.equal(a.name, 'schedule_and_build_instances');
  assert.equal(a.alias, 'server create');
  assert.equal(a.servers, 1);
  assert.equal(b.servers, 3);
  // 1 cast + call + reply + per server (cast + call + reply)
  assert.equal(a.steps.length, 3 + 3);
  assert.equal(b.steps.length, 3 + 9);
  assert.deepEqual(a.requestIds, ['req-a']);
  const reply = a.steps.find((s) => s.kind === 'reply');
  assert.equal(reply?.replyToSeq, 1);
  // the reply goes back from the scheduler to the conductor
  assert.equal(reply?.from, 'nova-scheduler');
  assert.equal(reply?.to, 'nova-conductor');
  // latency from the reply when no RpcCall was given
  assert.equal(a.steps[1]?.latencyMs, 250);
  assert.equal(a.steps[0]?.offsetMs, 0);
  assert.equal(a.lifelines[0], 'nova-api');
});

test('periodic-context nova-object RPC stays background and is noted on the operation', () => {
  const g = buildOperations(boot(1, 1000, 'req-a'), []);
  const op = g.operations[0];
  assert.ok(op !== undefined);
  assert.ok(!op.steps.some((s) => s.object === 'ComputeNode.save'));
  assert.equal(op.backgroundDuring.length, 1);
  assert.equal(op.backgroundDuring[0]?.object, 'ComputeNode.save');
  assert.match(op.backgroundDuring[0]?.reason ?? '', /periodic/);
  // the ComputeNode.save call and its reply are background
  assert.equal(g.background.length, 2);
});

test('global request id ties requests of different services into one operation', () => {
  const ctx = { ...USER };
  const msgs = [
    msg(0, 'cast', 'compute', { server: 'c1', method: 'attach_interface', requestId: 'req-1', context: ctx }),
    msg(5, 'call', 'conductor', {
      method: 'object_action',
      object: 'Instance.save',
      requestId: 'req-2',
      globalRequestId: 'req-1',
      msgId: 'm1',
      context: ctx,
    }),
    msg(9, 'reply', 'reply_q', { msgId: 'm1' }),
  ];
  const g = buildOperations(msgs, []);
  assert.equal(g.operations.length, 1);
  assert.deepEqual([...(g.operations[0]?.requestIds ?? [])].sort(), ['req-1', 'req-2']);
  assert.equal(g.operations[0]?.steps.length, 3);
  assert.equal(g.operations[0]?.globalRequestId, 'req-1');
});

test('a delivery without its publish counts once; with its publish it is not doubled', () => {
  const a = msg(0, 'cast', 'compute', {
    method: 'stop_instance',
    requestId: 'r',
    context: USER,
    uniqueId: 'x1',
  });
  const d1 = msg(2, 'cast', 'compute', {
    method: 'stop_instance',
    requestId: 'r',
    context: USER,
    uniqueId: 'x1',
    event: 'deliver',
  });
  const d2 = msg(3, 'cast', 'compute', {
    method: 'start_instance',
    requestId: 's',
    context: USER,
    uniqueId: 'x2',
    event: 'deliver',
  });
  const d3 = msg(4, 'cast', 'compute', {
    method: 'start_instance',
    requestId: 's',
    context: USER,
    uniqueId: 'x2',
    event: 'deliver',
  });
  const g = buildOperations([a, d1, d2, d3], []);
  assert.deepEqual(
    g.operations.map((o) => [o.name, o.steps.length]),
    [
      ['stop_instance', 1],
      ['start_instance', 1],
    ],
  );
});

test('what starts an operation: user actions yes; object RPC and admin-context fanouts no', () => {
  assert.equal(
    startsOperation(msg(0, 'cast', 'compute', { method: 'reboot_instance', context: ADMIN })),
    true,
  );
  assert.equal(
    startsOperation(msg(0, 'call', 'conductor', { method: 'object_action', context: USER })),
    false,
  );
  assert.equal(
    startsOperation(msg(0, 'fanout', 'scheduler', { method: 'sync_instance_info', context: ADMIN })),
    false,
  );
  assert.equal(
    startsOperation(msg(0, 'call', 'compute', { method: 'some_new_method', context: USER })),
    true,
  );
  assert.equal(startsOperation(msg(0, 'notification', 'notifications', { context: USER })), false);
});

test('notification publisher ids name their service in both formats', () => {
  assert.equal(publisherService('compute.rig-compute-1'), 'nova-compute');
  assert.equal(publisherService('nova-scheduler:rig-compute-1'), 'nova-scheduler');
  assert.equal(publisherService('scheduler.host'), 'nova-scheduler');
});
