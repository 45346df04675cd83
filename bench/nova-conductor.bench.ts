/**
 * `npm run bench nova-conductor`: how many nova-computes one REAL nova-conductor (Zed, the rig of
 * scripts/rig: `[conductor] workers = 1`, MariaDB, the machine's RabbitMQ) holds. Emulated
 * nova-computes `emu-cmp-0001`… join the rig's vhost with no emulated conductor: each first makes
 * its Service row (and, as the resource tracker does, its compute node) through the real conductor
 * (src/emulate/nova-conductor.ts: the RPCs nova/service.py Service.start sends), then sends Zed's
 * periodic RPCs with nova's own arguments (src/emulate/nova.ts): `Service.save` every 10 s
 * carrying that row's id and a growing report_count, the resource tracker's reads every 60 s,
 * `_sync_scheduler_instance_info` every 120 s. Per step (RPCSCOPE_BENCH_COMPUTES, default
 * "25,100,250") for RPCSCOPE_BENCH_STEADY_S (default 120: past service_down_time 60 s): the
 * start-up (row creation) time, Service.save and resource-tracker call latency, timeouts and
 * remote errors, the computes the API lists and how many it shows down, the `conductor` queue
 * backlog and nova-conductor's CPU (all its processes). A step's rows are destroyed through the
 * conductor (Service.destroy: the row and its compute nodes) after it; the run stops at the first
 * step that does not hold.
 *
 * One AMQP connection per emulated compute, as nova lays it out: the machine's shared RabbitMQ
 * keeps the run under ~300 connections, so steps stop at 250 computes; RPCSCOPE_BENCH_SPEEDUP
 * (default 1) divides every period to load the conductor as N × SPEEDUP computes would (a compute
 * then looks "up" for service_down_time / SPEEDUP less than a real one would after a lost beat).
 *
 * The rig is brought up with scripts/rig/up.sh only when its API does not answer, and taken down
 * (down.sh) only if this run brought it up.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEmulation } from '../src/emulate/emulator.ts';
import {
  EMU_COMPUTE_PREFIX,
  emulatedComputeHosts,
  forgetNovaServices,
  novaComputeScenario,
} from '../src/emulate/nova.ts';
import { ensureComputes, NovaConductorClient } from '../src/emulate/nova-conductor.ts';
import type { MethodStats } from '../src/emulate/types.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RIG_VAR = process.env.RIG_VAR ?? '/tmp/rpcscope-rig';
const RIG_HOST = process.env.RIG_HOST ?? 'rpcscope-compute-1';
const API = `http://127.0.0.1:${process.env.RIG_API_PORT ?? 18774}/v2.1`;
const VHOST = process.env.RIG_VHOST ?? 'rpcscope-nova-rig';
const AMQP_USER = process.env.RIG_AMQP_USER ?? 'rpcscope-nova';
const MGMT = 'http://127.0.0.1:15672/api';
const MGMT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const STEPS = (process.env.RPCSCOPE_BENCH_COMPUTES ?? '25,100,250')
  .split(',')
  .map(Number)
  .filter((n) => n > 0 && n <= 280);
const STEADY_S = Number(process.env.RPCSCOPE_BENCH_STEADY_S ?? 120);
const SPEEDUP = Number(process.env.RPCSCOPE_BENCH_SPEEDUP ?? 1);
const log = (s: string) => process.stderr.write(`[bench nova-conductor] ${s}\n`);

export interface ApiService {
  id: string;
  host: string;
  state: string;
  status: string;
  updated_at: string | null;
}

/** The rig's nova-compute services as nova-api lists them (state: up / down, servicegroup db driver). */
export async function listComputes(api = API): Promise<ApiService[]> {
  const r = await fetch(`${api}/os-services?binary=nova-compute`, {
    headers: { 'X-Auth-Token': 'admin:admin', 'X-OpenStack-Nova-API-Version': '2.79' },
    signal: AbortSignal.timeout(20_000),
  });
  if (!r.ok) throw new Error(`GET ${api}/os-services: HTTP ${r.status}`);
  return ((await r.json()) as { services: ApiService[] }).services;
}

