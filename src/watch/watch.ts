/**
 * `rpcscope watch` as a library: builds the sources, outputs and pollers from options, starts
 * them, and stops them in order. The CLI (src/cli/watch.ts) parses flags into WatchOptions and
 * prints; tests and the benchmark call `startWatch` directly.
 */
import { HealthPoller } from '../broker/health.ts';
import { ManagementClient } from '../broker/management.ts';
import { amqpUrlForVhost, FirehoseSource } from '../capture/firehose.ts';
import { checkReplayInput, ReplaySource } from '../capture/replay.ts';
import { startTcpdump, type TcpdumpRun } from '../capture/tcpdump.ts';
import { OtlpTraces } from '../outputs/otlp.ts';
import { WatchMetrics } from '../outputs/prometheus.ts';
import { EventStore, type Retention } from '../outputs/store.ts';
import type { SkipStats } from '../records.ts';
import { boundHeapGrowth } from '../util/heap.ts';
import { parseDurationMs, parseSize as parseSizeBytes } from '../util/units.ts';
import { redactUrl } from '../util/url.ts';
import { LiveState } from '../web/live.ts';
import { type RunningDashboard, startDashboard } from '../web/server.ts';
import { WatchSession, type WatchSource } from './session.ts';

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

export type SourceSpec =
  | {
      readonly kind: 'firehose';
      readonly amqpUrl: string;
      readonly vhosts: readonly string[];
      readonly maxBacklog?: number;
    }
  | { readonly kind: 'tcpdump'; readonly iface: string; readonly port?: number }
  | { readonly kind: 'replay'; readonly path: string; readonly speed: number };

export interface WatchOptions {
  readonly source: SourceSpec;
  /** Management API base URL for hazards (undefined: derived from the AMQP URL; null: off). */
  readonly managementUrl?: string | null;
  /** Vhosts whose queues and connections are polled; default the firehose vhosts, else all. */
  readonly healthVhosts?: readonly string[];
  /** tcpdump, replay: only records of these vhosts (the firehose source has its own vhosts). */
  readonly vhosts?: readonly string[];
  readonly pollMs?: number;
  /** Dashboard + /metrics listener; undefined = no HTTP. */
  readonly http?: {
    readonly host: string;
    readonly port: number;
    /** Host names the dashboard also answers to (besides localhost and IP addresses). */
    readonly allowedHosts?: readonly string[];
  };
  readonly serverLabel?: boolean;
  readonly maxLabelValues?: number;
  readonly store?: { readonly path: string; readonly retention?: Retention };
  /**
   * OTLP traces: the collector URL (a base URL or a `…/v1/traces` endpoint). Without it, traces are
   * sent when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, as the
   * OpenTelemetry SDKs do.
   */
  readonly otlpUrl?: string;
  /** Called once per failed OTLP export batch, as it happens (credentials removed). */
  readonly onOtlpError?: (failure: { spans: number; error: string; url: string }) => void;
  readonly operations?: boolean;
  readonly sseIntervalMs?: number;
  readonly onError?: (where: string, e: unknown) => void;
  /**
   * Keep V8's heap close to what watch holds (src/util/heap.ts; default true). It sets a V8 flag
   * for the whole process: an application embedding watch may turn it off.
   */
  readonly boundHeap?: boolean;
}

export interface RunningWatch {
  readonly session: WatchSession;
  readonly metrics: WatchMetrics;
  readonly live: LiveState;
  readonly dashboard?: RunningDashboard;
  readonly poller?: HealthPoller;
  readonly store?: EventStore;
  readonly otlp?: OtlpTraces;
  /** Human description of each source, credentials removed. */
  readonly describe: readonly string[];
  /**
   * Resolves when a finite source (replay, tcpdump) has ended and everything it gave is visible:
   * pending calls decided as of its last event, every output flushed. Watch keeps serving
   * /metrics and the dashboard until `stop()`. Rejects when the source failed (the file broke).
   */
  readonly ended: Promise<void>;
  /** Counts of every source (for the final summary). */
  sourceStats(): { name: string; received: number; dropped: number }[];
  stop(): Promise<void>;
}

