/**
 * The timeline report of a chaos run: one self-contained HTML page (uPlot inlined, no CDN; an
 * SVG of each chart inside <noscript>) with the faults marked as bands over RPC success rate,
 * call latency, messages sent, queue depth, broker memory per node and reconnects, then the
 * ledger. Pure: result in, string out.
 */
import type { LedgerRow } from '../chaos/ledger.ts';
import type { ChaosResult, TimelinePoint } from '../chaos/types.ts';
import { type ChartSpec, type ChartUnit, chartsHtml } from './charts.ts';
import { escapeHtml as esc } from './escape.ts';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

interface Series {
  readonly name: string;
  readonly values: readonly (number | undefined)[];
}

/** One timeline chart: the faults as bands (from the moment each began), the drain after a dashed line. */
function chart(
  r: ChaosResult,
  id: string,
  title: string,
  yLabel: string,
  unit: ChartUnit,
  series: readonly Series[],
  opts: { yMax?: number; fromZero?: boolean } = {},
): ChartSpec {
  const end = Math.max(1, r.durationS + r.drainS);
  return {
    id,
    title,
    yLabel,
    unit,
    x: r.timeline.map((p) => p.t),
    series: series.map((s, i) => ({
      label: s.name,
      color: COLORS[i % COLORS.length] ?? '#000',
      values: s.values,
    })),
    bands: r.faults.map((f) => ({
      from: f.atS,
      to: f.undoneS ?? (f.fault.for !== undefined ? f.atS + f.fault.for : end),
      label: f.description,
    })),
    marker: r.durationS,
    ...opts,
  };
}

function ledgerTable(rows: readonly LedgerRow[], total: LedgerRow): string {
  const cols: [string, keyof LedgerRow][] = [
    ['sent', 'sent'],
    ['confirmed', 'confirmed'],
    ['delivered', 'delivered'],
    ['duplicated', 'duplicated'],
    ['expired', 'expired'],
    ['lost', 'lost'],
    ['of which unconfirmed', 'unconfirmed'],
    ['timed out', 'timedOut'],
    ['remote errors', 'remoteErrors'],
  ];
  const tr = (r: LedgerRow, label: string) =>
    `<tr><td>${esc(label)}</td>${cols.map(([, k]) => `<td>${r[k]}</td>`).join('')}</tr>`;
  return `<table><tr><th>kind / group</th>${cols.map(([h]) => `<th>${h}</th>`).join('')}</tr>
${rows.map((r) => tr(r, `${r.kind} / ${r.group}`)).join('\n')}
${tr(total, 'total')}</table>`;
}

export function renderChaosHtml(r: ChaosResult): string {
  const pts: readonly TimelinePoint[] = r.timeline;
  const nodes = [...new Set(pts.flatMap((p) => Object.keys(p.memBytes)))].sort();
  const charts = [
    chart(
      r,
      'success',
      'RPC success rate (calls by send second)',
      'success (%)',
      'percent',
      [{ name: 'success', values: pts.map((p) => (p.calls > 0 ? (100 * p.ok) / p.calls : undefined)) }],
      { yMax: 100 },
    ),
    chart(r, 'latency', 'call latency', 'latency (ms)', 'ms', [
      { name: 'p50', values: pts.map((p) => p.p50Ms) },
      { name: 'p99', values: pts.map((p) => p.p99Ms) },
    ]),
    chart(r, 'sent', 'messages sent', 'messages/s', 'rate', [
      { name: 'sent', values: pts.map((p) => p.sent) },
    ]),
    chart(r, 'depth', 'queue depth (vhost)', 'messages', 'count', [
      { name: 'messages', values: pts.map((p) => p.queueDepth) },
    ]),
    chart(
      r,
      'memory',
      'broker memory per node',
      'memory (bytes)',
      'bytes',
      nodes.map((n) => ({ name: n, values: pts.map((p) => p.memBytes[n]) })),
      { fromZero: false },
    ),
    chart(r, 'reconnects', 'reconnects', 'reconnects/s', 'rate', [
      { name: 'reconnects', values: pts.map((p) => p.reconnects) },
    ]),
  ];
  const faults = r.faults
    .map(
      (f) =>
        `<tr><td>${esc(f.description)}</td><td>${f.atS}s</td><td>${f.appliedS?.toFixed(1) ?? '-'}s</td><td>${f.undoneS?.toFixed(1) ?? '-'}s</td><td>${f.recoveryS === undefined ? 'not within the run' : `${f.recoveryS.toFixed(0)} s`}</td><td>${esc(f.error ?? '')}</td></tr>`,
    )
    .join('\n');
  const b = r.broker;
  return `<!doctype html><html><head><meta charset="utf-8"><title>rpcscope chaos: ${esc(r.scenario)} (${r.queues})</title>
<style>body{font:13px system-ui,sans-serif;margin:20px;color:#111}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #cbd5e1;padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}small{font-weight:400;color:#555}</style></head><body>
<h1>rpcscope chaos — ${esc(r.scenario)}, ${r.queues} queues</h1>
<p>Started ${esc(r.startedAt)}; traffic ${r.durationS}s measured + ${r.drainS}s drain (dashed line); ${r.servicesConnected}/${r.servicesPlanned} services; ${r.reconnects} reconnects. Yellow bands: faults.
Accounting ${r.ledger.closes ? 'closes' : '<b>does NOT close</b>'} (sent = delivered + expired + lost for every row).</p>
<h2>Faults</h2><table><tr><th>fault</th><th>planned</th><th>applied</th><th>undone</th><th>RPC back to pre-fault level after</th><th>error</th></tr>${faults}</table>
<p>Pre-fault baseline: ${r.baseline === undefined ? 'no calls before the first fault' : `${(r.baseline.successRate * 100).toFixed(1)} % success, median ${r.baseline.p50Ms.toFixed(1)} ms`}.</p>
${chartsHtml(charts)}
<h2>Every message</h2>${ledgerTable(r.ledger.rows, r.ledger.total)}
<p>Broker's own counters (vhost message_stats${b.error ? `: unavailable, ${esc(b.error)}` : ''}): publish ${b.publish ?? '-'}, confirm ${b.confirm ?? '-'}, deliver ${b.deliver ?? '-'}, redeliver ${b.redeliver ?? '-'}, returned unroutable ${b.returnUnroutable ?? '-'}, left in queues ${b.messagesLeft ?? '-'}.
Emulator over the whole run: ${r.emulator.published} published, ${r.emulator.confirmed} confirmed, ${r.emulator.deliveries} deliveries. A killed node takes its statistics with it, so the broker counts less than the emulator after a kill.</p>
</body></html>`;
}
