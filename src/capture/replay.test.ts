import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureEvent } from '../records.ts';
import { ReplaySource } from './replay.ts';

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