const EMPTY_SKIPS: SkipStats = { bytes: 0, frames: 0, records: 0, issues: [] };

/** Management URL from an AMQP URL: same host and credentials, port 15672. */
export function managementUrlFor(amqpUrl: string): string {
  const u = new URL(amqpUrl);
  const m = new URL(`http://${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:15672`);
  m.username = u.username;
  m.password = u.password;
  return m.toString().replace(/\/$/, '');
}

export async function startWatch(opts: WatchOptions): Promise<RunningWatch> {
  const onError = opts.onError ?? (() => {});
  if (opts.boundHeap !== false) boundHeapGrowth();
  let mgmt: ManagementClient | undefined;
  const mgmtUrl =
    opts.managementUrl === null
      ? undefined
      : (opts.managementUrl ??
        (opts.source.kind === 'firehose' ? managementUrlFor(opts.source.amqpUrl) : undefined));
  if (mgmtUrl !== undefined) mgmt = new ManagementClient({ url: mgmtUrl });

  const clientNames = new Map<string, string>();
  const metrics = new WatchMetrics({
    serverLabel: opts.serverLabel ?? false,
    ...(opts.maxLabelValues !== undefined ? { maxValuesPerLabel: opts.maxLabelValues } : {}),
    clientName: (id) => clientNames.get(id),
  });
  const live = new LiveState({ management: mgmt !== undefined });
  const store = opts.store !== undefined ? await EventStore.open(opts.store) : undefined;
  const otlpFromEnv =
    (
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT ??
      ''
    ).trim() !== '';
  const otlp =
    opts.otlpUrl !== undefined || otlpFromEnv
      ? new OtlpTraces({
          ...(opts.otlpUrl !== undefined ? { url: opts.otlpUrl } : {}),
          ...(opts.onOtlpError !== undefined ? { onExportError: opts.onOtlpError } : {}),
        })
      : undefined;
  const session = new WatchSession({
    metrics,
    live,
    ...(store !== undefined ? { store } : {}),
    ...(otlp !== undefined ? { otlp } : {}),
    operations: opts.operations ?? true,
    onError,
    ...(opts.vhosts !== undefined && opts.vhosts.length > 0 ? { vhosts: opts.vhosts } : {}),
  });
  if (otlp !== undefined) {
    const o = otlp;
    metrics.addSource('otlp', () => ({ received: o.stats.spans, dropped: o.stats.failed }));
  }

  const describe: string[] = [];
  const sources: WatchSource[] = [];
  let ended: Promise<void> = new Promise<void>(() => {});
  try {
    const src = opts.source;
    if (src.kind === 'firehose') {
      for (const vhost of src.vhosts) {
        const fh = await FirehoseSource.open({
          amqpUrl: src.amqpUrl,
          vhost,
          sink: session,
          ...(mgmt !== undefined ? { management: mgmt } : {}),
          ...(src.maxBacklog !== undefined ? { maxBacklog: src.maxBacklog } : {}),
          connectionName: `rpcscope-watch:${process.pid}`,
          onError: (e) => onError(`firehose ${vhost}`, e),
        });
        const name = `firehose:${vhost}`;
        const s: WatchSource = {
          name,
          stats: () => {
            const x = fh.stats();
            return { received: x.published + x.delivered, dropped: x.dropped + x.sinkErrors };
          },
          skipped: () => EMPTY_SKIPS,
          close: () => fh.close(),
        };
        sources.push(s);
        session.addSource(s);
        describe.push(`firehose of vhost ${vhost} on ${redactUrl(amqpUrlForVhost(src.amqpUrl, vhost))}`);
      }
    } else if (src.kind === 'tcpdump') {
      let events = 0;
      const counting = {
        event: (e: Parameters<WatchSession['event']>[0]) => {
          events++;
          session.event(e);
        },
      };
      const run: TcpdumpRun = startTcpdump({
        iface: src.iface,
        ...(src.port !== undefined ? { port: src.port } : {}),
        sink: counting,
      });
      await run.ready;
      const r = run;
      let result: SkipStats = EMPTY_SKIPS;
      const s: WatchSource = {
        name: `tcpdump:${src.iface}`,
        // tcpdump's own kernel drops are only known when it exits; they are in its summary line.
        stats: () => ({ received: events, dropped: 0 }),
        skipped: () => result,
        close: async () => {
          result = (await r.stop()).skipped;
        },
      };
      ended = r.done.then((x) => {
        result = x.skipped;
      });
      sources.push(s);
      session.addSource(s);
      describe.push(`tcpdump on ${src.iface} port ${src.port ?? 5672} (no broker cost)`);
    } else {
      await checkReplayInput(src.path);
      const rp = new ReplaySource({ path: src.path, sink: session, speed: src.speed });
      const s: WatchSource = {
        name: `replay:${src.path}`,
        stats: () => rp.stats(),
        skipped: () => rp.skipped(),
        clock: () => rp.clock(),
        close: () => rp.close(),
      };
      ended = rp.done.then(() => undefined);
      sources.push(s);
      session.addSource(s);
      describe.push(
        `replay of ${src.path} at ${Number.isFinite(src.speed) ? `${src.speed}×` : 'full'} speed`,
      );
    }
  } catch (e) {
    await session.close().catch(() => {});
    throw e;
  }

  // End of a finite source: decide what is pending as of its last event and flush, then serve on.
  ended = ended.then(() =>
    session.endOfInput(Number.isNaN(session.pipeline.endMs) ? session.now() : session.pipeline.endMs),
  );
  ended.catch(() => {}); // the CLI reports a failed source; unobserved here it must not crash

  let poller: HealthPoller | undefined;
  if (mgmt !== undefined) {
    const vhosts = opts.healthVhosts ?? (opts.source.kind === 'firehose' ? opts.source.vhosts : []);
    poller = new HealthPoller({
      client: mgmt,
      vhosts,
      intervalMs: opts.pollMs ?? 5000,
      onUpdate: (u) => {
        for (const [k, v] of u.clientNames) clientNames.set(k, v);
        session.health(u);
      },
      onError: (e) => {
        live.healthError(e instanceof Error ? e.message : String(e));
        onError('management API', e);
      },
    });
    poller.start();
    describe.push(`broker health from ${redactUrl(mgmtUrl ?? '')} every ${(opts.pollMs ?? 5000) / 1000} s`);
  }

  let dashboard: RunningDashboard | undefined;
  if (opts.http !== undefined) {
    try {
      dashboard = await startDashboard({
        host: opts.http.host,
        port: opts.http.port,
        ...(opts.http.allowedHosts !== undefined ? { allowedHosts: opts.http.allowedHosts } : {}),
        snapshot: () => live.snapshot(),
        metrics: () => metrics.text(),
        metricsContentType: metrics.contentType,
        ...(opts.sseIntervalMs !== undefined ? { intervalMs: opts.sseIntervalMs } : {}),
      });
    } catch (e) {
      await poller?.close();
      await session.close().catch(() => {});
      throw e;
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    session,
    metrics,
    live,
    ...(dashboard !== undefined ? { dashboard } : {}),
    ...(poller !== undefined ? { poller } : {}),
    ...(store !== undefined ? { store } : {}),
    ...(otlp !== undefined ? { otlp } : {}),
    describe,
    ended,
    sourceStats: () => sources.map((s) => ({ name: s.name, ...s.stats() })),
    stop() {
      stopping ??= (async () => {
        await poller?.close();
        await session.close();
        await dashboard?.close();
      })();
      return stopping;
    },
  };
}

/** Parses "7d", "12h", "30m", "90s", "500ms" or plain seconds into milliseconds (src/util/units.ts). */
export function parseDuration(s: string): number {
  return parseDurationMs(s);
}

/** Parses "2G", "500MB", "64KiB" or plain bytes (binary units: src/util/units.ts). */
export function parseSize(s: string): number {
  return parseSizeBytes(s);
}
