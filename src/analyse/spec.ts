/**
 * The RPC specification: operations found in a capture, aggregated per kind of operation, with
 * how their counts grow with servers per request, and every service's background traffic.
 * The JSON shape is the contract with `rpcscope model` / the emulator (issue 3): change it only
 * by adding fields.
 */
import type { Operation, ServiceResolver } from '../correlate/operations.ts';
import { groupOperations, publishedMessages, stepLabel } from '../correlate/operations.ts';
import type { RpcCall, RpcKind, RpcMessage } from '../records.ts';
import { SampleBudget } from './distribution.ts';
import { backgroundPerHypervisorPerMinute } from './headline.ts';
import { BACKGROUND_HELD, BackgroundAccumulator, type BackgroundService, windowTest } from './periodic.ts';
import { OperationAggregator, round1 } from './spec-aggregate.ts';
import { type CountStat, fitLine } from './spec-stats.ts';

export type { CountStat } from './spec-stats.ts';

export interface SpecRpc {
  readonly kind: RpcKind;
  readonly from: string;
  readonly to: string;
  readonly topic: string;
  readonly method?: string;
  readonly object?: string;
  readonly eventType?: string;
  /** Messages of this kind per operation, over the operation's instances (0 where absent). */
  readonly count: CountStat;
  /** Body bytes per message (median, max). */
  readonly bytes: { readonly median: number; readonly max: number };
  /** call: body bytes of its reply. */
  readonly replyBytes?: { readonly median: number; readonly max: number };
  /** call: publish → reply, ms, over every call of this kind. */
  readonly latencyMs?: { readonly median: number; readonly max: number };
  /** Median offset of the first such message in the operation, ms. */
  readonly firstOffsetMs: number;
  /**
   * Joined to the operation by a shared resource id and timing, not by request id (an agent's
   * reaction in its own context): the reason of the first such link. Absent: joined by request id.
   */
  readonly inferredLink?: string;
}

export interface SpecBackgroundNote {
  readonly kind: RpcKind;
  readonly topic: string;
  readonly method?: string;
  readonly object?: string;
  /** Seen over all instances of the operation. */
  readonly count: number;
  /** count / instances: what an emulator adds to each operation for it. */
  readonly perOperation: number;
  readonly reason: string;
}

export interface SpecOperation {
  readonly name: string;
  readonly topic: string;
  readonly alias?: string;
  /** Servers per request (e.g. `min_count 3` → 3). */
  readonly servers: number;
  /** Operations of this kind found. */
  readonly instances: number;
  /** The first 1000 of them (spec-aggregate.ts REQUEST_IDS_LISTED): a spec's size stays bounded. */
  readonly requestIds: readonly string[];
  /** Request ids not listed (instances beyond the first 1000). */
  readonly requestIdsOmitted?: number;
  /** Messages per operation, replies included. */
  readonly messages: CountStat;
  readonly bytes: CountStat;
  readonly durationMs: CountStat;
  readonly rpc: readonly SpecRpc[];
  /** Periodic-context messages seen during these operations and left out of them. */
  readonly backgroundDuring: readonly SpecBackgroundNote[];
  /** The first instance, step by step: what the sequence diagrams draw. */
  readonly example: Operation;
}

/** How counts grow with servers per request: count ≈ fixed + perServer × servers. */
export interface SpecScaling {
  readonly name: string;
  readonly alias?: string;
  readonly servers: readonly number[];
  readonly rpc: readonly {
    readonly kind: RpcKind;
    readonly topic: string;
    readonly method?: string;
    readonly object?: string;
    readonly eventType?: string;
    readonly fixed: number;
    readonly perServer: number;
  }[];
}

export interface Spec {
  readonly generatedBy: string;
  readonly inputs: readonly string[];
  /** seconds: summed over the captures (their gaps excluded). */
  readonly window: {
    readonly startMs: number;
    readonly endMs: number;
    readonly seconds: number;
    readonly captures: number;
  };
  readonly summary: {
    readonly operations: number;
    readonly operationKinds: number;
    readonly operationMessages: number;
    readonly backgroundMessages: number;
    /** Background per hypervisor (src/analyse/headline.ts backgroundPerHypervisorPerMinute). */
    readonly perHypervisorPerMinute?: number;
  };
  readonly operations: readonly SpecOperation[];
  readonly scaling: readonly SpecScaling[];
  readonly background: readonly BackgroundService[];
  /** Present when the capture outgrew the exact statistics' bounds: what is estimated. */
  readonly statistics?: SpecStatistics;
}

