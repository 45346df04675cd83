import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { buildSpec } from '../analyse/spec.ts';
import { loadSpecInput } from '../analyse/spec-load.ts';
import { specResolver } from '../correlate/spec-services.ts';
import { modelFromSpec, wireFacts } from './model.ts';
import { parseScenario } from './scenario.ts';

const files = ['idle', 'boot'].map(
  (s) => new URL(`../../data/nova-zed/${s}.tracing.json`, import.meta.url).pathname,
);

test('a model of the real nova captures: computes with their background, operations, answers', async () => {
  // as `rpcscope model` does: one load per file
  const l = await loadSpecInput(files);
  const spec = buildSpec(l, { resolve: specResolver(l) });
  const input = modelFromSpec(spec, {
    ...wireFacts(l.messages),
    computes: 500,
    rates: { 'server create': 4 },
  });
  const s = parseScenario(stringify(input));
  assert.equal(s.oslo.controlExchange, 'nova');
  assert.ok(s.oslo.contextKeys.includes('request_id') && s.oslo.contextKeys.includes('auth_token'));
  const compute = s.services.find((x) => x.name === 'nova-compute')!;
  assert.equal(compute.count, 500);
  assert.equal(compute.scalable, true);
  assert.deepEqual(compute.topics, ['compute']);
  const save = compute.periodic.find((p) => p.object === 'Service.save')!;
  assert.equal(save.kind, 'call');
  assert.equal(save.topic, 'conductor');
  assert.equal(save.periodS, 10);
  assert.ok(compute.periodic.some((p) => p.kind === 'fanout' && p.method === 'sync_instance_info'));
  assert.deepEqual(s.services.find((x) => x.name === 'nova-conductor')?.topics, ['conductor']);
  assert.deepEqual(s.services.find((x) => x.name === 'nova-scheduler')?.topics, ['scheduler']);
  const boot = s.operations.find((o) => o.name === 'server create')!;
  assert.equal(boot.perMinute, 4);
  assert.equal(boot.hostOf, 'nova-compute');
  assert.equal(boot.steps[0]!.from, 'nova-api');
  assert.equal(boot.steps[0]!.method, 'schedule_and_build_instances');
  const build = boot.steps.find((x) => x.method === 'build_and_run_instance')!;
  assert.equal(build.server, 'op');
  assert.ok(boot.steps.some((x) => x.kind === 'notification' && x.topic === 'versioned_notifications'));
  const sched = s.services.find((x) => x.name === 'nova-scheduler')!;
  assert.ok(sched.methods.select_destinations !== undefined);
});
