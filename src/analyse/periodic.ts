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
import { Distribution, type SampleBudget } from './distribution.ts';
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
  /**
   * Operations were found, their windows told to `add` (`during`) rather than given here: what
   * operationWindows' presence tells otherwise.
   */
  readonly anyOperations?: boolean;
  /** Messages of one periodic run arrive within this many seconds (default 2). */
  readonly burstGapS?: number;
}

/**
 * Background messages held one by one (12 bytes each, ~5 MB) before the accumulator settles: a
 * busy hour of a 100-compute cloud's heartbeats fits, a day of a large cloud's does not.
 */
export const BACKGROUND_HELD = 400_000;
/**
 * A background call's `_msg_id` waits this long of capture time (at least) for its replies: oslo's
 * rpc_response_timeout (60 s), after which its caller no longer waits for them either.
 */
const REPLY_WAIT_MS = 60_000;

/**
 * Messages that identify() and the series key cannot tell apart: they land in the same
 * service → instance → series accumulator whatever the resolver learnt from the whole capture, so
 * they are counted together until finish.
 */
interface Identity {
  /** The first such message reduced to plain copies: what options.resolve and identify() read. */
  readonly rep: RpcMessage;
  /** Times and sizes, until the accumulator settles. */
  ts: Column | undefined;
  bytes: Column | undefined;
  /** Messages added as `during` an operation. */
  during: number;
  /** Replies of calls whose `_msg_id` entry was let go (REPLY_WAIT_MS after the call). */
  replies: number;
  /** Once settled: the series its messages go to. */
  series?: Series;
}

/**
 * One series of one instance once the accumulator settled: what finish reads of it, accumulated
 * message by message (time order within a capture file).
 */
interface Series {
  readonly service: string;
  readonly instance: string;
  readonly rep: RpcMessage;
  n: number;
  during: number;
  runs: number;
  runStart: number;
  last: number;
  segment: number;
  /** Seconds between runs (within one capture file). */
  readonly intervals: Distribution;
  readonly bytes: Distribution;
}

/** What finish reads of one series of one instance, however it was accumulated. */
interface SeriesFigures {
  readonly count: number;
  readonly runs: number;
  readonly intervals: Distribution;
  readonly during: number;
  readonly bytes: Distribution;
  readonly replies: number;
}

/** One series of one instance at finish: the identities it merges. */
interface Acc {
  readonly kind: RpcKind;
  readonly topic: string;
  readonly method?: string;
  readonly object?: string;
  readonly eventType?: string;
  readonly ids: Identity[];
  readonly series: Set<Series>;
  replies: number;
}

/**
 * A `_msg_id` entry packs its owner and its reply count into one number, which V8 keeps unboxed
 * while it is below 2³⁰ (up to 15 replies): no object per background call.
 */
const OWNER_SPAN = 2 ** 26;

/** Where a series' runs and intervals are measured: the capture file a time falls in. */
type SegmentOf = (t: number) => number;

/**
 * Background traffic folded as it comes: `seen` every published message, `add` the background in
 * time order, `finish` once the resolver is known. What stays per background message is its time
 * and body size in typed arrays (12 bytes), plus a map entry per background call's `_msg_id` for
 * REPLY_WAIT_MS of capture time; messages are never referenced after the call returns (they may be
 * views into a store that is compacted next).
 *
 * Senders are named at finish, with what the whole capture taught the resolver, so that is what
 * they cost until `settle`: past BACKGROUND_HELD messages (a capture of hours of a large cloud) a
 * streaming spec settles the accumulator with the resolver it has, and from then on each message
 * goes straight to its series (count, runs, intervals and sizes, distribution.ts): memory no
 * longer grows with the capture.
 */
export class BackgroundAccumulator {
  /** Per service (from routing keys): its one host, or `many` once a second one shows. */
  readonly #hosts = new Map<string, { readonly first: string; many: boolean }>();
  readonly #ids = new Map<string, number>();
  /** In order of first add: the order today's loop created its accumulators in. */
  readonly #identities: Identity[] = [];
  /**
   * 52-bit hash of a `_msg_id` → owner + replies × OWNER_SPAN, owner = 1 + the identity of the last
   * background call with that id (0: none yet). Replies are attributed when the entry is let go
   * (#rotate) or at finish: a later call with the same id takes them over, as the all-at-once loop
   * did, and a reply may come first. The old two-message reply (result, then `ending`) counts twice.
   */
  #byMsgId = new Map<number, number>();
  /** The previous generation of #byMsgId, and when the current one began (capture time). */
  #olderMsgIds = new Map<number, number>();
  #generationMs = Number.NEGATIVE_INFINITY;
  #held = 0;
  readonly #budget: SampleBudget | undefined;
  /** Settled: service → instance → series key → series. */
  #settled: Map<string, Map<string, Map<string, Series>>> | undefined;
  #resolve: ServiceResolver | undefined;
  #segmentOf: SegmentOf = () => 0;
  readonly #gapMs: number;

