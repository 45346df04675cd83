/**
 * Replay of a recorded capture (pcap, tracing log, firehose JSONL) into a sink at its recorded
 * pace, N× faster, or as fast as possible: `watch --replay` and the library's `ReplaySource`.
 * Records keep their recorded timestamps; `clock()` maps wall time back onto capture time so the
 * live pipeline's expiry of unanswered calls (`Pipeline.tick`) happens at the same point of the
 * story as it did.
 *
 * The file is streamed: memory stays bounded whatever its size. Readers emit in capture order per
 * connection; events of different connections are interleaved by time inside a reorder window,
 * held back and emitted sorted. The window is REORDER_MS of capture time but never more than
 * REORDER_MAX_EVENTS events: on a busy capture 2 s are tens of thousands of messages (60,000 on
 * the 1.1 GB benchmark pcap, 180 MB of bodies), while the skew the readers actually show is
 * below a millisecond (125 of its 576,628 events came after a later one, by < 0.1 ms; none in
 * the bundled nova captures). The reader awaits each feed before reading on (ReadOptions.onProgress), so
 * a paced replay never reads ahead of what the sink took: one read plus the window is held.
 */
import { stat } from 'node:fs/promises';
import { RpcscopeError } from '../errors.ts';
import type { CaptureEvent, CaptureSink, SkipStats } from '../records.ts';
import { readCaptureFile, type SourceResult } from './open.ts';

export interface ReplayOptions {
  readonly path: string;
  readonly sink: CaptureSink;
  /** 1 = recorded pace; 10 = ten times faster; Infinity = as fast as possible. */
  readonly speed?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Capture time an event is held back for events of other connections that belong before it. */
export const REORDER_MS = 2000;
/** Most events held in the reorder window; past it the oldest are emitted early. */
export const REORDER_MAX_EVENTS = 1024;

const eventTs = (e: CaptureEvent): number => (e.type === 'message' ? e.message.ts : e.topology.ts);

class Stopped extends Error {}

/** Fails like the offline commands when the file is missing or not readable (exit status 3). */
export async function checkReplayInput(path: string): Promise<void> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `cannot read the capture to replay: ${path}`, {
      cause: e,
      context: { input: path },
    });
  }
  if (st.isDirectory())
    throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `the capture to replay is a directory: ${path}`, {
      context: { input: path },
    });
}

export class ReplaySource {
  readonly name: string;
  private result: SourceResult | undefined;
  private read = 0;
  private fed = 0;
  /** The reorder window, in time order from `head` on (slots before it were emitted). */
  private held: (CaptureEvent | undefined)[] = [];
  private head = 0;
  private maxTs = Number.NEGATIVE_INFINITY;
  private lastTs = Number.NaN;
  private t0 = Number.NaN;
  private w0 = Number.NaN;
  private stopped = false;
  private readonly speed: number;
  private readonly paced: boolean;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Resolves when every event was fed (or the replay was closed); rejects when the file fails. */
  readonly done: Promise<SourceResult>;

  constructor(private readonly opts: ReplayOptions) {
    this.name = `replay:${opts.path}`;
    this.speed = opts.speed ?? 1;
    this.paced = Number.isFinite(this.speed) && this.speed > 0;
    this.now = opts.now ?? Date.now;
    this.sleep =
      opts.sleep ??
      ((ms) =>
        new Promise((resolve) => {
          setTimeout(resolve, ms);
        }));
    this.done = this.run();
  }

