/**
 * Opens any capture file rpcscope reads, detecting the format by content, not by name:
 * pcap / pcapng (magic numbers) → the pcap reader; JSON lines with `trace_routing_key` (or the
 * rig's `body_*` fields) → firehose JSONL; JSON lines with `payload` + `routing_keys` / `type` →
 * rabbitmq_tracing log.
 */
import { open } from 'node:fs/promises';
import { RpcscopeError } from '../errors.ts';
import type { CaptureSink } from '../records.ts';
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

async function readHead(path: string, n: number): Promise<Uint8Array> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new RpcscopeError('RPCSCOPE_INPUT_NOT_FOUND', `cannot open capture file: ${(e as Error).message}`, {
      cause: e,
      context: { input: path },
    });
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function readCaptureFile(
  path: string,
  sink: CaptureSink,
  opts: ReadOptions = {},
): Promise<SourceResult> {
  const head = await readHead(path, 1 << 20);
  const format = detectFormat(head);
  switch (format) {
    case 'pcap':
    case 'pcapng': {
      const { readPcapFile } = await import('./pcap-file.ts');
      return readPcapFile(path, sink, opts);
    }
    case 'tracing': {
      const { readTracingFile } = await import('./tracing.ts');
      return readTracingFile(path, sink, opts);
    }
    case 'firehose-jsonl': {
      const { readFirehoseJsonlFile } = await import('./firehose-jsonl.ts');
      return readFirehoseJsonlFile(path, sink, opts);
    }
    default:
      throw new RpcscopeError(
        'RPCSCOPE_INPUT_FORMAT',
        head.length === 0
          ? 'the file is empty'
          : 'not a capture rpcscope reads: expected pcap/pcapng (tcpdump -w), a rabbitmq_tracing JSON log, or a firehose JSONL',
        { context: { input: path } },
      );
  }
}
