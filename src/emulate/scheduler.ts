/** The emulator's clock: one timer for every periodic task and operation of a run. */
import TinyQueue from 'tinyqueue';

interface Timed {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** One timer for all periodic work: thousands of services × periodic tasks would be thousands of timers. */
export class Scheduler {
  readonly #q = new TinyQueue<Timed>([], (a, b) => a.at - b.at || a.seq - b.seq);
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Largest lateness of a task since the last read: the emulator's own saturation. */
  maxLagMs = 0;

  /** Runs `fn` at `t` (performance.now() time); tasks due together run in the order given. */
  at(t: number, fn: () => void): void {
    if (this.#stopped) return;
    this.#q.push({ at: t, seq: this.#seq++, fn });
    const head = this.#q.peek();
    if (head !== undefined && head.at === t && head.seq === this.#seq - 1) this.#arm();
  }

  /** The largest lateness since the previous call. */
  takeLag(): number {
    const lag = this.maxLagMs;
    this.maxLagMs = 0;
    return lag;
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const head = this.#q.peek();
    if (head === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => this.#run(), Math.max(0, head.at - performance.now()));
  }

  #run(): void {
    this.#timer = undefined;
    const now = performance.now();
    let budget = 2000; // yield to I/O between bursts
    while (budget-- > 0) {
      const head = this.#q.peek();
      if (head === undefined || head.at > now || this.#stopped) break;
      this.#q.pop();
      if (now - head.at > this.maxLagMs) this.maxLagMs = now - head.at;
      head.fn();
    }
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}
