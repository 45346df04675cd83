/**
 * Emulated nova-computes whose conductor RPCs a REAL nova-conductor (Zed) can answer.
 *
 * A real nova-compute's heartbeat is `Service.save` of the Service row it got from the conductor
 * at start (`Service.get_by_host_and_binary`, else `Service.create`): the primitive carries that
 * row's `id`, and the servicegroup db driver bumps `report_count` each time (nova's
 * `db.service_update` moves `last_seen_up`, what "up" is judged by, only when report_count grows).
 * The emulator does not carry a reply's values into later calls, so the row is made first through
 * the real conductor (nova-conductor.ts does the same two RPCs nova-compute's Service.start does)
 * and recorded here per host; `padArgs` then builds, for a registered host, the arguments nova
 * sends (shapes and object version manifests as data/nova-zed/idle recorded them) instead of the
 * padded stand-ins. Unregistered hosts keep the stand-ins, so other scenarios are unchanged.
 */
import type { PyJson } from '../wire/oslo/encode.ts';
import { parseScenario, type Scenario } from './scenario.ts';

/** nova.objects.service.SERVICE_VERSION of Zed (the `version` of every Service row it writes). */
export const ZED_SERVICE_VERSION = 64;
/** Service's VERSION (nova_object.version) in Zed. */
export const ZED_SERVICE_OBJECT_VERSION = '1.22';

/** obj_tree_get_versions('Service') as Zed's nova-compute sends it in object_class_action_versions. */
export const SERVICE_TREE: Readonly<Record<string, string>> = {
  Service: '1.22',
  ComputeNode: '1.19',
  HVSpec: '1.2',
  PciDevicePoolList: '1.1',
  PciDevicePool: '1.1',
};
const INSTANCE_LIST_TREE: Readonly<Record<string, string>> = {
  InstanceList: '2.6',
  Instance: '2.7',
  ServiceList: '1.19',
  Service: '1.22',
  ComputeNode: '1.19',
  HVSpec: '1.2',
  PciDevicePoolList: '1.1',
  PciDevicePool: '1.1',
  InstanceInfoCache: '1.5',
  SecurityGroupList: '1.1',
  SecurityGroup: '1.2',
  InstanceFault: '1.2',
  PciDeviceList: '1.3',
  PciDevice: '1.7',
  InstanceNUMATopology: '1.3',
  InstanceNUMACell: '1.6',
  VirtCPUTopology: '1.0',
  InstancePCIRequests: '1.1',
  InstancePCIRequest: '1.4',
  InstanceDeviceMetadata: '1.0',
  DeviceMetadata: '1.0',
  DeviceBus: '1.0',
  TagList: '1.1',
  Tag: '1.1',
  Flavor: '1.2',
  VirtCPUModel: '1.0',
  VirtCPUFeature: '1.0',
  EC2Ids: '1.0',
  MigrationContext: '1.2',
  ResourceList: '1.0',
  Resource: '1.0',
  ResourceMetadata: '1.0',
  KeyPairList: '1.3',
  KeyPair: '1.4',
  TrustedCerts: '1.0',
};
export const COMPUTE_NODE_LIST_TREE: Readonly<Record<string, string>> = {
  ComputeNodeList: '1.17',
  ComputeNode: '1.19',
  HVSpec: '1.2',
  PciDevicePoolList: '1.1',
  PciDevicePool: '1.1',
};
const MIGRATION_LIST_TREE: Readonly<Record<string, string>> = { MigrationList: '1.5', Migration: '1.7' };

/**
 * The class actions of a Zed nova-compute's periodic tasks (update_available_resource,
 * _sync_scheduler_instance_info) as recorded: object version manifest, positional args (host, and
 * the node name, which the fake driver sets to the host) and kwargs.
 */
const CLASS_ACTIONS: Readonly<
  Record<
    string,
    {
      versions: Readonly<Record<string, string>>;
      args: (host: string) => PyJson[];
      kwargs: Record<string, PyJson>;
    }
  >
> = {
  'Service.get_by_compute_host': { versions: SERVICE_TREE, args: (h) => [h], kwargs: {} },
  'InstanceList.get_by_host': {
    versions: INSTANCE_LIST_TREE,
    args: (h) => [h],
    kwargs: { expected_attrs: [], use_slave: true },
  },
  'InstanceList.get_by_host_and_node': {
    versions: INSTANCE_LIST_TREE,
    args: (h) => [h, h],
    kwargs: {
      expected_attrs: ['system_metadata', 'numa_topology', 'flavor', 'migration_context', 'resources'],
    },
  },
  'ComputeNodeList.get_all_by_host': {
    versions: COMPUTE_NODE_LIST_TREE,
    args: (h) => [h],
    kwargs: { use_slave: true },
  },
  'MigrationList.get_in_progress_and_error': {
    versions: MIGRATION_LIST_TREE,
    args: (h) => [h, h],
    kwargs: {},
  },
};

