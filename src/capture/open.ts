/**
 * Opens any capture file rpcscope reads, detecting the format by content, not by name:
 * pcap / pcapng (magic numbers) → the pcap reader; JSON lines with `trace_routing_key` (or the
 * rig's `body_*` fields) → firehose JSONL; JSON lines with `payload` + `routing_keys` / `type` →
 * rabbitmq_tracing log. `-` reads standard input.
 */
import { RpcscopeError } from '../errors.ts';
import type { CaptureSink } from '../records.ts';
import { openCaptureInput } from './input.ts';
import { decodeJsonLinesInput } from './lines.ts';
import type { CaptureFormat, ReadOptions, SourceResult } from './source.ts';

export type { CaptureFormat, ReadOptions, SourceResult } from './source.ts';

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]);
const PCAPNG_MAGIC = 0x0a0d0d0a;

/** Detects the format from the first bytes of a file (exported for tests). */
export function detectFormat(head: Uint8Array): CaptureFormat | undefined {
  if (head.length >= 4) {
    const be = ((head[0] ?? 0) << 24) | ((head[1] ?? 0) << 16) | ((head[2] ?? 0) << 8) | (head[3] ?? 0);
    const magic = be >>> 0;
    if (PCAP_MAGICS.has(magic)) return 'pcap';
    if (magic === PCAPNG_MAGIC) return 'pcapng';
  }
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8');
  const first = text.trimStart();
  if (!first.startsWith('{')) return undefined;
  const nl = first.indexOf('\n');
  if (nl >= 0) {
    try {
      const o: unknown = JSON.parse(first.slice(0, nl));
      if (o !== null && typeof o === 'object') {
        if ('trace_routing_key' in o) return 'firehose-jsonl';
        if ('payload' in o && ('type' in o || 'routing_keys' in o)) return 'tracing';
      }
    } catch {
      // fall through to the textual checks (first line longer than the head, or damaged)
    }
  }
  // Keys are sorted in both formats and bodies come early, so look for the leading keys too.
  if (/"trace_routing_key"\s*:|^\{"body_(json|len|raw|b64)"\s*:/.test(first)) return 'firehose-jsonl';
  if (
    /"payload"\s*:\s*"/.test(first) &&
    /^\{"channel"\s*:|"routing_keys"\s*:|"type"\s*:\s*"(published|received)"/.test(first)
  )
    return 'tracing';
  return undefined;
}

/** How much of an input is peeked to detect its format. */
const HEAD_BYTES = 1 << 20;

/**
 * Reads any capture rpcscope reads into `sink`: a file, `-` (standard input), a FIFO or a
 * `/dev/fd/N`; the format is detected from the first bytes, so pipes need no size or name.
 */
export async function readCaptureFile(
  path: string,
  sink: CaptureSink,
  opts: ReadOptions = {},
): Promise<SourceResult> {
  const input = await openCaptureInput(path);
  try {
    const head = await input.peek(HEAD_BYTES);
    const format = detectFormat(head);
    switch (format) {
      case 'pcap':
      case 'pcapng': {
        const { decodePcapInput } = await import('./pcap-file.ts');
        return await decodePcapInput(input, sink, opts);
      }
      case 'tracing': {
        const { wireFromTracingRecord } = await import('./tracing.ts');
        return await decodeJsonLinesInput(input, sink, wireFromTracingRecord, opts);
      }
      case 'firehose-jsonl': {
        const { wireFromFirehoseJsonl } = await import('./firehose-jsonl.ts');
        return await decodeJsonLinesInput(input, sink, wireFromFirehoseJsonl, opts);
      }
      default:
        throw new RpcscopeError(
          'RPCSCOPE_INPUT_FORMAT',
          head.length === 0
            ? 'the input is empty'
            : 'not a capture rpcscope reads: expected pcap/pcapng (tcpdump -w), a rabbitmq_tracing JSON log, or a firehose JSONL',
          { context: { input: path } },
        );
    }
  } finally {
    input.close();
  }
}
