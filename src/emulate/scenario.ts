/**
 * The scenario model: which oslo.messaging services to emulate, how they declare their queues,
 * what they send periodically, which operations run at which rate, and how servers answer.
 *
 * Written by `rpcscope model` from captures or by hand; parsed from YAML with positions so that
 * every schema error names file:line:col of the offending key.
 */
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { RpcscopeError } from '../errors.ts';

/** A number, a uniform range, or an empirical sample list (values drawn uniformly). */
export const Distribution = z.union([
  z.number().nonnegative(),
  z.object({ min: z.number().nonnegative(), max: z.number().nonnegative() }).strict(),
  z.object({ values: z.array(z.number().nonnegative()).min(1) }).strict(),
]);
export type Distribution = z.infer<typeof Distribution>;

const Kind = z.enum(['call', 'cast', 'fanout', 'notification']);

/** One RPC as a sender emits it. */
export const RpcSpec = z
  .object({
    kind: Kind,
    /** Topic (call/cast/fanout) or notification topic ("notifications", "versioned_notifications"). */
    topic: z.string().min(1),
    /**
     * call/cast target server: omitted = topic queue (any server), "any" = a random emulated host
     * of the service listening on the topic, "self" = the sender's own host, "op" = the host the
     * operation picked, or a literal host name.
     */
    server: z.string().min(1).optional(),
    method: z.string().min(1),
    /** nova object RPC ("Service.save"): the method is object_action / object_class_action_versions. */
    object: z.string().optional(),
    namespace: z.string().optional(),
    version: z.string().optional(),
    /** notification only. */
    eventType: z.string().optional(),
    priority: z.string().default('info'),
    /** Body size in bytes of the published message. */
    bytes: Distribution.default(1000),
    /** Messages per occurrence (a periodic task that makes 3 identical calls). */
    count: z.number().int().positive().default(1),
    /**
     * Calls: this call's timeout in s (its AMQP expiration and `_timeout`), where the caller
     * prepares the client with its own (neutron's report_state: report_interval, 30 s);
     * default oslo.rpcResponseTimeoutS.
     */
    timeoutS: z.number().positive().optional(),
  })
  .strict();
export type RpcSpec = z.infer<typeof RpcSpec>;

export const Periodic = RpcSpec.extend({
  periodS: z.number().positive(),
  /** Fraction of the period each interval varies by (0.1 = ±10 %). */
  jitter: z.number().min(0).max(1).default(0),
}).strict();
export type Periodic = z.infer<typeof Periodic>;

export const Serve = z
  .object({
    /** Server processing time in ms before the reply. */
    delayMs: Distribution.default(5),
    /** Reply body size in bytes. */
    replyBytes: Distribution.default(300),
    /** Fraction of calls answered with a remote failure. */
    errorRate: z.number().min(0).max(1).default(0),
  })
  .strict();
export type Serve = z.infer<typeof Serve>;

export const QueueSettings = z
  .object({
    /** amqp_durable_queues. */
    durable: z.boolean().default(false),
    /** amqp_auto_delete. */
    autoDelete: z.boolean().default(false),
    /** classic, mirrored (rabbit_ha_queues: x-ha-policy all) or quorum (rabbit_quorum_queue). */
    type: z.enum(['classic', 'mirrored', 'quorum']).default('classic'),
    /** rabbit_transient_quorum_queue: reply and fanout queues as quorum queues. */
    transientQuorum: z.boolean().default(false),
    /** rabbit_stream_fanout: fanout through one stream per topic. */
    streamFanout: z.boolean().default(false),
    /** rabbit_transient_queues_ttl in s: x-expires of reply and fanout queues. */
    transientTtlS: z.number().int().positive().default(1800),
  })
  .strict();
export type QueueSettings = z.infer<typeof QueueSettings>;

