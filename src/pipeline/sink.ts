/**
 * The one output contract of the pipeline, in the spirit of OpenTelemetry's SpanExporter: an
 * output names itself and takes the records it cares about. Every method but `name` is optional,
 * so the report (messages, calls, topology), the metrics and the dashboard (messages, calls), the
 * store (messages, calls, flush, close) and the OTLP exporter (calls, flush, close) implement the
 * same small interface, and an application hands the pipeline a list instead of calling each
 * output by hand.
 */
import type { RpcCall, RpcMessage, TopologyEvent } from '../records.ts';

export interface RecordSink {
  /** Short and stable: errors are counted under it (`outputErrors` of watch, say `store`). */
  readonly name: string;
  /** Every decoded message, in the order the sources gave them. */
  message?(m: RpcMessage): void;
  /** A call joined with its reply, once its outcome is known (not in call order when live). */
  call?(c: RpcCall): void;
  /** Connections, channels and consumers as the sources saw them open and close. */
  topology?(t: TopologyEvent): void;
  /** Makes what was received visible or sent (store appenders, span batches). */
  flush?(): Promise<void> | void;
  /** Flushes and releases; called once by whoever made the sink, must be safe to call again. */
  close?(): Promise<void> | void;
}

/** Told of each error a sink throws, with the sink's name. */
export type SinkErrorHandler = (sink: string, e: unknown) => void;

export interface FanOutOptions {
  /**
   * Given: a sink that throws is counted in `errors`, reported here, and the other sinks still get
   * the record (live: one broken output must not stop the rest). Absent: the error propagates
   * (offline: an output that throws is a bug and fails the command).
   */
  readonly onError?: SinkErrorHandler;
}

/**
 * Delivers each record to many sinks, in their order, and counts errors per sink name. It is a
 * RecordSink itself, so it nests. The per-method lists are built once: the hot path does not test
 * for optional methods on every record.
 */
export class SinkFanOut implements RecordSink {
  readonly name = 'fan-out';
  /** Errors thrown (or rejected) by each sink, by sink name; also what `fail()` counted. */
  readonly errors: Record<string, number> = {};
  readonly sinks: readonly RecordSink[];
  readonly #onError: SinkErrorHandler | undefined;
  readonly #messages: RecordSink[];
  readonly #calls: RecordSink[];
  readonly #topology: RecordSink[];
  #closed = false;

  constructor(sinks: readonly RecordSink[], opts: FanOutOptions = {}) {
    this.sinks = [...sinks];
    this.#onError = opts.onError;
    this.#messages = sinks.filter((s) => s.message !== undefined);
    this.#calls = sinks.filter((s) => s.call !== undefined);
    this.#topology = sinks.filter((s) => s.topology !== undefined);
  }

  /** Counts an error against `sink` and reports it; for work beside the sinks guarded the same way. */
  fail(sink: string, e: unknown): void {
    this.errors[sink] = (this.errors[sink] ?? 0) + 1;
    this.#onError?.(sink, e);
  }

  /** Runs `f`, counting what it throws against `sink` when errors are isolated. */
  guard(sink: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.#caught(sink, e);
    }
  }

  #caught(sink: string, e: unknown): void {
    if (this.#onError === undefined) throw e;
    this.fail(sink, e);
  }

  // try/catch inline rather than guard(): no closure per record on the hot path.
  message(m: RpcMessage): void {
    for (const s of this.#messages)
      try {
        s.message?.(m);
      } catch (e) {
        this.#caught(s.name, e);
      }
  }

  call(c: RpcCall): void {
    for (const s of this.#calls)
      try {
        s.call?.(c);
      } catch (e) {
        this.#caught(s.name, e);
      }
  }

  topology(t: TopologyEvent): void {
    for (const s of this.#topology)
      try {
        s.topology?.(t);
      } catch (e) {
        this.#caught(s.name, e);
      }
  }

  async #each(f: (s: RecordSink) => Promise<void> | void, order: readonly RecordSink[]): Promise<void> {
    for (const s of order)
      try {
        await f(s);
      } catch (e) {
        this.#caught(s.name, e);
      }
  }

  async flush(): Promise<void> {
    await this.#each((s) => s.flush?.(), this.sinks);
  }

  /** Closes every sink once, the last given first (as a stack unwinds: later sinks may use earlier ones). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#each((s) => s.close?.(), [...this.sinks].reverse());
  }
}

/** Counts messages and calls as they pass: progress lines, benchmarks, tests. */
export class RecordCounter implements RecordSink {
  readonly name = 'count';
  messages = 0;
  calls = 0;

  message(): void {
    this.messages++;
  }

  call(): void {
    this.calls++;
  }
}
