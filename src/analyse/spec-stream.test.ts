import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { specResolver } from '../correlate/spec-services.ts';
import { wireFacts } from '../emulate/model.ts';
import { buildSpec } from './spec.ts';
import { loadSpecInput } from './spec-load.ts';
import { readSpec } from './spec-stream.ts';

const NEUTRON = 'test/fixtures/neutron-rig';
const neutronPcaps = readdirSync(NEUTRON)
  .filter((f) => f.endsWith('.pcap'))
  .map((f) => `${NEUTRON}/${f}`);

// real captures of both projects, single files and sets, pcap and tracing logs: with a window of
// 20 messages and 2 s of quiet they are folded many times, and must give the spec they give whole
const SETS: readonly (readonly string[])[] = [
  ['data/nova-zed/idle.pcap'],
  ['data/nova-zed/boot.pcap', 'data/nova-zed/delete.pcap', 'data/nova-zed/idle.pcap'],
  [
    'data/nova-zed/boot.tracing.json',
    'data/nova-zed/start.tracing.json',
    'data/nova-zed/stop.tracing.json',
    'data/nova-zed/idle.tracing.json',
  ],
  neutronPcaps,
];

for (const files of SETS)
  test(`folded as it streams, ${files.length} capture(s) from ${files[0]} give the spec they give whole`, async () => {
    const folded = await readSpec(files, { holdMessages: 20, quietMs: 2000 });
    assert.ok(folded.folds > 0, 'the captures were folded');
    assert.equal(folded.late, 0);
    const whole = await readSpec(files);
    assert.equal(whole.folds, 0);
    assert.deepEqual(folded.spec, whole.spec);
    assert.equal(folded.messages, whole.messages);
    // and what the records-held-whole API gives
    const loaded = await loadSpecInput(files);
    assert.deepEqual(whole.spec, buildSpec(loaded, { resolve: specResolver(loaded) }));
    assert.deepEqual(whole.wire, wireFacts(loaded.messages));
  });

test('an operation folded before it ended: its later messages are counted late, none is lost', async () => {
  // no quiet time at all: an operation is folded between two of its own messages
  const files = ['data/nova-zed/boot.pcap', 'data/nova-zed/delete.pcap'];
  const hasty = await readSpec(files, { holdMessages: 5, quietMs: 0 });
  const whole = await readSpec(files);
  assert.ok(hasty.late > 0, 'late messages counted');
  const sum = (r: typeof whole): number =>
    r.spec.summary.operationMessages + r.spec.summary.backgroundMessages;
  assert.equal(sum(hasty), sum(whole));
  assert.notDeepEqual(hasty.spec.operations, whole.spec.operations);
});

test('an unreadable file among several: reported, the others folded as if alone', async () => {
  const r = await readSpec(['/no/such.pcap', 'data/nova-zed/boot.pcap'], { holdMessages: 20, quietMs: 2000 });
  const alone = await readSpec(['data/nova-zed/boot.pcap']);
  assert.deepEqual(
    r.failed.map((f) => f.error.code),
    ['RPCSCOPE_INPUT_NOT_FOUND'],
  );
  assert.deepEqual(r.spec, alone.spec);
});
