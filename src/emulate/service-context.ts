/**
 * What an emulated service (service.ts) reports to and asks of the run that owns it (emulation.ts),
 * and how its calls are keyed in the per-method statistics.
 */
import type { Accounting } from './accounting.ts';
import type { ServicePlan } from './plan.ts';
import type { RpcSpec, Scenario } from './scenario.ts';

/** What every service shares: scenario, clocks, PRNG, accounting and the stats sink. */
export interface ServiceContext {
  readonly scenario: Scenario;
  readonly rand: () => number;
  readonly accounting: Accounting;
  /** A call finished (ok / remote-error / timeout) with its latency. */
  onCall(service: ServicePlan, key: string, outcome: 'ok' | 'remote-error' | 'timeout', ms: number): void;
  onSent(): void;
  /** A request (call, cast, fanout) reached this service, emulated or not (interop, chaos). */
  onReceived(
    s: ServicePlan,
    queue: string,
    method: string,
    uniqueId: string | undefined,
    duplicate: boolean,
  ): void;
  onConfirm(ok: boolean): void;
  onConnected(s: ServicePlan): void;
  onDisconnected(s: ServicePlan, reason: string): void;
  onReconnect(s: ServicePlan, attempt: number, delayMs: number): void;
  /** Host of a random emulated instance of the group listening on `topic` (for server: any). */
  anyHost(topic: string): string | undefined;
  /** Queues whose deletion the emulator owns at teardown (shared topic queues, notification queues). */
  sharedQueue(url: string, name: string): void;
  /** Exchanges declared by emulated services, deleted at teardown when unused. */
  sharedExchange(url: string, name: string): void;
}

export type CallOutcome = { outcome: 'ok' | 'remote-error' | 'timeout'; ms: number };

/** "Instance.save" of a nova object RPC (object_action: objinst + objmethod; class actions: objname + objmethod). */
export function objectOf(inner: Record<string, unknown>): string | undefined {
  const args = inner.args as Record<string, unknown> | undefined;
  if (args === undefined || args === null || typeof args !== 'object') return undefined;
  const m = args.objmethod;
  if (typeof m !== 'string') return undefined;
  const inst = args.objinst as Record<string, unknown> | undefined;
  const name = typeof args.objname === 'string' ? args.objname : inst?.['nova_object.name'];
  return typeof name === 'string' ? `${name}.${m}` : undefined;
}

/** Key of per-method stats: "topic.method" or "topic.Object.method". */
export function methodKey(spec: Pick<RpcSpec, 'topic' | 'method' | 'object'>): string {
  return spec.object === undefined ? `${spec.topic}.${spec.method}` : `${spec.topic}.${spec.object}`;
}
