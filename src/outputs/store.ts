/**
 * The event store: decoded RPC messages and finished calls in an embedded DuckDB file
 * (`watch --store PATH`), with retention by age or row count, Parquet export for other engines
 * (ClickHouse, Trino, Spark read it), and a reader that gives report/spec their records back.
 *
 * Each message row keeps the whole redacted RpcMessage as JSON (`record`) beside typed columns
 * for queries, so `readStore` returns exactly what was decoded. Calls come joined from the
 * pipeline (the store is one of its RecordSinks); reading back re-joins them through the pipeline
 * too (`joinCalls`). Bodies never reach the store: the decoder drops them and redacts the context
 * (src/wire/oslo/redact.ts). DuckDB allows one writer process per file; counts come back as bigint.
 */
import { statSync } from 'node:fs';
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
}

function storeError(path: string, what: string, cause: unknown): RpcscopeError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RpcscopeError('RPCSCOPE_STORE', `${what}: ${why}`, { cause, context: { input: path } });
}

async function openInstance(path: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(path);
  } catch (e) {
    throw storeError(path, 'cannot open the DuckDB store (another rpcscope writing to it?)', e);
  }
}

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
  private pending = 0;
  private closed = false;

  private constructor(
    private readonly opts: StoreOptions,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private messages: DuckDBAppender,
    private calls: DuckDBAppender,
  ) {}

  static async open(opts: StoreOptions): Promise<EventStore> {
    const instance = await openInstance(opts.path);
    try {
      const conn = await instance.connect();
      await conn.run(`CREATE TABLE IF NOT EXISTS messages (${MESSAGE_COLUMNS})`);
      await conn.run(`CREATE TABLE IF NOT EXISTS calls (${CALL_COLUMNS})`);
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
    if (++this.pending >= (this.opts.flushRows ?? 2000)) this.flush();
  }

  /** Makes appended rows visible to queries. */
  flush(): void {
    if (this.closed || this.pending === 0) return;
    this.messages.flushSync();
    this.calls.flushSync();
    this.pending = 0;
  }

  /** Applies the retention policy; returns the message rows deleted. */
  async enforceRetention(): Promise<number> {
    const r = this.opts.retention;
    if (this.closed || r === undefined) return 0;
    this.flush();
    let deleted = 0;
    if (r.maxAgeMs !== undefined) {
      const cut = (this.opts.now ?? Date.now)() - r.maxAgeMs;
      deleted += await this.deleteWhere(`ts < ${cut}`, `ts < ${cut}`);
    }
    if (r.maxRows !== undefined) {
      const reader = await this.conn.runAndReadAll('SELECT count(*) AS n FROM messages');
      const n = Number(reader.getRowObjects()[0]?.n ?? 0n);
      if (n > r.maxRows) {
        const q = await this.conn.runAndReadAll(
          `SELECT ts FROM messages ORDER BY ts DESC, seq DESC LIMIT 1 OFFSET ${r.maxRows - 1}`,
        );
        const cut = Number(q.getRowObjects()[0]?.ts ?? 0);
        // Ties at the cut keep the newest maxRows rows by (ts, seq).
        deleted += await this.deleteWhere(
          `(ts, seq) NOT IN (SELECT ts, seq FROM messages ORDER BY ts DESC, seq DESC LIMIT ${r.maxRows})`,
          `ts < ${cut}`,
        );
      }
    }
    if (r.maxBytes !== undefined && this.fileBytes() > r.maxBytes) {
      const q = await this.conn.runAndReadAll('SELECT quantile_disc(ts, 0.2) AS cut FROM messages');
      const cut = Number(q.getRowObjects()[0]?.cut ?? Number.NaN);
      if (Number.isFinite(cut)) deleted += await this.deleteWhere(`ts <= ${cut}`, `ts <= ${cut}`);
      await this.conn.run('CHECKPOINT');
    }
    this.deleted += deleted;
    return deleted;
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

  private async deleteWhere(messagesWhere: string, callsWhere: string): Promise<number> {
    const res = await this.conn.run(`DELETE FROM messages WHERE ${messagesWhere}`);
    await this.conn.run(`DELETE FROM calls WHERE ${callsWhere}`);
    return Number(res.rowsChanged);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.messages.closeSync();
    this.calls.closeSync();
    this.conn.closeSync();
    this.instance.closeSync();
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
  const instance = await openInstance(path);
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
 * DuckDB, ClickHouse, Trino or Spark.
 */
export async function exportParquet(storePath: string, outDir: string): Promise<ExportResult> {
  const instance = await openInstance(storePath);
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
          `COPY (SELECT * FROM ${table} ORDER BY ts) TO ${quoted} (FORMAT parquet, COMPRESSION zstd)`,
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
