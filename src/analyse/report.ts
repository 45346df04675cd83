/**
 * `rpcscope report`: what the control plane did in a capture, as one plain object (printed as
 * tables or JSON by the CLI). Pure: Loaded in, Report out. Message counts are of PUBLISHED
 * messages (Basic.Publish / tracing `published`) unless named otherwise.
 */
import { identifyServices } from '../correlate/services.ts';
import type { RpcCall, RpcKind, RpcMessage } from '../records.ts';
import type { Loaded } from './load.ts';

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

export function buildReport(l: Loaded): Report {
  const byKind = zeroKinds();
  const bytesByKind = zeroKinds();
  const deliveredByKind = zeroKinds();
  let published = 0;
  let delivered = 0;
  let returned = 0;
  const rows = new Map<string, MethodRow>();
  const perConn = new Map<
    string,
    {
      published: number;
      delivered: number;
      sent: Map<string, { kind: RpcKind; target: string; count: number }>;
    }
  >();
  const connAcc = (id: string) => {
    let a = perConn.get(id);
    if (a === undefined) {
      a = { published: 0, delivered: 0, sent: new Map() };
      perConn.set(id, a);
    }
    return a;
  };

  for (const m of l.messages) {
    const ev = m.wire.event;
    const conn = m.wire.connection?.id;
    if (ev === 'deliver') {
      delivered++;
      deliveredByKind[m.kind]++;
      if (conn !== undefined) connAcc(conn).delivered++;
      continue;
    }
    if (ev === 'return') {
      returned++;
      continue;
    }
    published++;
    byKind[m.kind]++;
    bytesByKind[m.kind] += m.bodySize;
    if (conn !== undefined) {
      const a = connAcc(conn);
      a.published++;
      const what = m.object ?? (methodOf(m) || m.wire.routingKey);
      const target =
        m.kind === 'reply'
          ? '(to callers)'
          : m.kind === 'other'
            ? `${m.exchange || '""'} ${m.wire.routingKey}`
            : `${m.topic} ${what}`;
      const k = `${m.kind} ${target}`;
      const s = a.sent.get(k);
      if (s === undefined) a.sent.set(k, { kind: m.kind, target, count: 1 });
      else s.count++;
    }
    if (m.kind === 'reply' || m.kind === 'other') continue;
    const key = rowKey(m);
    const r = rows.get(key);
    if (r === undefined) {
      // key order as in the issue's JSON example: kind, exchange, topic, method, object, count
      const row: MethodRow = {
        kind: m.kind,
        exchange: m.exchange,
        topic: m.topic,
        method: methodOf(m),
        ...(m.object !== undefined ? { object: m.object } : {}),
        count: 1,
        bytes: m.bodySize,
      };
      rows.set(key, row);
    } else {
      r.count++;
      r.bytes += m.bodySize;
    }
  }

  const latByRow = new Map<string, number[]>();
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let answered = 0;
  let unanswered = 0;
  let failed = 0;
  let noRoute = 0;
  let heartbeats = 0;
  const noAnswer: RpcCall[] = [];
  for (const c of l.calls) {
    heartbeats += c.heartbeats;
    if (c.outcome === 'ok' || c.outcome === 'remote-error') {
      answered++;
      if (c.latencyMs !== undefined) {
        latencies.push(c.latencyMs);
        const k = rowKey(c.call);
        const arr = latByRow.get(k);
        if (arr === undefined) latByRow.set(k, [c.latencyMs]);
        else arr.push(c.latencyMs);
      }
      if (c.outcome === 'remote-error') {
        failed++;
        const cls = c.reply?.failure?.class ?? 'unknown';
        failures.set(cls, (failures.get(cls) ?? 0) + 1);
      }
    } else {
      if (c.outcome === 'no-route') noRoute++;
      else unanswered++;
      noAnswer.push(c);
    }
  }
  for (const [k, row] of rows) {
    const lat = latByRow.get(k);
    if (lat !== undefined && lat.length > 0) {
      const s = lat.sort((a, b) => a - b);
      row.latencyMs = { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)) };
    }
  }
  const methods = [...rows.values()].sort(
    (a, b) =>
      KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) ||
      b.count - a.count ||
      a.topic.localeCompare(b.topic) ||
      a.method.localeCompare(b.method) ||
      (a.object ?? '').localeCompare(b.object ?? ''),
  );
  const slowest = l.calls
    .filter((c) => c.latencyMs !== undefined)
    .sort((a, b) => (b.latencyMs as number) - (a.latencyMs as number))
    .slice(0, 10)
    .map(callLine);
  const p = percentiles(latencies);

  const services = identifyServices(l.messages, l.calls, l.topology);
  const connections: ConnectionLine[] = services.map((s) => {
    const a = perConn.get(s.connection);
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
    messages: { published, delivered, returned },
    byKind,
    bytesByKind,
    deliveredByKind,
    methods,
    calls: {
      total: l.calls.length,
      answered,
      unanswered,
      failed,
      noRoute,
      heartbeats,
      failures: [...failures]
        .map(([cls, count]) => ({ class: cls, count }))
        .sort((a, b) => b.count - a.count || a.class.localeCompare(b.class)),
      latencyMs: { p50: round(p.p50), p90: round(p.p90), p99: round(p.p99), max: round(p.max) },
      unansweredCalls: noAnswer.map(callLine),
      slowest,
      orphanReplies: l.callStats.orphanReplies,
      orphanDeliveries: l.callStats.orphanDeliveries,
      lateReplies: l.callStats.lateReplies,
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
