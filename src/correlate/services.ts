/**
 * Which OpenStack service sits behind each AMQP connection, with the evidence for it:
 * 1. the `connection_name` client property oslo.messaging sets ("<binary>:<pid>:<uuid>",
 *    impl_rabbit.py Connection: `connection_name = "%s:%s:%s" % (binary, pid, uuid)`), from the
 *    handshake (Connection.StartOk) in a pcap or a ConnectionRef.name;
 * 2. the queues it consumes: an RPC server consumes `<topic>`, `<topic>.<host>` and
 *    `<topic>_fanout_<id>` (amqpdriver.py listen());
 * 3. the notifications it publishes (`publisher_id` "<binary>:<host>" or "<topic>.<host>");
 * 4. neutron agents: the `agent_state` (binary, host, agent_type) inside every `report_state`
 *    call (neutron/agent/rpc.py PluginReportStateAPI), which names the agent even in a capture that
 *    starts mid-connection;
 * 5. the replies it publishes: oslo replies from the server process, so a connection that answers
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
  'q-plugin': 'neutron-server',
  'q-l3-plugin': 'neutron-server',
  'q-reports-plugin': 'neutron-server',
  'q-server-resource-versions': 'neutron-server',
  dhcp_agent: 'neutron-dhcp-agent',
  l3_agent: 'neutron-l3-agent',
  // neutron's notifier publishes as "network.<host>" (neutron/common/rpc.py get_notifier('network'))
  network: 'neutron-server',
};

export function serviceOfTopic(topic: string): string {
  const known = TOPIC_SERVICE[topic];
  if (known !== undefined) return known;
  // ML2/openvswitch: the OVS agent consumes the port/network/security-group notifier topics and
  // every versioned-object push topic (neutron/plugins/ml2/drivers/openvswitch/agent/ovs_neutron_agent.py
  // setup_rpc, neutron/api/rpc/handlers/resources_rpc.py resource_type_versioned_topic)
  if (topic.startsWith('q-agent-notifier') || topic.startsWith('neutron-vo-'))
    return 'neutron-openvswitch-agent';
  return topic;
}

/**
 * neutron agent → server RPC methods and the one agent that sends each (Zed:
 * neutron/agent/rpc.py PluginApi used by the OVS agent, neutron/agent/dhcp/agent.py DhcpPluginApi,
 * neutron/agent/l3/agent.py L3PluginApi): names an agent whose report_state is not in the capture.
 */
const AGENT_METHODS: Record<string, string> = {
  get_network_details: 'neutron-openvswitch-agent',
  get_device_details: 'neutron-openvswitch-agent',
  get_devices_details_list: 'neutron-openvswitch-agent',
  get_devices_details_list_and_failed_devices: 'neutron-openvswitch-agent',
  update_device_list: 'neutron-openvswitch-agent',
  update_device_up: 'neutron-openvswitch-agent',
  update_device_down: 'neutron-openvswitch-agent',
  tunnel_sync: 'neutron-openvswitch-agent',
  bulk_pull: 'neutron-openvswitch-agent',
  get_network_info: 'neutron-dhcp-agent',
  get_active_networks_info: 'neutron-dhcp-agent',
  create_dhcp_port: 'neutron-dhcp-agent',
  update_dhcp_port: 'neutron-dhcp-agent',
  release_dhcp_port: 'neutron-dhcp-agent',
  dhcp_ready_on_ports: 'neutron-dhcp-agent',
  sync_routers: 'neutron-l3-agent',
  get_router_ids: 'neutron-l3-agent',
  update_floatingip_statuses: 'neutron-l3-agent',
  get_external_network_id: 'neutron-l3-agent',
  update_ha_routers_states: 'neutron-l3-agent',
  process_prefix_update: 'neutron-l3-agent',
  get_agent_gateway_port: 'neutron-l3-agent',
};

/** The agent that sends this method to neutron-server (q-plugin, q-l3-plugin), if only one does. */
export function neutronAgentOfMethod(topic: string, method: string | undefined): string | undefined {
  if (method === undefined || (topic !== 'q-plugin' && topic !== 'q-l3-plugin')) return undefined;
  return AGENT_METHODS[method];
}

/** Topics only neutron-server publishes to: versioned-object pushes and the agent notifiers. */
export function isServerToAgentTopic(topic: string): boolean {
  return (
    topic.startsWith('neutron-vo-') ||
    topic.startsWith('q-agent-notifier') ||
    topic === 'dhcp_agent' ||
    topic === 'l3_agent'
  );
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
  /** neutron: the agent_state of a report_state this connection sent. */
  agent?: { binary: string; host?: string; agentType?: string };
  /** neutron: an agent → server call only one agent sends, e.g. "call get_network_info to q-plugin". */
  agentCall?: { service: string; what: string };
  /** neutron: a push or agent notification only neutron-server sends, e.g. "fanout push to neutron-vo-Port-1.7". */
  serverPush?: string;
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
    if (m.wire.event === 'publish' && m.hints?.agent !== undefined) a.agent = m.hints.agent;
    if (
      m.wire.event === 'publish' &&
      a.serverPush === undefined &&
      (m.kind === 'fanout' || m.kind === 'cast') &&
      isServerToAgentTopic(m.topic)
    )
      a.serverPush = `${m.kind} ${m.method ?? '?'} to ${m.topic}`;
    if (m.wire.event === 'publish' && a.agentCall === undefined && m.kind === 'call') {
      const agent = neutronAgentOfMethod(m.topic, m.method);
      if (agent !== undefined) a.agentCall = { service: agent, what: `call ${m.method} to ${m.topic}` };
    }
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
      if (a.agent !== undefined) {
        service ??= a.agent.binary;
        host ??= a.agent.host;
        evidence.push(
          `report_state agent_state: binary ${a.agent.binary}${a.agent.host !== undefined ? `, host ${a.agent.host}` : ''}${a.agent.agentType !== undefined ? `, agent_type ${a.agent.agentType}` : ''}`,
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
      if (a.serverPush !== undefined) {
        service ??= 'neutron-server';
        evidence.push(`sends ${a.serverPush} (only neutron-server does)`);
      }
      if (a.agentCall !== undefined) {
        service ??= a.agentCall.service;
        evidence.push(`sends ${a.agentCall.what} (only ${a.agentCall.service} does)`);
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
