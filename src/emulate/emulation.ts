/**
 * One run of a scenario: ramp-up (services connect at a bounded rate), steady state (periodic RPCs
 * and operations at their rates), teardown (everything declared is deleted). The clock is the
 * Scheduler (scheduler.ts), the samples over time come from the Sampler (sampler.ts). Broker
 * trouble never throws: the result says what happened and holds what was measured until then.
 */
import amqp from 'amqplib';
import { ManagementClient } from '../broker/management.ts';
import { boundYoungGeneration } from '../util/heap.ts';
import { redactUrl } from '../util/url.ts';
import { Accounting } from './accounting.ts';
import { planServices, prng, type ServicePlan } from './plan.ts';
import { EmulatedProcess, type EmulatedUnit } from './process.ts';
import { managementUrlFor, Sampler, vhostOf } from './sampler.ts';
import { type Operation, type Periodic, type Scenario, withCounts } from './scenario.ts';
import { Scheduler } from './scheduler.ts';
import { EmulatedService } from './service.ts';
import type { ServiceContext } from './service-context.ts';
import { emptyHistogram, newMethodStats, record, summarise } from './stats.ts';
import type {
  EmulationEvent,
  EmulationHandle,
  EmulationOptions,
  EmulationResult,
  HistogramData,
  MethodStats,
  Phase,
} from './types.ts';

export class Emulation {
  readonly scenario: Scenario;
  readonly accounting: Accounting;
  /** Resolves when ramp-up is over (steady state begins). */
  readonly ready: Promise<void>;
  /** Resolves at the end; never rejects for broker trouble. */
  readonly result: Promise<EmulationResult>;

  private readonly opts: EmulationOptions;
  private readonly rand: () => number;
  private readonly allPlans: ServicePlan[];
  private readonly services: EmulatedUnit[];
  private readonly byGroup = new Map<string, EmulatedUnit[]>();
  /** Processes killGroup() restarted: the old unit → the new one. */
  private readonly replaced = new Map<EmulatedUnit, EmulatedUnit>();
  /** Hosts of every planned service (all shards) per topic, for calls to a given server. */
  private readonly byTopic = new Map<string, string[]>();
  /** Queues and exchanges to delete at teardown, per broker URL. */
  private readonly shared = new Map<string, Set<string>>();
  private readonly exchanges = new Map<string, Set<string>>();
  private readonly scheduler = new Scheduler();
  private readonly sampler: Sampler;
  private readonly t0 = performance.now();
  private readonly startedAt = new Date();
  private readonly errors: string[] = [];
  private resolveReady!: () => void;

  // ---- counters
  private readonly methods = new Map<string, MethodStats>();
  private interval: HistogramData = emptyHistogram();
  private sent = 0;
  private answered = 0;
  private timeouts = 0;
  private confirmed = 0;
  private nacked = 0;
  private reconnects = 0;

  // ---- lifecycle
  private phase: Phase = 'ramp-up';
  private stopRequested = false;
  private wake: (() => void) | undefined;
  private failed = 0;
  private started = 0;
  private readonly startedOk = new Set<EmulatedUnit>();
  private brokerRefused = false;
  private stoppedBy: EmulationResult['stoppedBy'] = 'duration';
  private rampUpS = 0;
  private upAtEnd = 0;
  private pendingAtEnd = 0;
  private steadyStart = 0;
  private steadyEnd = 0;

