/**
 * The CI fuzz run: fixed seeds and counts (no time bound), every input format. Nothing but a
 * coded RpcscopeError may escape; planted damage that a decoder must notice is counted; the
 * messages before and after a damaged line or record survive it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FORMATS, fuzzRange, loadCorpus, newSummary, runInput } from './harness.ts';

const PER_FORMAT = 4000;

for (const format of FORMATS) {
  test(`fuzz ${format}: ${PER_FORMAT} seeded mutations, no crash, certain damage counted`, () => {
    const s = newSummary();
    fuzzRange(format, 20261126, 0, PER_FORMAT, s);
    assert.deepEqual(
      s.crashes.map((c) => `${c.format} #${c.index} ${c.kind}: ${c.error}`),
      [],
    );
    assert.deepEqual(s.undetected, []);
    assert.equal(s.inputs, PER_FORMAT);
    if (format !== 'scenario' && format !== 'chaos') {
      assert.ok(s.withSkips > PER_FORMAT / 10, `${s.withSkips} inputs counted damage`);
      assert.ok(s.decodedMessages > PER_FORMAT, `${s.decodedMessages} messages decoded`);
    } else assert.ok(s.rejected > PER_FORMAT / 10, `${s.rejected} rejected with a located error`);
  });
}

for (const format of ['tracing', 'firehose'] as const) {
  test(`${format}: a garbage line, a 70 kB line and a ts of 1e300 in the middle lose only themselves`, () => {
    const c = loadCorpus();
    const lines = (format === 'tracing' ? c.tracing : c.firehose)[0]!.slice(0, 40);
    const clean = runInput(format, Buffer.from(lines.join('\n')));
    const bad = [...lines];
    const tsLine =
      format === 'firehose'
        ? bad[20]!.replace(/"ts":\s*[0-9.e+-]+/, '"ts": 1e300')
        : bad[20]!.replace(/"timestamp":\s*"[^"]*"/, '"timestamp": "+275760-09-13T00:00:00.001Z"');
    assert.notEqual(tsLine, bad[20]);
    bad[20] = tsLine;
    bad.splice(10, 0, '{"not": "closed"');
    bad.splice(30, 0, `{"payload":"${'Q'.repeat(70000)}"}`);
    const o = runInput(format, Buffer.from(bad.join('\n')));
    assert.equal(o.result!.skipped.records, 3);
    assert.deepEqual(
      o.result!.skipped.issues.map((i) => i.line),
      [11, 22, 31],
    );
    assert.equal(o.messages.length, clean.messages.length - 1);
    assert.equal(o.messages[0]!.ts, clean.messages[0]!.ts);
    assert.equal(o.messages.at(-1)!.ts, clean.messages.at(-1)!.ts);
  });
}
