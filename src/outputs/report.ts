/**
 * `rpcscope report`: what the control plane did in a capture, as one plain object (printed as
 * tables or JSON by the CLI). Pure: Loaded in, Report out. Message counts are of PUBLISHED
 * messages (Basic.Publish / tracing `published`) unless named otherwise.
 */
import { Distribution, SampleBudget } from '../analyse/distribution.ts';
import { ServiceEvidence } from '../correlate/services.ts';
import type { Loaded } from '../pipeline/load.ts';
import type { RecordSink } from '../pipeline/sink.ts';
import { VhostResolver } from '../pipeline/vhosts.ts';
import type { RpcCall, RpcKind, RpcMessage, TopologyEvent } from '../records.ts';
import { parseQueueName } from '../wire/naming.ts';

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

/** Messages of one vhost; a connection's vhost as src/pipeline/vhosts.ts tells it. */
export interface VhostLine {
  /** "?" when nothing in the capture tells (no Connection.Open, no evidence). */
  vhost: string;
  published: number;
  delivered: number;
  connections: number;
  /** How its connections' vhost is known: Connection.Open / record, learned, control exchange. */
  knownBy: { open: number; learned: number; exchange: number };
}

/**
 * A neutron hazard the capture shows, named. `dead-fanout`: published to an oslo `*_fanout`
 * exchange that no queue is bound to (the broker drops it; `count` messages). `orphan-queue`: a
 * fanout or reply queue whose consumer's connection closed, still bound, kept by `x-expires`
 * (`count`: fanouts published to its exchange after that, each a duplicate delivery nobody reads).
 */
export interface ReportHazard {
  kind: 'dead-fanout' | 'orphan-queue';
  /** The exchange (dead fanout) or queue (orphan). */
  object: string;
  count: number;
  detail: string;
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
  /** Published and delivered messages per vhost (a shared broker's capture mixes them). */
  vhosts: VhostLine[];
  /** `--vhost`: the vhosts kept and the messages of the others, dropped before correlation. */
  vhostFilter?: { kept: string[]; droppedMessages: number; droppedByVhost: Record<string, number> };
  hazards: ReportHazard[];
  skipped: { bytes: number; frames: number; records: number; issues: string[] };
}

/** Call latencies a report holds one by one (8 bytes each) before its largest series are reduced. */
export const REPORT_EXACT_LATENCIES = 1_000_000;

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
export type ReportMeta = Pick<Loaded, 'inputs' | 'skipped' | 'startMs' | 'endMs' | 'callStats'> &
  Partial<Pick<Loaded, 'vhostDropped'>>;

/** Most distinct "sent" rows kept per connection; the rest are summed into one row. */
const MAX_SENT_ROWS = 200;
/** Most unanswered calls listed (all are counted). */
const MAX_UNANSWERED_LINES = 1000;

/** What the capture shows of one `*_fanout` exchange. */
interface FanoutAcc {
  published: number;
  /** Delivered from it, routed by the broker (tracing), or a Queue.Bind to it seen. */
  heard: boolean;
}

/** A queue consumed on the wire: which connection, and what it was bound to. */
interface ConsumedQueue {
  connection: string;
  /** When the consuming connection closed (no one else consumed it since). */
  orphanedAt?: number;
  duplicates: number;
}

