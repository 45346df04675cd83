/**
 * The shared data model of rpcscope: every source produces CaptureEvents, the oslo decoder turns
 * WireMessages into RpcMessages, the correlator joins them into RpcCalls, and every output
 * (report, spec, metrics, store, emulator model) reads these records.
 *
 * Times are epoch milliseconds as floats (pcap gives µs/ns; the tracing log ms).
 */

/** Where a record came from; kept on every record so outputs can say what they saw. */
export type SourceKind = 'pcap' | 'tracing' | 'firehose' | 'tcpdump' | 'emulator';

/** An AMQP connection as seen on the wire or named by the broker. */
export interface ConnectionRef {
  /** Stable key within one capture, e.g. "127.0.0.1:54838 -> 127.0.0.1:5672". */
  readonly id: string;
  /** "ip:port" of the client side. */
  readonly client: string;
  /** "ip:port" of the broker side. */
  readonly server: string;
  readonly vhost?: string;
  readonly user?: string;
  /** The client's `connection_name` property (oslo sets "<binary>:<pid>:<uuid>"), when seen. */
  readonly name?: string;
  /** The client's `product` property (py-amqp, amqplib...), when seen. */
  readonly product?: string;
}

/** AMQP 0-9-1 basic properties (§1.8.2 of the spec, Basic class content header). */
export interface AmqpProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** Milliseconds as a string, as on the wire; oslo sets it to the call timeout. */
  expiration?: string;
  messageId?: string;
  /** Seconds since epoch, as on the wire. */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  /** Deprecated in 0-9-1 (flag bit 2), kept so every property on the wire is represented. */
  clusterId?: string;
}

/**
 * publish: Basic.Publish (client → broker) or a firehose/tracing `published` record.
 * deliver: Basic.Deliver or Basic.GetOk (broker → client) or a `received` record.
 * return: Basic.Return (broker → client), e.g. NO_ROUTE for a reply to a vanished queue.
 */
export type WireEvent = 'publish' | 'deliver' | 'return';

/** One AMQP message as seen on the wire or in the firehose. Bodies are raw and never leave the decoder. */
export interface WireMessage {
  /** Order of this record within its source (0-based). */
  readonly seq: number;
  readonly ts: number;
  readonly source: SourceKind;
  readonly event: WireEvent;
  readonly connection?: ConnectionRef;
  readonly channel?: number;
  readonly exchange: string;
  readonly routingKey: string;
  /** deliver: the queue it came from (pcap: from the consumer tag's Basic.Consume; tracing: `queue`). */
  readonly queue?: string;
  /** publish, tracing/firehose only: where the broker routed it ([] = unroutable). */
  readonly routedQueues?: readonly string[];
  readonly mandatory?: boolean;
  readonly redelivered?: boolean;
  readonly consumerTag?: string;
  /** return only: AMQP reply code (312 NO_ROUTE) and text. */
  readonly replyCode?: number;
  readonly replyText?: string;
  readonly properties: AmqpProperties;
  readonly body: Uint8Array;
  readonly bodySize: number;
  /** Broker node when known (tracing/firehose `node`). */
  readonly node?: string;
}

/** Topology facts a pcap shows besides messages; they tell which service sits behind a connection. */
export type TopologyEvent =
  | {
      readonly type: 'connection-open';
      readonly ts: number;
      readonly connection: ConnectionRef;
      readonly clientProperties: Record<string, unknown>;
    }
  | {
      readonly type: 'connection-close';
      readonly ts: number;
      readonly connection: ConnectionRef;
      readonly replyCode?: number;
      readonly replyText?: string;
    }
  | {
      readonly type: 'queue-declare';
      readonly ts: number;
      readonly connection?: ConnectionRef;
      readonly queue: string;
      readonly durable: boolean;
      readonly exclusive: boolean;
      readonly autoDelete: boolean;
      readonly arguments: Record<string, unknown>;
    }
  | {
      readonly type: 'exchange-declare';
      readonly ts: number;
      readonly connection?: ConnectionRef;
      readonly exchange: string;
      readonly exchangeType: string;
      readonly durable: boolean;
      readonly autoDelete: boolean;
      readonly arguments: Record<string, unknown>;
    }
  | {
      readonly type: 'queue-bind';
      readonly ts: number;
      readonly connection?: ConnectionRef;
      readonly queue: string;
      readonly exchange: string;
      readonly routingKey: string;
    }
  | {
      readonly type: 'consume';
      readonly ts: number;
      readonly connection?: ConnectionRef;
      readonly channel: number;
      readonly queue: string;
      readonly consumerTag: string;
    };

export type CaptureEvent =
  | { readonly type: 'message'; readonly message: WireMessage }
  | { readonly type: 'topology'; readonly topology: TopologyEvent };

