/**
 * One emulated oslo.messaging service: its own AMQP connection (client property connection_name
 * "<binary>:<pid>:<uuid>" as impl_rabbit.Connection sets it, heartbeat 60 s), the exchanges and
 * queues an RPC server declares (topic, topic.host, fanout, reply), a consumer on each, answers to
 * calls after the modelled delay, calls/casts/fanouts/notifications on demand, publisher confirms,
 * and reconnection with oslo's backoff (kombu ensure_connection: interval_start
 * rabbit_retry_interval, interval_step rabbit_retry_backoff, interval_max rabbit_interval_max).
 *
 * Publishing follows impl_rabbit.Connection._ensure_publishing → ensure(retry=None): a publish made
 * while the connection is down, or whose confirm was still outstanding when the connection died,
 * is held (in order) and sent once the connection is back; retry=None means no bound, so only
 * stop() ends the wait (held messages are then accounted as never sent).
 */
import { randomUUID } from 'node:crypto';
import { serverKey, topicOfFanoutExchange } from '../wire/naming.ts';
import {
  encodeCall,
  encodeCast,
  encodeFanout,
  encodeNotification,
  encodeReply,
  fanoutQueue,
  type OsloPublish,
  type OsloQueueOptions,
  openEnvelope,
  type PyJson,
  type QueueDecl,
  queueArguments,
  remoteFailure,
  replyQueue,
  replyQueueName,
  topicQueue,
  uuidHex,
} from '../wire/oslo/encode.ts';
import {
  type AmqpClientChannel,
  type AmqpClientConnection,
  type AmqpClientHandler,
  connect,
  type Delivery,
  type Returned,
} from './amqp-client.ts';
import { CONNECT_TIMEOUT_MS, queueOptions, reconnectDelayMs, withHeartbeat } from './connection.ts';
import { padArgs, sized } from './payload.ts';
import type { ServicePlan } from './plan.ts';
import { type RpcSpec, type Serve, sample } from './scenario.ts';
import { type CallOutcome, methodKey, objectOf, type ServiceContext } from './service-context.ts';

interface PendingCall {
  readonly uniqueId: string;
  /** This call's timeout, ms (the spec's timeoutS, else rpc_response_timeout). */
  readonly timeoutMs: number;
  readonly key: string;
  /** When the caller called (latency is the caller's: time held while disconnected included). */
  readonly start: number;
  /**
   * The reply wait: amqpdriver._send starts _waiter.wait(msg_id, timeout) only once topic_send
   * returned, so a call held while disconnected starts its timeout when it is written.
   */
  timer: NodeJS.Timeout | undefined;
  readonly resolve: (o: CallOutcome) => void;
}

/** One publish, from the caller's send to the broker's confirm (or to stop). */
interface Outgoing {
  /** Send order within the service: held messages go out in this order. */
  readonly seq: number;
  readonly msg: OsloPublish;
  readonly method: string;
  /** Calls: the `_msg_id` whose reply wait starts once the call is written. */
  readonly callMsgId?: string;
  /** The facet waiting for that reply, when another (a send-pool connection) writes the call. */
  readonly caller?: EmulatedService;
}

/**
 * One connection of a process that oslo spreads over several (neutron's agents): the topics whose
 * queues this connection consumes, whether it holds the reply queue, and the facet whose
 * connection carries its publishes (oslo takes a send-pool connection for every publish, replies
 * included). Omitted: the whole service on one connection.
 */
export interface Facet {
  readonly topics: readonly string[];
  readonly reply: boolean;
  /** The send-pool connection to publish through (chosen per publish). */
  readonly via?: () => EmulatedService;
}

interface PendingConfirmReply {
  readonly msg: OsloPublish;
  readonly deadline: number;
  returned: boolean;
}

