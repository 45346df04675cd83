/**
 * Reads captures for the spec: each file through its own streaming pipeline, so each keeps its
 * own window (rates and periods then ignore the time between separate captures), and memory is
 * bounded by what the spec needs rather than by the capture's size.
 *
 * What the spec keeps per message is a compact record: the wire facts operations, services and
 * background periods are computed from (time, connection, exchange, routing key, queue, sizes)
 * and the oslo fields, without AMQP properties and with the request context cut to the keys that
 * tell a user's request from a service's own admin context (oslo's `_context_*` carries the whole
 * token, roles and service catalog: most of a message's size in memory). The first call or cast
 * with an exchange keeps its whole context: the model copies its keys (emulate/model.ts
 * wireFacts). The records are held in columns (spec-records.ts: ~86 bytes a message instead of
 * ~530 as objects) and read through one small view object per message.
 *
 * A delivery is kept only when it can tell something: its publish was not seen (publishedMessages
 * then uses the delivery), or it is the first delivery with its service evidence (connection,
 * queue, routing key, kind, reply queue: what correlate/services.ts ServiceEvidence reads of a
 * delivery, all of it idempotent). On a capture of a broker's both sides about half the messages
 * are deliveries whose publish was seen: they were half the spec's memory, and change nothing in
 * it. Calls keep their call and reply, not their deliveries (nothing in the spec reads those).
 *
 * A file that cannot be read is reported and the others are still used; damaged parts of a file
 * are counted as `report` counts them.
 */

import type { SourceResult } from '../capture/open.ts';
import { RpcscopeError } from '../errors.ts';
import { type LoadOptions, loadCaptures, mergeSkipped } from '../pipeline/load.ts';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall, RpcMessage, SkipStats, TopologyEvent } from '../records.ts';
import type { SpecInput } from './spec.ts';
import { asCall, asMessage, type MessageView, SpecRecords, UniqueIdIndex } from './spec-records.ts';

export interface SpecInputFailure {
  readonly input: string;
  readonly error: RpcscopeError;
}

export interface SpecLoaded extends SpecInput {
  readonly topology: readonly TopologyEvent[];
  /** Per input that was read: size, packets, connections, what was skipped. */
  readonly results: readonly SourceResult[];
  /** Bytes, frames and records skipped over every input (damaged input), with the first issues. */
  readonly skipped: SkipStats;
  /** Inputs that could not be read at all (missing, not a capture): the others were used. */
  readonly failed: readonly SpecInputFailure[];
}

/** Only progress and the vhosts (`--vhost`) are the caller's to choose: the spec decides what is kept. */
export type SpecLoadOptions = Pick<LoadOptions, 'onProgress' | 'vhosts'>;

/** The `_context_*` keys the spec reads (operations.ts isUserContext); the rest is dropped. */
const CONTEXT_KEYS = ['user_id', 'user', 'remote_address'] as const;
/** Shared by every record whose context keeps no key (most of them). */
const NO_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/** Turns decoded records into the spec's compact ones, held in columns (spec-records.ts). */
class Compactor {
  readonly records = new SpecRecords();
  readonly messages: RpcMessage[] = [];
  readonly calls: RpcCall[] = [];
  readonly topology: TopologyEvent[] = [];
  /** Index of the message that kept its whole context (see the file comment). */
  fullContextAt: number | undefined;
  readonly #compact = new WeakMap<RpcMessage, MessageView>();
  /** `_unique_id`s of the publishes kept (operations.ts messageKey: what ties a delivery to them). */
  #published = new UniqueIdIndex(this.records.uniqueId);
  /** Service evidence of the deliveries kept (see the file comment). */
  #evidence = new Set<string>();

  /** Forgets what tells deliveries redundant: after a file failed, its records were dropped. */
  forgetSeen(): void {
    this.#published = new UniqueIdIndex(this.records.uniqueId);
    this.#evidence = new Set();
  }

