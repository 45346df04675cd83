/**
 * Joins oslo.messaging calls to their replies by `_msg_id` (amqpdriver.py: the caller waits on
 * its reply queue for a message with the same `_msg_id` and `ending: true`; replies with
 * `ending: false` are call-monitor heartbeats sent while the server works, not the answer).
 *
 * Works on a stream in time order: offline (everything at once, then `finish`) and live (`tick`
 * expires calls past their AMQP `expiration`, the RPC timeout oslo sets on every call).
 */
import type { RpcCall, RpcMessage } from '../records.ts';

export interface CallCorrelatorOptions {
  /** Receives each call once its outcome is known. */
  onCall?: (c: RpcCall) => void;
  /** Live: how long an answered call waits for the reply's delivery before it is emitted. */
  replyDeliverGraceMs?: number;
  /** Live: calls without `expiration` are given up after this long (default 1 h). */
  noExpirationTimeoutMs?: number;
  /** Live: upper bound of pending calls; the oldest are emitted as unanswered beyond it. */
  maxPending?: number;
}

export interface CallStats {
  /** Replies (final) whose call is not in the capture (sent before it started, or expired). */
  orphanReplies: number;
  /** Deliveries of calls whose publish is not in the capture. */
  orphanDeliveries: number;
  /** Call-monitor heartbeats (`ending: false`) published. */
  heartbeats: number;
  /** A second publish of a pending `_msg_id` (a retried publish). */
  duplicateCalls: number;
  /** Final replies after the first one for the same call. */
  duplicateReplies: number;
  /** Calls given up because `maxPending` was reached. */
  evicted: number;
  /**
   * Final replies published after the call's expiration: the caller had already raised
   * MessagingTimeout (amqpdriver.py ReplyWaiter drops them: "No calling threads waiting for
   * msg_id"), so the call is unanswered (expired), not answered late.
   */
  lateReplies: number;
}

interface Pending {
  call: RpcMessage;
  delivered?: RpcMessage;
  reply?: RpcMessage;
  replyDelivered?: RpcMessage;
  heartbeats: number;
  noRoute: boolean;
}

export class CallCorrelator {
  readonly stats: CallStats = {
    orphanReplies: 0,
    orphanDeliveries: 0,
    heartbeats: 0,
    duplicateCalls: 0,
    duplicateReplies: 0,
    evicted: 0,
    lateReplies: 0,
  };
  /** Recently expired calls (bounded), so their late replies are told apart from orphans. */
  readonly #expired = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  readonly #opts: CallCorrelatorOptions;
  readonly #emit: (c: RpcCall) => void;

  constructor(opts: CallCorrelatorOptions = {}) {
    this.#opts = opts;
    this.#emit = opts.onCall ?? (() => {});
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  add(m: RpcMessage): void {
    if (m.msgId === undefined) return;
    if (m.kind === 'call') this.#call(m);
    else if (m.kind === 'reply') this.#reply(m);
  }

  #call(m: RpcMessage): void {
    const id = m.msgId as string;
    const p = this.#pending.get(id);
    if (m.wire.event === 'publish') {
      if (p !== undefined) {
        this.stats.duplicateCalls++;
        return;
      }
      this.#pending.set(id, { call: m, heartbeats: 0, noRoute: false });
      const max = this.#opts.maxPending;
      if (max !== undefined && this.#pending.size > max) {
        const oldest = this.#pending.keys().next().value;
        if (oldest !== undefined) {
          const o = this.#pending.get(oldest);
          this.#pending.delete(oldest);
          this.stats.evicted++;
          if (o !== undefined) this.#emit(build(o, undefined));
        }
      }
    } else if (m.wire.event === 'deliver') {
      if (p === undefined) this.stats.orphanDeliveries++;
      else if (p.delivered === undefined) p.delivered = m;
    }
  }

