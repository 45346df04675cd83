/**
 * Per-second RPC health and the time each fault took to heal: calls are bucketed by the second
 * they were SENT (a call that times out belongs to when it was made), success rate = answered
 * without timeout / all calls of the bucket, latency = median of the answered ones. A fault is
 * recovered at the first second after its start from which every bucket for `holdS` seconds is
 * back to the pre-fault level. Pure.
 */

export interface CallSample {
  /** Epoch ms when the call was sent. */
  readonly sentAt: number;
  readonly ok: boolean;
  readonly latencyMs: number;
}

export interface Bucket {
  /** Seconds since t0. */
  readonly t: number;
  calls: number;
  ok: number;
  /** Median latency of successful calls (ms). */
  p50Ms?: number;
  p99Ms?: number;
}

export function bucketize(calls: readonly CallSample[], t0: number, endS: number): Bucket[] {
  const n = Math.max(0, Math.ceil(endS));
  const lat: number[][] = Array.from({ length: n }, () => []);
  const out: Bucket[] = Array.from({ length: n }, (_, t) => ({ t, calls: 0, ok: 0 }));
  for (const c of calls) {
    const i = Math.floor((c.sentAt - t0) / 1000);
    const b = out[i];
    if (b === undefined) continue;
    b.calls++;
    if (c.ok) {
      b.ok++;
      lat[i]!.push(c.latencyMs);
    }
  }
  for (const [i, b] of out.entries()) {
    const l = lat[i]!.sort((a, z) => a - z);
    if (l.length > 0) {
      b.p50Ms = l[Math.floor(l.length / 2)]!;
      b.p99Ms = l[Math.min(l.length - 1, Math.floor(l.length * 0.99))]!;
    }
  }
  return out;
}

export interface Baseline {
  readonly successRate: number;
  readonly p50Ms: number;
}

/** Success rate and median latency over [fromS, toS). */
export function baseline(buckets: readonly Bucket[], fromS: number, toS: number): Baseline | undefined {
  let calls = 0;
  let ok = 0;
  const p50s: number[] = [];
  for (const b of buckets) {
    if (b.t < fromS || b.t >= toS) continue;
    calls += b.calls;
    ok += b.ok;
    if (b.p50Ms !== undefined) p50s.push(b.p50Ms);
  }
  if (calls === 0 || p50s.length === 0) return undefined;
  p50s.sort((a, z) => a - z);
  return { successRate: ok / calls, p50Ms: p50s[Math.floor(p50s.length / 2)]! };
}

/** Is one bucket back to the baseline (success within 1 point, median latency at most 2× + 20 ms)? */
export function healthy(b: Bucket, base: Baseline): boolean {
  if (b.calls === 0) return false;
  if (b.ok / b.calls < base.successRate - 0.01) return false;
  return b.p50Ms !== undefined && b.p50Ms <= base.p50Ms * 2 + 20;
}

/** Seconds from the fault's start until RPC is healthy for holdS seconds; undefined if never. */
export function recoverySeconds(
  buckets: readonly Bucket[],
  base: Baseline,
  faultS: number,
  holdS = 5,
): number | undefined {
  const start = Math.floor(faultS);
  for (let t = start; t + holdS <= buckets.length; t++) {
    let ok = true;
    for (let k = t; k < t + holdS; k++) {
      const b = buckets[k];
      if (b === undefined || !healthy(b, base)) {
        ok = false;
        break;
      }
    }
    if (ok) return Math.max(0, t - faultS);
  }
  return undefined;
}
