/**
 * Where every message went. Each emulated message (identity: oslo's `_unique_id`) sent inside the
 * measured window is put in exactly one class: delivered (at least once), expired (dead-lettered by
 * the broker with reason `expired`: its AMQP expiration, the RPC timeout, ran out in a queue), or
 * lost (neither, by the end of the drain). Duplicates are counted apart. Pure: records in, rows out.
 */
import type { AccountedKind, MessageRecord } from '../emulate/accounting.ts';

export interface LedgerRow {
  readonly kind: AccountedKind;
  readonly group: string;
  sent: number;
  confirmed: number;
  /** Broker nacked or the channel was gone: the publish never made it. */
  unconfirmed: number;
  delivered: number;
  /** Messages delivered more than once (to one receiver twice, or a non-fanout to two receivers). */
  duplicated: number;
  expired: number;
  lost: number;
  /** Of the lost: the broker had confirmed them (then lost them with a queue or node). */
  lostAfterConfirm: number;
  /**
   * Of the lost: never published: held while the sender was disconnected (oslo's ensure() would
   * have gone on waiting) and still held when its service stopped.
   */
  unsent: number;
  /** Replies only: returned as unroutable (NO_ROUTE) at least once. */
  returned: number;
  /** Calls: the caller gave up (rpc_response_timeout). */
  timedOut: number;
  answered: number;
  remoteErrors: number;
}

export interface Ledger {
  readonly rows: LedgerRow[];
  readonly total: LedgerRow;
  /** sent = delivered + expired + lost for every row. */
  readonly closes: boolean;
  /** Messages sent after the window (not classified: they had no time to settle). */
  readonly outsideWindow: number;
}

function row(kind: AccountedKind, group: string): LedgerRow {
  return {
    kind,
    group,
    sent: 0,
    confirmed: 0,
    unconfirmed: 0,
    delivered: 0,
    duplicated: 0,
    expired: 0,
    lost: 0,
    lostAfterConfirm: 0,
    unsent: 0,
    returned: 0,
    timedOut: 0,
    answered: 0,
    remoteErrors: 0,
  };
}

const NUMERIC: readonly (keyof LedgerRow)[] = [
  'sent',
  'confirmed',
  'unconfirmed',
  'delivered',
  'duplicated',
  'expired',
  'lost',
  'lostAfterConfirm',
  'unsent',
  'returned',
  'timedOut',
  'answered',
  'remoteErrors',
];

export interface LedgerInput {
  readonly messages: Iterable<MessageRecord>;
  /** `_unique_id`s the broker dead-lettered as expired. */
  readonly expired: ReadonlySet<string>;
  /** Calls answered with a remote failure, per sending group (sent inside the window). */
  readonly remoteErrors: ReadonlyMap<string, number>;
  /** Only messages sent in [from, to) (epoch ms) are classified. */
  readonly from: number;
  readonly to: number;
}

export function buildLedger(inp: LedgerInput): Ledger {
  const rows = new Map<string, LedgerRow>();
  let outside = 0;
  for (const m of inp.messages) {
    if (m.sentAt < inp.from || m.sentAt >= inp.to) {
      outside++;
      continue;
    }
    const key = `${m.kind}/${m.group}`;
    let r = rows.get(key);
    if (r === undefined) {
      r = row(m.kind, m.group);
      rows.set(key, r);
    }
    r.sent++;
    if (m.confirmedAt !== undefined) r.confirmed++;
    else r.unconfirmed++;
    if (m.returnedAt !== undefined) r.returned++;
    let deliveries = 0;
    let repeat = false;
    for (const n of m.deliveries.values()) {
      deliveries += n;
      if (n > 1) repeat = true;
    }
    if (deliveries > 0) {
      r.delivered++;
      if (repeat || (m.kind !== 'fanout' && m.deliveries.size > 1)) r.duplicated++;
    } else if (inp.expired.has(m.id)) r.expired++;
    else {
      r.lost++;
      if (m.confirmedAt !== undefined) r.lostAfterConfirm++;
      if (m.unsent !== undefined) r.unsent++;
    }
    if (m.kind === 'call') {
      if (m.answeredAt !== undefined) r.answered++;
      else if (m.timedOutAt !== undefined) r.timedOut++;
    }
  }
  for (const [group, n] of inp.remoteErrors) {
    const r = rows.get(`call/${group}`);
    if (r !== undefined) r.remoteErrors += n;
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.kind.localeCompare(b.kind) || a.group.localeCompare(b.group),
  );
  const total = row('call', '*');
  for (const r of sorted) for (const k of NUMERIC) (total[k] as number) += r[k] as number;
  const closes = sorted.every((r) => r.sent === r.delivered + r.expired + r.lost);
  return { rows: sorted, total, closes, outsideWindow: outside };
}

/** Sums of the rows of one kind (the HA table is per kind). */
export function byKind(l: Ledger, kind: AccountedKind): LedgerRow {
  const t = row(kind, '*');
  for (const r of l.rows) if (r.kind === kind) for (const k of NUMERIC) (t[k] as number) += r[k] as number;
  return t;
}
