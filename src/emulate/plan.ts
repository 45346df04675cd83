/**
 * Expands a scenario into the list of service instances to run, and splits it deterministically
 * between shards: instance k of the global, ordered list belongs to shard k mod N, so N processes
 * given the same scenario and counts emulate disjoint sets whose union is the whole cloud.
 */
import { hostName, type Scenario, type Service } from './scenario.ts';
import type { ShardSpec } from './types.ts';

export interface ServicePlan {
  /** Position in the global list (stable across shards). */
  readonly ordinal: number;
  readonly group: string;
  readonly binary: string;
  readonly index: number;
  readonly host: string;
  readonly url: string;
  readonly spec: Service;
}

export function planServices(s: Scenario, brokerUrl: string, shard?: ShardSpec): ServicePlan[] {
  const all: ServicePlan[] = [];
  for (const spec of s.services) {
    for (let i = 1; i <= spec.count; i++) {
      all.push({
        ordinal: all.length,
        group: spec.name,
        binary: spec.binary ?? spec.name,
        index: i,
        host: hostName(spec.host, spec.name, i),
        url: spec.url ?? brokerUrl,
        spec,
      });
    }
  }
  if (shard === undefined || shard.count <= 1) return all;
  return all.filter((p) => p.ordinal % shard.count === shard.index);
}

/** "2/8" (1-based, as a person writes it) or "1/8"; Kubernetes JOB_COMPLETION_INDEX is 0-based: pass "i/N" with i = index + 1. */
export function parseShard(text: string): ShardSpec | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (m === null) return undefined;
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) return undefined;
  return { index: i - 1, count: n };
}

/** A small seeded PRNG (mulberry32): reproducible draws of delays, sizes, jitter and targets. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
