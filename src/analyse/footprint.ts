/**
 * Broker footprint per process: what one OpenStack process holds on the broker — connections,
 * channels, the queues it consumes by kind (topic, topic.host, fanout, reply), the bindings to
 * them and the exchanges those come from — the figures a capacity planner multiplies by the
 * number of hypervisors. Read from a management-API snapshot (the rig's meta.json
 * `snapshot_end`: connections with `connection_name` "<binary>:<pid>:<uuid>", channels, queues
 * with `consumed_by`, bindings). The default exchange's implicit bindings are left out.
 */
import { parseConnectionName } from '../correlate/services.ts';
import { parseQueueName } from '../wire/naming.ts';

export interface SnapshotVhost {
  readonly connections?: readonly { readonly name: string; readonly connection_name?: string | null }[];
  readonly channels?: readonly { readonly connection: string }[];
  readonly queues?: readonly { readonly name: string; readonly consumed_by?: readonly string[] }[];
  readonly bindings?: readonly { readonly source: string; readonly destination: string }[];
}

export interface ProcessFootprint {
  readonly vhost: string;
  /** Binary from connection_name, e.g. "neutron-openvswitch-agent". */
  readonly service: string;
  readonly pid?: number;
  readonly connections: number;
  readonly channels: number;
  readonly queues: {
    readonly total: number;
    readonly topic: number;
    readonly topicHost: number;
    readonly fanout: number;
    readonly reply: number;
    readonly other: number;
  };
  readonly bindings: number;
  readonly exchanges: number;
  /** Names of the queues it consumes, sorted. */
  readonly queueNames: readonly string[];
}

/** One process per (vhost, binary, pid); connections without a name are left out. */
export function footprintOf(snapshot: Readonly<Record<string, SnapshotVhost>>): ProcessFootprint[] {
  const out: ProcessFootprint[] = [];
  for (const [vhost, v] of Object.entries(snapshot)) {
    const procs = new Map<
      string,
      { service: string; pid?: number; conns: Set<string>; names: Set<string> }
    >();
    for (const c of v.connections ?? []) {
      const p = c.connection_name ? parseConnectionName(c.connection_name) : undefined;
      if (p === undefined) continue;
      const key = `${p.service}:${p.pid ?? ''}`;
      let e = procs.get(key);
      if (e === undefined) {
        e = {
          service: p.service,
          ...(p.pid !== undefined ? { pid: p.pid } : {}),
          conns: new Set(),
          names: new Set(),
        };
        procs.set(key, e);
      }
      e.conns.add(c.name);
      // the snapshot's consumed_by names the consuming connection by its connection_name
      if (c.connection_name) e.names.add(c.connection_name);
    }
    for (const p of procs.values()) {
      const queues = (v.queues ?? []).filter((q) =>
        (q.consumed_by ?? []).some((c) => p.conns.has(c) || p.names.has(c)),
      );
      const names = new Set(queues.map((q) => q.name));
      const counts = { total: queues.length, topic: 0, topicHost: 0, fanout: 0, reply: 0, other: 0 };
      for (const q of queues) {
        // neutron-vo-<Resource>-<major>.<minor>: the version's dot is not a server separator
        const k = /^neutron-vo-[A-Za-z]+-\d+\.\d+$/.test(q.name) ? 'topic' : parseQueueName(q.name).kind;
        if (k === 'topic') counts.topic++;
        else if (k === 'server') counts.topicHost++;
        else if (k === 'fanout') counts.fanout++;
        else if (k === 'reply') counts.reply++;
        else counts.other++;
      }
      const bindings = (v.bindings ?? []).filter((b) => b.source !== '' && names.has(b.destination));
      out.push({
        vhost,
        service: p.service,
        ...(p.pid !== undefined ? { pid: p.pid } : {}),
        connections: p.conns.size,
        channels: (v.channels ?? []).filter((c) => p.conns.has(c.connection)).length,
        queues: counts,
        bindings: bindings.length,
        exchanges: new Set(bindings.map((b) => b.source)).size,
        queueNames: [...names].sort(),
      });
    }
  }
  return out.sort(
    (a, b) =>
      a.vhost.localeCompare(b.vhost) || a.service.localeCompare(b.service) || (a.pid ?? 0) - (b.pid ?? 0),
  );
}
