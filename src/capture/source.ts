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
  /**
   * The input's own span (epoch ms) where it is wider than its messages': pcap/pcapng, first to
   * last packet. Absent for JSON logs (one line per message: their span is the messages').
   */
  readonly startMs?: number;
  readonly endMs?: number;
}

export type CaptureFormat = 'pcap' | 'pcapng' | 'tracing' | 'firehose-jsonl';

export interface ReadOptions {
  /**
   * Called after each read; a returned promise is awaited before reading on (a paced replay's
   * backpressure). `total` is the input's size, 0 when unknown (standard input, a FIFO).
   */
  onProgress?: (done: number, total: number) => void | Promise<void>;
  /** pcap/pcapng: the broker's AMQP port (default 5672). */
  amqpPort?: number;
  /** Largest message body decoded, bytes (default 512 MiB); larger ones are counted as skipped. */
  maxBodySize?: number;
  /** JSON-lines captures: longest line decoded, bytes (default 256 MiB); longer ones are counted as skipped. */
  maxLineBytes?: number;
}
