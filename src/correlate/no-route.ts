/**
 * NO_ROUTE replies seen through the firehose.
 *
 * oslo.messaging publishes replies to the default exchange with the caller's `reply_<id>` queue as
 * routing key and the mandatory flag; when that queue is gone the broker sends Basic.Return
 * (AMQP 0-9-1 §1.8.3.8, 312 NO_ROUTE) to the server, which logs MessageUndeliverable and retries
 * (LP 1905965). The firehose cannot show it: for the default exchange RabbitMQ "routes" to the
 * queue named by the key without looking it up, so the trace's `routed_queues` names the vanished
 * queue, and no Basic.Return is traced. What it does show is a reply that is never delivered. A
 * final reply not delivered within `graceMs`, to a queue the management API does not list, is
 * counted as NO_ROUTE. (tcpdump sees the Basic.Return itself.)
 */
import type { RpcMessage } from '../records.ts';

interface Pending {
  readonly m: RpcMessage;
  readonly vhost: string;
}

export class ReplyRouteTracker {
  private readonly pending = new Map<string, Pending>();
  evicted = 0;

  constructor(
    private readonly graceMs = 3000,
    private readonly max = 100_000,
  ) {}

  private key(m: RpcMessage): string | undefined {
    if (m.msgId === undefined) return undefined;
    return `${m.msgId}/${m.uniqueId ?? ''}`;
  }

  /** Every decoded message, in order. */
  message(m: RpcMessage): void {
    if (m.kind !== 'reply' || m.ending === false || m.exchange !== '') return;
    const k = this.key(m);
    if (k === undefined) return;
    if (m.wire.event === 'publish') {
      // Only the firehose/tracing say where a publish went; a pcap has Basic.Return instead.
      if (m.wire.routedQueues === undefined) return;
      if (this.pending.size >= this.max) {
        const oldest = this.pending.keys().next().value;
        if (oldest !== undefined) this.pending.delete(oldest);
        this.evicted++;
      }
      this.pending.set(k, { m, vhost: m.wire.connection?.vhost ?? '' });
    } else {
      this.pending.delete(k);
    }
  }

  /**
   * Replies older than the grace period: those whose queue does not exist are returned as
   * NO_ROUTE; those whose queue exists (undelivered because nothing consumes it: a hazard of its
   * own) are forgotten. `queueExists` answers undefined when it cannot tell (no queue list taken
   * after `atMs` yet); those wait.
   */
  sweep(
    nowMs: number,
    queueExists: (vhost: string, queue: string, atMs: number) => boolean | undefined,
  ): RpcMessage[] {
    const out: RpcMessage[] = [];
    for (const [k, p] of this.pending) {
      if (nowMs - p.m.wire.ts < this.graceMs) continue;
      const exists = queueExists(p.vhost, p.m.wire.routingKey, p.m.wire.ts);
      if (exists === undefined) continue;
      this.pending.delete(k);
      if (!exists) out.push(p.m);
    }
    return out;
  }

  get size(): number {
    return this.pending.size;
  }
}
