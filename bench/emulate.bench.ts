/**
 * `npm run bench emulate`: how many emulated nova-computes one emulator process holds on this
 * machine, with the broker on the same machine. Each compute has its own AMQP connection, its
 * three queues (compute, compute.<host>, compute_fanout_<id>) plus its reply queue, calls
 * Service.save every 10 s and runs the 60 s update_available_resource burst; an emulated
 * conductor service (RPCSCOPE_BENCH_CONDUCTORS workers, default 4, same process) answers. Steps
 * up the count (RPCSCOPE_BENCH_COMPUTES, default "5000", e.g. "2000,5000,8000") until a step
 * fails to hold: a compute not connected at the end of the steady state. RPC health (calls,
 * timeouts, p99) is printed beside it: it depends on the CPU the broker and the emulator get on
 * a shared machine, so the load average is printed too. Prints heap and RSS per emulated
 * service, the emulator's CPU share, and the RSS of one real python oslo.messaging RPC server as
 * a ratio.
 *
 * Broker: bench/broker.ts (RPCSCOPE_BENCH_AMQP, or a dedicated node with `ulimit -n 20000`).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ManagementClient } from '../src/broker/management.ts';
import { runEmulation } from '../src/emulate/emulator.ts';
import { parseScenario } from '../src/emulate/scenario.ts';
import { quantile } from '../src/emulate/stats.ts';
import type { EmulationResult } from '../src/emulate/types.ts';
import { cpuSeconds, nodeStats, openBroker, rssOf } from './broker.ts';

const STEPS = (process.env.RPCSCOPE_BENCH_COMPUTES ?? '5000').split(',').map(Number);
const STEADY_S = Number(process.env.RPCSCOPE_BENCH_STEADY_S ?? 70);
/** Emulated conductor workers (same process) consuming the one `conductor` queue, as nova runs several. */
const CONDUCTORS = Number(process.env.RPCSCOPE_BENCH_CONDUCTORS ?? 4);
/** The dedicated node's collect_statistics_interval (see openBroker); 5000 is RabbitMQ's default. */
const STATS_MS = Number(process.env.RPCSCOPE_BENCH_STATS_MS ?? 30_000);
const log = (s: string) => process.stderr.write(`[bench emulate] ${s}\n`);

