/**
 * OTLP/HTTP traces (`watch --otlp URL`), spans per the OpenTelemetry messaging semantic
 * conventions (messaging.system=rabbitmq):
 * - a call: the caller's `send <topic>` span (CLIENT, `messaging.operation.type=send`, name
 *   `publish`) from the call publish to the reply, under the caller's service; the server's
 *   `process <topic>` span (CONSUMER, `process`) from the delivery to the reply publish, under the
 *   server's service and a child of the caller's span; the caller's `receive reply` span
 *   (CONSUMER, `receive`, name `deliver`) from the reply publish to its delivery, also a child;
 * - a cast, fanout or notification: a `send <topic>` PRODUCER span at the publish and a
 *   `process <topic>` CONSUMER span at each delivery (oslo gives them no message id, so the two
 *   meet by request id, in one trace, not as parent and child).
 * Failed calls carry `error.type`: the remote exception class, `MessagingTimeout` for unanswered
 * calls, `MessageUndeliverable` for a reply returned NO_ROUTE (oslo's own exception names).
 *
 * Ids: the trace id is derived from the oslo request id (sha-256, first 16 bytes; the msg_id when
 * there is no request id) and the caller's span id from the msg_id, so the server's span, written
 * when the reply is published, names a parent written later, when the call finishes; and spans of
 * the same request from two rpcscope processes (two vhosts, two shards) land in one trace.
 *
 * `service.name` is a resource attribute, so each service gets its own TracerProvider, all
 * exporting through one exporter. The endpoint and headers follow the OTel SDK environment
 * (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT / _HEADERS, OTEL_SERVICE_NAME); a base URL gets
 * `/v1/traces` appended as the SDKs do. Each failed export batch is counted and reported through
 * `onExportError` as it happens; nothing is dropped silently.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { parseConnectionName, serviceOfTopic } from '../correlate/services.ts';
import { RpcscopeError } from '../errors.ts';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall, RpcMessage } from '../records.ts';
import { redactUrl } from '../util/url.ts';
import { isReplyQueue } from '../wire/naming.ts';
import { redactString } from '../wire/oslo/redact.ts';

export interface OtlpOptions {
  /**
   * Collector URL: a traces endpoint (`…/v1/traces`, used as given) or a base URL
   * (`http://host:4318`, `/v1/traces` appended). Default: from the OTEL_* environment.
   */
  readonly url?: string;
  /** Service name of spans whose sender is unknown; default OTEL_SERVICE_NAME, else "rpcscope". */
  readonly serviceName?: string;
  /** Extra headers; added to (and overriding) OTEL_EXPORTER_OTLP_[TRACES_]HEADERS. */
  readonly headers?: Record<string, string>;
  /** Export batch delay (ms). */
  readonly scheduledDelayMillis?: number;
  /** The environment to read OTEL_* from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Called once per failed export batch, as it happens: spans lost and why (credentials removed). */
  readonly onExportError?: (failure: { spans: number; error: string; url: string }) => void;
}

export interface OtlpStats {
  spans: number;
  exported: number;
  failed: number;
  /** Export batches that failed. */
  failedBatches: number;
  lastError?: string;
}

export interface OtlpEndpoint {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly serviceName: string;
}

/** `/v1/traces` appended to a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is treated (OTel spec). */
function withTracesPath(base: string): string {
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** OTEL_EXPORTER_OTLP_HEADERS: `k=v,k2=v2`, keys and values percent-decoded (W3C baggage form). */
export function parseOtlpHeaders(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = decodeURIComponent(part.slice(0, i).trim());
    if (k !== '') out[k] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/**
 * The traces endpoint, headers and default service name, as the OTel SDKs resolve them: an
 * explicit URL first (a URL without a path is a base URL), then OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * (as given), then OTEL_EXPORTER_OTLP_ENDPOINT (+ `/v1/traces`), then http://localhost:4318.
 */
export function resolveOtlpEndpoint(
  opts: Pick<OtlpOptions, 'url' | 'headers' | 'serviceName' | 'env'> = {},
): OtlpEndpoint {
  const env = opts.env ?? process.env;
  const nonEmpty = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);
  let url: string;
  if (opts.url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch (e) {
      throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', `not an OTLP URL: ${redactUrl(opts.url)}`, {
        cause: e,
      });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new RpcscopeError(
        'RPCSCOPE_BAD_ARGUMENT',
        `OTLP/HTTP needs an http(s) URL: ${redactUrl(opts.url)}`,
      );
    url = parsed.pathname === '/' || parsed.pathname === '' ? withTracesPath(opts.url) : opts.url;
  } else {
    const traces = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
    const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
    url = traces ?? withTracesPath(base ?? 'http://localhost:4318');
  }
  const headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    ...(opts.headers ?? {}),
  };
  const fromResource = /(?:^|,)\s*service\.name\s*=\s*([^,]+)/.exec(env.OTEL_RESOURCE_ATTRIBUTES ?? '')?.[1];
  const serviceName =
    opts.serviceName ??
    nonEmpty(env.OTEL_SERVICE_NAME) ??
    (fromResource !== undefined ? decodeURIComponent(fromResource.trim()) : 'rpcscope');
  return { url, headers, serviceName };
}

