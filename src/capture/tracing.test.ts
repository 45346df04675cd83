import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CaptureEvent, WireMessage } from '../records.ts';
import { wireFromFirehose } from '../wire/firehose/record.ts';
import { readFirehoseJsonlFile } from './firehose-jsonl.ts';
import { detectFormat, readCaptureFile } from './open.ts';
import { formatTracingRecord, readTracingFile, wireFromTracingRecord } from './tracing.ts';

const FIX = fileURLToPath(new URL('../../data/nova-zed/', import.meta.url));
const SCENARIOS = ['idle', 'boot', 'stop', 'start', 'delete'];

function collect(): { sink: { event(e: CaptureEvent): void }; msgs: WireMessage[] } {
  const msgs: WireMessage[] = [];
  return { sink: { event: (e) => e.type === 'message' && msgs.push(e.message) }, msgs };
}

test('formatTracingRecord writes exactly the plugin format: every fixture line round-trips byte for byte', async () => {
  for (const s of SCENARIOS) {
    const lines = (await readFile(join(FIX, `${s}.tracing.json`), 'utf8'))
      .split('\n')
      .filter((l) => l !== '');
    assert.ok(lines.length > 0);
    lines.forEach((line, i) => {
      const w = wireFromTracingRecord(JSON.parse(line), i);
      assert.ok(typeof w !== 'string', w as string);
      assert.equal(formatTracingRecord(w), line, `${s}.tracing.json:${i + 1}`);
    });
  }
});

test('a publish whose routing is unknown is written as routed_queues "none" and reads back unknown', () => {
  const w: WireMessage = {
    seq: 0,
    ts: Date.parse('2026-01-02T03:04:05.678Z'),
    source: 'pcap',
    event: 'publish',
    exchange: '',
    routingKey: 'reply_x',
    properties: { contentType: 'application/json', deliveryMode: 2, clusterId: 'c' },
    body: new Uint8Array([123, 125]),
    bodySize: 2,
  };
  const line = formatTracingRecord(w);
  assert.equal(
    line,
    '{"channel":0,"connection":"none","exchange":"","node":"none","payload":"e30=","properties":{"cluster_id":"c","content_type":"application/json","delivery_mode":2},"queue":"none","routed_queues":"none","routing_keys":["reply_x"],"timestamp":"2026-01-02T03:04:05.678+00:00","type":"published","user":"none","vhost":"none"}',
  );
  const back = wireFromTracingRecord(JSON.parse(line), 0);
  assert.ok(typeof back !== 'string');
  assert.equal(back.routedQueues, undefined);
  assert.equal(back.properties.clusterId, 'c');
  assert.throws(() => formatTracingRecord({ ...w, event: 'return' }), { code: 'RPCSCOPE_BAD_ARGUMENT' });
});

test('tracing reader: events, connection, queue, routed queues, timestamps', async () => {
  const { sink, msgs } = collect();
  const r = await readTracingFile(join(FIX, 'boot.tracing.json'), sink);
  assert.equal(r.packets, 74);
  assert.equal(msgs.filter((m) => m.event === 'publish').length, 41);
  assert.equal(msgs.filter((m) => m.event === 'deliver').length, 33);
  const first = msgs[0] as WireMessage;
  assert.equal(first.connection?.id, '127.0.0.1:54838 -> 127.0.0.1:5672');
  assert.equal(first.connection?.client, '127.0.0.1:54838');
  assert.equal(first.connection?.server, '127.0.0.1:5672');
  assert.equal(first.connection?.vhost, 'nova');
  assert.equal(first.connection?.user, 'nova');
  assert.equal(first.node, 'rabbit@vm');
  assert.deepEqual(first.routedQueues, ['conductor']);
  assert.equal(first.properties.expiration, '60000');
  assert.equal(first.ts, Date.parse('2026-11-26T08:25:08.056+00:00'));
  assert.equal(msgs[1]?.queue, 'conductor');
  assert.equal(r.skipped.records, 0);
});

test('bad lines are counted and named file:line, the rest is read', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-tracing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const good = (await readFile(join(FIX, 'stop.tracing.json'), 'utf8')).split('\n').filter((l) => l !== '');
  const path = join(dir, 'damaged.tracing.json');
  await writeFile(
    path,
    [good[0], '{"type":"published"', good[1], '{"type":"weird","payload":""}', '', good[2]].join('\n'),
  );
  const { sink, msgs } = collect();
  const r = await readCaptureFile(path, sink);
  assert.equal(msgs.length, 3);
  assert.equal(r.skipped.records, 2);
  assert.match(r.skipped.issues[0]?.message ?? '', /not JSON/);
  assert.equal(r.skipped.issues[0]?.line, 2);
  assert.equal(r.skipped.issues[1]?.line, 4);
  assert.equal(r.skipped.issues[1]?.input, path);
});

