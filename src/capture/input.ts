/**
 * One way to open what the user named as a capture: a regular file, `-` (standard input: `tcpdump
 * -w - | rpcscope report -`), a FIFO, or a `/dev/fd/N` from the shell's `<(…)`. Everything is read
 * as a stream: the format is detected from the first bytes (peeked, then handed on), and no size
 * is needed (`size` is undefined for pipes: progress then has no total). A directory is refused
 * with an error naming it (INPUT_NOT_FOUND), before anything is read.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { RpcscopeError } from '../errors.ts';

/** The name `-` stands for standard input. */
export const STDIN = '-';
/** How a source reads: large chunks keep the per-chunk cost negligible (the decoders copy what they keep). */
const CHUNK = 1024 * 1024;

export class CaptureInput {
  /** The name the user gave (`-` for standard input): issues and errors name it. */
  readonly input: string;
  /** Bytes in the input when known (a regular file), undefined for pipes, FIFOs and stdin. */
  readonly size: number | undefined;
  private readonly stream: Readable;
  private readonly iter: AsyncIterator<Buffer>;
  /** Chunks read ahead by peek(), handed out first by chunks(). */
  private readonly ahead: Buffer[] = [];
  private aheadBytes = 0;
  private ended = false;

  constructor(input: string, size: number | undefined, stream: Readable) {
    this.input = input;
    this.size = size;
    this.stream = stream;
    this.iter = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    let r: IteratorResult<Buffer>;
    try {
      r = await this.iter.next();
    } catch (e) {
      throw readError(this.input, e);
    }
    if (r.done === true) {
      this.ended = true;
      return undefined;
    }
    return r.value;
  }

  /** The first `n` bytes (fewer if the input is shorter), without consuming them. */
  async peek(n: number): Promise<Uint8Array> {
    while (this.aheadBytes < n) {
      const c = await this.next();
      if (c === undefined) break;
      this.ahead.push(c);
      this.aheadBytes += c.length;
    }
    const all = this.ahead.length === 1 ? this.ahead[0]! : Buffer.concat(this.ahead);
    return all.subarray(0, Math.min(n, all.length));
  }

  /** Every chunk of the input in order, the peeked ones first. Read errors are RpcscopeErrors. */
  async *chunks(): AsyncGenerator<Buffer> {
    while (this.ahead.length > 0) yield this.ahead.shift()!;
    this.aheadBytes = 0;
    for (;;) {
      const c = await this.next();
      if (c === undefined) return;
      yield c;
    }
  }

  close(): void {
    // Standard input is not ours to close (other parts of the process may still use the fd).
    if (this.stream !== process.stdin) this.stream.destroy();
  }
}

function readError(input: string, e: unknown): RpcscopeError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return directoryError(input);
  return new RpcscopeError(
    'RPCSCOPE_INPUT_NOT_FOUND',
    code === 'ENOENT'
      ? `capture file ${input} does not exist`
      : `cannot read capture file ${input}: ${(e as Error).message ?? String(e)}`,
    { cause: e, context: { input } },
  );
}

function directoryError(input: string): RpcscopeError {
  // "cannot be read as a capture" (exit 3), as a missing file: the user named the wrong path.
  return new RpcscopeError(
    'RPCSCOPE_INPUT_NOT_FOUND',
    `${input} is a directory, not a capture: name the capture files in it (e.g. ${input.replace(/\/+$/, '')}/*.pcap)`,
    { context: { input } },
  );
}

/**
 * Opens `path` (or `-` for standard input) for reading. Throws RpcscopeError: INPUT_NOT_FOUND
 * when it does not exist, cannot be read or is a directory.
 */
export async function openCaptureInput(path: string): Promise<CaptureInput> {
  if (path === STDIN) return new CaptureInput(STDIN, undefined, process.stdin);
  let size: number | undefined;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw directoryError(path);
    // FIFOs, sockets, character devices and /dev/fd pipes have no meaningful size.
    size = st.isFile() ? st.size : undefined;
  } catch (e) {
    if (e instanceof RpcscopeError) throw e;
    throw readError(path, e);
  }
  const stream = createReadStream(path, { highWaterMark: CHUNK });
  // Opening a FIFO blocks until a writer appears; that is the expected behaviour for a FIFO.
  return new CaptureInput(path, size, stream);
}
