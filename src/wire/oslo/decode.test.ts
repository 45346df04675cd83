import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WireMessage } from '../../records.ts';
import { decodeRpc, wireWithoutBody } from './decode.ts';
import { novaObjectName } from './nova-object.ts';
import { isSecretKey, redactString, redactValue } from './redact.ts';

const enc = new TextEncoder();

function wire(over: Omit<Partial<WireMessage>, 'body'> & { body: Uint8Array | string }): WireMessage {
  const body = typeof over.body === 'string' ? enc.encode(over.body) : over.body;
  return {
    seq: 0,
    ts: 1000,
    source: 'tracing',
    event: 'publish',
    exchange: 'nova',
    routingKey: 'conductor',
    properties: {},
    ...over,
    body,
    bodySize: body.length,
  };
}

/** oslo.messaging common.serialize_msg: the inner message as a JSON string. */
function envelope(msg: Record<string, unknown>): string {
  return JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(msg) });
}

const ctx = {
  _context_request_id: 'req-1',
  _context_global_request_id: 'req-g',
  _context_auth_token: 'admin:admin',
  _context_user_id: 'u1',
  _context_service_catalog: [{ endpoints: [{ url: 'http://svc:s3cret@10.0.0.1/v2' }] }],
};

test('2.0 call to topic.server: kind, topic split at the first dot, ids, expiration, redacted context', () => {
  const m = decodeRpc(
    wire({
      routingKey: 'compute.host-1.example.org',
      properties: { expiration: '60000' },
      body: envelope({
        method: 'reboot_instance',
        args: { admin_password: 'hunter2', instance: {} },
        namespace: 'ns',
        version: '6.0',
        _msg_id: 'm1',
        _reply_q: 'reply_q1',
        _unique_id: 'u1',
        _timeout: 30,
        ...ctx,
      }),
    }),
  );
  assert.equal(m.kind, 'call');
  assert.equal(m.envelope, '2.0');
  assert.equal(m.topic, 'compute');
  assert.equal(m.server, 'host-1.example.org');
  assert.equal(m.method, 'reboot_instance');
  assert.equal(m.namespace, 'ns');
  assert.equal(m.version, '6.0');
  assert.equal(m.msgId, 'm1');
  assert.equal(m.replyQ, 'reply_q1');
  assert.equal(m.uniqueId, 'u1');
  assert.equal(m.timeoutS, 30);
  assert.equal(m.expirationMs, 60000);
  assert.equal(m.requestId, 'req-1');
  assert.equal(m.globalRequestId, 'req-g');
  assert.equal(m.context.auth_token, '***');
  assert.equal(m.context.user_id, 'u1');
  const out = JSON.stringify(m);
  assert.ok(!out.includes('admin:admin'), out);
  assert.ok(!out.includes('hunter2'), 'args never leave the decoder');
  assert.ok(!out.includes('s3cret'), 'URL credentials in the context are removed');
  assert.ok(!('body' in m.wire), 'no raw body in the record');
});

test('cast (no _msg_id), bare 1.0 dict, fanout by exchange', () => {
  const cast = decodeRpc(
    wire({ body: envelope({ method: 'build_and_run_instance', args: {} }), routingKey: 'compute.h1' }),
  );
  assert.equal(cast.kind, 'cast');
  assert.equal(cast.server, 'h1');
  const bare = decodeRpc(wire({ body: JSON.stringify({ method: 'ping', args: {}, _msg_id: 'x' }) }));
  assert.equal(bare.kind, 'call');
  assert.equal(bare.envelope, '1.0');
  const fan = decodeRpc(
    wire({
      exchange: 'scheduler_fanout',
      routingKey: '',
      body: envelope({ method: 'update_instance_info', args: {} }),
    }),
  );
  assert.equal(fan.kind, 'fanout');
  assert.equal(fan.topic, 'scheduler');
  assert.equal(fan.server, undefined);
});

test('replies: result, remote failure class, call-monitor heartbeat', () => {
  const failure = JSON.stringify({
    class: 'ConsoleTypeUnavailable',
    module: 'nova.exception',
    message: 'Unavailable console type novnc.',
    tb: ['Traceback...'],
    args: [],
    kwargs: {},
  });
  const r = decodeRpc(
    wire({
      exchange: '',
      routingKey: 'reply_abc',
      body: envelope({ result: null, failure, ending: true, _msg_id: 'm1', _unique_id: 'u' }),
    }),
  );
  assert.equal(r.kind, 'reply');
  assert.equal(r.msgId, 'm1');
  assert.equal(r.replyQ, 'reply_abc');
  assert.equal(r.ending, true);
  assert.deepEqual(r.failure, {
    class: 'ConsoleTypeUnavailable',
    module: 'nova.exception',
    message: 'Unavailable console type novnc.',
  });
  const hb = decodeRpc(
    wire({
      exchange: '',
      routingKey: 'reply_abc',
      body: envelope({ result: null, failure: null, ending: false, _msg_id: 'm1' }),
    }),
  );
  assert.equal(hb.kind, 'reply');
  assert.equal(hb.ending, false);
  assert.equal(hb.failure, undefined);
});

