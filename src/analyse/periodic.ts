/**
 * Background traffic: what each service sends on its own, per instance, with measured periods.
 *
 * nova's periodic work: every service reports its state through `Service.save` every
 * `report_interval` (10 s, nova/servicegroup/drivers/db.py), nova-compute's periodic tasks run
 * from one loop with one admin context per run (nova/service.py periodic_tasks,
 * nova/compute/manager.py: update_available_resource every 60 s, _sync_scheduler_instance_info
 * every 120 s as a fanout to the schedulers...). This is the per-hypervisor cost that grows with
 * the number of computes.
 */

import { isObjectRpc, knownSender, serviceOfTopic } from '../correlate/aliases.ts';
import { publisherService, type ServiceResolver } from '../correlate/operations.ts';
import type { RpcKind, RpcMessage } from '../records.ts';
import { idKey52 } from '../util/id-key.ts';
import { median } from './spec-stats.ts';

export interface PeriodicRpc {
  readonly kind: RpcKind;
  readonly topic: string;
  readonly method?: string;
  readonly object?: string;
  readonly eventType?: string;
  /** Messages of this kind per instance over the capture (median over instances). */
  readonly count: number;
  /** Runs seen: messages closer than `burstGapS` count as one run of the periodic task. */
  readonly occurrences: number;
  readonly messagesPerOccurrence: number;
  /** Median interval between runs; absent with fewer than two runs. */
  readonly periodS?: number;
  /** Median absolute deviation of the intervals from the period. */
  readonly jitterS?: number;
  /**
   * Per instance: messages per run × 60 / period when a period was measured, else
   * count × 60 / capture seconds (a capture holds n runs but only n − 1 periods).
   */
  readonly perMinute: number;
  /** count × 60 / capture seconds, per instance. */
  readonly measuredPerMinute: number;
  /** Replies to these calls per minute (they load the broker too). */
  readonly repliesPerMinute: number;
  readonly bytesMedian: number;
  /** Of `count`, how many fell inside operation windows. */
  readonly duringOperations: number;
  /**
   * Seen mostly while operations ran: triggered by them though carrying a periodic task's context
   * (nova-object RPC on an object loaded by a periodic task, e.g. ComputeNode.save during a boot).
   * No period; left out of perInstancePerMinute.
   */
  readonly duringOperationsOnly?: boolean;
  /**
   * Seen in one run only and no period: the capture is too short to tell a rate (perMinute is
   * count over the window, not a measured rate); renderers say so instead of a per-minute figure.
   */
  readonly tooShort?: boolean;
}

export interface BackgroundService {
  readonly service: string;
  readonly instances: number;
  readonly instanceNames: readonly string[];
  readonly periodic: readonly PeriodicRpc[];
  /** All messages one instance causes per minute on its own, replies to its calls included (duringOperationsOnly RPCs left out). */
  readonly perInstancePerMinute: number;
}

export interface BackgroundOptions {
  readonly resolve?: ServiceResolver;
  /**
   * Capture window, milliseconds: the captures' own span (src/pipeline/load.ts: a pcap from its
   * first packet to its last, a JSON log from its first record to its last), not the first to the
   * last background message — a quiet capture's rates would be overstated.
   */
  readonly windowMs: number;
  /** Every published message of the capture, to find the calls background replies answer. */
  readonly allMessages?: readonly RpcMessage[];
  /** Separate captures (files): periods are measured within each only. Default: one. */
  readonly segments?: readonly { readonly startMs: number; readonly endMs: number }[];
  /** Time windows of the operations found; background seen only inside them is flagged. */
  readonly operationWindows?: readonly { readonly startMs: number; readonly endMs: number }[];
  /** Messages of one periodic run arrive within this many seconds (default 2). */
  readonly burstGapS?: number;
}

/**
 * Messages that identify() and the series key cannot tell apart: they land in the same
 * service → instance → series accumulator whatever the resolver learnt from the whole capture, so
 * they are counted together until finish.
 */
interface Identity {
  /** The first such message reduced to plain copies: what options.resolve and identify() read. */
  readonly rep: RpcMessage;
  readonly ts: Column;
  readonly bytes: Column;
}

