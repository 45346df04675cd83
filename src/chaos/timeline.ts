/**
 * The fault timeline: the `chaos:` section of a scenario YAML (validated with zod beside the
 * emulator's schema) or `--fault` flags such as 'at=20s kill node=2 restart=40s'. Times are
 * seconds from the start of the steady state. Pure: text in, typed faults out.
 */
import { z } from 'zod';
import { RpcscopeError } from '../errors.ts';
import { DURATION_EXAMPLES, parseDurationS } from '../util/units.ts';

/** "20s", "500ms", "2m", "1.5" (seconds) → seconds. */
export function parseDuration(v: string | number, what = 'duration'): number {
  if (typeof v === 'number') return v;
  // the one duration grammar of every command and file (src/util/units.ts)
  try {
    return parseDurationS(v);
  } catch {
    throw new RpcscopeError(
      'RPCSCOPE_BAD_ARGUMENT',
      `${what}: "${v}" is not a duration (${DURATION_EXAMPLES})`,
    );
  }
}

const Dur = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/*
 * The faults as plain interfaces (what a chaos run reads and reports: ChaosResult.faults[].fault,
 * schema/chaos.schema.json), declared by hand because the JSON Schema generator cannot read zod's
 * inferred types. The zod schema below validates input and fills defaults; `faultTypesAgree`
 * fails to compile when the two drift apart, so neither can change alone.
 */

/** A Toxiproxy toxic (https://github.com/Shopify/toxiproxy#toxics), with its unit in the name. */
export type ToxicSpec =
  | { type: 'latency'; latencyMs: number; jitterMs?: number | undefined }
  | { type: 'bandwidth'; rateKBps: number }
  /** Data stops; the connection closes after timeoutMs (0: never, a blackhole). Default 0. */
  | { type: 'timeout'; timeoutMs: number }
  /** The connection is reset (TCP RST) after timeoutMs. Default 0. */
  | { type: 'reset_peer'; timeoutMs: number }
  | { type: 'slicer'; avgSize: number; sizeVariation?: number | undefined; delayUs?: number | undefined }
  | { type: 'limit_data'; bytes: number };

interface FaultBase {
  /** Seconds after the steady state begins. */
  at: number;
  /** Seconds the fault lasts; then it is undone (node restarted, partition healed, toxic removed). */
  for?: number | undefined;
}

/** kill -9 of the node's Erlang VM; restarted after `for`. */
export interface KillFault extends FaultBase {
  action: 'kill';
  /** Node index, from 1. */
  node: number;
}

/** Graceful `rabbitmqctl shutdown`; started again after `for`. */
export interface StopFault extends FaultBase {
  action: 'stop';
  /** Node index, from 1. */
  node: number;
}

/** vm_memory_high_watermark lowered to `watermark` (publishers blocked), back to `restore` after `for`. */
export interface MemoryAlarmFault extends FaultBase {
  action: 'memory-alarm';
  /** Node index, from 1. */
  node: number;
  /** Fraction of RAM while the fault lasts (default 0.000001: blocked at once). */
  watermark: number;
  /** Fraction of RAM set afterwards (default 0.4, RabbitMQ's own). */
  restore: number;
}

/** The cluster network cut into groups of node indexes, e.g. [[1], [2, 3]]; healed after `for`. */
export interface PartitionFault extends FaultBase {
  action: 'partition';
  groups: number[][];
}

/** A Toxiproxy toxic on the connections of one service group (or all: "*"). */
export interface ToxicFault extends FaultBase {
  action: 'toxic';
  /** Service group, or "*" for every group (default). */
  group: string;
  /** upstream: client → broker; downstream: broker → client (default both). */
  direction: 'upstream' | 'downstream' | 'both';
  toxic: ToxicSpec;
}

/** The group's servers stop taking messages: its connections are blackholed (a hung process). */
export interface ConsumerStallFault extends FaultBase {
  action: 'consumer-stall';
  group: string;
}

/** The group's servers answer slower: deliveries to it are delayed by delayMs (e.g. above the RPC timeout). */
export interface ConsumerSlowFault extends FaultBase {
  action: 'consumer-slow';
  group: string;
  delayMs: number;
}

/**
 * Processes of a service group killed as by SIGKILL, their queues left behind (fanout and reply
 * queues live until x-expires), started again after `for` (at once without it) as new processes
 * with new fanout/reply queue names: a mass agent restart.
 */
export interface RestartGroupFault extends FaultBase {
  action: 'restart-group';
  group: string;
  /** How many of the group's processes (default all). */
  count?: number | undefined;
}

export type Fault =
  | KillFault
  | StopFault
  | MemoryAlarmFault
  | PartitionFault
  | ToxicFault
  | ConsumerStallFault
  | ConsumerSlowFault
  | RestartGroupFault;

