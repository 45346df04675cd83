/**
 * The meaning stage as a CaptureSink: every wire message is decoded (decodeRpc), topology is
 * kept, calls are joined to replies, and every record goes to the RecordSinks. Offline (`keep`,
 * the default) it also holds everything for `finish()`; live (`livePipeline`) it only streams to
 * the sinks and `tick()` bounds memory. This is the one place the correlator runs.
 */

import { CallCorrelator, type CallStats } from '../correlate/calls.ts';
import type { CaptureEvent, CaptureSink, RpcCall, RpcMessage, TopologyEvent } from '../records.ts';
import { decodeRpc } from '../wire/oslo/decode.ts';
import { type RecordSink, SinkFanOut } from './sink.ts';
import { normalizeVhost, VhostResolver } from './vhosts.ts';

export interface PipelineOptions {
  /** Keep messages, calls and topology for finish() (default true). */
  keep?: boolean;
  /**
   * Where records go, in this order. An error a sink throws propagates (offline: a bug); give a
   * `SinkFanOut` with `onError` to count errors per sink and carry on (live).
   */
  sinks?: readonly RecordSink[];
  /** Live bounds; see CallCorrelatorOptions. */
  maxPending?: number;
  replyDeliverGraceMs?: number;
  /**
   * Keep only records of these vhosts (`--vhost`); the others are dropped before correlation and
   * counted in `vhostDropped`. Empty or absent: every record.
   */
  vhosts?: readonly string[];
  /**
   * Who tells a connection's vhost: given, one that already saw the whole capture (loadCaptures
   * reads files twice for that); absent, one that learns as records pass (live).
   */
  resolver?: VhostResolver;
  /**
   * Offline: expire calls as the capture's own clock passes (what `tick()` does live), once a
   * second of capture time, so a consumer that folds records as they stream (spec-stream.ts) gets
   * each call as soon as its outcome is settled instead of at the end. The outcomes are the ones
   * finish() would give, except a reply delivery later than `replyDeliverGraceMs` after its reply.
   */
  expireOnCaptureTime?: boolean;
}

/** What a `vhosts` filter dropped: published + delivered + returned messages, by vhost ("?" = unknown). */
export interface VhostDropped {
  readonly kept: readonly string[];
  messages: number;
  topology: number;
  readonly byVhost: Record<string, number>;
}

export interface PipelineResult {
  messages: RpcMessage[];
  calls: RpcCall[];
  topology: TopologyEvent[];
}

export class Pipeline implements CaptureSink {
  readonly messages: RpcMessage[] = [];
  readonly calls: RpcCall[] = [];
  readonly topology: TopologyEvent[] = [];
  /** Earliest / latest event time seen (epoch ms); NaN before the first event. */
  startMs = Number.NaN;
  endMs = Number.NaN;
  readonly #keep: boolean;
  readonly #out: RecordSink;
  readonly #correlator: CallCorrelator;
  readonly #vhosts: ReadonlySet<string> | undefined;
  readonly #resolver: VhostResolver | undefined;
  /** Set when a `vhosts` filter is on. */
  readonly vhostDropped: VhostDropped | undefined;
  readonly #captureClock: boolean;
  #lastTick = Number.NEGATIVE_INFINITY;

  constructor(opts: PipelineOptions = {}) {
    this.#keep = opts.keep ?? true;
    this.#captureClock = opts.expireOnCaptureTime === true;
    if (opts.vhosts !== undefined && opts.vhosts.length > 0) {
      const kept = [...new Set(opts.vhosts.map(normalizeVhost))];
      this.#vhosts = new Set(kept);
      this.#resolver = opts.resolver ?? new VhostResolver();
      this.vhostDropped = { kept, messages: 0, topology: 0, byVhost: {} };
    }
    const sinks = opts.sinks ?? [];
    // One sink is called directly: the live session hands over its own fan-out.
    this.#out = sinks.length === 1 && sinks[0] !== undefined ? sinks[0] : new SinkFanOut(sinks);
    const out = this.#out;
    this.#correlator = new CallCorrelator({
      onCall: (c) => {
        if (this.#keep) this.calls.push(c);
        out.call?.(c);
      },
      ...(opts.maxPending !== undefined ? { maxPending: opts.maxPending } : {}),
      ...(opts.replyDeliverGraceMs !== undefined ? { replyDeliverGraceMs: opts.replyDeliverGraceMs } : {}),
    });
  }

  get callStats(): CallStats {
    return this.#correlator.stats;
  }

  get pendingCalls(): number {
    return this.#correlator.pendingCount;
  }

  #seen(ts: number): void {
    if (!(ts >= this.startMs)) this.startMs = ts;
    if (!(ts <= this.endMs)) this.endMs = ts;
  }

  /** A filtered-out record's vhost, or undefined to keep it (no filter, or a kept vhost). */
  #other(connection: { id: string } | undefined): string | undefined {
    const keep = this.#vhosts;
    if (keep === undefined) return undefined;
    const v = this.#resolver?.vhostOf(connection?.id)?.vhost ?? '?';
    return keep.has(v) ? undefined : v;
  }

  event(e: CaptureEvent): void {
    if (e.type === 'message') {
      const m = decodeRpc(e.message);
      this.#resolver?.message(m);
      const other = this.#other(m.wire.connection);
      const d = this.vhostDropped;
      if (other !== undefined && d !== undefined) {
        // still part of the capture's span: the window is the capture's, not the vhost's
        this.#seen(m.wire.ts);
        d.messages++;
        d.byVhost[other] = (d.byVhost[other] ?? 0) + 1;
        return;
      }
      this.decoded(m);
    } else {
      this.#resolver?.topology(e.topology);
      this.#seen(e.topology.ts);
      if (this.vhostDropped !== undefined && this.#other(e.topology.connection) !== undefined) {
        this.vhostDropped.topology++;
        return;
      }
      if (this.#keep) this.topology.push(e.topology);
      this.#out.topology?.(e.topology);
    }
  }

  /** A message decoded earlier (read back from a store): joined and passed on as if captured now. */
  decoded(m: RpcMessage): void {
    this.#seen(m.wire.ts);
    if (this.#keep) this.messages.push(m);
    this.#out.message?.(m);
    this.#correlator.add(m);
    if (this.#captureClock && m.wire.ts - this.#lastTick >= 1000) {
      this.#lastTick = m.wire.ts;
      this.#correlator.tick(m.wire.ts);
    }
  }

  /** Live: expire calls past their expiration at wall-clock `nowMs`. */
  tick(nowMs: number): void {
    this.#correlator.tick(nowMs);
  }

  /** End of input: pending calls get their outcome as of `endMs` (default: the last event). */
  finish(endMs?: number): PipelineResult {
    const end = endMs ?? (Number.isNaN(this.endMs) ? 0 : this.endMs);
    this.#correlator.finish(end);
    // Calls are emitted when their outcome is known; keep them in call order for outputs.
    this.calls.sort((a, b) => a.call.wire.ts - b.call.wire.ts || a.call.wire.seq - b.call.wire.seq);
    return { messages: this.messages, calls: this.calls, topology: this.topology };
  }
}

export type LivePipelineOptions = Omit<PipelineOptions, 'keep' | 'sinks'>;

/**
 * A live pipeline: records stream to the sinks and nothing is kept (a long capture must not grow
 * memory); the caller feeds it events, calls `tick()` on a timer and `finish()` at the end.
 */
export function livePipeline(sinks: readonly RecordSink[], opts: LivePipelineOptions = {}): Pipeline {
  return new Pipeline({ ...opts, keep: false, sinks });
}
