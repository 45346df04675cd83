/**
 * Per-message accounting: every emulated message is known by its `_unique_id` (oslo's own
 * duplicate-detection identity), and each life event is counted: sent, confirmed by the broker
 * (publisher confirms), returned (mandatory replies with NO_ROUTE), delivered to which service
 * (duplicates counted: oslo listeners drop repeats of their last 16 ids, the broker may redeliver),
 * answered, timed out. `rpcscope chaos` reads it to say what a fault lost.
 */

export type AccountedKind = 'call' | 'cast' | 'fanout' | 'reply' | 'notification';

export interface MessageRecord {
  readonly id: string;
  readonly kind: AccountedKind;
  /** Sending service group and instance (host). */
  readonly group: string;
  readonly service: string;
  readonly method: string;
  readonly sentAt: number;
  confirmedAt?: number;
  /** Broker nacked, a channel error failed it, or it was never sent (see `unsent`). */
  nacked?: boolean;
  /** Why the message was never published (held while disconnected when its service stopped). */
  unsent?: string;
  returnedAt?: number;
  /** Receiving service (host) → number of deliveries (more than 1 = duplicate). */
  readonly deliveries: Map<string, number>;
  /** calls: reply received by the caller / caller gave up. */
  answeredAt?: number;
  timedOutAt?: number;
}

export interface AccountingCounts {
  sent: number;
  confirmed: number;
  nacked: number;
  returned: number;
  /** Deliveries including duplicates. */
  delivered: number;
  /** Messages delivered at least once. */
  deliveredUnique: number;
  /** Deliveries beyond the first to the same receiver. */
  duplicates: number;
  answered: number;
  timedOut: number;
}

function zero(): AccountingCounts {
  return {
    sent: 0,
    confirmed: 0,
    nacked: 0,
    returned: 0,
    delivered: 0,
    deliveredUnique: 0,
    duplicates: 0,
    answered: 0,
    timedOut: 0,
  };
}

export interface AccountingOptions {
  /**
   * Keep every MessageRecord (chaos needs them; a 5,000-compute bench does not). Without it the
   * counts are still exact for messages whose events arrive while the record is in flight.
   */
  readonly keepMessages?: boolean;
}

/** Key "kind/group" of the summary map. */
export function countsKey(kind: AccountedKind, group: string): string {
  return `${kind}/${group}`;
}

export class Accounting {
  readonly #keep: boolean;
  /** In flight (all kept when keepMessages). */
  readonly #messages = new Map<string, MessageRecord>();
  readonly #counts = new Map<string, AccountingCounts>();

  constructor(opts: AccountingOptions = {}) {
    this.#keep = opts.keepMessages === true;
  }

  #c(r: { kind: AccountedKind; group: string }): AccountingCounts {
    const k = countsKey(r.kind, r.group);
    let c = this.#counts.get(k);
    if (c === undefined) {
      c = zero();
      this.#counts.set(k, c);
    }
    return c;
  }

  sent(id: string, kind: AccountedKind, group: string, service: string, method: string, ts: number): void {
    const r: MessageRecord = { id, kind, group, service, method, sentAt: ts, deliveries: new Map() };
    this.#messages.set(id, r);
    this.#c(r).sent++;
  }

  confirmed(id: string, ok: boolean, ts: number): void {
    const r = this.#messages.get(id);
    if (r === undefined) return;
    if (ok) {
      r.confirmedAt = ts;
      this.#c(r).confirmed++;
    } else {
      r.nacked = true;
      this.#c(r).nacked++;
    }
    this.#settle(r);
  }

  /**
   * Held for a connection that did not come back before its service stopped: counted with the
   * failed publishes (nacked), with the reason on the record.
   */
  unsent(id: string, ts: number, reason: string): void {
    const r = this.#messages.get(id);
    if (r === undefined) return;
    r.unsent = reason;
    this.confirmed(id, false, ts);
  }

  returned(id: string, ts: number): void {
    const r = this.#messages.get(id);
    if (r === undefined) return;
    r.returnedAt = ts;
    this.#c(r).returned++;
  }

  delivered(id: string, receiver: string): void {
    const r = this.#messages.get(id);
    if (r === undefined) return;
    const n = r.deliveries.get(receiver) ?? 0;
    r.deliveries.set(receiver, n + 1);
    const c = this.#c(r);
    c.delivered++;
    if (n > 0) c.duplicates++;
    if (r.deliveries.size === 1 && n === 0) c.deliveredUnique++;
  }

  answered(id: string, ts: number): void {
    const r = this.#messages.get(id);
    if (r === undefined || r.answeredAt !== undefined) return;
    r.answeredAt = ts;
    this.#c(r).answered++;
    this.#settle(r);
  }

  timedOut(id: string, ts: number): void {
    const r = this.#messages.get(id);
    if (r === undefined) return;
    r.timedOutAt = ts;
    this.#c(r).timedOut++;
    this.#settle(r);
  }

  /**
   * Without keepMessages a record is dropped once it cannot change any more: confirmed and, for a
   * call, answered or timed out. Deliveries to fanout receivers may still follow the confirm, so
   * fanouts and casts stay until `forget()` (called by the emulator after a grace period).
   */
  #settle(r: MessageRecord): void {
    if (this.#keep) return;
    if (r.kind === 'call' && r.confirmedAt !== undefined && (r.answeredAt ?? r.timedOutAt) !== undefined)
      this.#messages.delete(r.id);
  }

  /** Drops records sent before `ts` (bounded memory in long runs without keepMessages). */
  forgetBefore(ts: number): void {
    if (this.#keep) return;
    for (const [id, r] of this.#messages) {
      if (r.sentAt >= ts) break; // insertion order = send order
      this.#messages.delete(id);
    }
  }

  message(id: string): MessageRecord | undefined {
    return this.#messages.get(id);
  }

  messages(): IterableIterator<MessageRecord> {
    return this.#messages.values();
  }

  /** Counts per "kind/group". */
  counts(): Record<string, AccountingCounts> {
    const out: Record<string, AccountingCounts> = {};
    for (const [k, v] of [...this.#counts].sort((a, b) => a[0].localeCompare(b[0]))) out[k] = { ...v };
    return out;
  }

  total(): AccountingCounts {
    const t = zero();
    for (const c of this.#counts.values())
      for (const k of Object.keys(t) as (keyof AccountingCounts)[]) t[k] += c[k];
    return t;
  }
}
