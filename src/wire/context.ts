/**
 * What every decoding layer of one input shares: the sink, the record counter (seq = order in the
 * input), the skip statistics with the first issues (each naming the input and byte offset), and
 * the bounds that keep hostile input from allocating or overflowing.
 */
import type { CaptureEvent, CaptureSink, SkipStats } from '../records.ts';

/** At most this many issues are kept; the counts stay complete. */
export const MAX_ISSUES = 20;

/**
 * The largest message body decoded (bytes): RabbitMQ's own hard limit (max_message_size cannot be
 * set above 512 MiB), so a larger announced body is damage, never a reason to allocate.
 */
export const DEFAULT_MAX_BODY_SIZE = 512 * 1024 * 1024;

/** Latest timestamp accepted (ms since the epoch): 9999-12-31T23:59:59.999Z, the last ISO 8601 year. */
export const MAX_TIMESTAMP_MS = 253402300799999;

/**
 * Whether `ms` is a timestamp a capture can carry: finite, not before 1970 (capture formats store
 * unsigned times) and not after year 9999, so every consumer can format it as an ISO date.
 */
export function validTimestamp(ms: number): boolean {
  return ms >= 0 && ms <= MAX_TIMESTAMP_MS; // false for NaN too
}

export interface DecodeLimits {
  /** Bodies announced larger than this are skipped (counted) without being allocated. */
  readonly maxBodySize: number;
}

export class DecodeContext {
  readonly input: string;
  readonly sink: CaptureSink;
  readonly skipped: SkipStats = { bytes: 0, frames: 0, records: 0, issues: [] };
  readonly limits: DecodeLimits;
  /** Next WireMessage seq. */
  seq = 0;

  constructor(input: string, sink: CaptureSink, limits: Partial<DecodeLimits> = {}) {
    this.input = input;
    this.sink = sink;
    this.limits = { maxBodySize: limits.maxBodySize ?? DEFAULT_MAX_BODY_SIZE };
  }

  emit(e: CaptureEvent): void {
    this.sink.event(e);
  }

  issue(offset: number, message: string): void {
    if (this.skipped.issues.length < MAX_ISSUES)
      this.skipped.issues.push({ input: this.input, offset, message });
  }
}
