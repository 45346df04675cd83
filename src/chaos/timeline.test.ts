import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isRpcscopeError } from '../errors.ts';
import { parseChaosScenario } from './load.ts';
import { checkFaults, describeFault, parseDuration, parseFaultFlag } from './timeline.ts';

test('durations', () => {
  assert.equal(parseDuration('20s'), 20);
  assert.equal(parseDuration('500ms'), 0.5);
  assert.equal(parseDuration('2m'), 120);
  assert.equal(parseDuration(3), 3);
  assert.throws(
    () => parseDuration('soon'),
    (e) => isRpcscopeError(e) && e.code === 'RPCSCOPE_BAD_ARGUMENT',
  );
});

test('--fault flags: kill with absolute restart, partition groups, toxics, consumer faults', () => {
  assert.deepEqual(parseFaultFlag('at=20s kill node=2 restart=40s'), {
    at: 20,
    for: 20,
    action: 'kill',
    node: 2,
  });
  assert.deepEqual(parseFaultFlag('at=30s partition groups=1|2,3 for=30s'), {
    at: 30,
    for: 30,
    action: 'partition',
    groups: [[1], [2, 3]],
  });
  const t = parseFaultFlag(
    'at=10s toxic group=nova-compute direction=downstream type=latency latency=500ms jitter=100ms for=20s',
  );
  assert.deepEqual(t, {
    at: 10,
    for: 20,
    action: 'toxic',
    group: 'nova-compute',
    direction: 'downstream',
    toxic: { type: 'latency', latencyMs: 500, jitterMs: 100 },
  });
  assert.equal(describeFault(t), 'toxic latency on nova-compute/downstream');
  const bh = parseFaultFlag('at=1s toxic type=blackhole');
  assert.equal(bh.action === 'toxic' && bh.toxic.type, 'timeout');
  assert.deepEqual(parseFaultFlag('at=5s consumer-slow group=x delay=70s'), {
    at: 5,
    action: 'consumer-slow',
    group: 'x',
    delayMs: 70000,
  });
  const m = parseFaultFlag('at=5s memory-alarm node=1 for=10s');
  assert.equal(m.action === 'memory-alarm' && m.restore, 0.4);
  assert.throws(() => parseFaultFlag('kill node=1'), /at=<time> is required/);
  assert.throws(() => parseFaultFlag('at=1s explode'), /action must be one of/);
  assert.throws(() => parseFaultFlag('at=50s kill node=1 restart=40s'), /end is before the start/);
});

test('checkFaults: nodes and groups must exist; sorted by time', () => {
  const f = [parseFaultFlag('at=9s kill node=1'), parseFaultFlag('at=2s stop node=3')];
  assert.deepEqual(
    checkFaults(f, 3, []).map((x) => x.at),
    [2, 9],
  );
  assert.throws(() => checkFaults([parseFaultFlag('at=1s kill node=4')], 3, []), /names node 4/);
  assert.throws(
    () => checkFaults([parseFaultFlag('at=1s consumer-stall group=nope')], 3, ['a']),
    /service group "nope"/,
  );
});

test('scenario YAML with a chaos: section; errors keep their line numbers', () => {
  for (const f of ['faults-tour.yaml']) {
    const t = parseChaosScenario(readFileSync(new URL(`../../examples/chaos/${f}`, import.meta.url), 'utf8'));
    assert.equal(t.chaos.faults.length, 6);
  }
  const { scenario, chaos } = parseChaosScenario(
    readFileSync(new URL('../../examples/chaos/ha-kill.yaml', import.meta.url), 'utf8'),
  );
  assert.equal(scenario.name, 'ha-failover');
  assert.equal(chaos.duration, 90);
  assert.deepEqual(chaos.faults, [{ at: 30, for: 30, action: 'kill', node: 1 }]);
  const bad =
    'version: 1\nchaos:\n  faults:\n    - { at: 1s, action: kill, node: 1 }\nservices:\n  - name: a\n    bogus: 1\n';
  assert.throws(
    () => parseChaosScenario(bad, 'x.yaml'),
    (e) => isRpcscopeError(e) && e.context.line === 6, // the service entry, as in plain `emulate`
  );
  assert.throws(
    () =>
      parseChaosScenario(
        'version: 1\nchaos:\n  faults: [{ at: 1s, action: nuke }]\nservices: [{ name: a }]\n',
        'y.yaml',
      ),
    (e) => isRpcscopeError(e) && e.code === 'RPCSCOPE_SCENARIO_INVALID' && e.context.line === 2,
  );
});