/** user:password URL of the rig's nova vhost (the secret up.sh generated). */
export function rigAmqpUrl(rigVar = RIG_VAR): string {
  const pass = readFileSync(join(rigVar, 'state', 'amqp.secret'), 'utf8').trim();
  return `amqp://${encodeURIComponent(AMQP_USER)}:${pass}@127.0.0.1:5672/${encodeURIComponent(VHOST)}`;
}

/** Destroys, through the conductor, the Service rows (and compute nodes) of every emulated host listed. */
export async function destroyEmulated(client: NovaConductorClient, api = API): Promise<number> {
  const hosts = (await listComputes(api))
    .filter((s) => s.host.startsWith(EMU_COMPUTE_PREFIX))
    .map((s) => s.host);
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const row = await client.getService(hosts[next++]!);
      if (row !== undefined) await client.destroyService(row);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  forgetNovaServices();
  return hosts.length;
}

/** utime + stime (s) of a process and all its descendants (nova-conductor forks its worker). */
function treeCpuSeconds(root: number): number | undefined {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parent.set(Number(d), Number(f[1]));
      cpu.set(Number(d), (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // gone meanwhile
    }
  }
  if (!cpu.has(root)) return undefined;
  let sum = 0;
  for (const [pid, c] of cpu) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p);
    if (p === root) sum += c;
  }
  return sum;
}

async function queueDepth(name: string): Promise<number | undefined> {
  const r = await fetch(
    `${MGMT}/queues/${encodeURIComponent(VHOST)}/${encodeURIComponent(name)}?columns=messages`,
    { headers: { authorization: MGMT_AUTH }, signal: AbortSignal.timeout(5000) },
  ).catch(() => undefined);
  if (r?.ok !== true) return undefined;
  return ((await r.json()) as { messages?: number }).messages;
}

const ms = (x: number | undefined) =>
  x === undefined ? '-' : x >= 1000 ? `${(x / 1000).toFixed(1)}s` : `${x.toFixed(0)}`;
const cell = (m: MethodStats | undefined) =>
  m === undefined ? '-' : `${m.ok}/${m.calls} ${m.timeouts}t ${m.remoteErrors}e`;

async function rigUp(): Promise<boolean> {
  return listComputes().then(
    () => true,
    () => false,
  );
}

