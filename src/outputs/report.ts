/**
 * `rpcscope report`: what the control plane did in a capture, as one plain object (printed as
 * tables or JSON by the CLI). Pure: Loaded in, Report out. Message counts are of PUBLISHED
 * messages (Basic.Publish / tracing `published`) unless named otherwise.
 */
import { ServiceEvidence } from '../correlate/services.ts';
import type { Loaded } from '../pipeline/load.ts';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall, RpcKind, RpcMessage, TopologyEvent } from '../records.ts';

export const KINDS: readonly RpcKind[] = ['call', 'cast', 'fanout', 'reply', 'notification', 'other'];

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface MethodRow {
  kind: RpcKind;
  exchange: string;
  topic: string;
  /** RPC method; for notifications the event type. */
  method: string;
  /** nova-object RPC: "Instance.save". */
  object?: string;
  count: number;
  bytes: number;
  /** Calls only: latency of the answered ones. */
  latencyMs?: { p50: number; p99: number };
}

export interface CallLine {
  ts: string;
  topic: string;
  server?: string;
  method: string;
  object?: string;
  outcome: RpcCall['outcome'];
  reason?: string;
  latencyMs?: number;
  queueMs?: number;
  serverMs?: number;
  returnMs?: number;
  requestId?: string;
  msgId?: string;
  failure?: string;
}

export interface ConnectionLine {
  connection: string;
  service: string;
  host?: string;
  evidence: string[];
  published: number;
  delivered: number;
  /** What it published, most frequent first: "call conductor Instance.save ×12". */
  sent: { kind: RpcKind; target: string; count: number }[];
}

export interface Report {
  inputs: { input: string; bytes: number; packets: number; connections: number }[];
  window: { start: string; end: string; durationS: number };
  messages: { published: number; delivered: number; returned: number };
  byKind: Record<RpcKind, number>;
  bytesByKind: Record<RpcKind, number>;
  deliveredByKind: Record<RpcKind, number>;
  methods: MethodRow[];
  calls: {
    total: number;
    answered: number;
    unanswered: number;
    failed: number;
    noRoute: number;
    heartbeats: number;
    failures: { class: string; count: number }[];
    latencyMs: Percentiles;
    /** Calls with no answer (unanswered or no-route), in time order. */
    unansweredCalls: CallLine[];
    /** Ten slowest answered calls. */
    slowest: CallLine[];
    /** Replies whose call is not in the capture; deliveries of calls published before it. */
    orphanReplies: number;
    orphanDeliveries: number;
    /** Replies published after their call expired (the caller had given up). */
    lateReplies: number;
    /** Publishes of a `_msg_id` already pending (a retried publish): one call, counted once. */
    duplicateCalls: number;
  };
  connections: ConnectionLine[];
  skipped: { bytes: number; frames: number; records: number; issues: string[] };
}

/** Nearest-rank percentile over sorted values (a value that was actually observed). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? (s[s.length - 1] as number) : 0,
  };
}

function zeroKinds(): Record<RpcKind, number> {
  return { call: 0, cast: 0, fanout: 0, reply: 0, notification: 0, other: 0 };
}

function methodOf(m: RpcMessage): string {
  return m.kind === 'notification' ? (m.eventType ?? '') : (m.method ?? '');
}

function rowKey(m: RpcMessage): string {
  return `${m.kind}\u0000${m.exchange}\u0000${m.topic}\u0000${methodOf(m)}\u0000${m.object ?? ''}`;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function callLine(c: RpcCall): CallLine {
  const m = c.call;
  const line: CallLine = {
    ts: new Date(m.wire.ts).toISOString(),
    topic: m.topic,
    method: m.method ?? '',
    outcome: c.outcome,
  };
  if (m.server !== undefined) line.server = m.server;
  if (m.object !== undefined) line.object = m.object;
  if (c.unansweredReason !== undefined) line.reason = c.unansweredReason;
  if (c.latencyMs !== undefined) line.latencyMs = round(c.latencyMs);
  if (c.queueMs !== undefined) line.queueMs = round(c.queueMs);
  if (c.serverMs !== undefined) line.serverMs = round(c.serverMs);
  if (c.returnMs !== undefined) line.returnMs = round(c.returnMs);
  if (m.requestId !== undefined) line.requestId = m.requestId;
  if (m.msgId !== undefined) line.msgId = m.msgId;
  if (c.reply?.failure !== undefined) line.failure = c.reply.failure.class;
  return line;
}

/** What the report needs besides the records: the inputs and the capture window. */
export type ReportMeta = Pick<Loaded, 'inputs' | 'skipped' | 'startMs' | 'endMs' | 'callStats'>;

