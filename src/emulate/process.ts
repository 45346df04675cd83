/**
 * One emulated process laid out over AMQP connections as oslo.messaging does it when a process
 * runs several RPC servers (neutron's agents and server workers, `connections:` in the scenario):
 *
 * - one listener connection per topic: neutron's `n_rpc.Connection.create_consumer(topic, ...)`
 *   makes one oslo RPC server per topic, and each server's listener takes a connection of its own
 *   (amqpdriver `listen` → `_get_connection(PURPOSE_LISTEN)`) on which it consumes `topic`,
 *   `topic.<host>` and `topic_fanout_<uuid>` (3 consumers on its one channel);
 * - the reply listener's connection (the `reply_<uuid>` queue, opened with the first call);
 * - `send` connections of the send pool (`PURPOSE_SEND`, publisher confirms): every call, cast,
 *   fanout and reply goes out on one of them.
 *
 * The OVS agent on Zed: 11 topics + reply + 1 send = 13 connections (the rig's management API,
 * test/fixtures/neutron-rig/README.md). The process is up when every connection is.
 */
import type { ServicePlan } from './plan.ts';
import type { RpcSpec } from './scenario.ts';
import { EmulatedService } from './service.ts';
import type { CallOutcome, ServiceContext } from './service-context.ts';

/** What the Emulation drives: one emulated process, on one connection or on oslo's several. */
export interface EmulatedUnit {
  readonly plan: ServicePlan;
  readonly up: boolean;
  readonly pendingCalls: number;
  readonly abandonedCalls: number;
  start(): Promise<void>;
  retry(): void;
  stop(deleteQueues: boolean): Promise<void>;
  send(spec: RpcSpec, requestId: string, opHost?: string): Promise<CallOutcome> | undefined;
  /** Names of the queues the process declares. */
  readonly queueNames?: readonly string[];
}

/** One array for every connection without topics (the send pool, the reply listener). */
const NO_TOPICS: readonly string[] = [];

export class EmulatedProcess implements EmulatedUnit {
  readonly plan: ServicePlan;
  /** Every connection: listeners, then the reply listener, then the send pool. */
  readonly facets: readonly EmulatedService[];
  /** The facet that makes calls (holds the reply queue, or the first send connection). */
  readonly #caller: EmulatedService;
  readonly #facetsUp = new Set<EmulatedService>();
  #wasUp = false;

  constructor(plan: ServicePlan, ctx: ServiceContext) {
    this.plan = plan;
    const layout = plan.spec.connections ?? { reply: true, send: 1 };
    const ctxOf = this.#facetContext(ctx);
    const send: EmulatedService[] = [];
    let rr = 0;
    // oslo's pool hands a free connection to each sending thread; round robin stands for that.
    const via = () => send[rr++ % send.length]!;
    for (let i = 0; i < Math.max(1, layout.send); i++)
      send.push(new EmulatedService(plan, ctxOf, { topics: NO_TOPICS, reply: false }));
    const listeners = plan.spec.topics.map(
      (t) => new EmulatedService(plan, ctxOf, { topics: [t], reply: false, via }),
    );
    const reply = layout.reply
      ? new EmulatedService(plan, ctxOf, { topics: NO_TOPICS, reply: true, via })
      : undefined;
    // `send: 0` is not a process oslo makes (it must publish somewhere); one send connection stays.
    // concat sizes the array exactly (a spread leaves room for ~16 more, on every process).
    this.facets = listeners.concat(reply !== undefined ? [reply] : [], send);
    this.#caller = reply ?? send[0]!;
  }

  /** The process's context: connected once all its connections are, disconnected at the first loss. */
  #facetContext(ctx: ServiceContext): ServiceContext {
    return {
      ...ctx,
      scenario: ctx.scenario,
      rand: ctx.rand,
      accounting: ctx.accounting,
      onConnected: (s) => {
        for (const f of this.facets) if (f.up) this.#facetsUp.add(f);
        if (!this.#wasUp && this.#facetsUp.size === this.facets.length) {
          this.#wasUp = true;
          ctx.onConnected(s);
        }
      },
      onDisconnected: (s, reason) => {
        for (const f of this.facets) if (!f.up) this.#facetsUp.delete(f);
        if (this.#wasUp) {
          this.#wasUp = false;
          ctx.onDisconnected(s, reason);
        }
      },
    };
  }

  get up(): boolean {
    return this.facets.every((f) => f.up);
  }

  get queueNames(): string[] {
    return this.facets.flatMap((f) => f.queueNames);
  }

  get pendingCalls(): number {
    return this.#caller.pendingCalls;
  }

  get abandonedCalls(): number {
    return this.#caller.abandonedCalls;
  }

  /**
   * Opens the connections one after the other, as the agent does at start (consumers first,
   * then the first report_state opens the send and reply connections). A failure leaves the
   * connections already open running and rejects (the Emulation then calls retry()).
   */
  async start(): Promise<void> {
    const failed: EmulatedService[] = [];
    let first: unknown;
    for (const f of this.facets) {
      try {
        await f.start();
      } catch (e) {
        failed.push(f);
        first ??= e;
      }
    }
    this.#failed = failed;
    if (failed.length > 0) throw first;
  }

  #failed: EmulatedService[] = [];

  retry(): void {
    for (const f of this.#failed) f.retry();
    this.#failed = [];
  }

  async stop(deleteQueues: boolean): Promise<void> {
    await Promise.allSettled(this.facets.map((f) => f.stop(deleteQueues)));
  }

  send(spec: RpcSpec, requestId: string, opHost?: string): Promise<CallOutcome> | undefined {
    return this.#caller.send(spec, requestId, opHost);
  }
}
