import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcKind, RpcMessage } from '../records.ts';
import { decodeRpc } from '../wire/oslo/decode.ts';
import { knownSender } from './aliases.ts';
import { buildOperations, hashId, publisherService, startsOperation } from './operations.ts';

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

test('replies join their own call when two _msg_ids hash alike', () => {
  // replies are joined through a table keyed by a hash of the id: these two collide
  const [x, y] = ['msg-94990', 'msg-110886'];
  assert.equal(hashId(x), hashId(y));
  const op = (t0: number, req: string, id: string, conn: string): RpcMessage[] => {
    const ctx = { ...USER, request_id: req };
    return [
      msg(t0, 'cast', 'conductor', { method: 'schedule_and_build_instances', requestId: req, context: ctx }),
      msg(t0 + 50, 'call', 'scheduler', {
        method: 'select_destinations',
        requestId: req,
        msgId: id,
        context: ctx,
      }),
      msg(t0 + 300, 'reply', 'reply_x', { msgId: id, conn }),
    ];
  };
  const g = buildOperations([...op(1000, 'req-x', x, 'sched-x'), ...op(1100, 'req-y', y, 'sched-y')], []);
  assert.equal(g.background.length, 0);
  for (const [o, id] of [
    [g.operations[0], x],
    [g.operations[1], y],
  ] as const) {
    assert.equal(o?.steps.length, 3);
    const reply = o?.steps.find((s) => s.kind === 'reply');
    assert.equal(reply?.msgId, id);
    assert.equal(reply?.replyToSeq, 1);
    assert.equal(o?.steps[1]?.latencyMs, 250);
  }
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

/** A nova object primitive (oslo.versionedobjects obj_to_primitive). */
function novaObject(name: string, data: Record<string, unknown>): Record<string, unknown> {
  return { 'nova_object.name': name, 'nova_object.namespace': 'nova', 'nova_object.data': data };
}

/** Decodes a crafted oslo 2.0 body as the capture would (src/wire/oslo/decode.ts). */
function decoded(ts: number, routingKey: string, inner: Record<string, unknown>, conn: string): RpcMessage {
  const body = new TextEncoder().encode(
    JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }),
  );
  return decodeRpc({
    seq: seq++,
    ts,
    source: 'tracing',
    event: 'publish',
    exchange: 'nova',
    routingKey,
    properties: {},
    body,
    bodySize: body.length,
    connection: { id: conn, client: conn, server: '127.0.0.1:5672' },
  });
}

const SMALL = novaObject('Flavor', { id: 1, flavorid: '1', name: 'm1.tiny' });
const LARGE = novaObject('Flavor', { id: 2, flavorid: '2', name: 'm1.small' });
const INSTANCE = novaObject('Instance', { uuid: 'i-1', instance_type_id: 1, flavor: SMALL });

/** nova/conductor/rpcapi.py migrate_server as compute/api.py resize() casts it. */
function migrateServer(ts: number, req: string, flavor: unknown, instance: unknown = INSTANCE): RpcMessage {
  return decoded(
    ts,
    'conductor',
    {
      method: 'migrate_server',
      args: {
        instance,
        scheduler_hint: { filter_properties: { ignore_hosts: [] } },
        live: false,
        rebuild: false,
        flavor,
        block_migration: null,
        disk_over_commit: null,
        reservations: null,
        clean_shutdown: true,
        request_spec: novaObject('RequestSpec', { flavor }),
        host_list: null,
      },
      version: '1.20',
      _unique_id: `u-${req}`,
      _context_request_id: req,
      _context_user_id: 'admin',
      _context_remote_address: '127.0.0.1',
    },
    'api',
  );
}

function rebuild(ts: number, req: string, routingKey: string, recreate: boolean, conn: string): RpcMessage {
  return decoded(
    ts,
    routingKey,
    {
      method: 'rebuild_instance',
      args: { instance: INSTANCE, new_pass: 'secret', recreate, on_shared_storage: false, host: null },
      _unique_id: `u-${req}-${routingKey}`,
      _context_request_id: req,
      _context_user_id: 'admin',
      _context_remote_address: '127.0.0.1',
    },
    conn,
  );
}

