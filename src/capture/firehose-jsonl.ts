/**
 * The capture rig's firehose JSONL (`*.firehose.jsonl`, written by rig/capture.py, a consumer of
 * `amq.rabbitmq.trace`): `ts` (epoch s, capture time), `seq`, `trace_routing_key`, `headers`
 * (the firehose headers), `body_raw` (exact UTF-8 body) or `body_b64` (non-UTF-8 body).
 */
import type { CaptureSink, WireMessage } from '../records.ts';
import { wireFromFirehose } from './firehose-record.ts';
import { forEachLine } from './lines.ts';
import type { SourceResult } from './open.ts';
import { addIssue, newSkipStats } from './tracing.ts';

export function wireFromFirehoseJsonl(r: unknown, seq: number): WireMessage | string {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'not a JSON object';
  const o = r as Record<string, unknown>;
  if (typeof o.trace_routing_key !== 'string') return 'trace_routing_key missing';
  if (typeof o.ts !== 'number' || !Number.isFinite(o.ts)) return 'ts missing';
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

export async function readFirehoseJsonlFile(
  path: string,
  sink: CaptureSink,
  opts: { onProgress?: (done: number, total: number) => void } = {},
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
      const w = wireFromFirehoseJsonl(parsed, seq);
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
