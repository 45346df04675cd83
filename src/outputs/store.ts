/**
 * The event store: decoded RPC messages and finished calls in an embedded DuckDB file
 * (`watch --store PATH`), with retention by age or row count, Parquet export for other engines
 * (ClickHouse, Trino, Spark read it), and a reader that gives report/spec their records back.
 *
 * Each message row keeps the whole redacted RpcMessage as JSON (`record`) beside typed columns
 * for queries, so `readStore` returns exactly what was decoded. Calls come joined from the
 * pipeline (the store is one of its RecordSinks); reading back re-joins them through the pipeline
 * too (`joinCalls`). Bodies never reach the store: the decoder drops them and redacts the context
 * (src/wire/oslo/redact.ts). Counts come back as bigint.
 *
 * Readable while `watch` writes it: DuckDB lets one process hold a database file for writing and
 * no other process open it meanwhile, not even read-only. So the writer does not hold the file:
 * rows are appended to an in-memory DuckDB, and every `persistEveryMs` (default 1 s) the file is
 * attached, the new rows inserted, the transaction checkpointed and the file detached again; in
 * between, `export`, `report --store` or the `duckdb` CLI open it read-only. When a reader holds the
 * file at that moment the rows wait in memory for the next round (`persistDeferred` counts those);
 * readers retry briefly when they meet the writer inside its attach. Measured on the nova fixtures:
 * see docs/watch.md ("The store").
 */
import { existsSync, statSync } from 'node:fs';
import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { RpcscopeError } from '../errors.ts';
import { joinCalls } from '../pipeline/load.ts';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall, RpcMessage } from '../records.ts';

const MESSAGE_COLUMNS = `
  ts DOUBLE NOT NULL,
  seq BIGINT NOT NULL,
  source VARCHAR NOT NULL,
  event VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  exchange VARCHAR,
  routing_key VARCHAR,
  queue VARCHAR,
  topic VARCHAR,
  server VARCHAR,
  method VARCHAR,
  object VARCHAR,
  namespace VARCHAR,
  version VARCHAR,
  msg_id VARCHAR,
  request_id VARCHAR,
  global_request_id VARCHAR,
  event_type VARCHAR,
  priority VARCHAR,
  failure_class VARCHAR,
  reply_code INTEGER,
  connection VARCHAR,
  body_size INTEGER NOT NULL,
  record VARCHAR NOT NULL`;

const CALL_COLUMNS = `
  ts DOUBLE NOT NULL,
  topic VARCHAR,
  server VARCHAR,
  method VARCHAR,
  object VARCHAR,
  msg_id VARCHAR,
  request_id VARCHAR,
  outcome VARCHAR NOT NULL,
  failure_class VARCHAR,
  latency_ms DOUBLE,
  queue_ms DOUBLE,
  server_ms DOUBLE,
  return_ms DOUBLE,
  heartbeats INTEGER NOT NULL`;

export interface Retention {
  /** Delete rows older than this (by record time). */
  readonly maxAgeMs?: number;
  /** Keep at most this many message rows (oldest go first). */
  readonly maxRows?: number;
  /**
   * When the file (with its WAL) is larger than this, the oldest 20 % of rows go. DuckDB reuses the
   * freed blocks, so the file stops growing rather than shrinking.
   */
  readonly maxBytes?: number;
}

export interface StoreOptions {
  readonly path: string;
  readonly retention?: Retention;
  /** Rows buffered before an appender flush. */
  readonly flushRows?: number;
  /** Time of "now" for age retention (tests; replay uses capture time). */
  readonly now?: () => number;
  /** Least time between two writes of the buffered rows into the file (ms, default 1000). */
  readonly persistEveryMs?: number;
}

function storeError(path: string, what: string, cause: unknown): RpcscopeError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RpcscopeError('RPCSCOPE_STORE', `${what}: ${why}`, { cause, context: { input: path } });
}

/** DuckDB's message when another process holds the file ("Could not set lock on file"). */
const isLockConflict = (e: unknown): boolean => /lock/i.test(e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Opens a store file read-only, retrying while the writer has it attached (a persist round takes
 * milliseconds; 5 s of retries cover a writer on a slow disk). A missing store is an input not
 * found, and nothing is created.
 */
async function openReadOnly(path: string): Promise<DuckDBInstance> {
  if (!existsSync(path))
    throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `no store at ${path}`, { context: { input: path } });
  const deadline = Date.now() + 5000;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      return await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    } catch (e) {
      if (!isLockConflict(e) || Date.now() > deadline)
        throw storeError(path, 'cannot open the DuckDB store read-only', e);
      await sleep(wait);
    }
  }
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

