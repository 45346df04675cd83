/**
 * `--find-limit`: run the scenario with more and more computes until an objective breaks
 * (e.g. "p99<1s,timeouts<0.1%"), and report the largest count that held and what broke first.
 */
import { RpcscopeError } from '../errors.ts';
import { emptyHistogram, merge, quantile } from './stats.ts';
import type { EmulationResult } from './types.ts';

export type Objective =
  | { readonly type: 'latency'; readonly q: number; readonly label: string; readonly maxMs: number }
  | { readonly type: 'timeouts' | 'errors'; readonly maxFraction: number; readonly label: string };

/** "p99<1s,timeouts<0.1%,errors<1%" → objectives. */
export function parseObjectives(text: string): Objective[] {
  const out: Objective[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    let m = /^(p\d{1,2}(?:\.\d+)?|max)\s*<\s*([0-9.]+)\s*(ms|s)?$/i.exec(t);
    if (m !== null) {
      const q = m[1]!.toLowerCase() === 'max' ? 1 : Number(m[1]!.slice(1)) / 100;
      const v = Number(m[2]) * (m[3]?.toLowerCase() === 's' ? 1000 : 1);
      out.push({ type: 'latency', q, maxMs: v, label: t });
      continue;
    }
    m = /^(timeouts|errors)\s*<\s*([0-9.]+)\s*%$/i.exec(t);
    if (m !== null) {
      out.push({
        type: m[1]!.toLowerCase() as 'timeouts' | 'errors',
        maxFraction: Number(m[2]) / 100,
        label: t,
      });
      continue;
    }
    throw new RpcscopeError(
      'RPCSCOPE_BAD_ARGUMENT',
      `objective "${t}" not understood; use e.g. "p99<1s,timeouts<0.1%,errors<1%"`,
    );
  }
  if (out.length === 0) throw new RpcscopeError('RPCSCOPE_BAD_ARGUMENT', 'no objective given');
  return out;
}

export interface Verdict {
  readonly held: boolean;
  /** What broke, in the order objectives were given; services failing to connect first. */
  readonly broken: string[];
  readonly figures: Record<string, number>;
}

/** Judges one run against the objectives: latency over all calls, rates over all calls. */
export function judge(r: EmulationResult, objectives: readonly Objective[]): Verdict {
  const all = Object.values(r.methods).reduce((h, m) => merge(h, m.latency), emptyHistogram());
  const calls = Object.values(r.methods).reduce((a, m) => a + m.calls, 0);
  const timeouts = Object.values(r.methods).reduce((a, m) => a + m.timeouts, 0);
  const errors = Object.values(r.methods).reduce((a, m) => a + m.remoteErrors, 0);
  const broken: string[] = [];
  const figures: Record<string, number> = { calls, timeouts, errors };
  const down = r.services.planned - r.services.upAtEnd;
  if (down > 0) broken.push(`${down} services not connected at the end`);
  if (r.stoppedBy === 'broker' || r.stoppedBy === 'error') broken.push(`run ended by ${r.stoppedBy}`);
  for (const o of objectives) {
    if (o.type === 'latency') {
      const v = quantile(all, o.q) ?? 0;
      figures[o.label] = v;
      if (v >= o.maxMs) broken.push(`${o.label} (was ${v.toFixed(0)} ms)`);
    } else {
      const n = o.type === 'timeouts' ? timeouts : errors;
      const f = calls === 0 ? 0 : n / calls;
      figures[o.label] = f;
      if (f >= o.maxFraction) broken.push(`${o.label} (was ${(f * 100).toFixed(2)} %)`);
    }
  }
  return { held: broken.length === 0, broken, figures };
}

export interface LimitStep {
  readonly computes: number;
  readonly verdict: Verdict;
}

export interface LimitResult {
  readonly largestHeld?: number;
  readonly firstBroken?: { computes: number; broken: string[] };
  readonly steps: LimitStep[];
}

/** Steps computes from `start`, multiplying by `factor` (or adding `step`), up to `max`. */
export async function findLimit(
  run: (computes: number) => Promise<EmulationResult>,
  objectives: readonly Objective[],
  o: { start: number; max: number; factor?: number; step?: number },
  onStep?: (s: LimitStep) => void,
): Promise<LimitResult> {
  const steps: LimitStep[] = [];
  let n = o.start;
  let largestHeld: number | undefined;
  while (n <= o.max) {
    const r = await run(n);
    const verdict = judge(r, objectives);
    const step = { computes: n, verdict };
    steps.push(step);
    onStep?.(step);
    if (!verdict.held)
      return {
        ...(largestHeld !== undefined ? { largestHeld } : {}),
        firstBroken: { computes: n, broken: verdict.broken },
        steps,
      };
    largestHeld = n;
    const next = o.step !== undefined ? n + o.step : Math.ceil(n * (o.factor ?? 2));
    if (next <= n) break;
    n = next;
  }
  return { ...(largestHeld !== undefined ? { largestHeld } : {}), steps };
}
