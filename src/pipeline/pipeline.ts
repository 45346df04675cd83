/**
 * The meaning stage as a CaptureSink: every wire message is decoded (decodeRpc), topology is
 * kept, calls are joined to replies. Offline (`keep`, the default) it holds everything for
 * `finish()`; live it only streams through `onMessage` / `onCall` and `tick()` bounds memory.
 */

import { CallCorrelator, type CallStats } from '../correlate/calls.ts';
import type { CaptureEvent, CaptureSink, RpcCall, RpcMessage, TopologyEvent } from '../records.ts';
import { decodeRpc } from '../wire/oslo/decode.ts';

export interface PipelineOptions {
  /** Keep messages, calls and topology for finish() (default true). */
  keep?: boolean;
  onMessage?: (m: RpcMessage) => void;
  onCall?: (c: RpcCall) => void;
  onTopology?: (t: TopologyEvent) => void;
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
  readonly #opts: PipelineOptions;
  readonly #correlator: CallCorrelator;

  constructor(opts: PipelineOptions = {}) {
    this.#opts = opts;
    this.#keep = opts.keep ?? true;
    this.#correlator = new CallCorrelator({
      onCall: (c) => {
        if (this.#keep) this.calls.push(c);
        opts.onCall?.(c);
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
    if (e.type === 'message') {
      const m = decodeRpc(e.message);
      this.#seen(m.wire.ts);
      if (this.#keep) this.messages.push(m);
      this.#opts.onMessage?.(m);
      this.#correlator.add(m);
    } else {
      this.#seen(e.topology.ts);
      if (this.#keep) this.topology.push(e.topology);
      this.#opts.onTopology?.(e.topology);
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
