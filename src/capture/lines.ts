/**
 * Line-by-line reading of JSON-lines captures (tracing log, firehose JSONL) without holding the
 * input in memory; lines of any length up to a bound (message bodies can be megabytes) are
 * reassembled. A longer line (over the bound, or over what a V8 string can hold) is skipped and
 * counted with its line number, never turned into a string.
 */
import { constants } from 'node:buffer';
import type { CaptureSink, DecodeIssue, SkipStats, WireMessage } from '../records.ts';
import { MAX_ISSUES } from '../wire/context.ts';
import { type CaptureInput, openCaptureInput } from './input.ts';
import type { SourceResult } from './source.ts';

/**
 * Longest line read (bytes), by default: far above any real record (RabbitMQ bodies stop at
 * 512 MiB but oslo RPC bodies are kilobytes), far below V8's string limit.
 */
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;

export function newSkipStats(): SkipStats {
  return { bytes: 0, frames: 0, records: 0, issues: [] };
}

/** Counts a record that could not be used; keeps the first issues with their place. */
export function addIssue(skipped: SkipStats, issue: DecodeIssue, bytes: number): void {
  skipped.records++;
  skipped.bytes += bytes;
  if (skipped.issues.length < MAX_ISSUES) skipped.issues.push(issue);
}

export interface LineOptions {
  /** `total` is the input's size, 0 when unknown (standard input, a FIFO). */
  onProgress?: (done: number, total: number) => void | Promise<void>;
  /** Longest line decoded, bytes (default DEFAULT_MAX_LINE_BYTES; capped at V8's string limit). */
  maxLineBytes?: number;
}

export type ToWire = (record: unknown, seq: number) => WireMessage | string;

/**
 * Push decoder of a JSON-lines capture: bytes in (any chunking), WireMessage events out. One
 * record per line, converted by `toWire` (which returns a reason string for a record it cannot
 * use). Blank lines are passed over; bad lines are counted and the first ones named input:line.
 */
export class JsonLinesDecoder {
  readonly input: string;
  private readonly sink: CaptureSink;
  private readonly toWire: ToWire;
  private readonly maxLine: number;
  private readonly skipped = newSkipStats();
  private readonly connections = new Set<string>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The current line is over the bound: its bytes are counted and dropped up to its newline. */
  private overlong = false;
  private lineNo = 0;
  private seq = 0;
  private records = 0;
  private bytes = 0;

  constructor(input: string, sink: CaptureSink, toWire: ToWire, opts: { maxLineBytes?: number } = {}) {
    this.input = input;
    this.sink = sink;
    this.toWire = toWire;
    this.maxLine = Math.max(
      1,
      Math.min(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, constants.MAX_STRING_LENGTH),
    );
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.bytes += buf.length;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      this.lineNo++;
      this.piece(buf.subarray(start, nl));
      this.endLine();
      start = nl + 1;
    }
    if (start < buf.length) this.piece(Buffer.from(buf.subarray(start))); // copied: the caller may reuse chunk
  }

  /** Ends the input: a last line without a newline is decoded. */
  end(): SourceResult {
    if (this.pendingBytes > 0 || this.overlong) {
      this.lineNo++;
      this.endLine();
    }
    return {
      input: this.input,
      bytes: this.bytes,
      packets: this.records,
      connections: this.connections.size,
      skipped: this.skipped,
    };
  }

  private piece(b: Buffer): void {
    if (this.overlong) {
      this.pendingBytes += b.length;
      return;
    }
    if (this.pendingBytes + b.length > this.maxLine) {
      this.overlong = true;
      this.pending = [];
      this.pendingBytes += b.length;
      return;
    }
    this.pending.push(b);
    this.pendingBytes += b.length;
  }

  private endLine(): void {
    const lineNo = this.lineNo;
    if (this.overlong) {
      this.records++;
      addIssue(
        this.skipped,
        {
          input: this.input,
          line: lineNo,
          message: `line of ${this.pendingBytes} bytes is longer than the ${this.maxLine}-byte limit: skipped`,
        },
        this.pendingBytes + 1,
      );
      this.overlong = false;
      this.pendingBytes = 0;
      return;
    }
    const bytes = this.pendingBytes;
    const line = (this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending)).toString(
      'utf8',
    );
    this.pending = [];
    this.pendingBytes = 0;
    if (line.trim() === '') return;
    this.records++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      addIssue(
        this.skipped,
        { input: this.input, line: lineNo, message: `not JSON: ${(e as Error).message}` },
        bytes + 1,
      );
      return;
    }
    let w: WireMessage | string;
    try {
      w = this.toWire(parsed, this.seq);
    } catch (e) {
      // Only a RangeError can come out of a converter (a value nested deeper than the stack):
      // the record is unusable, the input goes on.
      if (!(e instanceof RangeError)) throw e;
      w = `record cannot be decoded: ${e.message}`;
    }
    if (typeof w === 'string') {
      addIssue(this.skipped, { input: this.input, line: lineNo, message: w }, bytes + 1);
      return;
    }
    this.seq++;
    if (w.connection !== undefined) this.connections.add(w.connection.id);
    this.sink.event({ type: 'message', message: w });
  }
}

/** Decodes an opened input as JSON lines (its format already detected by the caller). */
export async function decodeJsonLinesInput(
  input: CaptureInput,
  sink: CaptureSink,
  toWire: ToWire,
  opts: LineOptions = {},
): Promise<SourceResult> {
  const dec = new JsonLinesDecoder(
    input.input,
    sink,
    toWire,
    opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes },
  );
  const total = input.size ?? 0;
  let done = 0;
  for await (const chunk of input.chunks()) {
    dec.push(chunk);
    done += chunk.length;
    await opts.onProgress?.(done, total);
  }
  return dec.end();
}

/** Reads a JSON-lines capture (a file, `-` for standard input, a FIFO) into `sink`. */
export async function readJsonLinesCapture(
  path: string,
  sink: CaptureSink,
  toWire: ToWire,
  opts: LineOptions = {},
): Promise<SourceResult> {
  const input = await openCaptureInput(path);
  try {
    return await decodeJsonLinesInput(input, sink, toWire, opts);
  } finally {
    input.close();
  }
}
