/**
 * One chaos run: an emulation (EMULATE's startEmulation) on the local cluster, every service group
 * behind its own fault proxy, faults applied on the timeline, broker sampled every second, and at
 * the end a ledger of every message, the broker's own counters beside it, and per fault the time
 * until RPC was healthy again.
 *
 * Timing: the emulation runs for duration + drain seconds; only messages sent in the first
 * `duration` seconds are classified, so each had at least `drain` (≥ the RPC timeout) to settle.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MIRRORED_POLICY, type QueueMode } from '../broker/cluster/layout.ts';
import type { Cluster } from '../broker/cluster.ts';
import { ManagementClient } from '../broker/management.ts';
import { startEmulation } from '../emulate/emulator.ts';
import type { Scenario } from '../emulate/scenario.ts';
import type { EmulationEvent } from '../emulate/types.ts';
import { RpcscopeError } from '../errors.ts';
import { renderChaosHtml } from '../render/chaos-html.ts';
import { DLX_EXCHANGE, ExpiredCollector } from './expired.ts';
import { buildLedger, type Ledger } from './ledger.ts';
import { FaultProxy, type Upstream } from './proxy.ts';
import {
  type Baseline,
  type Bucket,
  baseline,
  bucketize,
  type CallSample,
  recoverySeconds,
} from './recovery.ts';
import { type ChaosSection, checkFaults, describeFault, type Fault } from './timeline.ts';

export interface ChaosRunOptions {
  readonly cluster: Cluster;
  readonly scenario: Scenario;
  readonly chaos: ChaosSection;
  /** Overrides the scenario's oslo.queues.type (and sets the vhost policy for mirrored). */
  readonly queues?: QueueMode;
  readonly outDir?: string;
  readonly seed?: number;
  readonly progress?: (line: string) => void;
}

export interface FaultRecord {
  readonly fault: Fault;
  readonly description: string;
  /** Seconds since the steady state began: planned start, when applied, when undone. */
  readonly atS: number;
  appliedS?: number;
  undoneS?: number;
  error?: string;
  /** Seconds from the fault's start until calls succeeded at the pre-fault rate and latency again. */
  recoveryS?: number;
}

export interface TimelinePoint {
  readonly t: number;
  readonly calls: number;
  readonly ok: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly sent: number;
  readonly reconnects: number;
  readonly queueDepth?: number;
  readonly connections?: number;
  /** mem_used per node name, bytes (absent = node not answering). */
  readonly memBytes: Record<string, number>;
  readonly nodesRunning?: number;
}

export interface BrokerCounters {
  readonly publish?: number;
  readonly confirm?: number;
  readonly deliver?: number;
  readonly redeliver?: number;
  readonly returnUnroutable?: number;
  readonly messagesLeft?: number;
  readonly error?: string;
}