const hex = (s: string, chars: number): string =>
  createHash('sha256').update(s).digest('hex').slice(0, chars);

/** The trace id of a request: the same request id gives the same trace everywhere. */
export function traceIdOf(requestId: string): string {
  return hex(requestId, 32);
}

/** The caller's span id of a call: from its msg_id, so the server's span can name it first. */
export function callSpanIdOf(msgId: string): string {
  return hex(`span:${msgId}`, 16);
}

/** Trace id of a message: its request id's, else its msg_id's (both sides of a call agree). */
function traceOf(m: RpcMessage): string | undefined {
  if (m.requestId !== undefined) return traceIdOf(m.requestId);
  return m.msgId !== undefined ? hex(`trace:${m.msgId}`, 32) : undefined;
}

class DerivedIdGenerator implements IdGenerator {
  nextTrace: string | undefined;
  nextSpan: string | undefined;
  generateTraceId(): string {
    const t = this.nextTrace ?? randomBytes(16).toString('hex');
    this.nextTrace = undefined;
    return t;
  }
  generateSpanId(): string {
    const s = this.nextSpan ?? randomBytes(8).toString('hex');
    this.nextSpan = undefined;
    return s;
  }
}

/** ExportResultCode.SUCCESS of @opentelemetry/core (a transitive dependency, not imported directly). */
const SUCCESS = 0;
type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly stats: OtlpStats,
    private readonly url: string,
    private readonly onError: OtlpOptions['onExportError'],
  ) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.inner.export(spans, (r) => {
      if (r.code === SUCCESS) this.stats.exported += spans.length;
      else {
        this.stats.failed += spans.length;
        this.stats.failedBatches++;
        const error = redactUrl(r.error?.message ?? 'export failed');
        this.stats.lastError = error;
        try {
          this.onError?.({ spans: spans.length, error, url: redactUrl(this.url) });
        } catch {
          // a reporting callback must not break the export pipeline
        }
      }
      done(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Several providers share the exporter: it shuts down once, after the last of them. */
class SharedExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.inner.export(spans, done);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Services with a provider of their own; later ones use the default service name. */
const MAX_SERVICES = 256;
/** Calls delivered (or replied) and not yet finished, for the server and receive spans. */
const MAX_PENDING = 100_000;

interface Pending {
  deliver?: RpcMessage;
  replyPublish?: RpcMessage;
}

type Attrs = Record<string, string | number | boolean>;

/** The service that sent (or consumed) a message: its connection name's binary when known. */
function connectionService(m: RpcMessage): string | undefined {
  const name = m.wire.connection?.name;
  return name === undefined ? undefined : parseConnectionName(name)?.service;
}

export class OtlpTraces implements RecordSink {
  readonly name = 'otlp';
  readonly endpoint: OtlpEndpoint;
  readonly stats: OtlpStats = { spans: 0, exported: 0, failed: 0, failedBatches: 0 };
  private readonly exporter: CountingExporter;
  private readonly ids = new DerivedIdGenerator();
  private readonly providers = new Map<string, TracerProvider>();
  private readonly pending = new Map<string, Pending>();
  private readonly delay: number;
  private closing: Promise<void> | undefined;

  constructor(opts: OtlpOptions = {}) {
    this.endpoint = resolveOtlpEndpoint(opts);
    this.delay = opts.scheduledDelayMillis ?? 2000;
    this.exporter = new CountingExporter(
      new OTLPTraceExporter({ url: this.endpoint.url, headers: this.endpoint.headers }),
      this.stats,
      this.endpoint.url,
      opts.onExportError,
    );
  }

  private tracer(service: string | undefined) {
    let name = service ?? this.endpoint.serviceName;
    if (!this.providers.has(name) && this.providers.size >= MAX_SERVICES) name = this.endpoint.serviceName;
    let p = this.providers.get(name);
    if (p === undefined) {
      p = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': name }),
        idGenerator: this.ids,
        spanProcessors: [
          new BatchSpanProcessor({
            exporter: new SharedExporter(this.exporter),
            // Large enough that the queue does not overflow between exports at broker rates; an
            // export failure is counted in `failed`.
            maxQueueSize: 65536,
            maxExportBatchSize: 1024,
            scheduledDelayMillis: this.delay,
          }),
        ],
      });
      this.providers.set(name, p);
    }
    return p.getTracer('rpcscope', '0.1.0');
  }

  /** Attributes every span of a message has (messaging semantic conventions). */
  private attrs(m: RpcMessage, type: 'send' | 'receive' | 'process', opName: string): Attrs {
    const a: Attrs = {
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': type,
      'messaging.operation.name': opName,
      'messaging.destination.name': m.exchange === '' ? 'amq.default' : m.exchange,
      'messaging.rabbitmq.destination.routing_key': m.wire.routingKey,
      'messaging.message.body.size': m.bodySize,
      'rpc.system': 'oslo.messaging',
      'rpc.service': isReplyQueue(m.topic) ? 'reply' : m.topic,
      'rpcscope.kind': m.kind,
    };
    if (m.method !== undefined) a['rpc.method'] = m.method;
    if (m.msgId !== undefined) a['messaging.message.id'] = m.msgId;
    if (m.server !== undefined) a['rpcscope.server'] = m.server;
    if (m.object !== undefined) a['rpcscope.object'] = m.object;
    if (m.eventType !== undefined) a['rpcscope.event_type'] = m.eventType;
    if (m.requestId !== undefined) a['openstack.request_id'] = m.requestId;
    if (m.globalRequestId !== undefined) a['openstack.global_request_id'] = m.globalRequestId;
    const broker = m.wire.connection?.server;
    if (broker !== undefined) {
      const i = broker.lastIndexOf(':');
      a['server.address'] = i < 0 ? broker : broker.slice(0, i).replace(/^\[|\]$/g, '');
      if (i >= 0 && /^\d+$/.test(broker.slice(i + 1))) a['server.port'] = Number(broker.slice(i + 1));
    }
    return a;
  }

  /** The caller's span of a call, as a parent context, whether or not it is written yet. */
  private callContext(call: RpcMessage): Context | undefined {
    const traceId = traceOf(call);
    if (traceId === undefined || call.msgId === undefined) return undefined;
    return trace.setSpanContext(context.active(), {
      traceId,
      spanId: callSpanIdOf(call.msgId),
      traceFlags: 1,
      isRemote: true,
    });
  }

  private span(
    service: string | undefined,
    name: string,
    kind: SpanKind,
    start: number,
    attributes: Attrs,
    parent: Context | undefined,
    traceId: string | undefined,
  ): Span {
    if (parent === undefined) this.ids.nextTrace = traceId;
    const span = this.tracer(service).startSpan(name, { kind, startTime: start, attributes }, parent);
    this.ids.nextTrace = undefined;
    this.ids.nextSpan = undefined;
    this.stats.spans++;
    return span;
  }

  private remember(msgId: string): Pending {
    let p = this.pending.get(msgId);
    if (p === undefined) {
      if (this.pending.size >= MAX_PENDING) {
        const oldest = this.pending.keys().next().value;
        if (oldest !== undefined) this.pending.delete(oldest);
      }
      p = {};
      this.pending.set(msgId, p);
    }
    return p;
  }

  /** Every message: server and receive spans of calls, send and process spans of the rest. */
  message(m: RpcMessage): void {
    const event = m.wire.event;
    if (event === 'return') return;
    if (m.kind === 'call') {
      if (event === 'deliver' && m.msgId !== undefined) {
        const p = this.remember(m.msgId);
        p.deliver ??= m;
      }
      return;
    }
    if (m.kind === 'reply') {
      if (m.msgId === undefined || m.ending === false) return;
      if (event === 'publish') this.serverSpan(m);
      else this.receiveSpan(m);
      return;
    }
    if (m.kind !== 'cast' && m.kind !== 'fanout' && m.kind !== 'notification') return;
    const topic = m.topic;
    const ts = m.wire.ts;
    const traceId = traceOf(m);
    if (event === 'publish') {
      const s = this.span(
        connectionService(m),
        `send ${topic}`,
        SpanKind.PRODUCER,
        ts,
        this.attrs(m, 'send', 'publish'),
        undefined,
        traceId,
      );
      s.end(ts);
    } else {
      const service = connectionService(m) ?? (m.kind === 'notification' ? undefined : serviceOfTopic(topic));
      const s = this.span(
        service,
        `process ${topic}`,
        SpanKind.CONSUMER,
        ts,
        this.attrs(m, 'process', 'process'),
        undefined,
        traceId,
      );
      s.end(ts);
    }
  }

  /** The reply publish ends the server's work: its process span, a child of the caller's. */
  private serverSpan(reply: RpcMessage): void {
    const id = reply.msgId as string;
    const p = this.pending.get(id);
    if (p === undefined || p.deliver === undefined) return;
    p.replyPublish = reply;
    const d = p.deliver;
    const service = connectionService(d) ?? serviceOfTopic(d.topic);
    const a = this.attrs(d, 'process', 'process');
    if (reply.failure !== undefined) a['error.type'] = reply.failure.class;
    const s = this.span(
      service,
      `process ${d.topic}`,
      SpanKind.CONSUMER,
      d.wire.ts,
      a,
      this.callContext(d),
      undefined,
    );
    if (reply.failure !== undefined) s.setStatus({ code: SpanStatusCode.ERROR, message: failureText(reply) });
    s.end(Math.max(d.wire.ts, reply.wire.ts));
  }

  /** The reply reaching the caller: a receive span under the caller's span. */
  private receiveSpan(replyDeliver: RpcMessage): void {
    const id = replyDeliver.msgId as string;
    const p = this.pending.get(id);
    const start = p?.replyPublish?.wire.ts ?? replyDeliver.wire.ts;
    const call = p?.deliver;
    this.pending.delete(id);
    if (call === undefined) return;
    const s = this.span(
      connectionService(replyDeliver),
      'receive reply',
      SpanKind.CONSUMER,
      start,
      this.attrs(replyDeliver, 'receive', 'deliver'),
      this.callContext(call),
      undefined,
    );
    s.end(Math.max(start, replyDeliver.wire.ts));
  }

  /** The caller's span of a finished call, with the latency split as events. */
  call(c: RpcCall): void {
    const m = c.call;
    const start = m.wire.ts;
    const timeoutMs = m.expirationMs ?? (m.timeoutS !== undefined ? m.timeoutS * 1000 : undefined);
    const end =
      c.latencyMs !== undefined ? start + c.latencyMs : timeoutMs !== undefined ? start + timeoutMs : start;
    const a = this.attrs(m, 'send', 'publish');
    a['rpcscope.outcome'] = c.outcome;
    a['rpcscope.heartbeats'] = c.heartbeats;
    a['rpcscope.body_size'] = m.bodySize;
    if (c.reply?.bodySize !== undefined) a['rpcscope.reply_size'] = c.reply.bodySize;
    if (c.outcome === 'remote-error') a['error.type'] = c.reply?.failure?.class ?? 'RemoteError';
    else if (c.outcome === 'unanswered') a['error.type'] = 'MessagingTimeout';
    else if (c.outcome === 'no-route') a['error.type'] = 'MessageUndeliverable';
    if (m.msgId !== undefined) this.ids.nextSpan = callSpanIdOf(m.msgId);
    // The caller's service: its publishing connection, else the one its reply reached (oslo
    // publishes on pooled connections and consumes replies on another, either may be unnamed).
    const service =
      connectionService(m) ??
      (c.replyDelivered !== undefined ? connectionService(c.replyDelivered) : undefined);
    const span = this.span(service, `send ${m.topic}`, SpanKind.CLIENT, start, a, undefined, traceOf(m));
    if (c.queueMs !== undefined) span.addEvent('delivered', { queue_ms: c.queueMs }, start + c.queueMs);
    if (c.queueMs !== undefined && c.serverMs !== undefined)
      span.addEvent('reply.published', { server_ms: c.serverMs }, start + c.queueMs + c.serverMs);
    if (c.latencyMs !== undefined && c.returnMs !== undefined)
      span.addEvent('reply.delivered', { return_ms: c.returnMs }, start + c.latencyMs);
    if (c.outcome === 'remote-error' && c.reply !== undefined)
      span.setStatus({ code: SpanStatusCode.ERROR, message: failureText(c.reply) });
    else if (c.outcome !== 'ok')
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message:
          c.outcome === 'no-route' ? 'reply returned NO_ROUTE' : `unanswered (${c.unansweredReason ?? ''})`,
      });
    span.end(end);
  }

  /** Exports what is queued. A failed export does not reject: it is counted and reported. */
  async flush(): Promise<void> {
    const results = await Promise.allSettled([...this.providers.values()].map((p) => p.forceFlush()));
    for (const r of results)
      if (r.status === 'rejected')
        this.stats.lastError = redactUrl(r.reason instanceof Error ? r.reason.message : String(r.reason));
  }

  close(): Promise<void> {
    // A flush that fails has already been counted in `failed` by the exporter wrapper.
    this.closing ??= this.flush()
      .then(() => Promise.all([...this.providers.values()].map((p) => p.shutdown())))
      .then(() => this.exporter.shutdown());
    return this.closing;
  }
}

/** A remote failure as a span status message: class and message, secrets masked, bounded. */
function failureText(reply: RpcMessage): string {
  const f = reply.failure;
  return redactString(`${f?.class ?? 'RemoteError'}: ${f?.message ?? ''}`).slice(0, 500);
}
