import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSpecInput, specInputProblems } from './spec-load.ts';

const GOOD = 'data/nova-zed/boot.pcap';
const dir = mkdtempSync(join(tmpdir(), 'rpcscope-spec-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('one bad file among several: each failure reported, the others used', async () => {
  const garbage = join(dir, 'garbage.pcap');
  writeFileSync(garbage, 'not a capture');
  const alone = await loadSpecInput([GOOD]);
  const l = await loadSpecInput([join(dir, 'missing.pcap'), GOOD, garbage]);
  assert.deepEqual(
    l.failed.map((f) => f.error.code),
    ['RPCSCOPE_INPUT_NOT_FOUND', 'RPCSCOPE_INPUT_FORMAT'],
  );
  assert.deepEqual(l.inputs, [GOOD]);
  assert.equal(l.messages.length, alone.messages.length);
  assert.equal(l.calls.length, alone.calls.length);
  const p = specInputProblems(l);
  assert.equal(p.code, 'RPCSCOPE_INPUT_NOT_FOUND');
  assert.equal(p.lines.length, 2);
  assert.match(p.lines[0] ?? '', /missing\.pcap/);
  assert.equal(specInputProblems(alone).code, undefined);
});

test('damaged input is counted and located, as report does', async () => {
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, readFileSync(GOOD).subarray(0, 300_000));
  const l = await loadSpecInput([cut]);
  assert.ok(l.messages.length > 0);
  assert.ok(l.skipped.bytes > 0);
  const p = specInputProblems(l);
  assert.equal(p.code, 'RPCSCOPE_INPUT_DAMAGED');
  assert.match(p.lines.join('\n'), /cut\.pcap @\d+: /);
});

test('compact records keep the whole context of the first call or cast (the model copies its keys)', async () => {
  const l = await loadSpecInput([GOOD]);
  const first = l.messages.find((m) => (m.kind === 'call' || m.kind === 'cast') && m.exchange !== '');
  assert.ok(first !== undefined && Object.keys(first.context).length > 3);
  assert.ok(l.messages.every((m) => m === first || Object.keys(m.context).length <= 3));
  assert.ok(l.messages.every((m) => Object.keys(m.wire.properties).length === 0));
});
