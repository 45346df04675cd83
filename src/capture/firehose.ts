/**
 * Live capture from the RabbitMQ firehose (https://www.rabbitmq.com/docs/firehose).
 *
 * With tracing on for a vhost, the broker (rabbit_trace.erl) publishes a copy of every message
 * published in it to the topic exchange `amq.rabbitmq.trace` with routing key
 * `publish.<exchange>`, and of every delivery with `deliver.<queue>`. FirehoseSource binds an
 * exclusive queue of its own to that exchange, turns tracing on if it was off (and back off on
 * close), and turns each copy into a CaptureEvent through `wireFromFirehose`.
 *
 * Backlog: the broker keeps what we have not consumed yet in our queue. So that a slow consumer
 * cannot exhaust the broker's memory, the queue is bounded (`x-max-length`, overflow
 * `drop-head`) and dead-letters what it drops into a second exclusive queue, which is purged
 * periodically: the purge count is the exact number of dropped trace messages (never silent).
 * The drop queue is never consumed: a delivery from it would itself be traced (dead-lettered
 * messages no longer carry the trace exchange's name, which is what rabbit_trace skips).
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { isNotFound, type ManagementClient } from '../broker/management.ts';
import { RpcscopeError } from '../errors.ts';
import type { CaptureSink } from '../records.ts';
import { redactUrl } from '../util/url.ts';
import { wireFromFirehose } from '../wire/firehose/record.ts';
import { deliverKey, traceKind } from '../wire/firehose/trace-key.ts';
import { TRACE_EXCHANGE } from '../wire/naming.ts';
import { amqpUrlForVhost, managementFor, withTimeout } from './broker-endpoints.ts';
import { isLocalHost, TracingSwitch, turnedOnHere } from './tracing-switch.ts';

export { amqpUrlForVhost } from './broker-endpoints.ts';
export { TracingLogWriter } from './tracing-log-writer.ts';
export { TRACE_EXCHANGE };

export interface FirehoseOptions {
  /** AMQP URL of the broker, e.g. "amqp://guest:guest@127.0.0.1:5672"; its vhost is replaced by `vhost`. */
  readonly amqpUrl: string;
  /** The vhost to capture (tracing is per vhost and per node). */
  readonly vhost: string;
  readonly sink: CaptureSink;
  /** Management API base URL; default http://<amqp host>:15672 with the AMQP credentials. */
  readonly managementUrl?: string;
  /** A client to use instead of building one (tests, watch sharing its client). */
  readonly management?: ManagementClient;
  /** Binding keys on amq.rabbitmq.trace; default ['#'] (publish.# and deliver.#). */
  readonly bindingKeys?: readonly string[];
  /** Unacknowledged trace messages in flight to us (AMQP Basic.Qos). Default 500. */
  readonly prefetch?: number;
  /** Trace messages the broker may hold for us before it drops (and we count) the oldest. Default 100000. */
  readonly maxBacklog?: number;
  /** Turn tracing on if off and restore it on close (default true). */
  readonly manageTracing?: boolean;
  /** Connection name shown in the management UI. */
  readonly connectionName?: string;
  /** Clock for event timestamps (epoch ms); the firehose itself carries none. */
  readonly now?: () => number;
  /** Background failures after open (connection lost, sink threw); default: kept in stats().lastError. */
  readonly onError?: (e: Error) => void;
}

export interface TracingState {
  /** Tracing was on for the vhost before we started. */
  readonly wasOn: boolean;
  /** We turned it on. */
  readonly turnedOn: boolean;
  /** How: management API or rabbitmqctl (fallback for a local broker). */
  readonly via: 'management' | 'rabbitmqctl' | 'none';
  /** After close: 'off' = restored off, 'left-on' = was on before, or others still trace; 'failed'. */
  restored?: 'off' | 'left-on' | 'failed';
  restoreNote?: string;
}

export interface FirehoseStats {
  /** Trace messages consumed (published + delivered + own). */
  received: number;
  published: number;
  delivered: number;
  /** Deliveries to rpcscope's own queues, excluded from events. */
  own: number;
  /** Trace messages the broker dropped from our bounded queue because we could not keep up. */
  dropped: number;
  /** Events the sink threw on (counted, the capture goes on). */
  sinkErrors: number;
  /** Message body bytes seen. */
  bytes: number;
  queue: string;
  tracing: TracingState;
  closed: boolean;
  lastError?: string;
}