export class EmulatedService {
  readonly plan: ServicePlan;
  readonly #ctx: ServiceContext;
  /**
   * What the queues this service declares (and deletes at stop) are made from: its topics (topic,
   * topic.host and a fanout queue each), the fanout queues' unique ids (oslo names a listener's
   * fanout queue once) and whether it has the reply queue. The declarations themselves are built
   * when needed: a process holds thousands of services (an OVS agent 13, with 34 queues).
   */
  readonly #topics: readonly string[];
  readonly #fanoutIds: readonly string[] | undefined;
  readonly #hasReply: boolean;
  #replyName: string | undefined;
  /**
   * Created when first needed and dropped when empty: most services spend most of their time with
   * no call pending, no reply awaiting its confirm and nothing declared on the side.
   */
  #pending: Map<string, PendingCall> | undefined;
  #abandoned = 0;
  #replies: Map<string, PendingConfirmReply> | undefined;
  /** oslo's listener drops repeats of its last 16 `_unique_id`s (amqpdriver AMQPListener). */
  #recent: string[] | undefined;
  #declaredExchanges: Set<string> | undefined;
  /** Publishes waiting for a usable channel, in send order (oslo's ensure() blocking the sender). */
  #held: Outgoing[] = [];
  #seq = 0;
  /** Declares in progress on the current channel, and the publishes queued behind them. */
  #gate: Promise<void> | undefined;
  #flushSoon = false;
  #conn: AmqpClientConnection | undefined;
  #ch: AmqpClientChannel | undefined;
  #stopping = false;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #up = false;

  readonly #via: (() => EmulatedService) | undefined;

