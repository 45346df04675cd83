/**
 * Operations: the RPC messages one user request caused, in order, with who sent what to whom.
 *
 * oslo.messaging carries the request context flattened into `_context_*` keys of every call, cast
 * and notification; nova copies the API's `x-openstack-request-id` into `request_id`, and other
 * services' requests made on its behalf carry it as `global_request_id`
 * (oslo.context RequestContext). Replies carry no context: they join their call by `_msg_id`
 * (oslo_messaging/_drivers/amqpdriver.py ReplyWaiter).
 *
 * nova quirk: nova-object RPC (`object_action` etc., nova/conductor/rpcapi.py) uses the context
 * the object was loaded with. The resource tracker's ComputeNode was loaded by the periodic
 * `update_available_resource` task, so `ComputeNode.save` during a boot carries that periodic
 * task's request id, not the boot's. Grouping by request id keeps it out of the operation; such
 * messages are listed as `backgroundDuring` so the spec can say so.
 */

import type { CallOutcome, RpcCall, RpcKind, RpcMessage } from '../records.ts';
import { aliasFor, isObjectRpc, knownSender, moveAction, serviceOfTopic } from './aliases.ts';

/** Which service sits behind a message's sender connection (see src/correlate/services.ts). */
export interface ServiceRef {
  /** e.g. "nova-compute" */
  readonly type: string;
  /** host or process, e.g. "rig-compute-1" */
  readonly instance?: string;
}
export type ServiceResolver = (m: RpcMessage) => ServiceRef | undefined;

export interface OperationStep {
  /** 0-based order within the operation. */
  readonly seq: number;
  /** Milliseconds after the operation's first message. */
  readonly offsetMs: number;
  readonly kind: RpcKind;
  /** Sender lifeline (service type). */
  readonly from: string;
  /** true when the sender was not seen on the wire but taken from nova's code (aliases.ts knownSender). */
  readonly fromInferred: boolean;
  /** Receiver lifeline: the service consuming the topic, or "notifications". */
  readonly to: string;
  readonly exchange: string;
  readonly topic: string;
  readonly server?: string;
  readonly method?: string;
  /** nova-object RPC: "Instance.save" */
  readonly object?: string;
  /** notification event type */
  readonly eventType?: string;
  readonly requestId?: string;
  readonly msgId?: string;
  readonly bodySize: number;
  /** reply: the `seq` of the call it answers. */
  readonly replyToSeq?: number;
  /**
   * Set when the message carries another request id (an agent's own context) and was joined to
   * this operation by a shared resource id and timing, not by request id: why (inferred).
   */
  readonly inferredLink?: string;
  /** call: outcome and time split (records.ts RpcCall). */
  readonly outcome?: CallOutcome;
  readonly latencyMs?: number;
  readonly queueMs?: number;
  readonly serverMs?: number;
  readonly returnMs?: number;
}

/** A message inside an operation's time window that belongs to background work. */
export interface BackgroundNote {
  readonly offsetMs: number;
  readonly kind: RpcKind;
  readonly topic: string;
  readonly method?: string;
  readonly object?: string;
  readonly requestId?: string;
  readonly reason: string;
}

export interface Operation {
  /** The first request id, a stable handle. */
  readonly id: string;
  /** Method of the starting message, e.g. "schedule_and_build_instances". */
  readonly name: string;
  /** Topic of the starting message. */
  readonly topic: string;
  readonly alias?: string;
  /** Servers this one request acts on (aliases.ts perServer), 1 when not countable. */
  readonly servers: number;
  readonly requestIds: readonly string[];
  readonly globalRequestId?: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  /** Lifelines in order of first appearance, the starting sender first. */
  readonly lifelines: readonly string[];
  readonly steps: readonly OperationStep[];
  readonly backgroundDuring: readonly BackgroundNote[];
  /** Steps joined by resource id and timing rather than request id (OperationStep.inferredLink). */
  readonly inferredLinks?: number;
}

export interface Grouping {
  readonly operations: Operation[];
  /** Every published message (replies included) that is not part of an operation. */
  readonly background: RpcMessage[];
}

export interface GroupOptions {
  readonly resolve?: ServiceResolver;
}

/**
 * The messages to build steps from: oslo.messaging publishes, plus deliveries whose publish is not
 * in the capture (kind `other` is left out).
 */
