/**
 * The dashboard's live state: per-second message rates by kind and topic, per-method counts and
 * latency percentiles, recent failures and unanswered calls, hazards and queue depths. Pure: records
 * and a clock in, a JSON snapshot out (what the page receives over SSE).
 */
import type { Hazard, HealthUpdate } from '../broker/health.ts';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall, RpcKind, RpcMessage } from '../records.ts';

export const KINDS: readonly RpcKind[] = ['call', 'cast', 'fanout', 'reply', 'notification', 'other'];

export interface MethodRow {
  readonly topic: string;
  readonly method: string;
  readonly count: number;
  readonly errors: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface CallRow {
  readonly ts: number;
  readonly topic: string;
  readonly method: string;
  readonly outcome: string;
  readonly exception: string;
  readonly latencyMs: number | null;
  readonly requestId: string;
}

export interface OperationRow {
  readonly name: string;
  readonly requestId: string;
  readonly rpcs: number;
  readonly durationMs: number;
  /** Sequence diagram (own SVG renderer, text escaped there). */
  readonly svg: string;
}

export interface LiveSnapshot {
  readonly ts: number;
  readonly sources: readonly { name: string; received: number; dropped: number }[];
  readonly totals: {
    /** Messages published (Basic.Publish / firehose `publish`): each message once. */
    readonly messages: number;
    /** Deliveries to consumers (a fanout or a redelivery delivers one message several times). */
    readonly delivered: number;
    /** Body bytes published. */
    readonly bytes: number;
    /** Published messages by kind; deliveries are in `deliveredByKind`. */
    readonly byKind: Readonly<Record<string, number>>;
    readonly deliveredByKind: Readonly<Record<string, number>>;
    readonly calls: number;
    readonly failures: number;
    readonly unanswered: number;
    readonly noRoute: number;
    readonly dropped: number;
  };
  /** Published messages per second over the window, oldest first; `t` in epoch seconds. */
  readonly rate: {
    readonly t: readonly number[];
    readonly byKind: Readonly<Record<string, readonly number[]>>;
    /** Deliveries per second (all kinds), apart from the published rates. */
    readonly delivered: readonly number[];
  };
  readonly topics: readonly { topic: string; total: number; perSecond: number }[];
  readonly methodsByCount: readonly MethodRow[];
  readonly methodsByP99: readonly MethodRow[];
  readonly failures: readonly CallRow[];
  readonly unansweredCalls: readonly CallRow[];
  readonly hazards: readonly Hazard[];
  readonly queues: {
    readonly t: readonly number[];
    readonly series: readonly { queue: string; messages: readonly (number | null)[] }[];
    /** Why there are no series, in words for the page; absent when there are some. */
    readonly empty?: string;
  };
  readonly operations: readonly OperationRow[];
}

interface MethodAgg {
  topic: string;
  method: string;
  count: number;
  errors: number;
  /** Ring of recent latencies (ms) for percentiles. */
  samples: number[];
  next: number;
}

export interface LiveOptions {
  /** Seconds of rate history kept. */
  readonly windowS?: number;
  /** Latency samples kept per method for percentiles. */
  readonly samplesPerMethod?: number;
  readonly recent?: number;
  readonly now?: () => number;
  /**
   * Whether a management API is polled for queue depths and hazards. Without one the queue panel
   * says so (and how to add one) instead of staying blank.
   */
  readonly management?: boolean;
}

/** The queue panel's words when no management API is polled. */
export const NO_MANAGEMENT = 'no management API: start watch with --management URL';

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? null;
}

export class LiveState implements RecordSink {
  /** The watch session counts this sink's errors as the dashboard's. */
  readonly name = 'dashboard';
  private readonly windowS: number;
  private readonly samples: number;
  private readonly recent: number;
  private readonly now: () => number;
  /** second (epoch s) → kind → count. */
  private readonly perSecond = new Map<number, Map<string, number>>();
  /** second (epoch s) → deliveries. */
  private readonly deliveredPerSecond = new Map<number, number>();
  private readonly deliveredByKind: Record<string, number> = {};
  private delivered = 0;
  private readonly management: boolean;
  private healthPolls = 0;
  private healthFailure: string | undefined;
  private readonly topicTotals = new Map<string, number>();
  private readonly topicRecent = new Map<number, Map<string, number>>();
  private readonly methods = new Map<string, MethodAgg>();
  private readonly failures: CallRow[] = [];
  private readonly unanswered: CallRow[] = [];
  private readonly byKind: Record<string, number> = {};
  private messages = 0;
  private bytes = 0;
  private calls = 0;
  private failed = 0;
  private lost = 0;
  private noRoute = 0;
  private hazards: readonly Hazard[] = [];
  private readonly queueT: number[] = [];
  private readonly queueSeries = new Map<string, (number | null)[]>();
  private readonly operations: OperationRow[] = [];
  private readonly sources = new Map<string, () => { received: number; dropped: number }>();

