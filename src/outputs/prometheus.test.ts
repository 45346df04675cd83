import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RpcCall, RpcKind, RpcMessage, WireEvent } from '../records.ts';
import { OSLO_BUCKETS, WatchMetrics } from './prometheus.ts';

let seq = 0;
function msg(
  kind: RpcKind,
  event: WireEvent,
  extra: { [K in keyof RpcMessage]?: RpcMessage[K] | undefined } = {},
  wire: object = {},
): RpcMessage {
  return {
    wire: {
      seq: seq++,
      ts: 1000,
      source: 'firehose',
      event,
      exchange: 'nova',
      routingKey: 'compute.host1',
      properties: {},
      bodySize: 100,
      connection: { id: 'c', client: '127.0.0.1:1', server: '127.0.0.1:5672', name: 'nova-api:12:abc' },
      ...wire,
    },
    kind,
    envelope: '2.0',
    exchange: 'nova',
    topic: 'compute',
    server: 'host1',
    method: 'build_and_run_instance',
    version: '6.0',
    context: {},
    bodySize: 100,
    ...extra,
  } as RpcMessage;
}

function value(text: string, line: string): number {
  const l = text.split('\n').find((x) => x.startsWith(line));
  assert.ok(l, `no line starting with ${line} in\n${text}`);
  return Number(l.slice(l.lastIndexOf(' ') + 1));
}

test('client and server oslo.metrics series from a call, its delivery and its reply', async () => {
  const m = new WatchMetrics();
  const call = msg('call', 'publish', { timeoutS: 60, expirationMs: 60000, msgId: 'x' });
  const delivered = msg(
    'call',
    'deliver',
    { msgId: 'x' },
    {
      ts: 1002,
      queue: 'compute.host1',
      connection: { id: 'd', client: 'a', server: 'b', name: 'nova-compute:5:u' },
    },
  );
  const reply = msg(
    'reply',
    'publish',
    { msgId: 'x', failure: { class: 'InstanceNotFound', message: 'gone' } },
    { ts: 1292 },
  );
  m.message(call);
  m.message(delivered);
  m.message(reply);
  const c: RpcCall = {
    call,
    delivered,
    reply,
    heartbeats: 0,
    outcome: 'remote-error',
    latencyMs: 300,
    queueMs: 2,
    serverMs: 290,
    returnMs: 8,
  };
  m.call(c);
  const t = await m.text();
  const cl =
    'call_type="call",exchange="nova",topic="compute",namespace="None",version="6.0",server="",fanout="None",process="nova-api",method="build_and_run_instance",timeout="60"';
  assert.equal(value(t, `oslo_messaging_rpc_client_invocation_start_total{${cl}}`), 1);
  assert.equal(value(t, `oslo_messaging_rpc_client_invocation_end_total{${cl}}`), 1);
  assert.equal(value(t, `oslo_messaging_rpc_client_exception_total{${cl},exception="InstanceNotFound"}`), 1);
  assert.equal(value(t, `oslo_messaging_rpc_client_processing_seconds_bucket{le="0.5",${cl}}`), 1);
  assert.equal(value(t, `oslo_messaging_rpc_client_processing_seconds_bucket{le="0.25",${cl}}`), 0);
  const sl =
    'exchange="nova",topic="compute",server="",endpoint="None",namespace="None",version="6.0",method="build_and_run_instance",process="nova-compute"';
  assert.equal(value(t, `oslo_messaging_rpc_server_invocation_start_total{${sl}}`), 1);
  assert.equal(value(t, `oslo_messaging_rpc_server_invocation_end_total{${sl}}`), 1);
  assert.equal(value(t, `oslo_messaging_rpc_server_exception_total{${sl},exception="InstanceNotFound"}`), 1);
  assert.equal(value(t, `oslo_messaging_rpc_server_processing_seconds_sum{${sl}}`), 0.29);
  // oslo.metrics' buckets exactly
  const les = t
    .split('\n')
    .filter((l) => l.startsWith(`oslo_messaging_rpc_server_processing_seconds_bucket{`))
    .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
  assert.deepEqual(les, [...OSLO_BUCKETS.map(String), '+Inf']);
  assert.equal(
    value(
      t,
      'rpcscope_call_queue_seconds_bucket{le="0.0025",topic="compute",method="build_and_run_instance"}',
    ),
    1,
  );
  assert.equal(
    value(t, 'rpcscope_calls_total{topic="compute",method="build_and_run_instance",outcome="remote-error"}'),
    1,
  );
  assert.equal(value(t, 'rpcscope_messages_total{kind="call",event="publish"}'), 1);
  assert.equal(value(t, 'rpcscope_message_bytes_total{kind="call",event="deliver"}'), 100);
  assert.equal(
    value(t, 'rpcscope_service_messages_total{service="nova-compute",kind="call",event="deliver"}'),
    1,
  );
});

