/**
 * Execution of the fault timeline: each fault applied at its time (seconds since the steady state
 * began) and undone after its `for`; whatever is still applied when the run ends is undone then.
 */
import type { Cluster } from '../broker/cluster.ts';
import type { EmulationHandle } from '../emulate/types.ts';
import type { ChaosRig } from './setup.ts';
import type { FaultRecord } from './types.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface FaultRunnerOptions {
  readonly cluster: Cluster;
  readonly rig: ChaosRig;
  /** Date.now() when the steady state began: fault times count from here. */
  readonly t0: number;
  readonly say: (line: string) => void;
  readonly note: (message: string) => void;
  /** The running emulation (restart-group kills and restarts its processes). */
  readonly emulation?: EmulationHandle;
  /** Told the queues a restart-group left behind. */
  readonly onLeftBehind?: (queues: readonly string[]) => void;
}

export class FaultRunner {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pendingOps: Promise<void>[] = [];
  private readonly undo = new Map<FaultRecord, () => Promise<void>>();

  constructor(
    private readonly records: readonly FaultRecord[],
    private readonly o: FaultRunnerOptions,
  ) {}

  private stamp(): number {
    return (Date.now() - this.o.t0) / 1000;
  }

  /** Schedules every fault; each one's errors are written on its record and noted. */
  schedule(): void {
    for (const r of this.records) {
      const run = () => {
        const p = this.apply(r)
          .catch((e: unknown) => {
            r.error = e instanceof Error ? e.message : String(e);
            this.o.note(`fault ${r.description}: ${r.error}`);
          })
          .then(async () => {
            if (r.fault.for === undefined) return;
            const wait = r.atS + r.fault.for - this.stamp();
            if (wait > 0) await sleep(wait * 1000);
            await this.undoFault(r).catch((e: unknown) => {
              r.error = e instanceof Error ? e.message : String(e);
              this.o.note(`undo ${r.description}: ${r.error}`);
            });
          });
        this.pendingOps.push(p);
      };
      this.timers.push(setTimeout(run, r.atS * 1000));
    }
  }

  /** At the run's end: no further fault starts, those under way finish, the rest are undone. */
  async settle(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled(this.pendingOps);
    for (const r of [...this.undo.keys()])
      await this.undoFault(r).catch((e: unknown) => this.o.note(String(e)));
  }

  /** On the way out after a failure: undo whatever is still applied, quietly. */
  async abort(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const r of [...this.undo.keys()])
      await this.undo
        .get(r)?.()
        .catch(() => {});
  }

  private async apply(r: FaultRecord): Promise<void> {
    const { cluster, rig, say } = this.o;
    const f = r.fault;
    const undo = this.undo;
    say(`t=${this.stamp().toFixed(1)}s fault: ${r.description}`);
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
        const name = `t${this.records.indexOf(r)}`;
        for (const p of rig.proxiesOf(f.group)) p.addToxic(name, f.direction, f.toxic);
        undo.set(r, async () => {
          for (const p of rig.proxiesOf(f.group)) p.removeToxic(name);
        });
        break;
      }
      case 'consumer-stall': {
        const name = `t${this.records.indexOf(r)}`;
        for (const p of rig.proxiesOf(f.group)) p.addToxic(name, 'both', { type: 'timeout', timeoutMs: 0 });
        undo.set(r, async () => {
          for (const p of rig.proxiesOf(f.group)) p.removeToxic(name);
        });
        break;
      }
      case 'consumer-slow': {
        const name = `t${this.records.indexOf(r)}`;
        for (const p of rig.proxiesOf(f.group))
          p.addToxic(name, 'downstream', { type: 'latency', latencyMs: f.delayMs });
        undo.set(r, async () => {
          for (const p of rig.proxiesOf(f.group)) p.removeToxic(name);
        });
        break;
      }
      case 'restart-group': {
        const kill = this.o.emulation?.killGroup;
        if (kill === undefined) throw new Error('restart-group needs the emulation handle');
        const k = await kill(f.group, f.count);
        this.o.onLeftBehind?.(k.queues);
        say(`t=${this.stamp().toFixed(1)}s killed ${k.hosts.length} of ${f.group}, queues left behind`);
        // without `for` the processes come back at once, as a supervisor restarting them does
        if (f.for === undefined) await k.restart();
        else undo.set(r, () => k.restart());
        break;
      }
    }
    r.appliedS = this.stamp();
  }

  private async undoFault(r: FaultRecord): Promise<void> {
    const u = this.undo.get(r);
    if (u === undefined) return;
    this.undo.delete(r);
    const say = this.o.say;
    say(`t=${this.stamp().toFixed(1)}s undo: ${r.description}`);
    await u();
    r.undoneS = this.stamp();
    say(`t=${this.stamp().toFixed(1)}s undone: ${r.description}`);
  }
}
