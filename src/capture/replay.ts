/**
 * `watch --replay FILE`: a recorded capture (pcap, tracing log, firehose JSONL) fed through the
 * live pipeline at its recorded pace, or N× faster, for post-mortems and demos. Records keep their
 * recorded timestamps; `clock()` maps wall time back onto capture time so the live pipeline's
 * expiry of unanswered calls (`Pipeline.tick`) happens at the same point of the story as it did.
 */
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

const eventTs = (e: CaptureEvent): number => (e.type === 'message' ? e.message.ts : e.topology.ts);

export class ReplaySource {
  readonly name: string;
  private events: CaptureEvent[] = [];
  private result: SourceResult | undefined;
  private fed = 0;
  private t0 = Number.NaN;
  private w0 = Number.NaN;
  private stopped = false;
  private readonly speed: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Resolves when every event was fed (or the replay was closed). */
  readonly done: Promise<SourceResult>;

  constructor(private readonly opts: ReplayOptions) {
    this.name = `replay:${opts.path}`;
    this.speed = opts.speed ?? 1;
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
    const collected: CaptureEvent[] = [];
    this.result = await readCaptureFile(this.opts.path, { event: (e) => collected.push(e) });
    // Sources emit in capture order per connection; interleave them by time for the replay.
    this.events = collected
      .map((e, i) => ({ e, i }))
      .sort((a, b) => eventTs(a.e) - eventTs(b.e) || a.i - b.i)
      .map((x) => x.e);
    const first = this.events[0];
    this.t0 = first === undefined ? 0 : eventTs(first);
    this.w0 = this.now();
    const paced = Number.isFinite(this.speed) && this.speed > 0;
    for (const e of this.events) {
      if (this.stopped) break;
      if (paced) {
        const due = this.w0 + (eventTs(e) - this.t0) / this.speed;
        const wait = due - this.now();
        if (wait > 1) await this.sleep(wait);
        if (this.stopped) break;
      }
      this.opts.sink.event(e);
      this.fed++;
    }
    return this.result;
  }

  /** Capture time corresponding to now (for `Pipeline.tick`). */
  clock(): number {
    if (Number.isNaN(this.w0)) return this.t0;
    if (!Number.isFinite(this.speed) || this.speed <= 0) {
      const last = this.events[this.fed - 1];
      return last === undefined ? this.t0 : eventTs(last);
    }
    return this.t0 + (this.now() - this.w0) * this.speed;
  }

  stats(): { received: number; dropped: number } {
    // A replay never drops: it waits for the pipeline (sink calls are synchronous).
    return { received: this.fed, dropped: 0 };
  }

  skipped(): SkipStats {
    return this.result?.skipped ?? { bytes: 0, frames: 0, records: 0, issues: [] };
  }

  get total(): number {
    return this.events.length;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.done.catch(() => undefined);
  }
}
