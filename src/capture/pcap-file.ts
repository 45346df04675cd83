/** Reads a pcap/pcapng file through PcapStreamDecoder, in large reads of one reused buffer. */
import { open } from 'node:fs/promises';
import { RpcscopeError } from '../errors.ts';
import type { CaptureSink } from '../records.ts';
import { type PcapDecodeOptions, type PcapReadResult, PcapStreamDecoder } from '../wire/pcap/decoder.ts';

export type { PcapReadResult } from '../wire/pcap/decoder.ts';

export interface PcapFileOptions extends PcapDecodeOptions {
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

const READ_SIZE = 4 * 1024 * 1024;

export async function readPcapFile(
  path: string,
  sink: CaptureSink,
  opts: PcapFileOptions = {},
): Promise<PcapReadResult> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RpcscopeError(
      'RPCSCOPE_INPUT_NOT_FOUND',
      code === 'ENOENT'
        ? `capture file ${path} does not exist`
        : `cannot open capture file ${path} (${code ?? String(e)})`,
      { cause: e, context: { input: path } },
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new RpcscopeError(
        'RPCSCOPE_INPUT_NOT_FOUND',
        `${path} is not a regular file; give a pcap or pcapng capture`,
        {
          context: { input: path },
        },
      );
    const total = st.size;
    const dec = new PcapStreamDecoder(
      path,
      sink,
      opts.amqpPort === undefined ? {} : { amqpPort: opts.amqpPort },
    );
    // One buffer for the whole file: the decoder copies whatever it keeps.
    const buf = Buffer.allocUnsafe(Math.min(READ_SIZE, Math.max(total, 1)));
    let done = 0;
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, buf.length, null));
      } catch (e) {
        throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `cannot read capture file ${path}`, {
          cause: e,
          context: { input: path, offset: done },
        });
      }
      if (n === 0) break;
      dec.push(n === buf.length ? buf : buf.subarray(0, n));
      done += n;
      await opts.onProgress?.(done, total);
    }
    return dec.end();
  } finally {
    await fh.close();
  }
}