/** One series of one instance at finish: the identities it merges. */
interface Acc {
  readonly kind: RpcKind;
  readonly topic: string;
  readonly method?: string;
  readonly object?: string;
  readonly eventType?: string;
  readonly ids: Identity[];
  replies: number;
}

/**
 * A `_msg_id` entry packs its owner and its reply count into one number, which V8 keeps unboxed
 * while it is below 2³⁰ (up to 15 replies): no object per background call.
 */
const OWNER_SPAN = 2 ** 26;

/**
 * Background traffic folded as it comes: `seen` every published message, `add` the background in
 * time order, `finish` once the resolver is known. What stays per background message is its time
 * and body size in typed arrays (12 bytes), plus one map entry per background call's `_msg_id`;
 * messages are never referenced after the call returns (they may be views into a store that is
 * compacted next).
 */
export class BackgroundAccumulator {
  /** Per service (from routing keys): its one host, or `many` once a second one shows. */
  readonly #hosts = new Map<string, { readonly first: string; many: boolean }>();
  readonly #ids = new Map<string, number>();
  /** In order of first add: the order today's loop created its accumulators in. */
  readonly #identities: Identity[] = [];
  /**
   * 52-bit hash of a `_msg_id` → owner + replies × OWNER_SPAN, owner = 1 + the identity of the last
   * background call with that id (0: none yet). Replies are only attributed at finish: a later call
   * with the same id takes them over, as the all-at-once loop did, and a reply may come first. No
   * entry is dropped early: the old two-message reply (result, then `ending`) counts twice.
   */
  readonly #byMsgId = new Map<number, number>();

  /** Every published message of the capture (what options.allMessages was): hosts in routing keys. */
  seen(m: RpcMessage): void {
    if ((m.kind !== 'call' && m.kind !== 'cast') || m.server === undefined || m.server === '') return;
    const svc = serviceOfTopic(m.topic);
    const h = this.#hosts.get(svc);
    if (h === undefined) this.#hosts.set(svc, { first: m.server, many: false });
    else if (!h.many && h.first !== m.server) h.many = true;
  }

  /** A background message; across calls, the capture's background in time order. */
  add(m: RpcMessage): void {
    if (m.kind === 'reply') {
      if (m.msgId === undefined || m.ending === false) return;
      const k = idKey52(m.msgId);
      this.#byMsgId.set(k, (this.#byMsgId.get(k) ?? 0) + OWNER_SPAN);
      return;
    }
    const c = m.wire.connection;
    const key =
      field(m.kind) +
      field(m.topic) +
      field(m.method) +
      field(m.object) +
      field(m.eventType) +
      field(m.publisherId) +
      (c === undefined
        ? '~'
        : field(c.id) +
          field(c.client) +
          field(c.server) +
          field(c.vhost) +
          field(c.user) +
          field(c.name) +
          field(c.product));
    let i = this.#ids.get(key);
    if (i === undefined) {
      i = this.#identities.length;
      if (i >= OWNER_SPAN - 1) throw new Error(`background: more than ${OWNER_SPAN - 1} sender identities`);
      this.#identities.push({ rep: representative(m), ts: new Column(true), bytes: new Column(false) });
      this.#ids.set(key, i);
    }
    const id = this.#identities[i];
    if (id === undefined) return;
    id.ts.push(m.wire.ts);
    id.bytes.push(m.bodySize);
    if (m.kind === 'call' && m.msgId !== undefined) {
      const k = idKey52(m.msgId);
      const v = this.#byMsgId.get(k) ?? 0;
      this.#byMsgId.set(k, v - (v % OWNER_SPAN) + i + 1);
    }
  }