export interface ChaosResult {
  readonly scenario: string;
  readonly queues: QueueMode;
  readonly vhost: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly drainS: number;
  readonly ledger: Ledger;
  readonly faults: FaultRecord[];
  readonly baseline?: Baseline;
  readonly timeline: TimelinePoint[];
  readonly reconnects: number;
  /** Emulator-side totals over the whole run (window and drain) to compare with the broker's. */
  readonly emulator: { readonly published: number; readonly confirmed: number; readonly deliveries: number };
  readonly broker: BrokerCounters;
  readonly expiredOther: number;
  readonly errors: string[];
  readonly servicesConnected: number;
  readonly servicesPlanned: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function amqpUrlVia(port: number, vhost: string): string {
  return `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(vhost)}`;
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

  // ---- vhost: permissions, queue policy of the mode, dead-lettering of expired messages
  say(`vhost ${vhost} (${queues} queues)`);
  await cluster.prepareVhost(vhost);
  const policy: Record<string, unknown> = { 'dead-letter-exchange': DLX_EXCHANGE };
  if (queues === 'mirrored') Object.assign(policy, MIRRORED_POLICY);
  await cluster.ctl(1, [
    'set_policy',
    '-p',
    vhost,
    '--apply-to',
    'queues',
    'rpcscope-chaos',
    '^(?!rpcscope\\.).*',
    JSON.stringify(policy),
  ]);

  const upstreamsFrom = (first: number): Upstream[] => {
    const n = cluster.nodes.length;
    return Array.from({ length: n }, (_, k) => cluster.node(((first - 1 + k) % n) + 1)).map((x) => ({
      host: '127.0.0.1',
      port: x.publicAmqpPort,
      label: x.name,
    }));
  };
  const proxies = new Map<string, FaultProxy>();
  const collectorProxy = new FaultProxy({
    name: 'collector',
    upstreams: upstreamsFrom(cluster.nodes.length),
  });
  const collector = new ExpiredCollector(amqpUrlVia(await collectorProxy.listen(), vhost));
  const timeline: TimelinePoint[] = [];
  const records: FaultRecord[] = faults.map((f) => ({ fault: f, description: describeFault(f), atS: f.at }));
  const timers: NodeJS.Timeout[] = [];
  const pendingOps: Promise<void>[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const undo: Map<FaultRecord, () => Promise<void>> = new Map();

  try {
    await collector.start();
    for (const g of groups) {
      const p = new FaultProxy({ name: g, upstreams: upstreamsFrom(o.chaos.connect[g] ?? 1) });
      await p.listen();
      proxies.set(g, p);
    }
    const scenario: Scenario = {
      ...o.scenario,
      oslo: { ...o.scenario.oslo, queues: { ...o.scenario.oslo.queues, type: queues } },
      services: o.scenario.services.map((s) => {
        const { url: _u, queues: q, ...rest } = s;
        const settings = q !== undefined ? { ...q, type: queues } : undefined;
        return {
          ...rest,
          url: amqpUrlVia(proxies.get(s.name)!.port, vhost),
          ...(settings !== undefined ? { queues: settings } : {}),
        };
      }),
    };

    // ---- events: calls, sends, reconnects
    const hostGroup = new Map<string, string>();
    const calls: CallSample[] = [];
    const remoteErrors = new Map<string, number>();
    let reconnects = 0;
    let t0 = Date.now();
    let perSecondReconnects = 0;
    const onEvent = (e: EmulationEvent) => {
      if (e.type === 'connected') hostGroup.set(e.service, e.group);
      else if (e.type === 'reconnect') {
        reconnects++;
        perSecondReconnects++;
      } else if (e.type === 'call-done') {
        const sentAt = e.ts - e.latencyMs;
        calls.push({ sentAt, ok: e.outcome !== 'timeout', latencyMs: e.latencyMs });
        if (e.outcome === 'remote-error' && sentAt >= t0 && sentAt < t0 + durationS * 1000) {
          const g = hostGroup.get(e.service) ?? '?';
          remoteErrors.set(g, (remoteErrors.get(g) ?? 0) + 1);
        }
      } else if (e.type === 'error') note(e.message);
    };

    say(
      `emulating ${scenario.services.reduce((n, s) => n + s.count, 0)} services for ${durationS}+${drainS} s`,
    );
    const handle = startEmulation(scenario, {
      durationS: durationS + drainS,
      keepMessages: true,
      managementUrl: null,
      sampleIntervalS: 5,
      onEvent,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    });
    await handle.ready;
    t0 = Date.now();
    say('steady state: traffic flowing');

    // ---- broker sampling every second through whichever node answers
    const mgmts = cluster.nodes.map(
      (n) =>
        new ManagementClient({
          url: cluster.mgmtUrl(n.index),
          user: 'guest',
          password: 'guest',
          timeoutMs: 1500,
        }),
    );
    let sentBefore = 0;
    let busy = false;
    const sample = async () => {
      if (busy) return;
      busy = true;
      try {
        const t = Math.round((Date.now() - t0) / 1000);
        const totals = handle.accounting.total();
        const sent = totals.sent - sentBefore;
        sentBefore = totals.sent;
        const memBytes: Record<string, number> = {};
        let queueDepth: number | undefined;
        let connections: number | undefined;
        let nodesRunning: number | undefined;
        for (const m of mgmts) {
          try {
            const [nodes, q] = await Promise.all([m.nodes(), m.vhost(vhost)]);
            for (const n of nodes) if (n.running && n.mem_used !== undefined) memBytes[n.name] = n.mem_used;
            nodesRunning = nodes.filter((n) => n.running).length;
            queueDepth = typeof q.messages === 'number' ? q.messages : undefined;
            const ov = await m.overview();
            connections = ov.object_totals?.connections;
            break;
          } catch {
            // next node
          }
        }
        timeline.push({
          t,
          calls: 0,
          ok: 0,
          sent,
          reconnects: perSecondReconnects,
          memBytes,
          ...(queueDepth !== undefined ? { queueDepth } : {}),
          ...(connections !== undefined ? { connections } : {}),
          ...(nodesRunning !== undefined ? { nodesRunning } : {}),
        });
        perSecondReconnects = 0;
      } finally {
        busy = false;
      }
    };
    sampler = setInterval(() => void sample(), 1000);

    // ---- faults
    const stamp = () => (Date.now() - t0) / 1000;
    const applyFault = async (r: FaultRecord) => {
      const f = r.fault;
      say(`t=${stamp().toFixed(1)}s fault: ${r.description}`);
      const proxiesOf = (g: string) => (g === '*' ? [...proxies.values()] : [proxies.get(g)!]);
      switch (f.action) {
        case 'kill':
          await cluster.killNode(f.node);
          undo.set(r, () => cluster.startNode(f.node));
          break;
        case 'stop':
          await cluster.stopNode(f.node);
          undo.set(r, () => cluster.startNode(f.node));
          break;
        case 'memory-alarm':
          await cluster.setMemoryWatermark(f.node, f.watermark);
          undo.set(r, () => cluster.setMemoryWatermark(f.node, f.restore));
          break;
        case 'partition':
          await cluster.partition(f.groups);
          undo.set(r, () => cluster.heal());
          break;
        case 'toxic': {
          const name = `t${records.indexOf(r)}`;
          for (const p of proxiesOf(f.group)) p.addToxic(name, f.direction, f.toxic);
          undo.set(r, async () => {
            for (const p of proxiesOf(f.group)) p.removeToxic(name);
          });
          break;
        }
        case 'consumer-stall': {
          const name = `t${records.indexOf(r)}`;
          for (const p of proxiesOf(f.group)) p.addToxic(name, 'both', { type: 'timeout', timeoutMs: 0 });
          undo.set(r, async () => {
            for (const p of proxiesOf(f.group)) p.removeToxic(name);
          });
          break;
        }
        case 'consumer-slow': {
          const name = `t${records.indexOf(r)}`;
          for (const p of proxiesOf(f.group))
            p.addToxic(name, 'downstream', { type: 'latency', latencyMs: f.delayMs });
          undo.set(r, async () => {
            for (const p of proxiesOf(f.group)) p.removeToxic(name);
          });
          break;
        }
      }
      r.appliedS = stamp();
    };
    const undoFault = async (r: FaultRecord) => {
      const u = undo.get(r);
      if (u === undefined) return;
      undo.delete(r);
      say(`t=${stamp().toFixed(1)}s undo: ${r.description}`);
      await u();
      r.undoneS = stamp();
      say(`t=${stamp().toFixed(1)}s undone: ${r.description}`);
    };
    for (const r of records) {
      const run = () => {
        const p = applyFault(r)
          .catch((e: unknown) => {
            r.error = e instanceof Error ? e.message : String(e);
            note(`fault ${r.description}: ${r.error}`);
          })
          .then(async () => {
            if (r.fault.for === undefined) return;
            const wait = r.atS + r.fault.for - stamp();
            if (wait > 0) await sleep(wait * 1000);
            await undoFault(r).catch((e: unknown) => {
              r.error = e instanceof Error ? e.message : String(e);
              note(`undo ${r.description}: ${r.error}`);
            });
          });
        pendingOps.push(p);
      };
      timers.push(setTimeout(run, r.atS * 1000));
    }

    const result = await handle.result;
    clearInterval(sampler);
    sampler = undefined;
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled(pendingOps);
    for (const r of [...undo.keys()]) await undoFault(r).catch((e: unknown) => note(String(e)));

    // ---- counting
    const ledger = buildLedger({
      messages: handle.accounting.messages(),
      expired: collector.ids,
      remoteErrors,
      from: t0,
      to: t0 + durationS * 1000,
    });
    const buckets: Bucket[] = bucketize(calls, t0, durationS + drainS);
    const firstFault = faults[0]?.at ?? durationS;
    const base = baseline(buckets, Math.min(5, firstFault / 2), Math.max(1, firstFault));
    if (base !== undefined)
      for (const r of records) {
        const rs = recoverySeconds(buckets, base, r.atS);
        if (rs !== undefined) r.recoveryS = rs;
      }
    const points = timeline.map((p) => {
      const b = buckets[p.t];
      return b === undefined
        ? p
        : {
            ...p,
            calls: b.calls,
            ok: b.ok,
            ...(b.p50Ms !== undefined ? { p50Ms: b.p50Ms } : {}),
            ...(b.p99Ms !== undefined ? { p99Ms: b.p99Ms } : {}),
          };
    });
    const broker = await brokerCounters(mgmts, vhost);
    const tot = handle.accounting.total();
    const out: ChaosResult = {
      scenario: o.scenario.name,
      queues,
      vhost,
      startedAt: new Date(t0).toISOString(),
      durationS,
      drainS,
      ledger,
      faults: records,
      ...(base !== undefined ? { baseline: base } : {}),
      timeline: points,
      reconnects,
      emulator: { published: tot.sent, confirmed: tot.confirmed, deliveries: tot.delivered },
      broker,
      expiredOther: collector.other,
      errors: [...errors, ...result.errors.filter((e) => !errors.includes(e))].slice(0, 100),
      servicesConnected: result.services.connected,
      servicesPlanned: result.services.planned,
    };
    if (o.outDir !== undefined) {
      await mkdir(o.outDir, { recursive: true });
      await writeFile(path.join(o.outDir, `chaos-${queues}.json`), JSON.stringify(out, null, 2));
      await writeFile(path.join(o.outDir, `chaos-${queues}.html`), renderChaosHtml(out));
    }
    return out;
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    for (const t of timers) clearTimeout(t);
    for (const r of [...undo.keys()])
      await undo
        .get(r)?.()
        .catch(() => {});
    await collector.close();
    await collectorProxy.close();
    for (const p of proxies.values()) await p.close();
    await cluster.deleteVhost(vhost).catch((e: unknown) => {
      throw new RpcscopeError('RPCSCOPE_CLUSTER', `could not delete vhost ${vhost}: ${String(e)}`);
    });
  }
}

async function brokerCounters(mgmts: readonly ManagementClient[], vhost: string): Promise<BrokerCounters> {
  let last = '';
  for (const m of mgmts) {
    try {
      const v = await m.vhost(vhost);
      const s = (v.message_stats ?? {}) as Record<string, number | undefined>;
      return {
        ...(s.publish !== undefined ? { publish: s.publish } : {}),
        ...(s.confirm !== undefined ? { confirm: s.confirm } : {}),
        ...(s.deliver !== undefined ? { deliver: s.deliver } : {}),
        ...(s.redeliver !== undefined ? { redeliver: s.redeliver } : {}),
        ...(s.return_unroutable !== undefined ? { returnUnroutable: s.return_unroutable } : {}),
        ...(typeof v.messages === 'number' ? { messagesLeft: v.messages } : {}),
      };
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
  }
  return { error: last };
}
