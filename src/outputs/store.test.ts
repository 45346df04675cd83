import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadCaptures } from '../pipeline/load.ts';
import { EventStore, exportParquet, readStore } from './store.ts';

const FIXTURE = 'data/nova-zed/boot.firehose.jsonl';
const normal = (x: unknown) => JSON.parse(JSON.stringify(x));

test('a capture written to the store reads back as the same messages and calls; parquet export', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = await loadCaptures([FIXTURE]);
  assert.ok(loaded.messages.length > 50);
  const path = join(dir, 'events.duckdb');
  const store = await EventStore.open({ path, flushRows: 7 });
  for (const m of loaded.messages) store.message(m);
  for (const c of loaded.calls) store.call(c);
  await store.close();
  await store.close(); // idempotent
  assert.equal(store.messagesWritten, loaded.messages.length);

  const back = await readStore(path);
  assert.equal(back.messages.length, loaded.messages.length);
  assert.deepEqual(
    back.messages.map((m) => normal(m)),
    [...loaded.messages]
      .sort((a, b) => a.wire.ts - b.wire.ts || a.wire.seq - b.wire.seq)
      .map((m) => normal(m)),
  );
  const outcomes = (cs: readonly { outcome: string }[]) =>
    cs
      .map((c) => c.outcome)
      .sort()
      .join(',');
  assert.equal(back.calls.length, loaded.calls.length);
  assert.equal(outcomes(back.calls), outcomes(loaded.calls));
  assert.doesNotMatch(JSON.stringify(back.messages), /"auth_token":"(?!\*\*\*)[^"]+"/);

  const out = join(dir, 'pq');
  const res = await exportParquet(path, out);
  assert.equal(res.messages, loaded.messages.length);
  assert.equal(res.calls, loaded.calls.length);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const r = await conn.runAndReadAll(
    `SELECT kind, count(*) AS n FROM read_parquet('${join(out, 'messages.parquet')}') GROUP BY kind ORDER BY kind`,
  );
  const byKind = Object.fromEntries(r.getRowObjects().map((o) => [String(o.kind), Number(o.n)]));
  const want: Record<string, number> = {};
  for (const m of loaded.messages) want[m.kind] = (want[m.kind] ?? 0) + 1;
  assert.deepEqual(byKind, want);
  conn.closeSync();
  db.closeSync();

  const window = await readStore(path, { sinceMs: back.startMs + 1000, untilMs: back.startMs + 3000 });
  assert.ok(
    window.messages.every((m) => m.wire.ts >= back.startMs + 1000 && m.wire.ts < back.startMs + 3000),
  );
  assert.ok(window.messages.length < back.messages.length);
});

test('retention by age and by rows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = await loadCaptures([FIXTURE]);
  const msgs = [...loaded.messages].sort((a, b) => a.wire.ts - b.wire.ts || a.wire.seq - b.wire.seq);
  const last = msgs.at(-1)!.wire.ts;
  const path = join(dir, 'r.duckdb');
  const store = await EventStore.open({ path, retention: { maxAgeMs: 5000, maxRows: 20 }, now: () => last });
  for (const m of msgs) store.message(m);
  const deleted = await store.enforceRetention();
  await store.close();
  const back = await readStore(path);
  const young = msgs.filter((m) => m.wire.ts >= last - 5000);
  assert.equal(back.messages.length, Math.min(20, young.length));
  assert.equal(deleted, msgs.length - back.messages.length);
  assert.deepEqual(normal(back.messages.at(-1)), normal(msgs.at(-1)));
});

test('readStore on a missing table says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // a DuckDB file without rpcscope's tables (a missing file is another case, below)
  const empty = await DuckDBInstance.create(join(dir, 'empty.duckdb'));
  empty.closeSync();
  await assert.rejects(readStore(join(dir, 'empty.duckdb')), { code: 'RPCSCOPE_STORE' });
});

test('reading or exporting a missing store says so and creates nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nosuch.duckdb');
  await assert.rejects(readStore(path), { code: 'RPCSCOPE_INPUT_NOT_FOUND' });
  await assert.rejects(exportParquet(path, join(dir, 'pq')), { code: 'RPCSCOPE_INPUT_NOT_FOUND' });
  assert.deepEqual(readdirSync(dir), []);
});

test('retention by size drops the oldest fifth when the file is over the limit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = await loadCaptures([FIXTURE]);
  const path = join(dir, 's.duckdb');
  const store = await EventStore.open({ path, retention: { maxBytes: 1 } });
  for (const m of loaded.messages) store.message(m);
  await store.flush();
  assert.ok(store.fileBytes() > 1);
  const deleted = await store.enforceRetention();
  await store.close();
  const back = await readStore(path);
  assert.ok(deleted >= Math.floor(loaded.messages.length * 0.2), `deleted ${deleted}`);
  assert.equal(back.messages.length, loaded.messages.length - deleted);
  const minTs = Math.min(...back.messages.map((m) => m.wire.ts));
  const gone = loaded.messages.filter((m) => m.wire.ts < minTs).length;
  assert.equal(gone, deleted, 'the oldest went');
});