export const Service = z
  .object({
    /** Group name, e.g. "nova-compute". */
    name: z.string().min(1),
    /** Binary in connection_name "<binary>:<pid>:<uuid>"; defaults to name. */
    binary: z.string().optional(),
    count: z.number().int().nonnegative().default(1),
    /** Host naming pattern; "{i}" is the 1-based index, "{i:4}" zero-padded to 4 digits. */
    host: z.string().default('{name}-{i}'),
    /** Topics this service's RPC server listens on: queues `topic`, `topic.host`, fanout `topic_fanout_<id>`. */
    topics: z.array(z.string().min(1)).default([]),
    /** Whether the service consumes the fanout queue of each topic (oslo always does for an RPC server). */
    fanout: z.boolean().default(true),
    /** Broker URL for this service (cells, a separate neutron broker); default the scenario's. */
    url: z.string().optional(),
    /** This service's control_exchange ("neutron" beside nova's "nova"); default oslo.controlExchange. */
    controlExchange: z.string().min(1).optional(),
    queues: QueueSettings.optional(),
    serve: Serve.default({ delayMs: 5, replyBytes: 300, errorRate: 0 }),
    /** Per-method overrides of `serve`. */
    methods: z.record(z.string(), Serve).default({}),
    periodic: z.array(Periodic).default([]),
    /** Scaled by `--computes N` (the service group whose count the CLI flag sets). */
    scalable: z.boolean().default(false),
    /**
     * oslo's connection layout for one process (neutron agents, neutron-server workers): one
     * listener connection per topic (each `create_consumer` is its own RPC server, whose
     * listener takes its own connection: topic, topic.host and fanout queues on it), the reply
     * queue on a connection of its own, and `send` connections of the send pool (publisher
     * confirms) that carry every call, cast, fanout and reply. Omitted: one connection for all.
     */
    connections: z
      .object({
        /** The reply listener's connection (a process that makes calls); none for a pure server. */
        reply: z.boolean().default(true),
        /** Send-pool connections (oslo opens one per concurrently sending thread). */
        send: z.number().int().nonnegative().default(1),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Service = z.infer<typeof Service>;

export const Step = RpcSpec.extend({
  /** Sending service group. */
  from: z.string().min(1),
}).strict();
export type Step = z.infer<typeof Step>;

export const Operation = z
  .object({
    name: z.string().min(1),
    perMinute: z.number().nonnegative(),
    /** fixed = evenly spaced (reproducible rates), poisson = exponential gaps. */
    arrival: z.enum(['fixed', 'poisson']).default('fixed'),
    /** Service group whose host `server: op` targets (picked at random per operation). */
    hostOf: z.string().optional(),
    steps: z.array(Step).min(1),
  })
  .strict();
export type Operation = z.infer<typeof Operation>;

export const Scenario = z
  .object({
    version: z.literal(1),
    name: z.string().default('scenario'),
    description: z.string().optional(),
    broker: z
      .object({
        url: z.string().default('amqp://guest:guest@127.0.0.1:5672/'),
        management: z.string().optional(),
      })
      .strict()
      .default({ url: 'amqp://guest:guest@127.0.0.1:5672/' }),
    oslo: z
      .object({
        /** control_exchange (nova: "nova"). */
        controlExchange: z.string().default('openstack'),
        rpcResponseTimeoutS: z.number().positive().default(60),
        heartbeatTimeoutS: z.number().int().nonnegative().default(60),
        retryIntervalS: z.number().positive().default(1),
        retryBackoffS: z.number().nonnegative().default(2),
        intervalMaxS: z.number().positive().default(30),
        queues: QueueSettings.default({
          durable: false,
          autoDelete: false,
          type: 'classic',
          transientQuorum: false,
          streamFanout: false,
          transientTtlS: 1800,
        }),
        /** Request context keys (`_context_*`) every message carries; values are synthesised. */
        contextKeys: z
          .array(z.string())
          .default(['request_id', 'global_request_id', 'user_id', 'project_id']),
      })
      .strict()
      .default({
        controlExchange: 'openstack',
        rpcResponseTimeoutS: 60,
        heartbeatTimeoutS: 60,
        retryIntervalS: 1,
        retryBackoffS: 2,
        intervalMaxS: 30,
        queues: {
          durable: false,
          autoDelete: false,
          type: 'classic',
          transientQuorum: false,
          streamFanout: false,
          transientTtlS: 1800,
        },
        contextKeys: ['request_id', 'global_request_id', 'user_id', 'project_id'],
      }),
    /** Divides every period and operation interval (not delays or timeouts); say so in results. */
    speedup: z.number().positive().default(1),
    services: z.array(Service).min(1),
    operations: z.array(Operation).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    const names = new Set(s.services.map((x) => x.name));
    s.operations.forEach((op, i) => {
      op.steps.forEach((st, j) => {
        if (!names.has(st.from))
          ctx.addIssue({
            code: 'custom',
            message: `unknown service "${st.from}" (services: ${[...names].join(', ')})`,
            path: ['operations', i, 'steps', j, 'from'],
          });
      });
      if (op.hostOf !== undefined && !names.has(op.hostOf))
        ctx.addIssue({
          code: 'custom',
          message: `unknown service "${op.hostOf}"`,
          path: ['operations', i, 'hostOf'],
        });
    });
  });
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

/** JSON Schema for editors (schema/scenario.schema.json). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Scenario, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** Finds the YAML node at a zod issue path; falls back to the deepest existing parent. */
function nodeAt(
  root: Node | null,
  path: readonly PropertyKey[],
): { node: Node | null; keyNode: Node | null } {
  let node: Node | null = root;
  let keyNode: Node | null = null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      keyNode = pair.key as Node;
      node = (pair.value as Node | null) ?? null;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (item === undefined) break;
      node = item;
      keyNode = item;
    } else break;
  }
  return { node, keyNode };
}

/**
 * The plain value of a parsed YAML document. The yaml library refuses documents whose aliases
 * expand past a resource limit (an "alias bomb") with a ReferenceError: that is invalid input.
 */
export function yamlToJs(doc: Document, input: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new RpcscopeError('RPCSCOPE_SCENARIO_INVALID', `cannot expand the YAML: ${(e as Error).message}`, {
      cause: e,
      context: { input, line: 1, column: 1 },
    });
  }
}

/** Parses and validates a scenario; errors carry file:line:col of the offending key. */
export function parseScenario(text: string, input = 'scenario.yaml'): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new RpcscopeError('RPCSCOPE_SCENARIO_INVALID', e.message.split('\n')[0] ?? e.message, {
      context: { input, line: pos.line, column: pos.col },
    });
  }
  const r = Scenario.safeParse(yamlToJs(doc, input));
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const { node, keyNode } = nodeAt(doc.contents as Node | null, issue.path);
  const at = (keyNode ?? node)?.range?.[0] ?? 0;
  const pos = lineCounter.linePos(at);
  const where = issue.path.map(String).join('.');
  throw new RpcscopeError(
    'RPCSCOPE_SCENARIO_INVALID',
    `${where === '' ? '(top)' : where}: ${issue.message}`,
    {
      context: { input, line: pos.line, column: pos.col },
    },
  );
}

