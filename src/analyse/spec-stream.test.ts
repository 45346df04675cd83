import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { specResolver } from '../correlate/spec-services.ts';
import { wireFacts } from '../emulate/model.ts';
import { renderSpecMarkdown } from '../render/spec-md.ts';
import { SKETCH_ACCURACY } from './distribution.ts';
import { aggregateOperations, buildSpec, type SpecRpc } from './spec.ts';
import { REQUEST_IDS_LISTED } from './spec-aggregate.ts';
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

test('past its bounds the spec holds tables and buckets: counts and sizes stay exact, times within the sketch accuracy', async () => {
  const files = ['data/nova-zed/boot.pcap', 'data/nova-zed/delete.pcap', 'data/nova-zed/idle.pcap'];
  const whole = await readSpec(files);
  assert.equal(whole.spec.statistics, undefined, 'within the bounds: no statistics note');
  assert.equal(whole.statistics.exact, true);
  const bounded = await readSpec(files, {
    holdMessages: 20,
    quietMs: 2000,
    bounds: { exactSamples: 8, backgroundHeld: 10 },
  });
  assert.ok(bounded.statistics.reducedSeries > 0);
  assert.equal(bounded.statistics.backgroundNamedEarly, true);
  assert.deepEqual(bounded.spec.statistics, bounded.statistics);
  // the Markdown says so in its summary; a spec within the bounds does not
  const md = renderSpecMarkdown(bounded.spec);
  assert.match(md, /Background senders were named from what the capture had shown/);
  const bucketed = renderSpecMarkdown({
    ...whole.spec,
    statistics: { exact: false, reducedSeries: 3, bucketedSeries: 2, backgroundNamedEarly: false },
  });
  assert.match(bucketed, /outgrew the exact statistics: the medians of 2 series .* within 0\.1 %/);
  assert.doesNotMatch(bucketed, /were named from what/);
  assert.doesNotMatch(renderSpecMarkdown(whole.spec), /outgrew|were named from what/);
  assert.deepEqual(bounded.spec.summary, whole.spec.summary);
  const near = (a: number | undefined, b: number | undefined, what: string): void => {
    assert.ok(a !== undefined && b !== undefined, what);
    // the sketch's 0.1 %, then round1's 0.05 ms either way
    assert.ok(Math.abs(a - b) <= Math.abs(b) * SKETCH_ACCURACY + 0.1, `${what}: ${a} vs ${b}`);
  };
  for (const [i, o] of whole.spec.operations.entries()) {
    const b = bounded.spec.operations[i];
    assert.equal(b?.name, o.name);
    assert.equal(b?.instances, o.instances);
    assert.deepEqual(b?.messages, o.messages);
    assert.deepEqual(b?.bytes, o.bytes);
    near(b?.durationMs.median, o.durationMs.median, `${o.name} duration`);
    for (const [j, r] of o.rpc.entries()) {
      const x: SpecRpc | undefined = b?.rpc.find(
        (y) =>
          y.kind === r.kind &&
          y.topic === r.topic &&
          y.method === r.method &&
          y.from === r.from &&
          y.to === r.to &&
          y.object === r.object &&
          y.eventType === r.eventType,
      );
      assert.ok(x !== undefined, `${o.name} row ${j}`);
      assert.deepEqual(x.count, r.count);
      assert.deepEqual(x.bytes, r.bytes);
      if (r.latencyMs !== undefined)
        near(x.latencyMs?.median, r.latencyMs.median, `${o.name} row ${j} latency`);
      near(x.firstOffsetMs, r.firstOffsetMs, `${o.name} row ${j} offset`);
    }
  }
  // the background's senders were named early (what the resolver knew then): the same series
  const series = (sp: typeof whole.spec): string[] =>
    [
      ...new Set(
        sp.background.flatMap((b) =>
          b.periodic.map((p) => `${p.kind} ${p.topic} ${p.method ?? p.eventType}`),
        ),
      ),
    ].sort();
  assert.deepEqual(series(bounded.spec), series(whole.spec));
});

test('a kind lists its first 1000 request ids and counts the others', async () => {
  const one = (await readSpec(['data/nova-zed/boot.pcap'])).spec.operations[0];
  assert.ok(one !== undefined);
  const ops = Array.from({ length: REQUEST_IDS_LISTED + 2 }, (_, i) => ({ ...one.example, id: `req-${i}` }));
  const [kind, ...rest] = aggregateOperations(ops);
  assert.equal(rest.length, 0);
  assert.equal(kind?.instances, REQUEST_IDS_LISTED + 2);
  assert.equal(kind?.requestIds.length, REQUEST_IDS_LISTED);
  assert.equal(kind?.requestIds[0], 'req-0');
  assert.equal(kind?.requestIdsOmitted, 2);
  assert.deepEqual(kind?.rpc, one.rpc);
  assert.deepEqual(kind?.messages, one.messages);
});
