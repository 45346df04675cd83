/**
 * neutron's RPC topology on Zed (neutron 21, oslo.messaging 14), for the scenarios `rpcscope model`
 * writes from neutron captures and for hand-made ones. Captures start mid-connection (no declares),
 * so which queues and connections each process holds comes from here; every figure is the rig's
 * management API (test/fixtures/neutron-rig/README.md, `snapshot_end` of `idle`), every size the
 * median of the rig's tracing records (all 16 scenarios).
 *
 * Where it comes from in neutron:
 * - OVS agent (`ovs_neutron_agent.OVSNeutronAgent.setup_rpc`): `agent_rpc.create_consumers` for
 *   tunnel update/delete and dvr update (`q-agent-notifier-<resource>-<op>`), plus the resource
 *   push consumers of `resources_rpc.ResourcesPushRpcCallback` (one `neutron-vo-<Resource>-<ver>`
 *   topic per resource the agent caches: Port, Network, Subnet, SecurityGroup(Rule), AddressGroup,
 *   SubPort, Trunk). Port updates and deletes reach it as `push` of Port, not as the legacy
 *   `q-agent-notifier-port-update` fanout (that exchange exists, no agent queue is bound to it).
 *   Each topic is its own oslo RPC server, each with a listener connection: 11; the reply
 *   listener 1; the send pool 1 (report_state, update_device_list, bulk_pull...) = 13.
 * - Device details: the Zed OVS agent's `CacheBackedPluginApi` answers
 *   `get_devices_details_list_and_failed_devices` from the push cache, so it never reaches the
 *   wire (none in 16 scenarios); `update_device_list` (device up/down) does.
 * - report_state (`agent_rpc.PluginReportStateAPI`): a call on `q-reports-plugin` with the
 *   client prepared with `timeout = report_interval` (30 s: AMQP expiration 30000); the metadata
 *   agent's is a cast (`use_call=False`).
 */
import type { ScenarioInput } from './scenario.ts';

type ServiceIn = ScenarioInput['services'][number];
type PeriodicIn = NonNullable<ServiceIn['periodic']>[number];
type OperationIn = NonNullable<ScenarioInput['operations']>[number];

export const NEUTRON_EXCHANGE = 'neutron';

/** The resources whose pushes the Zed OVS agent consumes, `neutron-vo-<name>-<version>`. */
export const OVS_VO_TOPICS = [
  'neutron-vo-AddressGroup-1.2',
  'neutron-vo-Network-1.1',
  'neutron-vo-Port-1.7',
  'neutron-vo-SecurityGroup-1.5',
  'neutron-vo-SecurityGroupRule-1.2',
  'neutron-vo-SubPort-1.0',
  'neutron-vo-Subnet-1.1',
  'neutron-vo-Trunk-1.1',
] as const;

/** The OVS agent's 11 topics: 8 resource pushes + tunnel update/delete + dvr update. */
export const OVS_TOPICS: readonly string[] = [
  ...OVS_VO_TOPICS,
  'q-agent-notifier-tunnel-update',
  'q-agent-notifier-tunnel-delete',
  'q-agent-notifier-dvr-update',
];

/** One neutron-server process's RPC workers (rpc_workers = rpc_state_report_workers = 1 folded). */
export const SERVER_TOPICS: readonly string[] = [
  'q-plugin',
  'q-l3-plugin',
  'q-reports-plugin',
  'q-server-resource-versions',
];

/** The footprint each process shows on the rig's broker (management API, idle). */
export const ZED_FOOTPRINT = {
  'neutron-openvswitch-agent': { connections: 13, queues: 34, bindings: 33 },
  'neutron-dhcp-agent': { connections: 4, queues: 4, bindings: 3 },
  'neutron-l3-agent': { connections: 4, queues: 7, bindings: 6 },
  'neutron-metadata-agent': { connections: 2, queues: 1, bindings: 0 },
} as const;

/** Measured medians (bytes) of the rig's neutron tracing records. */
export const ZED_BYTES = {
  reportState: {
    'neutron-openvswitch-agent': 2581,
    'neutron-dhcp-agent': 1565,
    'neutron-l3-agent': 1628,
    'neutron-metadata-agent': 1429,
  },
  reportStateReply: 208,
  updateDeviceList: 1279,
  updateDeviceListReply: 337,
  bulkPull: 1206,
  bulkPullReply: 3160,
  tunnelSync: 1173,
  tunnelSyncReply: 301,
  hasAliveServer: 1096,
  pushPort: 2946,
  reportAgentResourceVersions: 1439,
  syncRouters: 1176,
  syncRoutersReply: 3896,
} as const;

/** report_interval (neutron default 30 s), also the report_state call's timeout. */
export const REPORT_INTERVAL_S = 30;

function reportState(binary: keyof typeof ZED_BYTES.reportState, bytes?: number): PeriodicIn {
  const cast = binary === 'neutron-metadata-agent';
  return {
    kind: cast ? 'cast' : 'call',
    topic: 'q-reports-plugin',
    method: 'report_state',
    version: '1.2',
    periodS: REPORT_INTERVAL_S,
    jitter: 0,
    bytes: bytes ?? ZED_BYTES.reportState[binary],
    ...(cast ? {} : { timeoutS: REPORT_INTERVAL_S }),
  };
}

export interface NeutronOptions {
  /** Hypervisors: OVS agent (+ metadata agent) per hypervisor; scaled by `--computes N`. */
  readonly hypervisors?: number;
  /** Host pattern of a hypervisor, shared with nova-compute so a hypervisor is one host. */
  readonly hypervisorHost?: string;
  /** Network nodes (DHCP + L3 agents); 0 = none. Default 1. */
  readonly networkNodes?: number;
  /** Run the metadata agent on every hypervisor (as the rig does). Default true. */
  readonly metadataOnHypervisors?: boolean;
  /** neutron-server processes (RPC workers). Default 1. */
  readonly servers?: number;
  /** Measured report_state sizes (model from captures) replacing the defaults. */
  readonly reportBytes?: Partial<Record<keyof typeof ZED_BYTES.reportState, number>>;
}

