/**
 * The spec of the real nova (Zed) captures in data/nova-zed, against counts checked by
 * hand in the raw tracing logs and in nova's source (python3-nova 26.2.2). The hand count, per
 * scenario (request id from <scenario>.meta.jsonl):
 *
 *   jq -s --arg rid REQ '[.[] | select(.type=="published") | (.payload|@base64d|fromjson)
 *     | (.["oslo.message"] | fromjson)] as $m | [$m[] | select(._context_request_id==$rid)] as $op
 *     | [$op[] | select(._msg_id) | ._msg_id] as $ids
 *     | {op: ($op|length), replies: [$m[] | select(has("ending")) | select(._msg_id as $x | $ids | index($x))] | length}'
 *     boot.tracing.json
 *
 * gave boot 23 + 12 replies = 35, stop 10 + 5 = 15, start 13 + 8 = 21, delete 20 + 10 = 30.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { buildSpec, type Spec, type SpecOperation, type SpecRpc } from '../../src/analyse/spec.ts';
import { loadSpecInput } from '../../src/analyse/spec-load.ts';
import { specResolver } from '../../src/correlate/spec-services.ts';
import { cli } from '../harness/oslo.ts';

const DIR = new URL('../../data/nova-zed/', import.meta.url).pathname;

async function specOf(...files: string[]): Promise<Spec> {
  const loaded = await loadSpecInput(files.map((f) => DIR + f));
  return buildSpec(loaded, { resolve: specResolver(loaded) });
}

function only(spec: Spec): SpecOperation {
  assert.equal(spec.operations.length, 1, `operations: ${spec.operations.map((o) => o.name).join(', ')}`);
  const op = spec.operations[0];
  assert.ok(op !== undefined);
  return op;
}

function row(op: SpecOperation, method: string, object?: string): SpecRpc {
  const r = op.rpc.filter((x) => (x.method === method || x.eventType === method) && x.object === object);
  assert.equal(r.length, 1, `one row for ${method} ${object ?? ''}: ${r.length}`);
  return r[0] as SpecRpc;
}

test('boot: one schedule_and_build_instances cast, one select_destinations call, one build per server', async () => {
  const op = only(await specOf('boot.tracing.json'));
  assert.equal(op.alias, 'server create');
  assert.equal(op.servers, 1);
  assert.equal(op.messages.median, 35);
  // nova/compute/api.py _create_instance → conductor rpcapi schedule_and_build_instances (cast)
  const sbi = row(op, 'schedule_and_build_instances');
  assert.equal(sbi.kind, 'cast');
  assert.equal(sbi.count.median, 1);
  assert.equal(sbi.from, 'nova-api');
  assert.equal(sbi.to, 'nova-conductor');
  // conductor/manager.py _schedule_instances → query_client.select_destinations (call), once per request
  const sd = row(op, 'select_destinations');
  assert.equal(sd.kind, 'call');
  assert.equal(sd.count.median, 1);
  assert.ok(sd.replyBytes !== undefined && sd.latencyMs !== undefined);
  // conductor/manager.py schedule_and_build_instances: build_and_run_instance cast per server
  assert.equal(row(op, 'build_and_run_instance').count.median, 1);
  assert.equal(row(op, 'build_and_run_instance').kind, 'cast');
  // compute/manager.py _update_scheduler_instance_info: a fanout to the schedulers
  assert.equal(row(op, 'update_instance_info').kind, 'fanout');
  // @wrap_instance_event on _do_build_and_run_instance: event_start + event_finish
  assert.equal(row(op, 'object_class_action_versions', 'InstanceActionEvent.event_start').count.median, 1);
  assert.equal(
    row(op, 'object_class_action_versions', 'InstanceActionEvent.event_finish_with_failure').count.median,
    1,
  );
  assert.equal(row(op, 'object_action', 'Instance.save').count.median, 6);
  // legacy and versioned notifications (notification_format = both)
  assert.equal(row(op, 'compute.instance.create.start').count.median, 1);
  assert.equal(row(op, 'instance.create.end').count.median, 1);
  // the resource tracker's ComputeNode.save carries the periodic task's context: background
  assert.ok(!op.rpc.some((r) => r.object === 'ComputeNode.save'));
  assert.deepEqual(
    op.backgroundDuring.map((b) => b.object),
    ['ComputeNode.save'],
  );
  // order: the cast starts it, select_destinations before the build
  assert.ok(sbi.firstOffsetMs < sd.firstOffsetMs);
  assert.ok(sd.firstOffsetMs < row(op, 'build_and_run_instance').firstOffsetMs);
});

test('stop, start, delete: one API cast each, counts as in the tracing logs', async () => {
  const spec = await specOf('stop.tracing.json', 'start.tracing.json', 'delete.tracing.json');
  const byName = new Map(spec.operations.map((o) => [o.name, o]));
  const stop = byName.get('stop_instance');
  const start = byName.get('start_instance');
  const del = byName.get('terminate_instance');
  assert.ok(stop !== undefined && start !== undefined && del !== undefined);
  assert.equal(spec.operations.length, 3);
  assert.deepEqual([stop.alias, start.alias, del.alias], ['server stop', 'server start', 'server delete']);
  assert.deepEqual([stop.messages.median, start.messages.median, del.messages.median], [15, 21, 30]);
  for (const op of [stop, start, del]) {
    const first = op.rpc[0];
    assert.equal(first?.kind, 'cast');
    assert.equal(first?.from, 'nova-api');
    assert.equal(first?.to, 'nova-compute');
    assert.equal(first?.count.median, 1);
  }
  assert.equal(row(stop, 'object_class_action_versions', 'Instance.get_by_uuid').count.median, 2);
  assert.equal(row(stop, 'object_action', 'Instance.save').count.median, 1);
  assert.equal(row(start, 'object_action', 'InstanceInfoCache.refresh').count.median, 1);
  // compute/manager.py _delete_instance: destroy, and _delete_scheduler_instance_info (fanout)
  assert.equal(row(del, 'object_action', 'Instance.destroy').count.median, 1);
  assert.equal(row(del, 'delete_instance_info').kind, 'fanout');
  assert.deepEqual(
    del.backgroundDuring.map((b) => b.object),
    ['ComputeNode.save'],
  );
});

test('idle: no operation; nova-compute background with its measured periods', async () => {
  const spec = await specOf('idle.tracing.json');
  assert.equal(spec.operations.length, 0);
  const compute = spec.background.find((b) => b.service === 'nova-compute');
  assert.ok(compute !== undefined, `services: ${spec.background.map((b) => b.service).join(', ')}`);
  assert.equal(compute.instances, 1);
  const p = (object: string) => compute.periodic.find((x) => x.object === object);
  // nova/servicegroup/drivers/db.py: Service.save every report_interval (10 s); 18 in 181 s
  const heartbeat = p('Service.save');
  assert.equal(heartbeat?.count, 18);
  assert.equal(heartbeat?.kind, 'call');
  assert.ok(
    heartbeat?.periodS !== undefined && Math.abs(heartbeat.periodS - 10) < 0.5,
    `${heartbeat?.periodS}`,
  );
  assert.ok(heartbeat !== undefined && Math.abs(heartbeat.perMinute - 6) < 0.05, `${heartbeat?.perMinute}`);
  // update_available_resource (60 s spacing) reads ComputeNodeList.get_all_by_host each run: 3 runs
  const rt = p('ComputeNodeList.get_all_by_host');
  assert.equal(rt?.occurrences, 3);
  assert.ok(rt?.periodS !== undefined && rt.periodS >= 59 && rt.periodS <= 66, `${rt?.periodS}`);
  // _sync_scheduler_instance_info: a fanout to the schedulers every 120 s, once in this window
  const sync = compute.periodic.find((x) => x.method === 'sync_instance_info');
  assert.equal(sync?.kind, 'fanout');
  assert.equal(sync?.count, 1);
  assert.ok(spec.summary.perHypervisorPerMinute !== undefined && spec.summary.perHypervisorPerMinute > 12);
});

test('the pcap of the boot gives the same specification as its tracing log', async () => {
  const fromPcap = only(await specOf('boot.pcap'));
  const fromLog = only(await specOf('boot.tracing.json'));
  const counts = (o: SpecOperation) =>
    o.rpc
      .map((r) => `${r.kind} ${r.topic} ${r.method ?? r.eventType} ${r.object ?? ''} ${r.count.median}`)
      .sort();
  assert.deepEqual(counts(fromPcap), counts(fromLog));
  assert.equal(fromPcap.messages.median, fromLog.messages.median);
});

/** `rpcscope spec ARGS`, which must succeed. */
async function spec(args: string[]): Promise<void> {
  const r = await cli(['spec', ...args]);
  assert.equal(r.code, 0, r.stderr);
}