async function main(): Promise<void> {
  let broughtUp = false;
  if (!(await rigUp())) {
    log('rig not up: scripts/rig/up.sh');
    const r = spawnSync('bash', [join(ROOT, 'scripts/rig/up.sh')], { stdio: ['ignore', 2, 2] });
    if (r.status !== 0 || !(await rigUp())) throw new Error(`scripts/rig/up.sh failed (${r.status})`);
    broughtUp = true;
  }
  const rows: string[] = [];
  const url = rigAmqpUrl();
  const client = await NovaConductorClient.connect(url);
  try {
    const conductorPid = Number(readFileSync(join(RIG_VAR, 'run', 'nova-conductor.pid'), 'utf8').trim());
    const stale = await destroyEmulated(client);
    if (stale > 0) log(`destroyed ${stale} emulated computes left by an earlier run`);
    // the rig's real compute node, renamed per emulated host: what ComputeNode.create sends
    const template = (await client.computeNodes(RIG_HOST))[0];
    if (template === undefined) throw new Error(`the rig's compute ${RIG_HOST} has no compute node yet`);
    log(`rig: nova-conductor pid ${conductorPid}, ${STEADY_S} s per step, speedup ${SPEEDUP}`);
    for (const n of STEPS) {
      const hosts = emulatedComputeHosts(n);
      log(
        `${n} computes: Service.get_by_host_and_binary / create + ComputeNode.create through the conductor`,
      );
      const c0 = performance.now();
      const made = await ensureComputes(client, hosts, { nodeTemplate: template });
      const createS = (performance.now() - c0) / 1000;
      const s = novaComputeScenario(url, n, { speedup: SPEEDUP });
      const t0 = performance.now();
      const cpu0 = treeCpuSeconds(conductorPid);
      let maxListed = 0;
      let maxDown = 0;
      let downSamples = 0;
      let maxBacklog = 0;
      let sampling = false;
      const sample = async () => {
        if (sampling) return;
        sampling = true;
        try {
          const t = (performance.now() - t0) / 1000;
          const mine = (await listComputes()).filter((x) => x.host.startsWith(EMU_COMPUTE_PREFIX));
          const down = mine.filter((x) => x.state !== 'up').length;
          maxListed = Math.max(maxListed, mine.length);
          maxDown = Math.max(maxDown, down);
          if (down > 0) downSamples++;
          const q = (await queueDepth('conductor')) ?? 0;
          maxBacklog = Math.max(maxBacklog, q);
          log(`  t=${t.toFixed(0)}s computes ${mine.length}/${n} down ${down} conductor backlog ${q}`);
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
      const cpu1 = treeCpuSeconds(conductorPid);
      const save = r.methods['conductor.Service.save'];
      const rt = Object.values(r.methods).filter(
        (m) => m.key.startsWith('conductor.') && m.key !== 'conductor.Service.save',
      );
      const rtAll: MethodStats | undefined =
        rt.length === 0
          ? undefined
          : {
              key: 'rt',
              calls: rt.reduce((a, m) => a + m.calls, 0),
              ok: rt.reduce((a, m) => a + m.ok, 0),
              timeouts: rt.reduce((a, m) => a + m.timeouts, 0),
              remoteErrors: rt.reduce((a, m) => a + m.remoteErrors, 0),
              latency: rt[0]!.latency,
              p99Ms: Math.max(...rt.map((m) => m.p99Ms ?? 0)),
            };
      const bad: string[] = [];
      if (maxListed < n) bad.push(`${n - maxListed} not listed`);
      if (maxDown > 0) bad.push(`${maxDown} shown down`);
      if ((save?.calls ?? 0) === 0) bad.push('no Service.save sent');
      if ((save?.timeouts ?? 0) > 0) bad.push(`${save?.timeouts} Service.save timeouts`);
      if ((save?.remoteErrors ?? 0) + (rtAll?.remoteErrors ?? 0) > 0) bad.push('remote errors');
      if ((rtAll?.timeouts ?? 0) > 0) bad.push(`${rtAll?.timeouts} resource tracker timeouts`);
      if (r.services.upAtEnd < r.services.planned)
        bad.push(`${r.services.planned - r.services.upAtEnd} emulated computes not connected`);
      const cpu =
        cpu0 !== undefined && cpu1 !== undefined ? `${(((cpu1 - cpu0) / wall) * 100).toFixed(0)} %` : '-';
      rows.push(
        [
          String(n).padStart(5),
          String(n * SPEEDUP).padStart(6),
          `${createS.toFixed(1)} s (${made.created})`.padStart(11),
          `${maxListed}/${n}`.padStart(9),
          `${maxDown} (${downSamples})`.padStart(8),
          cell(save).padStart(18),
          `${ms(save?.p50Ms)}/${ms(save?.p99Ms)}/${ms(save?.latency.max)}`.padStart(14),
          cell(rtAll).padStart(16),
          ms(rtAll?.p99Ms).padStart(6),
          String(maxBacklog).padStart(5),
          cpu.padStart(6),
          bad.length === 0 ? 'held' : `BROKE: ${bad.join(', ')}`,
        ].join(' | '),
      );
      log(`step done: ${rows.at(-1)}`);
      // late heartbeats still queued must not meet deleted rows: let the conductor drain first
      for (let i = 0; i < 60 && ((await queueDepth('conductor')) ?? 0) > 0; i++)
        await new Promise((res) => setTimeout(res, 1000));
      const gone = await destroyEmulated(client);
      log(`destroyed ${gone} emulated computes (Service.destroy through the conductor)`);
      if (bad.length > 0) break;
    }
  } finally {
    await destroyEmulated(client).catch(() => 0);
    await client.close();
    process.stdout.write(
      ` computes | load | create (new) | in API | down max (samples) | Service.save ok/calls | p50/p99/max ms | RT calls ok/calls | p99 ms | backlog | conductor CPU | verdict\n${rows.join('\n')}\n`,
    );
    if (broughtUp) {
      log('taking the rig down (down.sh)');
      spawnSync('bash', [join(ROOT, 'scripts/rig/down.sh')], { stdio: ['ignore', 2, 2] });
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
