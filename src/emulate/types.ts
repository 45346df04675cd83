/**
 * Public types of the emulator's programmatic API (`runEmulation`, `startEmulation`), used by
 * `rpcscope emulate`, `rpcscope chaos` and the benchmark.
 */
import type { Accounting, AccountingCounts } from './accounting.ts';
import type { Scenario } from './scenario.ts';

export interface ShardSpec {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

export interface EmulationOptions {
  /** Broker URL for every service that has none of its own (overrides the scenario's). */
  readonly amqpUrl?: string;
  /** Management API base URL; default from the broker URL's host, port 15672. null = no broker sampling. */
  readonly managementUrl?: string | null;
  /** Steady-state duration in seconds (after ramp-up). Default 60. Infinity = until stop(). */
  readonly durationS?: number;
  /** Count of every `scalable` service group (nova-compute). */
  readonly computes?: number;
  readonly shard?: ShardSpec;
  /** New connections per second during ramp-up (RabbitMQ takes ~200/s on 2 cores). */
  readonly connectRatePerS?: number;
  /** Broker and process sampling interval, seconds. Default 5. */
  readonly sampleIntervalS?: number;
  /** Keep every message record in the Accounting (chaos); default false. */
  readonly keepMessages?: boolean;
  /** Stop early (same as handle.stop()). */
  readonly signal?: AbortSignal;
  /** Every emulator event, synchronously; must not throw. */
  readonly onEvent?: (e: EmulationEvent) => void;
  /** Ramp-up progress: services started (or failed) of the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Delete what was declared at the end (default true). */
  readonly teardown?: boolean;
  /** Seed of the PRNG that draws delays, sizes, jitter and targets. */
  readonly seed?: number;
  /**
   * Keep V8's young generation at its initial size for the whole process (util/heap.ts;
   * default true): ~19 MiB less RSS after a ramp-up of thousands of connections.
   */
  readonly boundHeap?: boolean;
}

export type Phase = 'ramp-up' | 'steady' | 'teardown' | 'done';

export type EmulationEvent =
  | { readonly type: 'phase'; readonly phase: Phase; readonly ts: number }
  | { readonly type: 'connected'; readonly service: string; readonly group: string; readonly ts: number }
  | {
      readonly type: 'disconnected';
      readonly service: string;
      readonly group: string;
      readonly ts: number;
      readonly reason: string;
    }
  | {
      readonly type: 'reconnect';
      readonly service: string;
      readonly group: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly ts: number;
    }
  | {
      readonly type: 'call-done';
      readonly service: string;
      readonly method: string;
      readonly outcome: 'ok' | 'remote-error' | 'timeout';
      readonly latencyMs: number;
      readonly ts: number;
    }
  | {
      /** A call, cast or fanout delivered to an emulated service (from the emulator or from anyone else). */
      readonly type: 'received';
      readonly service: string;
      readonly group: string;
      readonly queue: string;
      readonly method: string;
      readonly uniqueId?: string;
      /** oslo's listener would drop it: one of its last 16 `_unique_id`s. */
      readonly duplicate: boolean;
      readonly ts: number;
    }
  | { readonly type: 'sample'; readonly sample: Sample }
  | { readonly type: 'error'; readonly message: string; readonly ts: number };

/** Mergeable log-bucket latency histogram (see stats.ts). */
export interface HistogramData {
  /** Bucket i holds values in [base^i, base^(i+1)) ms, i from minExp. */
  readonly base: number;
  readonly counts: Record<string, number>;
  readonly n: number;
  readonly sum: number;
  readonly max: number;
}

export interface MethodStats {
  readonly key: string;
  calls: number;
  ok: number;
  remoteErrors: number;
  timeouts: number;
  latency: HistogramData;
  /** Filled from the histogram by summarise(). */
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
}

export interface Sample {
  /** Seconds since the emulation started. */
  readonly t: number;
  readonly phase: Phase;
  readonly servicesUp: number;
  /** Messages sent / calls answered / calls timed out since the previous sample, per second. */
  readonly sentPerS: number;
  readonly answeredPerS: number;
  readonly timeoutsPerS: number;
  /** Call latency p99 over the interval, ms. */
  readonly p99Ms?: number;
  readonly emulator: {
    readonly rssBytes: number;
    readonly heapUsedBytes: number;
    /** CPU of this process over the interval, 1.0 = one core. */
    readonly cpu: number;
    /** How late periodic tasks and operations fired at worst in the interval (emulator saturation). */
    readonly schedulerLagMs?: number;
  };
  readonly broker?: BrokerSample;
}

export interface BrokerSample {
  readonly connections?: number;
  readonly channels?: number;
  readonly queues?: number;
  readonly consumers?: number;
  readonly messages?: number;
  readonly publishPerS?: number;
  readonly deliverPerS?: number;
  readonly memBytes?: number;
  readonly fdUsed?: number;
  readonly fdTotal?: number;
  readonly socketsUsed?: number;
  readonly procUsed?: number;
  readonly alarms: string[];
  readonly error?: string;
}

export interface EmulationResult {
  readonly scenario: string;
  /** Periods divided by this factor; rates in the result are as emulated (sped up). */
  readonly speedup: number;
  readonly shard?: ShardSpec;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly rampUpS: number;
  readonly steadyS: number;
  readonly services: {
    readonly planned: number;
    readonly connected: number;
    /** Services whose first connection failed (they keep retrying with oslo's backoff). */
    readonly failed: number;
    /** Connected when the steady state ended (lower than `connected` after broker trouble). */
    readonly upAtEnd: number;
    readonly byGroup: Record<string, { planned: number; connected: number }>;
  };
  readonly methods: Record<string, MethodStats>;
  readonly reconnects: number;
  /**
   * Calls outstanding: sent, and neither answered nor timed out when the run ended (each service
   * counts them as it stops, after the replies of the wind-down). A backlog in the broker shows here,
   * not in `timeouts`, when the run is shorter than the RPC timeout; calls = ok + remote errors +
   * timeouts + outstanding.
   */
  readonly pendingCallsAtEnd?: number;
  readonly publishConfirms: { readonly confirmed: number; readonly nacked: number };
  readonly accounting: Record<string, AccountingCounts>;
  readonly samples: Sample[];
  /** Peak emulator RSS and heap over the run, and per connected service. */
  readonly emulator: {
    readonly peakRssBytes: number;
    readonly peakHeapUsedBytes: number;
    readonly meanCpu: number;
    /** Worst lateness of scheduled sends in the steady state: large values mean the emulator, not the broker, limited the rates. */
    readonly maxSchedulerLagMs?: number;
  };
  /** false when the run ended early (broker refused or died, stop()). */
  readonly complete: boolean;
  readonly stoppedBy: 'duration' | 'stop' | 'broker' | 'error';
  readonly errors: string[];
}

export interface EmulationHandle {
  /** Resolves when ramp-up is over (steady state begins). */
  readonly ready: Promise<void>;
  /** Resolves at the end, with a partial result if the run was cut short. Never rejects for broker trouble. */
  readonly result: Promise<EmulationResult>;
  readonly accounting: Accounting;
  /** Ends the steady state now; teardown follows. */
  stop(): Promise<EmulationResult>;
  readonly scenario: Scenario;
  /**
   * Kills processes of a group leaving their queues behind; `restart()` starts them again under
   * new fanout/reply queue names (Emulation.killGroup; chaos `restart-group`).
   */
  killGroup?(
    group: string,
    count?: number,
  ): Promise<{ readonly hosts: string[]; readonly queues: string[]; restart: () => Promise<void> }>;
  /** Runs a scenario operation now, its host's steps sent by `host` (chaos: an agent's resync). */
  runOperation?(name: string, host?: string): Promise<void>;
}
