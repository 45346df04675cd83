/**
 * The spec's view of "which service sent this message", from src/correlate/services.ts
 * (connection names, consumed queues, notification publisher ids, replies, shared reply queues).
 */

import type { RpcCall, RpcMessage, TopologyEvent } from '../records.ts';
import type { ServiceRef, ServiceResolver } from './operations.ts';
import { type ConnectionService, identifyServices } from './services.ts';

export function specResolver(loaded: {
  readonly messages: readonly RpcMessage[];
  readonly calls: readonly RpcCall[];
  readonly topology: readonly TopologyEvent[];
}): ServiceResolver {
  return resolverOf(identifyServices(loaded.messages, loaded.calls, loaded.topology));
}

/** A resolver over services already identified (ServiceEvidence.result()). */
export function resolverOf(services: readonly ConnectionService[]): ServiceResolver {
  const byConn = new Map<string, ServiceRef>();
  for (const s of services) {
    if (s.service === 'unknown' || s.service === 'firehose consumer') continue;
    byConn.set(s.connection, { type: s.service, ...(s.host !== undefined ? { instance: s.host } : {}) });
  }
  return (m: RpcMessage) => {
    const c = m.wire.connection;
    return c === undefined ? undefined : byConn.get(c.id);
  };
}
