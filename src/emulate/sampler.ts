/**
 * Samples of a run over time: the broker (management API: memory, descriptors, sockets, totals,
 * rates, alarms) and this process (RSS, heap, CPU share, scheduler lag), with the send, answer and
 * timeout rates and the p99 latency of the interval.
 */
import type { ManagementClient } from '../broker/management.ts';
import { quantile } from './stats.ts';
import type { BrokerSample, HistogramData, Phase, Sample } from './types.ts';

/** The management API beside an AMQP URL: same host and credentials, port 15672. */
export function managementUrlFor(amqpUrl: string): string {
  try {
    const u = new URL(amqpUrl);
    const user = decodeURIComponent(u.username || 'guest');
    const pass = decodeURIComponent(u.password || 'guest');
    return `http://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${u.hostname}:15672`;
  } catch {
    return 'http://127.0.0.1:15672';
  }
}

export function vhostOf(amqpUrl: string): string {
  try {
    const p = new URL(amqpUrl).pathname;
    return p === '' || p === '/' ? '/' : decodeURIComponent(p.slice(1));
  } catch {
    return '/';
  }
}

/** One broker sample; never throws (an unreachable broker gives a sample with `error`). */
export async function sampleBroker(
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

/** What the sampler reads from the running emulation. */
export interface SampledRun {
  /** performance.now() at the run's start: sample times count from here. */
  readonly t0: number;
  phase(): Phase;
  /** Running totals of messages sent, calls answered and calls timed out. */
  totals(): { readonly sent: number; readonly answered: number; readonly timeouts: number };
  /** The latencies recorded since the previous call (the run starts a new histogram). */
  takeLatencies(): HistogramData;
  /** The scheduler's largest lateness since the previous call. */
  takeSchedulerLag(): number;
  servicesUp(): number;
  noteError(message: string): void;
  /** Called with each sample once it is taken. */
  onSample(s: Sample): void;
}

export class Sampler {
  readonly samples: Sample[] = [];
  peakRss = 0;
  peakHeap = 0;
  private cpuSum = 0;
  private cpuN = 0;
  private maxLag = 0;
  private lastCpu = process.cpuUsage();
  private lastT = performance.now();
  private lastSent = 0;
  private lastAnswered = 0;
  private lastTimeouts = 0;
  private lastBroker: BrokerSample | undefined;
  private sampling = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: SampledRun,
    /** undefined: no broker sampling. */
    private readonly mgmt: ManagementClient | undefined,
    private readonly vhost: string,
  ) {}

  /** Mean CPU share of this process over the steady state's samples. */
  get meanCpu(): number {
    return this.cpuN === 0 ? 0 : this.cpuSum / this.cpuN;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.take().catch(() => {});
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Takes one sample now (skipped while the previous one is still waiting for the broker). */
  async take(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const run = this.run;
      const now = performance.now();
      const dt = Math.max((now - this.lastT) / 1000, 0.001);
      const cpu = process.cpuUsage(this.lastCpu);
      this.lastCpu = process.cpuUsage();
      this.lastT = now;
      const mem = process.memoryUsage();
      this.peakRss = Math.max(this.peakRss, mem.rss);
      this.peakHeap = Math.max(this.peakHeap, mem.heapUsed);
      const cpuShare = (cpu.user + cpu.system) / 1e6 / dt;
      if (run.phase() === 'steady') {
        this.cpuSum += cpuShare;
        this.cpuN++;
      }
      const broker =
        this.mgmt === undefined ? undefined : await sampleBroker(this.mgmt, this.vhost, this.lastBroker);
      if (broker !== undefined) {
        this.lastBroker = broker;
        for (const a of broker.alarms) run.noteError(`broker: ${a}`);
      }
      const p99 = quantile(run.takeLatencies(), 0.99);
      const lag = run.takeSchedulerLag();
      const phase = run.phase();
      if (phase === 'steady') this.maxLag = Math.max(this.maxLag, lag);
      const { sent, answered, timeouts } = run.totals();
      const s: Sample = {
        t: (now - run.t0) / 1000,
        phase,
        servicesUp: run.servicesUp(),
        sentPerS: (sent - this.lastSent) / dt,
        answeredPerS: (answered - this.lastAnswered) / dt,
        timeoutsPerS: (timeouts - this.lastTimeouts) / dt,
        ...(p99 !== undefined ? { p99Ms: p99 } : {}),
        emulator: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, cpu: cpuShare, schedulerLagMs: lag },
        ...(broker !== undefined ? { broker } : {}),
      };
      this.lastSent = sent;
      this.lastAnswered = answered;
      this.lastTimeouts = timeouts;
      this.samples.push(s);
      run.onSample(s);
    } finally {
      this.sampling = false;
    }
  }
}