  /** `budget` bounds the settled series' samples; `burstGapS` must be finish's (default 2). */
  constructor(options: { readonly budget?: SampleBudget; readonly burstGapS?: number } = {}) {
    this.#budget = options.budget;
    this.#gapMs = (options.burstGapS ?? 2) * 1000;
  }

  /** Background messages held one by one (0 once settled). */
  get held(): number {
    return this.#held;
  }
  get isSettled(): boolean {
    return this.#settled !== undefined;
  }

  /** Every published message of the capture (what options.allMessages was): hosts in routing keys. */
  seen(m: RpcMessage): void {
    if ((m.kind !== 'call' && m.kind !== 'cast') || m.server === undefined || m.server === '') return;
    const svc = serviceOfTopic(m.topic);
    const h = this.#hosts.get(svc);
    if (h === undefined) this.#hosts.set(svc, { first: m.server, many: false });
    else if (!h.many && h.first !== m.server) h.many = true;
  }

  /**
   * A background message; across calls, the capture's background in time order (within each
   * capture file). `during`: it fell inside an operation's window.
   */
  add(m: RpcMessage, during = false): void {
    this.#rotate(m.wire.ts);
    if (m.kind === 'reply') {
      if (m.msgId === undefined || m.ending === false) return;
      const k = idKey52(m.msgId);
      const map = this.#olderMsgIds.has(k) ? this.#olderMsgIds : this.#byMsgId;
      map.set(k, (map.get(k) ?? 0) + OWNER_SPAN);
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
      const rep = representative(m);
      const settled = this.#settled !== undefined;
      this.#identities.push({
        rep,
        ts: settled ? undefined : new Column(true),
        bytes: settled ? undefined : new Column(false),
        during: 0,
        replies: 0,
        ...(settled ? { series: this.#seriesOf(rep) } : {}),
      });
      this.#ids.set(key, i);
    }
    const id = this.#identities[i];
    if (id === undefined) return;
    if (during) id.during++;
    if (id.series !== undefined) this.#push(id.series, m.wire.ts, m.bodySize, during);
    else {
      id.ts?.push(m.wire.ts);
      id.bytes?.push(m.bodySize);
      this.#held++;
    }
    if (m.kind === 'call' && m.msgId !== undefined) {
      const k = idKey52(m.msgId);
      const map = this.#olderMsgIds.has(k) ? this.#olderMsgIds : this.#byMsgId;
      const v = map.get(k) ?? 0;
      map.set(k, v - (v % OWNER_SPAN) + i + 1);
    }
  }

