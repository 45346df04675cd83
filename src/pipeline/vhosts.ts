/**
 * Which vhost each AMQP connection of a capture belongs to. A tcpdump on a shared broker mixes
 * nova, neutron, cinder… vhosts; the vhost is on the wire only in Connection.Open, which a capture
 * that starts mid-connection never sees. So, in this order of trust:
 *   1. `open`: Connection.Open (pcap) or the record's own vhost (tracing log, firehose);
 *   2. `learned`: the connection used an exchange, or answered / received on a reply queue, that a
 *      connection of known vhost used (exchange names and reply queues are per vhost);
 *   3. `exchange`: the oslo control exchange it publishes to or receives from (`nova`, `neutron`),
 *      which names the vhost in common deployments, or learned (as in 2) from a connection known
 *      that way: an inference, counted as such.
 * Connections with none of these stay unknown (a `--vhost` filter drops them, counted).
 */
import type { ConnectionRef, RpcMessage, TopologyEvent } from '../records.ts';

export type VhostHow = 'open' | 'learned' | 'exchange';

/** "/nova" and "nova" are one vhost (oslo URLs give the path); "/" stays "/". */
export function normalizeVhost(v: string): string {
  return v.length > 1 && v.startsWith('/') ? v.slice(1) : v;
}

interface ConnVhost {
  vhost?: string;
  how?: VhostHow;
  /** Exchanges it published to or received from (not the default one). */
  readonly exchanges: Set<string>;
  /** Reply queues it named in calls, answered to, or received replies on. */
  readonly replyQueues: Set<string>;
  /** Control exchanges of its calls, casts and notifications: the weakest evidence. */
  readonly control: Set<string>;
}

/** Most evidence kept per connection (a connection uses few exchanges; this bounds a pathological one). */
const MAX_EVIDENCE = 64;

const add = (s: Set<string>, v: string) => {
  if (s.size < MAX_EVIDENCE) s.add(v);
};

/** The vhost `map` gives the first of `keys` it knows. */
function firstIn(keys: Iterable<string>, map: ReadonlyMap<string, string>): string | undefined {
  for (const k of keys) {
    const v = map.get(k);
    if (v !== undefined) return v;
  }
  return undefined;
}

export class VhostResolver {
  readonly #conns = new Map<string, ConnVhost>();
  readonly #byExchange = new Map<string, string>();
  readonly #byReplyQueue = new Map<string, string>();
  /** The same, taught by connections whose vhost is itself inferred (rule 3). */
  readonly #guessByExchange = new Map<string, string>();
  readonly #guessByReplyQueue = new Map<string, string>();

  #conn(c: ConnectionRef): ConnVhost {
    let a = this.#conns.get(c.id);
    if (a === undefined) {
      a = { exchanges: new Set(), replyQueues: new Set(), control: new Set() };
      this.#conns.set(c.id, a);
    }
    if (c.vhost !== undefined && a.how !== 'open') this.#set(a, normalizeVhost(c.vhost), 'open');
    return a;
  }

  #set(a: ConnVhost, vhost: string, how: VhostHow): void {
    a.vhost = vhost;
    a.how = how;
    this.#teach(a, a.exchanges, a.replyQueues);
  }

  /** What a resolved connection used now points to its vhost (a guess teaches only guesses). */
  #teach(a: ConnVhost, exchanges: Iterable<string>, replyQueues: Iterable<string>): void {
    const v = a.vhost as string;
    const sure = a.how !== 'exchange';
    const ex = sure ? this.#byExchange : this.#guessByExchange;
    const rq = sure ? this.#byReplyQueue : this.#guessByReplyQueue;
    for (const e of exchanges) if (!ex.has(e)) ex.set(e, v);
    for (const q of replyQueues) if (!rq.has(q)) rq.set(q, v);
  }

  topology(t: TopologyEvent): void {
    if (t.connection !== undefined) this.#conn(t.connection);
  }

  message(m: RpcMessage): void {
    const c = m.wire.connection;
    if (c === undefined) return;
    const a = this.#conn(c);
    const ex = m.wire.exchange;
    const rk = m.wire.routingKey;
    const fresh: string[] = [];
    const freshQ: string[] = [];
    if (ex !== '' && !ex.startsWith('reply_')) {
      if (!a.exchanges.has(ex)) fresh.push(ex);
      add(a.exchanges, ex);
      if ((m.kind === 'call' || m.kind === 'cast' || m.kind === 'notification') && !ex.endsWith('_fanout'))
        add(a.control, ex);
    }
    const q = m.kind === 'reply' ? (ex.startsWith('reply_') ? ex : rk) : m.replyQ;
    if (q !== undefined && q !== '') {
      if (!a.replyQueues.has(q)) freshQ.push(q);
      add(a.replyQueues, q);
    }
    if (!this.#infer(a) && a.vhost !== undefined) this.#teach(a, fresh, freshQ);
  }

  /** Rules 2 and 3 for one connection; true when it changed. */
  #infer(a: ConnVhost): boolean {
    if (a.how === 'open' || a.how === 'learned') return false;
    const learned = firstIn(a.exchanges, this.#byExchange) ?? firstIn(a.replyQueues, this.#byReplyQueue);
    if (learned !== undefined) {
      this.#set(a, learned, 'learned');
      return true;
    }
    if (a.how !== undefined) return false;
    const guess =
      [...a.control][0] ??
      firstIn(a.exchanges, this.#guessByExchange) ??
      firstIn(a.replyQueues, this.#guessByReplyQueue);
    if (guess === undefined) return false;
    this.#set(a, guess, 'exchange');
    return true;
  }

  /** Propagates what was learned until nothing changes (after a whole capture was seen). */
  settle(): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const a of this.#conns.values()) if (this.#infer(a)) changed = true;
    }
  }

  /** The connection's vhost and how it is known; undefined when nothing tells. */
  vhostOf(connectionId: string | undefined): { vhost: string; how: VhostHow } | undefined {
    if (connectionId === undefined) return undefined;
    const a = this.#conns.get(connectionId);
    if (a?.vhost === undefined || a.how === undefined) return undefined;
    return { vhost: a.vhost, how: a.how };
  }
}
