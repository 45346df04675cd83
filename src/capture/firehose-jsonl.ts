/**
 * The capture rig's firehose JSONL (`*.firehose.jsonl`, written by rig/capture.py, a consumer of
 * `amq.rabbitmq.trace`): `ts` (epoch s, capture time), `seq`, `trace_routing_key`, `headers`
 * (the firehose headers), `body_raw` (exact UTF-8 body) or `body_b64` (non-UTF-8 body).
 */
import type { CaptureSink, WireMessage } from '../records.ts';
import { validTimestamp } from '../wire/context.ts';
import { wireFromFirehose } from '../wire/firehose/record.ts';
import { type LineOptions, readJsonLinesCapture } from './lines.ts';
import type { SourceResult } from './source.ts';

export function wireFromFirehoseJsonl(r: unknown, seq: number): WireMessage | string {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'not a JSON object';
  const o = r as Record<string, unknown>;
  if (typeof o.trace_routing_key !== 'string') return 'trace_routing_key missing';
  if (typeof o.ts !== 'number') return 'ts missing';
  if (!validTimestamp(o.ts * 1000)) return `ts ${o.ts} is not a time between 1970 and 9999`;
  const headers = o.headers;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return 'headers missing';
  let body: Buffer;
  if (typeof o.body_raw === 'string') body = Buffer.from(o.body_raw, 'utf8');
  else if (typeof o.body_b64 === 'string') body = Buffer.from(o.body_b64, 'base64');
  else return 'neither body_raw nor body_b64';
  return wireFromFirehose(
    o.trace_routing_key,
    headers as Record<string, unknown>,
    new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    o.ts * 1000,
    seq,
  );
}

export function readFirehoseJsonlFile(
  path: string,
  sink: CaptureSink,
  opts: LineOptions = {},
): Promise<SourceResult> {
  return readJsonLinesCapture(path, sink, wireFromFirehoseJsonl, opts);
}
