/** Merges the results of N shards (`--shard i/N`) into one result for the whole emulated cloud. */
import type { AccountingCounts } from './accounting.ts';
import { mergeMethodStats } from './stats.ts';
import type { EmulationResult, MethodStats, Sample } from './types.ts';

function addCounts(a: AccountingCounts, b: AccountingCounts): AccountingCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof AccountingCounts)[]) out[k] += b[k];
  return out;
}

/** Samples are merged by time bucket (rounded to the sample interval): emulator figures add up, broker figures are taken from the first shard that has them. */
function mergeSamples(lists: readonly Sample[][]): Sample[] {
  const byT = new Map<number, Sample>();
  for (const list of lists) {
    for (const s of list) {
      const t = Math.round(s.t);
      const prev = byT.get(t);
      if (prev === undefined) {
        byT.set(t, { ...s, t });
        continue;
      }
      byT.set(t, {
        ...prev,
        servicesUp: prev.servicesUp + s.servicesUp,
        sentPerS: prev.sentPerS + s.sentPerS,
        answeredPerS: prev.answeredPerS + s.answeredPerS,
        timeoutsPerS: prev.timeoutsPerS + s.timeoutsPerS,
        ...(prev.p99Ms !== undefined || s.p99Ms !== undefined
          ? { p99Ms: Math.max(prev.p99Ms ?? 0, s.p99Ms ?? 0) }
          : {}),
        emulator: {
          rssBytes: prev.emulator.rssBytes + s.emulator.rssBytes,
          heapUsedBytes: prev.emulator.heapUsedBytes + s.emulator.heapUsedBytes,
          cpu: prev.emulator.cpu + s.emulator.cpu,
        },
        ...((prev.broker ?? s.broker) ? { broker: prev.broker ?? s.broker! } : {}),
      });
    }
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

export function mergeResults(results: readonly EmulationResult[]): EmulationResult {
  const first = results[0];
  if (first === undefined) throw new Error('mergeResults: no results');
  const methods: Record<string, MethodStats> = {};
  const accounting: Record<string, AccountingCounts> = {};
  const byGroup: Record<string, { planned: number; connected: number }> = {};
  for (const r of results) {
    for (const [k, m] of Object.entries(r.methods))
      methods[k] = methods[k] === undefined ? m : mergeMethodStats(methods[k], m);
    for (const [k, c] of Object.entries(r.accounting))
      accounting[k] = accounting[k] === undefined ? { ...c } : addCounts(accounting[k], c);
    for (const [g, v] of Object.entries(r.services.byGroup)) {
      const p = byGroup[g] ?? { planned: 0, connected: 0 };
      byGroup[g] = { planned: p.planned + v.planned, connected: p.connected + v.connected };
    }
  }
  const sum = (f: (r: EmulationResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const { shard: _s, ...rest } = first;
  return {
    ...rest,
    startedAt: results.map((r) => r.startedAt).sort()[0]!,
    endedAt: results
      .map((r) => r.endedAt)
      .sort()
      .at(-1)!,
    rampUpS: Math.max(...results.map((r) => r.rampUpS)),
    steadyS: Math.min(...results.map((r) => r.steadyS)),
    services: {
      planned: sum((r) => r.services.planned),
      connected: sum((r) => r.services.connected),
      failed: sum((r) => r.services.failed),
      upAtEnd: sum((r) => r.services.upAtEnd),
      byGroup,
    },
    methods,
    reconnects: sum((r) => r.reconnects),
    pendingCallsAtEnd: sum((r) => r.pendingCallsAtEnd ?? 0),
    publishConfirms: {
      confirmed: sum((r) => r.publishConfirms.confirmed),
      nacked: sum((r) => r.publishConfirms.nacked),
    },
    accounting,
    samples: mergeSamples(results.map((r) => r.samples)),
    emulator: {
      peakRssBytes: sum((r) => r.emulator.peakRssBytes),
      peakHeapUsedBytes: sum((r) => r.emulator.peakHeapUsedBytes),
      meanCpu: sum((r) => r.emulator.meanCpu),
      maxSchedulerLagMs: Math.max(...results.map((r) => r.emulator.maxSchedulerLagMs ?? 0)),
    },
    complete: results.every((r) => r.complete),
    stoppedBy: results.find((r) => r.stoppedBy !== 'duration')?.stoppedBy ?? 'duration',
    errors: results.flatMap((r) => r.errors).slice(0, 50),
  };
}
