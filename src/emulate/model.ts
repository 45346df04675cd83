/**
 * `rpcscope model`: a scenario from an RPC spec (src/analyse/spec.ts), i.e. from real captures.
 * Background RPCs become per-service periodic tasks with their measured period, burst size and
 * body size; operations become step sequences at a chosen rate; calls' measured latency and reply
 * size become the servers' answer model. Pure: spec in, scenario object out.
 */
import type { Spec } from '../analyse/spec.ts';
import { neutronServices, SERVER_TOPICS } from './neutron.ts';
import type { ScenarioInput } from './scenario.ts';

export interface ModelOptions {
  /** Count of the scalable group (nova-compute); default: as many as the capture showed. */
  readonly computes?: number;
  /** Operations per minute by operation name or alias ("server create"); default 1. */
  readonly rates?: Readonly<Record<string, number>>;
  readonly defaultRatePerMinute?: number;
  /** Control exchange seen on the wire (nova: "nova"). */
  readonly controlExchange?: string;
  /** `_context_*` keys seen on the wire (values are synthesised). */
  readonly contextKeys?: readonly string[];
  readonly name?: string;
  readonly brokerUrl?: string;
  readonly speedup?: number;
}

type ServiceIn = ScenarioInput['services'][number];
type ServeIn = NonNullable<ServiceIn['serve']>;