  /**
   * From now on each message goes straight to its series, named with `resolve` and the hosts seen
   * so far (a sender is named once: what the resolver learns later no longer renames it); what was
   * held is folded into the series. `segmentOf`: the capture file a time falls in.
   */
  settle(resolve: ServiceResolver | undefined, segmentOf: SegmentOf): void {
    this.#resolve = resolve;
    this.#segmentOf = segmentOf;
    if (this.#settled !== undefined) return;
    this.#settled = new Map();
    const bySeries = new Map<Series, Identity[]>();
    for (const id of this.#identities) {
      const s = this.#seriesOf(id.rep);
      id.series = s;
      const ids = bySeries.get(s);
      if (ids === undefined) bySeries.set(s, [id]);
      else ids.push(id);
    }
    for (const [s, ids] of bySeries) {
      const times = gather(ids, (id) => id.ts);
      // sorted apart from the times: the sizes are a multiset (only their median is read)
      const sizes = gather(ids, (id) => id.bytes);
      for (const [j, t] of times.entries()) this.#push(s, t, sizes[j] ?? 0, false);
      for (const id of ids) {
        s.during += id.during;
        id.ts = undefined;
        id.bytes = undefined;
      }
    }
    this.#held = 0;
  }

  /** The series of a message once settled (created in the order of first messages). */
  #seriesOf(rep: RpcMessage): Series {
    const who = this.#identify(rep, this.#resolve);
    const settled = this.#settled as Map<string, Map<string, Map<string, Series>>>;
    const key = seriesKey(rep);
    let insts = settled.get(who.service);
    if (insts === undefined) {
      insts = new Map();
      settled.set(who.service, insts);
    }
    let keys = insts.get(who.instance);
    if (keys === undefined) {
      keys = new Map();
      insts.set(who.instance, keys);
    }
    let s = keys.get(key);
    if (s === undefined) {
      s = {
        service: who.service,
        instance: who.instance,
        rep,
        n: 0,
        during: 0,
        runs: 0,
        runStart: Number.NEGATIVE_INFINITY,
        last: Number.NEGATIVE_INFINITY,
        segment: -2,
        intervals: new Distribution(this.#budget),
        bytes: new Distribution(this.#budget),
      };
      keys.set(key, s);
    }
    return s;
  }

  /** runsOfSorted and finish's intervals, one message at a time. */
  #push(s: Series, t: number, bytes: number, during: boolean): void {
    s.n++;
    if (during) s.during++;
    s.bytes.push(bytes);
    const segment = this.#segmentOf(t);
    if (segment !== s.segment) {
      // another capture file: a new run, and no interval across the files
      s.segment = segment;
      s.runs++;
      s.runStart = t;
      s.last = t;
      return;
    }
    if (t - s.last > this.#gapMs) {
      s.runs++;
      s.intervals.push((t - s.runStart) / 1000);
      s.runStart = t;
    }
    if (t > s.last) s.last = t;
  }

  /**
   * `_msg_id`s REPLY_WAIT_MS to twice that old (capture time) give their replies to their callers
   * and are let go: a reply that late (past oslo's rpc_response_timeout) is not counted.
   */
  #rotate(t: number): void {
    if (t < this.#generationMs + REPLY_WAIT_MS) return;
    for (const v of this.#olderMsgIds.values()) {
      const owner = v % OWNER_SPAN;
      const id = owner > 0 ? this.#identities[owner - 1] : undefined;
      if (id !== undefined) id.replies += (v - owner) / OWNER_SPAN;
    }
    this.#olderMsgIds = this.#byMsgId;
    this.#byMsgId = new Map();
    this.#generationMs = t;
  }

  #identify(m: RpcMessage, resolve: ServiceResolver | undefined): { service: string; instance: string } {
    const r = resolve?.(m);
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
  }

