/**
 * Which OpenStack service sits behind each AMQP connection, with the evidence for it:
 * 1. the `connection_name` client property oslo.messaging sets ("<binary>:<pid>:<uuid>",
 *    impl_rabbit.py Connection: `connection_name = "%s:%s:%s" % (binary, pid, uuid)`), from the
 *    handshake (Connection.StartOk) in a pcap or a ConnectionRef.name;
 * 2. the queues it consumes: an RPC server consumes `<topic>`, `<topic>.<host>` and
 *    `<topic>_fanout_<id>` (amqpdriver.py listen());
 * 3. the notifications it publishes (`publisher_id` "<binary>:<host>" or "<topic>.<host>");
 * 4. the replies it publishes: oslo replies from the server process, so a connection that answers
 *    calls delivered on `<topic>` belongs to the `<topic>` service (oslo sends on pooled
 *    connections, not the consuming one).
 */

import type { RpcCall, RpcMessage, TopologyEvent } from '../records.ts';
import { fanoutQueueName, parseQueueName, TRACE_EXCHANGE } from '../wire/naming.ts';

export interface ConnectionService {
  readonly connection: string;
  /** e.g. "nova-compute"; "unknown" when nothing in the capture tells. */
  readonly service: string;
  readonly host?: string;
  /** Process id from `connection_name`, when seen. */
  readonly pid?: number;
  /** Why: the strongest piece of evidence first. */
  readonly evidence: string[];
}

/** Topics of the common OpenStack RPC servers → their service binary. */
const TOPIC_SERVICE: Record<string, string> = {
  conductor: 'nova-conductor',
  scheduler: 'nova-scheduler',
  compute: 'nova-compute',
  consoleauth: 'nova-consoleauth',
  'cinder-volume': 'cinder-volume',
  'cinder-scheduler': 'cinder-scheduler',
  'cinder-backup': 'cinder-backup',
  'q-agent-notifier': 'neutron-agent',
  'q-plugin': 'neutron-server',
  'q-l3-plugin': 'neutron-server',
  dhcp_agent: 'neutron-dhcp-agent',
  l3_agent: 'neutron-l3-agent',
};

export function serviceOfTopic(topic: string): string {
  return TOPIC_SERVICE[topic] ?? topic;
}

/** "<binary>:<pid>:<uuid>" → binary and pid. */
export function parseConnectionName(name: string): { service: string; pid?: number } | undefined {
  const m = /^(.+):(\d+):[0-9a-fA-F-]{8,}$/.exec(name);
  if (m === null) return name.trim() === '' ? undefined : { service: name };
  return { service: m[1] as string, pid: Number(m[2]) };
}

/** A queue an RPC server consumes → topic and host (reply and anonymous queues → undefined). */
export function topicOfQueue(queue: string): { topic: string; host?: string } | undefined {
  const q = parseQueueName(queue);
  switch (q.kind) {
    case 'fanout':
    case 'topic':
      return { topic: q.topic };
    case 'server':
      return { topic: q.topic, host: q.server };
    default:
      // reply and anonymous queues; notifications.info etc. are notification queues, not RPC servers
      return undefined;
  }
}

interface Acc {
  named?: { service: string; pid?: number };
  consumed: Map<string, { topic: string; host?: string }>;
  published?: { service: string; host?: string };
  answers: Map<string, number>;
  trace: boolean;
}

/**
 * Collects the evidence incrementally (a report over a capture larger than memory feeds it one
 * record at a time); `result()` may be called at any point.
 */
export class ServiceEvidence {
  readonly #acc = new Map<string, Acc>();
  /**
   * Connections of one process share its reply queue: the caller publishes calls with `_reply_q`
   * R on a pooled connection and consumes R on another (amqpdriver.py ReplyWaiter).
   */
  readonly #byReplyQ = new Map<string, Set<string>>();