/** The neutron service groups of a Zed deployment, each process on oslo's connections. */
export function neutronServices(o: NeutronOptions = {}): ServiceIn[] {
  const hv = o.hypervisors ?? 1;
  const hvHost = o.hypervisorHost ?? 'compute-{i:5}';
  const nn = o.networkNodes ?? 1;
  const ex = NEUTRON_EXCHANGE;
  const out: ServiceIn[] = [
    {
      name: 'neutron-server',
      controlExchange: ex,
      count: o.servers ?? 1,
      host: 'controller-{i}',
      topics: [...SERVER_TOPICS],
      // publishes only through its send pool (replies, pushes, casts): 2 in the rig
      connections: { reply: false, send: 2 },
      serve: { delayMs: 5, replyBytes: 203, errorRate: 0 },
      methods: {
        report_state: { delayMs: 5, replyBytes: ZED_BYTES.reportStateReply, errorRate: 0 },
        update_device_list: { delayMs: 55, replyBytes: ZED_BYTES.updateDeviceListReply, errorRate: 0 },
        bulk_pull: { delayMs: 20, replyBytes: ZED_BYTES.bulkPullReply, errorRate: 0 },
        tunnel_sync: { delayMs: 10, replyBytes: ZED_BYTES.tunnelSyncReply, errorRate: 0 },
        sync_routers: { delayMs: 40, replyBytes: ZED_BYTES.syncRoutersReply, errorRate: 0 },
      },
    },
    {
      name: 'neutron-openvswitch-agent',
      controlExchange: ex,
      count: hv,
      scalable: true,
      host: hvHost,
      topics: [...OVS_TOPICS],
      connections: { reply: true, send: 1 },
      periodic: [reportState('neutron-openvswitch-agent', o.reportBytes?.['neutron-openvswitch-agent'])],
    },
  ];
  if (o.metadataOnHypervisors !== false)
    out.push({
      name: 'neutron-metadata-agent',
      controlExchange: ex,
      count: hv,
      scalable: true,
      host: hvHost,
      topics: [],
      connections: { reply: true, send: 1 },
      periodic: [reportState('neutron-metadata-agent', o.reportBytes?.['neutron-metadata-agent'])],
    });
  if (nn > 0)
    out.push(
      {
        name: 'neutron-dhcp-agent',
        controlExchange: ex,
        count: nn,
        host: 'network-{i}',
        topics: ['dhcp_agent'],
        // two send-pool connections in the rig: report_state and the sync thread send at once
        connections: { reply: true, send: 2 },
        periodic: [reportState('neutron-dhcp-agent', o.reportBytes?.['neutron-dhcp-agent'])],
      },
      {
        name: 'neutron-l3-agent',
        controlExchange: ex,
        count: nn,
        host: 'network-{i}',
        topics: ['l3_agent', 'q-agent-notifier-network-update'],
        connections: { reply: true, send: 1 },
        periodic: [reportState('neutron-l3-agent', o.reportBytes?.['neutron-l3-agent'])],
      },
    );
  return out;
}

/**
 * The port operations' RPCs as the rig shows them: neutron-server pushes the Port to every OVS
 * agent (fanout), the agent on the port's hypervisor reports the device up/down.
 */
export function neutronOperations(perMinute = 1): OperationIn[] {
  return [
    {
      name: 'port update',
      perMinute,
      hostOf: 'neutron-openvswitch-agent',
      steps: [
        {
          from: 'neutron-server',
          kind: 'fanout',
          topic: 'neutron-vo-Port-1.7',
          method: 'push',
          version: '1.1',
          bytes: ZED_BYTES.pushPort,
        },
        {
          from: 'neutron-openvswitch-agent',
          kind: 'call',
          topic: 'q-plugin',
          method: 'update_device_list',
          version: '1.9',
          bytes: ZED_BYTES.updateDeviceList,
        },
      ],
    },
  ];
}

/**
 * An OVS agent's resync after a (re)start, as in the rig's `agent-restart`: the server-alive
 * check, its resource versions, `bulk_pull` per cached resource, `tunnel_sync`, the devices.
 */
export function agentResyncOperation(perMinute = 0): OperationIn {
  const from = 'neutron-openvswitch-agent';
  return {
    name: 'ovs agent resync',
    perMinute,
    hostOf: from,
    steps: [
      {
        from,
        kind: 'call',
        topic: 'q-reports-plugin',
        method: 'has_alive_neutron_server',
        version: '1.2',
        bytes: ZED_BYTES.hasAliveServer,
      },
      {
        from,
        kind: 'fanout',
        topic: 'q-server-resource-versions',
        method: 'report_agent_resource_versions',
        version: '1.0',
        bytes: ZED_BYTES.reportAgentResourceVersions,
      },
      {
        from,
        kind: 'call',
        topic: 'q-plugin',
        method: 'bulk_pull',
        version: '1.1',
        count: 2,
        bytes: ZED_BYTES.bulkPull,
      },
      {
        from,
        kind: 'call',
        topic: 'q-plugin',
        method: 'tunnel_sync',
        version: '1.4',
        bytes: ZED_BYTES.tunnelSync,
      },
      {
        from,
        kind: 'call',
        topic: 'q-plugin',
        method: 'update_device_list',
        version: '1.9',
        bytes: ZED_BYTES.updateDeviceList,
      },
    ],
  };
}