  /** Starts the run at once; see EmulationHandle. */
  constructor(scenarioIn: Scenario, opts: EmulationOptions = {}) {
    this.opts = opts;
    if (opts.boundHeap !== false) boundYoungGeneration();
    const scenario = withCounts(scenarioIn, opts.computes);
    this.scenario = scenario;
    const brokerUrl = opts.amqpUrl ?? scenario.broker.url;
    this.accounting = new Accounting({ keepMessages: opts.keepMessages === true });
    this.rand = prng(opts.seed ?? 1);
    this.allPlans = planServices(scenario, brokerUrl);
    const plans = planServices(scenario, brokerUrl, opts.shard);
    for (const p of this.allPlans)
      for (const t of p.spec.topics) this.byTopic.set(t, [...(this.byTopic.get(t) ?? []), p.host]);

    const ctx = this.serviceContext();
    // oslo's several connections per process where the scenario lays them out (neutron agents).
    this.services = plans.map((p) =>
      p.spec.connections !== undefined ? new EmulatedProcess(p, ctx) : new EmulatedService(p, ctx),
    );
    for (const s of this.services)
      this.byGroup.set(s.plan.group, [...(this.byGroup.get(s.plan.group) ?? []), s]);

    const mgmtUrl =
      opts.managementUrl === null
        ? undefined
        : (opts.managementUrl ?? scenario.broker.management ?? managementUrlFor(brokerUrl));
    const mgmt = mgmtUrl === undefined ? undefined : new ManagementClient({ url: mgmtUrl, timeoutMs: 4000 });
    this.sampler = new Sampler(
      {
        t0: this.t0,
        phase: () => this.phase,
        totals: () => ({ sent: this.sent, answered: this.answered, timeouts: this.timeouts }),
        takeLatencies: () => {
          const h = this.interval;
          this.interval = emptyHistogram();
          return h;
        },
        takeSchedulerLag: () => this.scheduler.takeLag(),
        servicesUp: () => this.servicesUp(),
        noteError: (m) => this.noteError(m),
        onSample: (s) => {
          this.emit({ type: 'sample', sample: s });
          // Bounded accounting memory in long runs: settled casts/fanouts older than 2 timeouts go.
          this.accounting.forgetBefore(Date.now() - 2 * scenario.oslo.rpcResponseTimeoutS * 1000);
        },
      },
      mgmt,
      vhostOf(brokerUrl),
    );
    this.sampler.start((opts.sampleIntervalS ?? 5) * 1000);

    this.ready = new Promise<void>((r) => {
      this.resolveReady = r;
    });
    this.result = this.run();
  }

  /** The handle startEmulation returns. */
  handle(): EmulationHandle {
    return {
      ready: this.ready,
      result: this.result,
      accounting: this.accounting,
      scenario: this.scenario,
      stop: () => this.stop(),
      killGroup: (group, count) => this.killGroup(group, count),
      runOperation: (name, host) => this.runOperationNamed(name, host),
    };
  }

  /** Ends the steady state now; teardown follows. */
  stop(): Promise<EmulationResult> {
    this.stopRequested = true;
    if (this.stoppedBy === 'duration') this.stoppedBy = 'stop';
    this.wake?.();
    return this.result;
  }

