/**
 * The timeline report of a chaos run: one self-contained HTML page (inline SVG and CSS, no
 * script, no CDN) with the faults marked as bands over RPC success rate, call latency, messages
 * sent, queue depth, broker memory per node and reconnects, then the ledger. Pure: result in,
 * string out.
 */
import type { LedgerRow } from '../chaos/ledger.ts';
import type { ChaosResult, TimelinePoint } from '../chaos/types.ts';

const W = 900;
const H = 110;
const PAD_L = 60;
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

interface Series {
  readonly name: string;
  readonly values: readonly (number | undefined)[];
}

function chart(
  title: string,
  unit: string,
  r: ChaosResult,
  series: readonly Series[],
  fixedMax?: number,
  fromZero = true,
): string {
  const pts = r.timeline;
  const end = Math.max(1, r.durationS + r.drainS);
  const x = (t: number) => PAD_L + (t / end) * (W - PAD_L - 10);
  let max = fixedMax ?? 0;
  if (fixedMax === undefined)
    for (const s of series) for (const v of s.values) if (v !== undefined && v > max) max = v;
  let min = 0;
  if (!fromZero) {
    min = Number.POSITIVE_INFINITY;
    for (const s of series) for (const v of s.values) if (v !== undefined && v < min) min = v;
    if (!Number.isFinite(min)) min = 0;
    min = Math.max(0, min - (max - min) * 0.1);
  }
  if (max <= min) max = min + 1;
  const y = (v: number) => 10 + (1 - (v - min) / (max - min)) * (H - 25);
  const bands = r.faults
    .map((f) => {
      // from the moment the action began: the fault acts while it is being applied
      const a = f.atS;
      const b = f.undoneS ?? (f.fault.for !== undefined ? f.atS + f.fault.for : end);
      return `<rect x="${x(a).toFixed(1)}" y="8" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="${H - 21}" fill="#fde68a" opacity="0.6"><title>${esc(f.description)}</title></rect>`;
    })
    .join('');
  const windowLine = `<line x1="${x(r.durationS)}" x2="${x(r.durationS)}" y1="8" y2="${H - 13}" stroke="#999" stroke-dasharray="3 3"/>`;
  const lines = series
    .map((s, i) => {
      const segs: string[] = [];
      let cur: string[] = [];
      s.values.forEach((v, k) => {
        const t = pts[k]?.t;
        if (v === undefined || t === undefined) {
          if (cur.length > 0) segs.push(cur.join(' '));
          cur = [];
        } else cur.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
      });
      if (cur.length > 0) segs.push(cur.join(' '));
      return segs
        .map(
          (p) =>
            `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5" points="${p}"/>`,
        )
        .join('');
    })
    .join('');
  const legend = series
    .map((s, i) => `<span style="color:${COLORS[i % COLORS.length]}">■ ${esc(s.name)}</span>`)
    .join(' ');
  const ticks: string[] = [];
  for (let t = 0; t <= end; t += end > 120 ? 30 : 10)
    ticks.push(`<text x="${x(t)}" y="${H - 1}" font-size="9" text-anchor="middle">${t}s</text>`);
  return `<figure><figcaption>${esc(title)} <small>(${esc(unit)}, max ${Number(max.toFixed(2))})</small> ${legend}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">
<rect x="${PAD_L}" y="8" width="${W - PAD_L - 10}" height="${H - 21}" fill="#f8fafc" stroke="#cbd5e1"/>${bands}${windowLine}${lines}
<text x="4" y="16" font-size="9">${Number(max.toFixed(2))}</text><text x="4" y="${H - 14}" font-size="9">${Number(min.toFixed(2))}</text>${ticks.join('')}</svg></figure>`;
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
      'RPC success rate (calls by send second)',
      '%',
      r,
      [{ name: 'success', values: pts.map((p) => (p.calls > 0 ? (100 * p.ok) / p.calls : undefined)) }],
      100,
    ),
    chart('call latency', 'ms', r, [
      { name: 'p50', values: pts.map((p) => p.p50Ms) },
      { name: 'p99', values: pts.map((p) => p.p99Ms) },
    ]),
    chart('messages sent', 'per s', r, [{ name: 'sent', values: pts.map((p) => p.sent) }]),
    chart('queue depth (vhost)', 'messages', r, [{ name: 'messages', values: pts.map((p) => p.queueDepth) }]),
    chart(
      'broker memory',
      'MB',
      r,
      nodes.map((n) => ({
        name: n,
        values: pts.map((p) => (p.memBytes[n] === undefined ? undefined : p.memBytes[n]! / 1048576)),
      })),
      undefined,
      false,
    ),
    chart('reconnects', 'per s', r, [{ name: 'reconnects', values: pts.map((p) => p.reconnects) }]),
  ];
  const faults = r.faults
    .map(
      (f) =>
        `<tr><td>${esc(f.description)}</td><td>${f.atS}s</td><td>${f.appliedS?.toFixed(1) ?? '-'}s</td><td>${f.undoneS?.toFixed(1) ?? '-'}s</td><td>${f.recoveryS === undefined ? 'not within the run' : `${f.recoveryS.toFixed(0)} s`}</td><td>${esc(f.error ?? '')}</td></tr>`,
    )
    .join('\n');
  const b = r.broker;
  return `<!doctype html><html><head><meta charset="utf-8"><title>rpcscope chaos: ${esc(r.scenario)} (${r.queues})</title>
<style>body{font:13px system-ui,sans-serif;margin:20px;color:#111}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #cbd5e1;padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:6px 0}figcaption{font-weight:600}small{font-weight:400;color:#555}</style></head><body>
<h1>rpcscope chaos — ${esc(r.scenario)}, ${r.queues} queues</h1>
<p>Started ${esc(r.startedAt)}; traffic ${r.durationS}s measured + ${r.drainS}s drain (dashed line); ${r.servicesConnected}/${r.servicesPlanned} services; ${r.reconnects} reconnects. Yellow bands: faults.
Accounting ${r.ledger.closes ? 'closes' : '<b>does NOT close</b>'} (sent = delivered + expired + lost for every row).</p>
<h2>Faults</h2><table><tr><th>fault</th><th>planned</th><th>applied</th><th>undone</th><th>RPC back to pre-fault level after</th><th>error</th></tr>${faults}</table>
<p>Pre-fault baseline: ${r.baseline === undefined ? 'no calls before the first fault' : `${(r.baseline.successRate * 100).toFixed(1)} % success, median ${r.baseline.p50Ms.toFixed(1)} ms`}.</p>
${charts.join('\n')}
<h2>Every message</h2>${ledgerTable(r.ledger.rows, r.ledger.total)}
<p>Broker's own counters (vhost message_stats${b.error ? `: unavailable, ${esc(b.error)}` : ''}): publish ${b.publish ?? '-'}, confirm ${b.confirm ?? '-'}, deliver ${b.deliver ?? '-'}, redeliver ${b.redeliver ?? '-'}, returned unroutable ${b.returnUnroutable ?? '-'}, left in queues ${b.messagesLeft ?? '-'}.
Emulator over the whole run: ${r.emulator.published} published, ${r.emulator.confirmed} confirmed, ${r.emulator.deliveries} deliveries. A killed node takes its statistics with it, so the broker counts less than the emulator after a kill.</p>
</body></html>`;
}