  constructor(plan: ServicePlan, ctx: ServiceContext, facet?: Facet) {
    this.plan = plan;
    this.#ctx = ctx;
    this.#via = facet?.via;
    this.#topics = facet?.topics ?? plan.spec.topics;
    this.#fanoutIds =
      plan.spec.fanout && this.#topics.length > 0 ? this.#topics.map(() => uuidHex()) : undefined;
    this.#hasReply = facet?.reply !== false;
    if (this.#hasReply) this.#replyName = replyQueueName();
  }

  get #qopts(): OsloQueueOptions {
    return queueOptions(this.#ctx.scenario, this.plan);
  }

  /** The reply queue's name (a service without one names it only if it ever makes a call). */
  get #replyQ(): string {
    if (this.#replyName === undefined) this.#replyName = replyQueueName();
    return this.#replyName;
  }

  /** The queues this service declares, in the order it declares them. */
  #queues(): QueueDecl[] {
    const qopts = this.#qopts;
    const ex = this.plan.spec.controlExchange ?? this.#ctx.scenario.oslo.controlExchange;
    const queues: QueueDecl[] = [];
    for (const [i, topic] of this.#topics.entries()) {
      queues.push(topicQueue(ex, topic, qopts));
      queues.push(topicQueue(ex, serverKey(topic, this.plan.host), qopts));
      if (this.#fanoutIds !== undefined) queues.push(fanoutQueue(topic, qopts, this.#fanoutIds[i]));
    }
    if (this.#hasReply) queues.push(replyQueue(this.#replyQ, qopts));
    return queues;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Names of the queues this connection declares (chaos: what a killed process leaves behind). */
  get queueNames(): string[] {
    return this.#queues().map((q) => q.name);
  }

  /** Calls sent and neither answered nor timed out yet. */
  get pendingCalls(): number {
    return this.#pending?.size ?? 0;
  }

  /** Calls still unanswered (and not timed out) when stop() gave up on them. */
  get abandonedCalls(): number {
    return this.#abandoned;
  }

  /** Connects, declares and consumes. Rejects if the first connection fails (the caller counts it). */
  async start(): Promise<void> {
    await this.#connect();
  }

  /**
   * After a failed first connection: keep trying with oslo's backoff, as oslo's
   * ensure_connection does for a service starting while the broker is busy.
   */
  retry(): void {
    try {
      this.#conn?.close().catch(() => {});
    } catch {
      // never opened
    }
    this.#conn = undefined;
    this.#ch = undefined;
    this.#scheduleReconnect();
  }

  async #connect(): Promise<void> {
    const o = this.#ctx.scenario.oslo;
    const conn = await connect(withHeartbeat(this.plan.url, o.heartbeatTimeoutS), {
      // py-amqp sets TCP_NODELAY on its socket (amqp/transport.py DEFAULT_SOCKET_SETTINGS).
      noDelay: true,
      timeoutMs: CONNECT_TIMEOUT_MS,
      // kombu opens with these client properties (impl_rabbit.Connection).
      clientProperties: {
        connection_name: `${this.plan.binary}:${process.pid}:${randomUUID()}`,
        capabilities: {
          authentication_failure_close: true,
          'connection.blocked': true,
          consumer_cancel_notify: true,
        },
      },
    });
    this.#conn = conn;
    conn.setHandler(EmulatedService.#events, this);
    await this.#openChannel(conn);
    this.#attempt = 0;
  }

  /**
   * A confirm channel with every queue declared and consumed, then the held publishes sent:
   * impl_rabbit's _set_current_channel(new_channel) re-declaring its consumers on revival.
   */
  async #openChannel(conn: AmqpClientConnection): Promise<void> {
    const ch = await conn.createConfirmChannel();
    this.#declaredExchanges = undefined;
    this.#gate = undefined;
    const declared = new Set<string>();
    for (const q of this.#queues()) {
      if (q.exchange !== undefined && q.exchange.name !== '') {
        await ch.assertExchange(q.exchange.name, q.exchange.type, {
          durable: q.exchange.durable,
          autoDelete: q.exchange.autoDelete,
        });
        declared.add(q.exchange.name);
        if (q.exchange.type === 'topic') this.#ctx.sharedExchange(this.plan.url, q.exchange.name);
      }
      const r = await ch.assertQueue(q.name, {
        durable: q.durable,
        autoDelete: q.autoDelete,
        arguments: q.arguments,
      });
      if (q.bind !== undefined) await ch.bindQueue(r.queue, q.bind.exchange, q.bind.routingKey);
      if (q.bind !== undefined && q.name === q.bind.routingKey && !q.name.includes(`.${this.plan.host}`))
        this.#ctx.sharedQueue(this.plan.url, q.name);
      // oslo consumes with no_ack=False and acks before dispatch (RPC requests acked first).
      await ch.consume(q.name, { noAck: false });
    }
    if (this.#conn !== conn || this.#stopping) {
      await ch.close().catch(() => {});
      throw new Error('connection lost while declaring');
    }
    // What a publish on this channel need not declare again; kept only where publishes go out
    // (a listener of oslo's several connections publishes through a send-pool one).
    if (this.#via === undefined && declared.size > 0) {
      for (const x of this.#declaredExchanges ?? []) declared.add(x);
      this.#declaredExchanges = declared;
    }
    this.#ch = ch;
    this.#up = true;
    this.#ctx.onConnected(this.plan);
    this.#flush();
  }

  #lost(reason: string): void {
    const wasUp = this.#up;
    this.#up = false;
    this.#ch = undefined;
    this.#conn = undefined;
    if (this.#stopping) return;
    if (wasUp) this.#ctx.onDisconnected(this.plan, reason);
    this.#scheduleReconnect();
  }

  /**
   * A channel closed by the broker (404, 406...) on a live connection. py-amqp's Channel._on_close
   * reopens the channel and raises the error; oslo's ensure() then sets a new current channel,
   * which re-declares every consumer (_set_current_channel), and carries on on the same
   * connection. If that fails, the connection is given up and reconnected with the backoff.
   */
  #channelLost(conn: AmqpClientConnection, reason: string): void {
    const wasUp = this.#up;
    this.#up = false;
    this.#ch = undefined;
    if (wasUp) this.#ctx.onDisconnected(this.plan, `channel closed: ${reason}`);
    this.#openChannel(conn).catch((e: unknown) => {
      if (this.#conn === conn)
        this.#drop(conn, `channel reopen failed: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  /**
   * Gives up the connection and reconnects with the backoff: what kombu's ensure() does on a
   * recoverable connection error (collect(), then _ensure_connection), e.g. py-amqp's
   * ConsumerCancelled when the broker cancels a consumer because its queue was deleted.
   */
  #drop(conn: AmqpClientConnection, reason: string): void {
    this.#lost(reason);
    conn.close().catch(() => {});
  }

  #scheduleReconnect(): void {
    if (this.#stopping || this.#reconnectTimer !== undefined) return;
    this.#attempt++;
    const delay = reconnectDelayMs(this.#ctx.scenario, this.#attempt);
    this.#ctx.onReconnect(this.plan, this.#attempt, delay);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect().catch(() => {
        try {
          this.#conn?.close().catch(() => {});
        } catch {
          // already closed
        }
        this.#conn = undefined;
        this.#scheduleReconnect();
      });
    }, delay);
    this.#reconnectTimer.unref();
  }

