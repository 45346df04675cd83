/**
 * `rpcscope spec` and `model` over captures of any length, in bounded memory (issue 11).
 *
 * The spec groups a capture's messages into operations: by request id, with agents' reactions and
 * instance events joined by resource id and time, and every other message left to the
 * background. Held whole, a capture's compact records grow with its length (~230 bytes a kept
 * message, spec-records.ts). Here the records stream into a store that holds a window of the
 * capture: when it holds more than `holdMessages` messages, the part before a cut is grouped,
 * folded into the spec's aggregates (spec.ts SpecFold) and dropped. The cut is where grouping
 * the two sides alone gives what grouping them together would (operations.ts groupingCut): no
 * operation, agent burst or link crosses it, no call before it waits for its outcome, and it lies
 * at least QUIET_MS before the newest message, so an operation is folded only after a minute
 * without a message of its own. A capture that fits in the window is grouped whole, as before.
 *
 * What streaming cannot know is the future. An operation that sends again after more than a minute
 * of silence (an instance boot waiting minutes on an image download sends nothing meanwhile) has
 * been folded by then: the later messages are grouped on their own, and counted as `late` so the
 * command can say so. A connection's service is named from what the capture showed up to the fold.
 * Calls are settled on the capture's own clock (pipeline.ts expireOnCaptureTime), as a live
 * capture settles them, so an unanswered call holds its operation back until its expiration only.
 */

import type { SourceResult } from '../capture/open.ts';
import { firstAtOrAfter, groupingCut, publishedMessages } from '../correlate/operations.ts';
import { ServiceEvidence } from '../correlate/services.ts';
import { resolverOf } from '../correlate/spec-services.ts';
import { RpcscopeError } from '../errors.ts';
import { loadCaptures, mergeSkipped } from '../pipeline/load.ts';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall, RpcMessage, SkipStats } from '../records.ts';
import { idKey52 } from '../util/id-key.ts';
import { type Spec, SpecFold, type SpecFoldOptions, type SpecStatistics } from './spec.ts';
import { cutContext, deliveryEvidence, type SpecInputFailure, type SpecLoadOptions } from './spec-load.ts';
import {
  asCall,
  asMessage,
  type CallView,
  HashedIds,
  type MessageView,
  SortedIds,
  SpecRecords,
  UniqueIdIndex,
} from './spec-records.ts';

/** An operation is folded only after this long without a message of its own. */
export const QUIET_MS = 60_000;
/** The shortest quiet time a fold of very dense traffic falls back to (see #tryFold). */
export const MIN_QUIET_MS = 5000;
/** A message of an operation folded up to this long (of capture time) before is counted late. */
export const LATE_MS = 600_000;
/** Messages held before the part behind a cut is folded (~30 MB of records). */
export const HOLD_MESSAGES = 120_000;
/**
 * A reply's delivery may trail its publish by this much and still time the call (a broker with a
 * backlog); a capture of the replies' publishes only settles each call this long after its reply.
 */
const REPLY_DELIVER_GRACE_MS = 60_000;

export interface SpecStreamOptions extends SpecLoadOptions {
  /** Messages held before folding what is settled (default HOLD_MESSAGES). */
  readonly holdMessages?: number;
  /** Quiet time before an operation may be folded (default QUIET_MS; tests fold short captures). */
  readonly quietMs?: number;
  /** Bounds of the spec's statistics (spec.ts EXACT_SAMPLES, periodic.ts BACKGROUND_HELD; tests lower them). */
  readonly bounds?: SpecFoldOptions;
}

/** What the model copies from the first call or cast with an exchange (emulate/model.ts wireFacts). */
export interface SpecWireFacts {
  readonly controlExchange?: string;
  readonly contextKeys?: string[];
}

export interface SpecRead {
  readonly spec: Spec;
  /** Per input that was read: size, packets, connections, what was skipped. */
  readonly results: readonly SourceResult[];
  /** Bytes, frames and records skipped over every input (damaged input), with the first issues. */
  readonly skipped: SkipStats;
  /** Inputs that could not be read at all (missing, not a capture): the others were used. */
  readonly failed: readonly SpecInputFailure[];
  /** Messages the spec kept (publishes, and deliveries of publishes not in the capture). */
  readonly messages: number;
  readonly wire: SpecWireFacts;
  /** Chunks folded before the end (0: the capture was grouped whole). */
  readonly folds: number;
  /** Messages of an operation that had been folded already (they were grouped on their own). */
  readonly late: number;
  /** The shortest quiet time a fold waited for, when folds happened (QUIET_MS but on very dense traffic). */
  readonly quietMs?: number;
  /** How exact the figures are (a capture past the bounds has some estimated, see spec.ts). */
  readonly statistics: SpecStatistics;
}

