/**
 * The storms of many agents at once (issue 14): what the ledger alone does not say.
 *
 * - ResyncTracker: every process of the resync group that comes back in the steady state (after
 *   a broker restart: reconnected with oslo's backoff and its queues re-declared; after a
 *   restart-group: a new process) runs the scenario's resync operation from its host, as the OVS
 *   agent's rpc_loop does a full sync after it lost the broker. When the last agent was back and
 *   when the last resync finished is the storm's length.
 * - FanoutTracker: one fanout method (a port `push`) per receiving agent: of the fanouts sent in
 *   the window, how many each agent got, lost, got late (after `lateAfter`) or twice.
 * - OrphanSampler: the queues nobody consumes any more (the fanout `*_fanout_*` and `reply_*`
 *   queues of the processes restart-group killed, by name), their messages (each a copy the broker routed to a
 *   dead agent) and memory, every 2 s until they expire.
 */
import type { Cluster } from '../broker/cluster.ts';
import { ManagementClient } from '../broker/management.ts';
import type { MessageRecord } from '../emulate/accounting.ts';
import type { EmulationEvent } from '../emulate/types.ts';

/** Seconds since t0, one decimal. */
const since = (t0: number, ts: number) => Math.round((ts - t0) / 100) / 10;

export interface ResyncSummary {
  readonly group: string;
  readonly operation: string;
  /** Processes of the group that came back (connected again) in the steady state. */
  readonly reconnected: number;
  readonly firstBackS?: number;
  readonly lastBackS?: number;
  readonly resyncsStarted: number;
  readonly resyncsDone: number;
  readonly resyncsFailed: number;
  /** The first resync failure's message. */
  readonly firstError?: string;
  /** When the last resync ended (seconds since the steady state began). */
  readonly lastResyncDoneS?: number;
  /** Resync duration per agent, seconds: median and max. */
  readonly resyncP50S?: number;
  readonly resyncMaxS?: number;
}

export class ResyncTracker {
  t0 = Date.now();
  private readonly backAt: number[] = [];
  private readonly durations: number[] = [];
  private started = 0;
  private failed = 0;
  private lastDone: number | undefined;
  private firstError: string | undefined;
  /** Hosts seen connected: a host's first `connected` is its start, each later one a return. */
  private readonly seen = new Set<string>();

  constructor(
    readonly group: string,
    readonly operation: string,
    private readonly run: (operation: string, host: string) => Promise<void>,
  ) {}

  /** Feed of the emulation's events: a process's first connection is its start, not a return. */
  onEvent(e: EmulationEvent): void {
    if (e.type !== 'connected' || e.group !== this.group) return;
    if (!this.seen.has(e.service)) {
      this.seen.add(e.service);
      return;
    }
    this.backAt.push(e.ts);
    this.started++;
    const t = Date.now();
    this.run(this.operation, e.service).then(
      () => {
        this.durations.push((Date.now() - t) / 1000);
        this.lastDone = Date.now();
      },
      (err: unknown) => {
        this.failed++;
        this.firstError ??= err instanceof Error ? err.message : String(err);
      },
    );
  }

  summary(): ResyncSummary {
    const d = [...this.durations].sort((a, b) => a - b);
    const first = this.backAt.length > 0 ? Math.min(...this.backAt) : undefined;
    const last = this.backAt.length > 0 ? Math.max(...this.backAt) : undefined;
    return {
      group: this.group,
      operation: this.operation,
      reconnected: this.backAt.length,
      ...(first !== undefined ? { firstBackS: since(this.t0, first) } : {}),
      ...(last !== undefined ? { lastBackS: since(this.t0, last) } : {}),
      resyncsStarted: this.started,
      resyncsDone: d.length,
      resyncsFailed: this.failed,
      ...(this.firstError !== undefined ? { firstError: this.firstError } : {}),
      ...(this.lastDone !== undefined ? { lastResyncDoneS: since(this.t0, this.lastDone) } : {}),
      ...(d.length > 0 ? { resyncP50S: d[Math.floor(d.length / 2)]!, resyncMaxS: d[d.length - 1]! } : {}),
    };
  }
}

export interface FanoutAgentRow {
  readonly host: string;
  sent: number;
  delivered: number;
  lost: number;
  late: number;
  duplicated: number;
  /** Delivery delay after the send, ms: max over this agent's fanouts. */
  maxDelayMs: number;
}

export interface FanoutSummary {
  readonly group: string;
  readonly method: string;
  readonly lateAfterS: number;
  /** Fanouts of the method sent in the window. */
  readonly sent: number;
  readonly agents: number;
  readonly delivered: number;
  readonly lost: number;
  readonly late: number;
  readonly duplicated: number;
  /** Delivery delay over every (fanout, agent): p50, p99, max in ms. */
  readonly delayP50Ms?: number;
  readonly delayP99Ms?: number;
  readonly delayMaxMs?: number;
  /** Agents with the most lost + late first (all of them: JSON; the console shows a few). */
  readonly perAgent: FanoutAgentRow[];
}