test('casts, fanouts, notifications, returns, unanswered calls and the server label switch', async () => {
  const m = new WatchMetrics({ serverLabel: true });
  m.message(msg('cast', 'publish'));
  m.message(
    msg('fanout', 'publish', { topic: 'scheduler', server: undefined, exchange: 'scheduler_fanout' }),
  );
  m.message(msg('notification', 'publish', { eventType: 'compute.instance.create.end', priority: 'info' }));
  m.message(
    msg(
      'reply',
      'return',
      {},
      { routingKey: 'reply_abc', replyCode: 312, replyText: 'NO_ROUTE', exchange: '' },
    ),
  );
  const lost = msg('call', 'publish', { expirationMs: 30000 });
  m.message(lost);
  m.call({ call: lost, heartbeats: 0, outcome: 'unanswered', unansweredReason: 'expired' });
  const t = await m.text();
  assert.equal(
    value(
      t,
      'oslo_messaging_rpc_client_invocation_end_total{call_type="cast",exchange="nova",topic="compute",namespace="None",version="6.0",server="host1",fanout="None"',
    ),
    1,
  );
  assert.equal(
    value(
      t,
      'oslo_messaging_rpc_client_invocation_start_total{call_type="cast",exchange="scheduler_fanout",topic="scheduler",namespace="None",version="6.0",server="None",fanout="True"',
    ),
    1,
  );
  assert.equal(
    value(t, 'rpcscope_notifications_total{event_type="compute.instance.create.end",priority="info"}'),
    1,
  );
  assert.equal(value(t, 'rpcscope_reply_no_route_total'), 1);
  assert.equal(value(t, 'rpcscope_returned_messages_total{reply_code="312",kind="reply"}'), 1);
  assert.equal(
    value(
      t,
      'rpcscope_unanswered_calls_total{topic="compute",method="build_and_run_instance",reason="expired"}',
    ),
    1,
  );
  assert.match(t, /oslo_messaging_rpc_client_exception_total\{[^}]*exception="MessagingTimeout"\} 1/);
  assert.match(t, /oslo_messaging_rpc_client_processing_seconds_sum\{call_type="call"[^}]*\} 30\n/);
});

test('label values past the cap fold into "other" and are counted; drops and skips are scraped', async () => {
  const m = new WatchMetrics({ maxValuesPerLabel: 2 });
  for (const topic of ['a', 'b', 'c', 'd']) m.message(msg('cast', 'publish', { topic }));
  let dropped = 0;
  m.addSource('firehose:/nova', () => ({ received: 10, dropped }));
  m.addSkips('firehose:/nova', () => ({ bytes: 5, frames: 0, records: 2, issues: [] }));
  dropped = 3;
  const t = await m.text();
  assert.match(t, /rpcscope_topic_messages_total\{exchange="nova",topic="other",kind="cast"\} 2/);
  assert.equal(value(t, 'rpcscope_label_overflow_total'), 2 * 2);
  assert.equal(value(t, 'rpcscope_source_dropped_total{source="firehose:/nova"}'), 3);
  assert.equal(value(t, 'rpcscope_decoder_skipped_total{source="firehose:/nova",unit="records"}'), 2);
  m.hazards([{ kind: 'fanout-queue-no-consumer', object: 'v/compute_fanout_1' }]);
  assert.equal(
    value(
      await m.text(),
      'rpcscope_broker_hazard{hazard="fanout-queue-no-consumer",object="v/compute_fanout_1"}',
    ),
    1,
  );
  m.hazards([]);
  assert.doesNotMatch(await m.text(), /rpcscope_broker_hazard\{/);
});

test('every metric the Grafana dashboard queries is one WatchMetrics exposes', async () => {
  const { readFile } = await import('node:fs/promises');
  const dash = JSON.parse(await readFile('grafana/rpcscope-watch.json', 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const names = new Set(new WatchMetrics().registry.getMetricsAsArray().map((m) => m.name));
  const used = new Set<string>();
  for (const p of dash.panels)
    for (const t of p.targets ?? [])
      for (const m of t.expr.matchAll(/\b(oslo_messaging_[a-z_]+|rpcscope_[a-z_]+)/g))
        used.add((m[1] as string).replace(/_(bucket|sum|count)$/, ''));
  assert.ok(used.size > 10);
  for (const u of used) assert.ok(names.has(u), `${u} is not exposed`);
});
