/**
 * The broker seen from outside during a chaos run: every second, through whichever node's
 * management API answers, memory per node, queue depth, connections and running nodes; at the
 * end, the vhost's own message counters.
 */
import type { Cluster } from '../broker/cluster.ts';
import { ManagementClient } from '../broker/management.ts';
import type { BrokerCounters, TimelinePoint } from './types.ts';

export interface BrokerSamplerOptions {
  readonly cluster: Cluster;
  readonly vhost: string;
  /** Date.now() when the steady state began: point times count from here. */
  readonly t0: number;
  /** Messages sent so far by the emulation (a running total). */
  readonly sentTotal: () => number;
  /** Reconnections since the last call (the caller resets its count). */
  readonly takeReconnects: () => number;
}

export class BrokerSampler {
  readonly points: TimelinePoint[] = [];
  private readonly mgmts: ManagementClient[];
  private timer: NodeJS.Timeout | undefined;
  private sentBefore = 0;
  private busy = false;

  constructor(private readonly o: BrokerSamplerOptions) {
    this.mgmts = o.cluster.nodes.map(
      (n) =>
        new ManagementClient({
          url: o.cluster.mgmtUrl(n.index),
          user: 'guest',
          password: 'guest',
          timeoutMs: 1500,
        }),
    );
  }

  start(): void {
    this.timer = setInterval(() => void this.sample(), 1000);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The vhost's message counters, from the first node that answers. */
  async counters(): Promise<BrokerCounters> {
    let last = '';
    for (const m of this.mgmts) {
      try {
        const v = await m.vhost(this.o.vhost);
        const s = (v.message_stats ?? {}) as Record<string, number | undefined>;
        return {
          ...(s.publish !== undefined ? { publish: s.publish } : {}),
          ...(s.confirm !== undefined ? { confirm: s.confirm } : {}),
          ...(s.deliver !== undefined ? { deliver: s.deliver } : {}),
          ...(s.redeliver !== undefined ? { redeliver: s.redeliver } : {}),
          ...(s.return_unroutable !== undefined ? { returnUnroutable: s.return_unroutable } : {}),
          ...(typeof v.messages === 'number' ? { messagesLeft: v.messages } : {}),
        };
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
    }
    return { error: last };
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const t = Math.round((Date.now() - this.o.t0) / 1000);
      const total = this.o.sentTotal();
      const sent = total - this.sentBefore;
      this.sentBefore = total;
      const memBytes: Record<string, number> = {};
      let queueDepth: number | undefined;
      let connections: number | undefined;
      let nodesRunning: number | undefined;
      for (const m of this.mgmts) {
        try {
          const [nodes, q] = await Promise.all([m.nodes(), m.vhost(this.o.vhost)]);
          for (const n of nodes) if (n.running && n.mem_used !== undefined) memBytes[n.name] = n.mem_used;
          nodesRunning = nodes.filter((n) => n.running).length;
          queueDepth = typeof q.messages === 'number' ? q.messages : undefined;
          const ov = await m.overview();
          connections = ov.object_totals?.connections;
          break;
        } catch {
          // next node
        }
      }
      this.points.push({
        t,
        calls: 0,
        ok: 0,
        sent,
        reconnects: this.o.takeReconnects(),
        memBytes,
        ...(queueDepth !== undefined ? { queueDepth } : {}),
        ...(connections !== undefined ? { connections } : {}),
        ...(nodesRunning !== undefined ? { nodesRunning } : {}),
      });
    } finally {
      this.busy = false;
    }
  }
}
