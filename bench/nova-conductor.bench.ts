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
 * backlog (small even when overloaded: oslo's unlimited prefetch moves requests into the process),
 * the time the conductor needs after the step to answer promptly again (its in-process backlog),
 * nova-conductor's CPU (all its processes) and MariaDB's. A step holds when everything is answered,
 * no compute is shown down and Service.save p99 stays under report_interval (10 s). A step's rows
 * are destroyed through the conductor (Service.destroy: the row and its compute nodes) after it,
 * and the queues its computes left; the run stops at the first step that does not hold.
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
import { ensureComputes, NovaConductorClient, NovaConductorError } from '../src/emulate/nova-conductor.ts';
import type { MethodStats } from '../src/emulate/types.ts';
import { cell, ms, queueDepth, treeCpuSeconds } from './real-server.ts';

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
/** nova's report_interval (Zed default): a real compute's heartbeat period, whatever SPEEDUP. */
const REPORT_INTERVAL_S = 10;
/** How long the conductor may take to answer promptly again after a step before it counts as stuck. */
const DRAIN_MAX_S = Number(process.env.RPCSCOPE_BENCH_DRAIN_MAX_S ?? 600);
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

/**
 * Destroys, through the conductor, the Service rows (and compute nodes) of every emulated host
 * listed. A conductor still working off an overload (oslo acks a request when it takes it, so an
 * empty queue does not mean it is done) may let a call time out: each host is tried 3 times.
 */
export async function destroyEmulated(client: NovaConductorClient, api = API): Promise<number> {
  const hosts = (await listComputes(api))
    .filter((s) => s.host.startsWith(EMU_COMPUTE_PREFIX))
    .map((s) => s.host);
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const host = hosts[next++]!;
      for (let attempt = 1; ; attempt++) {
        try {
          const row = await client.getService(host);
          if (row !== undefined) await client.destroyService(row);
          break;
        } catch (e) {
          if (!(e instanceof NovaConductorError && e.remoteClass === 'timeout') || attempt === 3) throw e;
          log(`  ${host}: ${e.message}; again`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  forgetNovaServices();
  return hosts.length;
}

/** The machine's MariaDB server (the rig's database), by its command name. */
function mariadbPid(): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'mariadbd') return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * Deletes the queues stopped emulated computes left (their reply, `compute.emu-cmp-*` and
 * `compute_fanout_*` queues, now without consumers), through the management API.
 */
async function deleteLeftQueues(): Promise<number> {
  // the management API's consumer counts lag by its stats interval (5 s): a queue of a compute
  // stopped a moment ago still shows its consumer
  await new Promise((res) => setTimeout(res, 10_000));
  const r = await fetch(`${MGMT}/queues/${encodeURIComponent(VHOST)}?columns=name,consumers`, {
    headers: { authorization: MGMT_AUTH },
    signal: AbortSignal.timeout(20_000),
  });
  if (!r.ok) return 0;
  const left = ((await r.json()) as { name: string; consumers?: number }[]).filter(
    (q) =>
      (q.consumers ?? 0) === 0 &&
      (q.name.startsWith('reply_') ||
        q.name.startsWith(`compute.${EMU_COMPUTE_PREFIX}`) ||
        q.name.startsWith('compute_fanout_')),
  );
  for (const q of left)
    await fetch(`${MGMT}/queues/${encodeURIComponent(VHOST)}/${encodeURIComponent(q.name)}`, {
      method: 'DELETE',
      headers: { authorization: MGMT_AUTH },
      signal: AbortSignal.timeout(20_000),
    }).catch(() => undefined);
  return left.length;
}

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
      const dbPid = mariadbPid();
      const db0 = dbPid === undefined ? undefined : treeCpuSeconds(dbPid);
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
          const q = (await queueDepth(VHOST, 'conductor')) ?? 0;
          maxBacklog = Math.max(maxBacklog, q);
          log(`  t=${t.toFixed(0)}s computes ${mine.length}/${n} down ${down} conductor backlog ${q}`);
        } catch (e) {
          log(`  sample failed: ${(e as Error).message}`);
        } finally {
          sampling = false;
        }
      };
      const timer = setInterval(() => void sample(), 5000);
      // teardown: false: a stopped compute's reply queue outlives it (x-expires 30 min), so the
      // conductor's late replies are routed, not retried for 60 s each as to a deleted queue
      // (which held all 64 executor threads of the conductor for minutes in a first run)
      const r = await runEmulation(s, { durationS: STEADY_S, managementUrl: null, teardown: false }).finally(
        () => clearInterval(timer),
      );
      await sample();
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = treeCpuSeconds(conductorPid);
      const db1 = dbPid === undefined ? undefined : treeCpuSeconds(dbPid);
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
      // what the conductor still holds when the computes stop (oslo takes every queued request at
      // once: rabbit_qos_prefetch_count 0), measured as the time until it answers a lookup promptly
      const d0 = performance.now();
      let drained = false;
      while (!drained && performance.now() - d0 < DRAIN_MAX_S * 1000) {
        const p0 = performance.now();
        drained = await client.getService(RIG_HOST).then(
          () => performance.now() - p0 < 2000,
          () => false,
        );
      }
      const drainS = (performance.now() - d0) / 1000;
      const bad: string[] = [];
      if (!drained) bad.push(`conductor still busy ${DRAIN_MAX_S} s after the computes stopped`);
      if (maxListed < n) bad.push(`${n - maxListed} not listed`);
      if (maxDown > 0) bad.push(`${maxDown} shown down`);
      if ((save?.calls ?? 0) === 0) bad.push('no Service.save sent');
      if ((save?.timeouts ?? 0) > 0) bad.push(`${save?.timeouts} Service.save timeouts`);
      // a heartbeat answered after the next is due: a real compute's report loop falls behind
      // (it waits for each save; the emulator does not, so past this point it over-loads)
      if ((save?.p99Ms ?? 0) > REPORT_INTERVAL_S * 1000)
        bad.push(`Service.save p99 ${ms(save?.p99Ms)} > report_interval ${REPORT_INTERVAL_S} s`);
      if ((save?.remoteErrors ?? 0) + (rtAll?.remoteErrors ?? 0) > 0) bad.push('remote errors');
      if ((rtAll?.timeouts ?? 0) > 0) bad.push(`${rtAll?.timeouts} resource tracker timeouts`);
      if (r.services.upAtEnd < r.services.planned)
        bad.push(`${r.services.planned - r.services.upAtEnd} emulated computes not connected`);
      const pct = (a: number | undefined, b: number | undefined) =>
        a !== undefined && b !== undefined ? `${(((b - a) / wall) * 100).toFixed(0)} %` : '-';
      const cpu = pct(cpu0, cpu1);
      const dbCpu = pct(db0, db1);
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
          `${drainS.toFixed(0)} s`.padStart(6),
          cpu.padStart(6),
          dbCpu.padStart(6),
          bad.length === 0 ? 'held' : `BROKE: ${bad.join(', ')}`,
        ].join(' | '),
      );
      log(`step done: ${rows.at(-1)}`);
      const gone = await destroyEmulated(client);
      log(`destroyed ${gone} emulated computes (Service.destroy through the conductor)`);
      log(`deleted ${await deleteLeftQueues()} queues the stopped computes left`);
      if (bad.length > 0) break;
    }
  } finally {
    await destroyEmulated(client).catch(() => 0);
    await deleteLeftQueues().catch(() => 0);
    await client.close();
    process.stdout.write(
      ` computes | load | create (new) | in API | down max (samples) | Service.save ok/calls | p50/p99/max ms | RT calls ok/calls | p99 ms | backlog | drain | conductor CPU | MariaDB CPU | verdict\n${rows.join('\n')}\n`,
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
