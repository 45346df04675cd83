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
import { RpcscopeError } from '../errors.ts';
import { accountRun, RunEvents } from './account.ts';
import { BrokerSampler } from './broker-sampler.ts';
import { FaultRunner } from './faults.ts';
import { writeChaosReport } from './report.ts';
import { ChaosRig, prepareChaosVhost, routeScenario } from './setup.ts';
import { checkFaults, describeFault } from './timeline.ts';
import type { ChaosResult, ChaosRunOptions, FaultRecord } from './types.ts';

export type { BrokerCounters, ChaosResult, ChaosRunOptions, FaultRecord, TimelinePoint } from './types.ts';

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

  try {
    await rig.start(groups, o.chaos.connect);
    const scenario = routeScenario(o.scenario, queues, rig.proxies, vhost);

    // ---- emulation, its events accounted as they come
    const events = new RunEvents(durationS, note);
    say(
      `emulating ${scenario.services.reduce((n, s) => n + s.count, 0)} services for ${durationS}+${drainS} s`,
    );
    const handle = startEmulation(scenario, {
      durationS: durationS + drainS,
      keepMessages: true,
      managementUrl: null,
      sampleIntervalS: 5,
      onEvent: events.onEvent,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    });
    await handle.ready;
    const t0 = Date.now();
    events.t0 = t0;
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
    faultRunner = new FaultRunner(records, { cluster, rig, t0, say, note });
    faultRunner.schedule();

    const result = await handle.result;
    sampler.stop();
    await faultRunner.settle();

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
    };

    // ---- report
    if (o.outDir !== undefined) await writeChaosReport(o.outDir, out);
    return out;
  } finally {
    // ---- teardown: undo what is still applied, release proxies and collector, drop the vhost
    sampler?.stop();
    await faultRunner?.abort();
    await rig.close();
    await cluster.deleteVhost(vhost).catch((e: unknown) => {
      throw new RpcscopeError('RPCSCOPE_CLUSTER', `could not delete vhost ${vhost}: ${String(e)}`);
    });
  }
}
