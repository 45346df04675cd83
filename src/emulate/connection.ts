/**
 * Connection and recovery policy of an emulated service, as oslo.messaging's rabbit driver sets
 * them: the queue options of its scenario, the heartbeat kombu asks for, the reconnect backoff.
 */
import type { OsloQueueOptions } from '../wire/oslo/encode.ts';
import type { ServicePlan } from './plan.ts';
import type { Scenario } from './scenario.ts';

/** The oslo queue options of a service: its own `queues` section, else the scenario's. */
export function queueOptions(s: Scenario, p: ServicePlan): OsloQueueOptions {
  const q = p.spec.queues ?? s.oslo.queues;
  return {
    durableQueues: q.durable,
    autoDelete: q.autoDelete,
    haQueues: q.type === 'mirrored',
    quorumQueues: q.type === 'quorum',
    transientQueuesTtlS: q.transientTtlS,
    transientQuorumQueues: q.transientQuorum,
    streamFanout: q.streamFanout,
  };
}

/** The client reads the heartbeat from the URL query (as amqplib did); oslo's heartbeat_timeout_threshold is the value kombu asks for. */
export function withHeartbeat(url: string, s: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${s}`;
}

/**
 * kombu's `Connection(connect_timeout=5)`, which oslo leaves at its default and py-amqp applies to
 * the TCP connect and to the AMQP handshake: a broker out of sockets accepts the TCP connection but
 * never opens AMQP, and without it such a connect would wait forever instead of retrying.
 */
export const CONNECT_TIMEOUT_MS = 5000;

/** kombu's linear backoff: 1, 3, 5 ... capped at 30 s with oslo's defaults. */
export function reconnectDelayMs(s: Scenario, attempt: number): number {
  const o = s.oslo;
  return Math.min(o.retryIntervalS + o.retryBackoffS * (attempt - 1), o.intervalMaxS) * 1000;
}
