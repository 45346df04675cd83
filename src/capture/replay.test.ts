import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { amqpOpen, Conversation, writePcap } from '../../test/capture/pcap-build.ts';
import { publish } from '../../test/wire/amqp/oracle.ts';
import type { CaptureEvent } from '../records.ts';
import { REORDER_MAX_EVENTS, REORDER_MS, ReplaySource } from './replay.ts';

const FIXTURE = 'data/nova-zed/stop.firehose.jsonl';

test('replays a recorded capture in time order, paced by the recorded gaps / speed', async () => {
  let now = 1_000_000;
  const waits: number[] = [];
  const got: CaptureEvent[] = [];
  const r = new ReplaySource({
    path: FIXTURE,
    sink: { event: (e) => got.push(e) },
    speed: 4,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  });
  const res = await r.done;
  assert.ok(got.length > 10, `events: ${got.length}`);
  assert.equal(r.stats().received, got.length);
  assert.equal(r.stats().dropped, 0);
  assert.equal(res.skipped.records, 0);
  const ts = got.map((e) => (e.type === 'message' ? e.message.ts : e.topology.ts));
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! >= ts[i - 1]!, 'time order');
  const span = ts.at(-1)! - ts[0]!;
  const waited = waits.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(waited - span / 4) < 2, `waited ${waited} ms for a ${span} ms capture at 4x`);
  // the clock maps wall time back to capture time
  assert.ok(Math.abs(r.clock() - ts.at(-1)!) < 8);
});

test('speed Infinity feeds everything without waiting', async () => {
  let n = 0;
  const r = new ReplaySource({
    path: FIXTURE,
    sink: { event: () => n++ },
    speed: Number.POSITIVE_INFINITY,
    sleep: () => Promise.reject(new Error('must not sleep')),
  });
  await r.done;
  assert.equal(n, r.total);
});

test('a busy capture streams: the reorder window holds at most REORDER_MAX_EVENTS, not all of its 2 s', async () => {
  // 12,000 publishes of 1 KiB within 1.2 s of capture time (three 4 MiB reads): a window bounded by
  // time alone would hold every one of them until the end of the file.
  const n = 12_000;
  const T0 = 1_700_000_000_000;
  const c = amqpOpen(
    new Conversation({
      client: { ip: '10.0.0.7', port: 54838 },
      server: { ip: '10.0.0.1', port: 5672 },
      ts: T0,
    }).handshake(),
  );
  const body = Buffer.alloc(1024, 0x61);
  for (let i = 0; i < n; i++)
    c.send(true, publish(1, 'nova', `topic-${i % 7}`, body), undefined, { ts: T0 + 100 + i / 10 });
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-replay-'));
  try {
    const path = join(dir, 'busy.pcap');
    const bytes = writePcap(c.packets);
    assert.ok(bytes.length > 3 * 4 * 1024 * 1024, `${bytes.length} bytes`);
    writeFileSync(path, bytes);
    let maxHeld = 0;
    let readAtFirst = -1;
    let last = Number.NEGATIVE_INFINITY;
    const r: ReplaySource = new ReplaySource({
      path,
      sink: {
        event: (e) => {
          if (readAtFirst < 0) readAtFirst = r.total;
          maxHeld = Math.max(maxHeld, r.total - r.stats().received);
          const ts = e.type === 'message' ? e.message.ts : e.topology.ts;
          assert.ok(ts >= last, 'time order');
          last = ts;
        },
      },
      speed: Number.POSITIVE_INFINITY,
    });
    await r.done;
    assert.ok(n / 10 < REORDER_MS);
    assert.equal(r.stats().received, r.total);
    assert.ok(r.total >= n, `${r.total} events`);
    // the window plus one read's events (about 3,800 messages of this size), well short of all
    const bound = REORDER_MAX_EVENTS + 4_000;
    assert.ok(bound < n);
    assert.ok(readAtFirst <= bound, `the first event waited for ${readAtFirst} events to be read`);
    assert.ok(maxHeld <= bound, `held ${maxHeld}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