/** Rows of folded chunks point here: nothing reads them after the fold. */
const FOLDED = new SpecRecords();

function byCallTime(a: CallView, b: CallView): number {
  const x = a.call.wire;
  const y = b.call.wire;
  return x.ts - y.ts || x.seq - y.seq;
}

class SpecStream {
  readonly fold: SpecFold;
  readonly services = new ServiceEvidence();
  #records = new SpecRecords();
  /** Kept messages held, in arrival order. */
  #held: MessageView[] = [];
  /** Calls held, per file in call order. */
  #calls: CallView[] = [];
  /** Decoded record → its row, for the calls that arrive after their messages. */
  readonly #views = new WeakMap<RpcMessage, MessageView>();
  /** Call rows whose RpcCall came: the others may still change their operation. */
  readonly #settled = new WeakSet<MessageView>();
  #published = new UniqueIdIndex(this.#records.uniqueId);
  /**
   * `_unique_id`s of the publishes each fold dropped, with its cut: their deliveries may still come
   * (a broker with a backlog delivers seconds to minutes late). Kept for 2 × QUIET_MS of capture
   * time after the cut (8 bytes a publish).
   */
  #foldedPublishes: { readonly cut: number; readonly ids: SortedIds }[] = [];
  /**
   * Request ids of the operations folded in the last LATE_MS to 2 × LATE_MS of capture time (two
   * generations): a later message with one is late. Older ones are let go, or they would grow with
   * the capture; a message that late is grouped on its own all the same, only not counted.
   */
  #foldedRequests = new HashedIds();
  #olderRequests = new HashedIds();
  #requestsSince = Number.NEGATIVE_INFINITY;
  readonly #evidence = new Set<string>();
  readonly #hold: number;
  #nextTry: number;
  /** Newest message time of the file being read. */
  #now = Number.NEGATIVE_INFINITY;
  wire: SpecWireFacts | undefined;
  kept = 0;
  folds = 0;
  late = 0;

  readonly #quietMs: number;

  constructor(hold: number, quietMs: number, fold: SpecFoldOptions) {
    this.fold = new SpecFold(fold);
    this.#hold = hold;
    this.#nextTry = hold;
    this.#quietMs = quietMs;
  }

  get heldMessages(): number {
    return this.#held.length;
  }
  get heldCalls(): number {
    return this.#calls.length;
  }

  /** Held calls before this index came from earlier files (kept right by #compact). */
  #fileCalls = 0;

  newFile(): void {
    this.#now = Number.NEGATIVE_INFINITY;
    this.#fileCalls = this.#calls.length;
  }

  #foldedPublish(uid: string): boolean {
    if (this.#foldedPublishes.length === 0) return false;
    const k = idKey52(uid);
    return this.#foldedPublishes.some((g) => g.ids.hasKey(k));
  }

