/**
 * Damaged input: truncated and corrupted real captures, unreadable files, and a bounded seeded
 * fuzz of pcaps and AMQP frame streams. The decoder must keep what is intact, count what it
 * skipped, name the input and byte offset of each problem, and throw nothing but RpcscopeError.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPcapFile } from '../../src/capture/pcap-file.ts';
import { isRpcscopeError, RpcscopeError } from '../../src/errors.ts';
import type { DecodeIssue, WireMessage } from '../../src/records.ts';
import { AmqpConnection } from '../../src/wire/amqp/connection.ts';
import { AmqpFrameStream } from '../../src/wire/amqp/frame-stream.ts';
import { DecodeContext } from '../../src/wire/context.ts';
import { deliver, HEARTBEAT, method, publish } from '../wire/amqp/oracle.ts';
import { rng } from '../wire/amqp/rng.ts';
import { decodeBytes } from './pcap-build.ts';

const fixture = (s: string): Buffer =>
  readFileSync(join(import.meta.dirname, '..', '..', 'data', 'nova-zed', `${s}.pcap`));

function assertIssues(issues: readonly DecodeIssue[], input: string, size: number): void {
  for (const i of issues) {
    assert.equal(i.input, input);
    assert.ok(
      typeof i.offset === 'number' && Number.isInteger(i.offset) && i.offset >= 0 && i.offset <= size,
      `offset ${i.offset}`,
    );
    assert.ok(i.message.length > 0);
  }
}

const sig = (m: WireMessage): string =>
  `${m.connection?.id}|${m.channel}|${m.event}|${m.routingKey}|${Buffer.from(m.body).toString('base64')}`;

test('a capture truncated mid-record: every message completed before the cut, one truncated record counted', () => {
  const full = fixture('boot');
  const all = decodeBytes(full, { input: 'boot.pcap' });
  for (const cut of [Math.floor(full.length / 3), Math.floor(full.length / 2) + 7, full.length - 5]) {
    const { messages, result } = decodeBytes(full.subarray(0, cut), { input: 'boot.pcap' });
    assert.ok(messages.length > 0 && messages.length <= all.messages.length);
    // a prefix of the full decode, message for message
    assert.deepEqual(messages.map(sig), all.messages.slice(0, messages.length).map(sig));
    assert.equal(result.skipped.records, 1);
    assert.equal(result.skipped.frames, 0);
    assert.ok(result.skipped.bytes > 0);
    assertIssues(result.skipped.issues, 'boot.pcap', cut);
    assert.match(result.skipped.issues.at(-1)!.message, /truncated record/);
  }
});

test('corrupted bytes in the middle: messages before and after the damage decode, the damage is counted with its offset', () => {
  const full = fixture('boot');
  const all = decodeBytes(full, { input: 'boot.pcap' });
  const bad = Buffer.from(full);
  const at = Math.floor(full.length / 2);
  for (let i = 0; i < 64; i++) bad[at + i] = (i * 73 + 0x5a) & 255;
  const { messages, result } = decodeBytes(bad, { input: 'boot.pcap', chunk: 65536 });
  assert.ok(result.skipped.bytes > 0);
  assert.ok(result.skipped.issues.length > 0);
  assertIssues(result.skipped.issues, 'boot.pcap', bad.length);
  assert.ok(
    result.skipped.issues.some((i) => i.offset! >= at - 70000 && i.offset! <= at + 70000),
    'an issue points near the damage',
  );
  // most messages survive: at most the few touching the damaged record are lost
  assert.ok(messages.length >= all.messages.length - 3, `${messages.length} of ${all.messages.length}`);
  const got = new Set(messages.map(sig));
  assert.ok(
    got.has(sig(all.messages[0]!)) && got.has(sig(all.messages.at(-1)!)),
    'first and last message kept',
  );
});

test('a record header with an impossible length: resynchronised on the next record', () => {
  const full = fixture('stop');
  const all = decodeBytes(full);
  const bad = Buffer.from(full);
  // find the 100th record header and give it an absurd captured length
  let p = 24;
  for (let i = 0; i < 100; i++) p += 16 + bad.readUInt32LE(p + 8);
  bad.writeUInt32LE(0x7fffffff, p + 8);
  const { messages, result } = decodeBytes(bad, { input: 'stop.pcap', chunk: 4096 });
  assert.equal(result.skipped.records, 1);
  assert.equal(result.skipped.issues[0]!.offset, p);
  assert.match(result.skipped.issues[1]!.message, /resumed/);
  assert.ok(messages.length >= all.messages.length - 2);
});

test('readPcapFile: missing file, a directory, and a file that is not a capture are RpcscopeErrors naming it', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'rpcscope-wire-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const sink = { event: () => undefined };
  await assert.rejects(readPcapFile(join(d, 'nope.pcap'), sink), (e: unknown) => {
    assert.ok(e instanceof RpcscopeError);
    assert.equal(e.code, 'RPCSCOPE_INPUT_NOT_FOUND');
    assert.match(e.message, /nope\.pcap/);
    return true;
  });
  await assert.rejects(
    readPcapFile(d, sink),
    (e: unknown) => isRpcscopeError(e) && e.code === 'RPCSCOPE_INPUT_NOT_FOUND',
  );
  const txt = join(d, 'log.json');
  writeFileSync(txt, '{"type":"published","payload":"e30="}\n'.repeat(3));
  await assert.rejects(readPcapFile(txt, sink), (e: unknown) => {
    assert.ok(e instanceof RpcscopeError);
    assert.equal(e.code, 'RPCSCOPE_INPUT_FORMAT');
    assert.equal(e.context.input, txt);
    assert.match(e.where(), /log\.json@0/);
    return true;
  });
  const good = join(d, 'stop.pcap');
  writeFileSync(good, fixture('stop'));
  const progress: number[] = [];
  const r = await readPcapFile(good, sink, {
    onProgress: (done, total) => {
      progress.push(done / total);
    },
  });
  assert.equal(progress.at(-1), 1);
  assert.equal(r.bytes, fixture('stop').length);
});

test('fuzz: 300 mutated pcaps (seeded) — only RpcscopeError, every issue names the input and an offset', () => {
  const base = fixture('stop');
  const r = rng(20261126);
  let decoded = 0;
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(base);
    const kind = i % 5;
    let data: Buffer = b;
    if (kind === 0)
      for (let k = 0; k < 1 + Math.floor(r() * 40); k++)
        b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    else if (kind === 1) {
      const at = Math.floor(r() * b.length);
      b.fill(Math.floor(r() * 256), at, at + Math.floor(r() * 3000));
    } else if (kind === 2) data = b.subarray(0, Math.floor(r() * b.length));
    else if (kind === 3) {
      const a = Math.floor(r() * b.length);
      const n = Math.floor(r() * 5000);
      data = Buffer.concat([b.subarray(0, a), b.subarray(a + n)]); // bytes deleted
    } else {
      const a = Math.floor(r() * b.length);
      const n = Math.floor(r() * 5000);
      data = Buffer.concat([b.subarray(0, a), b.subarray(a - Math.min(a, n), a), b.subarray(a)]); // bytes duplicated
    }
    const chunk = 1 + Math.floor(r() * 70000);
    try {
      const { result } = decodeBytes(data, { input: `fuzz-${i}.pcap`, chunk });
      assertIssues(result.skipped.issues, `fuzz-${i}.pcap`, data.length);
      assert.ok(result.skipped.issues.length <= 20);
      decoded++;
    } catch (e) {
      assert.ok(isRpcscopeError(e), `mutation ${i} (kind ${kind}) threw ${String(e)}`);
      assert.equal(e.code, 'RPCSCOPE_INPUT_FORMAT');
    }
  }
  assert.ok(decoded > 250);
});

test('fuzz: 300 mutated AMQP frame streams (seeded) — nothing thrown, problems counted with offsets', () => {
  const r = rng(5672);
  const frames = [
    method('BasicConsume', 1, { queue: 'q', consumerTag: 't' }),
    method('QueueDeclare', 1, {
      queue: 'reply_x',
      arguments: { 'x-expires': 1800000, nested: { a: [1, 'b', null] } },
    }),
    publish(1, 'nova', 'compute.h1', Buffer.from('{"oslo.version": "2.0"}'), {
      headers: { a: 1 },
      expiration: '60000',
    }),
    deliver(2, 't', 7, 'nova', 'q', Buffer.alloc(3000, 0x41), { contentType: 'application/json' }),
    HEARTBEAT,
    publish(3, '', 'reply_x', Buffer.alloc(70000, 0x42), {}, 4096),
  ];
  const clean = Buffer.concat(Array.from({ length: 10 }, (_, i) => frames[i % frames.length]!));
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(clean);
    for (let k = 0; k < 1 + Math.floor(r() * 20); k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    const data = i % 3 === 0 ? b.subarray(Math.floor(r() * 500)) : b;
    const msgs: WireMessage[] = [];
    const ctx = new DecodeContext(`frames-${i}`, {
      event: (e) => e.type === 'message' && msgs.push(e.message),
    });
    const conn = new AmqpConnection(ctx, { id: 'a -> b', client: 'a', server: 'b' });
    const s = new AmqpFrameStream(ctx, conn, i % 2, i % 3 !== 0);
    const step = 1 + Math.floor(r() * 9000);
    for (let p = 0; p < data.length; p += step) s.push(data, p, Math.min(p + step, data.length), p, 1000 + p);
    s.end(0);
    assertIssues(ctx.skipped.issues, `frames-${i}`, 1000 + data.length);
    for (const m of msgs) assert.equal(m.body.length, m.bodySize);
  }
});