test('migrate_server: a new flavor is a resize, the instance own flavor a cold migrate, live a live-migrate', () => {
  const resize = migrateServer(0, 'req-resize', LARGE);
  const migrate = migrateServer(10_000, 'req-migrate', SMALL);
  // no flavor field loaded on the instance: its instance_type_id is the flavor's database id
  const bare = novaObject('Instance', { uuid: 'i-2', instance_type_id: 2 });
  const migrateBare = migrateServer(20_000, 'req-migrate-2', LARGE, bare);
  const resizeBare = migrateServer(30_000, 'req-resize-2', SMALL, bare);
  const unknown = migrateServer(40_000, 'req-unknown', novaObject('Flavor', { name: 'x' }));
  const live = decoded(
    50_000,
    'conductor',
    {
      method: 'migrate_server',
      args: { instance: INSTANCE, live: true, rebuild: false, flavor: null, scheduler_hint: { host: null } },
      _context_request_id: 'req-live',
      _context_user_id: 'admin',
    },
    'api',
  );
  assert.deepEqual(resize.hints?.move, { live: false, resize: true });
  assert.ok(!JSON.stringify(resize).includes('m1.small'), 'arguments never leave the decoder');
  const g = buildOperations([resize, migrate, migrateBare, resizeBare, unknown, live], []);
  assert.deepEqual(
    g.operations.map((o) => [o.id, o.name, o.alias]),
    [
      ['req-resize', 'migrate_server', 'server resize'],
      ['req-migrate', 'migrate_server', 'server migrate'],
      ['req-migrate-2', 'migrate_server', 'server migrate'],
      ['req-resize-2', 'migrate_server', 'server resize'],
      ['req-unknown', 'migrate_server', 'server resize / migrate'],
      ['req-live', 'migrate_server', 'server live-migrate'],
    ],
  );
});

test('rebuild_instance: recreate is an evacuation; the compute cast tells when the conductor cast is not captured', () => {
  const g = buildOperations(
    [
      rebuild(0, 'req-rebuild', 'conductor', false, 'api'),
      rebuild(50, 'req-rebuild', 'compute.cmp1', false, 'cond'),
      rebuild(10_000, 'req-evacuate', 'conductor', true, 'api'),
      rebuild(10_050, 'req-evacuate', 'compute.cmp2', true, 'cond'),
      // a capture started after the API's cast: the compute's copy of `recreate` names it
      rebuild(20_050, 'req-evacuate-2', 'compute.cmp2', true, 'cond'),
    ],
    [],
  );
  assert.deepEqual(
    g.operations.map((o) => [o.id, o.alias, o.steps.length]),
    [
      ['req-rebuild', 'server rebuild', 2],
      ['req-evacuate', 'server evacuate', 2],
      ['req-evacuate-2', 'server evacuate', 1],
    ],
  );
  assert.equal(g.operations[1]?.steps[1]?.from, 'nova-conductor');
});

test('compute → compute casts of a move are sent by nova-compute: by connection, else from nova code', () => {
  const ctx = { ...USER, request_id: 'req-rev' };
  const f = { requestId: 'req-rev', context: ctx };
  const msgs = [
    // nova-api → dest compute (compute/api.py revert_resize)
    msg(0, 'cast', 'compute', { ...f, server: 'dest', method: 'revert_resize', conn: 'api' }),
    // dest compute → source compute (compute/manager.py revert_resize)
    msg(400, 'cast', 'compute', { ...f, server: 'src', method: 'finish_revert_resize', conn: 'cmp-dest' }),
    // a connection that answered a compute call is a nova-compute's
    msg(600, 'call', 'compute', {
      ...f,
      server: 'dest',
      method: 'remove_volume_connection',
      msgId: 'rv',
      conn: 'cmp-src',
    }),
    msg(650, 'reply', 'reply_q', { msgId: 'rv', conn: 'cmp-dest' }),
  ];
  const op = buildOperations(msgs, []).operations[0];
  assert.ok(op !== undefined);
  assert.equal(op.alias, 'server resize revert');
  assert.deepEqual(
    op.steps.map((s) => [s.method ?? s.kind, s.from, s.fromInferred, s.to]),
    [
      ['revert_resize', 'nova-api', true, 'nova-compute'],
      // cmp-dest is learned from its reply to a compute call
      ['finish_revert_resize', 'nova-compute', false, 'nova-compute'],
      // cmp-src is not named on the wire: nova's code tells
      ['remove_volume_connection', 'nova-compute', true, 'nova-compute'],
      ['reply', 'nova-compute', false, 'nova-compute'],
    ],
  );
  for (const [method, sender] of [
    ['prep_resize', 'nova-conductor'],
    ['resize_instance', 'nova-compute'],
    ['finish_resize', 'nova-compute'],
    ['finish_revert_resize', 'nova-compute'],
    ['post_live_migration_at_destination', 'nova-compute'],
    ['live_migration', 'nova-conductor'],
  ] as const)
    assert.equal(knownSender('compute', method), sender, method);
});