const str = (a: DuckDBAppender, v: string | undefined): void => {
  if (v === undefined) a.appendNull();
  else a.appendVarchar(v);
};
const num = (a: DuckDBAppender, v: number | undefined): void => {
  if (v === undefined || !Number.isFinite(v)) a.appendNull();
  else a.appendDouble(v);
};

/** Writes the messages and joined calls a pipeline gives it (a RecordSink). */
export class EventStore implements RecordSink {
  readonly name = 'store';
  messagesWritten = 0;
  callsWritten = 0;
  deleted = 0;
  /** Rows written into the file so far (the rest wait in memory for the next persist). */
  rowsPersisted = 0;
  /** Persist rounds put off because a reader held the file. */
  persistDeferred = 0;
  /** Persist rounds that failed (their rows stay buffered and go in a later round). */
  persistFailures = 0;
  lastError: string | undefined;
  /** Time the last persist round took (ms): attach, insert, checkpoint, detach. */
  lastPersistMs = 0;
  private pending = 0;
  private closed = false;
  private lastPersist = 0;
  /** Persist and retention rounds run one at a time, in order. */
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly opts: StoreOptions,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private messages: DuckDBAppender,
    private calls: DuckDBAppender,
  ) {}

  static async open(opts: StoreOptions): Promise<EventStore> {
    // The file is created (or its schema checked) once, then released.
    await withFile(opts.path, async (conn) => {
      await conn.run(`CREATE TABLE IF NOT EXISTS messages (${MESSAGE_COLUMNS})`);
      await conn.run(`CREATE TABLE IF NOT EXISTS calls (${CALL_COLUMNS})`);
    });
    const instance = await DuckDBInstance.create(':memory:');
    try {
      const conn = await instance.connect();
      await conn.run(`CREATE TABLE messages (${MESSAGE_COLUMNS})`);
      await conn.run(`CREATE TABLE calls (${CALL_COLUMNS})`);
      const m = await conn.createAppender('messages');
      const c = await conn.createAppender('calls');
      return new EventStore(opts, instance, conn, m, c);
    } catch (e) {
      instance.closeSync();
      throw storeError(opts.path, 'cannot prepare the DuckDB store', e);
    }
  }

  message(m: RpcMessage): void {
    if (this.closed) return;
    const a = this.messages;
    const w = m.wire;
    a.appendDouble(w.ts);
    a.appendBigInt(BigInt(w.seq));
    a.appendVarchar(w.source);
    a.appendVarchar(w.event);
    a.appendVarchar(m.kind);
    str(a, m.exchange);
    str(a, w.routingKey);
    str(a, w.queue);
    str(a, m.topic);
    str(a, m.server);
    str(a, m.method);
    str(a, m.object);
    str(a, m.namespace);
    str(a, m.version);
    str(a, m.msgId);
    str(a, m.requestId);
    str(a, m.globalRequestId);
    str(a, m.eventType);
    str(a, m.priority);
    str(a, m.failure?.class);
    if (w.replyCode === undefined) a.appendNull();
    else a.appendInteger(w.replyCode);
    str(a, w.connection?.name ?? w.connection?.id);
    a.appendInteger(m.bodySize);
    a.appendVarchar(JSON.stringify(m));
    a.endRow();
    this.messagesWritten++;
    this.bump();
  }

  call(c: RpcCall): void {
    if (this.closed) return;
    const a = this.calls;
    const m = c.call;
    a.appendDouble(m.wire.ts);
    str(a, m.topic);
    str(a, m.server);
    str(a, m.method);
    str(a, m.object);
    str(a, m.msgId);
    str(a, m.requestId);
    a.appendVarchar(c.outcome);
    str(a, c.reply?.failure?.class);
    num(a, c.latencyMs);
    num(a, c.queueMs);
    num(a, c.serverMs);
    num(a, c.returnMs);
    a.appendInteger(c.heartbeats);
    a.endRow();
    this.callsWritten++;
    this.bump();
  }

  private bump(): void {
    if (++this.pending >= (this.opts.flushRows ?? 2000)) this.flushBuffer();
  }

  /** Appended rows into the in-memory tables (synchronous; the file is written by persist). */
  private flushBuffer(): void {
    if (this.closed || this.pending === 0) return;
    this.messages.flushSync();
    this.calls.flushSync();
    this.pending = 0;
  }

  /**
   * Called each watch tick: buffers rows and, at most every `persistEveryMs`, writes them into the
   * file (in the background, in order). The returned promise settles when that write is done.
   */
  flush(): Promise<void> {
    this.flushBuffer();
    if (this.closed) return Promise.resolve();
    const now = Date.now();
    if (now - this.lastPersist < (this.opts.persistEveryMs ?? 1000)) return Promise.resolve();
    this.lastPersist = now;
    // The watch tick does not await this: a failed round is counted here (its rows stay buffered
    // for the next one) and the error surfaces at close, which persists and rejects.
    return this.persist().catch((e: unknown) => {
      this.persistFailures++;
      this.lastError = e instanceof Error ? e.message : String(e);
    });
  }

  /** Writes every buffered row into the file now (after the rounds already queued). */
  persist(): Promise<void> {
    this.flushBuffer();
    const round = this.chain.then(() => this.persistRound());
    this.chain = round.catch(() => undefined);
    return round;
  }

  private async persistRound(): Promise<void> {
    const t0 = performance.now();
    // Rows up to these rowids go now; rows appended meanwhile wait for the next round.
    const last = await this.conn.runAndReadAll(
      'SELECT (SELECT max(rowid) FROM messages) AS m, (SELECT max(rowid) FROM calls) AS c',
    );
    const row = last.getRowObjects()[0];
    const m = row?.m ?? null;
    const c = row?.c ?? null;
    if (m === null && c === null) return;
    const file = sqlString(this.opts.path);
    try {
      await this.conn.run(`ATTACH ${file} AS store`);
    } catch (e) {
      if (isLockConflict(e)) {
        this.persistDeferred++;
        return;
      }
      throw storeError(this.opts.path, 'cannot write the DuckDB store', e);
    }
    let n = 0;
    try {
      await this.conn.run('BEGIN');
      if (m !== null) {
        const r = await this.conn.run(
          `INSERT INTO store.messages SELECT * FROM messages WHERE rowid <= ${m}`,
        );
        n += Number(r.rowsChanged);
      }
      if (c !== null) {
        const r = await this.conn.run(`INSERT INTO store.calls SELECT * FROM calls WHERE rowid <= ${c}`);
        n += Number(r.rowsChanged);
      }
      await this.conn.run('COMMIT');
      // Readers then open a file without a write-ahead log to replay.
      await this.conn.run('CHECKPOINT store');
    } catch (e) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw storeError(this.opts.path, 'cannot write the DuckDB store', e);
    } finally {
      await this.conn.run('DETACH store');
    }
    if (m !== null) await this.conn.run(`DELETE FROM messages WHERE rowid <= ${m}`);
    if (c !== null) await this.conn.run(`DELETE FROM calls WHERE rowid <= ${c}`);
    this.rowsPersisted += n;
    this.lastPersistMs = performance.now() - t0;
  }

  /** Applies the retention policy to the file; returns the message rows deleted. */
  async enforceRetention(): Promise<number> {
    const r = this.opts.retention;
    if (this.closed || r === undefined) return 0;
    await this.persist();
    const round = this.chain.then(() => this.retentionRound(r));
    this.chain = round.catch(() => undefined);
    const deleted = await round;
    this.deleted += deleted;
    return deleted;
  }

  private async retentionRound(r: Retention): Promise<number> {
    const big = r.maxBytes !== undefined && this.fileBytes() > r.maxBytes;
    if (r.maxAgeMs === undefined && r.maxRows === undefined && !big) return 0;
    try {
      return await withFile(this.opts.path, async (conn) => {
        let deleted = 0;
        const del = async (messagesWhere: string, callsWhere: string) => {
          const res = await conn.run(`DELETE FROM messages WHERE ${messagesWhere}`);
          await conn.run(`DELETE FROM calls WHERE ${callsWhere}`);
          deleted += Number(res.rowsChanged);
        };
        if (r.maxAgeMs !== undefined) {
          const cut = (this.opts.now ?? Date.now)() - r.maxAgeMs;
          await del(`ts < ${cut}`, `ts < ${cut}`);
        }
        if (r.maxRows !== undefined) {
          const reader = await conn.runAndReadAll('SELECT count(*) AS n FROM messages');
          const n = Number(reader.getRowObjects()[0]?.n ?? 0n);
          if (n > r.maxRows) {
            const q = await conn.runAndReadAll(
              `SELECT ts FROM messages ORDER BY ts DESC, seq DESC LIMIT 1 OFFSET ${r.maxRows - 1}`,
            );
            const cut = Number(q.getRowObjects()[0]?.ts ?? 0);
            // Ties at the cut keep the newest maxRows rows by (ts, seq).
            await del(
              `(ts, seq) NOT IN (SELECT ts, seq FROM messages ORDER BY ts DESC, seq DESC LIMIT ${r.maxRows})`,
              `ts < ${cut}`,
            );
          }
        }
        if (big) {
          const q = await conn.runAndReadAll('SELECT quantile_disc(ts, 0.2) AS cut FROM messages');
          const cut = Number(q.getRowObjects()[0]?.cut ?? Number.NaN);
          if (Number.isFinite(cut)) await del(`ts <= ${cut}`, `ts <= ${cut}`);
        }
        await conn.run('CHECKPOINT');
        return deleted;
      });
    } catch (e) {
      // A reader holds the file: retention runs at the next round.
      if (e instanceof RpcscopeError && isLockConflict(e.cause)) return 0;
      throw e;
    }
  }

  /** Size of the store on disk: the database file and its write-ahead log. */
  fileBytes(): number {
    let n = 0;
    for (const f of [this.opts.path, `${this.opts.path}.wal`]) {
      try {
        n += statSync(f).size;
      } catch {
        // no WAL yet
      }
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Every row reaches the file; a reader holding it delays close by at most its own retries.
    for (let i = 0; i < 50; i++) {
      const deferred = this.persistDeferred;
      await this.persist();
      const left = await this.conn.runAndReadAll(
        'SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM calls) AS n',
      );
      if (Number(left.getRowObjects()[0]?.n ?? 0n) === 0) break;
      if (this.persistDeferred > deferred) await sleep(100);
    }
    this.closed = true;
    this.messages.closeSync();
    this.calls.closeSync();
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** Opens the file for writing for one short round, then releases it (see the module comment). */
async function withFile<T>(path: string, f: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path);
  } catch (e) {
    throw storeError(path, 'cannot open the DuckDB store (a reader or another rpcscope holding it?)', e);
  }
  try {
    const conn = await instance.connect();
    try {
      return await f(conn);
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

export interface ReadStoreOptions {
  /** Only records at or after / before these times (epoch ms). */
  readonly sinceMs?: number;
  readonly untilMs?: number;
}

export interface StoredRecords {
  readonly messages: RpcMessage[];
  /** Calls re-joined from the stored messages (through the pipeline, as the capture readers). */
  readonly calls: RpcCall[];
  readonly startMs: number;
  readonly endMs: number;
}

/** Reads the stored messages back (in time order) and re-joins calls, for report and spec. */
export async function readStore(path: string, opts: ReadStoreOptions = {}): Promise<StoredRecords> {
  const instance = await openReadOnly(path);
  try {
    const conn = await instance.connect();
    const where: string[] = [];
    if (opts.sinceMs !== undefined) where.push(`ts >= ${Number(opts.sinceMs)}`);
    if (opts.untilMs !== undefined) where.push(`ts < ${Number(opts.untilMs)}`);
    let reader: Awaited<ReturnType<DuckDBConnection['runAndReadAll']>>;
    try {
      reader = await conn.runAndReadAll(
        `SELECT record FROM messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts, seq`,
      );
    } catch (e) {
      throw storeError(path, 'not an rpcscope store (no messages table)', e);
    }
    const messages: RpcMessage[] = [];
    for (const row of reader.getColumns()[0] ?? []) messages.push(JSON.parse(String(row)) as RpcMessage);
    const calls = joinCalls(messages);
    const startMs = messages[0]?.wire.ts ?? 0;
    const endMs = messages.at(-1)?.wire.ts ?? 0;
    conn.closeSync();
    return { messages, calls, startMs, endMs };
  } finally {
    instance.closeSync();
  }
}

export interface ExportResult {
  readonly messages: number;
  readonly calls: number;
  readonly files: readonly string[];
}

/**
 * `rpcscope export --parquet OUT`: OUT/messages.parquet and OUT/calls.parquet (zstd), read by
 * DuckDB, ClickHouse, Trino or Spark. `ts` is a Parquet TIMESTAMP (microseconds, adjusted to UTC),
 * not the store's epoch milliseconds; the schema is in docs/watch.md. Reads the store read-only, so
 * it runs while `watch` writes it.
 */
export async function exportParquet(storePath: string, outDir: string): Promise<ExportResult> {
  const instance = await openReadOnly(storePath);
  try {
    const conn = await instance.connect();
    const files: string[] = [];
    const counts: number[] = [];
    const { mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    mkdirSync(outDir, { recursive: true });
    for (const table of ['messages', 'calls']) {
      const file = join(outDir, `${table}.parquet`);
      const quoted = `'${file.replace(/'/g, "''")}'`;
      try {
        await conn.run(
          // to_timestamp takes epoch seconds and gives TIMESTAMP WITH TIME ZONE: UTC instants,
          // independent of the session time zone (a cast from TIMESTAMP would not be).
          `COPY (SELECT * REPLACE (to_timestamp(ts / 1000) AS ts) FROM ${table} ORDER BY ts) TO ${quoted} (FORMAT parquet, COMPRESSION zstd)`,
        );
        const r = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${table}`);
        counts.push(Number(r.getRowObjects()[0]?.n ?? 0n));
      } catch (e) {
        throw storeError(storePath, `cannot export ${table} to ${file}`, e);
      }
      files.push(file);
    }
    conn.closeSync();
    return { messages: counts[0] ?? 0, calls: counts[1] ?? 0, files };
  } finally {
    instance.closeSync();
  }
}