  /** The analysis of what was added; the accumulator is left as it was (finish may be called again). */
  finish(options: BackgroundOptions): BackgroundService[] {
    const segments = options.segments ?? [];
    const segmentOf = (t: number): number => segments.findIndex((g) => t >= g.startMs && t <= g.endMs);
    const windowS = Math.max(options.windowMs / 1000, 1e-3);
    const opWindows = options.operationWindows ?? [];
    const inOperation = windowTest(opWindows);
    const gap = (options.burstGapS ?? 2) * 1000;

    const identify = (m: RpcMessage): { service: string; instance: string } => {
      const r = options.resolve?.(m);
      let service = r?.type;
      if (service === undefined) {
        service =
          knownSender(m.topic, m.method) ??
          (m.kind === 'notification' && m.publisherId !== undefined
            ? publisherService(m.publisherId)
            : undefined) ??
          (isObjectRpc(m.method) ? 'nova-compute' : `client ${m.wire.connection?.client ?? 'unknown'}`);
      }
      let instance = r?.instance;
      if (instance === undefined) {
        const hosts = this.#hosts.get(service);
        // one host of this service in the routing keys: it is that one; else the instance is not named
        instance = hosts !== undefined && !hosts.many ? hosts.first : 'unnamed';
      }
      return { service, instance };
    };

    const replies = new Float64Array(this.#identities.length);
    for (const v of this.#byMsgId.values()) {
      const owner = v % OWNER_SPAN;
      if (owner > 0) replies[owner - 1] = (replies[owner - 1] ?? 0) + (v - owner) / OWNER_SPAN;
    }

    // service → instance → key → acc, created in the order of each one's first message
    const per = new Map<string, Map<string, Map<string, Acc>>>();
    this.#identities.forEach((id, i) => {
      const m = id.rep;
      const who = identify(m);
      const key = [m.kind, m.topic, m.method ?? '', m.object ?? '', m.eventType ?? ''].join('|');
      let insts = per.get(who.service);
      if (insts === undefined) {
        insts = new Map();
        per.set(who.service, insts);
      }
      let keys = insts.get(who.instance);
      if (keys === undefined) {
        keys = new Map();
        insts.set(who.instance, keys);
      }
      let acc = keys.get(key);
      if (acc === undefined) {
        acc = {
          kind: m.kind,
          topic: m.topic,
          ids: [],
          replies: 0,
          ...(m.method !== undefined ? { method: m.method } : {}),
          ...(m.object !== undefined ? { object: m.object } : {}),
          ...(m.eventType !== undefined ? { eventType: m.eventType } : {}),
        };
        keys.set(key, acc);
      }
      acc.ids.push(id);
      acc.replies += replies[i] ?? 0;
    });