export function publishedMessages(messages: readonly RpcMessage[]): RpcMessage[] {
  // only the deliveries' keys are looked up: the set of publishes holds those, not one per publish
  // (a spec load keeps few deliveries: spec-load.ts)
  const delivered = new Set<string>();
  for (const m of messages)
    if (m.kind !== 'other' && m.wire.event === 'deliver') delivered.add(messageKey(m));
  const seen = new Set<string>();
  if (delivered.size > 0)
    for (const m of messages) {
      if (m.wire.event !== 'publish') continue;
      const k = messageKey(m);
      if (delivered.has(k)) seen.add(k);
    }
  const out: RpcMessage[] = [];
  const deliveredOnly = new Set<string>();
  for (const m of messages) {
    // not oslo.messaging (firehose copies to a capture consumer, foreign clients): not RPC
    if (m.kind === 'other') continue;
    if (m.wire.event === 'publish') out.push(m);
    else if (m.wire.event === 'deliver') {
      const k = messageKey(m);
      // a fanout or a topic with several queues is delivered several times: count it once
      if (!seen.has(k) && !deliveredOnly.has(k)) {
        deliveredOnly.add(k);
        out.push(m);
      }
    }
  }
  return out.sort(byTime);
}

function messageKey(m: RpcMessage): string {
  // _unique_id is set on every oslo message, calls, casts and replies (amqpdriver.py); notifications
  // carry message_id in the body, which the record does not keep: fall back to place and size.
  if (m.uniqueId !== undefined) return `u:${m.uniqueId}`;
  return `w:${m.kind}:${m.exchange}:${m.wire.routingKey}:${m.requestId ?? ''}:${m.eventType ?? ''}:${m.bodySize}:${Math.round(m.wire.ts / 50)}`;
}

function byTime(a: RpcMessage, b: RpcMessage): number {
  return a.wire.ts - b.wire.ts || a.wire.seq - b.wire.seq;
}

/** A context that came from a user request through the API, not a service's own admin context. */
export function isUserContext(ctx: Readonly<Record<string, unknown>>): boolean {
  const uid = ctx.user_id ?? ctx.user;
  if (typeof uid === 'string' && uid !== '') return true;
  return typeof ctx.remote_address === 'string' && ctx.remote_address !== '';
}

/** The `_context_*` keys isUserContext reads: all of the context that grouping needs. */
const USER_CONTEXT_KEYS = ['user_id', 'user', 'remote_address'] as const;
const NO_PROPERTIES: RpcMessage['wire']['properties'] = Object.freeze({});

/**
 * A message cut to what buildOperations reads, for callers that hold a window of traffic (watch's
 * recent window): no AMQP properties, the context cut to the keys isUserContext reads (oslo's
 * `_context_*` carries the whole token, roles and service catalog, most of a record's memory).
 * Grouping the cut messages gives the same operations as grouping the originals.
 */
export function groupingFacts(m: RpcMessage): RpcMessage {
  const context: Record<string, unknown> = {};
  for (const k of USER_CONTEXT_KEYS) if (m.context[k] !== undefined) context[k] = m.context[k];
  return { ...m, wire: { ...m.wire, properties: NO_PROPERTIES }, context };
}

/** A call cut likewise: its call message only (grouping reads neither the deliveries nor the reply). */
export function groupingCall(c: RpcCall, call: RpcMessage = groupingFacts(c.call)): RpcCall {
  const { delivered: _d, reply: _r, replyDelivered: _rd, ...rest } = c;
  return { ...rest, call };
}

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root)) root = p;
    if (!this.parent.has(x)) this.parent.set(x, x);
    // path compression
    for (let y = x; y !== root; ) {
      const next = this.parent.get(y) ?? root;
      this.parent.set(y, root);
      y = next;
    }
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

/** Group RPC messages into operations and background. Pure: same input, same output. */
export function buildOperations(
  messages: readonly RpcMessage[],
  calls: readonly RpcCall[],
  options: GroupOptions = {},
): Grouping {
  const operations: Operation[] = [];
  const background = groupOperations(publishedMessages(messages), calls, options, (op) => {
    operations.push(op);
  });
  return { operations, background };
}

/**
 * buildOperations over messages already through publishedMessages, handing each operation to
 * `onOperation` in start order as it is built (a caller that folds them keeps none); returns the
 * background, sorted by time.
 */