export class FanoutTracker {
  /** `${uniqueId} ${host}` → first delivery time. */
  private readonly first = new Map<string, number>();
  readonly hosts = new Set<string>();

  constructor(
    readonly group: string,
    readonly method: string,
    readonly lateAfterS: number,
  ) {}

  onEvent(e: EmulationEvent): void {
    if (e.type === 'connected' && e.group === this.group) this.hosts.add(e.service);
    if (e.type !== 'received' || e.group !== this.group || e.method !== this.method) return;
    if (e.uniqueId === undefined) return;
    const k = `${e.uniqueId} ${e.service}`;
    if (!this.first.has(k)) this.first.set(k, e.ts);
  }

  /** Per agent over the fanouts of the method sent in [from, to). */
  summary(messages: Iterable<MessageRecord>, from: number, to: number): FanoutSummary {
    const rows = new Map<string, FanoutAgentRow>();
    for (const h of this.hosts)
      rows.set(h, { host: h, sent: 0, delivered: 0, lost: 0, late: 0, duplicated: 0, maxDelayMs: 0 });
    const delays: number[] = [];
    let sent = 0;
    for (const m of messages) {
      // the accounting keys a fanout by `<topic>.<method>`, the receiver by the method alone
      const method = m.method === this.method || m.method.endsWith(`.${this.method}`);
      if (m.kind !== 'fanout' || !method || m.sentAt < from || m.sentAt >= to) continue;
      sent++;
      for (const r of rows.values()) {
        r.sent++;
        const n = m.deliveries.get(r.host) ?? 0;
        const at = this.first.get(`${m.id} ${r.host}`);
        if (n === 0 && at === undefined) {
          r.lost++;
          continue;
        }
        r.delivered++;
        if (n > 1) r.duplicated++;
        if (at !== undefined) {
          const d = Math.max(0, at - m.sentAt);
          delays.push(d);
          if (d > r.maxDelayMs) r.maxDelayMs = d;
          if (d > this.lateAfterS * 1000) r.late++;
        }
      }
    }
    const all = [...rows.values()];
    const sum = (k: 'delivered' | 'lost' | 'late' | 'duplicated') => all.reduce((n, r) => n + r[k], 0);
    delays.sort((a, b) => a - b);
    const q = (p: number) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))]!;
    return {
      group: this.group,
      method: this.method,
      lateAfterS: this.lateAfterS,
      sent,
      agents: all.length,
      delivered: sum('delivered'),
      lost: sum('lost'),
      late: sum('late'),
      duplicated: sum('duplicated'),
      ...(delays.length > 0
        ? { delayP50Ms: q(0.5), delayP99Ms: q(0.99), delayMaxMs: delays[delays.length - 1]! }
        : {}),
      perAgent: all.sort((a, b) => b.lost + b.late - (a.lost + a.late) || a.host.localeCompare(b.host)),
    };
  }
}

export interface OrphanPoint {
  readonly t: number;
  /** Queues without a consumer that a killed process left: fanout and reply queues. */
  readonly orphans: number;
  /** Messages sitting in them: copies routed to dead agents. */
  readonly messages: number;
  readonly memBytes: number;
  /** Every queue of the vhost: messages and memory. */
  readonly queues: number;
  readonly queueMessages: number;
  readonly queueMemBytes: number;
}

export interface OrphanSummary {
  /** Distinct orphan queues seen. */
  readonly orphanQueues: number;
  /** Copies routed to orphans: per queue the most messages it held, summed. */
  readonly messagesToOrphans: number;
  readonly peakOrphanMemBytes: number;
  /** First time an orphan was seen and the time the last one was gone (expired), since t0. */
  readonly firstSeenS?: number;
  readonly allGoneS?: number;
  readonly points: OrphanPoint[];
}

interface QueueRow {
  readonly name: string;
  readonly messages?: number;
  readonly memory?: number;
  readonly consumers?: number;
}

const ORPHAN_NAME = /_fanout_|^reply_/;

export class OrphanSampler {
  readonly points: OrphanPoint[] = [];
  private readonly peak = new Map<string, number>();
  /** The fanout and reply queues killed processes left behind (their exact names). */
  private readonly left = new Set<string>();
  private readonly mgmt: ManagementClient;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private firstSeen: number | undefined;
  private goneAt: number | undefined;

  constructor(
    cluster: Cluster,
    private readonly vhost: string,
    private readonly t0: number,
  ) {
    this.mgmt = new ManagementClient({
      url: cluster.mgmtUrl(1),
      user: 'guest',
      password: 'guest',
      timeoutMs: 4000,
    });
  }

  /** Queues of killed processes: the fanout and reply ones stay (the topic.<host> one is reused). */
  leftBehind(names: readonly string[]): void {
    for (const n of names) if (ORPHAN_NAME.test(n)) this.left.add(n);
  }