  /** The analysis of what was added; the accumulator is left as it was (finish may be called again). */
  finish(options: BackgroundOptions): BackgroundService[] {
    const segments = options.segments ?? [];
    const segmentOf = (t: number): number => segments.findIndex((g) => t >= g.startMs && t <= g.endMs);
    const windowS = Math.max(options.windowMs / 1000, 1e-3);
    const opWindows = options.operationWindows ?? [];
    const inOperation = windowTest(opWindows);
    const anyOperations = opWindows.length > 0 || options.anyOperations === true;
    const gap = this.#gapMs;

    const replies = new Float64Array(this.#identities.length);
    for (const map of [this.#olderMsgIds, this.#byMsgId])
      for (const v of map.values()) {
        const owner = v % OWNER_SPAN;
        if (owner > 0) replies[owner - 1] = (replies[owner - 1] ?? 0) + (v - owner) / OWNER_SPAN;
      }

    // service → instance → key → acc, created in the order of each one's first message
    const per = new Map<string, Map<string, Map<string, Acc>>>();
    const accOf = (service: string, instance: string, m: RpcMessage): Acc => {
      const key = seriesKey(m);
      let insts = per.get(service);
      if (insts === undefined) {
        insts = new Map();
        per.set(service, insts);
      }
      let keys = insts.get(instance);
      if (keys === undefined) {
        keys = new Map();
        insts.set(instance, keys);
      }
      let acc = keys.get(key);
      if (acc === undefined) {
        acc = {
          kind: m.kind,
          topic: m.topic,
          ids: [],
          series: new Set(),
          replies: 0,
          ...(m.method !== undefined ? { method: m.method } : {}),
          ...(m.object !== undefined ? { object: m.object } : {}),
          ...(m.eventType !== undefined ? { eventType: m.eventType } : {}),
        };
        keys.set(key, acc);
      }
      return acc;
    };
    if (this.#settled !== undefined) {
      // named when settled: the series as they are
      const accs = new Map<Series, Acc>();
      for (const insts of this.#settled.values())
        for (const keys of insts.values())
          for (const s of keys.values()) {
            const acc = accOf(s.service, s.instance, s.rep);
            acc.series.add(s);
            accs.set(s, acc);
          }
      for (const [i, id] of this.#identities.entries()) {
        const acc = id.series === undefined ? undefined : accs.get(id.series);
        if (acc !== undefined) acc.replies += (replies[i] ?? 0) + id.replies;
      }
    } else
      this.#identities.forEach((id, i) => {
        const who = this.#identify(id.rep, options.resolve);
        const acc = accOf(who.service, who.instance, id.rep);
        acc.ids.push(id);
        acc.replies += (replies[i] ?? 0) + id.replies;
      });

    /** One instance's series: measured here from its times, or as settled. */
    const figures = (a: Acc): SeriesFigures => {
      if (a.ids.length === 0) {
        const intervals = new Distribution();
        const bytes = new Distribution();
        let count = 0;
        let runs = 0;
        let during = 0;
        for (const s of a.series) {
          count += s.n;
          runs += s.runs;
          during += s.during;
          intervals.addAll(s.intervals);
          bytes.addAll(s.bytes);
        }
        return { count, runs, intervals, during, bytes, replies: a.replies };
      }
      const ts = gather(a.ids, (id) => id.ts);
      const r = runsOfSorted(ts, gap);
      const intervals = new Distribution();
      // intervals only within one capture: the time between two capture files is not a period
      for (let i = 1; i < r.length; i++) {
        const prev = r[i - 1] ?? 0;
        const t = r[i] ?? 0;
        if (segmentOf(prev) === segmentOf(t)) intervals.push((t - prev) / 1000);
      }
      let during = a.ids.reduce((n, id) => n + id.during, 0);
      if (opWindows.length > 0) for (const t of ts) if (inOperation(t)) during++;
      const bytes = new Distribution();
      for (const b of gather(a.ids, (id) => id.bytes)) bytes.push(b);
      return { count: ts.length, runs: r.length, intervals, during, bytes, replies: a.replies };
    };

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
        const fs = accs.map(figures);
        const intervals = new Distribution();
        const bytes = new Distribution();
        for (const f of fs) {
          intervals.addAll(f.intervals);
          bytes.addAll(f.bytes);
        }
        // only ever seen while operations ran (the resource tracker's ComputeNode.save during a
        // boot): caused by those operations though it carries a periodic context; no period, and not
        // part of the idle per-instance rate
        // mostly seen while operations ran: triggered by them (a heartbeat keeps its pace whether
        // operations run or not, so it stays periodic)
        const total = fs.reduce((n, f) => n + f.count, 0);
        const inside = fs.reduce((n, f) => n + f.during, 0);
        const triggered = anyOperations && inside * 2 > total;
        // a period needs at least two intervals (three runs): two samples give a gap, not a period
        const periodS = intervals.length >= 2 && !triggered ? intervals.median() : undefined;
        const jitterS = periodS !== undefined ? intervals.medianDeviation(periodS) : undefined;
        const counts = fs.map((f) => f.count);
        // instances without this RPC count as 0 in the median
        while (counts.length < insts.size) counts.push(0);
        const count = median(counts);
        const occ = median(fs.map((f) => f.runs));
        const replies = median(fs.map((f) => f.replies));
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
          bytesMedian: bytes.median(),
          duringOperations: median(fs.map((f) => f.during)),
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

function seriesKey(m: RpcMessage): string {
  return [m.kind, m.topic, m.method ?? '', m.object ?? '', m.eventType ?? ''].join('|');
}

/** Per service type: its background RPCs with period, jitter and rate. */
export function analyseBackground(
  background: readonly RpcMessage[],
  options: BackgroundOptions,
): BackgroundService[] {
  const acc = new BackgroundAccumulator(
    options.burstGapS !== undefined ? { burstGapS: options.burstGapS } : {},
  );
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
function gather(ids: readonly Identity[], col: (id: Identity) => Column | undefined): Float64Array {
  const out = new Float64Array(ids.reduce((n, id) => n + (col(id)?.length ?? 0), 0));
  let at = 0;
  for (const id of ids) {
    const c = col(id);
    if (c === undefined) continue;
    c.copyTo(out, at);
    at += c.length;
  }
  return out.sort((a, b) => a - b);
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
export function windowTest(
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
