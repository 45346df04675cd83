/**
 * Broker hazards from the management API: the conditions operators of large clouds have been
 * bitten by (see REFERENCES.md), each naming the queue, connection or node it is about.
 *
 * - fanout queues without consumer: `<topic>_fanout_<id>` left by a restarted agent keep receiving
 *   every fanout until `x-expires` (30 min by default) runs out (LINE deleted these by script;
 *   LP 1606213);
 * - reply queues without consumer: `reply_<id>` of a caller that went away; the server's replies
 *   pile up or come back NO_ROUTE (LP 1905965);
 * - dead fanouts: a `<topic>_fanout` exchange no queue is bound to; what is published there is
 *   dropped by the broker (neutron Zed still sends the legacy `q-agent-notifier-port-update_fanout`,
 *   `…-port-delete_fanout`, `…-network-delete_fanout`, `…-security_group-update_fanout`);
 * - queues growing without consumers, e.g. `notifications.info` when nothing reads notifications;
 * - connection churn (RabbitMQ "does not like at all large queue/connection churn", OVHcloud);
 * - node memory / disk alarms (publishers blocked) and file descriptors or sockets near the limit.
 *
 * `assessHazards` is pure (snapshot + previous state in, hazards out); `HealthPoller` does the I/O.
 */
import { parseQueueName } from '../wire/naming.ts';
import type { Binding, Connection, Exchange, ManagementClient, Node, Queue } from './management.ts';

export type HazardKind =
  | 'dead-fanout'
  | 'fanout-queue-no-consumer'
  | 'reply-queue-no-consumer'
  | 'queue-growing-no-consumer'
  | 'connection-churn'
  | 'memory-alarm'
  | 'disk-alarm'
  | 'fd-near-limit'
  | 'sockets-near-limit';

export interface Hazard {
  readonly kind: HazardKind;
  /** The queue ("vhost/name"), connection group or node the hazard is about. */
  readonly object: string;
  readonly detail: string;
  /** Messages waiting (queues), events per minute (churn), used fraction (fd/sockets). */
  readonly value: number;
  /** When this hazard was first seen (epoch ms). */
  readonly since: number;
}

export interface BrokerSnapshot {
  readonly ts: number;
  readonly queues: readonly Queue[];
  readonly connections: readonly Connection[];
  readonly nodes: readonly Node[];
  /** With bindings: dead fanouts, and which exchange an orphan queue still hears. */
  readonly exchanges?: readonly Exchange[];
  readonly bindings?: readonly Binding[];
}

/** oslo's fanout exchanges: `<topic>_fanout` (the broker's own `amq.fanout` is not oslo's). */
const isOsloFanout = (e: { name: string; type: string }) =>
  e.type === 'fanout' && e.name.endsWith('_fanout') && !e.name.startsWith('amq.');

/**
 * The neutron hazards a snapshot of exchanges, bindings and queues shows, each named: dead
 * fanouts (an oslo fanout exchange without a binding: the broker drops what is published there)
 * and orphan fanout / reply queues (no consumer, still bound, kept alive by `x-expires`: every
 * fanout to the exchange they are bound to is delivered to them as well — a duplicate of the
 * live agent's copy that nobody reads). Pure; `assessHazards` includes these when the snapshot
 * has bindings.
 */