  #get(id: string): Acc {
    let a = this.#acc.get(id);
    if (a === undefined) {
      a = { consumed: new Map(), answers: new Map(), trace: false };
      this.#acc.set(id, a);
    }
    return a;
  }

  #name(id: string, raw: unknown): void {
    const n = raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : raw;
    if (typeof n !== 'string') return;
    const p = parseConnectionName(n);
    if (p !== undefined) this.#get(id).named = p;
  }

  #consume(id: string, queue: string): void {
    const a = this.#get(id);
    if (a.consumed.has(queue)) return;
    const t = topicOfQueue(queue);
    if (t !== undefined) a.consumed.set(queue, t);
  }

  #link(replyQ: string, id: string): void {
    let g = this.#byReplyQ.get(replyQ);
    if (g === undefined) {
      g = new Set();
      this.#byReplyQ.set(replyQ, g);
    }
    g.add(id);
  }

  topology(t: TopologyEvent): void {
    if (t.type === 'connection-open') {
      this.#get(t.connection.id);
      this.#name(t.connection.id, t.clientProperties.connection_name ?? t.connection.name);
    } else if (t.type === 'consume' && t.connection !== undefined) {
      this.#consume(t.connection.id, t.queue);
    }
  }

  message(m: RpcMessage): void {
    const c = m.wire.connection;
    if (c === undefined) return;
    const a = this.#get(c.id);
    if (c.name !== undefined && a.named === undefined) this.#name(c.id, c.name);
    if (m.wire.event === 'deliver') {
      if (m.exchange === TRACE_EXCHANGE) a.trace = true;
      else if (m.wire.queue !== undefined) this.#consume(c.id, m.wire.queue);
      else if (m.kind === 'call' || m.kind === 'cast') {
        // A pcap that starts mid-connection has no Basic.Consume naming the queue; oslo binds
        // `<topic>` and `<topic>.<server>` queues with those routing keys, so the key names it.
        this.#consume(c.id, m.wire.routingKey);
      } else if (m.kind === 'fanout') this.#consume(c.id, fanoutQueueName(m.topic, '…'));
      if (m.kind === 'reply' && m.replyQ !== undefined) this.#link(m.replyQ, c.id);
    }
    if (m.wire.event === 'publish' && m.kind === 'call' && m.replyQ !== undefined) this.#link(m.replyQ, c.id);
    if (m.wire.event === 'publish' && m.kind === 'notification' && m.publisherId !== undefined) {
      const p = m.publisherId;
      const colon = p.indexOf(':');
      const dot = p.indexOf('.');
      if (colon > 0) a.published = { service: p.slice(0, colon), host: p.slice(colon + 1) };
      else if (a.published === undefined && dot > 0)
        a.published = { service: serviceOfTopic(p.slice(0, dot)), host: p.slice(dot + 1) };
    }
  }

  call(call: RpcCall): void {
    const r = call.reply?.wire.connection;
    if (r === undefined || call.reply?.wire.event !== 'publish') return;
    const a = this.#get(r.id);
    a.answers.set(call.call.topic, (a.answers.get(call.call.topic) ?? 0) + 1);
  }

  result(): ConnectionService[] {
    const byReplyQ = this.#byReplyQ;
    const out: ConnectionService[] = [];
    const direct = new Map<string, ConnectionService>();
    for (const [id, a] of this.#acc) {
      const evidence: string[] = [];
      let service: string | undefined;
      let host: string | undefined;
      if (a.named !== undefined) {
        service = a.named.service;
        evidence.push(
          `connection_name ${a.named.service}${a.named.pid !== undefined ? `:${a.named.pid}` : ''}`,
        );
      }
      if (a.trace) {
        service ??= 'firehose consumer';
        evidence.push(`consumes ${TRACE_EXCHANGE}`);
      }
      if (a.consumed.size > 0) {
        const queues = [...a.consumed.keys()].sort();
        const first = a.consumed.get(queues[0] as string);
        const withHost = [...a.consumed.values()].find((t) => t.host !== undefined);
        service ??= serviceOfTopic((withHost ?? first)?.topic ?? '');
        host ??= withHost?.host;
        evidence.push(`consumes ${queues.join(', ')}`);
      }
      if (a.published !== undefined) {
        service ??= a.published.service;
        host ??= a.published.host;
        evidence.push(
          `publishes notifications as ${a.published.service}${a.published.host !== undefined ? `:${a.published.host}` : ''}`,
        );
      }
      if (a.answers.size > 0) {
        const topics = [...a.answers.keys()].sort();
        service ??= serviceOfTopic(topics[0] as string);
        evidence.push(`replies to calls on ${topics.join(', ')}`);
      }
      const pid = a.named?.pid;
      direct.set(id, {
        connection: id,
        service: service ?? 'unknown',
        ...(host !== undefined ? { host } : {}),
        ...(pid !== undefined ? { pid } : {}),
        evidence,
      });
    }
    for (const [id, s] of direct) {
      if (s.service !== 'unknown') {
        out.push(s);
        continue;
      }
      let found: ConnectionService | undefined;
      let via = '';
      for (const [q, g] of byReplyQ) {
        if (!g.has(id)) continue;
        for (const other of g) {
          const o = direct.get(other);
          if (o !== undefined && o.service !== 'unknown') {
            found = o;
            via = q;
            break;
          }
        }
        if (found !== undefined) break;
      }
      if (found === undefined) out.push(s);
      else
        out.push({
          ...s,
          service: found.service,
          ...(found.host !== undefined ? { host: found.host } : {}),
          evidence: [...s.evidence, `shares reply queue ${via} with ${found.connection}`],
        });
    }
    return out.sort((x, y) => x.service.localeCompare(y.service) || x.connection.localeCompare(y.connection));
  }
}

export function identifyServices(
  messages: readonly RpcMessage[],
  calls: readonly RpcCall[],
  topology: readonly TopologyEvent[],
): ConnectionService[] {
  const e = new ServiceEvidence();
  for (const t of topology) e.topology(t);
  for (const m of messages) e.message(m);
  for (const c of calls) e.call(c);
  return e.result();
}
