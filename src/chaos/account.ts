/**
 * Accounting of a chaos run: the emulation's events as they come (calls, remote errors per group,
 * reconnections), and at the end the ledger of every message, per-second call buckets, the
 * pre-fault baseline and each fault's recovery time.
 */
import type { MessageRecord } from '../emulate/accounting.ts';
import type { EmulationEvent } from '../emulate/types.ts';
import { buildLedger, type Ledger } from './ledger.ts';
import {
  type Baseline,
  type Bucket,
  baseline,
  bucketize,
  type CallSample,
  recoverySeconds,
} from './recovery.ts';
import type { FaultRecord, TimelinePoint } from './types.ts';

/** Listens to the emulation's events; `t0` is set when the steady state begins. */
export class RunEvents {
  readonly calls: CallSample[] = [];
  /** remote-error replies per service group, for calls sent inside the window. */
  readonly remoteErrors = new Map<string, number>();
  reconnects = 0;
  t0 = Date.now();
  private readonly hostGroup = new Map<string, string>();
  private perSecondReconnects = 0;

  constructor(
    private readonly durationS: number,
    private readonly note: (message: string) => void,
  ) {}

  readonly onEvent = (e: EmulationEvent): void => {
    if (e.type === 'connected') this.hostGroup.set(e.service, e.group);
    else if (e.type === 'reconnect') {
      this.reconnects++;
      this.perSecondReconnects++;
    } else if (e.type === 'call-done') {
      const sentAt = e.ts - e.latencyMs;
      this.calls.push({ sentAt, ok: e.outcome !== 'timeout', latencyMs: e.latencyMs });
      if (e.outcome === 'remote-error' && sentAt >= this.t0 && sentAt < this.t0 + this.durationS * 1000) {
        const g = this.hostGroup.get(e.service) ?? '?';
        this.remoteErrors.set(g, (this.remoteErrors.get(g) ?? 0) + 1);
      }
    } else if (e.type === 'error') this.note(e.message);
  };

  /** Reconnections since the previous call. */
  takeReconnects(): number {
    const n = this.perSecondReconnects;
    this.perSecondReconnects = 0;
    return n;
  }
}

export interface RunAccount {
  readonly ledger: Ledger;
  readonly baseline?: Baseline;
  /** The broker's points with each second's calls, successes and latencies filled in. */
  readonly timeline: TimelinePoint[];
}

/** Builds the ledger and sets each fault record's recovery time. */
export function accountRun(o: {
  readonly events: RunEvents;
  readonly messages: Iterable<MessageRecord>;
  readonly expired: ReadonlySet<string>;
  readonly records: readonly FaultRecord[];
  readonly points: readonly TimelinePoint[];
  readonly durationS: number;
  readonly drainS: number;
}): RunAccount {
  const { events, durationS, records } = o;
  const t0 = events.t0;
  const ledger = buildLedger({
    messages: o.messages,
    expired: o.expired,
    remoteErrors: events.remoteErrors,
    from: t0,
    to: t0 + durationS * 1000,
  });
  const buckets: Bucket[] = bucketize(events.calls, t0, durationS + o.drainS);
  const firstFault = records[0]?.fault.at ?? durationS;
  const base = baseline(buckets, Math.min(5, firstFault / 2), Math.max(1, firstFault));
  if (base !== undefined)
    for (const r of records) {
      const rs = recoverySeconds(buckets, base, r.atS);
      if (rs !== undefined) r.recoveryS = rs;
    }
  const timeline = o.points.map((p) => {
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
  return { ledger, ...(base !== undefined ? { baseline: base } : {}), timeline };
}