test("neutron's external_instance_event joins the operation acting on the same instance (inferred), by the uuid in its args", () => {
  const inst = (uuid: string): Record<string, unknown> => novaObject('Instance', { uuid });
  const U1 = '0a1b2c3d-0000-4000-8000-000000000001';
  const U2 = '0a1b2c3d-0000-4000-8000-000000000002';
  const user = { _context_user_id: 'admin', _context_remote_address: '127.0.0.1' };
  const build = (ts: number, req: string, uuid: string): RpcMessage =>
    decoded(
      ts,
      'compute.cmp1',
      { method: 'build_and_run_instance', args: { instance: inst(uuid) }, _context_request_id: req, ...user },
      'cond',
    );
  const event = (ts: number, req: string, uuid: string, name: string): RpcMessage =>
    decoded(
      ts,
      'compute.cmp1',
      {
        method: 'external_instance_event',
        args: {
          instances: [inst(uuid)],
          events: [novaObject('InstanceExternalEvent', { name, instance_uuid: uuid, tag: 'port-1' })],
        },
        _context_request_id: req,
        ...user,
      },
      'api',
    );
  const boot1 = decoded(
    0,
    'conductor',
    { method: 'schedule_and_build_instances', args: {}, _context_request_id: 'req-boot-1', ...user },
    'api',
  );
  const g = buildOperations(
    [
      boot1,
      build(100, 'req-boot-1', U1),
      // another server's boot meanwhile
      build(200, 'req-boot-2', U2),
      event(3000, 'req-ev-1', U1, 'network-vif-plugged'),
      // for no operation in the capture: stays one of its own
      event(60_000, 'req-ev-3', '0a1b2c3d-0000-4000-8000-000000000003', 'network-changed'),
    ],
    [],
  );
  assert.deepEqual(
    g.operations.map((o) => [o.id, o.alias, o.steps.map((s) => s.method)]),
    [
      [
        'req-boot-1',
        'server create',
        ['schedule_and_build_instances', 'build_and_run_instance', 'external_instance_event'],
      ],
      ['req-boot-2', undefined, ['build_and_run_instance']],
      ['req-ev-3', 'server external event (neutron/cinder)', ['external_instance_event']],
    ],
  );
  const boot = g.operations[0];
  assert.equal(boot?.inferredLinks, 1);
  assert.match(boot?.steps[2]?.inferredLink ?? '', new RegExp(`instance ${U1}.*own request id req-ev-1`));
  assert.deepEqual(boot?.requestIds, ['req-boot-1']);
});

test("an agent's heartbeat and its reply, in one burst with its reaction, stay background and do not keep the reaction from its operation", () => {
  const PORT = '73f14f92-77d5-4bba-86b2-77ccae600f2b';
  const api = (ts: number, eventType: string): RpcMessage =>
    msg(ts, 'notification', 'notifications', {
      exchange: 'neutron',
      eventType,
      publisherId: 'network.ctl',
      requestId: 'req-port',
      context: USER,
      hints: { ids: [PORT] },
    });
  const agent = { requestId: 'req-agent', context: ADMIN, conn: 'ovs-agent' };
  // as on a CI rig capture (port-create): the OVS agent's report_state and its reply 220 ms before
  // the port create, its update_device_list 2.5 s after the report: one burst of its admin context
  const g = buildOperations(
    [
      msg(0, 'call', 'q-reports-plugin', { ...agent, method: 'report_state', msgId: 'beat-1' }),
      msg(52, 'reply', 'reply_ovs', { msgId: 'beat-1', conn: 'server' }),
      api(220, 'port.create.start'),
      msg(966, 'fanout', 'neutron-vo-Port-1.7', {
        exchange: 'neutron',
        method: 'push',
        requestId: 'req-port',
        context: USER,
        hints: { ids: [PORT] },
      }),
      api(1296, 'port.create.end'),
      msg(2500, 'call', 'q-plugin', {
        ...agent,
        method: 'update_device_list',
        msgId: 'udl-1',
        hints: { ids: [PORT] },
      }),
      msg(2606, 'reply', 'reply_ovs', { msgId: 'udl-1', conn: 'server' }),
    ],
    [],
  );
  assert.equal(g.operations.length, 1);
  const op = g.operations[0];
  assert.deepEqual(
    op?.steps.map((s) => [s.kind, s.method ?? s.eventType, s.inferredLink !== undefined]),
    [
      ['notification', 'port.create.start', false],
      ['fanout', 'push', false],
      ['notification', 'port.create.end', false],
      ['call', 'update_device_list', true],
      ['reply', undefined, true],
    ],
  );
  assert.deepEqual(
    g.background.map((m) => [m.kind, m.method]),
    [
      ['call', 'report_state'],
      ['reply', undefined],
    ],
  );
});