export function groupOperations(
  msgs: readonly RpcMessage[],
  calls: readonly RpcCall[],
  options: GroupOptions,
  onOperation: (op: Operation) => void,
): RpcMessage[] {
  const { byMsgId, reqOf, groups, unattributed } = requestGroups(msgs, calls);

  const learned = learnConnections(msgs, byMsgId, options.resolve);
  const pending: PendingOp[] = [];
  const episodes: RpcMessage[][] = [];
  const background: RpcMessage[] = [...unattributed];
  for (const g of groups.values()) {
    const named = namingOf(g);
    if (named === undefined) {
      // a service's own context (neutron agents keep one for their whole loop): split by time, so
      // each burst can be linked to the operation it reacts to
      episodes.push(...splitByGap(g, EPISODE_GAP_MS));
      continue;
    }
    // the group itself, not a copy: groups is cleared below
    // most operations name no resource and link nothing: they share one empty id set and have no
    // link map until one is linked (an empty Map or Set is ~100 bytes, one per operation)
    const ids = g.some((m) => m.hints?.ids !== undefined) ? idsOf(g) : NO_IDS;
    pending.push({ messages: g, starter: named, ids, links: undefined, ...spanOf(g) });
  }
  groups.clear();
  const joined = joinInstanceEvents(pending);
  linkReactions(joined, episodes, background);
  background.sort(byTime);
  // an operation starts at its first message (joins only add later ones): the start order of the
  // pending operations is that of the operations built from them
  const order: (PendingOp | undefined)[] = joined.sort((a, b) => a.startMs - b.startMs);
  for (let i = 0; i < order.length; i++) {
    const p = order[i];
    if (p === undefined) continue;
    // built and handed on: its messages are no longer needed here
    order[i] = undefined;
    const op = buildOne(p, reqOf, byMsgId, learned);
    onOperation({ ...op, backgroundDuring: backgroundNotes(op, background) });
  }
  return background;
}

/** Messages grouped by request id (global request ids unite groups; replies take their call's). */
interface RequestGroups {
  readonly byMsgId: ByMsgId;
  readonly reqOf: (m: RpcMessage) => string | undefined;
  readonly groups: Map<string, RpcMessage[]>;
  /** Messages without a request id, their call's included. */
  readonly unattributed: RpcMessage[];
}

function requestGroups(msgs: readonly RpcMessage[], calls: readonly RpcCall[]): RequestGroups {
  // the last call message and the last RpcCall of each `_msg_id` (what replies are joined by)
  const byMsgId: ByMsgId = {
    message: new ByIdTable<RpcMessage>((m) => m.msgId),
    call: new ByIdTable<RpcCall>((c) => c.call.msgId),
  };
  for (const c of calls) if (c.call.msgId !== undefined) byMsgId.call.set(c.call.msgId, c);
  for (const m of msgs) if (m.kind === 'call' && m.msgId !== undefined) byMsgId.message.set(m.msgId, m);

  // the request id of a message; replies take their call's
  const reqOf = (m: RpcMessage): string | undefined => {
    if (m.kind === 'reply' && m.msgId !== undefined)
      return byMsgId.message.get(m.msgId)?.requestId ?? byMsgId.call.get(m.msgId)?.call.requestId;
    return m.requestId;
  };

  const uf = new UnionFind();
  for (const m of msgs) {
    if (m.requestId === undefined) continue;
    uf.find(m.requestId);
    if (m.globalRequestId !== undefined && m.globalRequestId !== m.requestId)
      uf.union(m.globalRequestId, m.requestId);
  }
  const groups = new Map<string, RpcMessage[]>();
  const unattributed: RpcMessage[] = [];
  for (const m of msgs) {
    const r = reqOf(m);
    if (r === undefined) {
      unattributed.push(m);
      continue;
    }
    const root = uf.find(r);
    let g = groups.get(root);
    if (g === undefined) {
      g = [];
      groups.set(root, g);
    }
    g.push(m);
  }

  return { byMsgId, reqOf, groups, unattributed };
}

/**
 * Where a capture's published messages (time-sorted, as groupOperations takes them) can be cut so
 * that grouping the messages before the cut and those from it on, each alone, gives exactly what
 * grouping them together gives: the latest time P ≤ `beforeMs` that no unit of grouping straddles.
 * A unit is an operation with every message it gathers (its request ids, the instance events
 * joined to it, the agent reactions linked to it: from its first message to its last), or an
 * agent's burst left to the background. Reactions link only to an operation that began before
 * them and joins only reach back LINK_WINDOW_MS from a unit's start, so with no unit across P no
 * link crosses it; an operation's background notes lie inside its own span. A unit holding a call
 * whose outcome is not known yet (`open`) may still grow: it stays after the cut. An agent context
 * with bursts on both sides must stay unnamed when grouped from P on (its first message differs).
 * This lets `rpcscope spec` fold a capture as it streams (src/analyse/spec-stream.ts) and hold
 * only what is after the cut. -Infinity: no cut.
 */