    const out: BackgroundService[] = [];
    for (const [service, insts] of per) {
      const keys = new Set<string>();
      for (const k of insts.values()) for (const key of k.keys()) keys.add(key);
      const periodic: PeriodicRpc[] = [];
      let perInstance = 0;
      for (const key of keys) {
        const accs = [...insts.values()].map((k) => k.get(key)).filter((a): a is Acc => a !== undefined);
        const first = accs[0];
        if (first === undefined) continue;
        const times = accs.map((a) => gather(a.ids, (id) => id.ts));
        const runs = times.map((ts) => runsOfSorted(ts, gap));
        // intervals only within one capture: the time between two capture files is not a period
        const intervals = runs.flatMap((r) =>
          r.slice(1).flatMap((t, i) => {
            const prev = r[i] ?? t;
            return segmentOf(prev) === segmentOf(t) ? [(t - prev) / 1000] : [];
          }),
        );
        const during = times.map((ts) => {
          let n = 0;
          for (const t of ts) if (inOperation(t)) n++;
          return n;
        });
        // only ever seen while operations ran (the resource tracker's ComputeNode.save during a
        // boot): caused by those operations though it carries a periodic context; no period, and not
        // part of the idle per-instance rate
        // mostly seen while operations ran: triggered by them (a heartbeat keeps its pace whether
        // operations run or not, so it stays periodic)
        const total = times.reduce((n, ts) => n + ts.length, 0);
        const inside = during.reduce((n, d) => n + d, 0);
        const triggered = opWindows.length > 0 && inside * 2 > total;
        // a period needs at least two intervals (three runs): two samples give a gap, not a period
        const periodS = intervals.length >= 2 && !triggered ? median(intervals) : undefined;
        const jitterS =
          periodS !== undefined ? median(intervals.map((x) => Math.abs(x - periodS))) : undefined;
        const counts = times.map((ts) => ts.length);
        // instances without this RPC count as 0 in the median
        while (counts.length < insts.size) counts.push(0);
        const count = median(counts);
        const occ = median(runs.map((r) => r.length));
        const replies = median(accs.map((a) => a.replies));
        const mpo = occ > 0 ? count / occ : 0;
        const perMinute =
          periodS !== undefined && periodS > 0 ? (mpo * 60) / periodS : (count * 60) / windowS;
        if (!triggered) perInstance += perMinute + (count > 0 ? (perMinute * replies) / count : 0);
        periodic.push({
          kind: first.kind,
          topic: first.topic,
          ...(first.method !== undefined ? { method: first.method } : {}),
          ...(first.object !== undefined ? { object: first.object } : {}),
          ...(first.eventType !== undefined ? { eventType: first.eventType } : {}),
          count,
          occurrences: occ,
          messagesPerOccurrence: occ > 0 ? round(count / occ, 2) : 0,
          ...(periodS !== undefined ? { periodS: round(periodS, 2) } : {}),
          ...(jitterS !== undefined ? { jitterS: round(jitterS, 3) } : {}),
          perMinute: round(perMinute, 3),
          measuredPerMinute: round((count * 60) / windowS, 3),
          repliesPerMinute: round(count > 0 ? (perMinute * replies) / count : 0, 3),
          bytesMedian: sortedMedian(
            gather(
              accs.flatMap((a) => a.ids),
              (id) => id.bytes,
            ),
          ),
          duringOperations: median(during),
          ...(triggered ? { duringOperationsOnly: true } : {}),
          ...(periodS === undefined && !triggered && occ < 2 ? { tooShort: true } : {}),
        });
      }
      periodic.sort((a, b) => b.perMinute - a.perMinute || (a.method ?? '').localeCompare(b.method ?? ''));
      out.push({
        service,
        instances: insts.size,
        instanceNames: [...insts.keys()].sort(),
        periodic,
        perInstancePerMinute: round(perInstance, 3),
      });
    }
    out.sort((a, b) => a.service.localeCompare(b.service));
    return out;
  }
}

/** Per service type: its background RPCs with period, jitter and rate. */
export function analyseBackground(
  background: readonly RpcMessage[],
  options: BackgroundOptions,
): BackgroundService[] {
  const acc = new BackgroundAccumulator();
  for (const m of options.allMessages ?? background) acc.seen(m);
  for (const m of background) acc.add(m);
  return acc.finish(options);
}

/** Unambiguous piece of an identity key: the length tells where a string ends, `~` is absent. */
function field(s: string | undefined): string {
  return s === undefined ? '~' : `${s.length}:${s}`;
}

/**
 * The message as identify() and a resolver see it: the identity's fields (kind, topic, method,
 * object, event type, publisher, connection), the first message's wire facts so the record is
 * whole, in fresh objects so that nothing of the message's own stays reachable.
 */
function representative(m: RpcMessage): RpcMessage {
  const c = m.wire.connection;
  const w = m.wire;
  return {
    wire: {
      seq: w.seq,
      ts: w.ts,
      source: w.source,
      event: w.event,
      exchange: w.exchange,
      routingKey: w.routingKey,
      properties: {},
      bodySize: w.bodySize,
      ...(c !== undefined
        ? {
            connection: {
              id: c.id,
              client: c.client,
              server: c.server,
              ...(c.vhost !== undefined ? { vhost: c.vhost } : {}),
              ...(c.user !== undefined ? { user: c.user } : {}),
              ...(c.name !== undefined ? { name: c.name } : {}),
              ...(c.product !== undefined ? { product: c.product } : {}),
            },
          }
        : {}),
    },
    kind: m.kind,
    envelope: m.envelope,
    exchange: m.exchange,
    topic: m.topic,
    ...(m.method !== undefined ? { method: m.method } : {}),
    ...(m.object !== undefined ? { object: m.object } : {}),
    ...(m.eventType !== undefined ? { eventType: m.eventType } : {}),
    ...(m.publisherId !== undefined ? { publisherId: m.publisherId } : {}),
    context: {},
    bodySize: m.bodySize,
  };
}