/** The class actions an emulated compute of a registered host sends as nova does. */
export const NOVA_CLASS_ACTIONS: readonly string[] = Object.keys(CLASS_ACTIONS);

/** A nova `services` row as the conductor returns it (Service primitive data). */
export interface NovaServiceRow {
  readonly id: number;
  readonly uuid: string;
  readonly host: string;
  readonly binary: string;
  readonly topic: string | null;
  readonly report_count: number;
  readonly disabled: boolean;
  readonly disabled_reason: string | null;
  readonly last_seen_up: string | null;
  readonly forced_down: boolean;
  readonly version: number;
  readonly created_at: string | null;
  readonly updated_at: string | null;
  readonly deleted_at: string | null;
  readonly deleted: boolean;
}

/** The fields of a Service primitive in the order nova serialises them (Service.fields). */
const SERVICE_FIELDS = [
  'id',
  'uuid',
  'host',
  'binary',
  'topic',
  'report_count',
  'disabled',
  'disabled_reason',
  'last_seen_up',
  'forced_down',
  'version',
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted',
] as const satisfies readonly (keyof NovaServiceRow)[];

/** Reads a Service primitive's data (a reply of the real conductor) into a row; undefined if it is not one. */
export function serviceRow(data: unknown): NovaServiceRow | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  const str = (k: string): string | null => (typeof d[k] === 'string' ? (d[k] as string) : null);
  if (typeof d.id !== 'number' || typeof d.uuid !== 'string' || typeof d.host !== 'string') return undefined;
  return {
    id: d.id,
    uuid: d.uuid,
    host: d.host,
    binary: str('binary') ?? 'nova-compute',
    topic: str('topic'),
    report_count: typeof d.report_count === 'number' ? d.report_count : 0,
    disabled: d.disabled === true,
    disabled_reason: str('disabled_reason'),
    last_seen_up: str('last_seen_up'),
    forced_down: d.forced_down === true,
    version: typeof d.version === 'number' ? d.version : ZED_SERVICE_VERSION,
    created_at: str('created_at'),
    updated_at: str('updated_at'),
    deleted_at: str('deleted_at'),
    deleted: d.deleted === true,
  };
}

/** One emulated compute's Service object, as its nova-compute process holds it. */
interface ComputeState {
  row: NovaServiceRow;
  reportCount: number;
}

const computes = new Map<string, ComputeState>();

/** Records the Service row the real conductor returned for `row.host`: its heartbeats carry it from now on. */
export function registerNovaService(row: NovaServiceRow): void {
  computes.set(row.host, { row, reportCount: row.report_count });
}

/** Forgets one host (its row was deleted) or, without a host, every registered one. */
export function forgetNovaServices(host?: string): void {
  if (host === undefined) computes.clear();
  else computes.delete(host);
}

/** The registered row of a host and the report_count its last heartbeat sent. */
export function novaService(host: string): { row: NovaServiceRow; reportCount: number } | undefined {
  const c = computes.get(host);
  return c === undefined ? undefined : { row: c.row, reportCount: c.reportCount };
}

/** The Service primitive nova-compute sends in object_action (nova_object.* keys, Zed's field order). */
export function servicePrimitive(
  row: NovaServiceRow,
  changes: readonly string[],
  reportCount = row.report_count,
): Record<string, PyJson> {
  const data: Record<string, PyJson> = {};
  for (const k of SERVICE_FIELDS) data[k] = k === 'report_count' ? reportCount : row[k];
  return {
    'nova_object.name': 'Service',
    'nova_object.namespace': 'nova',
    'nova_object.version': ZED_SERVICE_OBJECT_VERSION,
    'nova_object.data': data,
    'nova_object.changes': [...changes],
  };
}

/**
 * The arguments nova-compute sends for `object` ("Service.save", "InstanceList.get_by_host"...)
 * from a registered host, or undefined (not registered, or not an RPC this module knows).
 *
 * `first` is true for the first build of a message: `sized` (payload.ts) builds each body once
 * with an empty pad and at most once more with the pad, so the heartbeat's report_count is
 * advanced on the first build only (one step per message sent, as the db driver's += 1).
 */
export function novaComputeArgs(
  method: string,
  object: string | undefined,
  host: string,
  first: boolean,
): Record<string, PyJson> | undefined {
  const c = computes.get(host);
  if (c === undefined) return undefined;
  if (method === 'sync_instance_info' && object === undefined)
    // SchedulerAPI.sync_instance_info(ctxt, host_name, instance_uuids): no servers on emulated hosts
    return { host_name: host, instance_uuids: [] };
  if (object === undefined) return undefined;
  if (method === 'object_action' && object === 'Service.save') {
    if (first) c.reportCount += 1;
    // servicegroup/drivers/db.py _report_state: service_ref.report_count += 1; save()
    return {
      objinst: servicePrimitive(c.row, ['report_count'], c.reportCount),
      objmethod: 'save',
      args: [],
      kwargs: {},
    };
  }
  if (method === 'object_class_action_versions') {
    const a = CLASS_ACTIONS[object];
    if (a === undefined) return undefined;
    const dot = object.lastIndexOf('.');
    return {
      objname: object.slice(0, dot),
      objmethod: object.slice(dot + 1),
      object_versions: { ...a.versions },
      args: a.args(host),
      kwargs: { ...a.kwargs },
    };
  }
  return undefined;
}

