/**
 * Runs a scenario: ramp-up (services connect at a bounded rate), steady state (periodic RPCs and
 * operations at their rates), teardown (everything declared is deleted), with samples of the
 * broker (management API) and of this process over time. Broker trouble never throws: the result
 * says what happened and holds what was measured until then.
 */
import amqp from 'amqplib';
import TinyQueue from 'tinyqueue';
import { ManagementClient } from '../broker/management.ts';
import { redactUrl } from '../util/url.ts';
import { Accounting } from './accounting.ts';
import { planServices, prng } from './plan.ts';
import { type Operation, type Periodic, type Scenario, withCounts } from './scenario.ts';
import { EmulatedService, methodKey, type ServiceContext } from './service.ts';
import { emptyHistogram, newMethodStats, quantile, record, summarise } from './stats.ts';
import type {
  BrokerSample,
  EmulationEvent,
  EmulationHandle,
  EmulationOptions,
  EmulationResult,
  MethodStats,
  Phase,
  Sample,
} from './types.ts';

interface Timed {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** One timer for all periodic work: thousands of services × periodic tasks would be thousands of timers. */
class Scheduler {
  readonly #q = new TinyQueue<Timed>([], (a, b) => a.at - b.at || a.seq - b.seq);
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Largest lateness of a task since the last read: the emulator's own saturation. */
  maxLagMs = 0;