async function pythonServerRss(rabbitUrl: string): Promise<number | undefined> {
  const harness = fileURLToPath(new URL('../test/harness/interop_oslo.py', import.meta.url));
  const p = spawn(
    '/usr/bin/python3',
    [harness, 'server', '--url', rabbitUrl, '--topic', 'conductor', '--server', 'py-1', '--seconds', '20'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  await new Promise<void>((resolve) => {
    createInterface({ input: p.stdout! }).on('line', (l) => {
      if (l.includes('"ready"')) resolve();
    });
    p.on('exit', () => resolve());
  });
  await new Promise((r) => setTimeout(r, 2000));
  const rss = p.pid === undefined ? undefined : rssOf(p.pid);
  p.kill('SIGTERM');
  return rss;
}

const scenarioText = (url: string) => `version: 1
name: bench-computes
broker: { url: "${url}" }
oslo: { controlExchange: nova }
services:
  - name: nova-compute
    count: 1
    scalable: true
    host: "compute-{i:5}"
    topics: [compute]
    periodic:
      - { kind: call, topic: conductor, method: object_action, object: Service.save, version: "3.0", periodS: 10, jitter: 0.05, bytes: 1830 }
      # update_available_resource, every 60 s (measured in data/nova-zed idle)
      - { kind: call, topic: conductor, method: object_class_action_versions, object: InstanceList.get_by_host, periodS: 60, bytes: 2306 }
      - { kind: call, topic: conductor, method: object_class_action_versions, object: ComputeNodeList.get_all_by_host, periodS: 60, bytes: 1470 }
      - { kind: call, topic: conductor, method: object_class_action_versions, object: InstanceList.get_by_host_and_node, periodS: 60, bytes: 2401 }
      - { kind: call, topic: conductor, method: object_class_action_versions, object: MigrationList.get_in_progress_and_error, periodS: 60, bytes: 1391 }
      - { kind: call, topic: conductor, method: object_class_action_versions, object: Service.get_by_compute_host, periodS: 60, bytes: 1439 }
  - name: nova-conductor
    count: ${CONDUCTORS}
    topics: [conductor]
    serve: { delayMs: 2, replyBytes: 700 }
`;

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (b: number) => (b / 1048576).toFixed(1);

async function main(): Promise<void> {
  const external = process.env.RPCSCOPE_BENCH_AMQP;
  const broker = await openBroker(STATS_MS);
  const mgmt = new ManagementClient({ url: broker.mgmt, timeoutMs: 10_000 });
  const vhost = `rpcscope-bench-emulate-${randomUUID().slice(0, 8)}`;
  const rows: string[] = [];
  type Step = { n: number; r: EmulationResult; heapPer: number; rssPer: number; brokerCpu?: number };
  let held: Step | undefined;
  let lastStep: Step | undefined;
  try {
    const n0 = await nodeStats(mgmt, 20);
    log(
      `broker ${external ?? 'dedicated node'}: sockets limit ${n0?.sockets_total ?? '?'}, fds ${n0?.fd_total ?? '?'}`,
    );
    await mgmt.putVhost(vhost);
    await mgmt.setPermissions(vhost, 'guest');
    const url = `${broker.amqp}/${vhost}`;
    const scenario = parseScenario(scenarioText(url), 'bench');
    for (const n of STEPS) {
      gc?.();
      const base = process.memoryUsage();
      let steadyHeap = 0;
      let steadyRss = 0;
      const b0 = broker.beamPid === undefined ? undefined : cpuSeconds(broker.beamPid);
      const t0 = performance.now();
      log(`${n} computes: ramp-up at 200 connections/s, ${STEADY_S} s steady`);
      const r = await runEmulation(scenario, {
        computes: n,
        durationS: STEADY_S,
        managementUrl: broker.mgmt,
        sampleIntervalS: 10,
        onEvent: (e) => {
          if (e.type === 'sample' && e.sample.phase === 'steady') {
            gc?.();
            const m = process.memoryUsage();
            steadyHeap = Math.max(steadyHeap, m.heapUsed);
            steadyRss = Math.max(steadyRss, m.rss);
            const line = `  t=${e.sample.t.toFixed(0)}s up=${e.sample.servicesUp} sent/s=${e.sample.sentPerS.toFixed(0)} p99=${e.sample.p99Ms?.toFixed(0) ?? '-'}ms rss=${mib(m.rss)}MiB cpu=${(e.sample.emulator.cpu * 100).toFixed(0)}% lag=${e.sample.emulator.schedulerLagMs?.toFixed(0) ?? '-'}ms`;
            // Calls waiting in the broker (as of its last stats emission): where a backlog sits.
            mgmt.queue(vhost, 'conductor').then(
              (q) =>
                log(
                  `${line} conductor queue: ${q.messages_ready ?? '?'} ready, ${q.messages_unacknowledged ?? '?'} unacked`,
                ),
              () => log(line),
            );
          }
        },
      });
      const b1 = broker.beamPid === undefined ? undefined : cpuSeconds(broker.beamPid);
      const wall = (performance.now() - t0) / 1000;
      const brokerCpu = b0 !== undefined && b1 !== undefined ? (b1 - b0) / wall : undefined;
      const computes = r.services.byGroup['nova-compute']?.connected ?? 0; // first-attempt connects
      const all = Object.values(r.methods);
      const calls = all.reduce((a, m) => a + m.calls, 0) + (r.pendingCallsAtEnd ?? 0);
      // Calls unanswered when the steady state ended count as timed out: with a steady state shorter
      // than the 60 s RPC timeout, a backlog in the broker would otherwise not show.
      const timeouts = all.reduce((a, m) => a + m.timeouts, 0) + (r.pendingCallsAtEnd ?? 0);
      const p99 = all.map((m) => quantile(m.latency, 0.99) ?? 0).reduce((a, b) => Math.max(a, b), 0);
      const heapPer = (steadyHeap - base.heapUsed) / Math.max(1, r.services.connected);
      const rssPer = (steadyRss - base.rss) / Math.max(1, r.services.connected);
      // Held = every compute connected, stayed connected, no reconnect; RPC health is reported beside.
      const ok = r.services.upAtEnd === r.services.planned && r.stoppedBy === 'duration';
      const load = loadavg()[0]!.toFixed(1);
      rows.push(
        `${String(n).padStart(6)} | ${String(computes).padStart(9)} | ${r.rampUpS.toFixed(0).padStart(6)} s | ${String(calls).padStart(7)} | ${String(timeouts).padStart(8)} | ${p99.toFixed(0).padStart(7)} | ${(heapPer / 1024).toFixed(1).padStart(9)} | ${(rssPer / 1024).toFixed(1).padStart(8)} | ${(r.emulator.meanCpu * 100).toFixed(0).padStart(5)} % | ${brokerCpu === undefined ? '    -' : `${(brokerCpu * 100).toFixed(0).padStart(5)} %`} | ${load.padStart(4)} | ${ok ? 'held' : `BROKE (${r.services.planned - r.services.upAtEnd} not connected at the end; ${r.errors[0] ?? ''})`}${r.services.failed > 0 || r.reconnects > 0 ? ` [${r.services.failed} first connections failed, ${r.reconnects} reconnects]` : ''}`,
      );
      log(`step done: ${rows.at(-1)}`);
      lastStep = { n, r, heapPer, rssPer, ...(brokerCpu !== undefined ? { brokerCpu } : {}) };
      if (!ok) break;
      held = { n, r, heapPer, rssPer, ...(brokerCpu !== undefined ? { brokerCpu } : {}) };
    }
    const pyRss = await pythonServerRss(url.replace(/^amqp:/, 'rabbit:'));
    const last = held ?? lastStep;
    process.stdout.write(
      `computes | connected | ramp-up | calls   | no reply | p99 ms  | heap KiB/svc | RSS KiB/svc | emulator CPU | broker CPU | load | verdict\n${rows.join('\n')}\n`,
    );
    if (held !== undefined) {
      process.stdout.write(
        `largest count held: ${held.n} emulated nova-computes in one process (own connection each, 4 queues each, Service.save 10 s, update_available_resource 60 s)\n` +
          `  RPC at that count: ${Object.values(held.r.methods).reduce((a, m) => a + m.ok, 0)} calls answered, ${Object.values(held.r.methods).reduce((a, m) => a + m.timeouts, 0)} timed out, ${held.r.pendingCallsAtEnd ?? 0} still waiting at the end (1-minute load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)\n` +
          `per emulated service: heap ${(held.heapPer / 1024).toFixed(1)} KiB, RSS ${(held.rssPer / 1024).toFixed(1)} KiB (target ≤ 100 KiB)\n` +
          `emulator CPU: ${(held.r.emulator.meanCpu * 100).toFixed(0)} % of one core at steady state${held.brokerCpu !== undefined ? `; broker ${(held.brokerCpu * 100).toFixed(0)} % of one core over the step` : ''}\n`,
      );
    }
    if (pyRss !== undefined && last !== undefined)
      process.stdout.write(
        `one real python oslo.messaging RPC server: RSS ${mib(pyRss)} MiB = ${(pyRss / Math.max(1, last.rssPer)).toFixed(0)}× one emulated service (at ${last.n})\n`,
      );
  } finally {
    await mgmt.deleteVhost(vhost).catch(() => {});
    await broker.stop();
  }
}

await main();
