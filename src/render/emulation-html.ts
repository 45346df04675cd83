/**
 * Self-contained HTML report of an emulation: inline SVG plots over time (no scripts, no CDN),
 * the method table, accounting and errors. Opens from a file, mails as an attachment.
 */
import type { EmulationResult, Sample } from '../emulate/types.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Series {
  readonly name: string;
  readonly color: string;
  readonly pick: (s: Sample) => number | undefined;
}

/** One line plot as SVG, x = seconds since start. */
export function linePlot(
  title: string,
  samples: readonly Sample[],
  series: readonly Series[],
  unit = '',
): string {
  const W = 560;
  const H = 180;
  const L = 56;
  const B = 24;
  const pts = series.map((se) =>
    samples
      .map((s) => [s.t, se.pick(s)] as const)
      .filter((p): p is readonly [number, number] => p[1] !== undefined && Number.isFinite(p[1])),
  );
  const xs = samples.map((s) => s.t);
  const xmax = Math.max(1, ...xs);
  const ymax = Math.max(1e-9, ...pts.flat().map((p) => p[1]));
  const x = (t: number) => L + ((W - L - 8) * t) / xmax;
  const y = (v: number) => H - B - ((H - B - 18) * v) / ymax;
  const fmt = (v: number) =>
    v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(v < 10 ? 1 : 0);
  const lines = pts
    .map((p, i) =>
      p.length === 0
        ? ''
        : `<polyline fill="none" stroke="${series[i]!.color}" stroke-width="1.5" points="${p.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('');
  const legend = series
    .map(
      (s, i) => `<text x="${L + 4 + i * 150}" y="12" fill="${s.color}" font-size="11">${esc(s.name)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<line x1="${L}" y1="${H - B}" x2="${W - 8}" y2="${H - B}" stroke="#888"/><line x1="${L}" y1="18" x2="${L}" y2="${H - B}" stroke="#888"/>
<text x="${L - 4}" y="${y(ymax) + 4}" font-size="10" text-anchor="end">${fmt(ymax)}${esc(unit)}</text><text x="${L - 4}" y="${H - B}" font-size="10" text-anchor="end">0</text>
<text x="${W - 8}" y="${H - 6}" font-size="10" text-anchor="end">${xmax.toFixed(0)} s</text>${lines}${legend}</svg></figure>`;
}

export function renderHtml(r: EmulationResult): string {
  const s = r.samples;
  const plots = [
    linePlot('emulated services up', s, [
      { name: 'services up', color: '#1f77b4', pick: (x) => x.servicesUp },
    ]),
    linePlot('messages per second (emulator)', s, [
      { name: 'sent/s', color: '#1f77b4', pick: (x) => x.sentPerS },
      { name: 'answered/s', color: '#2ca02c', pick: (x) => x.answeredPerS },
      { name: 'timeouts/s', color: '#d62728', pick: (x) => x.timeoutsPerS },
    ]),
    linePlot(
      'call latency p99 per interval',
      s,
      [{ name: 'p99', color: '#ff7f0e', pick: (x) => x.p99Ms }],
      ' ms',
    ),
    linePlot('broker connections, channels, queues', s, [
      { name: 'connections', color: '#1f77b4', pick: (x) => x.broker?.connections },
      { name: 'channels', color: '#2ca02c', pick: (x) => x.broker?.channels },
      { name: 'queues', color: '#9467bd', pick: (x) => x.broker?.queues },
    ]),
    linePlot(
      'broker memory',
      s,
      [{ name: 'memory', color: '#8c564b', pick: (x) => x.broker?.memBytes }],
      ' B',
    ),
    linePlot('broker fds, sockets, Erlang processes', s, [
      { name: 'fds', color: '#1f77b4', pick: (x) => x.broker?.fdUsed },
      { name: 'sockets', color: '#2ca02c', pick: (x) => x.broker?.socketsUsed },
      { name: 'processes', color: '#e377c2', pick: (x) => x.broker?.procUsed },
    ]),
    linePlot('broker message rates', s, [
      { name: 'publish/s', color: '#1f77b4', pick: (x) => x.broker?.publishPerS },
      { name: 'deliver/s', color: '#2ca02c', pick: (x) => x.broker?.deliverPerS },
    ]),
    linePlot(
      'emulator RSS and heap',
      s,
      [
        { name: 'RSS', color: '#1f77b4', pick: (x) => x.emulator.rssBytes },
        { name: 'heap used', color: '#ff7f0e', pick: (x) => x.emulator.heapUsedBytes },
      ],
      ' B',
    ),
    linePlot('emulator CPU (1 = one core)', s, [
      { name: 'cpu', color: '#d62728', pick: (x) => x.emulator.cpu },
    ]),
  ];
  const rows = Object.values(r.methods)
    .map(
      (m) =>
        `<tr><td>${esc(m.key)}</td><td>${m.calls}</td><td>${m.ok}</td><td>${m.remoteErrors}</td><td>${m.timeouts}</td><td>${m.p50Ms?.toFixed(1) ?? '-'}</td><td>${m.p90Ms?.toFixed(1) ?? '-'}</td><td>${m.p99Ms?.toFixed(1) ?? '-'}</td><td>${m.latency.max.toFixed(1)}</td></tr>`,
    )
    .join('');
  const acc = Object.entries(r.accounting)
    .map(
      ([k, c]) =>
        `<tr><td>${esc(k)}</td><td>${c.sent}</td><td>${c.confirmed}</td><td>${c.nacked}</td><td>${c.returned}</td><td>${c.delivered}</td><td>${c.duplicates}</td><td>${c.answered}</td><td>${c.timedOut}</td></tr>`,
    )
    .join('');
  const errors = r.errors.map((e) => `<li>${esc(e)}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>rpcscope emulate: ${esc(r.scenario)}</title>
<style>body{font-family:sans-serif;margin:1.5em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:.5em}figcaption{font-size:13px;font-weight:bold}.bad{color:#b00}</style></head><body>
<h1>rpcscope emulate: ${esc(r.scenario)}</h1>
<p>${r.services.connected}/${r.services.planned} services connected${r.shard ? ` (shard ${r.shard.index + 1}/${r.shard.count})` : ''}; ramp-up ${r.rampUpS.toFixed(1)} s; steady ${r.steadyS.toFixed(1)} s; ${esc(r.startedAt)} → ${esc(r.endedAt)}${r.speedup !== 1 ? `; periods divided by ${r.speedup} (speed-up)` : ''}.
Publish confirms ${r.publishConfirms.confirmed} ok / ${r.publishConfirms.nacked} failed; reconnects ${r.reconnects}.
Emulator peak RSS ${(r.emulator.peakRssBytes / 1048576).toFixed(1)} MiB, mean CPU ${(r.emulator.meanCpu * 100).toFixed(0)} % of a core.</p>
${r.complete ? '' : `<p class="bad">Incomplete: ended by ${esc(r.stoppedBy)}. Figures are what was measured until then.</p>`}
${plots.join('\n')}
<h2>Calls</h2><table><tr><th>method</th><th>calls</th><th>ok</th><th>remote errors</th><th>timeouts</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>${rows}</table>
<h2>Accounting</h2><table><tr><th>kind/group</th><th>sent</th><th>confirmed</th><th>nacked</th><th>returned</th><th>delivered</th><th>duplicates</th><th>answered</th><th>timed out</th></tr>${acc}</table>
${errors === '' ? '' : `<h2>Errors</h2><ul>${errors}</ul>`}
</body></html>
`;
}