  private async run(): Promise<SourceResult> {
    const collect: CaptureSink = {
      event: (e) => {
        if (this.stopped) return;
        this.hold(e);
        // As fast as possible: emitted from inside the read, so an event is held for the window
        // only, not for the rest of its 4 MiB read as well.
        if (!this.paced) this.emitDue(this.maxTs - REORDER_MS, REORDER_MAX_EVENTS);
      },
    };
    try {
      this.result = await readCaptureFile(this.opts.path, collect, {
        // Paced: the read waits for the window to be paced out (backpressure).
        onProgress: () => (this.paced ? this.feed(this.maxTs - REORDER_MS, REORDER_MAX_EVENTS) : undefined),
      });
      if (this.paced) await this.feed(Number.POSITIVE_INFINITY, 0);
      else this.emitDue(Number.POSITIVE_INFINITY, 0);
    } catch (e) {
      if (!(e instanceof Stopped)) throw e;
    }
    this.held = [];
    this.head = 0;
    return (
      this.result ?? {
        input: this.opts.path,
        bytes: 0,
        packets: 0,
        connections: 0,
        skipped: { bytes: 0, frames: 0, records: 0, issues: [] },
      }
    );
  }

  /**
   * Inserts `e` in time order. Readers emit nearly in time order, so the place is found a few
   * steps from the end; at equal times an event goes after those held (one connection's order).
   */
  private hold(e: CaptureEvent): void {
    const ts = eventTs(e);
    const h = this.held;
    let i = h.length;
    while (i > this.head && eventTs(h[i - 1] as CaptureEvent) > ts) i--;
    if (i === h.length) h.push(e);
    else h.splice(i, 0, e);
    this.read++;
    if (ts > this.maxTs) this.maxTs = ts;
  }

  /** The next held event to emit: up to capture time `upTo`, or beyond it while more than `keep` are held. */
  private due(upTo: number, keep: number): CaptureEvent | undefined {
    const e = this.held[this.head];
    if (e === undefined) return undefined;
    return eventTs(e) <= upTo || this.held.length - this.head > keep ? e : undefined;
  }

  private emit(e: CaptureEvent): void {
    // The slot is cleared first: an emitted event is not referenced from here on.
    this.held[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.held.length) {
      this.held.splice(0, this.head);
      this.head = 0;
    }
    const ts = eventTs(e);
    if (Number.isNaN(this.t0)) {
      this.t0 = ts;
      this.w0 = this.now();
    }
    this.opts.sink.event(e);
    this.fed++;
    this.lastTs = ts;
  }

  /** Unpaced: emits what is due at once. */
  private emitDue(upTo: number, keep: number): void {
    for (let e = this.due(upTo, keep); e !== undefined && !this.stopped; e = this.due(upTo, keep))
      this.emit(e);
  }

  /** Paced: emits what is due, each at its recorded time / speed. */
  private async feed(upTo: number, keep: number): Promise<void> {
    if (this.stopped) throw new Stopped();
    for (let e = this.due(upTo, keep); e !== undefined; e = this.due(upTo, keep)) {
      if (Number.isNaN(this.t0)) {
        this.t0 = eventTs(e);
        this.w0 = this.now();
      }
      const wait = this.w0 + (eventTs(e) - this.t0) / this.speed - this.now();
      if (wait > 1) await this.sleep(wait);
      if (this.stopped) throw new Stopped();
      this.emit(e);
    }
  }

  /** Capture time corresponding to now (for `Pipeline.tick`). */
  clock(): number {
    if (Number.isNaN(this.w0)) return Number.isNaN(this.t0) ? Date.now() : this.t0;
    if (!Number.isFinite(this.speed) || this.speed <= 0) return this.lastTs;
    // Paced: capture time moves with the wall clock, but never past what was fed while the end
    // is not reached (a slow read must not expire calls whose replies are still in the file).
    const t = this.t0 + (this.now() - this.w0) * this.speed;
    return this.result === undefined ? Math.min(t, this.maxTs) : t;
  }

  /** Capture time of the last event fed (NaN before the first). */
  get lastEventMs(): number {
    return this.lastTs;
  }

  /** Events read from the file so far (every event of it once `done` resolved). */
  get total(): number {
    return this.read;
  }

  stats(): { received: number; dropped: number } {
    // A replay never drops: it waits for the sink (sink calls are synchronous).
    return { received: this.fed, dropped: 0 };
  }

  skipped(): SkipStats {
    return this.result?.skipped ?? { bytes: 0, frames: 0, records: 0, issues: [] };
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.done.catch(() => undefined);
  }
}
