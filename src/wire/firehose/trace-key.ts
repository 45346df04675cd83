/**
 * The routing keys of the firehose (rabbit_trace.erl): a copy of every publish goes to
 * `amq.rabbitmq.trace` with key `publish.<exchange>`, of every delivery with `deliver.<queue>`.
 */

/** publish, deliver, or a delivery to one of the capture's own queues (its own traffic). */
export type TraceKind = 'publish' | 'deliver' | 'own';

/** The key under which deliveries from `queue` are traced. */
export function deliverKey(queue: string): string {
  return `deliver.${queue}`;
}

/** What a trace copy is, from its routing key; `own` holds `deliverKey` of the capture's queues. */
export function traceKind(routingKey: string, own: ReadonlySet<string>): TraceKind {
  if (own.has(routingKey)) return 'own';
  return routingKey.startsWith('deliver.') ? 'deliver' : 'publish';
}