test('the CLI writes the same spec in all three formats; firehose JSONL agrees with the tracing log', async () => {
  const dir = await mkdtemp(`${tmpdir()}/rpcscope-spec-cli-`);
  try {
    const out = (ext: string) => `${dir}/spec.${ext}`;
    await spec([`${DIR}boot.firehose.jsonl`, '-o', out('json')]);
    await spec([`${DIR}boot.tracing.json`, '-o', out('md')]);
    await spec([`${DIR}boot.tracing.json`, '--format', 'html', '-o', out('htm')]);
    const json = JSON.parse(await readFile(out('json'), 'utf8')) as Spec;
    const fromLog = only(await specOf('boot.tracing.json'));
    assert.deepEqual(
      only(json).rpc.map((r) => [r.kind, r.method, r.object, r.eventType, r.count.median]),
      fromLog.rpc.map((r) => [r.kind, r.method, r.object, r.eventType, r.count.median]),
    );
    const md = await readFile(out('md'), 'utf8');
    assert.match(md, /^# RPC specification/);
    assert.match(md, /\| server create \| `conductor\.schedule_and_build_instances` \| 1 \| 1 \| 35 \|/);
    assert.match(md, /```mermaid\nsequenceDiagram/);
    const html = await readFile(out('htm'), 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 1);
    // an input that is not a capture: exit code 2 and the file named
    const bad = await cli(['spec', `${DIR}README.md`]);
    assert.equal(bad.code, 2);
    assert.ok(bad.stderr.includes('README.md: not a capture'), bad.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