/** Most exchanges and queues followed for hazards (a capture of a huge cloud stays bounded). */
const MAX_TOPOLOGY = 100_000;

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
  readonly #vhosts = new VhostResolver();
  readonly #noConn = { published: 0, delivered: 0 };
  readonly #fanouts = new Map<string, FanoutAcc>();
  readonly #queues = new Map<string, ConsumedQueue>();
  readonly #declared = new Map<string, { expiresMs?: number; exchanges: Set<string> }>();
  /** Queues in #queues whose consumer's connection closed. */
  readonly #orphans = new Set<string>();
  /** Latencies, exact within a budget of 1M samples (8 MB), bounded past it (distribution.ts). */
  readonly #latencyBudget = new SampleBudget(REPORT_EXACT_LATENCIES);
  readonly #latByRow = new Map<string, Distribution>();
  readonly #latencies = new Distribution(this.#latencyBudget);
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

  #fanout(exchange: string): FanoutAcc {
    let f = this.#fanouts.get(exchange);
    if (f === undefined) {
      f = { published: 0, heard: false };
      if (this.#fanouts.size < MAX_TOPOLOGY) this.#fanouts.set(exchange, f);
    }
    return f;
  }

  #queueDecl(queue: string): { expiresMs?: number; exchanges: Set<string> } {
    let d = this.#declared.get(queue);
    if (d === undefined) {
      d = { exchanges: new Set() };
      if (this.#declared.size < MAX_TOPOLOGY) this.#declared.set(queue, d);
    }
    return d;
  }

  topology(t: TopologyEvent): void {
    this.#services.topology(t);
    this.#vhosts.topology(t);
    switch (t.type) {
      case 'queue-declare': {
        const x = t.arguments['x-expires'];
        if (typeof x === 'number') this.#queueDecl(t.queue).expiresMs = x;
        return;
      }
      case 'queue-bind':
        if (t.exchange !== '') {
          this.#queueDecl(t.queue).exchanges.add(t.exchange);
          if (t.exchange.endsWith('_fanout')) this.#fanout(t.exchange).heard = true;
        }
        return;
      case 'consume': {
        const kind = parseQueueName(t.queue).kind;
        if (t.connection === undefined || (kind !== 'fanout' && kind !== 'reply')) return;
        if (this.#queues.size >= MAX_TOPOLOGY) return;
        this.#queues.set(t.queue, { connection: t.connection.id, duplicates: 0 });
        this.#orphans.delete(t.queue); // consumed again: not an orphan (any more)
        return;
      }
      case 'connection-close':
        for (const [name, q] of this.#queues)
          if (q.connection === t.connection.id && q.orphanedAt === undefined) {
            q.orphanedAt = t.ts;
            this.#orphans.add(name);
          }
        return;
      default:
        return;
    }
  }

  /** Hazards named by what the capture showed (see ReportHazard). */
  #hazards(): ReportHazard[] {
    const out: ReportHazard[] = [];
    for (const [exchange, f] of this.#fanouts)
      if (f.published > 0 && !f.heard)
        out.push({
          kind: 'dead-fanout',
          object: exchange,
          count: f.published,
          detail: `${f.published} published to ${exchange}, no queue bound (no Queue.Bind, delivery or route in the capture): dropped by the broker`,
        });
    for (const queue of this.#orphans) {
      const q = this.#queues.get(queue);
      if (q?.orphanedAt === undefined) continue;
      const d = this.#declared.get(queue);
      const ttl =
        d?.expiresMs !== undefined ? `x-expires ${Math.round(d.expiresMs / 60_000)} min` : 'x-expires unseen';
      const bound = [...(d?.exchanges ?? [])];
      out.push({
        kind: 'orphan-queue',
        object: queue,
        count: q.duplicates,
        detail: `${queue}: its consumer's connection ${q.connection} closed at ${new Date(q.orphanedAt).toISOString()}; still bound to ${bound.join(', ') || '(bindings unseen)'}, ${ttl}; ${q.duplicates} fanouts since delivered to it too, duplicates nobody reads`,
      });
    }
    return out.sort(
      (a, b) => a.kind.localeCompare(b.kind) || b.count - a.count || a.object.localeCompare(b.object),
    );
  }

  #fanoutPublished(m: RpcMessage): void {
    const ex = m.wire.exchange;
    const f = this.#fanout(ex);
    if (m.wire.event === 'deliver') {
      f.heard = true;
      return;
    }
    f.published++;
    if (m.wire.routedQueues !== undefined && m.wire.routedQueues.length > 0) f.heard = true;
    for (const queue of this.#orphans) {
      const q = this.#queues.get(queue);
      if (
        q?.orphanedAt !== undefined &&
        m.wire.ts >= q.orphanedAt &&
        this.#declared.get(queue)?.exchanges.has(ex)
      )
        q.duplicates++;
    }
  }

  message(m: RpcMessage): void {
    this.#services.message(m);
    this.#vhosts.message(m);
    const ev = m.wire.event;
    const conn = m.wire.connection?.id;
    if (ev !== 'return' && m.wire.exchange.endsWith('_fanout')) this.#fanoutPublished(m);
    if (conn === undefined && ev !== 'return') this.#noConn[ev === 'deliver' ? 'delivered' : 'published']++;
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
        let row = this.#latByRow.get(k);
        if (row === undefined) {
          row = new Distribution(this.#latencyBudget);
          this.#latByRow.set(k, row);
        }
        row.push(c.latencyMs);
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

  #vhostLines(): VhostLine[] {
    this.#vhosts.settle();
    const by = new Map<string, VhostLine>();
    const line = (vhost: string) => {
      let v = by.get(vhost);
      if (v === undefined) {
        v = {
          vhost,
          published: 0,
          delivered: 0,
          connections: 0,
          knownBy: { open: 0, learned: 0, exchange: 0 },
        };
        by.set(vhost, v);
      }
      return v;
    };
    for (const [id, a] of this.#perConn) {
      const r = this.#vhosts.vhostOf(id);
      const v = line(r?.vhost ?? '?');
      v.published += a.published;
      v.delivered += a.delivered;
      v.connections++;
      if (r !== undefined) v.knownBy[r.how]++;
    }
    if (this.#noConn.published + this.#noConn.delivered > 0) {
      const v = line('?');
      v.published += this.#noConn.published;
      v.delivered += this.#noConn.delivered;
    }
    return [...by.values()].sort((a, b) => b.published - a.published || a.vhost.localeCompare(b.vhost));
  }

  result(meta: ReportMeta): Report {
    for (const [k, row] of this.#rows) {
      const lat = this.#latByRow.get(k);
      if (lat !== undefined && lat.length > 0) {
        const [p50 = 0, p99 = 0] = lat.percentiles([50, 99]);
        row.latencyMs = { p50: round(p50), p99: round(p99) };
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
    const [p50 = 0, p90 = 0, p99 = 0] = this.#latencies.percentiles([50, 90, 99]);
    const p = { p50, p90, p99, max: this.#latencies.length > 0 ? this.#latencies.max() : 0 };
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
    const vf = l.vhostDropped;
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
      vhosts: this.#vhostLines(),
      ...(vf !== undefined
        ? {
            vhostFilter: {
              kept: [...vf.kept],
              droppedMessages: vf.messages,
              droppedByVhost: { ...vf.byVhost },
            },
          }
        : {}),
      hazards: this.#hazards(),
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
