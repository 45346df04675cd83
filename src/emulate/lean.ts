/**
 * What amqplib keeps alive per connection after its handshake and never uses again, let go. An
 * emulated OVS agent holds 13 connections, so each KiB here is 13 KiB per agent; nothing of it
 * reaches the wire (no frame, option or timer changes).
 *
 * amqplib 2.x, once a connection is open (lib/connection.js `succeed`, lib/connect.js):
 * - binds `onSocketError` to a `new Error('Unexpected close')` made at open time as the socket's
 *   'end' listener. Until its stack is formatted, that Error holds V8 call-site records, and
 *   through them the whole handshake closure (fields, tuned options, a dozen closures): ~2.3 KiB
 *   per connection, measured with heap snapshots. The replacement makes the Error when the
 *   socket ends, with the same message, so the 'close' reason stays "Unexpected close".
 * - keeps connect()'s `sock.once('error', ...)`, which only reports errors before the socket
 *   connected (`if (!sockok)`), and the `sock.setTimeout(timeout, ...)` listener of its connect
 *   timeout, which `setTimeout(0)` disarms but does not remove: no-ops from then on that pin
 *   connect()'s scope (URL, socket and open options, the credentials buffer). `onSocketError`
 *   stays the socket's 'error' listener, so no error goes unhandled.
 * - parses frames out of `Buffer.concat([rest, incoming])`, which takes small buffers from Node's
 *   8 KiB pool, and keeps the unparsed tail (`rest`, usually empty) as a view into it: each idle
 *   connection pins an 8 KiB slab. After amqplib's own 'readable' listener has parsed what came
 *   in, an empty tail is swapped for one shared empty buffer (a partial frame is left as it is).
 * - keeps the broker's decoded `connection.start` server properties on every connection; amqplib
 *   never reads them again, and nothing in rpcscope does.
 *
 * The shapes are checked at run time: with another amqplib, whatever does not match is left alone.
 */
import type { EventEmitter } from 'node:events';

interface AmqplibConnection {
  stream: EventEmitter;
  rest: Buffer;
  onSocketError(err: Error): void;
  serverProperties?: unknown;
}

const NO_REST = Buffer.alloc(0);

function internals(model: unknown): AmqplibConnection | undefined {
  const c = (model as { connection?: unknown } | null)?.connection as Partial<AmqplibConnection> | undefined;
  if (typeof c?.onSocketError !== 'function') return undefined;
  const s = c.stream as Partial<EventEmitter> | undefined;
  if (typeof s?.rawListeners !== 'function' || typeof s.removeListener !== 'function') return undefined;
  if (!Buffer.isBuffer(c.rest)) return undefined;
  return c as AmqplibConnection;
}

/** Releases the handshake leftovers of an open amqplib connection (`amqp.connect`'s result). */
export function shedHandshake(model: unknown): void {
  const c = internals(model);
  if (c === undefined) return;
  const sock = c.stream;
  for (const l of sock.rawListeners('end')) {
    if (l.name !== 'bound onSocketError') continue;
    sock.removeListener('end', l as (...a: unknown[]) => void);
    sock.on('end', () => c.onSocketError(new Error('Unexpected close')));
  }
  // A `once` wrapper exposes the function it wraps; amqplib's own 'error' listener is a bound
  // method, not a once wrapper, and stays.
  for (const ev of ['error', 'timeout']) {
    for (const l of sock.rawListeners(ev)) {
      const inner = (l as { listener?: unknown }).listener;
      if (typeof inner === 'function' && inner.name === '')
        sock.removeListener(ev, l as (...a: unknown[]) => void);
    }
  }
  // Registered after amqplib's acceptLoop listener, so it runs once that one has parsed the read.
  sock.on('readable', () => {
    if (c.rest.length === 0 && c.rest !== NO_REST) c.rest = NO_REST;
  });
  if (c.serverProperties !== undefined) c.serverProperties = undefined;
}
