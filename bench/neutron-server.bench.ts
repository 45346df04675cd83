/**
 * `npm run bench neutron-server`: how many agents one REAL neutron-server (Zed, the nova + neutron
 * rig of scripts/rig-neutron: ML2/OVS, noauth, api_workers = rpc_workers =
 * rpc_state_report_workers = 1) holds. Emulated OVS agents (`emu-hv-0001`…) and DHCP agents
 * (`emu-net-0001`…, one per 50 OVS agents) join the rig's vhost `neutron` on the machine's RabbitMQ
 * with control exchange `neutron` and no emulated server: their `report_state` registers them in
 * neutron's agents table, and their resync calls (`has_alive_neutron_server`, `bulk_pull` of
 * Network, `update_device_list`) and the DHCP agents' `get_active_networks_info` are answered by
 * real neutron code. Per step (RPCSCOPE_BENCH_AGENTS, default "25,100,250,500") for
 * RPCSCOPE_BENCH_STEADY_S (default 120: four report intervals, more than agent_down_time 75 s):
 * report_state and pull latency, timeouts and remote errors, the agents the API lists and how
 * many of them it shows down (alive = false), the q-reports-plugin / q-plugin backlog and
 * neutron-server's CPU (all its processes). A step's emulated agents are deleted through the API
 * after it; the run stops at the first step that does not hold.
 *
 * Layout: RPCSCOPE_BENCH_LAYOUT=single (default) puts each emulated agent's queues on one
 * connection, because the machine's shared RabbitMQ has ~830 sockets (ulimit -n 1024) and the
 * OVS agent's oslo layout needs 13 each; neutron-server sees the same RPCs either way. `oslo`
 * uses the 13-connection layout (up to ~55 agents on that broker).
 *
 * RPCSCOPE_BENCH_SPEEDUP (default 1) divides the agents' report and resync periods, to load the
 * server as N × SPEEDUP agents would.
 *
 * The rig is brought up with scripts/rig-neutron/up.sh only when its API does not answer, and
 * taken down (down.sh --wipe) only if this run brought it up.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEmulation } from '../src/emulate/emulator.ts';
import { agentResyncOperation, NEUTRON_EXCHANGE, neutronServices } from '../src/emulate/neutron.ts';
import { parseScenario } from '../src/emulate/scenario.ts';
import type { MethodStats } from '../src/emulate/types.ts';
import { cell, ms, queueDepth, treeCpuSeconds } from './real-server.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RIG_VAR = process.env.RIG_VAR ?? '/tmp/rpcscope-nrig';
const API = `http://127.0.0.1:${process.env.RIG_NEUTRON_PORT ?? 29696}/v2.0`;
const VHOST = process.env.RIG_NEUTRON_VHOST ?? 'neutron';
const AMQP_USER = process.env.RIG_NEUTRON_AMQP_USER ?? 'rpcscope-nrig-neutron';
const STEPS = (process.env.RPCSCOPE_BENCH_AGENTS ?? '25,100,250,500')
  .split(',')
  .map(Number)
  .filter((n) => n > 0 && n <= 2000);
const STEADY_S = Number(process.env.RPCSCOPE_BENCH_STEADY_S ?? 120);
const LAYOUT = process.env.RPCSCOPE_BENCH_LAYOUT === 'oslo' ? 'oslo' : 'single';
/**
 * Report (and resync) periods divided by this: N agents put the RPC load of N × SPEEDUP on the
 * server, past the sockets this machine's broker has for agents (call timeouts stay 30 s, but
 * a heartbeat every 30 / SPEEDUP s hides "down" agents longer than real ones would).
 */
const SPEEDUP = Number(process.env.RPCSCOPE_BENCH_SPEEDUP ?? 1);
/** Resyncs per OVS agent per minute (a real agent resyncs at start and after errors). */
const RESYNC_PER_AGENT_MIN = Number(process.env.RPCSCOPE_BENCH_RESYNC_PER_MIN ?? 0.5);
/** The host prefix of every emulated agent: what cleanup deletes. */
export const EMU_PREFIX = 'emu-';
const log = (s: string) => process.stderr.write(`[bench neutron-server] ${s}\n`);

export interface ApiAgent {
  id: string;
  host: string;
  alive: boolean;
  agent_type: string;
}

/** The rig's neutron agents (the API: real neutron's view, alive = heartbeat within agent_down_time). */
export async function listAgents(api = API): Promise<ApiAgent[]> {
  const r = await fetch(`${api}/agents?fields=id&fields=host&fields=alive&fields=agent_type`, {
    signal: AbortSignal.timeout(20_000),
  });
  if (!r.ok) throw new Error(`GET ${api}/agents: HTTP ${r.status}`);
  return ((await r.json()) as { agents: ApiAgent[] }).agents;
}