  constructor(opts: LiveOptions = {}) {
    this.windowS = opts.windowS ?? 120;
    this.samples = opts.samplesPerMethod ?? 1000;
    this.recent = opts.recent ?? 20;
    this.now = opts.now ?? Date.now;
    this.management = opts.management ?? false;
  }

  addSource(name: string, stats: () => { received: number; dropped: number }): void {
    this.sources.set(name, stats);
  }

  private trim(map: Map<number, unknown>, nowS: number): void {
    for (const s of map.keys()) if (s <= nowS - this.windowS) map.delete(s);
  }

  message(m: RpcMessage): void {
    if (m.wire.event === 'return' && m.wire.replyCode === 312) this.noRoute++;
    // Rates are by arrival time, so a replayed capture shows at its replay speed.
    const s = Math.floor(this.now() / 1000);
    if (m.wire.event === 'deliver') {
      this.delivered++;
      this.deliveredByKind[m.kind] = (this.deliveredByKind[m.kind] ?? 0) + 1;
      if (!this.deliveredPerSecond.has(s)) this.trim(this.deliveredPerSecond, s);
      this.deliveredPerSecond.set(s, (this.deliveredPerSecond.get(s) ?? 0) + 1);
      return;
    }
    if (m.wire.event !== 'publish') return;
    this.messages++;
    this.bytes += m.bodySize;
    this.byKind[m.kind] = (this.byKind[m.kind] ?? 0) + 1;
    let k = this.perSecond.get(s);
    if (k === undefined) {
      k = new Map();
      this.perSecond.set(s, k);
      this.trim(this.perSecond, s);
      this.trim(this.topicRecent, s);
    }
    k.set(m.kind, (k.get(m.kind) ?? 0) + 1);
    const topic = m.kind === 'reply' ? '(replies)' : m.topic || '(none)';
    this.topicTotals.set(topic, (this.topicTotals.get(topic) ?? 0) + 1);
    let t = this.topicRecent.get(s);
    if (t === undefined) {
      t = new Map();
      this.topicRecent.set(s, t);
    }
    t.set(topic, (t.get(topic) ?? 0) + 1);
  }

  /** A reply found NO_ROUTE without a Basic.Return on the wire (firehose). */
  replyNotRouted(): void {
    this.noRoute++;
  }

  call(c: RpcCall): void {
    this.calls++;
    const m = c.call;
    const method = m.object !== undefined ? `${m.method ?? '?'}:${m.object}` : (m.method ?? '?');
    const key = `${m.topic}\u0000${method}`;
    let a = this.methods.get(key);
    if (a === undefined) {
      a = { topic: m.topic, method, count: 0, errors: 0, samples: [], next: 0 };
      this.methods.set(key, a);
    }
    a.count++;
    if (c.outcome !== 'ok') a.errors++;
    if (c.latencyMs !== undefined) {
      if (a.samples.length < this.samples) a.samples.push(c.latencyMs);
      else a.samples[a.next] = c.latencyMs;
      a.next = (a.next + 1) % this.samples;
    }
    if (c.outcome === 'ok') return;
    const row: CallRow = {
      ts: m.wire.ts,
      topic: m.topic,
      method,
      outcome: c.outcome,
      exception:
        c.reply?.failure !== undefined
          ? `${c.reply.failure.class}: ${c.reply.failure.message}`.slice(0, 300)
          : c.outcome === 'no-route'
            ? 'reply returned NO_ROUTE'
            : (c.unansweredReason ?? ''),
      latencyMs: c.latencyMs ?? null,
      requestId: m.requestId ?? '',
    };
    const list = c.outcome === 'remote-error' ? this.failures : this.unanswered;
    if (c.outcome === 'remote-error') this.failed++;
    else this.lost++;
    list.unshift(row);
    if (list.length > this.recent) list.length = this.recent;
  }

  /** The management API poll failed: the queue panel shows why it has nothing new. */
  healthError(message: string): void {
    this.healthFailure = message;
  }