export function topologyHazards(snap: {
  readonly exchanges: readonly Pick<Exchange, 'name' | 'type'>[];
  readonly bindings: readonly Binding[];
  readonly queues: readonly Pick<Queue, 'name' | 'consumers' | 'messages' | 'arguments'>[];
  readonly vhost?: string;
}): { kind: HazardKind; object: string; detail: string; value: number }[] {
  const at = (n: string) => (snap.vhost !== undefined ? `${snap.vhost}/${n}` : n);
  const boundFrom = new Map<string, string[]>();
  const boundTo = new Set<string>();
  for (const b of snap.bindings) {
    if (b.destination_type !== 'queue' || b.source === '') continue;
    boundTo.add(b.source);
    const l = boundFrom.get(b.destination);
    if (l === undefined) boundFrom.set(b.destination, [b.source]);
    else l.push(b.source);
  }
  const out: { kind: HazardKind; object: string; detail: string; value: number }[] = [];
  for (const e of snap.exchanges)
    if (isOsloFanout(e) && !boundTo.has(e.name))
      out.push({
        kind: 'dead-fanout',
        object: at(e.name),
        detail: `fanout exchange ${e.name} has no queue bound: every message published to it is dropped by the broker`,
        value: 0,
      });
  for (const q of snap.queues) {
    if (q.consumers !== 0) continue;
    const kind = parseQueueName(q.name).kind;
    if (kind !== 'fanout' && kind !== 'reply') continue;
    const from = boundFrom.get(q.name) ?? [];
    const expires = q.arguments['x-expires'];
    const ttl = typeof expires === 'number' ? `${Math.round(expires / 60_000)} min` : 'no x-expires';
    out.push({
      kind: kind === 'fanout' ? 'fanout-queue-no-consumer' : 'reply-queue-no-consumer',
      object: at(q.name),
      detail:
        kind === 'fanout'
          ? `orphan fanout queue ${q.name}: 0 consumers, still bound to ${from.join(', ') || '(no exchange)'} (${ttl}); every fanout there is delivered to it too, a duplicate nobody reads (${q.messages ?? 0} waiting)`
          : `orphan reply queue ${q.name}: 0 consumers (its caller is gone), ${ttl}; ${q.messages ?? 0} replies waiting`,
      value: q.messages ?? 0,
    });
  }
  return out;
}

export interface HealthThresholds {
  /** Connections opened + closed per minute, per client group, above which churn is a hazard. */
  readonly churnPerMinute: number;
  /** Fraction of fd / sockets used above which the node is flagged. */
  readonly limitFraction: number;
  /** How long a queue without consumer stays "growing" after it last grew. */
  readonly growthWindowMs: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  churnPerMinute: 30,
  limitFraction: 0.9,
  growthWindowMs: 5 * 60_000,
};

/** What the assessment remembers between polls. */
export interface HealthState {
  readonly queueMessages: Map<string, number>;
  readonly queueGrewAt: Map<string, number>;
  /** Connection name → churn group, as of the previous poll. */
  readonly connections: Map<string, string> | undefined;
  /** Open/close events per group in the last minute (epoch ms each). */
  readonly churn: Map<string, { opened: number[]; closed: number[] }>;
  readonly since: Map<string, number>;
}

export function newHealthState(): HealthState {
  return {
    queueMessages: new Map(),
    queueGrewAt: new Map(),
    connections: undefined,
    churn: new Map(),
    since: new Map(),
  };
}

const queueKey = (q: Queue): string => `${q.vhost}/${q.name}`;

/** "nova-compute@10.0.0.5": oslo's binary from connection_name, and the client host. */
function churnGroup(c: Connection): string {
  const name = c.client_properties.connection_name;
  const binary =
    typeof name === 'string' ? (name.split(':')[0] ?? name) : (c.client_properties.product ?? '?');
  return `${binary}@${c.peer_host}`;
}

/**
 * Hazards of one snapshot given what was seen before; updates `state` for the next call. The
 * first call cannot tell churn or growth (no previous poll) and reports neither.
 */
