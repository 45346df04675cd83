/**
 * The per-kind aggregates of the spec, folded one operation at a time: an operation's steps are
 * read once and dropped, so a capture of thousands of operations holds its samples (8 bytes each,
 * in typed arrays) and one example per kind, not every operation's steps. Fold operations in start
 * order: the first of a kind is its example, and rows keep the order they were first seen in.
 */
import type { Operation, OperationStep } from '../correlate/operations.ts';
import type { SpecBackgroundNote, SpecOperation, SpecRpc } from './spec.ts';
import { type CountStat, countStat, median } from './spec-stats.ts';

/** A growable list of numbers kept as float64: exact medians without an object per sample. */
export class Samples {
  #a = new Float64Array(8);
  #n = 0;
  get length(): number {
    return this.#n;
  }
  push(x: number): void {
    if (this.#n === this.#a.length) {
      const b = new Float64Array(this.#a.length * 2);
      b.set(this.#a);
      this.#a = b;
    }
    this.#a[this.#n++] = x;
  }
  /** The samples in a plain array (stats functions take readonly number[]). */
  values(): number[] {
    return Array.from(this.#a.subarray(0, this.#n));
  }
  max(): number {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.#n; i++) m = Math.max(m, this.#a[i] ?? m);
    return m;
  }
}

interface RowAcc {
  readonly step: OperationStep;
  /** Count per instance it appeared in; instances without it count 0 (added at the end). */
  readonly counts: Samples;
  readonly bytes: Samples;
  readonly replyBytes: Samples;
  readonly latency: Samples;
  readonly offsets: Samples;
  inferredLink?: string;
}

interface KindAcc {
  readonly example: Operation;
  readonly requestIds: string[];
  readonly messages: Samples;
  readonly bytes: Samples;
  readonly durationMs: Samples;
  readonly rows: Map<string, RowAcc>;
  readonly notes: Map<string, { n: SpecBackgroundNote; count: number }>;
}

function rowKey(s: OperationStep): string {
  return [s.kind, s.from, s.to, s.topic, s.method ?? '', s.object ?? '', s.eventType ?? ''].join('|');
}

/** One entry per (name, servers): operations of the same kind acting on as many servers. */
export class OperationAggregator {
  readonly #kinds = new Map<string, KindAcc>();

  add(op: Operation): void {
    const k = `${op.topic}.${op.name}#${op.servers}`;
    let g = this.#kinds.get(k);
    if (g === undefined) {
      g = {
        example: op,
        requestIds: [],
        messages: new Samples(),
        bytes: new Samples(),
        durationMs: new Samples(),
        rows: new Map(),
        notes: new Map(),
      };
      this.#kinds.set(k, g);
    }
    g.requestIds.push(op.id);
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
          counts: new Samples(),
          bytes: new Samples(),
          replyBytes: new Samples(),
          latency: new Samples(),
          offsets: new Samples(),
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
      const instances = g.requestIds.length;
      const rpc: SpecRpc[] = [...g.rows.values()].map((r) => {
        const s = r.step;
        const bytes = r.bytes.values();
        const replyBytes = r.replyBytes.values();
        const latency = r.latency.values();
        return {
          kind: s.kind,
          from: s.from,
          to: s.to,
          topic: s.topic,
          ...(s.method !== undefined && s.kind !== 'notification' ? { method: s.method } : {}),
          ...(s.object !== undefined ? { object: s.object } : {}),
          ...(s.eventType !== undefined ? { eventType: s.eventType } : {}),
          count: withZeros(r.counts, instances),
          bytes: { median: median(bytes), max: r.bytes.max() },
          ...(replyBytes.length > 0
            ? { replyBytes: { median: median(replyBytes), max: r.replyBytes.max() } }
            : {}),
          ...(latency.length > 0
            ? { latencyMs: { median: round1(median(latency)), max: round1(r.latency.max()) } }
            : {}),
          firstOffsetMs: round1(median(r.offsets.values())),
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
        messages: countStat(g.messages.values()),
        bytes: countStat(g.bytes.values()),
        durationMs: countStat(g.durationMs.values()),
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
function withZeros(present: Samples, instances: number): CountStat {
  const xs = present.values();
  for (let i = xs.length; i < instances; i++) xs.push(0);
  return countStat(xs);
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
