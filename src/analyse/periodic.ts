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

interface Acc {
  kind: RpcKind;
  topic: string;
  method?: string;
  object?: string;
  eventType?: string;
  ts: number[];
  replies: number;
  /** Messages inside operation windows: not counted as periodic. */
  during: number;
  bytes: number[];
}

/** Per service type: its background RPCs with period, jitter and rate. */
export function analyseBackground(
  background: readonly RpcMessage[],
  options: BackgroundOptions,
): BackgroundService[] {
  const segments = options.segments ?? [];
  const segmentOf = (t: number): number => segments.findIndex((g) => t >= g.startMs && t <= g.endMs);
  const windowS = Math.max(options.windowMs / 1000, 1e-3);
  const opWindows = options.operationWindows ?? [];
  const inOperation = windowTest(opWindows);
  const gap = (options.burstGapS ?? 2) * 1000;

  // hosts in routing keys (`compute.<host>`) name the instances of a per-host service
  const hostsByService = new Map<string, Set<string>>();
  for (const m of options.allMessages ?? background) {
    if ((m.kind === 'call' || m.kind === 'cast') && m.server !== undefined && m.server !== '') {
      const svc = serviceOfTopic(m.topic);
      let s = hostsByService.get(svc);
      if (s === undefined) {
        s = new Set();
        hostsByService.set(svc, s);
      }
      s.add(m.server);
    }
  }

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
      const hosts = hostsByService.get(service);
      // one host of this service in the routing keys: it is that one; else the instance is not named
      instance = hosts !== undefined && hosts.size === 1 ? ([...hosts][0] ?? 'unnamed') : 'unnamed';
    }
    return { service, instance };
  };

  // service → instance → key → acc
  const per = new Map<string, Map<string, Map<string, Acc>>>();
  // the accumulator itself, not its service, instance and key: one entry per background call
  const replyOwner = new Map<string, Acc>();
  for (const m of background) {
    if (m.kind === 'reply') continue;
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
        ts: [],
        during: 0,
        replies: 0,
        bytes: [],
        ...(m.method !== undefined ? { method: m.method } : {}),
        ...(m.object !== undefined ? { object: m.object } : {}),
        ...(m.eventType !== undefined ? { eventType: m.eventType } : {}),
      };
      keys.set(key, acc);
    }
    acc.bytes.push(m.bodySize);
    if (inOperation(m.wire.ts)) acc.during++;
    acc.ts.push(m.wire.ts);
    if (m.kind === 'call' && m.msgId !== undefined) replyOwner.set(m.msgId, acc);
  }
  for (const m of background) {
    if (m.kind !== 'reply' || m.msgId === undefined || m.ending === false) continue;
    const acc = replyOwner.get(m.msgId);
    if (acc !== undefined) acc.replies++;
  }

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
      const runs = accs.map((a) => runsOf(a.ts, gap));
      // intervals only within one capture: the time between two capture files is not a period
      const intervals = runs.flatMap((r) =>
        r.slice(1).flatMap((t, i) => {
          const prev = r[i] ?? t;
          return segmentOf(prev) === segmentOf(t) ? [(t - prev) / 1000] : [];
        }),
      );
      // only ever seen while operations ran (the resource tracker's ComputeNode.save during a
      // boot): caused by those operations though it carries a periodic context; no period, and not
      // part of the idle per-instance rate
      // mostly seen while operations ran: triggered by them (a heartbeat keeps its pace whether
      // operations run or not, so it stays periodic)
      const total = accs.reduce((n, a) => n + a.ts.length, 0);
      const inside = accs.reduce((n, a) => n + a.during, 0);
      const triggered = opWindows.length > 0 && inside * 2 > total;
      // a period needs at least two intervals (three runs): two samples give a gap, not a period
      const periodS = intervals.length >= 2 && !triggered ? median(intervals) : undefined;
      const jitterS = periodS !== undefined ? median(intervals.map((x) => Math.abs(x - periodS))) : undefined;
      const counts = accs.map((a) => a.ts.length);
      // instances without this RPC count as 0 in the median
      while (counts.length < insts.size) counts.push(0);
      const count = median(counts);
      const occ = median(runs.map((r) => r.length));
      const replies = median(accs.map((a) => a.replies));
      const mpo = occ > 0 ? count / occ : 0;
      const perMinute = periodS !== undefined && periodS > 0 ? (mpo * 60) / periodS : (count * 60) / windowS;
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
        bytesMedian: median(accs.flatMap((a) => a.bytes)),
        duringOperations: median(accs.map((a) => a.during)),
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
