import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Operation, OperationStep } from '../correlate/operations.ts';
import type { RpcMessage } from '../records.ts';
import { analyseBackground, runsOf } from './periodic.ts';
import { aggregateOperations, scalingOf } from './spec.ts';

function op(id: string, servers: number, startMs: number, extraSaves: number): Operation {
  const steps: OperationStep[] = [];
  const add = (s: Partial<OperationStep> & Pick<OperationStep, 'kind' | 'from' | 'to' | 'topic'>) =>
    steps.push({
      seq: steps.length,
      offsetMs: steps.length,
      fromInferred: false,
      exchange: 'nova',
      bodySize: 100,
      ...s,
    });
  add({
    kind: 'cast',
    from: 'nova-api',
    to: 'nova-conductor',
    topic: 'conductor',
    method: 'schedule_and_build_instances',
  });
  add({
    kind: 'call',
    from: 'nova-conductor',
    to: 'nova-scheduler',
    topic: 'scheduler',
    method: 'select_destinations',
    latencyMs: 200,
  });
  add({
    kind: 'reply',
    from: 'nova-scheduler',
    to: 'nova-conductor',
    topic: 'reply_x',
    replyToSeq: 1,
    bodySize: 40,
  });
  for (let i = 0; i < servers; i++) {
    add({
      kind: 'cast',
      from: 'nova-conductor',
      to: 'nova-compute',
      topic: 'compute',
      method: 'build_and_run_instance',
    });
    for (let j = 0; j < 6 + extraSaves; j++)
      add({
        kind: 'call',
        from: 'nova-compute',
        to: 'nova-conductor',
        topic: 'conductor',
        method: 'object_action',
        object: 'Instance.save',
      });
  }
  return {
    id,
    name: 'schedule_and_build_instances',
    topic: 'conductor',
    alias: 'server create',
    servers,
    requestIds: [id],
    startMs,
    endMs: startMs + steps.length,
    durationMs: steps.length,
    lifelines: ['nova-api', 'nova-conductor', 'nova-scheduler', 'nova-compute'],
    steps,
    backgroundDuring: [],
  };
}

test('operations of one kind aggregate per servers-per-request: min / median / max, reply bytes, latency', () => {
  const agg = aggregateOperations([
    op('a', 1, 0, 0),
    op('b', 1, 10, 2),
    op('c', 1, 20, 1),
    op('d', 3, 30, 0),
  ]);
  assert.equal(agg.length, 2);
  const one = agg.find((o) => o.servers === 1);
  assert.equal(one?.instances, 3);
  const save = one?.rpc.find((r) => r.object === 'Instance.save');
  assert.deepEqual(save?.count, { min: 6, median: 7, max: 8 });
  const sd = one?.rpc.find((r) => r.method === 'select_destinations');
  assert.deepEqual(sd?.replyBytes, { median: 40, max: 40 });
  assert.deepEqual(sd?.latencyMs, { median: 200, max: 200 });
  assert.ok(!one?.rpc.some((r) => r.kind === 'reply'), 'replies fold into their call row');
  assert.deepEqual(one?.messages, { min: 10, median: 11, max: 12 });
});

test('scaling: build per server, scheduling once per request', () => {
  const sc = scalingOf(aggregateOperations([op('a', 1, 0, 0), op('b', 5, 10, 0)]));
  assert.equal(sc.length, 1);
  const line = (m: string, o?: string) => sc[0]?.rpc.find((r) => r.method === m && r.object === o);
  assert.deepEqual([line('select_destinations')?.fixed, line('select_destinations')?.perServer], [1, 0]);
  assert.deepEqual(
    [line('build_and_run_instance')?.fixed, line('build_and_run_instance')?.perServer],
    [0, 1],
  );
  assert.deepEqual(
    [line('object_action', 'Instance.save')?.fixed, line('object_action', 'Instance.save')?.perServer],
    [0, 6],
  );
  assert.deepEqual(scalingOf(aggregateOperations([op('a', 1, 0, 0)])), [], 'one width: no scaling line');
});

test('periodic runs: messages closer than the gap are one run', () => {
  assert.deepEqual(runsOf([0, 500, 10_000, 10_100, 30_000], 2000), [0, 10_000, 30_000]);
  assert.deepEqual(runsOf([], 2000), []);
});

test('background: heartbeat period and rate; RPCs mostly inside operations are flagged, not periodic', () => {
  let seq = 0;
  const m = (ts: number, object: string): RpcMessage => ({
    wire: {
      seq: seq++,
      ts,
      source: 'tracing',
      event: 'publish',
      exchange: 'nova',
      routingKey: 'conductor',
      properties: {},
      bodySize: 1800,
    },
    kind: 'call',
    envelope: '2.0',
    exchange: 'nova',
    topic: 'conductor',
    method: 'object_action',
    object,
    context: {},
    bodySize: 1800,
    msgId: `m${seq}`,
  });
  const bg = [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000].map((t) =>
    m(t + (t % 20_000 === 0 ? 30 : 0), 'Service.save'),
  );
  bg.push(
    m(21_000, 'ComputeNode.save'),
    m(23_000, 'ComputeNode.save'),
    m(55_000, 'ComputeNode.save'),
    m(24_000, 'ComputeNode.save'),
  );
  const [svc] = analyseBackground(bg, {
    windowMs: 60_000,
    operationWindows: [{ startMs: 20_500, endMs: 25_000 }],
  });
  assert.equal(svc?.service, 'nova-compute');
  const hb = svc?.periodic.find((p) => p.object === 'Service.save');
  assert.equal(hb?.periodS, 10);
  assert.equal(hb?.jitterS, 0.03);
  assert.equal(hb?.perMinute, 6);
  assert.equal(hb?.duringOperations, 0);
  const cn = svc?.periodic.find((p) => p.object === 'ComputeNode.save');
  assert.equal(cn?.duringOperationsOnly, true);
  assert.equal(cn?.duringOperations, 3);
  assert.equal(cn?.periodS, undefined);
  // only the heartbeat counts toward the instance's own rate (no replies in this input)
  assert.equal(svc?.perInstancePerMinute, 6);
});
