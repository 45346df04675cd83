/**
 * Toxics after Toxiproxy (github.com/Shopify/toxiproxy, README "Toxics"), applied by the fault
 * proxy to one direction of a TCP stream: `upstream` is client → broker, `downstream` broker →
 * client. Pure planning functions: given a chunk and the toxic, when and in which pieces it may
 * pass; the proxy does the I/O.
 */

export type Direction = 'upstream' | 'downstream';

export type Toxic =
  /** Adds latency ± jitter (uniform) to every chunk; order is kept. */
  | { readonly type: 'latency'; readonly latencyMs: number; readonly jitterMs?: number | undefined }
  /** Limits the rate to `rateKBps` kilobytes per second. */
  | { readonly type: 'bandwidth'; readonly rateKBps: number }
  /**
   * Blackhole: no data passes (it is held, as Toxiproxy does, so the stream stays well-formed if the
   * toxic is removed); with timeoutMs > 0 the connection is closed after that time.
   */
  | { readonly type: 'timeout'; readonly timeoutMs: number }
  /** Resets connections with a TCP RST after timeoutMs (new connections too, while active). */
  | { readonly type: 'reset_peer'; readonly timeoutMs: number }
  /** Cuts chunks into pieces of avgSize ± sizeVariation bytes, delayUs apart. */
  | {
      readonly type: 'slicer';
      readonly avgSize: number;
      readonly sizeVariation?: number | undefined;
      readonly delayUs?: number | undefined;
    }
  /** Closes the connection once `bytes` have passed in this direction. */
  | { readonly type: 'limit_data'; readonly bytes: number };

export type ToxicType = Toxic['type'];

/** When a chunk may leave: latency and bandwidth compose; `prevRelease` keeps the stream ordered. */
export function releaseAt(
  toxics: readonly Toxic[],
  now: number,
  size: number,
  prevRelease: number,
  rand: () => number,
): number {
  let t = now;
  for (const x of toxics) {
    if (x.type === 'latency') {
      const j = x.jitterMs ?? 0;
      t += Math.max(0, x.latencyMs + (j === 0 ? 0 : (rand() * 2 - 1) * j));
    }
  }
  t = Math.max(t, prevRelease);
  for (const x of toxics) {
    if (x.type === 'bandwidth' && x.rateKBps > 0) t += (size / (x.rateKBps * 1024)) * 1000;
  }
  return t;
}

/** Piece sizes of a chunk under a slicer toxic (sum = size, each ≥ 1). */
export function slices(size: number, avgSize: number, variation: number, rand: () => number): number[] {
  const out: number[] = [];
  let left = size;
  while (left > 0) {
    const want = Math.max(1, Math.round(avgSize + (variation === 0 ? 0 : (rand() * 2 - 1) * variation)));
    const n = Math.min(want, left);
    out.push(n);
    left -= n;
  }
  return out;
}

/** Human form for reports: "latency 500±100ms". */
export function describeToxic(t: Toxic): string {
  switch (t.type) {
    case 'latency':
      return `latency ${t.latencyMs}${t.jitterMs ? `±${t.jitterMs}` : ''}ms`;
    case 'bandwidth':
      return `bandwidth ${t.rateKBps}KB/s`;
    case 'timeout':
      return `blackhole${t.timeoutMs > 0 ? ` (close after ${t.timeoutMs}ms)` : ''}`;
    case 'reset_peer':
      return `reset after ${t.timeoutMs}ms`;
    case 'slicer':
      return `slicer ${t.avgSize}±${t.sizeVariation ?? 0}B`;
    case 'limit_data':
      return `limit_data ${t.bytes}B`;
  }
}