/** A place in the input where something could not be decoded; never silent. */
export interface DecodeIssue {
  /** File name or source label. */
  readonly input: string;
  /** Byte offset in the file (pcap) or stream. */
  readonly offset?: number;
  /** 1-based line (JSON logs). */
  readonly line?: number;
  readonly message: string;
}

/** What a source could not use, counted. Matches `skipped` in `report --json`. */
export interface SkipStats {
  bytes: number;
  frames: number;
  records: number;
  /** The first few issues with their place; the counts above are complete. */
  issues: DecodeIssue[];
}

/** Anything that receives capture events: the pipeline, a file writer, a test collector. */
export interface CaptureSink {
  event(e: CaptureEvent): void;
}

/** oslo.messaging meaning of a wire message. */
export type RpcKind = 'call' | 'cast' | 'fanout' | 'reply' | 'notification' | 'other';

/** A remote exception carried in a reply's `failure` (oslo.messaging serialize_remote_exception). */
export interface RemoteFailure {
  readonly class: string;
  readonly module?: string;
  readonly message: string;
}

/**
 * What a neutron message's arguments or payload tell without being copied out
 * (src/wire/oslo/hints.ts): resource ids it acts on, the agent reporting its state.
 */
export interface MessageHints {
  /**
   * Dashed UUIDs in the arguments / payload (networks, ports, routers, devices…), lower case; on
   * nova's compute RPC the instance uuids only.
   */
  readonly ids?: readonly string[];
  /** `report_state`'s agent_state: the agent's binary, host and agent_type. */
  readonly agent?: { readonly binary: string; readonly host?: string; readonly agentType?: string };
  /**
   * nova's move operations, from their arguments (src/wire/oslo/hints.ts novaHints):
   * `resize` — migrate_server's flavor differs from the instance's (false: a cold migrate, which
   * passes the current flavor); `live` — migrate_server's `live`; `recreate` — rebuild_instance's
   * `recreate` (true: an evacuation).
   */
  readonly move?: { readonly resize?: boolean; readonly live?: boolean; readonly recreate?: boolean };
}

/** The oslo.messaging meaning of one WireMessage. The context is redacted. */
export interface RpcMessage {
  readonly wire: Omit<WireMessage, 'body'>;
  readonly kind: RpcKind;
  /** '2.0' (oslo envelope), '1.0' (bare JSON dict), or 'none' (not oslo). */
  readonly envelope: '2.0' | '1.0' | 'none';
  readonly exchange: string;
  /** call/cast: routing key before the first '.'; fanout: exchange without `_fanout`; notification: topic part of key. */
  readonly topic: string;
  /** call/cast: routing key after the first '.' (host names contain dots). */
  readonly server?: string;
  readonly method?: string;
  /** nova-object RPC: "Instance.save"; `objmethod` of object_action etc. */
  readonly object?: string;
  readonly namespace?: string;
  readonly version?: string;
  readonly msgId?: string;
  readonly replyQ?: string;
  readonly uniqueId?: string;
  /** `_timeout` of a call in seconds when set. */
  readonly timeoutS?: number;
  /** AMQP expiration in ms (oslo: the call timeout). */
  readonly expirationMs?: number;
  readonly requestId?: string;
  readonly globalRequestId?: string;
  /** notification: event type, priority (info, error...), publisher id. */
  readonly eventType?: string;
  readonly priority?: string;
  readonly publisherId?: string;
  /** reply: `ending` false = call-monitor heartbeat or a non-final streamed chunk. */
  readonly ending?: boolean;
  readonly failure?: RemoteFailure;
  /** Redacted `_context_*` (without the prefix). */
  readonly context: Readonly<Record<string, unknown>>;
  readonly bodySize: number;
  /** neutron calls, casts, fanouts and notifications: resource ids and agent state (MessageHints). */
  readonly hints?: MessageHints;
}

export type CallOutcome = 'ok' | 'remote-error' | 'unanswered' | 'no-route';

/** A call joined with its reply. */
export interface RpcCall {
  readonly call: RpcMessage;
  /** The first delivery of the call to a server, when the capture shows it. */
  readonly delivered?: RpcMessage;
  readonly reply?: RpcMessage;
  /** Delivery of the reply to the caller, when seen. */
  readonly replyDelivered?: RpcMessage;
  /** Call-monitor heartbeats (`ending: false`) seen for this call. */
  readonly heartbeats: number;
  readonly outcome: CallOutcome;
  /** unanswered: 'expired' if the capture ran past the call's expiration, else 'capture-ended'. */
  readonly unansweredReason?: 'expired' | 'capture-ended';
  /** Call publish → reply (deliver when seen, else reply publish). */
  readonly latencyMs?: number;
  /** Split where both sides are in the capture. */
  readonly queueMs?: number;
  readonly serverMs?: number;
  readonly returnMs?: number;
}
