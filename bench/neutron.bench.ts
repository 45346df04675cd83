/**
 * `npm run bench neutron`: how many hypervisors one RabbitMQ node on this machine holds when a
 * hypervisor is what it is on Zed — nova-compute (1 connection, 4 queues in the emulator) + the
 * OVS agent (13 connections, 34 queues of which 23 its own, report_state every 30 s) — with one
 * neutron-server worker and one nova-conductor answering. Steps up RPCSCOPE_BENCH_HYPERVISORS
 * (default "100,300,600"; bounded at 2,000) until a step does not hold; per step it reads the
 * node from the management API (connections, queues, memory, file descriptors, sockets, Erlang
 * processes and their limits), derives the broker cost per hypervisor, and projects which limit
 * a larger count hits first. Emulator memory per emulated agent is the process growth divided by
 * the emulated processes (target ≤ 100 KiB).
 *
 * Broker: the dedicated node of bench/emulate.bench.ts (ulimit -n 20000, own ports and data
 * directory, stopped and removed at the end), or RPCSCOPE_BENCH_AMQP + RPCSCOPE_BENCH_MGMT; its
 * own vhost either way, deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { ManagementClient, type Node } from '../src/broker/management.ts';
import { runEmulation } from '../src/emulate/emulator.ts';
import { neutronServices } from '../src/emulate/neutron.ts';
import { parseScenario } from '../src/emulate/scenario.ts';
import { type Broker, cpuSeconds, dedicatedBroker } from './emulate.bench.ts';

const MAX = 2000;
const STEPS = (process.env.RPCSCOPE_BENCH_HYPERVISORS ?? '100,300,600')
  .split(',')
  .map(Number)
  .filter((n) => n > 0 && n <= MAX);
const STEADY_S = Number(process.env.RPCSCOPE_BENCH_STEADY_S ?? 40);
const log = (s: string) => process.stderr.write(`[bench neutron] ${s}\n`);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

function scenario(url: string) {
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

async function node(mgmt: ManagementClient): Promise<Node | undefined> {
  return (await mgmt.nodes().catch(() => []))[0];
}

async function main(): Promise<void> {
  const external = process.env.RPCSCOPE_BENCH_AMQP;
  const broker: Broker =
    external !== undefined
      ? {
          amqp: external,
          mgmt: process.env.RPCSCOPE_BENCH_MGMT ?? 'http://guest:guest@127.0.0.1:15672',
          async stop() {},
        }
      : await dedicatedBroker();
  const mgmt = new ManagementClient({ url: broker.mgmt, timeoutMs: 10_000 });
  const vhost = `rpcscope-bench-neutron-${randomUUID().slice(0, 8)}`;
  const rows: string[] = [];
  try {
    let n0 = await node(mgmt);
    for (let i = 0; i < 20 && n0?.sockets_total === undefined; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      n0 = await node(mgmt);
    }
    await mgmt.putVhost(vhost);
    await mgmt.setPermissions(vhost, 'guest');
    const s = scenario(`${broker.amqp}/${vhost}`);
    log(
      `broker ${external ?? 'dedicated node'}: fds ${n0?.fd_total}, sockets ${n0?.sockets_total}, Erlang processes ${n0?.proc_total}, memory limit ${mib(n0?.mem_limit ?? 0)} MiB`,
    );
    let last: { n: number; node: Node; conns: number; queues: number } | undefined;
    for (const n of STEPS) {
      globalThis.gc?.();
      const base = process.memoryUsage();
      const b0 = broker.beamPid === undefined ? undefined : cpuSeconds(broker.beamPid);
      const t0 = performance.now();
      let peak = { rss: 0, heap: 0 };
      let atSteady: Node | undefined;
      let conns = 0;
      let queues = 0;
      log(`${n} hypervisors: ${n * 14} connections, ${n * 26} own queues; ${STEADY_S} s steady`);
      const r = await runEmulation(s, {
        computes: n,
        durationS: STEADY_S,
        managementUrl: broker.mgmt,
        sampleIntervalS: 10,
        onEvent: (e) => {
          if (e.type !== 'sample' || e.sample.phase !== 'steady') return;
          globalThis.gc?.();
          const m = process.memoryUsage();
          peak = { rss: Math.max(peak.rss, m.rss), heap: Math.max(peak.heap, m.heapUsed) };
          conns = Math.max(conns, e.sample.broker?.connections ?? 0);
          queues = Math.max(queues, e.sample.broker?.queues ?? 0);
          void node(mgmt).then((x) => {
            if (x !== undefined) atSteady = x;
          });
          log(
            `  t=${e.sample.t.toFixed(0)}s up=${e.sample.servicesUp} conns=${e.sample.broker?.connections ?? '?'} queues=${e.sample.broker?.queues ?? '?'} mem=${mib(e.sample.broker?.memBytes ?? 0)}MiB fd=${e.sample.broker?.fdUsed ?? '?'} procs=${e.sample.broker?.procUsed ?? '?'} rss=${mib(m.rss)}MiB p99=${e.sample.p99Ms?.toFixed(0) ?? '-'}ms`,
          );
        },
      });
      const wall = (performance.now() - t0) / 1000;
      const b1 = broker.beamPid === undefined ? undefined : cpuSeconds(broker.beamPid);
      const brokerCpu = b0 !== undefined && b1 !== undefined ? (b1 - b0) / wall : undefined;
      const procs = Object.values(r.services.byGroup).reduce((a, g) => a + g.connected, 0);
      const rssPer = (peak.rss - base.rss) / Math.max(1, procs);
      const heapPer = (peak.heap - base.heapUsed) / Math.max(1, procs);
      const rs = r.methods['q-reports-plugin.report_state'];
      const ok = r.services.upAtEnd === r.services.planned && r.stoppedBy === 'duration';
      const x = atSteady;
      rows.push(
        `${String(n).padStart(5)} | ${String(conns).padStart(6)} | ${String(queues).padStart(6)} | ${mib(x?.mem_used ?? 0).padStart(7)} | ${String(x?.fd_used ?? '?').padStart(6)} | ${String(x?.sockets_used ?? '?').padStart(6)} | ${String(x?.proc_used ?? '?').padStart(7)} | ${r.rampUpS.toFixed(0).padStart(4)} s | ${rs?.ok ?? 0}/${rs?.calls ?? 0} | ${(heapPer / 1024).toFixed(1).padStart(6)} | ${(rssPer / 1024).toFixed(1).padStart(6)} | ${brokerCpu === undefined ? '-' : `${(brokerCpu * 100).toFixed(0)} %`} | ${loadavg()[0]!.toFixed(1)} | ${ok ? 'held' : `BROKE (${r.services.planned - r.services.upAtEnd} down; ${r.errors[0] ?? ''})`}`,
      );
      log(`step done: ${rows.at(-1)}`);
      if (x !== undefined) last = { n, node: x, conns, queues };
      if (!ok) break;
    }
    process.stdout.write(
      `hypervisors | conns | queues | mem MiB | fd used | sockets | Erlang procs | ramp-up | report_state ok/calls | heap KiB/proc | RSS KiB/proc | broker CPU | load | verdict\n${rows.join('\n')}\n`,
    );
    if (last !== undefined && n0 !== undefined) {
      const per = (used: number | undefined, base: number | undefined) =>
        ((used ?? 0) - (base ?? 0)) / last!.n;
      const limits = [
        {
          what: 'file descriptors',
          per: per(last.node.fd_used, n0.fd_used),
          room: (n0.fd_total ?? 0) - (n0.fd_used ?? 0),
        },
        {
          what: 'sockets',
          per: per(last.node.sockets_used, n0.sockets_used),
          room: (n0.sockets_total ?? 0) - (n0.sockets_used ?? 0),
        },
        {
          what: 'Erlang processes',
          per: per(last.node.proc_used, n0.proc_used),
          room: (n0.proc_total ?? 0) - (n0.proc_used ?? 0),
        },
        {
          what: 'memory (high watermark)',
          per: per(last.node.mem_used, n0.mem_used),
          room: (n0.mem_limit ?? 0) - (n0.mem_used ?? 0),
        },
      ].map((l) => ({ ...l, at: l.per > 0 ? Math.floor(l.room / l.per) : Number.POSITIVE_INFINITY }));
      limits.sort((a, b) => a.at - b.at);
      process.stdout.write(
        `per hypervisor on the broker (measured at ${last.n}): ${limits.map((l) => `${l.what} ${l.what.startsWith('memory') ? `${(l.per / 1024).toFixed(0)} KiB` : l.per.toFixed(1)}`).join(', ')}\n` +
          `limits of this node, hypervisors until each: ${limits.map((l) => `${l.what} ${Number.isFinite(l.at) ? l.at : '-'}`).join(', ')}\n` +
          `first limit hit: ${limits[0]?.what} at ~${limits[0]?.at} hypervisors (load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)\n`,
      );
    }
  } finally {
    await mgmt.deleteVhost(vhost).catch(() => {});
    await broker.stop();
  }
}

await main();