  /**
   * What every service's connection and channels report, one object for all (a closure per
   * connection and channel would be ~60 per emulated OVS agent).
   */
  static readonly #events: AmqpClientHandler<EmulatedService> = {
    connectionClosed(svc, conn, err) {
      // A connection this service already dropped (consumer cancelled) reports nothing new.
      if (svc.#conn === conn) svc.#lost(err === undefined ? 'closed by broker' : err.message);
    },
    channelClosed(svc, ch) {
      const conn = svc.#conn;
      // The connection's own close also closes its channels; it reports its close in the same
      // tick, so only a channel still current on a still current connection died alone.
      setImmediate(() => {
        if (svc.#ch === ch && svc.#conn === conn && conn !== undefined && !svc.#stopping)
          svc.#channelLost(conn, ch.error?.message ?? 'channel closed');
      });
    },
    delivered(svc, ch, queue, m) {
      svc.#onMessage(ch, queue, m);
    },
    returned(svc, _ch, m) {
      svc.#onReturn(m);
    },
  };

  #onReturn(m: Returned): void {
    const inner = openEnvelope(m.content);
    const id = typeof inner?._unique_id === 'string' ? inner._unique_id : undefined;
    if (id === undefined) return;
    this.#ctx.accounting.returned(id, Date.now());
    const r = this.#replies?.get(id);
    if (r !== undefined) r.returned = true;
  }