const ToxicSpec = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('latency'),
      latencyMs: z.number().nonnegative(),
      jitterMs: z.number().nonnegative().optional(),
    })
    .strict(),
  z.object({ type: z.literal('bandwidth'), rateKBps: z.number().positive() }).strict(),
  z.object({ type: z.literal('timeout'), timeoutMs: z.number().nonnegative().default(0) }).strict(),
  z.object({ type: z.literal('reset_peer'), timeoutMs: z.number().nonnegative().default(0) }).strict(),
  z
    .object({
      type: z.literal('slicer'),
      avgSize: z.number().int().positive(),
      sizeVariation: z.number().int().nonnegative().optional(),
      delayUs: z.number().nonnegative().optional(),
    })
    .strict(),
  z.object({ type: z.literal('limit_data'), bytes: z.number().int().positive() }).strict(),
]);

const base = { at: Dur, for: Dur.optional() };

export const Fault = z.discriminatedUnion('action', [
  z.object({ ...base, action: z.literal('kill'), node: z.number().int().positive() }).strict(),
  z.object({ ...base, action: z.literal('stop'), node: z.number().int().positive() }).strict(),
  z
    .object({
      ...base,
      action: z.literal('memory-alarm'),
      node: z.number().int().positive(),
      watermark: z.number().positive().max(1).default(0.000001),
      restore: z.number().positive().max(1).default(0.4),
    })
    .strict(),
  z
    .object({
      ...base,
      action: z.literal('partition'),
      groups: z.array(z.array(z.number().int().positive()).min(1)).min(2),
    })
    .strict(),
  z
    .object({
      ...base,
      action: z.literal('toxic'),
      group: z.string().default('*'),
      direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
      toxic: ToxicSpec,
    })
    .strict(),
  z.object({ ...base, action: z.literal('consumer-stall'), group: z.string() }).strict(),
  z
    .object({
      ...base,
      action: z.literal('consumer-slow'),
      group: z.string(),
      delayMs: z.number().positive(),
    })
    .strict(),
  z
    .object({
      ...base,
      action: z.literal('restart-group'),
      group: z.string(),
      count: z.number().int().positive().optional(),
    })
    .strict(),
]);

