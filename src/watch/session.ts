/**
 * One `watch` run: sources (firehose vhosts, tcpdump, replay) feed one live Pipeline; its
 * RecordSinks are the metrics, the dashboard state, the store and the OTLP exporter (one fan-out
 * that counts errors per output); the management API poller adds hazards and queue depths;
 * recent traffic is grouped into operations with their sequence diagrams. The CLI only parses
 * flags and prints.
 *
 * Nothing is dropped silently: sources count what they lose (firehose: the broker-side bounded
 * queue's dead-lettered overflow), and an output that throws is counted per output.
 */
import type { HealthUpdate } from '../broker/health.ts';
import { ReplyRouteTracker } from '../correlate/no-route.ts';
import { buildOperations, groupingCall, groupingFacts } from '../correlate/operations.ts';
import type { OtlpTraces } from '../outputs/otlp.ts';
import type { WatchMetrics } from '../outputs/prometheus.ts';
import type { EventStore } from '../outputs/store.ts';
import { livePipeline, type Pipeline } from '../pipeline/pipeline.ts';
import { type RecordSink, SinkFanOut } from '../pipeline/sink.ts';
import type { CaptureEvent, CaptureSink, RpcCall, RpcMessage, SkipStats } from '../records.ts';
import { renderSequenceSvg } from '../render/sequence-svg.ts';
import type { LiveState } from '../web/live.ts';

/** What watch needs from a source. */
export interface WatchSource {
  readonly name: string;
  stats(): { received: number; dropped: number };
  skipped?(): SkipStats;
  /** Capture time now (replay); default wall clock. */
  clock?(): number;
  close(): Promise<unknown>;
}

export interface SessionOptions {
  readonly metrics: WatchMetrics;
  readonly live: LiveState;
  readonly store?: EventStore;
  readonly otlp?: OtlpTraces;
  /** More outputs, after the ones above. */
  readonly sinks?: readonly RecordSink[];
  /** How often pending calls are expired (ms); operations are rebuilt every 2 s at most. */
  readonly tickMs?: number;
  /** Group traffic into operations for the dashboard (default true). */
  readonly operations?: boolean;
  /** An operation is shown once nothing was added to it for this long (ms). */
  readonly operationQuietMs?: number;
  readonly retentionEveryMs?: number;
  readonly onError?: (where: string, e: unknown) => void;
  /** Only records of these vhosts (`--vhost` with tcpdump or replay): see PipelineOptions.vhosts. */
  readonly vhosts?: readonly string[];
}

const RECENT_MAX = 5000;
/**
 * How far the window may pass RECENT_MAX between refreshes before its oldest are dropped: a
 * refresh keeps the newest RECENT_MAX anyway, so a small slack only spaces out the splices.
 */
const RECENT_SLACK = 1000;
const RECENT_MS = 120_000;

export class WatchSession implements CaptureSink {
  readonly pipeline: Pipeline;
  /** Every output, errors isolated and counted per output. */
  readonly outputs: SinkFanOut;
  private readonly sources: WatchSource[] = [];
  private clockSource: WatchSource | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly recentMessages: RpcMessage[] = [];
  private readonly recentCalls: RpcCall[] = [];
  /** Original → cut record of the window, so a call shares its call message's cut copy. */
  private readonly cut = new WeakMap<RpcMessage, RpcMessage>();
  private readonly shownOps = new Set<string>();
  private dirty = false;
  private lastOpsAt = 0;
  private readonly replies = new ReplyRouteTracker();
  /** "vhost/queue" of the last management API poll, and when it was taken. */
  private queues: { readonly at: number; readonly names: ReadonlySet<string> } | undefined;
  /** Errors thrown by an output (metrics, store, otlp...), by output; also pipeline, no-route, sources. */
  readonly outputErrors: Record<string, number>;
  messages = 0;
  calls = 0;
  private closed = false;

  constructor(private readonly opts: SessionOptions) {
    const ops = opts.operations !== false;
    // The session's own bookkeeping comes first, as a sink: counts, the no-route tracker, and the
    // recent window that operations are grouped from. The window holds messages cut to what
    // grouping reads (operations.ts groupingFacts): the full records' contexts and properties made
    // it most of watch's heap on a full-speed replay.
    const own: RecordSink = {
      name: 'session',
      message: (m) => {
        this.messages++;
        if (ops) {
          const c = groupingFacts(m);
          this.cut.set(m, c);
          this.recentMessages.push(c);
          // bounded between refreshes too: a replay at full speed adds tens of thousands a second
          if (this.recentMessages.length >= RECENT_MAX + RECENT_SLACK)
            this.recentMessages.splice(0, RECENT_SLACK);
          this.dirty = true;
        }
      },
      call: (c) => {
        this.calls++;
        if (ops) {
          const call = this.cut.get(c.call);
          this.recentCalls.push(call === undefined ? groupingCall(c) : groupingCall(c, call));
          if (this.recentCalls.length >= RECENT_MAX + RECENT_SLACK) this.recentCalls.splice(0, RECENT_SLACK);
        }
      },
    };
    const noRoute: RecordSink = { name: 'no-route', message: (m) => this.replies.message(m) };
    const sinks: RecordSink[] = [own, noRoute, opts.metrics, opts.live];
    if (opts.store !== undefined) sinks.push(opts.store);
    if (opts.otlp !== undefined) sinks.push(opts.otlp);
    if (opts.sinks !== undefined) sinks.push(...opts.sinks);
    this.outputs = new SinkFanOut(sinks, { onError: (where, e) => this.opts.onError?.(where, e) });
    this.outputErrors = this.outputs.errors;
    this.pipeline = livePipeline([this.outputs], opts.vhosts !== undefined ? { vhosts: opts.vhosts } : {});
    const tick = setInterval(() => this.tick(), opts.tickMs ?? 250);
    tick.unref();
    this.timers.push(tick);
    if (opts.store !== undefined) {
      const store = opts.store;
      const ret = setInterval(() => {
        store.enforceRetention().catch((e: unknown) => this.fail('store', e));
      }, opts.retentionEveryMs ?? 30_000);
      ret.unref();
      this.timers.push(ret);
    }
  }