  at(t: number, fn: () => void): void {
    if (this.#stopped) return;
    this.#q.push({ at: t, seq: this.#seq++, fn });
    const head = this.#q.peek();
    if (head !== undefined && head.at === t && head.seq === this.#seq - 1) this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const head = this.#q.peek();
    if (head === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => this.#run(), Math.max(0, head.at - performance.now()));
  }

  #run(): void {
    this.#timer = undefined;
    const now = performance.now();
    let budget = 2000; // yield to I/O between bursts
    while (budget-- > 0) {
      const head = this.#q.peek();
      if (head === undefined || head.at > now || this.#stopped) break;
      this.#q.pop();
      if (now - head.at > this.maxLagMs) this.maxLagMs = now - head.at;
      head.fn();
    }
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

function managementUrlFor(amqpUrl: string): string {
  try {
    const u = new URL(amqpUrl);
    const user = decodeURIComponent(u.username || 'guest');
    const pass = decodeURIComponent(u.password || 'guest');
    return `http://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${u.hostname}:15672`;
  } catch {
    return 'http://127.0.0.1:15672';
  }
}

function vhostOf(amqpUrl: string): string {
  try {
    const p = new URL(amqpUrl).pathname;
    return p === '' || p === '/' ? '/' : decodeURIComponent(p.slice(1));
  } catch {
    return '/';
  }
}

async function sampleBroker(
  m: ManagementClient,
  vhost: string,
  prev: BrokerSample | undefined,
): Promise<BrokerSample> {
  try {
    const [ov, nodes] = await Promise.all([m.overview(), m.nodes()]);
    const stats = (ov.message_stats ?? {}) as Record<string, { rate?: number } | number | undefined>;
    const rate = (k: string) => {
      const d = stats[`${k}_details`];
      return typeof d === 'object' && d !== null ? d.rate : undefined;
    };
    const alarms: string[] = [];
    let mem = 0;
    let fd = 0;
    let fdTotal = 0;
    let sockets = 0;
    let procs = 0;
    for (const n of nodes) {
      mem += n.mem_used ?? 0;
      fd += n.fd_used ?? 0;
      fdTotal += n.fd_total ?? 0;
      sockets += n.sockets_used ?? 0;
      procs += n.proc_used ?? 0;
      if (n.mem_alarm === true) alarms.push(`memory alarm on ${n.name}`);
      if (n.disk_free_alarm === true) alarms.push(`disk alarm on ${n.name}`);
      if (!n.running) alarms.push(`node ${n.name} down`);
    }
    const t = ov.object_totals;
    const out: BrokerSample = {
      alarms,
      memBytes: mem,
      fdUsed: fd,
      fdTotal,
      socketsUsed: sockets,
      procUsed: procs,
      ...(t !== undefined
        ? { connections: t.connections, channels: t.channels, queues: t.queues, consumers: t.consumers }
        : {}),
      ...(ov.queue_totals?.messages !== undefined ? { messages: ov.queue_totals.messages } : {}),
      ...(rate('publish') !== undefined ? { publishPerS: rate('publish')! } : {}),
      ...(rate('deliver_get') !== undefined ? { deliverPerS: rate('deliver_get')! } : {}),
    };
    void vhost;
    return out;
  } catch (e) {
    return { alarms: prev?.alarms ?? [], error: e instanceof Error ? e.message : String(e) };
  }
}

/** Starts an emulation; see EmulationHandle. */
export function startEmulation(scenarioIn: Scenario, opts: EmulationOptions = {}): EmulationHandle {
  const scenario = withCounts(scenarioIn, opts.computes);
  const brokerUrl = opts.amqpUrl ?? scenario.broker.url;
  const accounting = new Accounting({ keepMessages: opts.keepMessages === true });
  const rand = prng(opts.seed ?? 1);
  const allPlans = planServices(scenario, brokerUrl);
  const plans = planServices(scenario, brokerUrl, opts.shard);
  const shardCount = opts.shard?.count ?? 1;
  const durationS = opts.durationS ?? 60;
  const rate = opts.connectRatePerS ?? 200;
  const sampleMs = (opts.sampleIntervalS ?? 5) * 1000;
  const emit = (e: EmulationEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // a listener's bug must not stop the run
    }
  };

  const t0 = performance.now();
  const startedAt = new Date();
  const errors: string[] = [];
  const noteError = (m: string) => {
    if (errors.length < 50 && !errors.includes(m)) errors.push(m);
    emit({ type: 'error', message: m, ts: Date.now() });
  };
  const methods = new Map<string, MethodStats>();
  let interval = emptyHistogram();
  let sent = 0;
  let answered = 0;
  let timeouts = 0;
  let confirmed = 0;
  let nacked = 0;
  let reconnects = 0;
  let phase: Phase = 'ramp-up';
  const byTopic = new Map<string, string[]>();
  for (const p of allPlans)
    for (const t of p.spec.topics) byTopic.set(t, [...(byTopic.get(t) ?? []), p.host]);
  const shared = new Map<string, Set<string>>();
  const exchanges = new Map<string, Set<string>>();

  const ctx: ServiceContext = {
    scenario,
    rand,
    accounting,
    onCall(_s, key, outcome, ms) {
      let m = methods.get(key);
      if (m === undefined) {
        m = newMethodStats(key);
        methods.set(key, m);
      }
      m.calls++;
      if (outcome === 'timeout') {
        m.timeouts++;
        timeouts++;
      } else {
        if (outcome === 'ok') m.ok++;
        else m.remoteErrors++;
        record(m.latency, ms);
        record(interval, ms);
        answered++;
      }
      emit({ type: 'call-done', service: _s.host, method: key, outcome, latencyMs: ms, ts: Date.now() });
    },
    onSent() {
      sent++;
    },
    onReceived(s, queue, method, uniqueId, duplicate) {
      if (opts.onEvent === undefined) return;
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
    onConfirm(ok) {
      if (ok) confirmed++;
      else nacked++;
    },
    onConnected(s) {
      emit({ type: 'connected', service: s.host, group: s.group, ts: Date.now() });
    },
    onDisconnected(s, reason) {
      noteError(`${s.group}: connection lost: ${reason}`);
      emit({ type: 'disconnected', service: s.host, group: s.group, ts: Date.now(), reason });
    },
    onReconnect(s, attempt, delayMs) {
      reconnects++;
      emit({ type: 'reconnect', service: s.host, group: s.group, attempt, delayMs, ts: Date.now() });
    },
    anyHost(topic) {
      const hosts = byTopic.get(topic);
      if (hosts === undefined || hosts.length === 0) return undefined;
      return hosts[Math.floor(rand() * hosts.length)];
    },
    sharedExchange(url, name) {
      let s = exchanges.get(url);
      if (s === undefined) {
        s = new Set();
        exchanges.set(url, s);
      }
      s.add(name);
    },
    sharedQueue(url, name) {
      let s = shared.get(url);
      if (s === undefined) {
        s = new Set();
        shared.set(url, s);
      }
      s.add(name);
    },
  };

  const services = plans.map((p) => new EmulatedService(p, ctx));
  const byGroup = new Map<string, EmulatedService[]>();
  for (const s of services) byGroup.set(s.plan.group, [...(byGroup.get(s.plan.group) ?? []), s]);
  const scheduler = new Scheduler();
  const samples: Sample[] = [];
  let stopRequested = false;
  let wake: (() => void) | undefined;
  let failed = 0;
  let started = 0;
  const startedOk = new Set<EmulatedService>();
  let brokerRefused = false;
  let stoppedBy: EmulationResult['stoppedBy'] = 'duration';
  let rampUpS = 0;
  let upAtEnd = 0;
  let pendingAtEnd = 0;
  let steadyStart = 0;
  let steadyEnd = 0;

  const setPhase = (p: Phase) => {
    phase = p;
    emit({ type: 'phase', phase: p, ts: Date.now() });
  };

  // ---- sampling
  const mgmtUrl =
    opts.managementUrl === null
      ? undefined
      : (opts.managementUrl ?? scenario.broker.management ?? managementUrlFor(brokerUrl));
  const mgmt = mgmtUrl === undefined ? undefined : new ManagementClient({ url: mgmtUrl, timeoutMs: 4000 });
  let lastCpu = process.cpuUsage();
  let lastT = performance.now();
  let lastSent = 0;
  let lastAnswered = 0;
  let lastTimeouts = 0;
  let lastBroker: BrokerSample | undefined;
  let peakRss = 0;
  let peakHeap = 0;
  let cpuSum = 0;
  let cpuN = 0;
  let sampling = false;
  let maxLag = 0;
  const takeSample = async () => {
    if (sampling) return;
    sampling = true;
    try {
      const now = performance.now();
      const dt = Math.max((now - lastT) / 1000, 0.001);
      const cpu = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      lastT = now;
      const mem = process.memoryUsage();
      peakRss = Math.max(peakRss, mem.rss);
      peakHeap = Math.max(peakHeap, mem.heapUsed);
      const cpuShare = (cpu.user + cpu.system) / 1e6 / dt;
      if (phase === 'steady') {
        cpuSum += cpuShare;
        cpuN++;
      }
      const broker =
        mgmt === undefined ? undefined : await sampleBroker(mgmt, vhostOf(brokerUrl), lastBroker);
      if (broker !== undefined) {
        lastBroker = broker;
        for (const a of broker.alarms) noteError(`broker: ${a}`);
      }
      const p99 = quantile(interval, 0.99);
      interval = emptyHistogram();
      const lag = scheduler.maxLagMs;
      scheduler.maxLagMs = 0;
      if (phase === 'steady') maxLag = Math.max(maxLag, lag);
      const s: Sample = {
        t: (now - t0) / 1000,
        phase,
        servicesUp: services.reduce((n, x) => n + (x.up ? 1 : 0), 0),
        sentPerS: (sent - lastSent) / dt,
        answeredPerS: (answered - lastAnswered) / dt,
        timeoutsPerS: (timeouts - lastTimeouts) / dt,
        ...(p99 !== undefined ? { p99Ms: p99 } : {}),
        emulator: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, cpu: cpuShare, schedulerLagMs: lag },
        ...(broker !== undefined ? { broker } : {}),
      };
      lastSent = sent;
      lastAnswered = answered;
      lastTimeouts = timeouts;
      samples.push(s);
      emit({ type: 'sample', sample: s });
      // Bounded accounting memory in long runs: settled casts/fanouts older than 2 timeouts go.
      accounting.forgetBefore(Date.now() - 2 * scenario.oslo.rpcResponseTimeoutS * 1000);
    } finally {
      sampling = false;
    }
  };
  const sampler = setInterval(() => {
    takeSample().catch(() => {});
  }, sampleMs);
  sampler.unref();

  // ---- periodic work and operations
  const schedulePeriodic = (svc: EmulatedService, p: Periodic, phase0: number) => {
    const period = (p.periodS * 1000) / scenario.speedup;
    const fire = (at: number) => {
      scheduler.at(at, () => {
        if (stopRequested) return;
        const rid = `req-${crypto.randomUUID()}`;
        for (let i = 0; i < p.count; i++) svc.send(p, rid)?.catch(() => {});
        const j = p.jitter === 0 ? 0 : (rand() * 2 - 1) * p.jitter;
        fire(at + period * (1 + j));
      });
    };
    fire(performance.now() + phase0 * period);
  };

  const runOperation = async (op: Operation) => {
    const rid = `req-${crypto.randomUUID()}`;
    const hostGroup = op.hostOf === undefined ? undefined : allPlans.filter((p) => p.group === op.hostOf);
    const opHost =
      hostGroup === undefined || hostGroup.length === 0
        ? undefined
        : hostGroup[Math.floor(rand() * hostGroup.length)]!.host;
    for (const st of op.steps) {
      if (stopRequested) return;
      const local = (byGroup.get(st.from) ?? []).filter((s) => s.up);
      const pool = local.length > 0 ? local : services.filter((s) => s.up);
      const sender = pool[Math.floor(rand() * pool.length)];
      if (sender === undefined) return;
      const waits: Promise<unknown>[] = [];
      for (let i = 0; i < st.count; i++) {
        const r = sender.send(st, rid, opHost);
        if (r !== undefined) waits.push(r);
      }
      await Promise.all(waits);
    }
  };

  const scheduleOperation = (op: Operation) => {
    if (op.perMinute <= 0) return;
    const mean = (60_000 / op.perMinute / scenario.speedup) * shardCount;
    const next = (at: number) => {
      scheduler.at(at, () => {
        if (stopRequested) return;
        runOperation(op).catch((e: unknown) => noteError(`operation ${op.name}: ${String(e)}`));
        const gap = op.arrival === 'poisson' ? -Math.log(1 - rand()) * mean : mean;
        next(at + gap);
      });
    };
    // Shards start their operations staggered so their union stays evenly spaced.
    const offset = opts.shard === undefined ? 0.5 : (opts.shard.index + 0.5) / shardCount;
    next(performance.now() + offset * mean);
  };

  // ---- lifecycle
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });

  const rampUp = async () => {
    setPhase('ramp-up');
    const total = services.length;
    const gapMs = 1000 / rate;
    const inflight = new Set<Promise<void>>();
    let refusedInRow = 0;
    for (const svc of services) {
      if (stopRequested) break;
      const p: Promise<void> = svc
        .start()
        .then(
          () => {
            started++;
            startedOk.add(svc);
            refusedInRow = 0;
          },
          (e: unknown) => {
            failed++;
            refusedInRow++;
            const msg = e instanceof Error ? e.message : String(e);
            noteError(
              `${svc.plan.group} ${svc.plan.host}: cannot connect to ${redactUrl(svc.plan.url)}: ${msg}`,
            );
            // A broker that refuses the first connections outright ends the run with a clear message.
            if (started === 0 && refusedInRow >= Math.min(5, total)) {
              brokerRefused = true;
              stopRequested = true;
            }
            // oslo retries its first connection too; a refusing broker ends the run instead.
            if (brokerRefused) svc.stop(false).catch(() => {});
            else svc.retry();
          },
        )
        .finally(() => {
          inflight.delete(p);
          opts.onProgress?.(started + failed, total);
        });
      inflight.add(p);
      if (inflight.size >= 64) await Promise.race(inflight);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await Promise.all(inflight);
  };

  const steady = async () => {
    setPhase('steady');
    steadyStart = performance.now();
    // Even phase spread inside each group: modelled rates hold exactly over any window.
    for (const [, group] of byGroup) {
      group.forEach((svc, k) => {
        for (const p of svc.plan.spec.periodic) schedulePeriodic(svc, p, (k + 0.5) / group.length);
      });
    }
    for (const op of scenario.operations) scheduleOperation(op);
    let allDownSince: number | undefined;
    const end =
      durationS === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : steadyStart + durationS * 1000;
    while (!stopRequested && performance.now() < end) {
      await new Promise<void>((r) => {
        wake = r;
        const t = setTimeout(r, Math.min(1000, Math.max(0, end - performance.now())));
        t.unref();
      });
      wake = undefined;
      const up = services.some((s) => s.up);
      if (up) allDownSince = undefined;
      else if (allDownSince === undefined) allDownSince = performance.now();
      else if (performance.now() - allDownSince > 60_000) {
        noteError('every emulated service lost the broker for 60 s; ending the run');
        stoppedBy = 'broker';
        break;
      }
    }
    steadyEnd = performance.now();
    upAtEnd = services.reduce((n, x) => n + (x.up ? 1 : 0), 0);
    pendingAtEnd = services.reduce((n, x) => n + x.pendingCalls, 0);
    scheduler.stop();
  };

  const teardown = async () => {
    setPhase('teardown');
    const doTeardown = opts.teardown !== false;
    const stops = services.map((s) => s.stop(doTeardown));
    await Promise.allSettled(stops);
    if (!doTeardown) return;
    for (const url of new Set([...shared.keys(), ...exchanges.keys()])) {
      const names = shared.get(url) ?? new Set<string>();
      try {
        const c = await amqp.connect(url);
        c.on('error', () => {});
        const ch = await c.createChannel();
        ch.on('error', () => {});
        for (const n of names) await ch.deleteQueue(n).catch(() => {});
        // Exchanges last, and only when unused: a real service's bindings keep them.
        for (const x of exchanges.get(url) ?? []) {
          const ch2 = await c.createChannel();
          ch2.on('error', () => {});
          await ch2.deleteExchange(x, { ifUnused: true }).catch(() => {});
          await ch2.close().catch(() => {});
        }
        await c.close().catch(() => {});
      } catch (e) {
        noteError(`teardown on ${redactUrl(url)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };

  const run = async (): Promise<EmulationResult> => {
    if (opts.signal !== undefined) {
      if (opts.signal.aborted) stopRequested = true;
      opts.signal.addEventListener('abort', () => {
        stopRequested = true;
        stoppedBy = 'stop';
        wake?.();
      });
    }
    try {
      await rampUp();
      rampUpS = (performance.now() - t0) / 1000;
      resolveReady();
      if (brokerRefused) stoppedBy = 'broker';
      else if (!stopRequested) await steady();
    } catch (e) {
      stoppedBy = 'error';
      noteError(e instanceof Error ? e.message : String(e));
      resolveReady();
    }
    await takeSample().catch(() => {});
    await teardown();
    clearInterval(sampler);
    setPhase('done');
    const groupStats: Record<string, { planned: number; connected: number }> = {};
    for (const s of services) {
      const g = groupStats[s.plan.group] ?? { planned: 0, connected: 0 };
      g.planned++;
      if (startedOk.has(s)) g.connected++;
      groupStats[s.plan.group] = g;
    }
    const methodsOut: Record<string, MethodStats> = {};
    for (const [k, m] of [...methods].sort((a, b) => a[0].localeCompare(b[0]))) methodsOut[k] = summarise(m);
    return {
      scenario: scenario.name,
      speedup: scenario.speedup,
      ...(opts.shard !== undefined ? { shard: opts.shard } : {}),
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      rampUpS,
      steadyS: steadyEnd > steadyStart ? (steadyEnd - steadyStart) / 1000 : 0,
      services: { planned: services.length, connected: started, failed, upAtEnd, byGroup: groupStats },
      methods: methodsOut,
      reconnects,
      pendingCallsAtEnd: pendingAtEnd,
      publishConfirms: { confirmed, nacked },
      accounting: accounting.counts(),
      samples,
      emulator: {
        peakRssBytes: peakRss,
        peakHeapUsedBytes: peakHeap,
        meanCpu: cpuN === 0 ? 0 : cpuSum / cpuN,
      },
      complete: stoppedBy === 'duration' && upAtEnd === services.length,
      stoppedBy,
      errors,
    };
  };

  const result = run();
  return {
    ready,
    result,
    accounting,
    scenario,
    stop() {
      stopRequested = true;
      if (stoppedBy === 'duration') stoppedBy = 'stop';
      wake?.();
      return result;
    },
  };
}

/** Runs a scenario to the end (duration or signal) and returns its result. */
export function runEmulation(scenario: Scenario, opts: EmulationOptions = {}): Promise<EmulationResult> {
  return startEmulation(scenario, opts).result;
}

export { methodKey };