test('firehose JSONL gives the same messages as the tracing log of the same scenario', async () => {
  for (const s of SCENARIOS) {
    const a = collect();
    const b = collect();
    await readCaptureFile(join(FIX, `${s}.tracing.json`), a.sink);
    await readCaptureFile(join(FIX, `${s}.firehose.jsonl`), b.sink);
    assert.equal(a.msgs.length, b.msgs.length, s);
    a.msgs.forEach((x, i) => {
      const y = b.msgs[i] as WireMessage;
      assert.equal(y.source, 'firehose');
      assert.equal(y.event, x.event, `${s} #${i}`);
      assert.equal(y.exchange, x.exchange);
      assert.equal(y.routingKey, x.routingKey);
      assert.equal(y.queue, x.queue);
      assert.deepEqual(y.routedQueues, x.routedQueues);
      assert.deepEqual(y.properties, x.properties);
      assert.equal(y.connection?.id, x.connection?.id);
      assert.ok(Buffer.from(y.body).equals(Buffer.from(x.body)), `${s} #${i} body`);
      assert.ok(Math.abs(y.ts - x.ts) < 1000, 'capture time near the broker time');
    });
  }
});

test('wireFromFirehose takes amqplib-style headers (Buffers) and the trace routing key', () => {
  const w = wireFromFirehose(
    'deliver.compute.host-1.example',
    {
      exchange_name: Buffer.from('nova'),
      routing_keys: [Buffer.from('compute.host-1.example')],
      properties: {
        content_type: Buffer.from('application/json'),
        delivery_mode: 2,
        expiration: Buffer.from('60000'),
        headers: {},
      },
      connection: Buffer.from('10.0.0.5:40000 -> 10.0.0.1:5672'),
      channel: 3,
      user: 'nova',
      vhost: '/',
      node: 'rabbit@a',
      redelivered: 0,
    },
    new Uint8Array([123, 125]),
    1234.5,
    7,
  );
  assert.equal(w.event, 'deliver');
  assert.equal(w.queue, 'compute.host-1.example');
  assert.equal(w.exchange, 'nova');
  assert.equal(w.routingKey, 'compute.host-1.example');
  assert.equal(w.redelivered, false);
  assert.equal(w.properties.expiration, '60000');
  assert.equal(w.properties.contentType, 'application/json');
  assert.equal(w.connection?.client, '10.0.0.5:40000');
  assert.equal(w.channel, 3);
  assert.equal(w.bodySize, 2);
  assert.equal(w.seq, 7);
  const p = wireFromFirehose(
    'publish.',
    { routing_keys: ['reply_x'], routed_queues: [] },
    new Uint8Array(),
    1,
    0,
  );
  assert.equal(p.event, 'publish');
  assert.equal(p.exchange, '');
  assert.deepEqual(p.routedQueues, []);
});

test('format detection by content, and errors naming the file', async (t) => {
  assert.equal(detectFormat(Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0])), 'pcap');
  assert.equal(detectFormat(Buffer.from([0xa1, 0xb2, 0x3c, 0x4d])), 'pcap');
  assert.equal(detectFormat(Buffer.from([0x0a, 0x0d, 0x0d, 0x0a])), 'pcapng');
  assert.equal(detectFormat(await readFile(join(FIX, 'boot.tracing.json'))), 'tracing');
  assert.equal(detectFormat(await readFile(join(FIX, 'boot.firehose.jsonl'))), 'firehose-jsonl');
  // first line cut off before its end (long bodies): decided from the leading keys
  assert.equal(detectFormat(Buffer.from('{"body_json": {"oslo.message": "{')), 'firehose-jsonl');
  assert.equal(
    detectFormat(Buffer.from('{"channel":1,"connection":"a","exchange":"nova","node":"n","payload":"eyJ')),
    'tracing',
  );
  assert.equal(detectFormat(Buffer.from('hello')), undefined);
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-open-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const junk = join(dir, 'junk.txt');
  await writeFile(junk, 'not a capture\n');
  await assert.rejects(
    readCaptureFile(junk, collect().sink),
    (e: Error & { code?: string; context?: { input?: string } }) => {
      assert.equal(e.code, 'RPCSCOPE_INPUT_FORMAT');
      assert.equal(e.context?.input, junk);
      return true;
    },
  );
  await assert.rejects(readCaptureFile(join(dir, 'missing.pcap'), collect().sink), {
    code: 'RPCSCOPE_INPUT_NOT_FOUND',
  });
  const { sink, msgs } = collect();
  const r = await readFirehoseJsonlFile(join(FIX, 'stop.firehose.jsonl'), sink);
  assert.equal(r.packets, 30);
  assert.equal(msgs.length, 30);
});