  /** A delivery whose publish was kept and whose service evidence a kept delivery already gave. */
  #redundant(m: RpcMessage): boolean {
    if (m.wire.event !== 'deliver' || m.uniqueId === undefined || !this.#published.has(m.uniqueId))
      return false;
    const k = deliveryEvidence(m);
    if (this.#evidence.has(k)) return true;
    this.#evidence.add(k);
    return false;
  }

  message(m: RpcMessage): void {
    if (this.#redundant(m)) return;
    const full =
      this.fullContextAt === undefined && (m.kind === 'call' || m.kind === 'cast') && m.exchange !== '';
    if (full) this.fullContextAt = this.messages.length;
    const c = this.#shrink(m, full);
    if (m.wire.event === 'publish' && m.uniqueId !== undefined) this.#published.add(c.row, m.uniqueId);
    this.#compact.set(m, c);
    this.messages.push(asMessage(c));
  }

  call(c: RpcCall): void {
    const call = this.#compact.get(c.call) ?? this.#shrink(c.call);
    const reply = c.reply === undefined ? undefined : (this.#compact.get(c.reply) ?? this.#shrink(c.reply));
    this.calls.push(asCall(this.records.addCall(c, call.row, reply?.row ?? -1)));
  }

  #shrink(m: RpcMessage, fullContext = false): MessageView {
    if (fullContext) return this.records.add(m, { ...m.context }, true);
    return this.records.add(m, cutContext(m), false);
  }
}

/** The context keys the spec reads (CONTEXT_KEYS), shared when there are none. */
export function cutContext(m: RpcMessage): Readonly<Record<string, unknown>> {
  let context: Record<string, unknown> | undefined;
  for (const k of CONTEXT_KEYS) {
    const v = m.context[k];
    if (v === undefined) continue;
    context ??= {};
    context[k] = v;
  }
  return context ?? NO_CONTEXT;
}

/** What a delivery tells of the service consuming it (correlate/services.ts ServiceEvidence). */
export function deliveryEvidence(m: RpcMessage): string {
  const c = m.wire.connection;
  return [
    c?.id ?? '',
    c?.name ?? '',
    m.kind,
    m.exchange,
    m.topic,
    m.wire.queue ?? '',
    m.wire.routingKey,
    m.replyQ ?? '',
  ].join('\u0000');
}

export async function loadSpecInput(
  paths: readonly string[],
  opts: SpecLoadOptions = {},
): Promise<SpecLoaded> {
  const keep = new Compactor();
  const sink: RecordSink = {
    name: 'spec',
    message: (m) => keep.message(m),
    call: (c) => keep.call(c),
    topology: (t) => keep.topology.push(t),
  };
  const segments: { startMs: number; endMs: number }[] = [];
  const results: SourceResult[] = [];
  const failed: SpecInputFailure[] = [];
  for (const p of paths) {
    const before = keep.messages.length;
    const callsBefore = keep.calls.length;
    const topologyBefore = keep.topology.length;
    try {
      const l = await loadCaptures([p], {
        keep: false,
        sinks: [sink],
        ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
        ...(opts.vhosts !== undefined ? { vhosts: opts.vhosts } : {}),
      });
      results.push(...l.inputs);
      // Calls are emitted when their outcome is known: in call order per file, as a kept load gives them.
      const mine = keep.calls.splice(callsBefore);
      mine.sort((a, b) => a.call.wire.ts - b.call.wire.ts || a.call.wire.seq - b.call.wire.seq);
      for (const c of mine) keep.calls.push(c); // no spread: a large file has 100k+ calls
      if (keep.messages.length > before) segments.push({ startMs: l.startMs, endMs: l.endMs });
    } catch (e) {
      // One unreadable file does not discard the others; an internal error is still a bug.
      if (!(e instanceof RpcscopeError) || e.code === 'RPCSCOPE_INTERNAL') throw e;
      failed.push({ input: p, error: e });
      // what the failed file gave before it broke is not used: its window is unknown
      keep.messages.length = before;
      keep.calls.length = callsBefore;
      keep.topology.length = topologyBefore;
      if (keep.fullContextAt !== undefined && keep.fullContextAt >= before) keep.fullContextAt = undefined;
      keep.forgetSeen();
    }
  }
  return {
    inputs: results.map((r) => r.input),
    messages: keep.messages,
    calls: keep.calls,
    topology: keep.topology,
    results,
    skipped: mergeSkipped(results.map((r) => r.skipped)),
    failed,
    startMs: segments.length > 0 ? Math.min(...segments.map((s) => s.startMs)) : 0,
    endMs: segments.length > 0 ? Math.max(...segments.map((s) => s.endMs)) : 0,
    segments,
  };
}

/**
 * What `spec` and `model` print about their input, as `report` does: one line per file that could
 * not be read, the skipped counts with the first located issues; and the error code whose exit
 * status the command ends with (undefined: everything was read cleanly).
 */
export function specInputProblems(loaded: Pick<SpecLoaded, 'failed' | 'skipped'>): {
  readonly lines: readonly string[];
  readonly code?: 'RPCSCOPE_INPUT_NOT_FOUND' | 'RPCSCOPE_INPUT_FORMAT' | 'RPCSCOPE_INPUT_DAMAGED';
} {
  const lines: string[] = [];
  for (const f of loaded.failed) lines.push(`rpcscope: ${f.error.code}: ${f.input}: ${f.error.message}`);
  const s = loaded.skipped;
  if (s.bytes > 0 || s.frames > 0 || s.records > 0) {
    lines.push(
      `rpcscope: RPCSCOPE_INPUT_DAMAGED: skipped ${s.bytes} bytes, ${s.frames} frames, ${s.records} records (the rest was used)`,
    );
    for (const i of s.issues)
      lines.push(
        `  ${i.input}${i.line !== undefined ? `:${i.line}` : ''}${i.offset !== undefined ? ` @${i.offset}` : ''}: ${i.message}`,
      );
  }
  const first = loaded.failed[0]?.error.code;
  const code =
    first === 'RPCSCOPE_INPUT_NOT_FOUND' || first === 'RPCSCOPE_INPUT_FORMAT'
      ? first
      : loaded.failed.length > 0 || lines.length > 0
        ? 'RPCSCOPE_INPUT_DAMAGED'
        : undefined;
  return code === undefined ? { lines } : { lines, code };
}
