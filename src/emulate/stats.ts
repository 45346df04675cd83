/** Mergeable latency histograms (log buckets, 5 % wide) so shard results merge exactly. */
import type { HistogramData, MethodStats } from './types.ts';

const BASE = 1.05;
const LOG_BASE = Math.log(BASE);

export function emptyHistogram(): HistogramData {
  return { base: BASE, counts: {}, n: 0, sum: 0, max: 0 };
}

export function record(h: HistogramData, ms: number): HistogramData {
  const v = Math.max(ms, 0.01);
  const i = Math.floor(Math.log(v) / LOG_BASE);
  const counts = h.counts as Record<string, number>;
  counts[i] = (counts[i] ?? 0) + 1;
  return Object.assign(h, { n: h.n + 1, sum: h.sum + ms, max: Math.max(h.max, ms) });
}

export function merge(a: HistogramData, b: HistogramData): HistogramData {
  const counts: Record<string, number> = { ...a.counts };
  for (const [k, v] of Object.entries(b.counts)) counts[k] = (counts[k] ?? 0) + v;
  return { base: BASE, counts, n: a.n + b.n, sum: a.sum + b.sum, max: Math.max(a.max, b.max) };
}

/** q in [0,1]; upper edge of the bucket holding the q-th value (at most 5 % high), capped at max. */
export function quantile(h: HistogramData, q: number): number | undefined {
  if (h.n === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * h.n));
  const keys = Object.keys(h.counts)
    .map(Number)
    .sort((x, y) => x - y);
  let seen = 0;
  for (const k of keys) {
    seen += h.counts[k] ?? 0;
    if (seen >= rank) return Math.min(BASE ** (k + 1), h.max);
  }
  return h.max;
}

export function newMethodStats(key: string): MethodStats {
  return { key, calls: 0, ok: 0, remoteErrors: 0, timeouts: 0, latency: emptyHistogram() };
}

export function summarise(m: MethodStats): MethodStats {
  const out: MethodStats = { ...m };
  const p50 = quantile(m.latency, 0.5);
  const p90 = quantile(m.latency, 0.9);
  const p99 = quantile(m.latency, 0.99);
  if (p50 !== undefined) out.p50Ms = p50;
  if (p90 !== undefined) out.p90Ms = p90;
  if (p99 !== undefined) out.p99Ms = p99;
  return out;
}

export function mergeMethodStats(a: MethodStats, b: MethodStats): MethodStats {
  return summarise({
    key: a.key,
    calls: a.calls + b.calls,
    ok: a.ok + b.ok,
    remoteErrors: a.remoteErrors + b.remoteErrors,
    timeouts: a.timeouts + b.timeouts,
    latency: merge(a.latency, b.latency),
  });
}