  #wasFolded(requestId: string): boolean {
    return this.#foldedRequests.has(requestId) || this.#olderRequests.has(requestId);
  }

  message(m: RpcMessage): void {
    if (m.wire.ts > this.#now) this.#now = m.wire.ts;
    const uid = m.uniqueId;
    if (
      m.wire.event === 'deliver' &&
      uid !== undefined &&
      (this.#published.has(uid) || this.#foldedPublish(uid))
    ) {
      // its publish is kept: the delivery only tells which service consumes (spec-load.ts)
      const k = deliveryEvidence(m);
      if (this.#evidence.has(k)) return;
      this.#evidence.add(k);
      this.kept++;
      this.services.message(m);
      return;
    }
    if (this.wire === undefined && (m.kind === 'call' || m.kind === 'cast') && m.exchange !== '')
      this.wire = { controlExchange: m.exchange, contextKeys: Object.keys(m.context) };
    const v = this.#records.add(m, cutContext(m), false);
    this.#views.set(m, v);
    this.#held.push(v);
    this.kept++;
    if (m.wire.event === 'publish' && uid !== undefined) this.#published.add(v.row, uid);
    this.services.message(asMessage(v));
    if (this.#foldedRequests.size + this.#olderRequests.size > 0) {
      const r = m.requestId;
      const g = m.globalRequestId;
      if ((r !== undefined && this.#wasFolded(r)) || (g !== undefined && this.#wasFolded(g))) this.late++;
    }
    if (this.#held.length >= this.#nextTry) this.#tryFold();
  }

  call(c: RpcCall): void {
    const known = this.#views.get(c.call);
    // its operation was folded without it (an outcome later than the fold could wait for)
    if (known !== undefined && known.records !== this.#records) return;
    const call = known ?? this.#records.add(c.call, cutContext(c.call), false);
    const r = c.reply === undefined ? undefined : this.#views.get(c.reply);
    const reply =
      c.reply === undefined
        ? undefined
        : r !== undefined && r.records === this.#records
          ? r
          : this.#records.add(c.reply, cutContext(c.reply), false);
    const view = this.#records.addCall(c, call.row, reply?.row ?? -1);
    this.#settled.add(call);
    this.#calls.push(view);
    this.services.call(asCall(view));
  }

  /** Marks where the current file's calls begin (for dropFrom). */
  callsMark(): number {
    return this.#calls.length;
  }

  /** The file's calls in call order, as a whole load gives them (pipeline.ts finish). */
  sortFileCalls(): void {
    const mine = this.#calls.splice(this.#fileCalls);
    mine.sort(byCallTime);
    for (const c of mine) this.#calls.push(c);
  }

  /** A file failed: what it gave is dropped (its window is unknown), as spec-load.ts does. */
  dropFrom(heldMark: number, callsMark: number, wireBefore: SpecWireFacts | undefined): void {
    this.#held.length = Math.min(this.#held.length, heldMark);
    this.#calls.length = Math.min(this.#calls.length, callsMark);
    this.wire = wireBefore;
    this.#published = new UniqueIdIndex(this.#records.uniqueId);
    for (const v of this.#held)
      if (v.wire.event === 'publish' && v.uniqueId !== undefined) this.#published.add(v.row, v.uniqueId);
    this.#evidence.clear();
  }

  /** Whether a call still waits for its outcome (bounded: past its expiration it stops holding). */
  #open = (m: RpcMessage): boolean => {
    if (m.kind !== 'call' || m.wire.event !== 'publish' || m.msgId === undefined) return false;
    if (this.#settled.has(m as unknown as MessageView)) return false;
    return this.#now - m.wire.ts < (m.expirationMs ?? 3_600_000) + REPLY_DELIVER_GRACE_MS;
  };

  #tryFold(): void {
    // Traffic so dense that a quiet time of it fills the window (the bench capture: 290k messages
    // a minute) folds with a shorter one, down to MIN_QUIET_MS, that leaves about half the window
    // held: the bound holds, and an operation silent for longer than that is counted late.
    const oldest = this.#held[0]?.wire.ts ?? this.#now;
    const perMs = this.#held.length / Math.max(1, this.#now - oldest);
    const quiet = Math.min(this.#quietMs, Math.max(MIN_QUIET_MS, Math.floor(this.#hold / 2 / perMs)));
    const published = publishedMessages(this.#held.map(asMessage));
    const cut = groupingCut(published, this.#calls.map(asCall), this.#now - quiet, this.#open);
    const before = firstAtOrAfter(published, cut);
    if (before > 0) {
      this.#foldBefore(cut, published.slice(0, before));
      if (quiet < this.#shortestQuiet) this.#shortestQuiet = quiet;
    }
    // nothing to fold yet, or little: wait for a quarter of a window more before trying again
    this.#nextTry = Math.max(this.#hold, this.#held.length + (this.#hold >> 2));
  }

  /** The shortest quiet time a fold used (QUIET_MS unless the traffic was too dense for it). */
  #shortestQuiet = Number.POSITIVE_INFINITY;
  get shortestQuietMs(): number | undefined {
    return Number.isFinite(this.#shortestQuiet) ? this.#shortestQuiet : undefined;
  }

  /** Groups and folds `chunk` (the published messages before `cut`), then drops every row before it. */
  #foldBefore(cut: number, chunk: readonly RpcMessage[]): void {
    const calls = this.#calls.filter((c) => c.call.wire.ts < cut).map(asCall);
    const resolve = resolverOf(this.services.result());
    if (cut - this.#requestsSince >= LATE_MS) {
      this.#olderRequests = this.#foldedRequests;
      this.#foldedRequests = new HashedIds();
      this.#requestsSince = cut;
    }
    this.fold.add(chunk, calls, resolve, (op) => {
      for (const r of op.requestIds) this.#foldedRequests.add(r);
      if (op.globalRequestId !== undefined) this.#foldedRequests.add(op.globalRequestId);
    });
    this.folds++;
    const gone = new SortedIds(
      (function* (held: readonly MessageView[]) {
        for (const v of held)
          if (v.wire.ts < cut && v.wire.event === 'publish' && v.uniqueId !== undefined) yield v.uniqueId;
      })(this.#held),
    );
    this.#foldedPublishes = this.#foldedPublishes.filter((g) => g.cut >= this.#now - 2 * QUIET_MS);
    this.#foldedPublishes.push({ cut, ids: gone });
    this.#compact(cut);
  }

  /** Moves the rows from `cut` on into a new store (views keep their identity); the rest is let go. */
  #compact(cut: number): void {
    const next = new SpecRecords();
    const move = (v: MessageView): void => {
      if (v.records !== next) next.add(asMessage(v), v.context, false, v);
    };
    const held: MessageView[] = [];
    for (const v of this.#held) {
      if (v.wire.ts < cut) continue;
      move(v);
      held.push(v);
    }
    const calls: CallView[] = [];
    let fileCalls = 0;
    for (const [i, c] of this.#calls.entries()) {
      const call = c.call as unknown as MessageView;
      if (call.wire.ts < cut) {
        c.rebind(FOLDED, -1);
        continue;
      }
      if (i < this.#fileCalls) fileCalls++;
      const reply = c.reply as unknown as MessageView | undefined;
      move(call);
      if (reply !== undefined) move(reply);
      next.addCall(asCall(c), call.row, reply?.row ?? -1, c);
      calls.push(c);
    }
    for (const v of this.#held) if (v.records !== next) v.rebind(FOLDED, -1);
    this.#records = next;
    this.#held = held;
    this.#calls = calls;
    this.#fileCalls = fileCalls;
    this.#published = new UniqueIdIndex(next.uniqueId);
    for (const v of held)
      if (v.wire.event === 'publish' && v.uniqueId !== undefined) this.#published.add(v.row, v.uniqueId);
  }

  /** Folds what is still held: the end of the capture. */
  finish(): void {
    const published = publishedMessages(this.#held.map(asMessage));
    this.fold.add(published, this.#calls.map(asCall), resolverOf(this.services.result()));
    this.#held = [];
    this.#calls = [];
  }
}

/**
 * The spec of captures, read as they stream (see the file comment): one file after the other, each
 * through its own pipeline as `loadSpecInput` reads them. A file that cannot be read is reported
 * and the others are used; damaged parts are counted as `report` counts them.
 */
export async function readSpec(paths: readonly string[], opts: SpecStreamOptions = {}): Promise<SpecRead> {
  const s = new SpecStream(
    Math.max(1, opts.holdMessages ?? HOLD_MESSAGES),
    opts.quietMs ?? QUIET_MS,
    opts.bounds ?? {},
  );
  const sink: RecordSink = {
    name: 'spec',
    message: (m) => s.message(m),
    call: (c) => s.call(c),
    topology: (t) => s.services.topology(t),
  };
  const segments: { startMs: number; endMs: number }[] = [];
  const results: SourceResult[] = [];
  const failed: SpecInputFailure[] = [];
  // the files read so far: background runs and periods are measured within one file
  s.fold.segments(segments);
  for (const p of paths) {
    s.newFile();
    const kept = s.kept;
    const heldMark = s.heldMessages;
    const callsMark = s.callsMark();
    const wireBefore = s.wire;
    const foldsBefore = s.folds;
    try {
      const l = await loadCaptures([p], {
        keep: false,
        sinks: [sink],
        expireOnCaptureTime: { replyDeliverGraceMs: REPLY_DELIVER_GRACE_MS },
        ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
        ...(opts.vhosts !== undefined ? { vhosts: opts.vhosts } : {}),
      });
      results.push(...l.inputs);
      s.sortFileCalls();
      if (s.kept > kept) segments.push({ startMs: l.startMs, endMs: l.endMs });
    } catch (e) {
      // One unreadable file does not discard the others; an internal error is still a bug.
      if (!(e instanceof RpcscopeError) || e.code === 'RPCSCOPE_INTERNAL') throw e;
      failed.push({ input: p, error: e });
      // what it gave is dropped unless a fold took it already (a file failing after 200k messages)
      if (s.folds === foldsBefore) s.dropFrom(heldMark, callsMark, wireBefore);
    }
  }
  s.finish();
  const window = {
    inputs: results.map((r) => r.input),
    startMs: segments.length > 0 ? Math.min(...segments.map((g) => g.startMs)) : 0,
    endMs: segments.length > 0 ? Math.max(...segments.map((g) => g.endMs)) : 0,
    segments,
  };
  return {
    spec: s.fold.finish(window, resolverOf(s.services.result())),
    results,
    skipped: mergeSkipped(results.map((r) => r.skipped)),
    failed,
    messages: s.kept,
    wire: s.wire ?? {},
    folds: s.folds,
    late: s.late,
    statistics: s.fold.statistics,
    ...(s.shortestQuietMs !== undefined ? { quietMs: s.shortestQuietMs } : {}),
  };
}
