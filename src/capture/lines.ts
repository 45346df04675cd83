/**
 * Line-by-line reading of JSON-lines captures (tracing log, firehose JSONL) without holding the
 * file in memory; lines of any length (message bodies can be megabytes) are reassembled.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { RpcscopeError } from '../errors.ts';
import type { CaptureSink, DecodeIssue, SkipStats, WireMessage } from '../records.ts';
import type { SourceResult } from './source.ts';

const MAX_ISSUES = 20;

export function newSkipStats(): SkipStats {
  return { bytes: 0, frames: 0, records: 0, issues: [] };
}

/** Counts a record that could not be used; keeps the first issues with their place. */
export function addIssue(skipped: SkipStats, issue: DecodeIssue, bytes: number): void {
  skipped.records++;
  skipped.bytes += bytes;
  if (skipped.issues.length < MAX_ISSUES) skipped.issues.push(issue);
}

export interface LineProgress {
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

/** Calls `onLine(text, lineNo)` for every line (1-based), in order. Returns the file size. */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNo: number) => void,
  opts: LineProgress = {},
): Promise<number> {
  let total: number;
  try {
    total = (await stat(path)).size;
  } catch (e) {
    throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `cannot read capture file: ${(e as Error).message}`, {
      cause: e,
      context: { input: path },
    });
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let pending: Buffer[] = [];
  let lineNo = 0;
  let done = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      let piece = chunk.subarray(start, nl);
      if (pending.length > 0) {
        pending.push(piece);
        piece = Buffer.concat(pending);
        pending = [];
      }
      lineNo++;
      onLine(piece.toString('utf8'), lineNo);
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    done += chunk.length;
    await opts.onProgress?.(done, total);
  }
  if (pending.length > 0) {
    lineNo++;
    onLine(Buffer.concat(pending).toString('utf8'), lineNo);
  }
  return total;
}

/**
 * Reads a JSON-lines capture into `sink`: one record per line, converted by `toWire` (which
 * returns a reason string for a record it cannot use). Blank lines are passed over; bad lines are
 * counted and the first ones named file:line.
 */
export async function readJsonLinesCapture(
  path: string,
  sink: CaptureSink,
  toWire: (record: unknown, seq: number) => WireMessage | string,
  opts: LineProgress = {},
): Promise<SourceResult> {
  const skipped = newSkipStats();
  const connections = new Set<string>();
  let seq = 0;
  let records = 0;
  const bytes = await forEachLine(
    path,
    (line, lineNo) => {
      if (line.trim() === '') return;
      records++;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (e) {
        addIssue(
          skipped,
          { input: path, line: lineNo, message: `not JSON: ${(e as Error).message}` },
          line.length + 1,
        );
        return;
      }
      const w = toWire(parsed, seq);
      if (typeof w === 'string') {
        addIssue(skipped, { input: path, line: lineNo, message: w }, line.length + 1);
        return;
      }
      seq++;
      if (w.connection !== undefined) connections.add(w.connection.id);
      sink.event({ type: 'message', message: w });
    },
    opts,
  );
  return { input: path, bytes, packets: records, connections: connections.size, skipped };
}
