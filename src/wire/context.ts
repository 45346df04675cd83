/**
 * What every decoding layer of one input shares: the sink, the record counter (seq = order in the
 * input) and the skip statistics with the first issues, each naming the input and byte offset.
 */
import type { CaptureEvent, CaptureSink, SkipStats } from '../records.ts';

/** At most this many issues are kept; the counts stay complete. */
export const MAX_ISSUES = 20;

export class DecodeContext {
  readonly input: string;
  readonly sink: CaptureSink;
  readonly skipped: SkipStats = { bytes: 0, frames: 0, records: 0, issues: [] };
  /** Next WireMessage seq. */
  seq = 0;

  constructor(input: string, sink: CaptureSink) {
    this.input = input;
    this.sink = sink;
  }

  emit(e: CaptureEvent): void {
    this.sink.event(e);
  }

  issue(offset: number, message: string): void {
    if (this.skipped.issues.length < MAX_ISSUES)
      this.skipped.issues.push({ input: this.input, offset, message });
  }
}