export interface SpecInput {
  readonly inputs: readonly string[];
  readonly messages: readonly RpcMessage[];
  readonly calls: readonly RpcCall[];
  readonly startMs: number;
  readonly endMs: number;
  /** One window per capture file when several were read; rates use their summed length. */
  readonly segments?: readonly { readonly startMs: number; readonly endMs: number }[];
}

export interface SpecOptions {
  readonly resolve?: ServiceResolver;
}

/**
 * Exact samples the spec's series hold together (8 bytes each) before the largest are reduced
 * (distribution.ts): a capture of hundreds of thousands of operations stays in bounded memory.
 */
export const EXACT_SAMPLES = 1_000_000;

export interface SpecFoldOptions {
  /** Default EXACT_SAMPLES. */
  readonly exactSamples?: number;
  /** Background messages held before their senders are named (default periodic.ts BACKGROUND_HELD). */
  readonly backgroundHeld?: number;
}

/** How exact a spec's figures are: all of them, unless the capture outgrew the bounds. */
export interface SpecStatistics {
  /** Every median is a value of its series (or the mean of two). */
  readonly exact: boolean;
  /** Series reduced to value counts (still exact) or buckets. */
  readonly reducedSeries: number;
  /** Series whose quantiles are within distribution.ts SKETCH_ACCURACY. */
  readonly bucketedSeries: number;
  /**
   * Background senders named when BACKGROUND_HELD messages had been read, not at the end: what the
   * capture showed later of a connection no longer renames it.
   */
  readonly backgroundNamedEarly: boolean;
}

export function buildSpec(input: SpecInput, options: SpecOptions = {}): Spec {
  const fold = new SpecFold();
  fold.add(publishedMessages(input.messages), input.calls, options.resolve);
  return fold.finish(input, options.resolve);
}

/** A spec's window: the captures it was read from. */
export type SpecWindow = Pick<SpecInput, 'inputs' | 'startMs' | 'endMs' | 'segments'>;

/**
 * What a spec accumulates as a capture's operations are found, one chunk of messages at a time
 * (spec-stream.ts cuts a streaming capture where no operation crosses: operations.ts
 * groupingCut): operations are folded into per-kind aggregates and background messages into
 * per-series samples, so nothing is held per message once a chunk is added.
 */
export class SpecFold {
  readonly #budget: SampleBudget;
  readonly #kinds: OperationAggregator;
  readonly #background: BackgroundAccumulator;
  readonly #backgroundHeld: number;
  #operations = 0;
  #operationMessages = 0;
  #backgroundMessages = 0;
  /** Capture files read before the current one (a streaming read tells them as it goes). */
  #segments: readonly { readonly startMs: number; readonly endMs: number }[] = [];

  constructor(options: SpecFoldOptions = {}) {
    this.#budget = new SampleBudget(options.exactSamples ?? EXACT_SAMPLES);
    this.#kinds = new OperationAggregator(this.#budget);
    this.#background = new BackgroundAccumulator({ budget: this.#budget });
    this.#backgroundHeld = options.backgroundHeld ?? BACKGROUND_HELD;
  }

  /** The capture files read so far (a chunk's times past them are in the file being read). */
  segments(done: readonly { readonly startMs: number; readonly endMs: number }[]): void {
    this.#segments = done;
  }

  /** Whether every figure is exact so far (see SpecStatistics). */
  get statistics(): SpecStatistics {
    return {
      exact: this.#budget.bucketed === 0,
      reducedSeries: this.#budget.reduced,
      bucketedSeries: this.#budget.bucketed,
      backgroundNamedEarly: this.#background.isSettled,
    };
  }

