/**
 * The shapes of a chaos run: its options and its result. Kept apart from run.ts so that the
 * renderer (render/chaos-html.ts) and the HA table read them without importing the runner, which
 * itself calls the renderer.
 */
import type { QueueMode } from '../broker/cluster/layout.ts';
import type { Cluster } from '../broker/cluster.ts';
import type { Scenario } from '../emulate/scenario.ts';
import type { Ledger } from './ledger.ts';
import type { Baseline } from './recovery.ts';
import type { StormResult } from './storm.ts';
import type { ChaosSection, Fault } from './timeline.ts';

export interface ChaosRunOptions {
  readonly cluster: Cluster;
  readonly scenario: Scenario;
  readonly chaos: ChaosSection;
  /** Overrides the scenario's oslo.queues.type (and sets the vhost policy for mirrored). */
  readonly queues?: QueueMode;
  readonly outDir?: string;
  readonly seed?: number;
  readonly progress?: (line: string) => void;
}

export interface FaultRecord {
  readonly fault: Fault;
  readonly description: string;
  /** Seconds since the steady state began: planned start, when applied, when undone. */
  readonly atS: number;
  appliedS?: number;
  undoneS?: number;
  error?: string;
  /** Seconds from the fault's start until calls succeeded at the pre-fault rate and latency again. */
  recoveryS?: number;
}

export interface TimelinePoint {
  readonly t: number;
  readonly calls: number;
  readonly ok: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly sent: number;
  readonly reconnects: number;
  readonly queueDepth?: number;
  readonly connections?: number;
  /** mem_used per node name, bytes (absent = node not answering). */
  readonly memBytes: Record<string, number>;
  readonly nodesRunning?: number;
}

export interface BrokerCounters {
  readonly publish?: number;
  readonly confirm?: number;
  readonly deliver?: number;
  readonly redeliver?: number;
  readonly returnUnroutable?: number;
  readonly messagesLeft?: number;
  readonly error?: string;
}

export interface ChaosResult {
  readonly scenario: string;
  readonly queues: QueueMode;
  readonly vhost: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly drainS: number;
  readonly ledger: Ledger;
  readonly faults: FaultRecord[];
  readonly baseline?: Baseline;
  readonly timeline: TimelinePoint[];
  readonly reconnects: number;
  /** Emulator-side totals over the whole run (window and drain) to compare with the broker's. */
  readonly emulator: { readonly published: number; readonly confirmed: number; readonly deliveries: number };
  readonly broker: BrokerCounters;
  readonly expiredOther: number;
  readonly errors: string[];
  readonly servicesConnected: number;
  readonly servicesPlanned: number;
  /** Resyncs, per-agent fanout, orphan queues and broker memory of a storm (storm.ts). */
  readonly storm?: StormResult;
}
