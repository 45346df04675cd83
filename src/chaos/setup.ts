/**
 * Set-up of a chaos run: the vhost with its queue policy and dead-lettering, one fault proxy per
 * service group (plus one for the expired-message collector), and the scenario rewritten so that
 * every service connects through its group's proxy.
 */
import { MIRRORED_POLICY, type QueueMode } from '../broker/cluster/layout.ts';
import type { Cluster } from '../broker/cluster.ts';
import type { Scenario } from '../emulate/scenario.ts';
import { DLX_EXCHANGE, ExpiredCollector } from './expired.ts';
import { FaultProxy, type Upstream } from './proxy.ts';

export function amqpUrlVia(port: number, vhost: string): string {
  return `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(vhost)}`;
}

/** Creates the vhost: permissions, queue policy of the mode, dead-lettering of expired messages. */
export async function prepareChaosVhost(cluster: Cluster, vhost: string, queues: QueueMode): Promise<void> {
  await cluster.prepareVhost(vhost);
  const policy: Record<string, unknown> = { 'dead-letter-exchange': DLX_EXCHANGE };
  if (queues === 'mirrored') Object.assign(policy, MIRRORED_POLICY);
  await cluster.ctl(1, [
    'set_policy',
    '-p',
    vhost,
    '--apply-to',
    'queues',
    'rpcscope-chaos',
    '^(?!rpcscope\\.).*',
    JSON.stringify(policy),
  ]);
}

/** The proxies and the expired-message collector of one run; `close` releases them all. */
export class ChaosRig {
  readonly proxies = new Map<string, FaultProxy>();
  readonly collector: ExpiredCollector;
  private readonly collectorProxy: FaultProxy;

  private constructor(
    private readonly cluster: Cluster,
    collectorProxy: FaultProxy,
    collectorPort: number,
    vhost: string,
  ) {
    this.collectorProxy = collectorProxy;
    this.collector = new ExpiredCollector(amqpUrlVia(collectorPort, vhost));
  }

  /** Listens on the collector's proxy; the collector and the group proxies start in `start`. */
  static async open(cluster: Cluster, vhost: string): Promise<ChaosRig> {
    const collectorProxy = new FaultProxy({
      name: 'collector',
      upstreams: upstreamsFrom(cluster, cluster.nodes.length),
    });
    return new ChaosRig(cluster, collectorProxy, await collectorProxy.listen(), vhost);
  }

  /** Starts the collector, then one proxy per group, entering the cluster at `connect[group]` (1-based). */
  async start(groups: readonly string[], connect: Readonly<Record<string, number>>): Promise<void> {
    await this.collector.start();
    for (const g of groups) {
      const p = new FaultProxy({ name: g, upstreams: upstreamsFrom(this.cluster, connect[g] ?? 1) });
      await p.listen();
      this.proxies.set(g, p);
    }
  }

  /** The proxies a fault on `group` acts on ('*' = every group). */
  proxiesOf(group: string): FaultProxy[] {
    return group === '*' ? [...this.proxies.values()] : [this.proxies.get(group)!];
  }

  async close(): Promise<void> {
    await this.collector.close();
    await this.collectorProxy.close();
    for (const p of this.proxies.values()) await p.close();
  }
}

/** Every node, starting at `first` (1-based) and wrapping: the order a proxy fails over in. */
function upstreamsFrom(cluster: Cluster, first: number): Upstream[] {
  const n = cluster.nodes.length;
  return Array.from({ length: n }, (_, k) => cluster.node(((first - 1 + k) % n) + 1)).map((x) => ({
    host: '127.0.0.1',
    port: x.publicAmqpPort,
    label: x.name,
  }));
}

/** The scenario with the run's queue mode and every service's URL pointing at its group's proxy. */
export function routeScenario(
  scenario: Scenario,
  queues: QueueMode,
  proxies: ReadonlyMap<string, FaultProxy>,
  vhost: string,
): Scenario {
  return {
    ...scenario,
    oslo: { ...scenario.oslo, queues: { ...scenario.oslo.queues, type: queues } },
    services: scenario.services.map((s) => {
      const { url: _u, queues: q, ...rest } = s;
      const settings = q !== undefined ? { ...q, type: queues } : undefined;
      return {
        ...rest,
        url: amqpUrlVia(proxies.get(s.name)!.port, vhost),
        ...(settings !== undefined ? { queues: settings } : {}),
      };
    }),
  };
}