export function groupingCut(
  msgs: readonly RpcMessage[],
  calls: readonly RpcCall[],
  beforeMs: number,
  open: (m: RpcMessage) => boolean,
): number {
  const { groups } = requestGroups(msgs, calls);
  const pending: PendingOp[] = [];
  const episodes: RpcMessage[][] = [];
  const unnamed: RpcMessage[][] = [];
  for (const g of groups.values()) {
    const named = namingOf(g);
    if (named === undefined) {
      unnamed.push(g);
      episodes.push(...splitByGap(g, EPISODE_GAP_MS));
      continue;
    }
    const ids = g.some((m) => m.hints?.ids !== undefined) ? idsOf(g) : NO_IDS;
    // a copy: joins and links push onto it
    pending.push({ messages: [...g], starter: named, ids, links: undefined, ...spanOf(g) });
  }
  const units: { startMs: number; endMs: number; open: boolean }[] = [];
  const joined = joinInstanceEvents(pending);
  linkReactions(joined, episodes, [], (e) => {
    units.push({ startMs: e.startMs, endMs: e.endMs, open: e.messages.some(open) });
  });
  for (const op of joined) units.push({ startMs: op.startMs, endMs: op.endMs, open: op.messages.some(open) });
  // latest start first: a unit moved after the cut can only move the cut to an earlier start
  units.sort((a, b) => b.startMs - a.startMs);
  let cut = beforeMs;
  for (;;) {
    for (const u of units) if (u.startMs < cut && (u.endMs >= cut || u.open)) cut = u.startMs;
    let again = false;
    for (const g of unnamed) {
      const after = g.filter((m) => m.wire.ts >= cut);
      if (after.length === 0 || after.length === g.length || namingOf(after) === undefined) continue;
      cut = Math.min(cut, spanOf(g).startMs);
      again = true;
    }
    if (!again) return Number.isFinite(cut) ? cut : Number.NEGATIVE_INFINITY;
  }
}

/** The last call message and the last RpcCall with a `_msg_id` (what replies are joined by). */
interface ByMsgId {
  readonly message: ByIdTable<RpcMessage>;
  readonly call: ByIdTable<RpcCall>;
}

/**
 * Values by an id (`_msg_id`) keyed by a small-integer hash of it, not by the id: a capture has a
 * call per two messages, and a spec load's ids are strings made per read (spec-records.ts), so a
 * Map by id kept one ~56-byte string and one entry object per call (14 MB on the 1.1 GB bench
 * capture). Ids whose hashes collide share an array; a value's id is read back to tell them apart.
 */
class ByIdTable<T extends object> {
  readonly #byHash = new Map<number, T | T[]>();
  readonly #idOf: (v: T) => string | undefined;
  constructor(idOf: (v: T) => string | undefined) {
    this.#idOf = idOf;
  }

