/**
 * Line-by-line reading of JSON-lines captures (tracing log, firehose JSONL) without holding the
 * file in memory; lines of any length (message bodies can be megabytes) are reassembled.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { RpcscopeError } from '../errors.ts';

export interface LineProgress {
  onProgress?: (done: number, total: number) => void;
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
    opts.onProgress?.(done, total);
  }
  if (pending.length > 0) {
    lineNo++;
    onLine(Buffer.concat(pending).toString('utf8'), lineNo);
  }
  return total;
}