/** Growable numbers: doubling up to CHUNK (most identities have few messages), then chunks never copied. */
const CHUNK = 4096;
class Column {
  #chunks: (Float64Array | Uint32Array)[] = [];
  #last: Float64Array | Uint32Array;
  #used = 0;
  #length = 0;
  /** Body sizes fit 4 bytes; a value that does not widens the column, so every value stays exact. */
  #wide: boolean;

  constructor(wide: boolean) {
    this.#wide = wide;
    this.#last = wide ? new Float64Array(4) : new Uint32Array(4);
    this.#chunks.push(this.#last);
  }

  get length(): number {
    return this.#length;
  }

  push(x: number): void {
    if (!this.#wide && !Object.is(x >>> 0, x)) this.#widen();
    if (this.#used === this.#last.length) {
      const grown = this.#last.length < CHUNK && this.#chunks.length === 1;
      const next = this.#alloc(grown ? this.#last.length * 2 : CHUNK);
      if (grown) {
        next.set(this.#last);
        this.#chunks[0] = next;
      } else {
        this.#chunks.push(next);
        this.#used = 0;
      }
      this.#last = next;
    }
    this.#last[this.#used++] = x;
    this.#length++;
  }

  /** Copies the values into `out` from `at`. */
  copyTo(out: Float64Array, at: number): void {
    let o = at;
    for (const c of this.#chunks) {
      const n = c === this.#last ? this.#used : c.length;
      out.set(n === c.length ? c : c.subarray(0, n), o);
      o += n;
    }
  }

  #alloc(n: number): Float64Array | Uint32Array {
    return this.#wide ? new Float64Array(n) : new Uint32Array(n);
  }

  #widen(): void {
    this.#wide = true;
    this.#chunks = this.#chunks.map((c) => Float64Array.from(c));
    this.#last = this.#chunks[this.#chunks.length - 1] ?? new Float64Array(4);
  }
}

/** One column of several identities, as one array sorted ascending. */
function gather(ids: readonly Identity[], col: (id: Identity) => Column): Float64Array {
  const out = new Float64Array(ids.reduce((n, id) => n + col(id).length, 0));
  let at = 0;
  for (const id of ids) {
    col(id).copyTo(out, at);
    at += col(id).length;
  }
  return out.sort((a, b) => a - b);
}

/** spec-stats median on an already sorted array (a capture's series can hold 10⁵ messages). */
function sortedMedian(s: Float64Array): number {
  if (s.length === 0) return 0;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** runsOf on times already sorted. */
function runsOfSorted(s: Float64Array, gapMs: number): number[] {
  const runs: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const t of s) {
    if (t - last > gapMs) runs.push(t);
    last = t;
  }
  return runs;
}

/** Start times of runs: a new run when the gap to the previous message exceeds `gapMs`. */
export function runsOf(ts: readonly number[], gapMs: number): number[] {
  const s = [...ts].sort((a, b) => a - b);
  const runs: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const t of s) {
    if (t - last > gapMs) runs.push(t);
    last = t;
  }
  return runs;
}

/** t → inside one of the windows? Merged and binary-searched: captures hold thousands of operations. */
function windowTest(
  ws: readonly { readonly startMs: number; readonly endMs: number }[],
): (t: number) => boolean {
  const merged: { startMs: number; endMs: number }[] = [];
  for (const w of [...ws].sort((a, b) => a.startMs - b.startMs)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && w.startMs <= last.endMs) last.endMs = Math.max(last.endMs, w.endMs);
    else merged.push({ startMs: w.startMs, endMs: w.endMs });
  }
  return (t) => {
    let lo = 0;
    let hi = merged.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = merged[mid];
      if (w === undefined) return false;
      if (t < w.startMs) hi = mid - 1;
      else if (t > w.endMs) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
