/**
 * Every message crosses the wire at least twice (its publish and each delivery; a tracing log
 * and a pcap show both), with the same body bytes. Parsing JSON is most of the decoder's work,
 * so the parse of a body is remembered (bounded) and reused when the same bytes come again.
 * Entries are compared byte for byte, so a hash collision only costs a parse.
 */
import { type ParsedBody, parseBody } from './envelope.ts';

/** Smaller bodies parse faster than they hash. */
const MIN_BYTES = 256;
/** A publish and its deliveries are close together in any capture; a small window suffices. */
const MAX_ENTRIES = 2048;

/**
 * FNV-1a over the length and at most ~SAMPLE bytes spread over the body plus its last 64: hashing
 * every byte cost as much as a quarter of the parse it saves. Bodies that differ only between
 * sampled bytes collide; the byte comparison then refuses the entry (a parse, never a wrong hit).
 */
const SAMPLE = 2048;

function sampledHash(b: Uint8Array): number {
  const n = b.length;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  const stride = n > SAMPLE ? Math.ceil(n / SAMPLE) : 1;
  for (let i = 0; i < n; i += stride) {
    h ^= b[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  for (let i = n > 64 ? n - 64 : 0; i < n; i++) {
    h ^= b[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

export class BodyCache {
  readonly #entries = new Map<number, { body: Uint8Array; parsed: ParsedBody }>();
  hits = 0;
  misses = 0;
  /** Benchmarks switch it off to measure the parse of every message. */
  enabled = true;

  parse(body: Uint8Array): ParsedBody {
    if (!this.enabled || body.length < MIN_BYTES) return parseBody(body);
    const h = sampledHash(body);
    const e = this.#entries.get(h);
    if (e !== undefined && sameBytes(e.body, body)) {
      this.hits++;
      return e.parsed; // kept: a fanout or notification may be delivered many times
    }
    this.misses++;
    const parsed = parseBody(body);
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    // A copy: sources may hand out views of buffers they reuse. The parse is only read by
    // decodeRpc, never handed out, so sharing it between records is safe.
    this.#entries.set(h, { body: body.slice(), parsed });
    return parsed;
  }
}