  private emit(e: EmulationEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // a listener's bug must not stop the run
    }
  }

  private noteError(m: string): void {
    if (this.errors.length < 50 && !this.errors.includes(m)) this.errors.push(m);
    this.emit({ type: 'error', message: m, ts: Date.now() });
  }

  private setPhase(p: Phase): void {
    this.phase = p;
    this.emit({ type: 'phase', phase: p, ts: Date.now() });
  }

  private servicesUp(): number {
    return this.services.reduce((n, x) => n + (x.up ? 1 : 0), 0);
  }

  /** What every emulated service reports to and asks of the run. */
  private serviceContext(): ServiceContext {
    const emit = (e: EmulationEvent) => this.emit(e);
    return {
      scenario: this.scenario,
      rand: this.rand,
      accounting: this.accounting,
      onCall: (_s, key, outcome, ms) => {
        let m = this.methods.get(key);
        if (m === undefined) {
          m = newMethodStats(key);
          this.methods.set(key, m);
        }
        m.calls++;
        if (outcome === 'timeout') {
          m.timeouts++;
          this.timeouts++;
        } else {
          if (outcome === 'ok') m.ok++;
          else m.remoteErrors++;
          record(m.latency, ms);
          record(this.interval, ms);
          this.answered++;
        }
        emit({ type: 'call-done', service: _s.host, method: key, outcome, latencyMs: ms, ts: Date.now() });
      },
      onSent: () => {
        this.sent++;
      },
      onReceived: (s, queue, method, uniqueId, duplicate) => {
        if (this.opts.onEvent === undefined) return;
        emit({
          type: 'received',
          service: s.host,
          group: s.group,
          queue,
          method,
          ...(uniqueId !== undefined ? { uniqueId } : {}),
          duplicate,
          ts: Date.now(),
        });
      },
      onConfirm: (ok) => {
        if (ok) this.confirmed++;
        else this.nacked++;
      },
      onConnected: (s) => {
        emit({ type: 'connected', service: s.host, group: s.group, ts: Date.now() });
      },
      onDisconnected: (s, reason) => {
        this.noteError(`${s.group}: connection lost: ${reason}`);
        emit({ type: 'disconnected', service: s.host, group: s.group, ts: Date.now(), reason });
      },
      onReconnect: (s, attempt, delayMs) => {
        this.reconnects++;
        emit({ type: 'reconnect', service: s.host, group: s.group, attempt, delayMs, ts: Date.now() });
      },
      anyHost: (topic) => {
        const hosts = this.byTopic.get(topic);
        if (hosts === undefined || hosts.length === 0) return undefined;
        return hosts[Math.floor(this.rand() * hosts.length)];
      },
      sharedExchange: (url, name) => addTo(this.exchanges, url, name),
      sharedQueue: (url, name) => addTo(this.shared, url, name),
    };
  }

  // ---- periodic work and operations

  private schedulePeriodic(svc: EmulatedUnit, p: Periodic, phase0: number): void {
    const period = (p.periodS * 1000) / this.scenario.speedup;
    const fire = (at: number) => {
      this.scheduler.at(at, () => {
        if (this.stopRequested) return;
        const rid = `req-${crypto.randomUUID()}`;
        // a process restarted by killGroup() goes on with its periodic work as the new process
        const cur = this.current(svc);
        for (let i = 0; i < p.count; i++) cur.send(p, rid)?.catch(() => {});
        const j = p.jitter === 0 ? 0 : (this.rand() * 2 - 1) * p.jitter;
        fire(at + period * (1 + j));
      });
    };
    fire(performance.now() + phase0 * period);
  }

  /** The unit that stands for `svc` now (itself unless killGroup() restarted it). */
  private current(svc: EmulatedUnit): EmulatedUnit {
    let s = svc;
    for (let n = this.replaced.get(s); n !== undefined; n = this.replaced.get(s)) s = n;
    return s;
  }

  /**
   * Kills up to `count` processes of `group` (all by default) the way SIGKILL does to an agent:
   * connections gone, **queues left behind** (its fanout and reply queues live on until their
   * x-expires and go on receiving every fanout). `restart()` starts each again as a new process of
   * the same host — new `topic_fanout_<uuid>` and `reply_<uuid>` names, as a restarted oslo process
   * declares — which takes over its periodic work. Used by `rpcscope chaos` (restart-group).
   */
  async killGroup(
    group: string,
    count?: number,
  ): Promise<{ readonly hosts: string[]; readonly queues: string[]; restart: () => Promise<void> }> {
    const units = (this.byGroup.get(group) ?? []).slice(0, count ?? Number.POSITIVE_INFINITY);
    await Promise.allSettled(units.map((u) => u.stop(false)));
    const ctx = this.serviceContext();
    const restart = async () => {
      await Promise.allSettled(
        units.map(async (old) => {
          const p = old.plan;
          const fresh: EmulatedUnit =
            p.spec.connections !== undefined ? new EmulatedProcess(p, ctx) : new EmulatedService(p, ctx);
          this.replaced.set(old, fresh);
          const i = this.services.indexOf(old);
          if (i >= 0) this.services[i] = fresh;
          const g = this.byGroup.get(p.group) ?? [];
          const k = g.indexOf(old);
          if (k >= 0) g[k] = fresh;
          await fresh.start().catch(() => fresh.retry());
        }),
      );
    };
    return {
      hosts: units.map((u) => u.plan.host),
      queues: units.flatMap((u) => u.queueNames ?? []),
      restart,
    };
  }

  /** Runs the scenario operation `name` now, its `hostOf` steps sent by `host` (chaos: a resync). */
  runOperationNamed(name: string, host?: string): Promise<void> {
    const op = this.scenario.operations.find((o) => o.name === name);
    if (op === undefined) return Promise.reject(new Error(`no operation "${name}" in the scenario`));
    return this.runOperation(op, host);
  }

  private async runOperation(op: Operation, host?: string): Promise<void> {
    const rand = this.rand;
    const rid = `req-${crypto.randomUUID()}`;
    const hostGroup =
      op.hostOf === undefined ? undefined : this.allPlans.filter((p) => p.group === op.hostOf);
    const opHost =
      host ??
      (hostGroup === undefined || hostGroup.length === 0
        ? undefined
        : hostGroup[Math.floor(rand() * hostGroup.length)]!.host);
    for (const st of op.steps) {
      if (this.stopRequested) return;
      const local = (this.byGroup.get(st.from) ?? []).filter((s) => s.up);
      const pool = local.length > 0 ? local : this.services.filter((s) => s.up);
      // The operation's host sends its group's steps (the OVS agent on the port's hypervisor).
      // A host named by the caller (a resync) sends its own steps even while reconnecting: its
      // publishes wait for the connection, as oslo's ensure() does, rather than go from elsewhere.
      const named =
        host === undefined ? undefined : (this.byGroup.get(st.from) ?? []).find((s) => s.plan.host === host);
      const sender =
        named ??
        (opHost === undefined ? undefined : local.find((s) => s.plan.host === opHost)) ??
        pool[Math.floor(rand() * pool.length)];
      if (sender === undefined) return;
      const waits: Promise<unknown>[] = [];
      for (let i = 0; i < st.count; i++) {
        const r = sender.send(st, rid, opHost);
        if (r !== undefined) waits.push(r);
      }
      await Promise.all(waits);
    }
  }

  private scheduleOperation(op: Operation): void {
    if (op.perMinute <= 0) return;
    const shard = this.opts.shard;
    const shardCount = shard?.count ?? 1;
    const mean = (60_000 / op.perMinute / this.scenario.speedup) * shardCount;
    const next = (at: number) => {
      this.scheduler.at(at, () => {
        if (this.stopRequested) return;
        this.runOperation(op).catch((e: unknown) => this.noteError(`operation ${op.name}: ${String(e)}`));
        const gap = op.arrival === 'poisson' ? -Math.log(1 - this.rand()) * mean : mean;
        next(at + gap);
      });
    };
    // Shards start their operations staggered so their union stays evenly spaced.
    const offset = shard === undefined ? 0.5 : (shard.index + 0.5) / shardCount;
    next(performance.now() + offset * mean);
  }

  // ---- phases

  private async rampUp(): Promise<void> {
    this.setPhase('ramp-up');
    const services = this.services;
    const total = services.length;
    const gapMs = 1000 / (this.opts.connectRatePerS ?? 200);
    const inflight = new Set<Promise<void>>();
    let refusedInRow = 0;
    for (const svc of services) {
      if (this.stopRequested) break;
      const p: Promise<void> = svc
        .start()
        .then(
          () => {
            this.started++;
            this.startedOk.add(svc);
            refusedInRow = 0;
          },
          (e: unknown) => {
            this.failed++;
            refusedInRow++;
            const msg = e instanceof Error ? e.message : String(e);
            this.noteError(
              `${svc.plan.group} ${svc.plan.host}: cannot connect to ${redactUrl(svc.plan.url)}: ${msg}`,
            );
            // A broker that refuses the first connections outright ends the run with a clear message.
            if (this.started === 0 && refusedInRow >= Math.min(5, total)) {
              this.brokerRefused = true;
              this.stopRequested = true;
            }
            // oslo retries its first connection too; a refusing broker ends the run instead.
            if (this.brokerRefused) svc.stop(false).catch(() => {});
            else svc.retry();
          },
        )
        .finally(() => {
          inflight.delete(p);
          this.opts.onProgress?.(this.started + this.failed, total);
        });
      inflight.add(p);
      if (inflight.size >= 64) await Promise.race(inflight);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await Promise.all(inflight);
  }

  private async steady(): Promise<void> {
    this.setPhase('steady');
    const services = this.services;
    const durationS = this.opts.durationS ?? 60;
    this.steadyStart = performance.now();
    // Even phase spread inside each group: modelled rates hold exactly over any window.
    for (const [, group] of this.byGroup) {
      group.forEach((svc, k) => {
        for (const p of svc.plan.spec.periodic) this.schedulePeriodic(svc, p, (k + 0.5) / group.length);
      });
    }
    for (const op of this.scenario.operations) this.scheduleOperation(op);
    let allDownSince: number | undefined;
    const end =
      durationS === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.steadyStart + durationS * 1000;
    while (!this.stopRequested && performance.now() < end) {
      await new Promise<void>((r) => {
        this.wake = r;
        const t = setTimeout(r, Math.min(1000, Math.max(0, end - performance.now())));
        t.unref();
      });
      this.wake = undefined;
      const up = services.some((s) => s.up);
      if (up) allDownSince = undefined;
      else if (allDownSince === undefined) allDownSince = performance.now();
      else if (performance.now() - allDownSince > 60_000) {
        this.noteError('every emulated service lost the broker for 60 s; ending the run');
        this.stoppedBy = 'broker';
        break;
      }
    }
    this.steadyEnd = performance.now();
    this.upAtEnd = this.servicesUp();
    this.scheduler.stop();
  }

  private async teardown(): Promise<void> {
    this.setPhase('teardown');
    const doTeardown = this.opts.teardown !== false;
    const stops = this.services.map((s) => s.stop(doTeardown));
    await Promise.allSettled(stops);
    // Counted when each service stops, not when the steady state ends: replies that arrive while
    // the run winds down answer their calls in the method table, so they are not outstanding.
    this.pendingAtEnd = this.services.reduce((n, x) => n + x.abandonedCalls, 0);
    if (!doTeardown) return;
    const { shared, exchanges } = this;
    for (const url of new Set([...shared.keys(), ...exchanges.keys()])) {
      const names = shared.get(url) ?? new Set<string>();
      try {
        const c = await amqp.connect(url);
        c.on('error', () => {});
        const ch = await c.createChannel();
        ch.on('error', () => {});
        // ifUnused: another shard of the same scenario (an Indexed Job pod) may still consume it;
        // the last shard to finish deletes it
        for (const n of names) await ch.deleteQueue(n, { ifUnused: true }).catch(() => {});
        // Exchanges last, and only when unused: a real service's bindings keep them.
        for (const x of exchanges.get(url) ?? []) {
          const ch2 = await c.createChannel();
          ch2.on('error', () => {});
          await ch2.deleteExchange(x, { ifUnused: true }).catch(() => {});
          await ch2.close().catch(() => {});
        }
        await c.close().catch(() => {});
      } catch (e) {
        this.noteError(`teardown on ${redactUrl(url)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private async run(): Promise<EmulationResult> {
    const signal = this.opts.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.stopRequested = true;
      signal.addEventListener('abort', () => {
        this.stopRequested = true;
        this.stoppedBy = 'stop';
        this.wake?.();
      });
    }
    try {
      await this.rampUp();
      this.rampUpS = (performance.now() - this.t0) / 1000;
      this.resolveReady();
      if (this.brokerRefused) this.stoppedBy = 'broker';
      else if (!this.stopRequested) await this.steady();
    } catch (e) {
      this.stoppedBy = 'error';
      this.noteError(e instanceof Error ? e.message : String(e));
      this.resolveReady();
    }
    await this.sampler.take().catch(() => {});
    await this.teardown();
    this.sampler.stop();
    this.setPhase('done');
    return this.summary();
  }

  private summary(): EmulationResult {
    const services = this.services;
    const groupStats: Record<string, { planned: number; connected: number }> = {};
    for (const s of services) {
      const g = groupStats[s.plan.group] ?? { planned: 0, connected: 0 };
      g.planned++;
      if (this.startedOk.has(s)) g.connected++;
      groupStats[s.plan.group] = g;
    }
    const methodsOut: Record<string, MethodStats> = {};
    for (const [k, m] of [...this.methods].sort((a, b) => a[0].localeCompare(b[0])))
      methodsOut[k] = summarise(m);
    const shard = this.opts.shard;
    return {
      scenario: this.scenario.name,
      speedup: this.scenario.speedup,
      ...(shard !== undefined ? { shard } : {}),
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      rampUpS: this.rampUpS,
      steadyS: this.steadyEnd > this.steadyStart ? (this.steadyEnd - this.steadyStart) / 1000 : 0,
      services: {
        planned: services.length,
        connected: this.started,
        failed: this.failed,
        upAtEnd: this.upAtEnd,
        byGroup: groupStats,
      },
      methods: methodsOut,
      reconnects: this.reconnects,
      pendingCallsAtEnd: this.pendingAtEnd,
      publishConfirms: { confirmed: this.confirmed, nacked: this.nacked },
      accounting: this.accounting.counts(),
      samples: this.sampler.samples,
      emulator: {
        peakRssBytes: this.sampler.peakRss,
        peakHeapUsedBytes: this.sampler.peakHeap,
        meanCpu: this.sampler.meanCpu,
      },
      complete: this.stoppedBy === 'duration' && this.upAtEnd === services.length,
      stoppedBy: this.stoppedBy,
      errors: this.errors,
    };
  }
}

function addTo(m: Map<string, Set<string>>, key: string, name: string): void {
  let s = m.get(key);
  if (s === undefined) {
    s = new Set();
    m.set(key, s);
  }
  s.add(name);
}
