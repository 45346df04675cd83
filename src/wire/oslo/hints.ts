/**
 * What neutron's messages say about who sent them and what they act on, taken from the RPC
 * arguments / notification payload without copying them out (they hold user data): the resource
 * ids (dashed UUIDs: networks, subnets, ports, routers, devices) an operation and the agents'
 * reactions to it share, and the `agent_state` (binary, host, agent type) an agent reports in
 * `report_state` (neutron/agent/rpc.py PluginReportStateAPI). Only neutron's exchanges are read:
 * the hot path of a nova capture is unchanged.
 */
import type { MessageHints } from '../../records.ts';
import { parseBody } from './envelope.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Keys whose UUIDs are not resources an operation acts on. */
const SKIP_KEYS = new Set(['agent_state', 'message_id', 'uuid', 'configurations']);
/** Enough to link; a bulk push of a whole network is not worth keeping every id of. */
const MAX_IDS = 64;

/** neutron's control exchange, its fanouts (`q-agent-notifier-*`, `neutron-vo-*`, `dhcp_agent`, `l3_agent`). */
export function isNeutronExchange(exchange: string): boolean {
  return (
    exchange === 'neutron' ||
    exchange.startsWith('neutron-vo-') ||
    exchange.startsWith('q-') ||
    exchange.startsWith('dhcp_agent') ||
    exchange.startsWith('l3_agent')
  );
}

function collect(v: unknown, out: Set<string>, depth: number): void {
  if (out.size >= MAX_IDS || depth > 12) return;
  if (typeof v === 'string') {
    if (v.length === 36 && UUID.test(v)) out.add(v.toLowerCase());
  } else if (Array.isArray(v)) {
    for (const x of v) collect(x, out, depth + 1);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (!SKIP_KEYS.has(k)) collect(x, out, depth + 1);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Hints of a neutron call, cast, fanout or notification body; undefined when it has none. */
export function messageHints(body: Uint8Array): MessageHints | undefined {
  const p = parseBody(body);
  const msg = p.msg;
  if (msg === undefined) return undefined;
  const data = msg.args ?? msg.payload;
  const ids = new Set<string>();
  collect(data, ids, 0);
  let agent: MessageHints['agent'];
  if (msg.method === 'report_state' && data !== null && typeof data === 'object') {
    // args: {agent_state: {agent_state: {...}}, time}
    const outer = (data as Record<string, unknown>).agent_state;
    const st =
      outer !== null && typeof outer === 'object'
        ? (outer as Record<string, unknown>).agent_state
        : undefined;
    if (st !== null && typeof st === 'object') {
      const s = st as Record<string, unknown>;
      const binary = str(s.binary);
      if (binary !== undefined) {
        const host = str(s.host);
        const agentType = str(s.agent_type);
        agent = {
          binary,
          ...(host !== undefined ? { host } : {}),
          ...(agentType !== undefined ? { agentType } : {}),
        };
      }
    }
  }
  if (ids.size === 0 && agent === undefined) return undefined;
  return { ...(ids.size > 0 ? { ids: [...ids] } : {}), ...(agent !== undefined ? { agent } : {}) };
}

/**
 * nova's move methods whose arguments tell the user action the method alone does not
 * (nova 26 conductor/rpcapi.py, compute/rpcapi.py): compute/api.py resize() and migrate both
 * cast conductor `migrate_server` (conductor/api.py resize_instance), resize with the new flavor,
 * a cold migrate with the instance's own (`new_flavor = current_flavor`; resizing to the same
 * flavor is refused, CannotResizeToSameFlavor); rebuild() and evacuate() both cast
 * `rebuild_instance`, evacuate with `recreate=True`, and conductor passes it on to the compute.
 */
const NOVA_MOVE_METHODS = new Set(['migrate_server', 'rebuild_instance']);

/**
 * nova messages worth reading the arguments of: the move methods, and the calls and casts to
 * nova-compute (user actions only, a few per operation: not the hot path of a nova capture),
 * whose instance uuid joins an operation with the `external_instance_event` neutron causes
 * for it (network-vif-plugged arrives through nova-api under another request id).
 */
export function isNovaHintMessage(topic: string, method: string | undefined): boolean {
  return method !== undefined && (topic === 'compute' || NOVA_MOVE_METHODS.has(method));
}

/** A nova object primitive's fields (`nova_object.data`), or the plain dict of an old pin. */
function objectData(v: unknown): Record<string, unknown> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const d = o['nova_object.data'];
  if (d !== undefined)
    return d !== null && typeof d === 'object' ? (d as Record<string, unknown>) : undefined;
  return o;
}

/** Scalar id of a flavor field, comparable across the two primitives. */
function idOf(v: unknown): string | undefined {
  return typeof v === 'number' || (typeof v === 'string' && v !== '') ? String(v) : undefined;
}

/**
 * Whether `flavor` differs from the instance's: by database id (the instance's `flavor` field,
 * loaded by compute/api.py get_flavor(), else its `instance_type_id`), else by flavorid;
 * undefined when the arguments hold neither.
 */
function flavorChanged(flavor: Record<string, unknown>, inst: Record<string, unknown>): boolean | undefined {
  const own = objectData(inst.flavor);
  const id = idOf(flavor.id);
  const ownId = idOf(own?.id) ?? idOf(inst.instance_type_id);
  if (id !== undefined && ownId !== undefined) return id !== ownId;
  const fid = idOf(flavor.flavorid);
  const ownFid = idOf(own?.flavorid);
  if (fid !== undefined && ownFid !== undefined) return fid !== ownFid;
  return undefined;
}

function uuidOf(v: unknown): string | undefined {
  return typeof v === 'string' && v.length === 36 && UUID.test(v) ? v.toLowerCase() : undefined;
}

/**
 * The instances a nova message acts on (ids: `instance`'s uuid; external_instance_event's
 * `instances` and its events' `instance_uuid`), and for the move methods what they do (move):
 * migrate_server is a resize when `flavor` differs from the instance's flavor, live from `live`;
 * rebuild_instance carries `recreate`. Only instance uuids are kept: image, flavor and project
 * ids would join unrelated operations.
 */
export function novaHints(body: Uint8Array): MessageHints | undefined {
  const msg = parseBody(body).msg;
  const args = msg?.args;
  if (msg === undefined || args === null || typeof args !== 'object') return undefined;
  const a = args as Record<string, unknown>;
  const ids = new Set<string>();
  const add = (v: unknown): void => {
    const u = uuidOf(v);
    if (u !== undefined && ids.size < MAX_IDS) ids.add(u);
  };
  add(objectData(a.instance)?.uuid);
  if (Array.isArray(a.instances)) for (const i of a.instances) add(objectData(i)?.uuid);
  if (Array.isArray(a.events)) for (const e of a.events) add(objectData(e)?.instance_uuid);
  const move: { resize?: boolean; live?: boolean; recreate?: boolean } = {};
  if (msg.method === 'rebuild_instance') {
    if (typeof a.recreate === 'boolean') move.recreate = a.recreate;
  } else if (msg.method === 'migrate_server') {
    if (typeof a.live === 'boolean') move.live = a.live;
    const flavor = objectData(a.flavor);
    const inst = objectData(a.instance);
    const resize = flavor !== undefined && inst !== undefined ? flavorChanged(flavor, inst) : undefined;
    if (resize !== undefined) move.resize = resize;
  }
  const hasMove = Object.keys(move).length > 0;
  if (ids.size === 0 && !hasMove) return undefined;
  return { ...(ids.size > 0 ? { ids: [...ids] } : {}), ...(hasMove ? { move } : {}) };
}
