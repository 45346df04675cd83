import { createWriteStream, type WriteStream } from 'node:fs';
import { RpcscopeError } from '../errors.ts';
import type { CaptureEvent, CaptureSink } from '../records.ts';
import { formatTracingRecord } from './tracing.ts';

/**
 * A CaptureSink that writes the rabbitmq_tracing plugin's JSON log format (one record per line,
 * `formatTracingRecord`), so a `capture --amqp` recording and a plugin log are interchangeable.
 * Note: like the plugin's log or a pcap, the file holds message bodies as sent, secrets included.
 */
export class TracingLogWriter implements CaptureSink {
  readonly #out: WriteStream;
  readonly #path: string;
  #records = 0;
  #bytes = 0;
  #error: Error | undefined;
  #closed: Promise<{ records: number; bytes: number }> | undefined;

  constructor(path: string) {
    this.#path = path;
    this.#out = createWriteStream(path, { flags: 'w' });
    this.#out.on('error', (e) => {
      this.#error ??= e;
    });
  }

  event(e: CaptureEvent): void {
    if (e.type !== 'message' || e.message.event === 'return') return;
    const line = `${formatTracingRecord(e.message)}\n`;
    this.#records++;
    this.#bytes += Buffer.byteLength(line);
    this.#out.write(line);
  }

  get records(): number {
    return this.#records;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Flushes and closes the file; rejects naming the file if writing failed. */
  close(): Promise<{ records: number; bytes: number }> {
    this.#closed ??= new Promise((resolve, reject) => {
      this.#out.end(() => {
        if (this.#error !== undefined) {
          reject(
            new RpcscopeError('RPCSCOPE_OUTPUT_WRITE', `cannot write ${this.#path}: ${this.#error.message}`, {
              cause: this.#error,
              context: { input: this.#path },
            }),
          );
        } else resolve({ records: this.#records, bytes: this.#bytes });
      });
    });
    return this.#closed;
  }
}
