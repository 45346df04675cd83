/**
 * The spec of rpcscope's own real-nova rig (scripts/rig, scripts/ci-nova.sh) against what nova's
 * source does for each call (python3-nova 26.2.2, Zed):
 * - compute/api.py _create_instance: one `schedule_and_build_instances` cast per request, whatever
 *   min_count is;
 * - conductor/manager.py schedule_and_build_instances: one `select_destinations` call for the
 *   whole request (_schedule_instances), then one `build_and_run_instance` cast per server;
 * - compute/manager.py: per build `@wrap_instance_event` (event_start / event_finish), one
 *   `update_instance_info` fanout (_update_scheduler_instance_info);
 * - compute/api.py stop/start/reboot/delete: one cast to `compute.<host>` each.
 *
 * Inputs: with RPCSCOPE_NOVA_CAPTURES=<dir> (set by scripts/ci-nova.sh) the fresh captures of a
 * live rig and the spec.json the CLI wrote there; otherwise the captures recorded from the rig in
 * test/fixtures/nova-rig (boot-3, reboot), so the checks run without nova.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildSpec, type Spec, type SpecOperation, type SpecRpc } from '../../src/analyse/spec.ts';
import { loadSpecInput } from '../../src/analyse/spec-load.ts';
import { specResolver } from '../../src/correlate/spec-services.ts';

const LIVE = process.env.RPCSCOPE_NOVA_CAPTURES;
const DIR = LIVE ?? new URL('../fixtures/nova-rig/', import.meta.url).pathname;
const SCENARIOS =
  LIVE !== undefined
    ? ['boot', 'stop', 'start', 'reboot', 'delete', 'boot-3', 'delete-3']
    : ['boot-3', 'reboot'];

interface ApiCall {
  method: string;
  path: string;
  status: number;
  request_id: string;
}
function apiCalls(scenario: string): ApiCall[] {
  return readFileSync(`${DIR}/${scenario}.api.jsonl`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ApiCall);
}

let cached: Spec | undefined;
async function spec(): Promise<Spec> {
  if (cached !== undefined) return cached;
  if (LIVE !== undefined && existsSync(`${LIVE}/spec.json`)) {
    // what `rpcscope spec --format json` wrote in scripts/ci-nova.sh
    cached = JSON.parse(readFileSync(`${LIVE}/spec.json`, 'utf8')) as Spec;
  } else {
    const loaded = await loadSpecInput(SCENARIOS.map((s) => `${DIR}/${s}.tracing.json`));
    cached = buildSpec(loaded, { resolve: specResolver(loaded) });
  }
  return cached;
}

function opFor(s: Spec, requestId: string): SpecOperation {
  const ops = s.operations.filter((o) => o.requestIds.includes(requestId));
  assert.equal(ops.length, 1, `one operation kind holds ${requestId}`);
  return ops[0] as SpecOperation;
}

function count(op: SpecOperation, method: string, object?: string): number {
  const r = op.rpc.filter((x) => (x.method === method || x.eventType === method) && x.object === object);
  return r.reduce((n, x) => n + x.count.median, 0);
}

function rowOf(op: SpecOperation, method: string): SpecRpc {
  const r = op.rpc.find((x) => x.method === method);
  assert.ok(r !== undefined, `row ${method}`);
  return r;
}

test('every API request of the rig is exactly one operation, named after its first RPC', async () => {
  const s = await spec();
  const expected: Record<string, string> = {
    boot: 'schedule_and_build_instances',
    'boot-3': 'schedule_and_build_instances',
    stop: 'stop_instance',
    start: 'start_instance',
    reboot: 'reboot_instance',
    delete: 'terminate_instance',
    'delete-3': 'terminate_instance',
  };
  let n = 0;
  for (const sc of SCENARIOS) {
    for (const call of apiCalls(sc)) {
      const op = opFor(s, call.request_id);
      assert.equal(op.name, expected[sc], `${sc}: ${call.method} ${call.path}`);
      n++;
    }
  }
  assert.equal(s.summary.operations, n, 'no operation without an API request, none missing');
});

test('a 3-server create (one request, min_count 3): 3 build_and_run_instance casts, 1 select_destinations call', async () => {
  const s = await spec();
  const call = apiCalls('boot-3')[0];
  assert.ok(call !== undefined);
  const op = opFor(s, call.request_id);
  assert.equal(op.alias, 'server create');
  assert.equal(op.servers, 3);
  assert.equal(count(op, 'schedule_and_build_instances'), 1);
  assert.equal(rowOf(op, 'schedule_and_build_instances').kind, 'cast');
  assert.equal(count(op, 'select_destinations'), 1);
  assert.equal(rowOf(op, 'select_destinations').kind, 'call');
  assert.equal(count(op, 'build_and_run_instance'), 3);
  assert.equal(rowOf(op, 'build_and_run_instance').kind, 'cast');
  assert.equal(count(op, 'update_instance_info'), 3);
  assert.equal(count(op, 'object_class_action_versions', 'InstanceActionEvent.event_start'), 3);
  assert.equal(count(op, 'object_class_action_versions', 'InstanceActionEvent.event_finish_with_failure'), 3);
  // the scheduler notifies once per request, the computes once per server
  assert.equal(count(op, 'scheduler.select_destinations.start'), 2); // legacy + versioned
  assert.equal(count(op, 'compute.instance.create.start'), 3);
  assert.equal(count(op, 'instance.create.end'), 3);
  assert.ok(!op.rpc.some((r) => r.object === 'ComputeNode.save'));
});

test('reboot: one reboot_instance cast from nova-api to the compute host', async () => {
  const s = await spec();
  const call = apiCalls('reboot')[0];
  assert.ok(call !== undefined);
  const op = opFor(s, call.request_id);
  assert.equal(op.alias, 'server reboot');
  const first = op.rpc[0];
  assert.equal(first?.method, 'reboot_instance');
  assert.equal(first?.kind, 'cast');
  assert.equal(first?.from, 'nova-api');
  assert.equal(first?.to, 'nova-compute');
  assert.equal(first?.count.median, 1);
  // compute/manager.py reboot_instance: @wrap_instance_event, reboot.start / reboot.end notifications
  assert.equal(count(op, 'object_class_action_versions', 'InstanceActionEvent.event_start'), 1);
  assert.equal(count(op, 'compute.instance.reboot.start'), 1);
  assert.equal(count(op, 'instance.reboot.end'), 1);
  assert.equal(count(op, 'select_destinations'), 0);
});

test('live rig: one boot vs three — counts grow per server except the scheduling call', async (t) => {
  if (LIVE === undefined) {
    t.skip('needs RPCSCOPE_NOVA_CAPTURES (scripts/ci-nova.sh)');
    return;
  }
  const s = await spec();
  const sc = s.scaling.find((x) => x.name === 'schedule_and_build_instances');
  assert.ok(sc !== undefined);
  assert.deepEqual(sc.servers, [1, 3]);
  const line = (method: string) => sc.rpc.find((r) => r.method === method && r.object === undefined);
  assert.deepEqual(
    [line('build_and_run_instance')?.fixed, line('build_and_run_instance')?.perServer],
    [0, 1],
  );
  assert.deepEqual([line('select_destinations')?.fixed, line('select_destinations')?.perServer], [1, 0]);
  assert.deepEqual(
    [line('schedule_and_build_instances')?.fixed, line('schedule_and_build_instances')?.perServer],
    [1, 0],
  );
  const del3 = apiCalls('delete-3');
  assert.equal(del3.length, 3);
  for (const c of del3) assert.equal(count(opFor(s, c.request_id), 'terminate_instance'), 1);
  const compute = s.background.find((b) => b.service === 'nova-compute');
  assert.ok(compute !== undefined);
  assert.ok(compute.periodic.some((p) => p.object === 'Service.save'));
});

test('live rig: the pcap of the 3-server create gives the same operation as the tracing log', async (t) => {
  if (LIVE === undefined || !existsSync(`${LIVE}/spec-boot-3-pcap.json`)) {
    t.skip('needs RPCSCOPE_NOVA_CAPTURES with spec-boot-3-pcap.json (scripts/ci-nova.sh)');
    return;
  }
  const fromPcap = JSON.parse(readFileSync(`${LIVE}/spec-boot-3-pcap.json`, 'utf8')) as Spec;
  const call = apiCalls('boot-3')[0];
  assert.ok(call !== undefined);
  const rows = (o: SpecOperation) =>
    o.rpc
      .map((r) => `${r.kind} ${r.topic} ${r.method ?? r.eventType} ${r.object ?? ''} ${r.count.median}`)
      .sort();
  const a = opFor(fromPcap, call.request_id);
  const b = opFor(await spec(), call.request_id);
  assert.deepEqual(rows(a), rows(b));
  assert.equal(a.messages.median, b.messages.median);
});