  /** Sets id's value (a later one replaces it). */
  set(id: string, v: T): void {
    const h = hashId(id);
    const e = this.#byHash.get(h);
    if (e === undefined) this.#byHash.set(h, v);
    else if (Array.isArray(e)) {
      const i = e.findIndex((x) => this.#idOf(x) === id);
      if (i >= 0) e[i] = v;
      else e.push(v);
    } else if (this.#idOf(e) === id) this.#byHash.set(h, v);
    else this.#byHash.set(h, [e, v]);
  }

  get(id: string): T | undefined {
    const e = this.#byHash.get(hashId(id));
    if (e === undefined) return undefined;
    if (Array.isArray(e)) return e.find((x) => this.#idOf(x) === id);
    return this.#idOf(e) === id ? e : undefined;
  }
}

/**
 * FNV-1a over the id's char codes, to 30 bits: a Smi, which a Map key holds without a heap number.
 * Exported for the test that joins replies of colliding ids.
 */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** Messages of one service context further apart than this are separate bursts (episodes). */
const EPISODE_GAP_MS = 3000;
/** An agent's reaction is looked for this long after the operation's last message. */
const LINK_WINDOW_MS = 10_000;

interface PendingOp {
  messages: RpcMessage[];
  /** The message that names the operation. */
  starter: RpcMessage;
  /** NO_IDS (shared) while it names none. */
  ids: ReadonlySet<string>;
  startMs: number;
  endMs: number;
  /** Linked message → why. */
  links: Map<RpcMessage, string> | undefined;
}

function spanOf(g: readonly RpcMessage[]): { startMs: number; endMs: number } {
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  for (const m of g) {
    startMs = Math.min(startMs, m.wire.ts);
    endMs = Math.max(endMs, m.wire.ts);
  }
  return { startMs, endMs };
}

const NO_IDS: ReadonlySet<string> = new Set();

function idsOf(g: readonly RpcMessage[]): Set<string> {
  const ids = new Set<string>();
  for (const m of g) for (const id of m.hints?.ids ?? []) ids.add(id);
  return ids;
}

function splitByGap(g: readonly RpcMessage[], gapMs: number): RpcMessage[][] {
  const sorted = [...g].sort(byTime);
  const out: RpcMessage[][] = [];
  let cur: RpcMessage[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const m of sorted) {
    if (cur.length > 0 && m.wire.ts - last > gapMs) {
      out.push(cur);
      cur = [];
    }
    cur.push(m);
    last = m.wire.ts;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * The latest-starting operation that began at or before `startMs`, ended at most LINK_WINDOW_MS
 * before it, and shares one of `ids`; with the id shared.
 */
function latestSharing(
  ops: readonly PendingOp[],
  ids: ReadonlySet<string>,
  startMs: number,
): { op: PendingOp; id: string } | undefined {
  let best: { op: PendingOp; id: string } | undefined;
  if (ids.size === 0) return undefined;
  for (const op of ops) {
    if (startMs < op.startMs || startMs > op.endMs + LINK_WINDOW_MS) continue;
    if (best !== undefined && op.startMs <= best.op.startMs) continue;
    for (const id of ids)
      if (op.ids.has(id)) {
        best = { op, id };
        break;
      }
  }
  return best;
}

/**
 * neutron agents' calls carry the agent's own request id (a fresh or loop-long admin context):
 * a burst of them that names a resource of an operation (network, port, router id in its
 * arguments) and starts within LINK_WINDOW_MS of the operation's last message is that operation's
 * reaction (the DHCP agent's get_network_info after network_create_end, the OVS agent's
 * update_device_list after a port push). Joined in time order so a reaction can carry the next
 * (sync_routers → update_device_list); the link is marked inferred. Heartbeats never link.
 */
function linkReactions(
  ops: PendingOp[],
  episodes: RpcMessage[][],
  background: RpcMessage[],
  unlinked?: (e: { readonly messages: readonly RpcMessage[]; startMs: number; endMs: number }) => void,
): void {
  const eps: { messages: RpcMessage[]; ids: ReadonlySet<string>; startMs: number; endMs: number }[] = [];
  for (const all of episodes) {
    // A heartbeat is background, but an agent sends it with the same context as its reactions
    // (neutron's OVS agent: report_state and network_update's get_network_details both use the
    // agent's one admin context), so a report_state that falls within EPISODE_GAP_MS of a
    // reaction must not take the reaction to the background with it; nor its reply, which takes
    // the call's request id (a reply 50 ms after a report_state before the operation began made
    // the OVS agent's update_device_list start before the port create it reacts to).
    const beats = new Set<string>();
    for (const m of all) if (m.method === 'report_state' && m.msgId !== undefined) beats.add(m.msgId);
    const heartbeat = (m: RpcMessage): boolean =>
      m.method === 'report_state' || (m.kind === 'reply' && m.msgId !== undefined && beats.has(m.msgId));
    const e = all.some((m) => m.method === 'report_state') ? all.filter((m) => !heartbeat(m)) : all;
    if (e !== all) for (const m of all) if (heartbeat(m)) background.push(m);
    if (e.length === 0) continue;
    // most episodes name no resource (periodic work): they share one empty set, not one each
    eps.push({
      messages: e,
      ids: e.some((m) => m.hints?.ids !== undefined) ? idsOf(e) : NO_IDS,
      ...spanOf(e),
    });
  }
  eps.sort((a, b) => a.startMs - b.startMs);
  for (const e of eps) {
    const best = latestSharing(ops, e.ids, e.startMs);
    if (best === undefined) {
      background.push(...e.messages);
      unlinked?.(e);
      continue;
    }
    const op = best.op;
    const afterMs = Math.round(e.startMs - op.endMs);
    const req = e.messages.find((m) => m.requestId !== undefined)?.requestId;
    const why = `shares resource ${best.id}; ${afterMs <= 0 ? 'during the operation' : `${afterMs} ms after its last message`}; own request id ${req ?? 'none'}`;
    for (const m of e.messages) {
      op.messages.push(m);
      op.links ??= new Map();
      op.links.set(m, why);
    }
    // e.ids is not empty here (latestSharing found one of them in op.ids)
    const ids = op.ids === NO_IDS ? new Set<string>() : (op.ids as Set<string>);
    for (const id of e.ids) ids.add(id);
    op.ids = ids;
    op.endMs = Math.max(op.endMs, e.endMs);
  }
}

/**
 * neutron tells nova that a port changed or a VIF is plugged through nova-api's
 * os-server-external-events (neutron/notifiers/nova.py), and nova-api casts
 * `external_instance_event` to the compute under that API request's own id: by request id an
 * operation of its own. It belongs to the operation acting on the same instance (a boot waits for
 * network-vif-plugged: compute/manager.py _build_and_run_instance, wait_for_instance_event):
 * joined to the latest operation that started before it, shares an instance uuid
 * (RpcMessage.hints.ids) and ended at most LINK_WINDOW_MS before it; the link is marked inferred.
 */
function joinInstanceEvents(ops: readonly PendingOp[]): PendingOp[] {
  const isEvent = (p: PendingOp): boolean =>
    p.starter.topic === 'compute' && p.starter.method === 'external_instance_event';
  const keep = ops.filter((p) => !isEvent(p));
  const events = ops.filter(isEvent).sort((a, b) => a.startMs - b.startMs);
  const targets = keep.filter((p) => p.ids.size > 0);
  for (const e of events) {
    const best = latestSharing(targets, e.ids, e.startMs);
    if (best === undefined) {
      keep.push(e);
      continue;
    }
    const op = best.op;
    const afterMs = Math.round(e.startMs - op.endMs);
    const why = `external event for instance ${best.id} (neutron → nova-api); ${afterMs <= 0 ? 'during the operation' : `${afterMs} ms after its last message`}; own request id ${e.starter.requestId ?? 'none'}`;
    for (const m of e.messages) {
      op.messages.push(m);
      op.links ??= new Map();
      op.links.set(m, why);
    }
    op.endMs = Math.max(op.endMs, e.endMs);
  }
  return keep;
}

/**
 * neutron's API notifications (neutron/api/v2/base.py: "<resource>.<action>.start/.end",
 * l3_db "router.interface.create/delete"), from neutron-server ("network.<host>").
 */
const NEUTRON_EVENT = /^([a-z_]+(?:\.interface)?)\.(create|update|delete)(?:\.(?:start|end))?$/;

function isNeutronApiEvent(m: RpcMessage): boolean {
  if (m.kind !== 'notification' || m.eventType === undefined) return false;
  const fromNeutron = m.exchange === 'neutron' || (m.publisherId?.startsWith('network.') ?? false);
  return fromNeutron && NEUTRON_EVENT.test(m.eventType);
}

/** Agent → server RPC (neutron/agent/rpc.py, l3 and dhcp agents' plugin APIs): an agent's own work. */
const AGENT_TO_SERVER = new Set([
  'q-plugin',
  'q-l3-plugin',
  'q-reports-plugin',
  'q-server-resource-versions',
]);

/**
 * The message that makes a request-id group an operation and names it, or undefined (background):
 * a call or cast with a known user action (aliases.ts); a neutron API notification unless an
 * agent's call began the group; else a call, cast or fanout
 * that startsOperation; else a notification sent in a user's context (nova's `instance.lock`: the
 * whole operation is one notification).
 */
function namingOf(g: readonly RpcMessage[]): RpcMessage | undefined {
  let first: RpcMessage | undefined;
  for (const m of g) if (m.kind !== 'reply' && (first === undefined || byTime(m, first) < 0)) first = m;
  if (first === undefined) return undefined;
  // a known user action first: nova's boot joins neutron's port create by global request id
  if (startsOperation(first) && aliasFor(first.topic, first.method) !== undefined) return first;
  const agentBegun = (first.kind === 'call' || first.kind === 'cast') && AGENT_TO_SERVER.has(first.topic);
  if (!agentBegun) {
    const api = g.filter(isNeutronApiEvent).sort(byTime);
    const start = api.find((m) => m.eventType?.endsWith('.start')) ?? api[0];
    if (start !== undefined) return start;
  }
  if (startsOperation(first)) return first;
  return g.find((m) => m.kind === 'notification' && isUserContext(m.context));
}

/** "network.create.start" → "network create"; router.interface.create → "router interface add". */
export function eventAlias(eventType: string): string {
  const stem = eventType.replace(/\.(start|end)$/, '');
  if (stem === 'router.interface.create') return 'router interface add';
  if (stem === 'router.interface.delete') return 'router interface remove';
  const parts = stem.split('.');
  if (parts[0] === 'instance' || parts[0] === 'compute') {
    // nova: "instance.lock" → "server lock"
    return `server ${parts.slice(parts[0] === 'compute' ? 2 : 1).join(' ')}`.trim();
  }
  return parts.map((p) => (p === 'floatingip' ? 'floating ip' : p.replace(/_/g, ' '))).join(' ');
}

/**
 * An operation starts with a call, cast or fanout that is not nova-object RPC and that either
 * maps onto a known user action or carries a user's context. Periodic tasks run with
 * `context.get_admin_context()` (nova/service.py Service.periodic_tasks): no user, no address.
 */
export function startsOperation(m: RpcMessage): boolean {
  if (m.kind !== 'call' && m.kind !== 'cast' && m.kind !== 'fanout') return false;
  if (isObjectRpc(m.method)) return false;
  return aliasFor(m.topic, m.method) !== undefined || isUserContext(m.context);
}

/** Sender service of a message: the resolver, else what the capture teaches, else nova's code. */
interface Learned {
  byConnection: Map<string, string>;
  resolve: ServiceResolver | undefined;
}

function learnConnections(
  msgs: readonly RpcMessage[],
  byMsgId: ByMsgId,
  resolve: ServiceResolver | undefined,
): Learned {
  // a connection that publishes the reply to a call sent to topic T is the service consuming T
  // (oslo replies from the server's connection pool: amqpdriver.py AMQPIncomingMessage.reply)
  const byConnection = new Map<string, string>();
  for (const m of msgs) {
    if (m.kind !== 'reply' || m.msgId === undefined || m.wire.connection === undefined) continue;
    const call = byMsgId.message.get(m.msgId);
    if (call !== undefined) byConnection.set(m.wire.connection.id, serviceOfTopic(call.topic));
  }
  return { byConnection, resolve };
}

function senderOf(m: RpcMessage, learned: Learned): { name: string; inferred: boolean } {
  const r = learned.resolve?.(m);
  if (r !== undefined) return { name: r.type, inferred: false };
  const conn = m.wire.connection?.id;
  const viaReply = conn === undefined ? undefined : learned.byConnection.get(conn);
  if (viaReply !== undefined) return { name: viaReply, inferred: false };
  const known = knownSender(m.topic, m.method);
  if (known !== undefined) return { name: known, inferred: true };
  if (m.kind === 'notification' && m.publisherId !== undefined) {
    return { name: publisherService(m.publisherId), inferred: true };
  }
  return {
    name: conn === undefined ? 'unknown' : `client ${m.wire.connection?.client ?? conn}`,
    inferred: true,
  };
}

/**
 * Service of a notification publisher id: legacy notifications use "<service>.<host>"
 * ("compute.rig-compute-1", nova/rpc.py get_notifier), versioned ones "<binary>:<host>"
 * ("nova-scheduler:rig-compute-1", nova/notifications/objects/base.py NotificationPublisher).
 */
export function publisherService(publisherId: string): string {
  const p = publisherId.split(/[.:]/)[0] ?? publisherId;
  return p.startsWith('nova-') ? p : serviceOfTopic(p);
}

function receiverOf(m: RpcMessage): string {
  if (m.kind === 'notification') return 'notifications';
  return serviceOfTopic(m.topic);
}

function buildOne(
  p: PendingOp,
  reqOf: (m: RpcMessage) => string | undefined,
  byMsgId: ByMsgId,
  learned: Learned,
): Operation {
  const starter = p.starter;
  const sorted = [...p.messages].sort(byTime);
  const first = sorted[0] ?? starter;
  const t0 = first.wire.ts;
  const steps: OperationStep[] = [];
  const stepOfCall = new Map<string, OperationStep>();
  const requestIds: string[] = [];
  let globalRequestId: string | undefined;
  for (const m of sorted) {
    const r = reqOf(m);
    const link = p.links?.get(m);
    if (r !== undefined && !requestIds.includes(r) && link === undefined) requestIds.push(r);
    if (m.globalRequestId !== undefined && globalRequestId === undefined) globalRequestId = m.globalRequestId;
    const seq = steps.length;
    const base = {
      seq,
      offsetMs: m.wire.ts - t0,
      kind: m.kind,
      exchange: m.exchange,
      topic: m.topic,
      bodySize: m.bodySize,
      ...(m.server !== undefined ? { server: m.server } : {}),
      ...(m.method !== undefined ? { method: m.method } : {}),
      ...(m.object !== undefined ? { object: m.object } : {}),
      ...(m.eventType !== undefined ? { eventType: m.eventType } : {}),
      ...(r !== undefined ? { requestId: r } : {}),
      ...(m.msgId !== undefined ? { msgId: m.msgId } : {}),
      ...(link !== undefined ? { inferredLink: link } : {}),
    };
    if (m.kind === 'reply') {
      const callStep = m.msgId === undefined ? undefined : stepOfCall.get(m.msgId);
      if (callStep !== undefined && callStep.latencyMs === undefined) {
        // no RpcCall for it (the caller passed none): publish → reply publish, as seen here
        steps[callStep.seq] = { ...callStep, latencyMs: m.wire.ts - t0 - callStep.offsetMs };
      }
      const step: OperationStep = {
        ...base,
        from: callStep?.to ?? senderOf(m, learned).name,
        fromInferred: callStep === undefined,
        to: callStep?.from ?? 'unknown',
        ...(callStep !== undefined ? { replyToSeq: callStep.seq } : {}),
      };
      steps.push(step);
      continue;
    }
    const sender = senderOf(m, learned);
    const c = m.kind === 'call' && m.msgId !== undefined ? byMsgId.call.get(m.msgId) : undefined;
    const step: OperationStep = {
      ...base,
      from: sender.name,
      fromInferred: sender.inferred,
      to: receiverOf(m),
      ...(c !== undefined ? { outcome: c.outcome } : {}),
      ...(c?.latencyMs !== undefined ? { latencyMs: c.latencyMs } : {}),
      ...(c?.queueMs !== undefined ? { queueMs: c.queueMs } : {}),
      ...(c?.serverMs !== undefined ? { serverMs: c.serverMs } : {}),
      ...(c?.returnMs !== undefined ? { returnMs: c.returnMs } : {}),
    };
    if (m.kind === 'call' && m.msgId !== undefined) stepOfCall.set(m.msgId, step);
    steps.push(step);
  }
  const lifelines: string[] = [];
  const addLife = (l: string): void => {
    if (!lifelines.includes(l)) lifelines.push(l);
  };
  for (const s of steps) {
    addLife(s.from);
    addLife(s.to);
  }
  // notifications on the far right: they have no consumer in the call chain
  const ni = lifelines.indexOf('notifications');
  if (ni >= 0) {
    lifelines.splice(ni, 1);
    lifelines.push('notifications');
  }
  const byEvent = starter.kind === 'notification' && starter.eventType !== undefined;
  const alias = byEvent ? undefined : aliasFor(starter.topic, starter.method);
  const per = alias?.perServer;
  const servers =
    per === undefined
      ? 1
      : Math.max(1, steps.filter((s) => s.topic === per.topic && s.method === per.method).length);
  const last = sorted[sorted.length - 1] ?? first;
  const aliasName = byEvent
    ? eventAlias(starter.eventType ?? '')
    : (moveActionOf(starter, sorted) ?? alias?.alias);
  const inferredLinks = p.links?.size ?? 0;
  return {
    id: requestIds[0] ?? 'unknown',
    name: byEvent
      ? (starter.eventType ?? '').replace(/\.(start|end)$/, '')
      : (starter.method ?? '(no method)'),
    topic: starter.topic,
    ...(aliasName !== undefined ? { alias: aliasName } : {}),
    servers,
    requestIds,
    ...(globalRequestId !== undefined ? { globalRequestId } : {}),
    startMs: t0,
    endMs: last.wire.ts,
    durationMs: last.wire.ts - t0,
    lifelines,
    steps,
    backgroundDuring: [],
    ...(inferredLinks > 0 ? { inferredLinks } : {}),
  };
}

/**
 * What the arguments of the starting move method tell (aliases.ts moveAction); else those of the
 * same method later in the operation (conductor passes `recreate` on to the compute's
 * rebuild_instance), for a capture that holds the compute's message only.
 */
function moveActionOf(starter: RpcMessage, sorted: readonly RpcMessage[]): string | undefined {
  const own = moveAction(starter.method, starter.hints?.move);
  if (own !== undefined || starter.method === undefined) return own;
  for (const m of sorted) {
    if (m.method !== starter.method) continue;
    const a = moveAction(m.method, m.hints?.move);
    if (a !== undefined) return a;
  }
  return undefined;
}

/** Index of the first message at or after `t` in a time-sorted list (binary search). */
export function firstAtOrAfter(sorted: readonly RpcMessage[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid]?.wire.ts ?? Number.POSITIVE_INFINITY) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The background messages that fall inside an operation's window (background sorted by time). */
function backgroundNotes(op: Operation, background: readonly RpcMessage[]): BackgroundNote[] {
  const notes: BackgroundNote[] = [];
  for (let j = firstAtOrAfter(background, op.startMs); j < background.length; j++) {
    const m = background[j];
    if (m === undefined || m.wire.ts > op.endMs) break;
    if (m.kind === 'reply') continue;
    const reason = isObjectRpc(m.method)
      ? `nova-object RPC with ${m.requestId === undefined ? 'no' : 'another (periodic task)'} request context: background, not part of the operation`
      : `different request context (${isUserContext(m.context) ? 'another request' : 'service admin context'}): background`;
    notes.push({
      offsetMs: m.wire.ts - op.startMs,
      kind: m.kind,
      topic: m.topic,
      ...(m.method !== undefined ? { method: m.method } : {}),
      ...(m.object !== undefined ? { object: m.object } : {}),
      ...(m.requestId !== undefined ? { requestId: m.requestId } : {}),
      reason,
    });
  }
  return notes;
}

/** "Instance.save", else the method, else the event type: how a step is labelled. */
export function stepLabel(s: {
  readonly method?: string;
  readonly object?: string;
  readonly eventType?: string;
  readonly kind: RpcKind;
}): string {
  if (s.kind === 'notification') return s.eventType ?? s.method ?? 'notification';
  if (s.kind === 'reply') return 'reply';
  if (s.object !== undefined) return `${s.method ?? ''} ${s.object}`.trim();
  return s.method ?? '?';
}
