/**
 * Reads a pcap/pcapng capture (a file, `-` for standard input, a FIFO) through PcapStreamDecoder,
 * in large chunks: the decoder copies whatever it keeps.
 */
import type { CaptureSink } from '../records.ts';
import { type PcapDecodeOptions, type PcapReadResult, PcapStreamDecoder } from '../wire/pcap/decoder.ts';
import { type CaptureInput, openCaptureInput } from './input.ts';

export type { PcapReadResult } from '../wire/pcap/decoder.ts';

export interface PcapFileOptions extends PcapDecodeOptions {
  /** `total` is the file size, 0 when unknown (standard input, a FIFO). */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

/** Decodes an opened input as pcap/pcapng (its format already detected by the caller). */
export async function decodePcapInput(
  input: CaptureInput,
  sink: CaptureSink,
  opts: PcapFileOptions = {},
): Promise<PcapReadResult> {
  const { onProgress, ...decodeOpts } = opts;
  const dec = new PcapStreamDecoder(input.input, sink, decodeOpts);
  const total = input.size ?? 0;
  let done = 0;
  for await (const chunk of input.chunks()) {
    dec.push(chunk);
    done += chunk.length;
    await onProgress?.(done, total);
  }
  return dec.end();
}

export async function readPcapFile(
  path: string,
  sink: CaptureSink,
  opts: PcapFileOptions = {},
): Promise<PcapReadResult> {
  const input = await openCaptureInput(path);
  try {
    return await decodePcapInput(input, sink, opts);
  } finally {
    input.close();
  }
}
