/**
 * One chaos run: an emulation (EMULATE's startEmulation) on the local cluster, every service group
 * behind its own fault proxy, faults applied on the timeline, broker sampled every second, and at
 * the end a ledger of every message, the broker's own counters beside it, and per fault the time
 * until RPC was healthy again.
 *
 * The phases live in files of their own: set-up (setup.ts), the fault timeline (faults.ts), the
 * broker sampling (broker-sampler.ts), the accounting (account.ts) and the report (report.ts).
 *
 * Timing: the emulation runs for duration + drain seconds; only messages sent in the first
 * `duration` seconds are classified, so each had at least `drain` (≥ the RPC timeout) to settle.
 */
import { randomBytes } from 'node:crypto';
import type { QueueMode } from '../broker/cluster/layout.ts';
import { startEmulation } from '../emulate/emulator.ts';
import { withCounts } from '../emulate/scenario.ts';
import { RpcscopeError } from '../errors.ts';
import { accountRun, RunEvents } from './account.ts';
import { BrokerSampler } from './broker-sampler.ts';
import { FaultRunner } from './faults.ts';
import { writeChaosReport } from './report.ts';
import { ChaosRig, prepareChaosVhost, routeScenario } from './setup.ts';
import { FanoutTracker, OrphanSampler, ResyncTracker, type StormResult, stormLines } from './storm.ts';
import { checkFaults, describeFault } from './timeline.ts';
import type { ChaosResult, ChaosRunOptions, FaultRecord, TimelinePoint } from './types.ts';

export type { BrokerCounters, ChaosResult, ChaosRunOptions, FaultRecord, TimelinePoint } from './types.ts';

/** Sum of the nodes' memory in a point, MiB (undefined when no node answered). */
function memMiB(p: TimelinePoint): number | undefined {
  const v = Object.values(p.memBytes);
  return v.length === 0 ? undefined : v.reduce((a, b) => a + b, 0) / 1048576;
}

