/**
 * What nova's RPC methods mean to a user, and who sends them. Small tables, one entry per
 * (topic, method), extensible with `extendAliases`. Sources: nova 26 (Zed)
 * `nova/compute/rpcapi.py`, `nova/conductor/rpcapi.py`, `nova/scheduler/rpcapi.py`,
 * `nova/scheduler/client/query.py` and `nova/compute/api.py` (which API action casts what).
 */

import type { MessageHints } from '../records.ts';
import { isServerToAgentTopic, neutronAgentOfMethod, serviceOfTopic as neutronService } from './services.ts';

export interface AliasEntry {
  /** Topic the starting message goes to (routing key before the first '.'; fanout: exchange without `_fanout`). */
  readonly topic: string;
  readonly method: string;
  /** The user action, as `openstack` names it. */
  readonly alias: string;
  /**
   * How to count the servers one request acts on: the number of messages with this method in the
   * operation. nova's conductor casts `build_and_run_instance` once per server
   * (conductor/manager.py schedule_and_build_instances loops over the selected hosts).
   */
  readonly perServer?: { readonly topic: string; readonly method: string };
}

const BUILD = { topic: 'compute', method: 'build_and_run_instance' } as const;

const builtin: AliasEntry[] = [
  // nova-api → nova-conductor (conductor/rpcapi.py ComputeTaskAPI)
  { topic: 'conductor', method: 'schedule_and_build_instances', alias: 'server create', perServer: BUILD },
  // nova-compute asks conductor to build again elsewhere after a failed build (compute/manager.py
  // _do_build_and_run_instance → compute_task_api.build_instances): a reschedule
  { topic: 'conductor', method: 'build_instances', alias: 'server create (reschedule)', perServer: BUILD },
  { topic: 'conductor', method: 'migrate_server', alias: 'server resize / migrate' },
  { topic: 'conductor', method: 'live_migrate_instance', alias: 'server live-migrate' },
  { topic: 'conductor', method: 'rebuild_instance', alias: 'server rebuild / evacuate' },
  { topic: 'conductor', method: 'unshelve_instance', alias: 'server unshelve' },
  { topic: 'conductor', method: 'revert_snapshot_based_resize', alias: 'server resize revert (cross-cell)' },
  {
    topic: 'conductor',
    method: 'confirm_snapshot_based_resize',
    alias: 'server resize confirm (cross-cell)',
  },
  // nova-api → nova-compute (compute/rpcapi.py ComputeAPI)
  { topic: 'compute', method: 'stop_instance', alias: 'server stop' },
  { topic: 'compute', method: 'start_instance', alias: 'server start' },
  { topic: 'compute', method: 'reboot_instance', alias: 'server reboot' },
  { topic: 'compute', method: 'terminate_instance', alias: 'server delete' },
  { topic: 'compute', method: 'soft_delete_instance', alias: 'server delete (soft)' },
  { topic: 'compute', method: 'restore_instance', alias: 'server restore' },
  { topic: 'compute', method: 'pause_instance', alias: 'server pause' },
  { topic: 'compute', method: 'unpause_instance', alias: 'server unpause' },
  { topic: 'compute', method: 'suspend_instance', alias: 'server suspend' },
  { topic: 'compute', method: 'resume_instance', alias: 'server resume' },
  { topic: 'compute', method: 'rescue_instance', alias: 'server rescue' },
  { topic: 'compute', method: 'unrescue_instance', alias: 'server unrescue' },
  { topic: 'compute', method: 'shelve_instance', alias: 'server shelve' },
  { topic: 'compute', method: 'shelve_offload_instance', alias: 'server shelve offload' },
  { topic: 'compute', method: 'snapshot_instance', alias: 'server image create' },
  { topic: 'compute', method: 'backup_instance', alias: 'server backup create' },
  { topic: 'compute', method: 'confirm_resize', alias: 'server resize confirm' },
  { topic: 'compute', method: 'revert_resize', alias: 'server resize revert' },
  { topic: 'compute', method: 'reserve_block_device_name', alias: 'server add volume (volume attach)' },
  { topic: 'compute', method: 'attach_volume', alias: 'server add volume (volume attach)' },
  { topic: 'compute', method: 'detach_volume', alias: 'server remove volume (volume detach)' },
  { topic: 'compute', method: 'swap_volume', alias: 'server volume update' },
  { topic: 'compute', method: 'attach_interface', alias: 'server add port (interface attach)' },
  { topic: 'compute', method: 'detach_interface', alias: 'server remove port (interface detach)' },
  { topic: 'compute', method: 'get_vnc_console', alias: 'console url show (vnc)' },
  { topic: 'compute', method: 'get_spice_console', alias: 'console url show (spice)' },
  { topic: 'compute', method: 'get_serial_console', alias: 'console url show (serial)' },
  { topic: 'compute', method: 'get_console_output', alias: 'console log show' },
  { topic: 'compute', method: 'set_admin_password', alias: 'server set --password' },
  { topic: 'compute', method: 'change_instance_metadata', alias: 'server set --property' },
  { topic: 'compute', method: 'trigger_crash_dump', alias: 'server dump create' },
  { topic: 'compute', method: 'external_instance_event', alias: 'server external event (neutron/cinder)' },
  { topic: 'compute', method: 'live_migration_abort', alias: 'server migration abort' },
  { topic: 'compute', method: 'live_migration_force_complete', alias: 'server migration force complete' },
];