  /**
   * Published messages (publishedMessages: time-sorted) of a chunk no grouping unit crosses, with
   * the calls they make; chunks in time order.
   */
  add(
    published: readonly RpcMessage[],
    calls: readonly RpcCall[],
    resolve?: ServiceResolver,
    onOperation?: (op: Operation) => void,
  ): void {
    for (const m of published) this.#background.seen(m);
    // operations are folded as they are built: none is kept but each kind's example; their
    // windows only matter to this chunk's background (no operation crosses a chunk's edge)
    const windows: { startMs: number; endMs: number }[] = [];
    const background = groupOperations(published, calls, resolve ? { resolve } : {}, (op) => {
      onOperation?.(op);
      this.#kinds.add(op);
      windows.push({ startMs: op.startMs, endMs: op.endMs });
      this.#operations++;
      this.#operationMessages += op.steps.length;
    });
    this.#backgroundMessages += background.length;
    const inOperation = windowTest(windows);
    const done = this.#segments;
    const segmentOf = (t: number): number => {
      const i = done.findIndex((g) => t >= g.startMs && t <= g.endMs);
      return i < 0 ? done.length : i;
    };
    if (this.#background.isSettled) this.#background.settle(resolve, segmentOf);
    for (const m of background) this.#background.add(m, windows.length > 0 && inOperation(m.wire.ts));
    if (!this.#background.isSettled && this.#background.held > this.#backgroundHeld)
      this.#background.settle(resolve, segmentOf);
  }

  /** The spec of every chunk added; `resolve` names the background's senders. */
  finish(window: SpecWindow, resolve?: ServiceResolver): Spec {
    const windowMs =
      window.segments !== undefined && window.segments.length > 0
        ? window.segments.reduce((s, g) => s + Math.max(0, g.endMs - g.startMs), 0)
        : Math.max(0, window.endMs - window.startMs);
    const background = this.#background.finish({
      windowMs,
      ...(window.segments !== undefined ? { segments: window.segments } : {}),
      anyOperations: this.#operations > 0,
      ...(resolve ? { resolve } : {}),
    });
    const operations = this.#kinds.finish();
    const perHypervisor = backgroundPerHypervisorPerMinute(background);
    return {
      generatedBy: 'rpcscope spec',
      inputs: [...window.inputs],
      window: {
        startMs: window.startMs,
        endMs: window.endMs,
        seconds: Math.round(windowMs) / 1000,
        captures: window.segments?.length ?? 1,
      },
      summary: {
        operations: this.#operations,
        operationKinds: operations.length,
        operationMessages: this.#operationMessages,
        backgroundMessages: this.#backgroundMessages,
        ...(perHypervisor !== undefined ? { perHypervisorPerMinute: perHypervisor } : {}),
      },
      operations,
      scaling: scalingOf(operations),
      background,
      ...(this.#budget.reduced > 0 || this.#background.isSettled ? { statistics: this.statistics } : {}),
    };
  }
}

/** One entry per (name, servers): operations of the same kind acting on as many servers. */
export function aggregateOperations(ops: readonly Operation[]): SpecOperation[] {
  const kinds = new OperationAggregator();
  for (const op of ops) kinds.add(op);
  return kinds.finish();
}

/** For operation kinds seen with different servers per request: a line per RPC kind. */
export function scalingOf(ops: readonly SpecOperation[]): SpecScaling[] {
  const byName = new Map<string, SpecOperation[]>();
  for (const o of ops) {
    const k = `${o.topic}.${o.name}`;
    const g = byName.get(k);
    if (g === undefined) byName.set(k, [o]);
    else g.push(o);
  }
  const out: SpecScaling[] = [];
  for (const g of byName.values()) {
    const widths = [...new Set(g.map((o) => o.servers))].sort((a, b) => a - b);
    const first = g[0];
    if (first === undefined || widths.length < 2) continue;
    const keys = new Map<string, SpecRpc>();
    for (const o of g) for (const r of o.rpc) keys.set(specRowKey(r), r);
    const rpc = [...keys.entries()].map(([k, r]) => {
      const pts = g.map((o) => ({
        x: o.servers,
        y: o.rpc.find((x) => specRowKey(x) === k)?.count.median ?? 0,
      }));
      const { a, b } = fitLine(pts);
      return {
        kind: r.kind,
        topic: r.topic,
        ...(r.method !== undefined ? { method: r.method } : {}),
        ...(r.object !== undefined ? { object: r.object } : {}),
        ...(r.eventType !== undefined ? { eventType: r.eventType } : {}),
        fixed: round1(a),
        perServer: round1(b),
      };
    });
    out.push({
      name: first.name,
      ...(first.alias !== undefined ? { alias: first.alias } : {}),
      servers: widths,
      rpc,
    });
  }
  return out;
}

function specRowKey(r: SpecRpc): string {
  return [r.kind, r.from, r.to, r.topic, r.method ?? '', r.object ?? '', r.eventType ?? ''].join('|');
}

/** Label of a spec row, as in the tables: "object_action Instance.save". */
export function rowLabel(r: {
  readonly kind: RpcKind;
  readonly method?: string;
  readonly object?: string;
  readonly eventType?: string;
}): string {
  return stepLabel(r);
}