/** Host name pattern of emulated computes against a real conductor: what cleanup matches. */
export const EMU_COMPUTE_PREFIX = 'emu-cmp-';

/** One periodic conductor call of Zed's nova-compute (period in s, data/nova-zed/idle). */
type ComputePeriodic = {
  kind: 'call' | 'fanout';
  topic: string;
  method: string;
  object?: string;
  periodS: number;
  version: string;
};

/**
 * nova-compute's periodic RPCs on Zed with its defaults, as the idle capture shows them:
 * the servicegroup heartbeat (report_interval 10 s), `_heal_instance_info_cache` (60 s),
 * `update_available_resource` (60 s: the resource tracker's compute node, instance and migration
 * reads and the service lookup) and `_sync_scheduler_instance_info` (120 s: the instance list,
 * then a fanout to every scheduler). The resource tracker's `ComputeNode.save` is sent only when
 * a resource changed, which never happens on an idle fake-driver host (none in the capture).
 */
export function computePeriodics(opts: { resourceTracker: boolean }): ComputePeriodic[] {
  const c = (object: string, periodS: number): ComputePeriodic => ({
    kind: 'call',
    topic: 'conductor',
    method: object === 'Service.save' ? 'object_action' : 'object_class_action_versions',
    object,
    periodS,
    version: '3.0',
  });
  const out = [c('Service.save', 10)];
  if (!opts.resourceTracker) return out;
  return [
    ...out,
    c('InstanceList.get_by_host', 60),
    c('ComputeNodeList.get_all_by_host', 60),
    c('InstanceList.get_by_host_and_node', 60),
    c('MigrationList.get_in_progress_and_error', 60),
    c('Service.get_by_compute_host', 60),
    c('InstanceList.get_by_host', 120),
    { kind: 'fanout', topic: 'scheduler', method: 'sync_instance_info', periodS: 120, version: '4.2' },
  ];
}

/** The request context nova-compute's admin context serialises to (keys as data/nova-zed records them). */
export const NOVA_ADMIN_CONTEXT_KEYS: readonly string[] = [
  'user',
  'project_id',
  'system_scope',
  'project',
  'domain',
  'user_domain',
  'project_domain',
  'is_admin',
  'read_only',
  'show_deleted',
  'auth_token',
  'request_id',
  'global_request_id',
  'resource_uuid',
  'roles',
  'user_identity',
  'is_admin_project',
  'user_id',
  'read_deleted',
  'remote_address',
  'timestamp',
  'quota_class',
  'user_name',
  'service_catalog',
  'project_name',
];

/**
 * `count` emulated nova-computes `emu-cmp-0001`… on the nova vhost at `url` with no emulated
 * conductor or scheduler: the real ones answer. Each listens on `compute` as nova-compute does
 * (one connection: nova's layout) and sends the periodic RPCs of computePeriodics with nova's
 * admin context. Its hosts must be registered (nova-conductor.ts ensureComputes) before it starts,
 * or its calls go out as padded stand-ins the real conductor rejects.
 */
export function novaComputeScenario(
  url: string,
  count: number,
  opts: { resourceTracker?: boolean; speedup?: number; exchange?: string } = {},
): Scenario {
  return parseScenario(
    JSON.stringify({
      version: 1,
      name: 'nova-conductor-real',
      broker: { url },
      oslo: { controlExchange: opts.exchange ?? 'nova', contextKeys: NOVA_ADMIN_CONTEXT_KEYS },
      ...(opts.speedup !== undefined && opts.speedup !== 1 ? { speedup: opts.speedup } : {}),
      services: [
        {
          name: 'nova-compute',
          count,
          host: `${EMU_COMPUTE_PREFIX}{i:4}`,
          topics: ['compute'],
          scalable: true,
          // bytes 0: the body is nova's own arguments (nova.ts), never padded
          periodic: computePeriodics({ resourceTracker: opts.resourceTracker ?? true }).map((p) => ({
            ...p,
            bytes: 0,
            jitter: 0,
          })),
        },
      ],
    }),
    'nova-conductor-real',
  );
}

/** The host names of novaComputeScenario's computes. */
export function emulatedComputeHosts(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${EMU_COMPUTE_PREFIX}${String(i + 1).padStart(4, '0')}`);
}
