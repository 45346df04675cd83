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

  constructor(opts: PipelineOptions = {}) {
    this.#keep = opts.keep ?? true;
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

  event(e: CaptureEvent): void {
    if (e.type === 'message') this.decoded(decodeRpc(e.message));
    else {
      this.#seen(e.topology.ts);
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