  health(u: HealthUpdate): void {
    this.healthPolls++;
    this.healthFailure = undefined;
    this.hazards = u.hazards;
    this.queueT.push(Math.floor(u.ts / 1000));
    const seen = new Set<string>();
    for (const q of u.queues) {
      seen.add(q.queue);
      let s = this.queueSeries.get(q.queue);
      if (s === undefined) {
        s = new Array<number | null>(this.queueT.length - 1).fill(null);
        this.queueSeries.set(q.queue, s);
      }
      s.push(q.messages);
    }
    for (const [name, s] of this.queueSeries) if (!seen.has(name)) s.push(null);
    const keep = this.windowS;
    if (this.queueT.length > keep) {
      const cut = this.queueT.length - keep;
      this.queueT.splice(0, cut);
      for (const [name, s] of this.queueSeries) {
        s.splice(0, cut);
        if (s.every((x) => x === null)) this.queueSeries.delete(name);
      }
    }
  }

  private queuesEmptyReason(): string {
    if (!this.management) return NO_MANAGEMENT;
    if (this.healthFailure !== undefined) return `management API failed: ${this.healthFailure}`;
    if (this.healthPolls === 0) return 'waiting for the first management API poll';
    return 'no queues in the watched vhosts';
  }

  operation(op: OperationRow): void {
    this.operations.unshift(op);
    if (this.operations.length > 5) this.operations.length = 5;
  }

  snapshot(): LiveSnapshot {
    const nowS = Math.floor(this.now() / 1000);
    const t: number[] = [];
    const byKind: Record<string, number[]> = {};
    const delivered: number[] = [];
    for (const k of KINDS) byKind[k] = [];
    // The current second is still filling: show up to the previous one.
    for (let s = nowS - this.windowS; s < nowS; s++) {
      t.push(s);
      const counts = this.perSecond.get(s);
      for (const k of KINDS) byKind[k]?.push(counts?.get(k) ?? 0);
      delivered.push(this.deliveredPerSecond.get(s) ?? 0);
    }
    const recentTopic = new Map<string, number>();
    for (const [s, m] of this.topicRecent)
      if (s >= nowS - 10 && s < nowS)
        for (const [k, v] of m) recentTopic.set(k, (recentTopic.get(k) ?? 0) + v);
    const topics = [...this.topicTotals]
      .map(([topic, total]) => ({ topic, total, perSecond: (recentTopic.get(topic) ?? 0) / 10 }))
      .sort((a, b) => b.perSecond - a.perSecond || b.total - a.total)
      .slice(0, 12);
    const rows: MethodRow[] = [...this.methods.values()].map((a) => {
      const sorted = [...a.samples].sort((x, y) => x - y);
      return {
        topic: a.topic,
        method: a.method,
        count: a.count,
        errors: a.errors,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
    });
    const sources = [...this.sources].map(([name, get]) => ({ name, ...get() }));
    const queueSeries = [...this.queueSeries]
      .map(([queue, messages]) => ({ queue, messages, last: messages[messages.length - 1] ?? 0 }))
      .sort((a, b) => (b.last ?? 0) - (a.last ?? 0))
      .slice(0, 8)
      .map(({ queue, messages }) => ({ queue, messages: [...messages] }));
    return {
      ts: this.now(),
      sources,
      totals: {
        messages: this.messages,
        delivered: this.delivered,
        bytes: this.bytes,
        byKind: { ...this.byKind },
        deliveredByKind: { ...this.deliveredByKind },
        calls: this.calls,
        failures: this.failed,
        unanswered: this.lost,
        noRoute: this.noRoute,
        dropped: sources.reduce((n, s) => n + s.dropped, 0),
      },
      rate: { t, byKind, delivered },
      topics,
      methodsByCount: [...rows].sort((a, b) => b.count - a.count).slice(0, 10),
      methodsByP99: rows
        .filter((r) => r.p99Ms !== null)
        .sort((a, b) => (b.p99Ms ?? 0) - (a.p99Ms ?? 0))
        .slice(0, 10),
      failures: [...this.failures],
      unansweredCalls: [...this.unanswered],
      hazards: this.hazards,
      queues: {
        t: [...this.queueT],
        series: queueSeries,
        ...(queueSeries.length === 0 ? { empty: this.queuesEmptyReason() } : {}),
      },
      operations: [...this.operations],
    };
  }
}