/** Runs the scenario with its fault timeline on an already running cluster. */
export async function runChaos(o: ChaosRunOptions): Promise<ChaosResult> {
  const say = o.progress ?? (() => {});
  const cluster = o.cluster;
  const queues: QueueMode = o.queues ?? o.scenario.oslo.queues.type;
  const groups = o.scenario.services.map((s) => s.name);
  const faults = checkFaults(o.chaos.faults, cluster.nodes.length, groups);
  const durationS = o.chaos.duration;
  const drainS = o.chaos.drain ?? o.scenario.oslo.rpcResponseTimeoutS + 5;
  const vhost = `rpcscope-chaos-${randomBytes(4).toString('hex')}`;
  const errors: string[] = [];
  const note = (m: string) => {
    if (errors.length < 100) errors.push(m);
  };

  // ---- set-up
  say(`vhost ${vhost} (${queues} queues)`);
  await prepareChaosVhost(cluster, vhost, queues);
  const rig = await ChaosRig.open(cluster, vhost);
  const records: FaultRecord[] = faults.map((f) => ({ fault: f, description: describeFault(f), atS: f.at }));
  let sampler: BrokerSampler | undefined;
  let faultRunner: FaultRunner | undefined;
  let orphans: OrphanSampler | undefined;

  try {
    await rig.start(groups, o.chaos.connect);
    const scenario = routeScenario(o.scenario, queues, rig.proxies, vhost);

    // ---- emulation, its events accounted as they come
    const events = new RunEvents(durationS, note);
    // the storms' own accounting (storm.ts): resyncs after reconnects, a fanout per agent
    let runOp: ((name: string, host: string) => Promise<void>) | undefined;
    const rs = o.chaos.resync;
    const resync =
      rs === undefined
        ? undefined
        : new ResyncTracker(rs.group, rs.operation, (name, host) =>
            runOp === undefined ? Promise.reject(new Error('no emulation')) : runOp(name, host),
          );
    const fo = o.chaos.fanout;
    const fanout = fo === undefined ? undefined : new FanoutTracker(fo.group, fo.method, fo.lateAfter);
    const onEvent: typeof events.onEvent = (e) => {
      events.onEvent(e);
      resync?.onEvent(e);
      fanout?.onEvent(e);
    };
    say(
      `emulating ${withCounts(scenario, o.chaos.computes).services.reduce((n, s) => n + s.count, 0)} services for ${durationS}+${drainS} s`,
    );
    const handle = startEmulation(scenario, {
      durationS: durationS + drainS,
      keepMessages: true,
      managementUrl: null,
      sampleIntervalS: 5,
      onEvent,
      ...(o.chaos.computes !== undefined ? { computes: o.chaos.computes } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    });
    await handle.ready;
    const t0 = Date.now();
    events.t0 = t0;
    if (resync !== undefined) resync.t0 = t0;
    runOp = handle.runOperation;
    if (faults.some((f) => f.action === 'restart-group')) {
      orphans = new OrphanSampler(cluster, vhost, t0);
      orphans.start();
    }
    say('steady state: traffic flowing');

    // ---- broker sampling every second, faults on the timeline
    sampler = new BrokerSampler({
      cluster,
      vhost,
      t0,
      sentTotal: () => handle.accounting.total().sent,
      takeReconnects: () => events.takeReconnects(),
    });
    sampler.start();
    faultRunner = new FaultRunner(records, {
      cluster,
      rig,
      t0,
      say,
      note,
      emulation: handle,
      onLeftBehind: (q) => orphans?.leftBehind(q),
    });
    faultRunner.schedule();

    const result = await handle.result;
    sampler.stop();
    await faultRunner.settle();
    orphans?.stop();

    // ---- accounting
    const account = accountRun({
      events,
      messages: handle.accounting.messages(),
      expired: rig.collector.ids,
      records,
      points: sampler.points,
      durationS,
      drainS,
    });
    const broker = await sampler.counters();
    const mems = sampler.points.map(memMiB).filter((m): m is number => m !== undefined);
    const firstAt = records[0]?.atS ?? durationS;
    const before = sampler.points.filter((p) => p.t < firstAt).map(memMiB);
    const depths = sampler.points.map((p) => p.queueDepth ?? 0);
    const storm: StormResult = {
      ...(resync !== undefined ? { resync: resync.summary() } : {}),
      ...(fanout !== undefined
        ? {
            fanout: fanout.summary(handle.accounting.messages(), t0, t0 + durationS * 1000),
          }
        : {}),
      ...(orphans !== undefined ? { orphans: orphans.summary() } : {}),
      ...(mems.length > 0
        ? {
            brokerMemMiB: {
              ...(before.at(-1) !== undefined ? { before: before.at(-1)! } : {}),
              peak: Math.max(...mems),
              end: mems.at(-1)!,
            },
          }
        : {}),
      peakQueueDepth: Math.max(0, ...depths),
    };
    for (const l of stormLines(storm)) say(l);
    const tot = handle.accounting.total();
    const out: ChaosResult = {
      scenario: o.scenario.name,
      queues,
      vhost,
      startedAt: new Date(t0).toISOString(),
      durationS,
      drainS,
      ledger: account.ledger,
      faults: records,
      ...(account.baseline !== undefined ? { baseline: account.baseline } : {}),
      timeline: account.timeline,
      reconnects: events.reconnects,
      emulator: { published: tot.sent, confirmed: tot.confirmed, deliveries: tot.delivered },
      broker,
      expiredOther: rig.collector.other,
      errors: [...errors, ...result.errors.filter((e) => !errors.includes(e))].slice(0, 100),
      servicesConnected: result.services.connected,
      servicesPlanned: result.services.planned,
      storm,
    };

    // ---- report
    if (o.outDir !== undefined) await writeChaosReport(o.outDir, out);
    return out;
  } finally {
    // ---- teardown: undo what is still applied, release proxies and collector, drop the vhost
    sampler?.stop();
    orphans?.stop();
    await faultRunner?.abort();
    await rig.close();
    await cluster.deleteVhost(vhost).catch((e: unknown) => {
      throw new RpcscopeError('RPCSCOPE_CLUSTER', `could not delete vhost ${vhost}: ${String(e)}`);
    });
  }
}
