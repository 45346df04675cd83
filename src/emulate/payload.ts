/**
 * Arguments and results of a given encoded size. nova object RPCs get the shape nova sends
 * (object_action with an `objinst` primitive, object_class_action_versions with `objname`), so a
 * decoder names the object ("Service.save") as it does for real traffic; the size is reached
 * with an ASCII pad, which encodes one byte per character at both JSON levels.
 */
import type { PyJson } from '../wire/oslo/encode.ts';
import { novaComputeArgs } from './nova.ts';

/** neutron's agent_type per agent binary (neutron_lib.constants AGENT_TYPE_*). */
const AGENT_TYPES: Readonly<Record<string, string>> = {
  'neutron-openvswitch-agent': 'Open vSwitch agent',
  'neutron-dhcp-agent': 'DHCP agent',
  'neutron-l3-agent': 'L3 agent',
  'neutron-metadata-agent': 'Metadata agent',
};

export function padArgs(
  method: string,
  object: string | undefined,
  host: string,
  pad: string,
  binary?: string,
): Record<string, PyJson> {
  // an emulated nova-compute whose Service row a real conductor made (nova.ts): nova's own
  // arguments, unpadded (a real conductor rejects unknown kwargs and needs the row's id)
  const nova = novaComputeArgs(method, object, host, pad === '');
  if (nova !== undefined) return nova;
  // neutron's PluginReportStateAPI.report_state(context, agent_state, use_call): the state dict
  // nested as the agent sends it ({"agent_state": {"agent_state": {...}}, "time": ...}), so a
  // real neutron-server's AgentExtRpcCallback.report_state reads binary, host and agent_type.
  if (method === 'report_state' && binary !== undefined)
    return {
      agent_state: {
        agent_state: {
          binary,
          host,
          topic:
            binary === 'neutron-dhcp-agent'
              ? 'dhcp_agent'
              : binary === 'neutron-l3-agent'
                ? 'l3_agent'
                : 'N/A',
          configurations: { pad },
          agent_type: AGENT_TYPES[binary] ?? binary,
        },
      },
      // neutron parses it with oslo's timeutils.parse_strtime ('%Y-%m-%dT%H:%M:%S.%f', UTC, no
      // zone suffix: a trailing 'Z' makes the real server's report_state raise ValueError)
      time: `${new Date().toISOString().slice(0, 23)}000`,
    };
  // neutron's ResourcesPullRpcCallback.bulk_pull(context, resource_type, version, filter_kwargs):
  // a real server looks the resource class up, so the call names one (the OVS agent's resync
  // pulls Network and Port; no pad: filter_kwargs are query filters)
  if (method === 'bulk_pull' && binary !== undefined)
    return { resource_type: 'Network', version: '1.1', filter_kwargs: {} };
  if (object !== undefined) {
    const dot = object.lastIndexOf('.');
    const objName = dot > 0 ? object.slice(0, dot) : object;
    const objMethod = dot > 0 ? object.slice(dot + 1) : 'save';
    if (method === 'object_class_action_versions' || method === 'object_class_action')
      return { objname: objName, objmethod: objMethod, object_versions: {}, args: [], kwargs: { host, pad } };
    return {
      objinst: {
        'nova_object.name': objName,
        'nova_object.namespace': 'nova',
        'nova_object.version': '1.0',
        'nova_object.data': { host, pad },
        'nova_object.changes': [],
      },
      objmethod: objMethod,
      args: [],
      kwargs: {},
    };
  }
  return { host, pad };
}

/**
 * Builds a body of `target` bytes with `build(pad)`: measures with an empty pad, then adds the
 * difference. Bodies smaller than the empty shape stay at that size. Each body is built once
 * with the empty pad, first, and at most once more: nova.ts counts heartbeats on that first build.
 */
export function sized<T extends { body: Buffer }>(target: number, build: (pad: string) => T): T {
  const first = build('');
  const missing = Math.round(target) - first.body.length;
  return missing > 0 ? build('x'.repeat(missing)) : first;
}