export function assessHazards(
  snap: BrokerSnapshot,
  state: HealthState,
  th: HealthThresholds = DEFAULT_THRESHOLDS,
): Hazard[] {
  const out: Omit<Hazard, 'since'>[] = [];
  const now = snap.ts;
  const seenQueues = new Set<string>();
  // Orphans and dead fanouts first: a queue that is both an orphan and growing is listed by what it
  // is (the dashboard shows the first hazard of an object), then by its growth.
  if (snap.bindings !== undefined)
    for (const vhost of new Set([...snap.queues, ...(snap.exchanges ?? [])].map((x) => x.vhost)))
      out.push(
        ...topologyHazards({
          vhost,
          exchanges: (snap.exchanges ?? []).filter((e) => e.vhost === vhost),
          bindings: snap.bindings.filter((b) => b.vhost === undefined || b.vhost === vhost),
          queues: snap.queues.filter((q) => q.vhost === vhost),
        }),
      );
  for (const q of snap.queues) {
    const key = queueKey(q);
    seenQueues.add(key);
    const messages = q.messages ?? 0;
    const prev = state.queueMessages.get(key);
    state.queueMessages.set(key, messages);
    if (prev !== undefined && messages > prev) state.queueGrewAt.set(key, now);
    // A queue whose stats were not emitted yet has no `consumers`: not judged until it has.
    if (q.consumers !== 0) continue;
    const kind = parseQueueName(q.name).kind;
    // with bindings, topologyHazards below names orphans with what they are bound to
    const named = snap.bindings !== undefined;
    if (kind === 'fanout' && !named) {
      out.push({
        kind: 'fanout-queue-no-consumer',
        object: key,
        detail: `fanout queue ${q.name} has no consumer and holds ${messages} messages; every fanout to its topic still lands here until x-expires (${String(q.arguments['x-expires'] ?? 'none')} ms)`,
        value: messages,
      });
    } else if (kind === 'reply' && !named) {
      out.push({
        kind: 'reply-queue-no-consumer',
        object: key,
        detail: `reply queue ${q.name} has no consumer (caller gone?) and holds ${messages} messages`,
        value: messages,
      });
    }
    const grewAt = state.queueGrewAt.get(key);
    if (messages > 0 && grewAt !== undefined && now - grewAt <= th.growthWindowMs) {
      out.push({
        kind: 'queue-growing-no-consumer',
        object: key,
        detail: `queue ${q.name} grows without consumer: ${messages} messages (was ${prev ?? '?'} at the previous poll)`,
        value: messages,
      });
    }
  }
  for (const key of [...state.queueMessages.keys()]) {
    if (!seenQueues.has(key)) {
      state.queueMessages.delete(key);
      state.queueGrewAt.delete(key);
    }
  }

  // Connection churn: names that appeared / disappeared since the previous poll.
  const current = new Map<string, string>();
  for (const c of snap.connections) current.set(c.name, churnGroup(c));
  if (state.connections !== undefined) {
    const bump = (group: string, which: 'opened' | 'closed') => {
      let g = state.churn.get(group);
      if (g === undefined) {
        g = { opened: [], closed: [] };
        state.churn.set(group, g);
      }
      g[which].push(now);
    };
    for (const [name, group] of current) if (!state.connections.has(name)) bump(group, 'opened');
    for (const [name, group] of state.connections) if (!current.has(name)) bump(group, 'closed');
  }
  (state as { connections: Map<string, string> | undefined }).connections = current;
  for (const [group, g] of state.churn) {
    g.opened = g.opened.filter((t) => now - t <= 60_000);
    g.closed = g.closed.filter((t) => now - t <= 60_000);
    const perMinute = g.opened.length + g.closed.length;
    if (perMinute === 0) state.churn.delete(group);
    else if (perMinute > th.churnPerMinute)
      out.push({
        kind: 'connection-churn',
        object: group,
        detail: `${g.opened.length} connections opened and ${g.closed.length} closed in the last minute by ${group}`,
        value: perMinute,
      });
  }

  for (const n of snap.nodes) {
    if (n.mem_alarm === true)
      out.push({
        kind: 'memory-alarm',
        object: n.name,
        detail: `memory alarm on ${n.name}: ${n.mem_used ?? '?'} of ${n.mem_limit ?? '?'} bytes; publishers are blocked`,
        value: n.mem_limit ? (n.mem_used ?? 0) / n.mem_limit : 1,
      });
    if (n.disk_free_alarm === true)
      out.push({
        kind: 'disk-alarm',
        object: n.name,
        detail: `disk alarm on ${n.name}: ${n.disk_free ?? '?'} bytes free, limit ${n.disk_free_limit ?? '?'}; publishers are blocked`,
        value: n.disk_free ?? 0,
      });
    if (n.fd_used !== undefined && n.fd_total && n.fd_used / n.fd_total > th.limitFraction)
      out.push({
        kind: 'fd-near-limit',
        object: n.name,
        detail: `${n.name} uses ${n.fd_used} of ${n.fd_total} file descriptors`,
        value: n.fd_used / n.fd_total,
      });
    if (
      n.sockets_used !== undefined &&
      n.sockets_total &&
      n.sockets_used / n.sockets_total > th.limitFraction
    )
      out.push({
        kind: 'sockets-near-limit',
        object: n.name,
        detail: `${n.name} uses ${n.sockets_used} of ${n.sockets_total} sockets`,
        value: n.sockets_used / n.sockets_total,
      });
  }

  const present = new Set<string>();
  const hazards = out.map((h) => {
    const id = `${h.kind} ${h.object}`;
    present.add(id);
    let since = state.since.get(id);
    if (since === undefined) {
      since = now;
      state.since.set(id, since);
    }
    return { ...h, since };
  });
  for (const id of [...state.since.keys()]) if (!present.has(id)) state.since.delete(id);
  return hazards;
}