/** The service consuming a topic, by nova's naming (conductor → nova-conductor). */
function listenerOf(topic: string, prefix: string): string {
  return `${prefix}-${topic}`;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export function modelFromSpec(spec: Spec, opts: ModelOptions = {}): ScenarioInput {
  const services = new Map<string, ServiceIn>();
  const ensure = (name: string): ServiceIn => {
    let s = services.get(name);
    if (s === undefined) {
      s = {
        name,
        count: 1,
        host: `${name.replace(/^nova-/, '')}-{i}`,
        topics: [],
        periodic: [],
        methods: {},
      };
      services.set(name, s);
    }
    return s;
  };
  const prefix = 'nova';
  const listens = (topic: string, name: string) => {
    const s = ensure(name);
    const topics = s.topics ?? [];
    if (!topics.includes(topic)) topics.push(topic);
    s.topics = topics;
  };
  // Answer model per listening service and method/object: measured latency, reply size.
  const serveSeen = new Map<string, { delay: number[]; reply: number[] }>();
  const noteServe = (svc: string, key: string, delay: number | undefined, reply: number | undefined) => {
    const k = `${svc}\u0000${key}`;
    const v = serveSeen.get(k) ?? { delay: [], reply: [] };
    if (delay !== undefined) v.delay.push(delay);
    if (reply !== undefined) v.reply.push(reply);
    serveSeen.set(k, v);
  };

  for (const b of spec.background) {
    const s = ensure(b.service);
    if (b.service === 'nova-compute') {
      s.scalable = true;
      s.count = opts.computes ?? Math.max(1, b.instances);
      s.host = 'compute-{i:5}';
      listens('compute', b.service);
    }
    for (const p of b.periodic) {
      if (p.kind !== 'call' && p.kind !== 'cast' && p.kind !== 'fanout' && p.kind !== 'notification')
        continue;
      const count = Math.max(1, Math.round(p.messagesPerOccurrence));
      // The measured period between runs when there were runs to measure (captures with gaps
      // between them make count/window too low); otherwise count per occurrence / measured rate.
      const periodS =
        p.periodS !== undefined && p.occurrences >= 2
          ? round(p.periodS, 2)
          : p.perMinute > 0
            ? round((60 * count) / p.perMinute, 2)
            : 60;
      const topic = p.kind === 'notification' ? p.topic : p.topic;
      s.periodic?.push({
        kind: p.kind,
        topic,
        method: p.method ?? p.eventType ?? 'unknown',
        ...(p.object !== undefined ? { object: p.object } : {}),
        ...(p.eventType !== undefined ? { eventType: p.eventType } : {}),
        periodS,
        jitter:
          p.jitterS !== undefined && p.periodS !== undefined
            ? round(Math.min(1, p.jitterS / p.periodS), 4)
            : 0,
        bytes: p.bytesMedian,
        count,
      });
      if (p.kind === 'call' || p.kind === 'cast' || p.kind === 'fanout')
        listens(p.topic, listenerOf(p.topic, prefix));
    }
  }

  const operations: NonNullable<ScenarioInput['operations']> = [];
  for (const op of spec.operations) {
    const name = op.alias ?? op.name;
    const perMinute = opts.rates?.[name] ?? opts.rates?.[op.name] ?? opts.defaultRatePerMinute ?? 1;
    const rows = [...op.rpc].filter((r) => r.kind !== 'reply' && r.kind !== 'other');
    rows.sort((a, b) => a.firstOffsetMs - b.firstOffsetMs);
    let targetsCompute = false;
    const steps = rows.map((r) => {
      ensure(r.from);
      if (r.kind !== 'notification' && r.to !== 'notifications') listens(r.topic, r.to);
      if (r.kind === 'call')
        noteServe(r.to, r.object ?? r.method ?? '', r.latencyMs?.median, r.replyBytes?.median);
      const toCompute = r.topic === 'compute' && (r.kind === 'call' || r.kind === 'cast');
      if (toCompute) targetsCompute = true;
      return {
        from: r.from,
        kind: r.kind as 'call' | 'cast' | 'fanout' | 'notification',
        topic: r.topic,
        ...(toCompute ? { server: 'op' } : {}),
        method: r.method ?? r.eventType ?? 'unknown',
        ...(r.object !== undefined ? { object: r.object } : {}),
        ...(r.eventType !== undefined ? { eventType: r.eventType } : {}),
        count: Math.max(1, Math.round(r.count.median)),
        bytes: r.bytes.median,
      };
    });
    if (steps.length === 0) continue;
    operations.push({
      name,
      perMinute,
      ...(targetsCompute ? { hostOf: 'nova-compute' } : {}),
      steps,
    });
  }
  // Periodic calls' servers answer too (their latency is not in the background rows: default).
  for (const [k, v] of serveSeen) {
    const [svc, key] = k.split('\u0000') as [string, string];
    const s = ensure(svc);
    const serve: ServeIn = {
      delayMs: v.delay.length > 0 ? { values: v.delay.map((x) => round(x, 1)) } : 5,
      replyBytes: v.reply.length > 0 ? { values: v.reply } : 300,
    };
    s.methods = { ...(s.methods ?? {}), [key]: serve };
  }
  const instances = new Map(spec.background.map((b) => [b.service, b.instances]));
  const all = neutronLayout([...services.values()], operations, instances, opts.computes);
  return {
    version: 1,
    name: opts.name ?? 'model',
    description: `Modelled by rpcscope model from ${spec.inputs.join(', ')} (${spec.window.seconds} s of capture).`,
    broker: { url: opts.brokerUrl ?? 'amqp://guest:guest@127.0.0.1:5672/' },
    oslo: {
      controlExchange: opts.controlExchange ?? 'openstack',
      ...(opts.contextKeys !== undefined ? { contextKeys: [...opts.contextKeys] } : {}),
    },
    speedup: opts.speedup ?? 1,
    services: all,
    operations,
  };
}

/** Context keys and control exchange as seen on the wire, for a model of loaded captures. */
export function wireFacts(
  messages: readonly { kind: string; exchange: string; context: Readonly<Record<string, unknown>> }[],
): {
  controlExchange?: string;
  contextKeys?: string[];
} {
  const call = messages.find((m) => (m.kind === 'call' || m.kind === 'cast') && m.exchange !== '');
  if (call === undefined) return {};
  return { controlExchange: call.exchange, contextKeys: Object.keys(call.context) };
}

const NEUTRON_AGENTS = [
  'neutron-openvswitch-agent',
  'neutron-dhcp-agent',
  'neutron-l3-agent',
  'neutron-metadata-agent',
] as const;

/**
 * neutron captures start mid-connection (no declares), so the model takes the neutron processes'
 * queues and connections from neutron's Zed topology (neutron.ts) and keeps what the capture
 * measured: report_state sizes, the server's answer model, the operations. Hypervisors (OVS +
 * metadata agent) share nova-compute's host names and scale with `--computes N`.
 */
function neutronLayout(
  services: ServiceIn[],
  operations: NonNullable<ScenarioInput['operations']>,
  instances: ReadonlyMap<string, number>,
  computes: number | undefined,
): ServiceIn[] {
  if (!services.some((s) => s.name.startsWith('neutron-'))) return services;
  const seen = new Set(services.map((s) => s.name));
  const reportBytes: Partial<Record<(typeof NEUTRON_AGENTS)[number], number>> = {};
  for (const a of NEUTRON_AGENTS) {
    const p = services.find((s) => s.name === a)?.periodic?.find((x) => x.method === 'report_state');
    if (p !== undefined && typeof p.bytes === 'number') reportBytes[a] = p.bytes;
  }
  const server = services.find((s) => s.name === 'neutron-server');
  // nova's naming gave listeners of neutron topics a "nova-<topic>" group: they are neutron-server.
  const serverListeners = new Set(SERVER_TOPICS.map((t) => `nova-${t}`));
  const measured = { ...(server?.methods ?? {}) };
  for (const s of services) if (serverListeners.has(s.name)) Object.assign(measured, s.methods ?? {});
  const neutronTopic = /^nova-(q-|neutron-vo-|dhcp_agent$|l3_agent$)/;
  const kept = services.filter((s) => !s.name.startsWith('neutron-') && !neutronTopic.test(s.name));
  const hv = computes ?? Math.max(1, instances.get('neutron-openvswitch-agent') ?? 1);
  const neutron = neutronServices({
    hypervisors: hv,
    networkNodes: seen.has('neutron-dhcp-agent') || seen.has('neutron-l3-agent') ? 1 : 0,
    metadataOnHypervisors: seen.has('neutron-metadata-agent'),
    reportBytes,
  });
  const ns = neutron.find((s) => s.name === 'neutron-server');
  if (ns !== undefined) ns.methods = { ...(ns.methods ?? {}), ...measured };
  // An agent's calls come from the port's hypervisor.
  for (const op of operations)
    if (op.hostOf === undefined && op.steps.some((st) => st.from === 'neutron-openvswitch-agent'))
      op.hostOf = 'neutron-openvswitch-agent';
  return [...kept, ...neutron];
}
