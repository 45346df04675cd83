/**
 * `npm run bench neutron`: finds how many hypervisors one RabbitMQ node on this machine holds when
 * a hypervisor is what it is on Zed — nova-compute (1 connection, 4 queues in the emulator) + the
 * OVS agent (13 connections, 34 queues of which 23 its own, report_state every 30 s) — with one
 * neutron-server worker and two nova-conductors answering, and which limit breaks first.
 *
 * Steps up RPCSCOPE_BENCH_HYPERVISORS (default "600,1000,1200,1300,1400", bounded at 5,000) and
 * stops at the first step that does not hold; RPCSCOPE_BENCH_RESOLUTION=N then bisects between
 * the last step held and the one that failed until they are N apart. A step HOLDS when, over its
 * ramp-up and a steady state longer than neutron's agent_down_time (RPCSCOPE_BENCH_STEADY_S,
 * default 80 s > 75 s):
 * - every emulated process opened its connections on the first attempt (within kombu's 5 s
 *   connect_timeout), none was closed by the broker (no reconnect), all are up at the end;
 * - the broker raised no alarm: memory, disk, or the file descriptor alarm (RabbitMQ 3.10 raises it
 *   when sockets_used reaches sockets_limit and then accepts no new connection);
 * - every report_state call was answered within its 30 s expiry: one that is not is a heartbeat
 *   neutron-server never sees, and an agent whose heartbeats stop for agent_down_time is marked down.
 * Otherwise it does not hold, and each reason is listed.
 *
 * Per step: the node's management API stats (connections, queues, memory, file descriptors, sockets,
 * Erlang processes: the highest seen in the step), `rabbitmqctl status` limits and alarms mid-steady
 * state, the 1-minute load average, emulator and broker CPU over the step (this machine's 2 cores
 * are shared), emulator heap/RSS growth per emulated process and per hypervisor (target ≤ 100 KiB
 * per agent), and for a step that does not hold the warnings and errors the broker logged during it.
 * At the end it projects from the last step held which node limit a larger count hits first.
 *
 * Broker: bench/broker.ts — the dedicated node (ulimit -n 20000, own ports and data directory,
 * stopped and removed at the end; RPCSCOPE_BENCH_KEEP_LOG=dir keeps its log) or
 * RPCSCOPE_BENCH_AMQP + RPCSCOPE_BENCH_MGMT; its own vhost either way, deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { ManagementClient, type Node } from '../src/broker/management.ts';
import { runEmulation } from '../src/emulate/emulator.ts';
import { neutronServices } from '../src/emulate/neutron.ts';
import type { Scenario } from '../src/emulate/scenario.ts';
import { parseScenario } from '../src/emulate/scenario.ts';
import {
  type Broker,
  cpuSeconds,
  logEvidence,
  logSize,
  type NodeStatus,
  nodeStats,
  openBroker,
  rabbitmqctlStatus,
} from './broker.ts';

const MAX = 5000;
const STEPS = (process.env.RPCSCOPE_BENCH_HYPERVISORS ?? '600,1000,1200,1300,1400')
  .split(',')
  .map(Number)
  .filter((n) => n > 0 && n <= MAX);
const RESOLUTION = Number(process.env.RPCSCOPE_BENCH_RESOLUTION ?? 0);
const STEADY_S = Number(process.env.RPCSCOPE_BENCH_STEADY_S ?? 80);
/** The dedicated node's collect_statistics_interval (see openBroker); 5000 is RabbitMQ's default. */
const STATS_MS = Number(process.env.RPCSCOPE_BENCH_STATS_MS ?? 30_000);
const log = (s: string) => process.stderr.write(`[bench neutron] ${s}\n`);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const kib = (b: number) => (b / 1024).toFixed(1);
/**
 * The OVS agent's share of a hypervisor's emulator memory, by connections (what the emulator holds
 * per emulated process is per connection: socket, channel, consumers): 13 of the hypervisor's 14
 * (nova-compute has 1). The issue's target is ≤ 100 KiB of RSS per emulated OVS agent.
 */
const OVS_SHARE = 13 / 14;
const START_RSS = process.memoryUsage().rss;

function scenario(url: string): Scenario {
  const neutron = neutronServices({ hypervisors: 1, networkNodes: 0, metadataOnHypervisors: false });
  return parseScenario(
    JSON.stringify({
      version: 1,
      name: 'bench-neutron',
      broker: { url },
      oslo: { controlExchange: 'nova' },
      services: [
        { name: 'nova-conductor', count: 2, host: 'conductor-{i}', topics: ['conductor'] },
        {
          name: 'nova-compute',
          count: 1,
          scalable: true,
          host: 'compute-{i:5}',
          topics: ['compute'],
          periodic: [
            {
              kind: 'call',
              topic: 'conductor',
              method: 'object_action',
              object: 'Service.save',
              periodS: 10,
              jitter: 0.05,
              bytes: 1700,
            },
          ],
        },
        ...neutron,
      ],
    }),
    'bench-neutron',
  );
}

