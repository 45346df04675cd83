import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isRpcscopeError } from '../errors.ts';
import { hostName, parseScenario, scenarioJsonSchema, withCounts } from './scenario.ts';

const good = `version: 1
name: t
oslo:
  controlExchange: nova
services:
  - name: nova-compute
    count: 3
    host: "cmp-{i:3}"
    topics: [compute]
    scalable: true
    periodic:
      - { kind: call, topic: conductor, method: object_action, object: Service.save, periodS: 10 }
  - name: nova-conductor
    topics: [conductor]
operations:
  - name: boot
    perMinute: 2
    steps:
      - { from: nova-compute, kind: cast, topic: conductor, method: build }
`;

test('a valid scenario parses with defaults', () => {
  const s = parseScenario(good);
  assert.equal(s.oslo.controlExchange, 'nova');
  assert.equal(s.oslo.rpcResponseTimeoutS, 60);
  assert.equal(s.services[0]!.periodic[0]!.jitter, 0);
  assert.equal(s.services[1]!.count, 1);
  assert.equal(withCounts(s, 50).services[0]!.count, 50);
  assert.equal(withCounts(s, 50).services[1]!.count, 1);
  assert.equal(hostName('cmp-{i:3}', 'x', 7), 'cmp-007');
  assert.equal(hostName('{name}-{i}', 'x', 7), 'x-7');
});

function errorOf(text: string) {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (e) {
    if (isRpcscopeError(e)) return e;
    throw e;
  }
  assert.fail('expected an error');
}

test('a wrong value points at its line and column', () => {
  const e = errorOf(good.replace('periodS: 10', 'periodS: -1'));
  assert.equal(e.code, 'RPCSCOPE_SCENARIO_INVALID');
  assert.equal(e.context.line, 12);
  assert.match(e.where(), /^bad\.yaml:12:\d+: services\.0\.periodic\.0\.periodS: /);
});

test('an unknown key points at the map holding it', () => {
  const e = errorOf(good.replace('    count: 3', '    count: 3\n    cuont: 4'));
  assert.equal(e.context.line, 6);
  assert.match(e.message, /cuont/);
});

test('an unknown service in a step points at the step', () => {
  const e = errorOf(good.replace('from: nova-compute', 'from: nova-api'));
  assert.equal(e.context.line, 19);
  assert.match(e.message, /unknown service "nova-api"/);
});

test('YAML syntax errors carry a position', () => {
  const e = errorOf('version: 1\nservices: [\n');
  assert.ok(e.context.line !== undefined && e.context.line >= 2);
});

test('schema/scenario.schema.json is the exported schema', () => {
  const onDisk = JSON.parse(
    readFileSync(new URL('../../schema/scenario.schema.json', import.meta.url), 'utf8'),
  );
  assert.deepEqual(onDisk, scenarioJsonSchema());
});
