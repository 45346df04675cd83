/**
 * Collects the messages the broker dead-letters as expired. The chaos vhost's policy names the
 * exchange `rpcscope.dlx` as dead-letter-exchange of every queue; a message whose AMQP expiration
 * (oslo sets it to the RPC timeout on calls) runs out in a queue is republished there with an
 * `x-death` header of reason `expired` (RabbitMQ "Dead Letter Exchanges"). Its body is intact, so
 * its `_unique_id` tells which emulated message expired instead of being lost. The collecting
 * queue is a quorum queue so that it survives the loss of one node.
 */
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { openEnvelope } from '../wire/oslo/encode.ts';

export const DLX_EXCHANGE = 'rpcscope.dlx';
export const DLX_QUEUE = 'rpcscope.expired';

export class ExpiredCollector {
  readonly ids = new Set<string>();
  /** Dead-lettered for another reason (maxlen, rejected, delivery_limit). */
  other = 0;
  readonly #url: string;
  #conn: ChannelModel | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(url: string) {
    this.#url = url;
  }

  async start(): Promise<void> {
    const conn = await amqp.connect(this.#url);
    this.#conn = conn;
    conn.on('error', () => {});
    conn.on('close', () => {
      if (this.#closed) return;
      this.#timer = setTimeout(() => {
        this.start().catch(() => conn.emit('close'));
      }, 1000);
      this.#timer.unref();
    });
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await ch.assertExchange(DLX_EXCHANGE, 'fanout', { durable: true });
    await ch.assertQueue(DLX_QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(DLX_QUEUE, DLX_EXCHANGE, '');
    await ch.consume(DLX_QUEUE, (m) => this.#onMessage(m), { noAck: true });
  }

  #onMessage(m: ConsumeMessage | null): void {
    if (m === null) return;
    const death = (m.properties.headers?.['x-death'] as { reason?: string }[] | undefined)?.[0];
    const inner = openEnvelope(m.content);
    const id = inner?._unique_id;
    if (death?.reason === 'expired' && typeof id === 'string') this.ids.add(id);
    else this.other++;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#conn?.close().catch(() => {});
  }
}