export class FirehoseSource {
  readonly #opts: FirehoseOptions;
  readonly #conn: ChannelModel;
  readonly #ch: Channel;
  readonly #switch: TracingSwitch | undefined;
  readonly #stats: FirehoseStats;
  readonly #dropQueue: string;
  /** Trace keys of deliveries from our own queues: our own traffic, not captured. */
  readonly #ownKeys: ReadonlySet<string>;
  readonly #now: () => number;
  #seq = 0;
  #connClosed = false;
  #chClosed = false;
  /** Why the broker closed our connection, when it did (e.g. 320 CONNECTION_FORCED, vhost deleted). */
  #brokerCloseReason: string | undefined;
  /** The broker ended the capture (consumer cancelled, connection closed), not close(). */
  #endedByBroker = false;
  /** Key of turnedOnHere: broker (management base URL) and vhost. */
  readonly #ownKey: string;
  #consumerTag: string | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;
  #closing: Promise<FirehoseStats> | undefined;
  #resolveDone!: (s: FirehoseStats) => void;
  /** Resolves with the final stats once the source is closed (by close() or a lost connection). */
  readonly done: Promise<FirehoseStats>;

  private constructor(
    opts: FirehoseOptions,
    conn: ChannelModel,
    ch: Channel,
    sw: TracingSwitch | undefined,
    queue: string,
    dropQueue: string,
    tracing: TracingState,
  ) {
    this.#opts = opts;
    this.#conn = conn;
    this.#ch = ch;
    this.#switch = sw;
    this.#ownKey = `${sw?.baseUrl ?? ''}|${opts.vhost}`;
    this.#dropQueue = dropQueue;
    this.#ownKeys = new Set([deliverKey(queue), deliverKey(dropQueue)]);
    this.#now = opts.now ?? Date.now;
    this.#stats = {
      received: 0,
      published: 0,
      delivered: 0,
      own: 0,
      dropped: 0,
      sinkErrors: 0,
      bytes: 0,
      queue,
      tracing,
      closed: false,
    };
    this.done = new Promise((r) => {
      this.#resolveDone = r;
    });
  }

  /** Connects, switches tracing on when needed, binds and starts consuming. */
  static async open(opts: FirehoseOptions): Promise<FirehoseSource> {
    const url = amqpUrlForVhost(opts.amqpUrl, opts.vhost);
    const shown = redactUrl(url);
    const parsed = new URL(opts.amqpUrl);
    const mgmt = opts.management ?? managementFor(opts, parsed);
    const sw = new TracingSwitch(mgmt, opts.vhost, isLocalHost(parsed.hostname));
    let tracing: TracingState = { wasOn: false, turnedOn: false, via: 'none' };
    if (opts.manageTracing !== false) {
      const wasOn = await sw.isOn();
      tracing = { wasOn, turnedOn: false, via: sw.via };
    }

    let conn: ChannelModel;
    try {
      conn = await amqp.connect(url, {
        clientProperties: { connection_name: opts.connectionName ?? `rpcscope-firehose:${process.pid}` },
        timeout: 10_000,
      });
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      const refused = /ACCESS_REFUSED|403|NOT_ALLOWED|530/.test(why);
      throw new RpcscopeError(
        refused ? 'RPCSCOPE_BROKER_REFUSED' : 'RPCSCOPE_BROKER_UNREACHABLE',
        `cannot connect: ${redactUrl(why)}${refused ? ' (check user, password and vhost permissions)' : ''}`,
        { cause, context: { input: shown } },
      );
    }
    let src: FirehoseSource | undefined;
    // amqplib emits 'error' on the connection and its channels (a deleted vhost or queue, a broker
    // shutting down); unhandled, an EventEmitter 'error' would end the process.
    let setupError: Error | undefined;
    conn.on('error', (e: Error) => {
      if (src !== undefined) src.#backgroundError(e);
      else setupError ??= e;
    });
    conn.on('close', (err?: Error) => {
      if (src === undefined) return;
      src.#connClosed = true;
      if (src.#closing === undefined) {
        src.#brokerCloseReason = err?.message ?? 'closed';
        src.#endedByBroker = true;
        src.#backgroundError(new Error(`broker closed the firehose connection: ${err?.message ?? 'closed'}`));
        src.close().catch(() => {});
      }
    });
    try {
      const ch = await conn.createChannel();
      ch.on('close', () => {
        if (src === undefined) return;
        src.#chClosed = true;
        // Our channel gone (e.g. 403 on a queue of a vhost being deleted): nothing more to consume.
        if (src.#closing === undefined) {
          src.#endedByBroker = true;
          src.close().catch(() => {});
        }
      });
      ch.on('error', (e: Error) => {
        if (src !== undefined) src.#backgroundError(e);
        else setupError ??= e;
      });
      const maxBacklog = opts.maxBacklog ?? 100_000;
      const base = `rpcscope.firehose.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
      const drop = await ch.assertQueue(`${base}.dropped`, { exclusive: true, durable: false });
      const q = await ch.assertQueue(base, {
        exclusive: true,
        durable: false,
        autoDelete: true,
        arguments: {
          'x-max-length': maxBacklog,
          'x-overflow': 'drop-head',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': drop.queue,
        },
      });
      for (const key of opts.bindingKeys ?? ['#']) await ch.bindQueue(q.queue, TRACE_EXCHANGE, key);
      src = new FirehoseSource(
        opts,
        conn,
        ch,
        opts.manageTracing === false ? undefined : sw,
        q.queue,
        drop.queue,
        tracing,
      );
      const shared = turnedOnHere.get(src.#ownKey) ?? 0;
      if (opts.manageTracing !== false && tracing.wasOn && shared > 0) {
        // On because another source of this process turned it on: share that, not "was on".
        turnedOnHere.set(src.#ownKey, shared + 1);
        src.#stats.tracing = { wasOn: false, turnedOn: true, via: tracing.via };
      } else if (opts.manageTracing !== false && !tracing.wasOn) {
        await sw.set(true);
        turnedOnHere.set(src.#ownKey, shared + 1);
        src.#stats.tracing = { ...tracing, turnedOn: true, via: sw.via };
      }
      await ch.prefetch(opts.prefetch ?? 500);
      const self = src;
      const { consumerTag } = await ch.consume(q.queue, (m) => self.#onMessage(m), { noAck: false });
      src.#consumerTag = consumerTag;
      src.#purgeTimer = setInterval(() => {
        if (!self.#chClosed) self.#purgeDropped().catch((e: unknown) => self.#backgroundError(e));
      }, 500);
      src.#purgeTimer.unref();
      return src;
    } catch (e) {
      if (src !== undefined) {
        await src.close().catch(() => {});
      } else {
        await conn.close().catch(() => {});
      }
      if (e instanceof RpcscopeError) throw e;
      const why = setupError?.message ?? String(e);
      throw new RpcscopeError('RPCSCOPE_BROKER_REFUSED', `firehose setup failed: ${redactUrl(why)}`, {
        cause: e,
        context: { input: shown },
      });
    }
  }

  stats(): FirehoseStats {
    return { ...this.#stats, tracing: { ...this.#stats.tracing } };
  }

  /** Stops consuming, counts the last drops, restores tracing, closes. Idempotent. */
  close(): Promise<FirehoseStats> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<FirehoseStats> {
    if (this.#purgeTimer !== undefined) clearInterval(this.#purgeTimer);
    if (!this.#connClosed && !this.#chClosed && this.#consumerTag !== undefined) {
      // Bounded: an RPC on a channel the broker is closing may never be answered.
      await withTimeout(this.#ch.cancel(this.#consumerTag), 5000).catch(() => {});
      await withTimeout(this.#purgeDropped(), 5000).catch(() => {});
      // Trace records still waiting in our queue when we stop were never captured: they count
      // as dropped too, or a capture stopped behind a backlog would look complete.
      await withTimeout(
        this.#ch.purgeQueue(this.#stats.queue).then((r) => {
          this.#stats.dropped += r.messageCount;
        }),
        5000,
      ).catch(() => {});
    }
    const t = this.#stats.tracing;
    const sharing = t.turnedOn ? (turnedOnHere.get(this.#ownKey) ?? 1) - 1 : 0;
    if (t.turnedOn) {
      if (sharing > 0) turnedOnHere.set(this.#ownKey, sharing);
      else turnedOnHere.delete(this.#ownKey);
    }
    if (
      this.#switch !== undefined &&
      t.turnedOn &&
      (/vhost .*deleted/i.test(this.#brokerCloseReason ?? '') ||
        (this.#endedByBroker && (await this.#vhostGoes())))
    ) {
      // The vhost is being deleted: its tracing flag goes with it, and a PUT now could even
      // re-create the vhost (PUT /api/vhosts/<v> creates a missing one).
      t.restored = 'off';
      t.restoreNote = `vhost ${this.#opts.vhost} no longer exists`;
    } else if (this.#switch !== undefined && t.turnedOn && sharing > 0) {
      t.restored = 'left-on';
      t.restoreNote = `${sharing} other rpcscope source(s) in this process still capture this vhost`;
    } else if (this.#switch !== undefined && t.turnedOn) {
      try {
        const others = await this.#switch
          .otherTraceConsumers([this.#stats.queue, this.#dropQueue])
          .catch(() => 0);
        if (others !== undefined && others > 0) {
          t.restored = 'left-on';
          t.restoreNote = `${others} other queue(s) still bound to ${TRACE_EXCHANGE}`;
        } else {
          await this.#switch.set(false);
          t.restored = 'off';
        }
      } catch (e) {
        if (isNotFound(e)) {
          // The vhost was deleted while we captured: its tracing flag went with it.
          t.restored = 'off';
          t.restoreNote = `vhost ${this.#opts.vhost} no longer exists`;
          return this.#finishClose();
        }
        t.restored = 'failed';
        t.restoreNote = `could not turn tracing off for vhost ${this.#opts.vhost}: ${e instanceof Error ? e.message : String(e)}`;
        this.#backgroundError(e);
      }
    } else if (this.#switch !== undefined) {
      t.restored = 'left-on';
      t.restoreNote = 'tracing was on before the capture';
    }
    return this.#finishClose();
  }

  /**
   * After the broker ended the capture: is the vhost being deleted? Deleting a vhost cancels its
   * consumers before the vhost record goes, so wait a little for it to go: turning tracing off
   * with PUT /api/vhosts/<v> meanwhile could re-create the deleted vhost.
   */
  async #vhostGoes(): Promise<boolean> {
    for (let i = 0; i < 20; i++) {
      try {
        await this.#switch?.isOn();
      } catch (e) {
        if (e instanceof RpcscopeError && e.code === 'RPCSCOPE_BAD_ARGUMENT') return true; // 404: gone
        return false;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  async #finishClose(): Promise<FirehoseStats> {
    if (!this.#connClosed) await this.#conn.close().catch(() => {});
    this.#stats.closed = true;
    const s = this.stats();
    this.#resolveDone(s);
    return s;
  }

  #onMessage(m: ConsumeMessage | null): void {
    if (m === null) {
      // Basic.Cancel from the broker: our queue was deleted (e.g. vhost deleted).
      this.#endedByBroker = true;
      this.#backgroundError(new Error('the broker cancelled the firehose consumer'));
      this.close().catch(() => {});
      return;
    }
    const s = this.#stats;
    s.received++;
    const key = m.fields.routingKey;
    const kind = traceKind(key, this.#ownKeys);
    if (kind === 'own') {
      s.own++;
    } else {
      if (kind === 'deliver') s.delivered++;
      else s.published++;
      s.bytes += m.content.length;
      try {
        const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
        const wire = wireFromFirehose(key, headers, m.content, this.#now(), this.#seq++);
        this.#opts.sink.event({ type: 'message', message: wire });
      } catch (e) {
        s.sinkErrors++;
        this.#backgroundError(e);
      }
    }
    try {
      this.#ch.ack(m);
    } catch (e) {
      this.#backgroundError(e);
    }
  }

  async #purgeDropped(): Promise<void> {
    const r = await this.#ch.purgeQueue(this.#dropQueue);
    this.#stats.dropped += r.messageCount;
  }

  #backgroundError(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.#stats.lastError = redactUrl(err.message);
    this.#opts.onError?.(err);
  }
}