/** Deletes every agent whose host starts with `prefix` (8 at a time); returns how many. */
export async function deleteAgents(prefix = EMU_PREFIX, api = API): Promise<number> {
  const mine = (await listAgents(api)).filter((a) => a.host.startsWith(prefix));
  let next = 0;
  const worker = async () => {
    while (next < mine.length) {
      const a = mine[next++]!;
      await fetch(`${api}/agents/${a.id}`, { method: 'DELETE', signal: AbortSignal.timeout(30_000) }).catch(
        () => undefined,
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return mine.length;
}

async function rigUp(): Promise<boolean> {
  return listAgents().then(
    () => true,
    () => false,
  );
}

/** user:password URL of the rig's neutron vhost (the secret up.sh generated). */
export function rigAmqpUrl(rigVar = RIG_VAR): string {
  const pass = readFileSync(join(rigVar, 'state', 'amqp-neutron.secret'), 'utf8').trim();
  return `amqp://${encodeURIComponent(AMQP_USER)}:${pass}@127.0.0.1:5672/${encodeURIComponent(VHOST)}`;
}

/**
 * Emulated OVS agents `emu-hv-NNNN` and DHCP agents `emu-net-NNNN`, no neutron-server: the rig's
 * real one answers. `layout: 'single'` drops the per-topic connections (one connection each).
 */
export function realServerScenario(
  url: string,
  ovs: number,
  dhcp: number,
  layout: 'single' | 'oslo',
  resyncPerMin: number,
  speedup = 1,
) {
  const base = neutronServices({ hypervisors: ovs, networkNodes: 1, metadataOnHypervisors: false });
  const pick = (name: string) => {
    const s = base.find((x) => x.name === name);
    if (s === undefined) throw new Error(`neutronServices() has no ${name}`);
    const { connections, ...rest } = s;
    return layout === 'oslo' ? s : rest;
  };
  const ovsAgent = { ...pick('neutron-openvswitch-agent'), count: ovs, host: `${EMU_PREFIX}hv-{i:4}` };
  const dhcpAgent = { ...pick('neutron-dhcp-agent'), count: dhcp, host: `${EMU_PREFIX}net-{i:4}` };
  // the resync's calls a real server answers with these payloads (src/emulate/payload.ts); its
  // report_agent_resource_versions fanout is left out (the emulated args are not a version map)
  const resync = agentResyncOperation(resyncPerMin);
  const steps = resync.steps.filter((st) => st.kind === 'call' && st.method !== 'tunnel_sync');
  const dhcpSync = {
    name: 'dhcp sync',
    perMinute: dhcp * 0.5,
    hostOf: 'neutron-dhcp-agent',
    steps: [
      {
        from: 'neutron-dhcp-agent',
        kind: 'call',
        topic: 'q-plugin',
        method: 'get_active_networks_info',
        version: '1.1',
        bytes: 1100,
      },
    ],
  };
  return parseScenario(
    JSON.stringify({
      version: 1,
      name: 'neutron-server-real',
      broker: { url },
      oslo: { controlExchange: NEUTRON_EXCHANGE },
      ...(speedup !== 1 ? { speedup } : {}),
      services: dhcp > 0 ? [ovsAgent, dhcpAgent] : [ovsAgent],
      operations: [...(resyncPerMin > 0 ? [{ ...resync, steps }] : []), ...(dhcp > 0 ? [dhcpSync] : [])],
    }),
    'neutron-server-real',
  );
}

async function main(): Promise<void> {
  let broughtUp = false;
  if (!(await rigUp())) {
    log('rig not up: scripts/rig-neutron/up.sh');
    const r = spawnSync('bash', [join(ROOT, 'scripts/rig-neutron/up.sh')], { stdio: ['ignore', 2, 2] });
    if (r.status !== 0 || !(await rigUp())) throw new Error(`scripts/rig-neutron/up.sh failed (${r.status})`);
    broughtUp = true;
  }
  const rows: string[] = [];
  try {
    const url = rigAmqpUrl();
    const serverPid = Number(readFileSync(join(RIG_VAR, 'run', 'neutron-server.pid'), 'utf8').trim());
    const stale = await deleteAgents();
    if (stale > 0) log(`deleted ${stale} emulated agents left by an earlier run`);
    const real = (await listAgents()).length;
    log(
      `rig: neutron-server pid ${serverPid}, ${real} real agents; layout ${LAYOUT}, ${STEADY_S} s per step`,
    );
    for (const n of STEPS) {
      const dhcp = Math.max(1, Math.round(n / 50));
      const want = n + dhcp;
      const s = realServerScenario(url, n, dhcp, LAYOUT, n * RESYNC_PER_AGENT_MIN, SPEEDUP);
      log(`${n} OVS + ${dhcp} DHCP agents, speedup ${SPEEDUP}, ${STEADY_S} s`);
      const t0 = performance.now();
      const cpu0 = treeCpuSeconds(serverPid);
      let registeredAt: number | undefined;
      let maxRegistered = 0;
      let maxDown = 0;
      let downSamples = 0;
      let maxReports = 0;
      let maxPlugin = 0;
      let sampling = false;
      const sample = async () => {
        if (sampling) return;
        sampling = true;
        try {
          const t = (performance.now() - t0) / 1000;
          const mine = (await listAgents()).filter((a) => a.host.startsWith(EMU_PREFIX));
          const down = mine.filter((a) => !a.alive).length;
          maxRegistered = Math.max(maxRegistered, mine.length);
          if (registeredAt === undefined && mine.length >= want) registeredAt = t;
          maxDown = Math.max(maxDown, down);
          if (down > 0) downSamples++;
          const rq = (await queueDepth(VHOST, 'q-reports-plugin')) ?? 0;
          const pq = (await queueDepth(VHOST, 'q-plugin')) ?? 0;
          maxReports = Math.max(maxReports, rq);
          maxPlugin = Math.max(maxPlugin, pq);
          log(
            `  t=${t.toFixed(0)}s agents ${mine.length}/${want} down ${down} backlog q-reports-plugin ${rq} q-plugin ${pq}`,
          );
        } catch (e) {
          log(`  sample failed: ${(e as Error).message}`);
        } finally {
          sampling = false;
        }
      };
      const timer = setInterval(() => void sample(), 5000);
      const r = await runEmulation(s, { durationS: STEADY_S, managementUrl: null }).finally(() =>
        clearInterval(timer),
      );
      await sample();
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = treeCpuSeconds(serverPid);
      const rs = r.methods['q-reports-plugin.report_state'];
      const pulls = [
        'q-plugin.bulk_pull',
        'q-plugin.update_device_list',
        'q-reports-plugin.has_alive_neutron_server',
        'q-plugin.get_active_networks_info',
      ]
        .map((k) => r.methods[k])
        .filter((m): m is MethodStats => m !== undefined);
      const pull: MethodStats | undefined =
        pulls.length === 0
          ? undefined
          : {
              key: 'pulls',
              calls: pulls.reduce((a, m) => a + m.calls, 0),
              ok: pulls.reduce((a, m) => a + m.ok, 0),
              timeouts: pulls.reduce((a, m) => a + m.timeouts, 0),
              remoteErrors: pulls.reduce((a, m) => a + m.remoteErrors, 0),
              latency: pulls[0]!.latency,
              p99Ms: Math.max(...pulls.map((m) => m.p99Ms ?? 0)),
            };
      const bad: string[] = [];
      if (maxRegistered < want) bad.push(`${want - maxRegistered} never registered`);
      if (maxDown > 0) bad.push(`${maxDown} shown down`);
      if ((rs?.timeouts ?? 0) > 0) bad.push(`${rs?.timeouts} report_state timeouts`);
      if ((rs?.remoteErrors ?? 0) + (pull?.remoteErrors ?? 0) > 0) bad.push('remote errors');
      if ((pull?.timeouts ?? 0) > 0) bad.push(`${pull?.timeouts} pull timeouts`);
      if (r.services.upAtEnd < r.services.planned)
        bad.push(`${r.services.planned - r.services.upAtEnd} emulated agents not up`);
      const serverCpu =
        cpu0 !== undefined && cpu1 !== undefined ? `${(((cpu1 - cpu0) / wall) * 100).toFixed(0)} %` : '-';
      rows.push(
        [
          String(n).padStart(5),
          String(dhcp).padStart(4),
          String((n + dhcp) * SPEEDUP).padStart(6),
          `${maxRegistered}/${want}`.padStart(9),
          (registeredAt === undefined ? '-' : `${registeredAt.toFixed(0)} s`).padStart(6),
          `${maxDown} (${downSamples})`.padStart(8),
          cell(rs).padStart(16),
          `${ms(rs?.p50Ms)}/${ms(rs?.p99Ms)}/${ms(rs?.latency.max)}`.padStart(16),
          cell(pull).padStart(16),
          ms(pull?.p99Ms).padStart(6),
          `${maxReports}/${maxPlugin}`.padStart(9),
          serverCpu.padStart(6),
          bad.length === 0 ? 'held' : `BROKE: ${bad.join(', ')}`,
        ].join(' | '),
      );
      log(`step done: ${rows.at(-1)}`);
      // late report_state calls still queued would re-create deleted rows: let them drain first
      for (let i = 0; i < 60 && ((await queueDepth(VHOST, 'q-reports-plugin')) ?? 0) > 0; i++)
        await new Promise((res) => setTimeout(res, 1000));
      const deleted = await deleteAgents();
      log(`deleted ${deleted} emulated agents from neutron's agents table`);
      if (bad.length > 0) break;
    }
  } finally {
    await deleteAgents().catch(() => 0);
    process.stdout.write(
      ` OVS | DHCP | load (agents) | in API | reg'd | down max (samples) | report_state ok/calls | p50/p99/max ms | pulls ok/calls | p99 ms | backlog rep/plugin | server CPU | verdict\n${rows.join('\n')}\n`,
    );
    if (broughtUp) {
      log('taking the rig down (down.sh --wipe)');
      spawnSync('bash', [join(ROOT, 'scripts/rig-neutron/down.sh'), '--wipe'], { stdio: ['ignore', 2, 2] });
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