export interface QueueDepth {
  readonly queue: string;
  readonly messages: number;
  readonly consumers: number;
}

export interface HealthUpdate {
  readonly ts: number;
  readonly hazards: readonly Hazard[];
  readonly queues: readonly QueueDepth[];
  readonly connections: number;
  /** Broker connection name ("ip:port -> ip:port") → client `connection_name` (oslo: "binary:pid:uuid"). */
  readonly clientNames: ReadonlyMap<string, string>;
}

export interface HealthPollerOptions {
  readonly client: ManagementClient;
  /** Vhosts to look at; all when empty. */
  readonly vhosts: readonly string[];
  readonly intervalMs: number;
  readonly thresholds?: HealthThresholds;
  readonly onUpdate: (u: HealthUpdate) => void;
  /** Poll failures (broker restarting, API down): reported, and polling goes on. */
  readonly onError: (e: unknown) => void;
  readonly now?: () => number;
}

/** Polls the management API on an interval and hands hazards and queue depths to `onUpdate`. */
export class HealthPoller {
  private readonly state = newHealthState();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  polls = 0;
  failures = 0;

  constructor(private readonly opts: HealthPollerOptions) {}

  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.kick();
    this.timer = setInterval(() => this.kick(), this.opts.intervalMs);
    this.timer.unref();
  }

  private kick(): void {
    if (this.running !== undefined) return; // previous poll still out: skip rather than pile up
    this.running = this.pollOnce()
      .then(() => undefined)
      .catch((e: unknown) => {
        this.failures++;
        this.opts.onError(e);
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  async snapshot(): Promise<BrokerSnapshot> {
    const c = this.opts.client;
    const vhosts = this.opts.vhosts;
    const each = <T>(all: () => Promise<T[]>, one: (v: string) => Promise<T[]>): Promise<T[]> =>
      vhosts.length === 0 ? all() : Promise.all(vhosts.map(one)).then((l) => l.flat());
    const [queues, connections, nodes, exchanges, bindings] = await Promise.all([
      each(
        () => c.queues(),
        (v) => c.queues(v),
      ),
      each(
        () => c.connections(),
        (v) => c.connections(v),
      ),
      c.nodes(),
      each(
        () => c.exchanges(),
        (v) => c.exchanges(v),
      ),
      each<Binding>(
        () => c.bindings(),
        (v) => c.bindings(v),
      ),
    ]);
    return { ts: (this.opts.now ?? Date.now)(), queues, connections, nodes, exchanges, bindings };
  }

  /** One poll: fetch, assess, report. Exposed so tests and `--once` need no timer. */
  async pollOnce(): Promise<HealthUpdate> {
    const snap = await this.snapshot();
    const hazards = assessHazards(snap, this.state, this.opts.thresholds);
    this.polls++;
    const update: HealthUpdate = {
      ts: snap.ts,
      hazards,
      queues: snap.queues.map((q) => ({
        queue: `${q.vhost}/${q.name}`,
        messages: q.messages ?? 0,
        consumers: q.consumers ?? 0,
      })),
      connections: snap.connections.length,
      clientNames: new Map(
        snap.connections.flatMap((c) => {
          const n = c.client_properties.connection_name;
          return typeof n === 'string' ? [[c.name, n] as const] : [];
        }),
      ),
    };
    if (!this.closed) this.opts.onUpdate(update);
    return update;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
