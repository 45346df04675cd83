/**
 * The HA failover table: per queue mode, lost / duplicated / timed out of casts, calls and
 * notifications, beside the figures performance-docs published for RabbitMQ 3.5.6 with
 * oslo.messaging 4.5.1 (openstack/performance-docs, "MQ HA failover" test report; cited in
 * REFERENCES.md): without HA queues, killing the node holding the queues lost 2,636 of 119,985
 * casts, 2,335 of 80,385 notifications and 2 of 23,066 calls; with HA queues at most 1.
 */
import type { AccountedKind } from '../emulate/accounting.ts';
import { byKind } from './ledger.ts';
import type { ChaosResult } from './types.ts';

export interface PublishedFigure {
  readonly lost: number;
  readonly of: number;
}

export const PERFORMANCE_DOCS_35: Readonly<
  Record<'noHa' | 'ha', Partial<Record<AccountedKind, PublishedFigure | string>>>
> = {
  noHa: {
    cast: { lost: 2636, of: 119985 },
    notification: { lost: 2335, of: 80385 },
    call: { lost: 2, of: 23066 },
  },
  ha: { cast: 'at most 1', notification: 'at most 1', call: 'at most 1' },
};

const KINDS: readonly AccountedKind[] = ['cast', 'call', 'notification'];

function pct(n: number, of: number): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(2)} %`;
}

/**
 * Markdown table: one line per (mode, kind). "lost" is split: lost after the broker confirmed the
 * publish (what performance-docs counted: gone with the node or its queue) and lost without a
 * confirm: nacked by the broker, failed by a channel error, or never sent because its service
 * stopped while holding it. Publishes made while disconnected are held and sent after the
 * reconnection, as oslo.messaging's ensure() does, so they land in neither column unless lost.
 */
export function haTable(results: readonly ChaosResult[]): string {
  const lines = [
    '| queues | kind | sent | delivered | lost after broker confirm | lost unconfirmed (unsent at stop) | expired | duplicated | calls timed out | RPC back to pre-fault level | RabbitMQ 3.5.6 (performance-docs) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const rec = r.faults[0]?.recoveryS;
    for (const k of KINDS) {
      const row = byKind(r.ledger, k);
      const ref = (r.queues === 'classic' ? PERFORMANCE_DOCS_35.noHa : PERFORMANCE_DOCS_35.ha)[k];
      const refText =
        ref === undefined
          ? '-'
          : typeof ref === 'string'
            ? `with HA: ${ref} lost`
            : `no HA: ${ref.lost.toLocaleString('en')} of ${ref.of.toLocaleString('en')} lost (${pct(ref.lost, ref.of)})`;
      lines.push(
        `| ${r.queues} | ${k} | ${row.sent} | ${row.delivered} | ${row.lostAfterConfirm} (${pct(row.lostAfterConfirm, row.sent)}) | ${row.lost - row.lostAfterConfirm}${row.unsent > 0 ? ` (${row.unsent})` : ''} | ${row.expired} | ${row.duplicated} | ${k === 'call' ? row.timedOut : '-'} | ${k === 'call' ? (rec === undefined ? 'not within the run' : `${rec.toFixed(0)} s`) : ''} | ${refText} |`,
      );
    }
  }
  return lines.join('\n');
}