/** Most distinct "sent" rows kept per connection; the rest are summed into one row. */
const MAX_SENT_ROWS = 200;
/** Most unanswered calls listed (all are counted). */
const MAX_UNANSWERED_LINES = 1000;

interface ConnAcc {
  published: number;
  delivered: number;
  sent: Map<string, { kind: RpcKind; target: string; count: number }>;
}

/**
 * The report, accumulated one record at a time: memory grows with the number of distinct
 * methods, connections and calls (one number each), not with the capture, so `report` reads
 * captures larger than memory. It is the sink of a streamed load (`loadCaptures(files, { keep:
 * false, sinks: [acc] })`) or of a live pipeline. `buildReport` is this over a Loaded.
 */
export class ReportAccumulator implements RecordSink {
  readonly name = 'report';

  readonly #byKind = zeroKinds();
  readonly #bytesByKind = zeroKinds();
  readonly #deliveredByKind = zeroKinds();
  #published = 0;
  #delivered = 0;
  #returned = 0;
  readonly #rows = new Map<string, MethodRow>();
  readonly #perConn = new Map<string, ConnAcc>();
  readonly #services = new ServiceEvidence();
  readonly #latByRow = new Map<string, number[]>();
  readonly #latencies: number[] = [];
  readonly #failures = new Map<string, number>();
  #calls = 0;
  #answered = 0;
  #unanswered = 0;
  #failed = 0;
  #noRoute = 0;
  #heartbeats = 0;
  readonly #noAnswer: CallLine[] = [];
  /** The ten slowest answered calls, slowest first. */
  readonly #slowest: RpcCall[] = [];

