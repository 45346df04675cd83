/**
 * Prometheus metrics from decoded RPC traffic.
 *
 * Two families:
 * - oslo.metrics' own names, labels and buckets (openstack/oslo.metrics,
 *   `oslo_metrics/metrics/oslo_messaging.py`), so dashboards made for oslo.metrics work unchanged.
 *   The client side is derived from what the caller does on the wire (call publish → reply
 *   deliver), the server side from what the server does (call deliver → reply publish); oslo.messaging
 *   itself only ever sends the client ones.
 * - rpcscope's own `rpcscope_*`: broker queueing and server time per method, unanswered calls,
 *   NO_ROUTE returns, notifications by event type, messages and bytes by kind, per-service rates,
 *   source drops and decoder skips.
 *
 * Label values follow oslo.messaging's collector (`_metrics/client.py`), which hands Python values
 * to prometheus_client, where `str(None)` becomes "None" and `str(True)` "True".
 *
 * Cardinality: names that are unbounded by construction never become label values. Reply queues
 * (`reply_<uuid>`, one per client process, new ones all day) read `reply` wherever a topic or
 * service would be named (oslo.metrics has no label for them). The one exception is the hazard
 * gauge's `object`: it holds only the hazards present now (reset at each poll), and the queue's
 * own name is what the operator acts on (an abandoned `reply_…` queue to delete). The cap then only guards the *real* values:
 * each metric family keeps its own `maxValuesPerLabel` values per label (a burst of new methods in
 * one metric does not push a new topic of another into "other"), later values read "other", and
 * both the folded observations (`rpcscope_label_overflow_total`) and the distinct folded values
 * (`rpcscope_label_folded_series_total{metric,label}`) are counted.
 */
import { readFileSync } from 'node:fs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall, RpcMessage, SkipStats } from '../records.ts';
import { isReplyQueue } from '../wire/naming.ts';

/** oslo.metrics `rpc_processing_seconds_buckets`. */
export const OSLO_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 25.0, 50.0, 75.0, 100,
];
/** rpcscope's own latency buckets: oslo's, plus sub-10 ms steps (broker queueing is often < 1 ms). */
export const RPCSCOPE_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, ...OSLO_BUCKETS];

/** oslo.metrics `rpc_client_common_labels`. */
export const OSLO_CLIENT_LABELS = [
  'call_type',
  'exchange',
  'topic',
  'namespace',
  'version',
  'server',
  'fanout',
  'process',
  'method',
  'timeout',
] as const;
/** oslo.metrics `rpc_server_common_labels`. */
export const OSLO_SERVER_LABELS = [
  'exchange',
  'topic',
  'server',
  'endpoint',
  'namespace',
  'version',
  'method',
  'process',
] as const;

type ClientLabel = (typeof OSLO_CLIENT_LABELS)[number];
type ServerLabel = (typeof OSLO_SERVER_LABELS)[number];

export interface MetricsOptions {
  readonly registry?: Registry;
  /**
   * Keep the `server` label (the host part of `topic.host` routing keys). Off by default: a cloud has
   * one value per hypervisor. When off the label is present but empty.
   */
  readonly serverLabel?: boolean;
  /** Distinct values kept per label before new ones read "other". Default 200. */
  readonly maxValuesPerLabel?: number;
  /**
   * Client `connection_name` of a message's connection when the record lacks it (the firehose
   * names connections "ip:port -> ip:port"; the management API knows the client's own name).
   */
  readonly clientName?: (connectionId: string) => string | undefined;
  /**
   * Export prom-client's default `process_*` (CPU, memory, open fds, start time) and `nodejs_*`
   * metrics into the registry. Default true; off when several WatchMetrics share one registry.
   */
  readonly processMetrics?: boolean;
  /** The version `rpcscope_build_info` reports; default the package's own. */
  readonly version?: string;
}

/** The package version (package.json two levels up, in the checkout and in the built package). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The label value of a topic or routing-key-like name: reply queues fold into one `reply`. */
export function topicLabel(topic: string): string {
  return isReplyQueue(topic) ? 'reply' : topic;
}

/** Counters of what a source could not deliver; pulled at scrape time. */
export interface SourceCounters {
  /** Events the source lost because the pipeline could not keep up (never silent). */
  readonly dropped: number;
  readonly received: number;
}

