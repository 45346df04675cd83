/**
 * JSON outputs against their JSON Schemas (schema/*.schema.json): the committed schemas are what
 * scripts/gen-schemas.ts generates from the types today, and real outputs of the commands validate
 * against them with ajv (strict draft-07).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { SCHEMA_KINDS, schemaText } from '../../scripts/gen-schemas.ts';
import { JSON_KINDS, type JsonKind } from '../../src/cli/json.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/rpcscope.js');
const FIX = join(ROOT, 'data/nova-zed');
const NEUTRON = join(ROOT, 'test/fixtures/neutron-rig');

function rpcscope(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function validator(kind: JsonKind) {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', `${kind}.schema.json`), 'utf8')) as object;
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

function assertValid(kind: JsonKind, doc: unknown): void {
  const validate = validator(kind);
  const ok = validate(doc);
  assert.ok(ok, `${kind}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
}

test('the committed schemas are what the types generate (run npx tsx scripts/gen-schemas.ts)', () => {
  for (const kind of SCHEMA_KINDS) {
    const committed = readFileSync(join(ROOT, 'schema', `${kind}.schema.json`), 'utf8');
    assert.equal(committed, schemaText(kind), `schema/${kind}.schema.json is out of date`);
  }
});

test('report --json of every bundled capture validates against schema/report.schema.json', () => {
  for (const f of ['boot.pcap', 'stop.tracing.json', 'boot.firehose.jsonl']) {
    const r = rpcscope(['report', '--json', join(FIX, f)]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { schema: string };
    assert.equal(doc.schema, JSON_KINDS.report);
    assertValid('report', doc);
  }
});

test('a document missing a required field or with another version fails validation', () => {
  const r = rpcscope(['report', '--json', join(FIX, 'stop.tracing.json')]);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  const validate = validator('report');
  assert.equal(validate({ ...doc, schema: 'rpcscope.report/2' }), false);
  const { messages: _, ...noMessages } = doc;
  assert.equal(validate(noMessages), false);
  assert.equal(validate({ ...doc, messages: 'many' }), false);
});

test('spec --json and spec -o x.json validate against schema/spec.schema.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-schema-'));
  try {
    const r = rpcscope(['spec', '--json', join(FIX, 'boot.tracing.json')]);
    assert.equal(r.code, 0, r.stderr);
    assertValid('spec', JSON.parse(r.stdout));
    const out = join(dir, 'spec.json');
    const w = rpcscope(['spec', join(FIX, 'boot.pcap'), '-o', out]);
    assert.equal(w.code, 0, w.stderr);
    const doc = JSON.parse(await readFile(out, 'utf8')) as { schema: string };
    assert.equal(doc.schema, JSON_KINDS.spec);
    assertValid('spec', doc);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('report -o writes the same document as stdout', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-schema-'));
  try {
    const out = join(dir, 'r.json');
    const w = rpcscope(['report', '--json', '-o', out, join(FIX, 'stop.tracing.json')]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, '');
    const r = rpcscope(['report', '--json', join(FIX, 'stop.tracing.json')]);
    assert.equal(await readFile(out, 'utf8'), r.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('footprint --json validates against schema/footprint.schema.json', () => {
  const r = rpcscope([
    'footprint',
    '--json',
    join(NEUTRON, 'idle.meta.json'),
    join(NEUTRON, 'port-create.meta.json'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { schema: string; processes: { input: string; service: string }[] };
  assert.equal(doc.schema, JSON_KINDS.footprint);
  assert.ok(doc.processes.some((p) => p.service === 'neutron-openvswitch-agent'));
  assert.deepEqual(
    [...new Set(doc.processes.map((p) => p.input))],
    [join(NEUTRON, 'idle.meta.json'), join(NEUTRON, 'port-create.meta.json')],
  );
  assertValid('footprint', doc);
  const validate = validator('footprint');
  const [first, ...rest] = doc.processes;
  const { queues: _, ...noQueues } = first as Record<string, unknown>;
  assert.equal(validate({ ...doc, processes: [noQueues, ...rest] }), false);
});

// A one-node cluster of our own (network namespaces, as chaos always runs), two services, a memory
// alarm of 2 s: the smallest real run whose result has a fault record, a ledger and a timeline.
const CHAOS_SCENARIO = `
version: 1
name: schema-chaos
oslo:
  controlExchange: schema
  rpcResponseTimeoutS: 2
services:
  - name: rpc-server
    topics: [schema_topic]
    fanout: false
    serve: { delayMs: 1, replyBytes: 100 }
  - name: rpc-client
    periodic:
      - { kind: cast, topic: schema_topic, method: cast_test, periodS: 0.2, bytes: 200 }
      - { kind: call, topic: schema_topic, method: call_test, periodS: 0.2, bytes: 200 }
chaos:
  duration: 6s
  drain: 3s
  cluster: { nodes: 1 }
  faults:
    - { action: memory-alarm, node: 1, at: 2s, for: 2s }
`;

test('chaos --json of a real run validates against schema/chaos.schema.json', {
  timeout: 300_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-schema-'));
  try {
    const file = join(dir, 'chaos.yaml');
    await writeFile(file, CHAOS_SCENARIO);
    const r = rpcscope(['chaos', file, '--json', '-o', join(dir, 'out')]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      schema: string;
      results: { queues: string; faults: { fault: { action: string }; appliedS?: number }[] }[];
    };
    assert.equal(doc.schema, JSON_KINDS.chaos);
    assert.equal(doc.results.length, 1);
    const run = doc.results[0]!;
    assert.equal(run.queues, 'classic');
    assert.equal(run.faults[0]?.fault.action, 'memory-alarm');
    assert.ok(run.faults[0]?.appliedS !== undefined, 'the fault was applied');
    assertValid('chaos', doc);
    // the fault part of the schema is real: an unknown action or a missing field fails
    const validate = validator('chaos');
    const withFault = (fault: object) => ({
      ...doc,
      results: [{ ...run, faults: [{ ...run.faults[0], fault }] }],
    });
    assert.equal(validate(withFault({ ...run.faults[0]!.fault, action: 'meteor' })), false);
    const { node: _, ...noNode } = run.faults[0]!.fault as Record<string, unknown>;
    assert.equal(validate(withFault(noNode)), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