/** true only when A and B are the same type (not merely assignable: an extra optional field counts). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// compile-time only: a type error here means the interfaces above and the zod schema differ
const faultTypesAgree: Same<Fault, z.output<typeof Fault>> = true;
void faultTypesAgree;
export type FaultAction = Fault['action'];

export const ChaosSection = z
  .object({
    /** Steady-state duration in seconds (traffic flows, faults happen). */
    duration: Dur.default(120),
    /** After traffic stops: wait for in-flight messages (≥ the RPC timeout) before counting. */
    drain: Dur.optional(),
    cluster: z
      .object({
        nodes: z.number().int().min(1).max(9).default(3),
        queues: z.enum(['classic', 'mirrored', 'quorum']).default('classic'),
        netTicktime: z.number().int().positive().default(60),
      })
      .strict()
      .optional(),
    /** Node each service group connects to first (kombu tries the transport_url hosts in order). */
    connect: z.record(z.string(), z.number().int().positive()).default({}),
    faults: z.array(Fault).default([]),
    /** Scales the `scalable` groups (hypervisors), as emulate's --computes. */
    computes: z.number().int().positive().optional(),
    /**
     * An agent's resync after each reconnection (and restart) in the steady state: the scenario
     * operation `operation` (perMinute 0) run from the reconnected host of `group`, as the OVS
     * agent's rpc_loop does after it lost the broker (fullsync).
     */
    resync: z.object({ group: z.string(), operation: z.string() }).strict().optional(),
    /** Per-receiver accounting of one fanout method (a port storm): delivered, lost, late. */
    fanout: z
      .object({
        /** Receiving group, e.g. neutron-openvswitch-agent. */
        group: z.string(),
        /** The fanout's method, e.g. push. */
        method: z.string(),
        /** A delivery later than this after the send counts as late. */
        lateAfter: Dur.default(1),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ChaosSection = z.infer<typeof ChaosSection>;

const ACTIONS = [
  'kill',
  'stop',
  'memory-alarm',
  'partition',
  'toxic',
  'consumer-stall',
  'consumer-slow',
  'restart-group',
] as const;

/**
 * One `--fault` flag: a bare action word and key=value pairs, e.g.
 *   'at=20s kill node=2 restart=40s'            (restart: absolute time; or for=20s)
 *   'at=30s partition groups=1|2,3 for=30s'
 *   'at=10s toxic group=nova-compute direction=downstream type=latency latency=500ms jitter=100ms for=20s'
 *   'at=10s consumer-slow group=nova-compute delay=70s for=30s'
 *   'at=20s restart-group group=neutron-openvswitch-agent count=50 for=5s'
 */
export function parseFaultFlag(text: string): Fault {
  const kv = new Map<string, string>();
  let action: string | undefined;
  for (const tok of text.trim().split(/\s+/)) {
    const i = tok.indexOf('=');
    if (i < 0) {
      if (action !== undefined) throw bad(text, `two actions: ${action} and ${tok}`);
      action = tok;
    } else kv.set(tok.slice(0, i), tok.slice(i + 1));
  }
  if (action === undefined || !(ACTIONS as readonly string[]).includes(action))
    throw bad(text, `action must be one of ${ACTIONS.join(', ')}`);
  const at = kv.get('at');
  if (at === undefined) throw bad(text, 'at=<time> is required');
  const atS = parseDuration(at, 'at');
  const until = kv.get('restart') ?? kv.get('until') ?? kv.get('heal');
  const forS = kv.has('for')
    ? parseDuration(kv.get('for')!, 'for')
    : until !== undefined
      ? parseDuration(until) - atS
      : undefined;
  if (forS !== undefined && forS < 0) throw bad(text, 'the end is before the start');
  const ms = (k: string) => (kv.has(k) ? parseDuration(kv.get(k)!, k) * 1000 : undefined);
  const num = (k: string) => (kv.has(k) ? Number(kv.get(k)) : undefined);
  const raw: Record<string, unknown> = { action, at: atS, ...(forS !== undefined ? { for: forS } : {}) };
  if (kv.has('node')) raw.node = num('node');
  if (kv.has('group')) raw.group = kv.get('group');
  if (action === 'partition')
    raw.groups = (kv.get('groups') ?? '').split('|').map((g) => g.split(',').map((n) => Number(n)));
  if (action === 'memory-alarm' && kv.has('watermark')) raw.watermark = num('watermark');
  if (action === 'consumer-slow') raw.delayMs = ms('delay');
  if (action === 'restart-group' && kv.has('count')) raw.count = num('count');
  if (action === 'toxic') {
    raw.direction = kv.get('direction') ?? 'both';
    const type = kv.get('type') ?? 'latency';
    const t: Record<string, unknown> = {
      type: type === 'blackhole' ? 'timeout' : type === 'reset' ? 'reset_peer' : type,
    };
    if (kv.has('latency')) t.latencyMs = ms('latency');
    if (kv.has('jitter')) t.jitterMs = ms('jitter');
    if (kv.has('rate')) t.rateKBps = num('rate');
    if (kv.has('timeout')) t.timeoutMs = ms('timeout');
    if (kv.has('size')) t.avgSize = num('size');
    if (kv.has('variation')) t.sizeVariation = num('variation');
    if (kv.has('delay')) t.delayUs = (ms('delay') ?? 0) * 1000;
    if (kv.has('bytes')) t.bytes = num('bytes');
    raw.toxic = t;
  }
  const r = Fault.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw bad(text, `${i.path.join('.') || action}: ${i.message}`);
  }
  return r.data;
}

function bad(text: string, msg: string): RpcscopeError {
  return new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `fault '${text}': ${msg}`);
}

/** Checks faults against the cluster: node indexes exist; returns them sorted by time. */
export function checkFaults(faults: readonly Fault[], nodes: number, groups: readonly string[]): Fault[] {
  for (const f of faults) {
    const ns = 'node' in f ? [f.node] : f.action === 'partition' ? f.groups.flat() : [];
    for (const n of ns)
      if (n > nodes)
        throw new RpcscopeError(
          'RPCSCOPE_BAD_ARGUMENT',
          `${f.action} at ${f.at}s names node ${n}; the cluster has ${nodes}`,
        );
    if ('group' in f && f.group !== '*' && !groups.includes(f.group))
      throw new RpcscopeError(
        'RPCSCOPE_BAD_ARGUMENT',
        `${f.action} at ${f.at}s names service group "${f.group}" (groups: ${groups.join(', ')})`,
      );
  }
  return [...faults].sort((a, b) => a.at - b.at);
}

/** "kill node 1", "partition 1|2,3", "toxic latency 500±100ms on nova-compute/downstream". */
export function describeFault(f: Fault): string {
  switch (f.action) {
    case 'kill':
    case 'stop':
      return `${f.action} node ${f.node}`;
    case 'memory-alarm':
      return `memory alarm node ${f.node}`;
    case 'partition':
      return `partition ${f.groups.map((g) => g.join(',')).join('|')}`;
    case 'toxic':
      return `toxic ${f.toxic.type} on ${f.group}/${f.direction}`;
    case 'consumer-stall':
      return `consumer stall ${f.group}`;
    case 'consumer-slow':
      return `consumer slow ${f.group} +${f.delayMs}ms`;
    case 'restart-group':
      return `restart ${f.count ?? 'all'} of ${f.group} (queues left behind)`;
  }
}