  start(everyMs = 2000): void {
    this.timer = setInterval(() => void this.sample(), everyMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample now (also the last one, after the run). */
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const qs = await this.mgmt.get<QueueRow[]>(
        `/api/queues/${encodeURIComponent(this.vhost)}?columns=name,messages,memory,consumers`,
      );
      let orphans = 0;
      let messages = 0;
      let mem = 0;
      let qm = 0;
      let qmem = 0;
      for (const q of qs) {
        qm += q.messages ?? 0;
        qmem += q.memory ?? 0;
        if (!this.left.has(q.name)) continue;
        orphans++;
        messages += q.messages ?? 0;
        mem += q.memory ?? 0;
        this.peak.set(q.name, Math.max(this.peak.get(q.name) ?? 0, q.messages ?? 0));
      }
      const t = since(this.t0, Date.now());
      if (orphans > 0) {
        this.firstSeen ??= t;
        this.goneAt = undefined;
      } else if (this.firstSeen !== undefined) this.goneAt ??= t;
      this.points.push({
        t,
        orphans,
        messages,
        memBytes: mem,
        queues: qs.length,
        queueMessages: qm,
        queueMemBytes: qmem,
      });
    } catch {
      // the broker may be down (a node fault): the next sample tells
    } finally {
      this.busy = false;
    }
  }

  summary(): OrphanSummary {
    return {
      orphanQueues: this.peak.size,
      messagesToOrphans: [...this.peak.values()].reduce((a, b) => a + b, 0),
      peakOrphanMemBytes: this.points.reduce((m, p) => Math.max(m, p.memBytes), 0),
      ...(this.firstSeen !== undefined ? { firstSeenS: this.firstSeen } : {}),
      ...(this.goneAt !== undefined ? { allGoneS: this.goneAt } : {}),
      points: this.points,
    };
  }
}

/** What a storm run adds to the ledger (ChaosResult.storm). */
export interface StormResult {
  readonly resync?: ResyncSummary;
  readonly fanout?: FanoutSummary;
  readonly orphans?: OrphanSummary;
  /** Broker memory (sum over nodes), MiB: before the first fault, peak, at the end. */
  readonly brokerMemMiB?: { readonly before?: number; readonly peak: number; readonly end?: number };
  /** Messages in the vhost's queues: peak over the run. */
  readonly peakQueueDepth?: number;
}

/** The storm's lines for the console (progress) and the text report. */
export function stormLines(s: StormResult): string[] {
  const out: string[] = [];
  const r = s.resync;
  if (r !== undefined)
    out.push(
      `resync (${r.operation}) of ${r.group}: ${r.reconnected} came back between t=${r.firstBackS ?? '-'}s and t=${r.lastBackS ?? '-'}s; ` +
        `${r.resyncsDone}/${r.resyncsStarted} resyncs done (${r.resyncsFailed} failed), last done t=${r.lastResyncDoneS ?? '-'}s, ` +
        `per agent p50 ${r.resyncP50S?.toFixed(2) ?? '-'} s, max ${r.resyncMaxS?.toFixed(2) ?? '-'} s${r.firstError !== undefined ? `; first failure: ${r.firstError}` : ''}`,
    );
  const f = s.fanout;
  if (f !== undefined) {
    out.push(
      `fanout ${f.method} to ${f.agents} ${f.group}: ${f.sent} sent in the window, ${f.sent * f.agents} expected deliveries: ` +
        `${f.delivered} delivered, ${f.lost} lost, ${f.late} late (> ${f.lateAfterS} s), ${f.duplicated} duplicated; ` +
        `delay p50 ${f.delayP50Ms ?? '-'} ms, p99 ${f.delayP99Ms ?? '-'} ms, max ${f.delayMaxMs ?? '-'} ms`,
    );
    const worst = f.perAgent.slice(0, 3);
    out.push(
      `  worst agents: ${worst.map((a) => `${a.host} ${a.delivered}/${a.sent} delivered, ${a.lost} lost, ${a.late} late, max ${a.maxDelayMs} ms`).join('; ')}`,
    );
  }
  const o = s.orphans;
  if (o !== undefined)
    out.push(
      `orphans: ${o.orphanQueues} queues without consumer (first seen t=${o.firstSeenS ?? '-'}s, all expired by t=${o.allGoneS ?? '(not within the run)'}${o.allGoneS !== undefined ? 's' : ''}), ` +
        `${o.messagesToOrphans} copies routed to them, peak orphan memory ${(o.peakOrphanMemBytes / 1048576).toFixed(1)} MiB`,
    );
  const m = s.brokerMemMiB;
  if (m !== undefined)
    out.push(
      `broker memory: ${m.before?.toFixed(0) ?? '-'} MiB before the first fault, peak ${m.peak.toFixed(0)} MiB, ${m.end?.toFixed(0) ?? '-'} MiB at the end; peak queue depth ${s.peakQueueDepth ?? '-'} messages`,
    );
  return out;
}