  #onMessage(ch: AmqpClientChannel, queue: string, m: Delivery | null): void {
    if (m === null) {
      // basic.cancel from the broker (queue deleted, or its node gone): py-amqp raises
      // ConsumerCancelled, a RecoverableConnectionError, so kombu reconnects and oslo re-declares.
      const conn = this.#conn;
      if (this.#ch === ch && conn !== undefined && !this.#stopping)
        this.#drop(conn, `consumer of ${queue} cancelled by the broker`);
      return;
    }
    try {
      ch.ack(m.deliveryTag);
    } catch {
      // channel closed under us; the broker will redeliver
    }
    const inner = openEnvelope(m.content);
    if (inner === undefined) return;
    const uid = typeof inner._unique_id === 'string' ? inner._unique_id : undefined;
    if (uid !== undefined) this.#ctx.accounting.delivered(uid, this.plan.host);
    if (queue === this.#replyName) {
      this.#onReply(inner);
      return;
    }
    const method0 = typeof inner.method === 'string' ? inner.method : '';
    if (uid !== undefined && this.#recent?.includes(uid) === true) {
      this.#ctx.onReceived(this.plan, queue, method0, uid, true);
      return;
    }
    if (uid !== undefined) {
      if (this.#recent === undefined) this.#recent = [uid];
      else {
        this.#recent.push(uid);
        if (this.#recent.length > 16) this.#recent.shift();
      }
    }
    this.#ctx.onReceived(this.plan, queue, method0, uid, false);
    const msgId = inner._msg_id;
    const replyQ = inner._reply_q;
    if (typeof msgId === 'string' && typeof replyQ === 'string') {
      const method = typeof inner.method === 'string' ? inner.method : '';
      const obj = objectOf(inner);
      const serve: Serve =
        (obj !== undefined ? this.plan.spec.methods[obj] : undefined) ??
        this.plan.spec.methods[method] ??
        this.plan.spec.serve;
      const delay = sample(serve.delayMs, this.#ctx.rand);
      const failed = serve.errorRate > 0 && this.#ctx.rand() < serve.errorRate;
      const bytes = sample(serve.replyBytes, this.#ctx.rand);
      const t = setTimeout(() => this.#reply(msgId, replyQ, method, bytes, failed), delay);
      t.unref();
    }
  }

  #reply(msgId: string, replyQ: string, method: string, bytes: number, failed: boolean): void {
    const msg = sized(bytes, (pad) =>
      encodeReply({
        msgId,
        replyQ,
        result: failed ? null : { pad },
        failure: failed
          ? remoteFailure('EmulatedError', 'rpcscope.emulate', `emulated failure ${pad}`)
          : null,
      }),
    );
    // oslo retries a returned reply every 0.25 s for kombu_missing_consumer_retry_timeout (60 s).
    // The reply goes out on a send-pool connection (AMQPIncomingMessage.reply: PURPOSE_SEND).
    const out = this.#sender();
    if (out.#replies === undefined) out.#replies = new Map();
    out.#replies.set(msg.uniqueId, { msg, deadline: Date.now() + 60_000, returned: false });
    out.#publish(msg, method);
  }

  #onReply(inner: Record<string, unknown>): void {
    const msgId = inner._msg_id;
    if (typeof msgId !== 'string') return;
    if (inner.ending === false) return; // call-monitor heartbeat
    const p = this.#pending?.get(msgId);
    if (p === undefined) return; // late reply after timeout ("No calling threads waiting for msg_id")
    this.#endCall(msgId);
    clearTimeout(p.timer);
    const ms = performance.now() - p.start;
    this.#ctx.accounting.answered(p.uniqueId, Date.now());
    const outcome = inner.failure === null || inner.failure === undefined ? 'ok' : 'remote-error';
    this.#ctx.onCall(this.plan, p.key, outcome, ms);
    p.resolve({ outcome, ms });
  }

  /**
   * Accounts a new publish, then sends it or, with no usable channel, holds it: oslo's
   * _ensure_publishing blocks the sender in ensure() (retry=None: until reconnected).
   */
  /** The facet whose connection publishes for this one (itself unless oslo's send pool is apart). */
  #sender(): EmulatedService {
    return this.#via?.() ?? this;
  }

  #publish(msg: OsloPublish, method: string, callMsgId?: string, caller?: EmulatedService): void {
    const acc = this.#ctx.accounting;
    if (msg.kind !== 'reply' || !acc.message(msg.uniqueId))
      acc.sent(msg.uniqueId, msg.kind, this.plan.group, this.plan.host, method, Date.now());
    this.#ctx.onSent();
    const out: Outgoing = {
      seq: this.#seq++,
      msg,
      method,
      ...(callMsgId !== undefined ? { callMsgId } : {}),
      ...(caller !== undefined && caller !== this ? { caller } : {}),
    };
    const ch = this.#ch;
    // Behind held messages too: oslo sends on one connection under its lock, in order.
    if (ch === undefined || this.#held.length > 0) this.#hold(out);
    else this.#transmit(ch, out);
  }

  #hold(out: Outgoing): void {
    if (this.#stopping) {
      this.#unsent(out);
      return;
    }
    let i = this.#held.length;
    while (i > 0 && this.#held[i - 1]!.seq > out.seq) i--;
    this.#held.splice(i, 0, out);
    // Failed on a channel already replaced (a declare queued on the old one): the new one sends it.
    if (this.#up && !this.#flushSoon) {
      this.#flushSoon = true;
      setImmediate(() => {
        this.#flushSoon = false;
        if (this.#up) this.#flush();
      });
    }
  }

  /** Sends what was held, in order, on the channel just (re)opened. */
  #flush(): void {
    const held = this.#held;
    this.#held = [];
    for (const out of held) {
      const ch = this.#ch;
      if (ch === undefined || this.#held.length > 0) this.#hold(out);
      else this.#transmit(ch, out);
    }
  }

  /** A publish the service never got to send: it stopped while holding it. */
  #unsent(out: Outgoing): void {
    this.#replyDone(out.msg.uniqueId);
    this.#ctx.accounting.unsent(out.msg.uniqueId, Date.now(), 'service stopped while disconnected');
    this.#ctx.onConfirm(false);
  }

  /** Publishes with a confirm callback; declares the exchange first as kombu's _publish does. */
  #transmit(ch: AmqpClientChannel, out: Outgoing): void {
    const { msg } = out;
    const send = () => {
      try {
        ch.publish(msg.exchange, msg.routingKey, msg.body, msg.properties, msg.mandatory, (err) => {
          if (err === null) this.#confirmed(out, true);
          // A channel error (py-amqp IrrecoverableChannelError) and a nack (MessageNacked) escape
          // ensure() as MessageDeliveryFailure; a lost connection makes ensure() publish again.
          else if (err.message === 'message nacked' || ch.error !== undefined || this.#stopping)
            this.#confirmed(out, false);
          else this.#hold(out);
        });
      } catch {
        // the channel is closed (its close is being handled): send again on the next one
        this.#hold(out);
        return;
      }
      if (out.callMsgId !== undefined) (out.caller ?? this).#startReplyWait(out.callMsgId);
    };
    const ex = msg.exchange;
    // notify_send → _publish_and_creates_default_queue: once per (exchange, key) and channel,
    // a queue named like the routing key, bound to it (so notifications wait for a consumer).
    const notifyQueue = msg.kind === 'notification' ? `${ex}\u0000${msg.routingKey}` : undefined;
    const needExchange = ex !== '' && this.#declaredExchanges?.has(ex) !== true;
    const needQueue = notifyQueue !== undefined && this.#declaredExchanges?.has(notifyQueue) !== true;
    if (!needExchange && !needQueue) {
      if (this.#gate === undefined) send();
      else this.#after(() => send());
      return;
    }
    if (this.#declaredExchanges === undefined) this.#declaredExchanges = new Set();
    this.#declaredExchanges.add(ex);
    if (notifyQueue !== undefined) this.#declaredExchanges.add(notifyQueue);
    const type = msg.kind === 'fanout' ? 'fanout' : 'topic';
    const durable = msg.kind === 'fanout' ? false : this.#qopts.durableQueues || this.#qopts.quorumQueues;
    const autoDelete = msg.kind === 'fanout' ? true : this.#qopts.autoDelete;
    const declare = () =>
      needExchange ? ch.assertExchange(ex, type, { durable, autoDelete }) : Promise.resolve();
    if (needExchange && type === 'topic') this.#ctx.sharedExchange(this.plan.url, ex);
    if (needQueue) this.#ctx.sharedQueue(this.plan.url, msg.routingKey);
    // The default queue's arguments are _get_queue_arguments(rabbit_ha_queues, 0,
    // rabbit_quorum_queue, ...): x-queue-type quorum in quorum mode, x-ha-policy all when mirrored,
    // no x-expires; durable and auto-delete follow the exchange.
    const then = () =>
      needQueue
        ? declare()
            .then(() =>
              ch.assertQueue(msg.routingKey, {
                durable,
                autoDelete,
                arguments: queueArguments(this.#qopts, 0, this.#qopts.quorumQueues),
              }),
            )
            .then(() => ch.bindQueue(msg.routingKey, ex, msg.routingKey))
        : declare();
    this.#after(() =>
      then().then(send, (e: unknown) => {
        // A broker refusal (406 inequivalent arguments, 404...) is a channel error: the message
        // fails as in oslo. A declare cut by a lost connection is retried like any publish.
        if (typeof (e as { code?: unknown }).code === 'number' || this.#stopping) this.#confirmed(out, false);
        else this.#hold(out);
      }),
    );
  }

  /**
   * Runs `step` after the declares (and the publishes queued behind them) on the current channel:
   * oslo declares inline under its connection lock, so nothing overtakes a publish that declares.
   */
  #after(step: () => Promise<void> | void): void {
    const g = (this.#gate ?? Promise.resolve()).then(step).catch(() => {});
    this.#gate = g;
    void g.then(() => {
      if (this.#gate === g) this.#gate = undefined;
    });
  }

  #confirmed(out: Outgoing, ok: boolean): void {
    const { msg, method } = out;
    const now = Date.now();
    const r = this.#replies?.get(msg.uniqueId);
    if (r !== undefined && ok && r.returned && now < r.deadline && !this.#stopping) {
      r.returned = false;
      const t = setTimeout(() => this.#publish(msg, method), 250);
      t.unref();
      return;
    }
    this.#replyDone(msg.uniqueId);
    this.#ctx.accounting.confirmed(msg.uniqueId, ok, now);
    this.#ctx.onConfirm(ok);
  }

  #context(requestId: string): Record<string, PyJson> {
    const out: Record<string, PyJson> = {};
    for (const k of this.#ctx.scenario.oslo.contextKeys) {
      if (k === 'request_id') out[k] = requestId;
      else if (k === 'timestamp') out[k] = new Date().toISOString().slice(0, 23);
      else if (k === 'roles') out[k] = [];
      else if (k === 'is_admin' || k === 'read_only' || k === 'show_deleted' || k === 'is_admin_project')
        out[k] = k === 'is_admin' || k === 'is_admin_project';
      else if (k === 'read_deleted') out[k] = 'no';
      else out[k] = null;
    }
    return out;
  }

  #target(spec: RpcSpec, opHost: string | undefined): string | undefined {
    const s = spec.server;
    if (s === undefined) return undefined;
    if (s === 'self') return this.plan.host;
    if (s === 'op') return opHost ?? this.#ctx.anyHost(spec.topic);
    if (s === 'any') return this.#ctx.anyHost(spec.topic);
    return s;
  }

  /** Sends one RPC as modelled; calls resolve on the reply or the timeout. */
  send(spec: RpcSpec, requestId: string, opHost?: string): Promise<CallOutcome> | undefined {
    const o = this.#ctx.scenario.oslo;
    const context = this.#context(requestId);
    const bytes = sample(spec.bytes, this.#ctx.rand);
    const host = this.plan.host;
    const key = methodKey(spec);
    if (spec.kind === 'notification') {
      const msg = sized(bytes, (pad) =>
        encodeNotification({
          exchange: this.plan.spec.controlExchange ?? o.controlExchange,
          topic: spec.topic,
          priority: spec.priority,
          eventType: spec.eventType ?? spec.method,
          publisherId: `${this.plan.binary.replace(/^nova-/, '')}.${host}`,
          payload: { host, pad },
          context,
        }),
      );
      this.#sender().#publish(msg, spec.eventType ?? spec.method);
      return undefined;
    }
    const server = this.#target(spec, opHost);
    const base = {
      exchange: this.plan.spec.controlExchange ?? o.controlExchange,
      topic: spec.topic,
      method: spec.method,
      context,
      ...(server !== undefined ? { server } : {}),
      ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}),
      ...(spec.version !== undefined ? { version: spec.version } : {}),
    };
    if (spec.kind === 'cast') {
      this.#sender().#publish(
        sized(bytes, (pad) =>
          encodeCast({ ...base, args: padArgs(spec.method, spec.object, host, pad, this.plan.binary) }),
        ),
        key,
      );
      return undefined;
    }
    if (spec.kind === 'fanout') {
      const { server: _s, exchange: _e, ...rest } = base as typeof base & { server?: string };
      this.#sender().#publish(
        sized(bytes, (pad) =>
          encodeFanout({ ...rest, args: padArgs(spec.method, spec.object, host, pad, this.plan.binary) }),
        ),
        key,
      );
      return undefined;
    }
    const msgId = uuidHex();
    const uniqueId = uuidHex();
    const timeoutS = spec.timeoutS ?? o.rpcResponseTimeoutS;
    const msg = sized(bytes, (pad) =>
      encodeCall(
        { ...base, uniqueId, args: padArgs(spec.method, spec.object, host, pad, this.plan.binary) },
        { replyQ: this.#replyQ, timeoutS, msgId },
      ),
    );
    return new Promise<CallOutcome>((resolve) => {
      if (this.#pending === undefined) this.#pending = new Map();
      this.#pending.set(msgId, {
        uniqueId,
        key,
        timeoutMs: timeoutS * 1000,
        start: performance.now(),
        timer: undefined,
        resolve,
      });
      this.#sender().#publish(msg, key, msgId, this);
    });
  }

  #endCall(msgId: string): void {
    this.#pending?.delete(msgId);
    if (this.#pending?.size === 0) this.#pending = undefined;
  }

  #replyDone(uniqueId: string): void {
    this.#replies?.delete(uniqueId);
    if (this.#replies?.size === 0) this.#replies = undefined;
  }

  /** amqpdriver._send: the reply wait (rpc_response_timeout) begins once the call is published. */
  #startReplyWait(msgId: string): void {
    const p = this.#pending?.get(msgId);
    if (p === undefined || p.timer !== undefined) return;
    p.timer = setTimeout(() => {
      this.#endCall(msgId);
      this.#ctx.accounting.timedOut(p.uniqueId, Date.now());
      const ms = performance.now() - p.start;
      this.#ctx.onCall(this.plan, p.key, 'timeout', ms);
      p.resolve({ outcome: 'timeout', ms });
    }, p.timeoutMs);
    p.timer.unref();
  }

  /** Closes the connection; with `deleteQueues`, deletes the queues only this service declared. */
  async stop(deleteQueues: boolean): Promise<void> {
    this.#stopping = true;
    this.#abandoned = this.#pending?.size ?? 0;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    for (const p of this.#pending?.values() ?? []) clearTimeout(p.timer);
    // oslo would go on waiting for the broker (retry=None); a stopping emulator cannot.
    const held = this.#held;
    this.#held = [];
    for (const out of held) this.#unsent(out);
    const ch = this.#ch;
    const conn = this.#conn;
    this.#up = false;
    if (ch !== undefined && deleteQueues) {
      for (const q of this.#queues()) {
        const shared =
          q.bind !== undefined && q.name === q.bind.routingKey && !q.name.includes(`.${this.plan.host}`);
        // a stream fanout queue is named like its exchange and shared by every server of the topic
        if (shared || topicOfFanoutExchange(q.name) !== undefined) continue;
        await ch.deleteQueue(q.name).catch(() => {});
      }
    }
    if (conn !== undefined) await conn.close().catch(() => {});
  }
}