/**
 * Who sends a method, when the capture cannot tell (a connection seen mid-stream has no name).
 * From the rpcapi modules above: API actions come from nova-api, scheduling from nova-conductor,
 * nova-object RPC (`object_*` on topic conductor) from services without database access, which
 * in nova is nova-compute (nova/objects/base.py NovaObject.indirection_api is set in
 * nova/cmd/compute.py only).
 */
const senderByTopicMethod: Record<string, string> = {
  'scheduler.select_destinations': 'nova-conductor',
  'conductor.build_instances': 'nova-compute',
  'compute.build_and_run_instance': 'nova-conductor',
  'compute.prep_resize': 'nova-conductor',
  'compute.prep_snapshot_based_resize_at_dest': 'nova-conductor',
  'compute.rebuild_instance': 'nova-conductor',
  'compute.unshelve_instance': 'nova-conductor',
  'compute.check_can_live_migrate_destination': 'nova-conductor',
  'compute.live_migration': 'nova-conductor',
  'compute.prep_snapshot_based_resize_at_source': 'nova-conductor',
  'compute.finish_snapshot_based_resize_at_dest': 'nova-conductor',
  'compute.confirm_snapshot_based_resize_at_source': 'nova-conductor',
  'compute.revert_snapshot_based_resize_at_dest': 'nova-conductor',
  'compute.finish_revert_snapshot_based_resize_at_source': 'nova-conductor',
  // compute → compute (nova/compute/manager.py): the other host of a move sends these, on its own
  // connection; named from the code only when that connection is not named on the wire.
  // prep_resize (dest) → resize_instance (source) → finish_resize (dest);
  // revert_resize (dest) → finish_revert_resize (source); live migration source ⇄ dest
  'compute.resize_instance': 'nova-compute',
  'compute.finish_resize': 'nova-compute',
  'compute.finish_revert_resize': 'nova-compute',
  'compute.check_can_live_migrate_source': 'nova-compute',
  'compute.pre_live_migration': 'nova-compute',
  'compute.post_live_migration_at_destination': 'nova-compute',
  'compute.rollback_live_migration_at_destination': 'nova-compute',
  'compute.remove_volume_connection': 'nova-compute',
  'compute.drop_move_claim_at_destination': 'nova-compute',
  'scheduler.update_instance_info': 'nova-compute',
  'scheduler.delete_instance_info': 'nova-compute',
  'scheduler.sync_instance_info': 'nova-compute',
};

const OBJECT_METHODS = new Set([
  'object_action',
  'object_class_action',
  'object_class_action_versions',
  'object_backport',
  'object_backport_versions',
]);

/** nova-object RPC (nova/conductor/rpcapi.py): a remote DB access, never a user action by itself. */
export function isObjectRpc(method: string | undefined): boolean {
  return method !== undefined && OBJECT_METHODS.has(method);
}

const table = new Map<string, AliasEntry>();
function add(e: AliasEntry): void {
  table.set(`${e.topic}.${e.method}`, e);
}
for (const e of builtin) add(e);

/** Add or replace entries (other projects: cinder-volume, neutron agents...). */
export function extendAliases(entries: readonly AliasEntry[]): void {
  for (const e of entries) add(e);
}

export function aliasFor(topic: string, method: string | undefined): AliasEntry | undefined {
  if (method === undefined) return undefined;
  return table.get(`${topic}.${method}`);
}

/**
 * The user action a move method's arguments tell (MessageHints.move, src/wire/oslo/hints.ts):
 * conductor `migrate_server` is a resize when its flavor differs from the instance's and a cold
 * migrate when it is the instance's own (nova/compute/api.py resize() with and without
 * flavor_id), a live migration with `live`; `rebuild_instance` with `recreate` is an evacuation
 * (compute/api.py evacuate()), without it a rebuild. Undefined when the arguments do not tell.
 */
export function moveAction(method: string | undefined, move: MessageHints['move']): string | undefined {
  if (move === undefined) return undefined;
  if (method === 'migrate_server') {
    if (move.live === true) return 'server live-migrate';
    if (move.resize !== undefined) return move.resize ? 'server resize' : 'server migrate';
  } else if (method === 'rebuild_instance' && move.recreate !== undefined) {
    return move.recreate ? 'server evacuate' : 'server rebuild';
  }
  return undefined;
}

/** Service type that, by nova's code, sends this message; undefined when not known. */
export function knownSender(topic: string, method: string | undefined): string | undefined {
  if (method === undefined) return undefined;
  // neutron-server's notifiers: versioned-object pushes (resources_rpc.py ResourcesPushRpcApi),
  // the agent notifiers (q-agent-notifier-*, dhcp_agent, l3_agent: agentnotifiers/, ml2/rpc.py)
  if (isServerToAgentTopic(topic)) return 'neutron-server';
  const agent = neutronAgentOfMethod(topic, method);
  if (agent !== undefined) return agent;
  if (topic === 'conductor' && isObjectRpc(method)) return 'nova-compute';
  const direct = senderByTopicMethod[`${topic}.${method}`];
  if (direct !== undefined) return direct;
  // every API action in the alias table is sent by nova-api (nova/compute/api.py)
  return aliasFor(topic, method) !== undefined ? 'nova-api' : undefined;
}

/** The service type that consumes a topic: `conductor` → nova-conductor. */
export function serviceOfTopic(topic: string): string {
  switch (topic) {
    case 'conductor':
    case 'compute':
    case 'scheduler':
    case 'consoleauth':
    case 'api':
      return `nova-${topic}`;
    case 'notifications':
    case 'versioned_notifications':
      return 'notifications';
    default:
      // neutron's topics (q-plugin → neutron-server, dhcp_agent → neutron-dhcp-agent…)
      return neutronService(topic);
  }
}
