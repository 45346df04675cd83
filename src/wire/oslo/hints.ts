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
