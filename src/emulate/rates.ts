/**
 * The message rates a scenario should produce, per (kind, topic, method, object), messages per
 * second as emulated (speed-up applied). Fidelity checks compare a capture of an emulation with
 * this; the simulator starts from it.
 */
import type { Scenario } from './scenario.ts';

export interface RateKey {
  readonly kind: 'call' | 'cast' | 'fanout' | 'notification';
  readonly topic: string;
  /** Method, or the event type of a notification. */
  readonly method: string;
  readonly object?: string;
}

export function rateKey(k: RateKey): string {
  return `${k.kind} ${k.topic} ${k.method}${k.object !== undefined ? ` ${k.object}` : ''}`;
}

/** Expected messages per second per rateKey for the whole cloud (all shards). */
export function expectedRates(s: Scenario): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, r: number) => out.set(k, (out.get(k) ?? 0) + r);
  for (const svc of s.services) {
    for (const p of svc.periodic) {
      const method = p.kind === 'notification' ? (p.eventType ?? p.method) : p.method;
      add(
        rateKey({
          kind: p.kind,
          topic: p.topic,
          method,
          ...(p.object !== undefined ? { object: p.object } : {}),
        }),
        (svc.count * p.count * s.speedup) / p.periodS,
      );
    }
  }
  for (const op of s.operations) {
    for (const st of op.steps) {
      const method = st.kind === 'notification' ? (st.eventType ?? st.method) : st.method;
      add(
        rateKey({
          kind: st.kind,
          topic: st.topic,
          method,
          ...(st.object !== undefined ? { object: st.object } : {}),
        }),
        (op.perMinute * st.count * s.speedup) / 60,
      );
    }
  }
  return out;
}
