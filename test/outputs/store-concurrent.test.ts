/**
 * The store is readable while a writer is active: other processes (`export`, `report --store`, the
 * duckdb API) open it read-only between the writer's persist rounds. Parquet `ts` is a real
 * TIMESTAMP. pyarrow is not in Debian 12's archive, so the readers here are DuckDB's node API in
 * child processes (a second process is what DuckDB's file lock is about).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { EventStore, exportParquet } from '../../src/outputs/store.ts';
import { loadCaptures } from '../../src/pipeline/load.ts';

const run = promisify(execFile);

/** A reader in another process: read-only count, readStore and a Parquet export. */
async function readInChild(
  path: string,
  out: string,
): Promise<{ raw: number; read: number; exported: number }> {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    import { readStore, exportParquet } from './src/outputs/store.ts';
    const path = ${JSON.stringify(path)};
    const back = await readStore(path);
    const ex = await exportParquet(path, ${JSON.stringify(out)});
    let raw = -1;
    for (let i = 0; i < 100; i++) {
      try {
        const db = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
        const c = await db.connect();
        raw = Number((await c.runAndReadAll('SELECT count(*) AS n FROM messages')).getRowObjects()[0].n);
        c.closeSync(); db.closeSync();
        break;
      } catch (e) { await new Promise((r) => setTimeout(r, 20)); }
    }
    process.stdout.write(JSON.stringify({ raw, read: back.messages.length, exported: ex.messages }));
  `;
  const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: process.cwd(),
  });
  return JSON.parse(r.stdout) as { raw: number; read: number; exported: number };
}

test('readers in other processes read the store while watch writes it; every row lands', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-store-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = await loadCaptures([
    'data/nova-zed/boot.firehose.jsonl',
    'data/nova-zed/idle.firehose.jsonl',
  ]);
  const path = join(dir, 'live.duckdb');
  const store = await EventStore.open({ path, persistEveryMs: 0, flushRows: 5 });
  const msgs = loaded.messages;
  const batches = 6;
  const size = Math.ceil(msgs.length / batches);
  const seen: number[] = [];
  for (let b = 0; b < batches; b++) {
    // the reader starts while this batch is being written and persisted
    const reader = readInChild(path, join(dir, `pq${b}`));
    for (const m of msgs.slice(b * size, (b + 1) * size)) {
      store.message(m);
      await store.flush();
    }
    const r = await reader;
    // three reads one after the other while rows keep landing: each sees at least the one before
    assert.ok(r.exported >= r.read && r.raw >= r.exported, JSON.stringify(r));
    seen.push(r.read);
  }
  for (const c of loaded.calls) store.call(c);
  await store.close();
  assert.ok(seen.at(-1)! > 0, `readers saw rows while writing: ${seen.join(',')}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `monotonic: ${seen.join(',')}`);
  assert.ok(store.lastPersistMs > 0);
  const final = await readInChild(path, join(dir, 'final'));
  assert.equal(final.read, msgs.length);
  assert.equal(final.raw, msgs.length);
  assert.equal(store.rowsPersisted, msgs.length + loaded.calls.length);
});

test('Parquet ts is a TIMESTAMP (UTC instant) with the records’ times', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-store-pq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = await loadCaptures(['data/nova-zed/stop.firehose.jsonl']);
  const path = join(dir, 's.duckdb');
  const store = await EventStore.open({ path });
  for (const m of loaded.messages) store.message(m);
  for (const c of loaded.calls) store.call(c);
  await store.close();
  const out = join(dir, 'pq');
  await exportParquet(path, out);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.after(() => {
    conn.closeSync();
    db.closeSync();
  });
  await conn.run("SET TimeZone = 'Asia/Tokyo'"); // a reader's time zone must not shift the instants
  for (const table of ['messages', 'calls']) {
    const file = join(out, `${table}.parquet`);
    const schema = await conn.runAndReadAll(
      `SELECT type, logical_type FROM parquet_schema('${file}') WHERE name = 'ts'`,
    );
    const s = schema.getRowObjects()[0];
    assert.equal(s?.type, 'INT64');
    assert.match(
      String(s?.logical_type),
      /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=<null>, MICROS=MicroSeconds\(\)/,
    );
    const r = await conn.runAndReadAll(
      `SELECT typeof(ts) AS t, epoch_ms(min(ts)) AS lo, epoch_ms(max(ts)) AS hi FROM read_parquet('${file}') GROUP BY 1`,
    );
    const o = r.getRowObjects()[0];
    assert.equal(o?.t, 'TIMESTAMP WITH TIME ZONE');
    const ts = loaded.messages.map((m) => m.wire.ts);
    if (table === 'messages') {
      assert.equal(Number(o?.lo), Math.floor(Math.min(...ts)));
      assert.equal(Number(o?.hi), Math.floor(Math.max(...ts)));
    }
  }
});