test('notification: event type, priority from the body, topic before the last dot', () => {
  const n = decodeRpc(
    wire({
      routingKey: 'versioned_notifications.error',
      body: envelope({
        message_id: 'x',
        publisher_id: 'nova-compute:host1',
        event_type: 'compute.exception',
        priority: 'ERROR',
        payload: { password: 'p' },
        timestamp: 't',
        ...ctx,
      }),
    }),
  );
  assert.equal(n.kind, 'notification');
  assert.equal(n.topic, 'versioned_notifications');
  assert.equal(n.priority, 'error');
  assert.equal(n.eventType, 'compute.exception');
  assert.equal(n.publisherId, 'nova-compute:host1');
  assert.equal(n.requestId, 'req-1');
});

test('non-oslo and non-JSON bodies are kind other, never an error', () => {
  for (const body of [
    '',
    'hello',
    '[1,2]',
    '{"a":1}',
    '{broken',
    '{"oslo.version":"2.0","oslo.message":"{bad"}',
  ]) {
    const m = decodeRpc(wire({ body }));
    assert.equal(m.kind, 'other', body);
    assert.equal(m.envelope, 'none', body);
  }
  const bin = decodeRpc(wire({ body: new Uint8Array([0xff, 0x00, 0x7b]) }));
  assert.equal(bin.kind, 'other');
});

test('firehose copies delivered from amq.rabbitmq.trace are other, not RPC', () => {
  const m = decodeRpc(
    wire({
      event: 'deliver',
      exchange: 'amq.rabbitmq.trace',
      routingKey: 'publish.nova',
      body: envelope({ method: 'x', _msg_id: 'm' }),
    }),
  );
  assert.equal(m.kind, 'other');
});

test('nova object RPC names the object and its method', () => {
  assert.equal(
    novaObjectName('object_action', {
      objinst: { 'nova_object.name': 'Instance' },
      objmethod: 'save',
      args: [],
      kwargs: {},
    }),
    'Instance.save',
  );
  assert.equal(
    novaObjectName('object_class_action_versions', {
      objname: 'InstanceList',
      objmethod: 'get_by_host',
      object_versions: {},
    }),
    'InstanceList.get_by_host',
  );
  assert.equal(
    novaObjectName('object_class_action', { objname: 'Service', objmethod: 'get_by_host_and_binary' }),
    'Service.get_by_host_and_binary',
  );
  assert.equal(novaObjectName('select_destinations', {}), undefined);
  assert.equal(novaObjectName('object_action', { objinst: 'x' }), undefined);
  const m = decodeRpc(
    wire({
      body: envelope({
        method: 'object_action',
        args: {
          objinst: { 'nova_object.name': 'Service', 'nova_object.data': { host: 'h' } },
          objmethod: 'save',
          args: [],
          kwargs: {},
        },
        _msg_id: 'm',
      }),
    }),
  );
  assert.equal(m.object, 'Service.save');
});

test('redaction: secret keys at any depth, URL credentials in strings', () => {
  for (const k of [
    'password',
    'admin_pass',
    'admin_password',
    'auth_token',
    'X-Auth-Token',
    'secret_key',
    'credential',
    'passwd',
  ])
    assert.ok(isSecretKey(k), k);
  for (const k of ['request_id', 'user_id', 'roles', 'project_name']) assert.ok(!isSecretKey(k), k);
  assert.deepEqual(redactValue({ a: { password: 'x', token: null }, b: ['rabbit://u:pw@h:5672/'] }), {
    a: { password: '***', token: null },
    b: ['rabbit://u:***@h:5672/'],
  });
  assert.equal(
    redactString('see mysql+pymysql://nova:dbpass@127.0.0.1/nova now'),
    'see mysql+pymysql://nova:***@127.0.0.1/nova now',
  );
  assert.equal(redactString('no secrets here: a:b@c'), 'no secrets here: a:b@c');
});

test('wireWithoutBody keeps every field of a wire message but the body', () => {
  const full: Required<WireMessage> = {
    seq: 1,
    ts: 2,
    source: 'pcap',
    event: 'return',
    connection: {
      id: 'c',
      client: '10.0.0.1:4000',
      server: '10.0.0.2:5672',
    } as Required<WireMessage>['connection'],
    channel: 3,
    exchange: 'e',
    routingKey: 'r',
    queue: 'q',
    routedQueues: ['q'],
    mandatory: true,
    redelivered: false,
    consumerTag: 't',
    replyCode: 312,
    replyText: 'NO_ROUTE',
    properties: { expiration: '5' },
    body: enc.encode('x'),
    bodySize: 1,
    node: 'rabbit@a',
  };
  const { body: _b, ...rest } = full;
  assert.deepEqual(wireWithoutBody(full), rest);
});