  #conn(id: string): ConnAcc {
    let a = this.#perConn.get(id);
    if (a === undefined) {
      a = { published: 0, delivered: 0, sent: new Map() };
      this.#perConn.set(id, a);
    }
    return a;
  }

  topology(t: TopologyEvent): void {
    this.#services.topology(t);
  }

  message(m: RpcMessage): void {
    this.#services.message(m);
    const ev = m.wire.event;
    const conn = m.wire.connection?.id;
    if (ev === 'deliver') {
      this.#delivered++;
      this.#deliveredByKind[m.kind]++;
      if (conn !== undefined) this.#conn(conn).delivered++;
      return;
    }
    if (ev === 'return') {
      this.#returned++;
      return;
    }
    this.#published++;
    this.#byKind[m.kind]++;
    this.#bytesByKind[m.kind] += m.bodySize;
    if (conn !== undefined) {
      const a = this.#conn(conn);
      a.published++;
      const what = m.object ?? (methodOf(m) || m.wire.routingKey);
      let target =
        m.kind === 'reply'
          ? '(to callers)'
          : m.kind === 'other'
            ? `${m.exchange || '""'} ${m.wire.routingKey}`
            : `${m.topic} ${what}`;
      let k = `${m.kind} ${target}`;
      if (!a.sent.has(k) && a.sent.size >= MAX_SENT_ROWS) {
        target = '(more distinct targets)';
        k = `${m.kind} ${target}`;
      }
      const s = a.sent.get(k);
      if (s === undefined) a.sent.set(k, { kind: m.kind, target, count: 1 });
      else s.count++;
    }
    if (m.kind === 'reply' || m.kind === 'other') return;
    const key = rowKey(m);
    const r = this.#rows.get(key);
    if (r === undefined) {
      // key order as in the issue's JSON example: kind, exchange, topic, method, object, count
      this.#rows.set(key, {
        kind: m.kind,
        exchange: m.exchange,
        topic: m.topic,
        method: methodOf(m),
        ...(m.object !== undefined ? { object: m.object } : {}),
        count: 1,
        bytes: m.bodySize,
      });
    } else {
      r.count++;
      r.bytes += m.bodySize;
    }
  }

  call(c: RpcCall): void {
    this.#services.call(c);
    this.#calls++;
    this.#heartbeats += c.heartbeats;
    if (c.outcome === 'ok' || c.outcome === 'remote-error') {
      this.#answered++;
      if (c.latencyMs !== undefined) {
        this.#latencies.push(c.latencyMs);
        const k = rowKey(c.call);
        const arr = this.#latByRow.get(k);
        if (arr === undefined) this.#latByRow.set(k, [c.latencyMs]);
        else arr.push(c.latencyMs);
        this.#keepSlowest(c, c.latencyMs);
      }
      if (c.outcome === 'remote-error') {
        this.#failed++;
        const cls = c.reply?.failure?.class ?? 'unknown';
        this.#failures.set(cls, (this.#failures.get(cls) ?? 0) + 1);
      }
    } else {
      if (c.outcome === 'no-route') this.#noRoute++;
      else this.#unanswered++;
      if (this.#noAnswer.length < MAX_UNANSWERED_LINES) this.#noAnswer.push(callLine(c));
    }
  }

  #keepSlowest(c: RpcCall, lat: number): void {
    const s = this.#slowest;
    if (s.length === 10 && lat <= ((s[9] as RpcCall).latencyMs as number)) return;
    let i = s.length;
    while (i > 0 && ((s[i - 1] as RpcCall).latencyMs as number) < lat) i--;
    s.splice(i, 0, c);
    if (s.length > 10) s.pop();
  }

  result(meta: ReportMeta): Report {
    for (const [k, row] of this.#rows) {
      const lat = this.#latByRow.get(k);
      if (lat !== undefined && lat.length > 0) {
        const sorted = [...lat].sort((a, b) => a - b);
        row.latencyMs = { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) };
      }
    }
    const methods = [...this.#rows.values()].sort(
      (a, b) =>
        KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) ||
        b.count - a.count ||
        a.topic.localeCompare(b.topic) ||
        a.method.localeCompare(b.method) ||
        (a.object ?? '').localeCompare(b.object ?? ''),
    );
    const p = percentiles(this.#latencies);
    const connections: ConnectionLine[] = this.#services.result().map((s) => {
      const a = this.#perConn.get(s.connection);
      const line: ConnectionLine = {
        connection: s.connection,
        service: s.service,
        evidence: s.evidence,
        published: a?.published ?? 0,
        delivered: a?.delivered ?? 0,
        sent:
          a === undefined
            ? []
            : [...a.sent.values()].sort((x, y) => y.count - x.count || x.target.localeCompare(y.target)),
      };
      if (s.host !== undefined) line.host = s.host;
      return line;
    });
    const l = meta;
    return {
      inputs: l.inputs.map((i) => ({
        input: i.input,
        bytes: i.bytes,
        packets: i.packets,
        connections: i.connections,
      })),
      window: {
        start: new Date(l.startMs).toISOString(),
        end: new Date(l.endMs).toISOString(),
        durationS: round((l.endMs - l.startMs) / 1000),
      },
      messages: { published: this.#published, delivered: this.#delivered, returned: this.#returned },
      byKind: { ...this.#byKind },
      bytesByKind: { ...this.#bytesByKind },
      deliveredByKind: { ...this.#deliveredByKind },
      methods,
      calls: {
        total: this.#calls,
        answered: this.#answered,
        unanswered: this.#unanswered,
        failed: this.#failed,
        noRoute: this.#noRoute,
        heartbeats: this.#heartbeats,
        failures: [...this.#failures]
          .map(([cls, count]) => ({ class: cls, count }))
          .sort((a, b) => b.count - a.count || a.class.localeCompare(b.class)),
        latencyMs: { p50: round(p.p50), p90: round(p.p90), p99: round(p.p99), max: round(p.max) },
        unansweredCalls: [...this.#noAnswer].sort((a, b) => a.ts.localeCompare(b.ts)),
        slowest: this.#slowest.map(callLine),
        orphanReplies: l.callStats.orphanReplies,
        orphanDeliveries: l.callStats.orphanDeliveries,
        lateReplies: l.callStats.lateReplies,
        duplicateCalls: l.callStats.duplicateCalls,
      },
      connections,
      skipped: {
        bytes: l.skipped.bytes,
        frames: l.skipped.frames,
        records: l.skipped.records,
        issues: l.skipped.issues.map((i) =>
          i.line !== undefined
            ? `${i.input}:${i.line}: ${i.message}`
            : i.offset !== undefined
              ? `${i.input}@${i.offset}: ${i.message}`
              : `${i.input}: ${i.message}`,
        ),
      },
    };
  }
}

export function buildReport(l: Loaded): Report {
  const acc = new ReportAccumulator();
  for (const t of l.topology) acc.topology(t);
  for (const m of l.messages) acc.message(m);
  for (const c of l.calls) acc.call(c);
  return acc.result(l);
}