interface Step {
  n: number;
  held: boolean;
  reasons: string[];
  row: string;
  /** The emulator's highest RSS during the step's steady state. */
  rssPeak: number;
  node?: Node;
}

/** Highest of each node figure over the step: a limit is reached at the peak, not at the last sample. */
function peakNode(a: Node | undefined, b: Node): Node {
  if (a === undefined) return b;
  const max = (x?: number, y?: number) => Math.max(x ?? 0, y ?? 0);
  return {
    ...b,
    mem_used: max(a.mem_used, b.mem_used),
    fd_used: max(a.fd_used, b.fd_used),
    sockets_used: max(a.sockets_used, b.sockets_used),
    proc_used: max(a.proc_used, b.proc_used),
    mem_alarm: a.mem_alarm === true || b.mem_alarm === true,
    disk_free_alarm: a.disk_free_alarm === true || b.disk_free_alarm === true,
  };
}

async function step(n: number, s: Scenario, broker: Broker, mgmt: ManagementClient): Promise<Step> {
  globalThis.gc?.();
  const base = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const b0 = broker.beamPid === undefined ? undefined : cpuSeconds(broker.beamPid);
  const logFrom = logSize(broker.logFile);
  const t0 = performance.now();
  let peak = { rss: 0, heap: 0 };
  let node: Node | undefined;
  let status: NodeStatus | undefined;
  let statusAsked = false;
  let steadySamples = 0;
  let conns = 0;
  let queues = 0;
  let maxLoad = 0;
  const alarms = new Set<string>();
  log(`${n} hypervisors: ${n * 14} connections, ${n * 26} own queues; ${STEADY_S} s steady`);
  const r = await runEmulation(s, {
    computes: n,
    durationS: STEADY_S,
    managementUrl: broker.mgmt,
    sampleIntervalS: 10,
    onEvent: (e) => {
      if (e.type !== 'sample') return;
      maxLoad = Math.max(maxLoad, loadavg()[0]!);
      for (const a of e.sample.broker?.alarms ?? []) alarms.add(a);
      // During the ramp-up too: the socket limit is reached while connections open.
      void nodeStats(mgmt).then((x) => {
        if (x !== undefined) node = peakNode(node, x);
      });
      conns = Math.max(conns, e.sample.broker?.connections ?? 0);
      queues = Math.max(queues, e.sample.broker?.queues ?? 0);
      if (e.sample.phase !== 'steady') {
        log(
          `  t=${e.sample.t.toFixed(0)}s ${e.sample.phase} up=${e.sample.servicesUp} conns=${e.sample.broker?.connections ?? '?'} sockets=${node?.sockets_used ?? '?'}/${node?.sockets_total ?? '?'} load=${loadavg()[0]!.toFixed(1)}`,
        );
        return;
      }
      steadySamples++;
      globalThis.gc?.();
      const m = process.memoryUsage();
      peak = { rss: Math.max(peak.rss, m.rss), heap: Math.max(peak.heap, m.heapUsed) };
      // Once, mid steady state: rabbitmqctl boots an Erlang VM, a load of its own on 2 cores.
      if (
        !statusAsked &&
        broker.node !== undefined &&
        steadySamples >= Math.max(1, Math.floor(STEADY_S / 20))
      ) {
        statusAsked = true;
        void rabbitmqctlStatus(broker.node).then((x) => {
          status = x;
        });
      }
      log(
        `  t=${e.sample.t.toFixed(0)}s up=${e.sample.servicesUp} conns=${e.sample.broker?.connections ?? '?'} queues=${e.sample.broker?.queues ?? '?'} mem=${mib(e.sample.broker?.memBytes ?? 0)}MiB fd=${e.sample.broker?.fdUsed ?? '?'} sockets=${e.sample.broker?.socketsUsed ?? '?'} procs=${e.sample.broker?.procUsed ?? '?'} rss=${mib(m.rss)}MiB cpu=${(e.sample.emulator.cpu * 100).toFixed(0)}% p99=${e.sample.p99Ms?.toFixed(0) ?? '-'}ms load=${loadavg()[0]!.toFixed(1)}`,
      );
    },
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const emuCpu = (cpu.user + cpu.system) / 1e6 / wall;
  const b1 = broker.beamPid === undefined ? undefined : cpuSeconds(broker.beamPid);
  const brokerCpu = b0 !== undefined && b1 !== undefined ? (b1 - b0) / wall : undefined;
  const procs = Object.values(r.services.byGroup).reduce((a, g) => a + g.connected, 0);
  // RSS is measured from the process's RSS before its first step: freed heap is not given back to
  // the OS, so growth over the previous step's peak would understate what this count costs.
  const rssGrowth = peak.rss - START_RSS;
  const rssPer = rssGrowth / Math.max(1, procs);
  const heapPer = (peak.heap - base.heapUsed) / Math.max(1, procs);
  const rs = r.methods['q-reports-plugin.report_state'];
  const x = node;
  if (x?.mem_alarm === true) alarms.add('memory alarm');
  if (x?.disk_free_alarm === true) alarms.add('disk alarm');
  if (x?.sockets_total !== undefined && (x.sockets_used ?? 0) >= x.sockets_total)
    alarms.add(`file descriptor alarm (sockets ${x.sockets_used}/${x.sockets_total})`);
  for (const a of status?.alarms ?? []) alarms.add(`rabbitmqctl status: ${a}`);
  const reasons: string[] = [];
  if (r.services.failed > 0) reasons.push(`${r.services.failed} processes' first connection failed`);
  if (r.reconnects > 0) reasons.push(`${r.reconnects} reconnect attempts`);
  if (r.services.upAtEnd < r.services.planned)
    reasons.push(
      `${r.services.planned - r.services.upAtEnd} of ${r.services.planned} processes down at the end`,
    );
  if (r.stoppedBy !== 'duration') reasons.push(`run ended by ${r.stoppedBy}`);
  reasons.push(...alarms);
  if ((rs?.timeouts ?? 0) > 0) reasons.push(`${rs!.timeouts} report_state calls timed out`);
  const held = reasons.length === 0;
  const statusCol =
    status === undefined
      ? '-'
      : `${status.socketsUsed}/${status.socketsLimit} sockets, ${status.fdUsed}/${status.fdLimit} fds, ${status.procUsed} procs`;
  const row = [
    String(n).padStart(5),
    String(conns).padStart(6),
    String(queues).padStart(6),
    mib(x?.mem_used ?? 0).padStart(7),
    String(x?.fd_used ?? '?').padStart(6),
    `${x?.sockets_used ?? '?'}/${x?.sockets_total ?? '?'}`.padStart(11),
    String(x?.proc_used ?? '?').padStart(7),
    `${r.rampUpS.toFixed(0).padStart(4)} s`,
    `${rs?.ok ?? 0}/${rs?.calls ?? 0}`,
    kib(heapPer).padStart(6),
    kib(rssPer).padStart(6),
    kib(rssGrowth / Math.max(1, n)).padStart(6),
    kib((rssGrowth / Math.max(1, n)) * OVS_SHARE).padStart(6),
    `${(emuCpu * 100).toFixed(0)} %`,
    brokerCpu === undefined ? '-' : `${(brokerCpu * 100).toFixed(0)} %`,
    maxLoad.toFixed(1),
    held ? 'held' : `DOES NOT HOLD: ${reasons.join('; ')}`,
  ].join(' | ');
  log(`step done: ${row}`);
  log(`  rabbitmqctl status mid steady state: ${statusCol}`);
  if (r.errors.length > 0) log(`  emulator errors (${r.errors.length}): ${r.errors.slice(0, 3).join(' | ')}`);
  if (!held) {
    const ev = logEvidence(broker.logFile, logFrom);
    if (ev.length > 0) {
      process.stdout.write(
        `broker log during the ${n}-hypervisor step (warnings and errors, repeats counted):\n`,
      );
      for (const e of ev.slice(0, 12))
        process.stdout.write(`  ${e.first} ×${e.count}  ${e.line.slice(0, 200)}\n`);
    }
    if (r.errors.length > 0)
      process.stdout.write(`emulator errors at ${n}: ${r.errors.slice(0, 3).join(' | ')}\n`);
  }
  return { n, held, reasons, row, rssPeak: peak.rss, ...(x !== undefined ? { node: x } : {}) };
}

async function main(): Promise<void> {
  const broker = await openBroker(STATS_MS);
  const mgmt = new ManagementClient({ url: broker.mgmt, timeoutMs: 10_000 });
  const vhost = `rpcscope-bench-neutron-${randomUUID().slice(0, 8)}`;
  const steps: Step[] = [];
  try {
    const n0 = await nodeStats(mgmt, 20);
    await mgmt.putVhost(vhost);
    await mgmt.setPermissions(vhost, 'guest');
    const s = scenario(`${broker.amqp}/${vhost}`);
    const st0 = broker.node === undefined ? undefined : await rabbitmqctlStatus(broker.node);
    log(
      `broker ${process.env.RPCSCOPE_BENCH_AMQP ?? 'dedicated node'}: fds ${n0?.fd_total}, sockets ${n0?.sockets_total}, Erlang processes ${n0?.proc_total}, memory limit ${mib(n0?.mem_limit ?? 0)} MiB` +
        (st0 === undefined
          ? ''
          : `; rabbitmqctl status: file descriptors ${st0.fdLimit}, sockets ${st0.socketsLimit}, processes ${st0.procLimit}, memory high watermark ${mib(st0.memLimitBytes)} MiB`),
    );
    for (const n of STEPS) {
      steps.push(await step(n, s, broker, mgmt));
      if (!steps.at(-1)!.held) break;
    }
    let lo = steps.filter((x) => x.held).at(-1)?.n;
    let hi = steps.find((x) => !x.held)?.n;
    while (RESOLUTION > 0 && lo !== undefined && hi !== undefined && hi - lo > RESOLUTION) {
      const mid = Math.round((lo + hi) / 2);
      const r = await step(mid, s, broker, mgmt);
      steps.push(r);
      if (r.held) lo = mid;
      else hi = mid;
    }
    process.stdout.write(
      `hypervisors | conns | queues | mem MiB | fd used | sockets used/limit | Erlang procs | ramp-up | report_state ok/calls | heap KiB/proc | RSS KiB/proc | RSS KiB/hypervisor | RSS KiB/OVS agent | emulator CPU | broker CPU | load max | verdict\n${steps.map((x) => x.row).join('\n')}\n`,
    );
    // RSS/hypervisor above includes what the process gained once (code, V8's young generation,
    // the shared read buffer); the growth from one step to the next is what more hypervisors cost.
    const held = steps.filter((x) => x.held).sort((a, b) => a.n - b.n);
    for (let i = 1; i < held.length; i++) {
      const [a, b] = [held[i - 1]!, held[i]!];
      const per = (b.rssPeak - a.rssPeak) / (b.n - a.n);
      process.stdout.write(
        `RSS growth ${a.n} -> ${b.n} hypervisors: ${kib(per)} KiB per hypervisor, ${kib(per * OVS_SHARE)} KiB per OVS agent\n`,
      );
    }
    process.stdout.write(
      lo === undefined
        ? `no step held (load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)\n`
        : `largest step held: ${lo} hypervisors${hi === undefined ? ' (no step failed: raise RPCSCOPE_BENCH_HYPERVISORS)' : `; ${hi} does not hold: ${steps.find((x) => x.n === hi)!.reasons.join('; ')}`}\n`,
    );
    const last = steps.filter((x) => x.held && x.node !== undefined).at(-1);
    if (last?.node !== undefined && n0 !== undefined) {
      const ln = last.node;
      const per = (used: number | undefined, base: number | undefined) =>
        ((used ?? 0) - (base ?? 0)) / last.n;
      const limits = [
        {
          what: 'file descriptors',
          per: per(ln.fd_used, n0.fd_used),
          room: (n0.fd_total ?? 0) - (n0.fd_used ?? 0),
        },
        {
          what: 'sockets',
          per: per(ln.sockets_used, n0.sockets_used),
          room: (n0.sockets_total ?? 0) - (n0.sockets_used ?? 0),
        },
        {
          what: 'Erlang processes',
          per: per(ln.proc_used, n0.proc_used),
          room: (n0.proc_total ?? 0) - (n0.proc_used ?? 0),
        },
        {
          what: 'memory (high watermark)',
          per: per(ln.mem_used, n0.mem_used),
          room: (n0.mem_limit ?? 0) - (n0.mem_used ?? 0),
        },
      ].map((l) => ({ ...l, at: l.per > 0 ? Math.floor(l.room / l.per) : Number.POSITIVE_INFINITY }));
      limits.sort((a, b) => a.at - b.at);
      process.stdout.write(
        `per hypervisor on the broker (measured at ${last.n}): ${limits.map((l) => `${l.what} ${l.what.startsWith('memory') ? `${(l.per / 1024).toFixed(0)} KiB` : l.per.toFixed(1)}`).join(', ')}\n` +
          `projected from it, hypervisors until each limit of this node: ${limits.map((l) => `${l.what} ${Number.isFinite(l.at) ? l.at : '-'}`).join(', ')}\n`,
      );
    }
  } finally {
    await mgmt.deleteVhost(vhost).catch(() => {});
    await broker.stop();
  }
}

await main();