  #reply(m: RpcMessage): void {
    const id = m.msgId as string;
    const p = this.#pending.get(id);
    const heartbeat = m.ending === false;
    if (m.wire.event === 'publish') {
      if (heartbeat) {
        this.stats.heartbeats++;
        if (p !== undefined) p.heartbeats++;
        return;
      }
      if (p === undefined) {
        if (this.#expired.delete(id)) this.stats.lateReplies++;
        else this.stats.orphanReplies++;
        return;
      }
      if (p.reply !== undefined) {
        this.stats.duplicateReplies++;
        return;
      }
      const exp = p.call.expirationMs;
      if (exp !== undefined && m.wire.ts > p.call.wire.ts + exp) {
        this.stats.lateReplies++;
        this.#finalize(id, p, m.wire.ts);
        return;
      }
      p.reply = m;
      // The tracing log / firehose say where the broker routed it: nowhere = the caller's reply
      // queue is gone (NO_ROUTE; oslo publishes replies with the mandatory flag).
      if (m.wire.routedQueues !== undefined && m.wire.routedQueues.length === 0) {
        p.noRoute = true;
        this.#finalize(id, p, undefined);
      }
    } else if (m.wire.event === 'deliver') {
      if (heartbeat || p === undefined || p.reply === undefined || p.replyDelivered !== undefined) return;
      p.replyDelivered = m;
      this.#finalize(id, p, undefined);
    } else if (m.wire.event === 'return') {
      if (heartbeat || p === undefined) return;
      if (p.reply === undefined) p.reply = m;
      p.noRoute = true;
      this.#finalize(id, p, undefined);
    }
  }

  #finalize(id: string, p: Pending, endMs: number | undefined): void {
    this.#pending.delete(id);
    this.#emit(build(p, endMs));
  }

  /** Live: emits answered calls whose reply delivery did not show up, and expired calls. */
  tick(nowMs: number): void {
    const grace = this.#opts.replyDeliverGraceMs ?? 2000;
    const noExp = this.#opts.noExpirationTimeoutMs ?? 3_600_000;
    for (const [id, p] of this.#pending) {
      if (p.reply !== undefined) {
        if (nowMs - p.reply.wire.ts >= grace) this.#finalize(id, p, nowMs);
      } else {
        const limit = p.call.expirationMs ?? noExp;
        if (nowMs >= p.call.wire.ts + limit) {
          this.#finalize(id, p, nowMs);
          this.#expired.add(id);
          if (this.#expired.size > 10_000) {
            const oldest = this.#expired.values().next().value;
            if (oldest !== undefined) this.#expired.delete(oldest);
          }
        }
      }
    }
  }

  /** End of input: every pending call gets its outcome as of `endMs`. */
  finish(endMs: number): void {
    for (const [id, p] of this.#pending) this.#finalize(id, p, endMs);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One object, fields added in the order the records have always had (call, heartbeats, the
 * optional messages, outcome, then reason or timings): one call per RPC, so no spread copies.
 */
function build(p: Pending, endMs: number | undefined): RpcCall {
  const { call, delivered, reply, replyDelivered } = p;
  const c = { call, heartbeats: p.heartbeats } as Mutable<RpcCall>;
  if (delivered !== undefined) c.delivered = delivered;
  if (reply !== undefined) c.reply = reply;
  if (replyDelivered !== undefined) c.replyDelivered = replyDelivered;
  if (p.noRoute) {
    c.outcome = 'no-route';
    return c;
  }
  if (reply === undefined) {
    c.outcome = 'unanswered';
    if (endMs === undefined) return c;
    const exp = call.expirationMs;
    const expired = exp !== undefined ? endMs >= call.wire.ts + exp : false;
    c.unansweredReason = expired ? 'expired' : 'capture-ended';
    return c;
  }
  c.outcome = reply.failure !== undefined ? 'remote-error' : 'ok';
  const end = replyDelivered?.wire.ts ?? reply.wire.ts;
  c.latencyMs = end - call.wire.ts;
  if (delivered !== undefined) {
    c.queueMs = delivered.wire.ts - call.wire.ts;
    c.serverMs = reply.wire.ts - delivered.wire.ts;
  }
  if (replyDelivered !== undefined) c.returnMs = replyDelivered.wire.ts - reply.wire.ts;
  return c;
}
