/**
 * The spec's view of "which service sent this message": the oslo connection name
 * (`<binary>:<pid>:<uuid>`, set by oslo.messaging's rabbit driver as the AMQP
 * `connection_name` client property, impl_rabbit.py Connection) from the message's connection
 * or from the connection's handshake in the capture.
 */
import type { ServiceRef, ServiceResolver } from '../correlate/operations.ts';
import type { RpcMessage, TopologyEvent } from '../records.ts';

/** "nova-compute:15073:5f3f…" → { type: "nova-compute", instance: "pid 15073" } */
export function serviceFromConnectionName(name: string | undefined): ServiceRef | undefined {
  if (name === undefined) return undefined;
  const m = /^([A-Za-z0-9_.-]+):(\d+):/.exec(name);
  if (m === null || m[1] === undefined) return undefined;
  return { type: m[1], instance: `pid ${m[2] ?? '?'}` };
}

export function specResolver(loaded: { readonly topology: readonly TopologyEvent[] }): ServiceResolver {
  const byConn = new Map<string, ServiceRef>();
  for (const t of loaded.topology) {
    if (t.type !== 'connection-open') continue;
    const n = t.clientProperties.connection_name;
    const ref = serviceFromConnectionName(typeof n === 'string' ? n : t.connection.name);
    if (ref !== undefined) byConn.set(t.connection.id, ref);
  }
  return (m: RpcMessage) => {
    const c = m.wire.connection;
    if (c === undefined) return undefined;
    const ref = serviceFromConnectionName(c.name) ?? byConn.get(c.id);
    // the pid names a process, not a host; per-host instances are named by routing keys instead
    return ref === undefined ? undefined : { type: ref.type };
  };
}