/** Python's `str()` of an optional label value, as prometheus_client renders it. */
function py(v: string | number | boolean | undefined | null): string {
  if (v === undefined || v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** The binary name in oslo's connection_name "<binary>:<pid>:<uuid>" (no pid: that is churn). */
export function processOf(m: RpcMessage, clientName?: (connectionId: string) => string | undefined): string {
  const c = m.wire.connection;
  const name = c?.name ?? (c === undefined ? undefined : clientName?.(c.id));
  if (name === undefined) return '';
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(0, i);
}

/** The service behind a message: its process binary when known, else the topic it talks to. */
export function serviceOf(m: RpcMessage, clientName?: (connectionId: string) => string | undefined): string {
  const p = processOf(m, clientName);
  return p !== '' ? p : topicLabel(m.topic) || 'unknown';
}

/** Calls delivered to a server and not yet replied to, kept for the server-side end metrics. */
const MAX_SERVER_PENDING = 100_000;
/** Distinct server label sets shared by the pending calls (forgotten, not evicted, past it). */
const MAX_SERVER_LABEL_SETS = 10_000;

/** Distinct folded values remembered per metric and label, to count each one once. */
const MAX_FOLDED_TRACKED = 10_000;

/**
 * The cardinality cap, per metric family and label. `overflow` counts folded observations;
 * `folded` the distinct values folded into "other" per "metric\0label" (exact up to
 * MAX_FOLDED_TRACKED remembered values, then each further fold counts as a new value: an upper bound).
 */
class LabelCap {
  private readonly seen = new Map<string, Set<string>>();
  private readonly foldedSeen = new Map<string, Set<string>>();
  readonly folded = new Map<string, number>();
  overflow = 0;
  constructor(private readonly max: number) {}
  value(metric: string, label: string, v: string): string {
    const key = `${metric}\0${label}`;
    let s = this.seen.get(key);
    if (s === undefined) {
      s = new Set();
      this.seen.set(key, s);
    }
    if (s.has(v)) return v;
    if (s.size >= this.max) {
      this.overflow++;
      let f = this.foldedSeen.get(key);
      if (f === undefined) {
        f = new Set();
        this.foldedSeen.set(key, f);
      }
      if (!f.has(v)) {
        if (f.size < MAX_FOLDED_TRACKED) f.add(v);
        this.folded.set(key, (this.folded.get(key) ?? 0) + 1);
      }
      return 'other';
    }
    s.add(v);
    return v;
  }
}

/** prom-client default metrics that promtool rejects; their unsuffixed twins stay. */
const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Cap scopes: the metric families that share one set of label values. */
const CLIENT = 'oslo_messaging_rpc_client';
const SERVER = 'oslo_messaging_rpc_server';

export class WatchMetrics implements RecordSink {
  readonly name = 'metrics';
  readonly registry: Registry;
  private readonly serverLabel: boolean;
  private readonly clientName: ((connectionId: string) => string | undefined) | undefined;
  private readonly cap: LabelCap;
  private readonly sources = new Map<string, () => SourceCounters>();
  private readonly skipSources = new Map<string, () => SkipStats>();
  private readonly serverPending = new Map<string, { labels: Record<ServerLabel, string>; ts: number }>();
  /**
   * One label object per distinct label set, shared by every pending call that has it: 100,000
   * calls each holding its own object and value strings were 36 MB of a full-speed replay's heap.
   */
  private readonly serverLabelSets = new Map<string, Record<ServerLabel, string>>();
  /** Server-side starts forgotten because too many calls were pending (a reply will not end them). */
  serverPendingEvicted = 0;

  private readonly clientStart: Counter<ClientLabel>;
  private readonly clientEnd: Counter<ClientLabel>;
  private readonly clientSeconds: Histogram<ClientLabel>;
  private readonly clientException: Counter<ClientLabel | 'exception'>;
  private readonly serverStart: Counter<ServerLabel>;
  private readonly serverEnd: Counter<ServerLabel>;
  private readonly serverSeconds: Histogram<ServerLabel>;
  private readonly serverException: Counter<ServerLabel | 'exception'>;

  private readonly messages: Counter<'kind' | 'event'>;
  private readonly bytes: Counter<'kind' | 'event'>;
  private readonly serviceMessages: Counter<'service' | 'kind' | 'event'>;
  private readonly topicMessages: Counter<'exchange' | 'topic' | 'kind'>;
  private readonly notifications: Counter<'event_type' | 'priority'>;
  private readonly calls: Counter<'topic' | 'method' | 'outcome'>;
  private readonly queueSeconds: Histogram<'topic' | 'method'>;
  private readonly serverWorkSeconds: Histogram<'topic' | 'method'>;
  private readonly callSeconds: Histogram<'topic' | 'method'>;
  private readonly unanswered: Counter<'topic' | 'method' | 'reason'>;
  private readonly returned: Counter<'reply_code' | 'kind'>;
  private readonly replyNoRoute: Counter;
  private readonly heartbeats: Counter;
  private readonly hazardGauge: Gauge<'hazard' | 'object'>;

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.serverLabel = opts.serverLabel ?? false;
    this.clientName = opts.clientName;
    this.cap = new LabelCap(opts.maxValuesPerLabel ?? 200);
    const registers = [this.registry];
    const buckets = [...OSLO_BUCKETS];
    const own = [...RPCSCOPE_BUCKETS];

    this.clientStart = new Counter({
      name: 'oslo_messaging_rpc_client_invocation_start_total',
      help: 'Total number of RPC invocation start.',
      labelNames: OSLO_CLIENT_LABELS,
      registers,
    });
    this.clientEnd = new Counter({
      name: 'oslo_messaging_rpc_client_invocation_end_total',
      help: 'Total number of RPC invocation end.',
      labelNames: OSLO_CLIENT_LABELS,
      registers,
    });
    this.clientSeconds = new Histogram({
      name: 'oslo_messaging_rpc_client_processing_seconds',
      help: 'Duration of RPC processing.',
      labelNames: OSLO_CLIENT_LABELS,
      buckets,
      registers,
    });
    this.clientException = new Counter({
      name: 'oslo_messaging_rpc_client_exception_total',
      help: 'Total number of exception while RPC processing.',
      labelNames: [...OSLO_CLIENT_LABELS, 'exception'],
      registers,
    });
    this.serverStart = new Counter({
      name: 'oslo_messaging_rpc_server_invocation_start_total',
      help: 'Total number of RPC invocation start.',
      labelNames: OSLO_SERVER_LABELS,
      registers,
    });
    this.serverEnd = new Counter({
      name: 'oslo_messaging_rpc_server_invocation_end_total',
      help: 'Total number of RPC invocation end.',
      labelNames: OSLO_SERVER_LABELS,
      registers,
    });
    this.serverSeconds = new Histogram({
      name: 'oslo_messaging_rpc_server_processing_seconds',
      help: 'Duration of RPC processing.',
      labelNames: OSLO_SERVER_LABELS,
      buckets,
      registers,
    });
    this.serverException = new Counter({
      name: 'oslo_messaging_rpc_server_exception_total',
      help: 'Total number of exception while RPC processing.',
      labelNames: [...OSLO_SERVER_LABELS, 'exception'],
      registers,
    });

    this.messages = new Counter({
      name: 'rpcscope_messages_total',
      help: 'AMQP messages seen, by oslo kind and wire event (publish, deliver, return).',
      labelNames: ['kind', 'event'],
      registers,
    });
    this.bytes = new Counter({
      name: 'rpcscope_message_bytes_total',
      help: 'Body bytes seen, by oslo kind and wire event.',
      labelNames: ['kind', 'event'],
      registers,
    });
    this.serviceMessages = new Counter({
      name: 'rpcscope_service_messages_total',
      help: 'Messages by service (process binary from the AMQP connection name, else topic).',
      labelNames: ['service', 'kind', 'event'],
      registers,
    });
    this.topicMessages = new Counter({
      name: 'rpcscope_topic_messages_total',
      help: 'Published messages by exchange and topic.',
      labelNames: ['exchange', 'topic', 'kind'],
      registers,
    });
    this.notifications = new Counter({
      name: 'rpcscope_notifications_total',
      help: 'Published notifications by event type and priority.',
      labelNames: ['event_type', 'priority'],
      registers,
    });
    this.calls = new Counter({
      name: 'rpcscope_calls_total',
      help: 'Completed RPC calls (joined with their reply or given up on) by outcome.',
      labelNames: ['topic', 'method', 'outcome'],
      registers,
    });
    this.queueSeconds = new Histogram({
      name: 'rpcscope_call_queue_seconds',
      help: 'Broker queueing time of calls: call publish to delivery to the server.',
      labelNames: ['topic', 'method'],
      buckets: own,
      registers,
    });
    this.serverWorkSeconds = new Histogram({
      name: 'rpcscope_call_server_seconds',
      help: 'Server time of calls: delivery to the server to reply publish.',
      labelNames: ['topic', 'method'],
      buckets: own,
      registers,
    });
    this.callSeconds = new Histogram({
      name: 'rpcscope_call_seconds',
      help: 'Round trip of answered calls: call publish to reply (deliver when seen).',
      labelNames: ['topic', 'method'],
      buckets: own,
      registers,
    });
    this.unanswered = new Counter({
      name: 'rpcscope_unanswered_calls_total',
      help: 'Calls that got no reply before their expiration (or before the source ended).',
      labelNames: ['topic', 'method', 'reason'],
      registers,
    });
    this.returned = new Counter({
      name: 'rpcscope_returned_messages_total',
      help: 'Messages the broker returned to the publisher (Basic.Return), by reply code.',
      labelNames: ['reply_code', 'kind'],
      registers,
    });
    this.replyNoRoute = new Counter({
      name: 'rpcscope_reply_no_route_total',
      help: 'Replies returned NO_ROUTE: the caller reply queue was gone (oslo logs MessageUndeliverable).',
      registers,
    });
    this.heartbeats = new Counter({
      name: 'rpcscope_call_monitor_heartbeats_total',
      help: 'Replies with ending=false (call-monitor heartbeats).',
      registers,
    });
    this.hazardGauge = new Gauge({
      name: 'rpcscope_broker_hazard',
      help: 'Broker hazards found by polling the management API (1 = present), naming the object.',
      labelNames: ['hazard', 'object'],
      registers,
    });

    const sources = this.sources;
    new Counter({
      name: 'rpcscope_source_events_total',
      help: 'Events received from each source.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [name, get] of sources) this.inc({ source: name }, get().received);
      },
    });
    new Counter({
      name: 'rpcscope_source_dropped_total',
      help: 'Events a source lost because rpcscope could not keep up (never silent).',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [name, get] of sources) this.inc({ source: name }, get().dropped);
      },
    });
    const skips = this.skipSources;
    new Counter({
      name: 'rpcscope_decoder_skipped_total',
      help: 'Input the decoders could not use, by unit (bytes, frames, records).',
      labelNames: ['source', 'unit'],
      registers,
      collect() {
        this.reset();
        for (const [name, get] of skips) {
          const s = get();
          this.inc({ source: name, unit: 'bytes' }, s.bytes);
          this.inc({ source: name, unit: 'frames' }, s.frames);
          this.inc({ source: name, unit: 'records' }, s.records);
        }
      },
    });
    const cap = this.cap;
    new Counter({
      name: 'rpcscope_label_overflow_total',
      help: 'Observations whose label value was folded into "other" by the per-metric cardinality cap.',
      registers,
      collect() {
        this.reset();
        this.inc(cap.overflow);
      },
    });
    new Counter({
      name: 'rpcscope_label_folded_series_total',
      help: 'Distinct label values folded into "other" by the cardinality cap, by metric family and label.',
      labelNames: ['metric', 'label'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of cap.folded) {
          const i = key.indexOf('\0');
          this.inc({ metric: key.slice(0, i), label: key.slice(i + 1) }, n);
        }
      },
    });
    new Gauge({
      name: 'rpcscope_build_info',
      help: 'rpcscope build information: always 1, the version and Node.js runtime as labels.',
      labelNames: ['version', 'nodejs'],
      registers,
    }).set({ version: opts.version ?? packageVersion(), nodejs: process.versions.node }, 1);
    if (opts.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client's gauges named *_total fail `promtool check metrics` (a non-counter with the
      // counter suffix); the same figures are there without the suffix (nodejs_active_handles…).
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
  }

  /** Register a source's counters (pulled at each scrape). */
  addSource(name: string, counters: () => SourceCounters): void {
    this.sources.set(name, counters);
  }

  /** Register a decoder's skip counters (pulled at each scrape). */
  addSkips(name: string, skips: () => SkipStats): void {
    this.skipSources.set(name, skips);
  }

  private v(scope: string, label: string, value: string): string {
    return this.cap.value(scope, label, value);
  }

  private method(scope: string, m: RpcMessage): string {
    return this.v(scope, 'method', m.method ?? 'None');
  }

  /** oslo client labels of the caller side of a call/cast/fanout publish. */
  private clientLabels(m: RpcMessage): Record<ClientLabel, string> {
    const fanout = m.kind === 'fanout';
    return {
      call_type: m.kind === 'call' ? 'call' : 'cast',
      exchange: this.v(CLIENT, 'exchange', m.exchange),
      topic: this.v(CLIENT, 'topic', topicLabel(m.topic)),
      namespace: this.v(CLIENT, 'namespace', py(m.namespace)),
      version: this.v(CLIENT, 'version', py(m.version)),
      server: this.serverLabel ? this.v(CLIENT, 'server', py(m.server)) : '',
      fanout: fanout ? 'True' : 'None',
      process: this.v(CLIENT, 'process', processOf(m, this.clientName)),
      method: this.method(CLIENT, m),
      timeout: m.timeoutS !== undefined ? String(m.timeoutS) : 'None',
    };
  }

  /**
   * oslo server labels of a delivery. `server` is the host the server listens as: the part after
   * the topic in a `topic.host` queue, else the routing key's; `endpoint` (the Python class) is not on
   * the wire and reads "None"; `process` is the binary of the consuming connection.
   */
  private serverLabels(deliver: RpcMessage): Record<ServerLabel, string> {
    let server = deliver.server;
    const q = deliver.wire.queue;
    if (server === undefined && q !== undefined && q.startsWith(`${deliver.topic}.`))
      server = q.slice(deliver.topic.length + 1);
    return {
      exchange: this.v(SERVER, 'exchange', deliver.exchange),
      topic: this.v(SERVER, 'topic', topicLabel(deliver.topic)),
      server: this.serverLabel ? this.v(SERVER, 'server', py(server)) : '',
      endpoint: 'None',
      namespace: this.v(SERVER, 'namespace', py(deliver.namespace)),
      version: this.v(SERVER, 'version', py(deliver.version)),
      method: this.method(SERVER, deliver),
      process: this.v(SERVER, 'process', processOf(deliver, this.clientName)),
    };
  }

  /** Every decoded message, in capture order. */
  message(m: RpcMessage): void {
    const event = m.wire.event;
    this.messages.inc({ kind: m.kind, event });
    this.bytes.inc({ kind: m.kind, event }, m.bodySize);
    this.serviceMessages.inc({
      service: this.v('rpcscope_service_messages', 'service', serviceOf(m, this.clientName)),
      kind: m.kind,
      event,
    });
    if (event === 'return') {
      this.returned.inc({ reply_code: String(m.wire.replyCode ?? 0), kind: m.kind });
      // AMQP 0-9-1 §1.8.3.8 Basic.Return 312 NO_ROUTE: a mandatory reply whose reply_<id> queue is gone.
      if (m.wire.replyCode === 312 && (m.kind === 'reply' || m.wire.routingKey.startsWith('reply_')))
        this.replyNoRoute.inc();
      return;
    }
    if (event === 'publish') {
      this.topicMessages.inc({
        exchange: this.v('rpcscope_topic_messages', 'exchange', m.exchange),
        topic: this.v('rpcscope_topic_messages', 'topic', topicLabel(m.topic)),
        kind: m.kind,
      });
      switch (m.kind) {
        case 'call':
          this.clientStart.inc(this.clientLabels(m));
          break;
        case 'cast':
        case 'fanout': {
          // oslo counts start and end around the send of a cast; there is nothing to wait for.
          const l = this.clientLabels(m);
          this.clientStart.inc(l);
          this.clientEnd.inc(l);
          break;
        }
        case 'notification':
          this.notifications.inc({
            event_type: this.v('rpcscope_notifications', 'event_type', m.eventType ?? 'None'),
            priority: this.v('rpcscope_notifications', 'priority', m.priority ?? 'None'),
          });
          break;
        case 'reply':
          if (m.ending === false) this.heartbeats.inc();
          this.serverReplied(m);
          break;
        default:
          break;
      }
      return;
    }
    // deliver: the server starts working on a call, cast or fanout copy.
    if (m.kind === 'call' || m.kind === 'cast' || m.kind === 'fanout') {
      const labels = this.serverLabels(m);
      this.serverStart.inc(labels);
      if (m.kind === 'call' && m.msgId !== undefined) {
        // Remembered until the server's reply: the server side ends there whether or not the
        // caller still waits (a reply after the caller's timeout is still the server's end).
        if (this.serverPending.size >= MAX_SERVER_PENDING) {
          const oldest = this.serverPending.keys().next().value;
          if (oldest !== undefined) this.serverPending.delete(oldest);
          this.serverPendingEvicted++;
        }
        if (!this.serverPending.has(m.msgId))
          this.serverPending.set(m.msgId, { labels: this.sharedServerLabels(labels), ts: m.wire.ts });
      }
    }
  }

  private sharedServerLabels(labels: Record<ServerLabel, string>): Record<ServerLabel, string> {
    const key = OSLO_SERVER_LABELS.map((l) => labels[l]).join('\u0000');
    const known = this.serverLabelSets.get(key);
    if (known !== undefined) return known;
    // Entries keep the object they were given: clearing only stops the sharing for a while.
    if (this.serverLabelSets.size >= MAX_SERVER_LABEL_SETS) this.serverLabelSets.clear();
    this.serverLabelSets.set(key, labels);
    return labels;
  }

  /** A final reply publish: the server invocation of its call ended. */
  private serverReplied(r: RpcMessage): void {
    if (r.msgId === undefined || r.ending === false) return;
    const p = this.serverPending.get(r.msgId);
    if (p === undefined) return;
    this.serverPending.delete(r.msgId);
    this.serverEnd.inc(p.labels);
    this.serverSeconds.observe(p.labels, Math.max(0, r.wire.ts - p.ts) / 1000);
    if (r.failure !== undefined)
      this.serverException.inc({ ...p.labels, exception: this.v(SERVER, 'exception', r.failure.class) });
  }

  /** A reply found NO_ROUTE without a Basic.Return on the wire (firehose; see no-route.ts). */
  replyNotRouted(_m: RpcMessage): void {
    this.replyNoRoute.inc();
  }

  /** Every finished call (answered, failed, returned or given up on). */
  call(c: RpcCall): void {
    const m = c.call;
    const cl = this.clientLabels(m);
    // rpcscope_calls_total and the call histograms share one scope: one call, one label set.
    const topic = this.v('rpcscope_calls', 'topic', topicLabel(m.topic));
    const method = this.method('rpcscope_calls', m);
    this.calls.inc({ topic, method, outcome: c.outcome });
    // oslo's collector is a context manager: end and duration are sent even when the call raised.
    this.clientEnd.inc(cl);
    if (c.outcome === 'unanswered' || c.outcome === 'no-route') {
      this.clientException.inc({ ...cl, exception: 'MessagingTimeout' });
      const timeoutMs = m.expirationMs ?? (m.timeoutS !== undefined ? m.timeoutS * 1000 : undefined);
      if (timeoutMs !== undefined) this.clientSeconds.observe(cl, timeoutMs / 1000);
      this.unanswered.inc({ topic, method, reason: c.unansweredReason ?? c.outcome });
    } else if (c.latencyMs !== undefined) {
      this.clientSeconds.observe(cl, c.latencyMs / 1000);
      this.callSeconds.observe({ topic, method }, c.latencyMs / 1000);
    }
    if (c.outcome === 'remote-error') {
      const exception = this.v(CLIENT, 'exception', c.reply?.failure?.class ?? 'RemoteError');
      this.clientException.inc({ ...cl, exception });
    }
    if (c.queueMs !== undefined) this.queueSeconds.observe({ topic, method }, c.queueMs / 1000);
    if (c.serverMs !== undefined) this.serverWorkSeconds.observe({ topic, method }, c.serverMs / 1000);
  }

  /** Replace the hazard gauges with the current list (absent hazards disappear). */
  hazards(list: readonly { readonly kind: string; readonly object: string }[]): void {
    this.hazardGauge.reset();
    for (const h of list)
      this.hazardGauge.set(
        { hazard: h.kind, object: this.v('rpcscope_broker_hazard', 'object', h.object) },
        1,
      );
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