  private fail(where: string, e: unknown): void {
    this.outputs.fail(where, e);
  }

  private out(where: string, f: () => void): void {
    this.outputs.guard(where, f);
  }

  event(e: CaptureEvent): void {
    this.out('pipeline', () => this.pipeline.event(e));
  }

  addSource(s: WatchSource): void {
    this.sources.push(s);
    if (s.clock !== undefined) this.clockSource = s;
    this.opts.metrics.addSource(s.name, () => s.stats());
    this.opts.live.addSource(s.name, () => s.stats());
    const skipped = s.skipped;
    if (skipped !== undefined) this.opts.metrics.addSkips(s.name, () => skipped.call(s));
  }

  /** Capture time: the replay's clock when replaying, else wall time. */
  now(): number {
    return this.clockSource?.clock?.() ?? Date.now();
  }

  health(u: HealthUpdate): void {
    this.queues = { at: u.ts, names: new Set(u.queues.map((q) => q.queue)) };
    this.out('metrics', () => this.opts.metrics.hazards(u.hazards));
    this.out('dashboard', () => this.opts.live.health(u));
  }

  /** Expires unanswered calls and refreshes the operations; runs on a timer, callable by tests. */
  tick(): void {
    if (this.closed) return;
    const now = this.now();
    this.out('pipeline', () => this.pipeline.tick(now));
    this.out('no-route', () => {
      const q = this.queues;
      for (const m of this.replies.sweep(now, (vhost, queue, at) =>
        q === undefined || q.at < at ? undefined : q.names.has(`${vhost}/${queue}`),
      )) {
        this.opts.metrics.replyNotRouted(m);
        this.opts.live.replyNotRouted();
      }
    });
    // Only the store is flushed each tick (appended rows become queryable); OTLP batches on its
    // own timer.
    this.out('store', () => this.opts.store?.flush());
    // Grouping re-reads the recent window: every 2 s is enough for a dashboard.
    if (this.opts.operations !== false && this.dirty && Date.now() - this.lastOpsAt >= 2000) {
      this.lastOpsAt = Date.now();
      this.out('operations', () => this.refreshOperations(now));
    }
  }

  /**
   * A finite source (replay, tcpdump) ended: pending calls get their outcome as of `endMs` (the
   * capture's end, as `rpcscope report` decides them), the operations still open are shown, and
   * every output is flushed, so /metrics and the dashboard show the final state while watch keeps
   * serving. Later events (another source) still flow; calls pending then are decided later.
   */
  async endOfInput(endMs: number): Promise<void> {
    if (this.closed) return;
    this.out('pipeline', () => this.pipeline.finish(endMs));
    this.tick();
    if (this.opts.operations !== false) {
      const quiet = this.opts.operationQuietMs ?? 3000;
      this.out('operations', () => this.refreshOperations(endMs + quiet + 1));
    }
    await this.outputs.flush();
  }

  private refreshOperations(now: number): void {
    const cut = now - RECENT_MS;
    const trim = <T>(a: T[], ts: (x: T) => number) => {
      let i = 0;
      while (i < a.length && (a.length - i > RECENT_MAX || ts(a[i] as T) < cut)) i++;
      if (i > 0) a.splice(0, i);
    };
    trim(this.recentMessages, (m) => m.wire.ts);
    trim(this.recentCalls, (c) => c.call.wire.ts);
    const { operations } = buildOperations(this.recentMessages, this.recentCalls);
    const quiet = this.opts.operationQuietMs ?? 3000;
    let pending = false;
    for (const op of operations) {
      if (this.shownOps.has(op.id)) continue;
      if (op.endMs > now - quiet) {
        pending = true;
        continue;
      }
      this.shownOps.add(op.id);
      this.opts.live.operation({
        name: op.alias !== undefined ? `${op.alias} (${op.name})` : op.name,
        requestId: op.id,
        rpcs: op.steps.length,
        durationMs: op.durationMs,
        svg: renderSequenceSvg(op, { maxSteps: 60 }),
      });
    }
    this.dirty = pending;
    if (this.shownOps.size > 10_000) this.shownOps.clear();
  }

  /** Closes the sources, expires what is pending as of now, flushes and closes the outputs. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.sources.map((s) => s.close().catch((e: unknown) => this.fail(s.name, e))));
    this.tick();
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.outputs.close();
  }
}
