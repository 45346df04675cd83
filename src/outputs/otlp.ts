/**
 * OTLP/HTTP traces (`watch --otlp URL`): one span per RPC call, all RPCs of one request (same
 * oslo request id) in one trace, the latency split as span events: `delivered` (broker queueing
 * ended, the server got the call), `reply.published` (server work ended), `reply.delivered`.
 *
 * The trace id is derived from the request id (sha-256, first 16 bytes), so traces of the same
 * request from two rpcscope processes (two vhosts, two shards) land in the same trace. Spans go
 * out through the OpenTelemetry SDK's BatchSpanProcessor and the OTLP/HTTP exporter; what the
 * exporter could not deliver is counted, never dropped silently.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { RecordSink } from '../pipeline/sink.ts';
import type { RpcCall } from '../records.ts';
import { redactUrl } from '../util/url.ts';

export interface OtlpOptions {
  /** Collector traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly url: string;
  readonly serviceName?: string;
  readonly headers?: Record<string, string>;
  /** Export batch delay (ms). */
  readonly scheduledDelayMillis?: number;
}

export interface OtlpStats {
  spans: number;
  exported: number;
  failed: number;
  lastError?: string;
}

/** The trace id of a request: the same request id gives the same trace everywhere. */
export function traceIdOf(requestId: string): string {
  return createHash('sha256').update(requestId).digest('hex').slice(0, 32);
}

class RequestIdGenerator implements IdGenerator {
  next: string | undefined;
  generateTraceId(): string {
    const t = this.next ?? randomBytes(16).toString('hex');
    this.next = undefined;
    return t;
  }
  generateSpanId(): string {
    return randomBytes(8).toString('hex');
  }
}

/** ExportResultCode.SUCCESS of @opentelemetry/core (a transitive dependency, not imported directly). */
const SUCCESS = 0;
type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly stats: OtlpStats,
  ) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.inner.export(spans, (r) => {
      if (r.code === SUCCESS) this.stats.exported += spans.length;
      else {
        this.stats.failed += spans.length;
        if (r.error !== undefined) this.stats.lastError = redactUrl(r.error.message);
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

export class OtlpTraces implements RecordSink {
  readonly name = 'otlp';
  private readonly provider: TracerProvider;
  private readonly ids = new RequestIdGenerator();
  private readonly tracer;
  readonly stats: OtlpStats = { spans: 0, exported: 0, failed: 0 };
  private closing: Promise<void> | undefined;

  constructor(opts: OtlpOptions) {
    const exporter = new CountingExporter(
      new OTLPTraceExporter({ url: opts.url, ...(opts.headers ? { headers: opts.headers } : {}) }),
      this.stats,
    );
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'rpcscope' }),
      idGenerator: this.ids,
      spanProcessors: [
        new BatchSpanProcessor({
          exporter,
          // Large enough that the queue does not overflow between exports at broker rates; an
          // export failure is counted in `failed`.
          maxQueueSize: 65536,
          maxExportBatchSize: 1024,
          scheduledDelayMillis: opts.scheduledDelayMillis ?? 2000,
        }),
      ],
    });
    this.tracer = this.provider.getTracer('rpcscope', '0.1.0');
  }

  /** One span for a finished call. */
  call(c: RpcCall): void {
    const m = c.call;
    const start = m.wire.ts;
    const timeoutMs = m.expirationMs ?? (m.timeoutS !== undefined ? m.timeoutS * 1000 : undefined);
    const end =
      c.latencyMs !== undefined ? start + c.latencyMs : timeoutMs !== undefined ? start + timeoutMs : start;
    const method = m.object !== undefined ? `${m.method ?? '?'} ${m.object}` : (m.method ?? '?');
    if (m.requestId !== undefined) this.ids.next = traceIdOf(m.requestId);
    const attrs: Record<string, string | number> = {
      'rpc.system': 'oslo.messaging',
      'rpc.service': m.topic,
      'rpc.method': m.method ?? '',
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': m.exchange,
      'messaging.rabbitmq.destination.routing_key': m.wire.routingKey,
      'messaging.message.id': m.msgId ?? '',
      'rpcscope.outcome': c.outcome,
      'rpcscope.heartbeats': c.heartbeats,
      'rpcscope.body_size': m.bodySize,
    };
    if (m.server !== undefined) attrs['rpcscope.server'] = m.server;
    if (m.object !== undefined) attrs['rpcscope.object'] = m.object;
    if (m.requestId !== undefined) attrs['openstack.request_id'] = m.requestId;
    if (m.globalRequestId !== undefined) attrs['openstack.global_request_id'] = m.globalRequestId;
    if (c.reply?.bodySize !== undefined) attrs['rpcscope.reply_size'] = c.reply.bodySize;
    const span = this.tracer.startSpan(`${m.topic} ${method}`, {
      kind: SpanKind.CLIENT,
      startTime: start,
      attributes: attrs,
    });
    this.ids.next = undefined;
    if (c.queueMs !== undefined) span.addEvent('delivered', { queue_ms: c.queueMs }, start + c.queueMs);
    if (c.queueMs !== undefined && c.serverMs !== undefined)
      span.addEvent('reply.published', { server_ms: c.serverMs }, start + c.queueMs + c.serverMs);
    if (c.latencyMs !== undefined && c.returnMs !== undefined)
      span.addEvent('reply.delivered', { return_ms: c.returnMs }, start + c.latencyMs);
    if (c.outcome === 'remote-error')
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `${c.reply?.failure?.class ?? 'RemoteError'}: ${c.reply?.failure?.message ?? ''}`.slice(
          0,
          500,
        ),
      });
    else if (c.outcome !== 'ok')
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message:
          c.outcome === 'no-route' ? 'reply returned NO_ROUTE' : `unanswered (${c.unansweredReason ?? ''})`,
      });
    span.end(end);
    this.stats.spans++;
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  close(): Promise<void> {
    // A flush that fails has already been counted in `failed` by the exporter wrapper.
    this.closing ??= this.provider
      .forceFlush()
      .catch((e: unknown) => {
        this.stats.lastError = redactUrl(e instanceof Error ? e.message : String(e));
      })
      .then(() => this.provider.shutdown());
    return this.closing;
  }
}
