/**
 * What every capture-file reader returns and accepts. Kept apart from open.ts (the format sniffer
 * that dispatches to the readers) so the readers do not import their own dispatcher.
 */
import type { SkipStats } from '../records.ts';

/** What one input gave: its size, how many packets (pcap) or records (JSON logs), what was skipped. */
export interface SourceResult {
  readonly input: string;
  readonly bytes: number;
  /** pcap: packets; JSON logs: non-empty lines. */
  readonly packets: number;
  /** Distinct AMQP connections seen. */
  readonly connections: number;
  readonly skipped: SkipStats;
}

export type CaptureFormat = 'pcap' | 'pcapng' | 'tracing' | 'firehose-jsonl';

export interface ReadOptions {
  /** Called after each read; a returned promise is awaited before reading on (a paced replay's backpressure). */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}
