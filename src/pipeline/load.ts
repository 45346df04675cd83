/**
 * Reads capture files of any supported format through one Pipeline: the records every offline
 * command (report, spec, model) works on; and re-joins records read back from a store the same way.
 */
import { statSync } from 'node:fs';
import { type ReadOptions, readCaptureFile, type SourceResult } from '../capture/open.ts';
import type { CallStats } from '../correlate/calls.ts';
import type { CaptureEvent, CaptureSink, RpcCall, RpcMessage, SkipStats, TopologyEvent } from '../records.ts';
import { decodeRpc } from '../wire/oslo/decode.ts';
import { Pipeline, type VhostDropped } from './pipeline.ts';
import type { RecordSink } from './sink.ts';
import { VhostResolver } from './vhosts.ts';

export interface Loaded {
  inputs: SourceResult[];
  messages: RpcMessage[];
  calls: RpcCall[];
  topology: TopologyEvent[];
  skipped: SkipStats;
  /** The inputs' span: messages and topology, widened to pcaps' first and last packet. */
  startMs: number;
  endMs: number;
  callStats: CallStats;
  /** With `vhosts`: what the filter dropped. */
  vhostDropped?: VhostDropped;
}

export interface LoadOptions {
  /** Progress per file: bytes read of that file. */
  onProgress?: (input: string, done: number, total: number) => void;
  /** End of the capture for unanswered-call reasons (default: last event). */
  endMs?: number;
  /**
   * false: stream only (messages, calls and topology go to the sinks and the returned arrays
   * are empty), for captures larger than memory. Default true.
   */
  keep?: boolean;
  /** Outputs that get every record as it is decoded or joined (the caller closes them). */
  sinks?: readonly RecordSink[];
  /**
   * Only these vhosts (`--vhost`): the files are read twice, first to learn every connection's
   * vhost (a capture that starts mid-connection tells it only by what the connection does), then
   * to decode with the others dropped before correlation.
   */
  vhosts?: readonly string[];
  /** Settle calls on the capture's clock (PipelineOptions.expireOnCaptureTime), with this reply-delivery grace. */
  expireOnCaptureTime?: { readonly replyDeliverGraceMs: number };
}

/**
 * The first pass of a `vhosts` load: every connection's vhost, from the whole capture. A stream
 * (stdin, a FIFO) cannot be read twice: its connections are resolved as they pass instead.
 */
async function learnVhosts(paths: readonly string[]): Promise<VhostResolver> {
  const resolver = new VhostResolver();
  if (paths.some((p) => p === '-' || statSync(p, { throwIfNoEntry: false })?.isFile() !== true))
    return resolver;
  const sink: CaptureSink = {
    event(e: CaptureEvent) {
      if (e.type === 'message') resolver.message(decodeRpc(e.message));
      else resolver.topology(e.topology);
    },
  };
  for (const path of paths) await readCaptureFile(path, sink, {});
  resolver.settle();
  return resolver;
}

const MAX_ISSUES = 20;

export function mergeSkipped(all: readonly SkipStats[]): SkipStats {
  const out: SkipStats = { bytes: 0, frames: 0, records: 0, issues: [] };
  for (const s of all) {
    out.bytes += s.bytes;
    out.frames += s.frames;
    out.records += s.records;
    for (const i of s.issues) if (out.issues.length < MAX_ISSUES) out.issues.push(i);
  }
  return out;
}

export async function loadCaptures(paths: string[], opts: LoadOptions = {}): Promise<Loaded> {
  const filter = opts.vhosts !== undefined && opts.vhosts.length > 0;
  const pipeline = new Pipeline({
    keep: opts.keep ?? true,
    ...(opts.sinks !== undefined ? { sinks: opts.sinks } : {}),
    ...(filter ? { vhosts: opts.vhosts, resolver: await learnVhosts(paths) } : {}),
    ...(opts.expireOnCaptureTime !== undefined
      ? { expireOnCaptureTime: true, replyDeliverGraceMs: opts.expireOnCaptureTime.replyDeliverGraceMs }
      : {}),
  });
  const inputs: SourceResult[] = [];
  for (const path of paths) {
    const ro: ReadOptions = {};
    const cb = opts.onProgress;
    if (cb !== undefined) ro.onProgress = (done, total) => cb(path, done, total);
    inputs.push(await readCaptureFile(path, pipeline, ro));
  }
  const { messages, calls, topology } = pipeline.finish(opts.endMs);
  // the capture's own span: a pcap runs from its first packet to its last, not from its first
  // message to its last (rates over a quiet capture would be overstated); JSON logs give none
  let start = pipeline.startMs;
  let end = pipeline.endMs;
  for (const i of inputs) {
    if (i.startMs !== undefined && !(i.startMs >= start)) start = i.startMs;
    if (i.endMs !== undefined && !(i.endMs <= end)) end = i.endMs;
  }
  const startMs = Number.isNaN(start) ? 0 : start;
  const endMs = Number.isNaN(end) ? 0 : end;
  return {
    inputs,
    messages,
    calls,
    topology,
    skipped: mergeSkipped(inputs.map((i) => i.skipped)),
    startMs,
    endMs,
    callStats: pipeline.callStats,
    ...(pipeline.vhostDropped !== undefined ? { vhostDropped: pipeline.vhostDropped } : {}),
  };
}

/**
 * Calls joined over messages decoded earlier (a store read back, in time order), by the same
 * correlator as a capture load; pending calls end as of the last message. In call order.
 */
export function joinCalls(messages: Iterable<RpcMessage>): RpcCall[] {
  const pipeline = new Pipeline({ keep: true });
  for (const m of messages) pipeline.decoded(m);
  return pipeline.finish().calls;
}
