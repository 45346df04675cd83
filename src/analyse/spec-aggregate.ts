/**
 * The per-kind aggregates of the spec, folded one operation at a time: an operation's steps are
 * read once and dropped, so a capture of thousands of operations holds its samples (distribution.ts:
 * exact within a budget, bounded past it) and one example per kind, not every operation's steps. Fold operations in start
 * order: the first of a kind is its example, and rows keep the order they were first seen in.
 */
import type { Operation, OperationStep } from '../correlate/operations.ts';
import { Distribution, type SampleBudget } from './distribution.ts';
import type { SpecBackgroundNote, SpecOperation, SpecRpc } from './spec.ts';
import type { CountStat } from './spec-stats.ts';

/** Request ids a kind lists (the first ones): `instances` counts them all. */
export const REQUEST_IDS_LISTED = 1000;

interface RowAcc {
  readonly step: OperationStep;
  /** Count per instance it appeared in; instances without it count 0 (added at the end). */
  readonly counts: Distribution;
  readonly bytes: Distribution;
  readonly replyBytes: Distribution;
  readonly latency: Distribution;
  readonly offsets: Distribution;
  inferredLink?: string;
}

interface KindAcc {
  readonly example: Operation;
  readonly requestIds: string[];
  instances: number;
  readonly messages: Distribution;
  readonly bytes: Distribution;
  readonly durationMs: Distribution;
  readonly rows: Map<string, RowAcc>;
  readonly notes: Map<string, { n: SpecBackgroundNote; count: number }>;
}

function rowKey(s: OperationStep): string {
  return [s.kind, s.from, s.to, s.topic, s.method ?? '', s.object ?? '', s.eventType ?? ''].join('|');
}

/** One entry per (name, servers): operations of the same kind acting on as many servers. */
export class OperationAggregator {
  readonly #kinds = new Map<string, KindAcc>();
  readonly #budget: SampleBudget | undefined;

  /** `budget`: what every series together holds exactly (default: no bound). */
  constructor(budget?: SampleBudget) {
    this.#budget = budget;
  }

  add(op: Operation): void {
    const k = `${op.topic}.${op.name}#${op.servers}`;
    let g = this.#kinds.get(k);
    if (g === undefined) {
      g = {
        example: op,
        requestIds: [],
        instances: 0,
        messages: new Distribution(this.#budget),
        bytes: new Distribution(this.#budget),
        durationMs: new Distribution(this.#budget),
        rows: new Map(),
        notes: new Map(),
      };
      this.#kinds.set(k, g);
    }
    if (g.instances++ < REQUEST_IDS_LISTED) g.requestIds.push(op.id);
    g.messages.push(op.steps.length);
    g.bytes.push(op.steps.reduce((s, x) => s + x.bodySize, 0));
    g.durationMs.push(round1(op.durationMs));
    const mine = new Map<RowAcc, number>();
    for (const s of op.steps) {
      if (s.kind === 'reply') {
        const call = s.replyToSeq === undefined ? undefined : op.steps[s.replyToSeq];
        const acc = call === undefined ? undefined : g.rows.get(rowKey(call));
        acc?.replyBytes.push(s.bodySize);
        continue;
      }
      const rk = rowKey(s);
      let acc = g.rows.get(rk);
      if (acc === undefined) {
        acc = {
          step: s,
          counts: new Distribution(this.#budget),
          bytes: new Distribution(this.#budget),
          replyBytes: new Distribution(this.#budget),
          latency: new Distribution(this.#budget),
          offsets: new Distribution(this.#budget),
        };
        g.rows.set(rk, acc);
      }
      const n = mine.get(acc);
      // the first offset of this row in this operation
      if (n === undefined) acc.offsets.push(s.offsetMs);
      mine.set(acc, (n ?? 0) + 1);
      if (s.inferredLink !== undefined) acc.inferredLink ??= s.inferredLink;
      acc.bytes.push(s.bodySize);
      if (s.latencyMs !== undefined) acc.latency.push(s.latencyMs);
    }
    for (const [acc, n] of mine) acc.counts.push(n);
    for (const b of op.backgroundDuring) {
      const nk = [b.kind, b.topic, b.method ?? '', b.object ?? ''].join('|');
      const e = g.notes.get(nk);
      if (e === undefined)
        g.notes.set(nk, {
          n: {
            kind: b.kind,
            topic: b.topic,
            ...(b.method !== undefined ? { method: b.method } : {}),
            ...(b.object !== undefined ? { object: b.object } : {}),
            count: 0,
            perOperation: 0,
            reason: b.reason,
          },
          count: 1,
        });
      else e.count++;
    }
  }

  finish(): SpecOperation[] {
    const out: SpecOperation[] = [];
    for (const g of this.#kinds.values()) {
      const first = g.example;
      const instances = g.instances;
      const rpc: SpecRpc[] = [...g.rows.values()].map((r) => {
        const s = r.step;
        return {
          kind: s.kind,
          from: s.from,
          to: s.to,
          topic: s.topic,
          ...(s.method !== undefined && s.kind !== 'notification' ? { method: s.method } : {}),
          ...(s.object !== undefined ? { object: s.object } : {}),
          ...(s.eventType !== undefined ? { eventType: s.eventType } : {}),
          count: withZeros(r.counts, instances),
          bytes: { median: r.bytes.median(), max: r.bytes.max() },
          ...(r.replyBytes.length > 0
            ? { replyBytes: { median: r.replyBytes.median(), max: r.replyBytes.max() } }
            : {}),
          ...(r.latency.length > 0
            ? { latencyMs: { median: round1(r.latency.median()), max: round1(r.latency.max()) } }
            : {}),
          firstOffsetMs: round1(r.offsets.median()),
          ...(r.inferredLink !== undefined ? { inferredLink: r.inferredLink } : {}),
        };
      });
      rpc.sort((a, b) => a.firstOffsetMs - b.firstOffsetMs);
      out.push({
        name: first.name,
        topic: first.topic,
        ...(first.alias !== undefined ? { alias: first.alias } : {}),
        servers: first.servers,
        instances,
        requestIds: g.requestIds,
        ...(instances > g.requestIds.length ? { requestIdsOmitted: instances - g.requestIds.length } : {}),
        messages: statOf(g.messages),
        bytes: statOf(g.bytes),
        durationMs: statOf(g.durationMs),
        rpc,
        backgroundDuring: [...g.notes.values()].map((e) => ({
          ...e.n,
          count: e.count,
          perOperation: Math.round((e.count / instances) * 100) / 100,
        })),
        example: first,
      });
    }
    out.sort((a, b) => a.example.startMs - b.example.startMs);
    return out;
  }
}

/** countStat over every instance: those a row was absent from count 0. */
function withZeros(present: Distribution, instances: number): CountStat {
  const zeros = Math.max(0, instances - present.length);
  if (instances === 0) return { min: 0, median: 0, max: 0 };
  return {
    min: zeros > 0 ? Math.min(0, present.min()) : present.min(),
    median: present.median(zeros),
    max: present.length > 0 ? Math.max(present.max(), zeros > 0 ? 0 : present.max()) : 0,
  };
}

/** spec-stats countStat of a series. */
function statOf(d: Distribution): CountStat {
  return d.length === 0 ? { min: 0, median: 0, max: 0 } : { min: d.min(), median: d.median(), max: d.max() };
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