/** Expands a host pattern: "{name}-{i}", "compute-{i:4}" → "compute-0007". */
export function hostName(pattern: string, name: string, i: number): string {
  return pattern
    .replaceAll('{name}', name)
    .replace(/\{i(?::(\d+))?\}/g, (_m, w: string | undefined) =>
      w === undefined ? String(i) : String(i).padStart(Number(w), '0'),
    );
}

/** Applies CLI overrides: `--computes N` sets the count of every scalable service. */
export function withCounts(s: Scenario, computes: number | undefined): Scenario {
  if (computes === undefined) return s;
  return { ...s, services: s.services.map((x) => (x.scalable ? { ...x, count: computes } : x)) };
}

/** Draws from a distribution with the given uniform [0,1) source. */
export function sample(d: Distribution, rand: () => number): number {
  if (typeof d === 'number') return d;
  if ('values' in d) return d.values[Math.floor(rand() * d.values.length)] ?? d.values[0]!;
  return d.min + (d.max - d.min) * rand();
}

/** Mean of a distribution (expected rates, the simulator). */
export function mean(d: Distribution): number {
  if (typeof d === 'number') return d;
  if ('values' in d) return d.values.reduce((a, b) => a + b, 0) / d.values.length;
  return (d.min + d.max) / 2;
}
