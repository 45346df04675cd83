/**
 * pcap/pcapng bytes in (any chunking: a file, `tcpdump -w -` on a pipe), CaptureEvents out.
 * Layers: container records → link/IP/TCP → per-flow reassembly → AMQP frames → messages.
 *
 * Chunks may be reused by the caller once push() returns: nothing keeps a view into them
 * (straddling records, held TCP segments and message bodies are copied).
 */

import type { CaptureSink, SkipStats } from '../../records.ts';
import { DecodeContext } from '../context.ts';
import { TcpFlows } from '../tcp/flows.ts';
import { PcapContainer } from './container.ts';

export interface PcapReadResult {
  input: string;
  /** Bytes of capture read. */
  bytes: number;
  /** Packet records read. */
  packets: number;
  /** AMQP connections seen. */
  connections: number;
  skipped: SkipStats;
  /** First and last packet time (epoch ms), when a packet was read: the capture's own span. */
  startMs?: number;
  endMs?: number;
}

export interface PcapDecodeOptions {
  /** The broker's AMQP port (default 5672). */
  amqpPort?: number;
  /** Largest message body decoded, bytes (default DEFAULT_MAX_BODY_SIZE, 512 MiB); larger ones are counted as skipped. */
  maxBodySize?: number;
}

export const DEFAULT_AMQP_PORT = 5672;

export class PcapStreamDecoder {
  private readonly ctx: DecodeContext;
  private readonly container: PcapContainer;
  private readonly flows: TcpFlows;
  private result: PcapReadResult | undefined;

  constructor(input: string, sink: CaptureSink, opts: PcapDecodeOptions = {}) {
    this.ctx = new DecodeContext(
      input,
      sink,
      opts.maxBodySize === undefined ? {} : { maxBodySize: opts.maxBodySize },
    );
    this.flows = new TcpFlows(this.ctx, opts.amqpPort ?? DEFAULT_AMQP_PORT);
    this.container = new PcapContainer(this.ctx, this.flows);
  }

  /** Decodes a chunk; throws RpcscopeError('RPCSCOPE_INPUT_FORMAT') if the input is not a capture. */
  push(chunk: Uint8Array): void {
    if (this.result !== undefined) return;
    this.container.push(chunk);
  }

  /** Ends the input: what is incomplete is counted as skipped. Idempotent. */
  end(): PcapReadResult {
    if (this.result === undefined) {
      this.container.end();
      this.flows.end();
      this.result = this.snapshot();
    }
    return this.result;
  }

  /** Figures so far (for progress lines while a live capture runs). */
  snapshot(): PcapReadResult {
    return {
      input: this.ctx.input,
      bytes: this.container.bytes,
      packets: this.container.packets,
      connections: this.flows.connections,
      skipped: this.ctx.skipped,
      ...(Number.isNaN(this.container.startMs)
        ? {}
        : { startMs: this.container.startMs, endMs: this.container.endMs }),
    };
  }
}
