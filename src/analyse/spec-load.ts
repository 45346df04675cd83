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
 * with an exchange keeps its whole context: the model copies its keys (emulate/model.ts wireFacts). Strings repeated on
 * every message (topics, methods, exchanges, connections) are shared, not copied per message.
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
/** Shared by every compact record: nothing reads properties, and most contexts keep no key. */
const NO_PROPERTIES: RpcMessage['wire']['properties'] = Object.freeze({});
const NO_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/** Turns decoded records into the spec's compact ones, sharing repeated strings. */
class Compactor {
  readonly messages: RpcMessage[] = [];
  readonly calls: RpcCall[] = [];
  readonly topology: TopologyEvent[] = [];
  /** Index of the message that kept its whole context (see the file comment). */
  fullContextAt: number | undefined;
  readonly #strings = new Map<string, string>();
  readonly #compact = new WeakMap<RpcMessage, RpcMessage>();
  /** `_unique_id`s of the publishes kept (operations.ts messageKey: what ties a delivery to them). */
  #published = new Set<string>();
  /** Service evidence of the deliveries kept (see the file comment). */
  #evidence = new Set<string>();

  #s<T extends string | undefined>(v: T): T {
    if (v === undefined) return v;
    const known = this.#strings.get(v);
    if (known !== undefined) return known as T;
    // bounded: past this many distinct strings, new ones are kept as they are (only memory is lost)
    if (this.#strings.size < 200_000) this.#strings.set(v, v);
    return v;
  }

  /** Forgets what tells deliveries redundant: after a file failed, its records were dropped. */
  forgetSeen(): void {
    this.#published = new Set();
    this.#evidence = new Set();
  }

  /** A delivery whose publish was kept and whose service evidence a kept delivery already gave. */
  #redundant(m: RpcMessage): boolean {
    if (m.wire.event === 'publish') {
      if (m.uniqueId !== undefined) this.#published.add(m.uniqueId);
      return false;
    }
    if (m.wire.event !== 'deliver' || m.uniqueId === undefined || !this.#published.has(m.uniqueId))
      return false;
    const c = m.wire.connection;
    const k = [
      c?.id ?? '',
      c?.name ?? '',
      m.kind,
      m.exchange,
      m.topic,
      m.wire.queue ?? '',
      m.wire.routingKey,
      m.replyQ ?? '',
    ].join('\u0000');
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
    this.#compact.set(m, c);
    this.messages.push(c);
  }

  call(c: RpcCall): void {
    const call = this.#compact.get(c.call) ?? this.#shrink(c.call);
    const { delivered: _d, replyDelivered: _rd, ...rest } = c;
    const o = { ...rest, call } as { -readonly [K in keyof RpcCall]: RpcCall[K] };
    if (c.reply !== undefined) o.reply = this.#compact.get(c.reply) ?? this.#shrink(c.reply);
    this.calls.push(o);
  }

  #shrink(m: RpcMessage, fullContext = false): RpcMessage {
    const w = m.wire;
    const wire: { -readonly [K in keyof RpcMessage['wire']]: RpcMessage['wire'][K] } = {
      seq: w.seq,
      ts: w.ts,
      source: w.source,
      event: w.event,
      exchange: this.#s(w.exchange),
      routingKey: this.#s(w.routingKey),
      properties: NO_PROPERTIES,
      bodySize: w.bodySize,
    };
    if (w.connection !== undefined) wire.connection = w.connection;
    if (w.channel !== undefined) wire.channel = w.channel;
    if (w.queue !== undefined) wire.queue = this.#s(w.queue);
    if (w.routedQueues !== undefined) wire.routedQueues = w.routedQueues;
    if (w.consumerTag !== undefined) wire.consumerTag = this.#s(w.consumerTag);
    if (w.replyCode !== undefined) wire.replyCode = w.replyCode;
    if (w.node !== undefined) wire.node = this.#s(w.node);
    const context: Record<string, unknown> = fullContext ? { ...m.context } : {};
    if (!fullContext)
      for (const k of CONTEXT_KEYS) {
        const v = m.context[k];
        if (v !== undefined) context[k] = typeof v === 'string' ? this.#s(v) : v;
      }
    const out: { -readonly [K in keyof RpcMessage]: RpcMessage[K] } = {
      ...m,
      wire,
      exchange: this.#s(m.exchange),
      topic: this.#s(m.topic),
      context: Object.keys(context).length === 0 ? NO_CONTEXT : context,
    };
    if (m.server !== undefined) out.server = this.#s(m.server);
    if (m.method !== undefined) out.method = this.#s(m.method);
    if (m.object !== undefined) out.object = this.#s(m.object);
    if (m.namespace !== undefined) out.namespace = this.#s(m.namespace);
    if (m.version !== undefined) out.version = this.#s(m.version);
    if (m.replyQ !== undefined) out.replyQ = this.#s(m.replyQ);
    if (m.eventType !== undefined) out.eventType = this.#s(m.eventType);
    if (m.priority !== undefined) out.priority = this.#s(m.priority);
    if (m.publisherId !== undefined) out.publisherId = this.#s(m.publisherId);
    // A request id is shared by every message of an operation.
    if (m.requestId !== undefined) out.requestId = this.#s(m.requestId);
    if (m.globalRequestId !== undefined) out.globalRequestId = this.#s(m.globalRequestId);
    return out;
  }
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
export function specInputProblems(loaded: SpecLoaded): {
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
