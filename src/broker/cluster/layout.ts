/**
 * Pure description of a local cluster: node names, namespaces, addresses, ports and the
 * RabbitMQ configuration files. No I/O here, so the layout is unit-tested.
 *
 * Each broker node runs in its own Linux network namespace, linked by a veth pair to a bridge in
 * a "hub" namespace. The 10.213.0.0/24 addresses exist only inside these namespaces; the
 * machine's own network stack never sees them. Clients reach a node through a forwarder that
 * listens on 127.0.0.1 in the root namespace (see forwarder.ts).
 */

export type QueueMode = 'classic' | 'mirrored' | 'quorum';
export const QUEUE_MODES: readonly QueueMode[] = ['classic', 'mirrored', 'quorum'];

/** RabbitMQ's `cluster_partition_handling` values. */
export type PartitionHandling = 'ignore' | 'pause_minority' | 'autoheal';

export interface ClusterOptions {
  readonly dir: string;
  readonly nodes: number;
  readonly queues: QueueMode;
  /** First AMQP port on 127.0.0.1 (node i gets base+i-1); 0 = any free port. */
  readonly amqpBasePort: number;
  /** First management port on 127.0.0.1; 0 = any free port. */
  readonly mgmtBasePort: number;
  readonly partitionHandling: PartitionHandling;
  /** Erlang net_ticktime in seconds (RabbitMQ default 60): how fast a silent peer is declared down. */
  readonly netTicktime: number;
  /** Short random id that keeps namespaces of concurrent clusters apart. */
  readonly tag: string;
}

export interface NodeLayout {
  readonly index: number;
  /** Erlang node name, e.g. rpcscope-1@node1. */
  readonly name: string;
  /** Host name of the node inside the namespaces (from the namespace's own /etc/hosts). */
  readonly host: string;
  readonly netns: string;
  /** Address on the cluster link (exists only inside the namespaces). */
  readonly address: string;
  /** Ports inside the node's namespace. */
  readonly amqpPort: number;
  readonly mgmtPort: number;
  readonly distPort: number;
  /** Veth ends: `eth0` inside the node namespace, `hubPort` inside the hub namespace. */
  readonly hubPort: string;
  readonly baseDir: string;
}

export const SUBNET_PREFIX = '10.213.0';
export const HUB_BRIDGE = 'br0';

export function hubNetns(tag: string): string {
  return `rpcscope-${tag}-hub`;
}

export function layoutNodes(o: Pick<ClusterOptions, 'dir' | 'nodes' | 'tag'>): NodeLayout[] {
  const out: NodeLayout[] = [];
  for (let i = 1; i <= o.nodes; i++) {
    out.push({
      index: i,
      name: `rpcscope-${i}@node${i}`,
      host: `node${i}`,
      netns: `rpcscope-${o.tag}-n${i}`,
      address: `${SUBNET_PREFIX}.${i}`,
      amqpPort: 5700 + i,
      mgmtPort: 15700 + i,
      distPort: 25700 + i,
      hubPort: `n${i}`,
      baseDir: `${o.dir}/node${i}`,
    });
  }
  return out;
}

/** /etc/hosts seen by processes in the namespaces (`ip netns exec` bind-mounts /etc/netns/NS/hosts). */
export function hostsFile(nodes: readonly NodeLayout[]): string {
  const lines = ['127.0.0.1 localhost'];
  for (const n of nodes) lines.push(`${n.address} ${n.host}`);
  return `${lines.join('\n')}\n`;
}

/** rabbitmq.conf (new-style sysctl format) of one node. */
export function rabbitmqConf(
  n: NodeLayout,
  o: Pick<ClusterOptions, 'partitionHandling'>,
  seed?: NodeLayout,
): string {
  // nodes after the first boot straight into the seed's cluster (peer discovery with a fixed
  // list), which saves the stop_app / join_cluster / start_app cycle
  const discovery =
    seed && seed.index !== n.index
      ? [
          'cluster_formation.peer_discovery_backend = classic_config',
          `cluster_formation.classic_config.nodes.1 = ${seed.name}`,
        ]
      : [];
  return [
    ...discovery,
    // clients arrive only through the forwarder, which connects to the namespace's loopback
    `listeners.tcp.default = 127.0.0.1:${n.amqpPort}`,
    'management.tcp.ip = 127.0.0.1',
    `management.tcp.port = ${n.mgmtPort}`,
    `cluster_partition_handling = ${o.partitionHandling}`,
    // guest may log in over loopback only, which is exactly how the forwarder arrives
    'loopback_users.guest = true',
    'vm_memory_high_watermark.relative = 0.4',
    'log.file.level = info',
    // a 5 s window keeps management message rates fine-grained enough for short experiments
    'collect_statistics_interval = 2000',
    '',
  ].join('\n');
}

/** advanced.config: Erlang kernel settings that rabbitmq.conf cannot express. */
export function advancedConfig(o: Pick<ClusterOptions, 'netTicktime'>): string {
  return `[{kernel, [{net_ticktime, ${o.netTicktime}}]}].\n`;
}

/** Environment of rabbitmq-server / rabbitmqctl for one node (no inherited RABBITMQ_* leaks in). */
export function nodeEnv(n: NodeLayout, clusterDir: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (!k.startsWith('RABBITMQ_') && !k.startsWith('ERL_')) env[k] = v;
  }
  return {
    ...env,
    // the private Erlang cookie lives in $HOME/.erlang.cookie, shared by the cluster's nodes only
    HOME: clusterDir,
    RABBITMQ_NODENAME: n.name,
    RABBITMQ_NODE_PORT: String(n.amqpPort),
    RABBITMQ_DIST_PORT: String(n.distPort),
    RABBITMQ_CONFIG_FILE: `${n.baseDir}/rabbitmq.conf`,
    RABBITMQ_ADVANCED_CONFIG_FILE: `${n.baseDir}/advanced.config`,
    RABBITMQ_ENABLED_PLUGINS_FILE: `${n.baseDir}/enabled_plugins`,
    RABBITMQ_CONF_ENV_FILE: `${n.baseDir}/rabbitmq-env.conf`,
    RABBITMQ_MNESIA_BASE: `${n.baseDir}/mnesia`,
    RABBITMQ_LOG_BASE: `${n.baseDir}/log`,
    RABBITMQ_PID_FILE: `${n.baseDir}/rabbitmq.pid`,
  };
}

/** The policy that makes every queue of the cluster mirrored (classic mirrored queues, `ha-mode`). */
export const MIRRORED_POLICY = { 'ha-mode': 'all', 'ha-sync-mode': 'automatic' } as const;
