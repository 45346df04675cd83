/**
 * Self-contained HTML report of an emulation: plots over time drawn by uPlot (inlined, no CDN; an
 * SVG of each inside <noscript> for mail clients), the method table, accounting and errors. Opens
 * from a file, mails as an attachment.
 */
import type { EmulationResult, Sample } from '../emulate/types.ts';
import { type ChartSpec, type ChartUnit, chartsHtml } from './charts.ts';
import { escapeHtml as esc } from './escape.ts';

type Pick = (s: Sample) => number | undefined;

/** One chart over the samples (seconds since the start on the x axis). */
function plot(
  r: EmulationResult,
  id: string,
  title: string,
  yLabel: string,
  unit: ChartUnit,
  series: readonly (readonly [label: string, color: string, pick: Pick])[],
): ChartSpec {
  return {
    id,
    title,
    yLabel,
    unit,
    x: r.samples.map((s) => s.t),
    series: series.map(([label, color, pick]) => ({ label, color, values: r.samples.map(pick) })),
  };
}

export function renderHtml(r: EmulationResult): string {
  const plots = [
    plot(r, 'services', 'emulated services up', 'services', 'count', [
      ['services up', '#1f77b4', (x) => x.servicesUp],
    ]),
    plot(r, 'rates', 'messages per second (emulator)', 'messages/s', 'rate', [
      ['sent/s', '#1f77b4', (x) => x.sentPerS],
      ['answered/s', '#2ca02c', (x) => x.answeredPerS],
      ['timeouts/s', '#d62728', (x) => x.timeoutsPerS],
    ]),
    plot(r, 'latency', 'call latency p99 per interval', 'latency (ms)', 'ms', [
      ['p99', '#ff7f0e', (x) => x.p99Ms],
    ]),
    plot(r, 'broker-objects', 'broker connections, channels, queues', 'count', 'count', [
      ['connections', '#1f77b4', (x) => x.broker?.connections],
      ['channels', '#2ca02c', (x) => x.broker?.channels],
      ['queues', '#9467bd', (x) => x.broker?.queues],
    ]),
    plot(r, 'broker-memory', 'broker memory', 'memory (bytes)', 'bytes', [
      ['memory', '#8c564b', (x) => x.broker?.memBytes],
    ]),
    plot(r, 'broker-fds', 'broker fds, sockets, Erlang processes', 'count', 'count', [
      ['fds', '#1f77b4', (x) => x.broker?.fdUsed],
      ['sockets', '#2ca02c', (x) => x.broker?.socketsUsed],
      ['processes', '#e377c2', (x) => x.broker?.procUsed],
    ]),
    plot(r, 'broker-rates', 'broker message rates', 'messages/s', 'rate', [
      ['publish/s', '#1f77b4', (x) => x.broker?.publishPerS],
      ['deliver/s', '#2ca02c', (x) => x.broker?.deliverPerS],
    ]),
    plot(r, 'emulator-memory', 'emulator RSS and heap', 'memory (bytes)', 'bytes', [
      ['RSS', '#1f77b4', (x) => x.emulator.rssBytes],
      ['heap used', '#ff7f0e', (x) => x.emulator.heapUsedBytes],
    ]),
    plot(r, 'emulator-cpu', 'emulator CPU', 'CPU (cores)', 'cores', [
      ['cpu', '#d62728', (x) => x.emulator.cpu],
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
<style>body{font-family:sans-serif;margin:1.5em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.bad{color:#b00}</style></head><body>
<h1>rpcscope emulate: ${esc(r.scenario)}</h1>
<p>${r.services.connected}/${r.services.planned} services connected${r.shard ? ` (shard ${r.shard.index + 1}/${r.shard.count})` : ''}; ramp-up ${r.rampUpS.toFixed(1)} s; steady ${r.steadyS.toFixed(1)} s; ${esc(r.startedAt)} → ${esc(r.endedAt)}${r.speedup !== 1 ? `; periods divided by ${r.speedup} (speed-up)` : ''}.
Publish confirms ${r.publishConfirms.confirmed} ok / ${r.publishConfirms.nacked} failed; reconnects ${r.reconnects}.
Emulator peak RSS ${(r.emulator.peakRssBytes / 1048576).toFixed(1)} MiB, mean CPU ${(r.emulator.meanCpu * 100).toFixed(0)} % of a core.</p>
${r.complete ? '' : `<p class="bad">Incomplete: ended by ${esc(r.stoppedBy)}. Figures are what was measured until then.</p>`}
${chartsHtml(plots)}
<h2>Calls</h2><table><tr><th>method</th><th>calls</th><th>ok</th><th>remote errors</th><th>timeouts</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>${rows}</table>
<h2>Accounting</h2><table><tr><th>kind/group</th><th>sent</th><th>confirmed</th><th>nacked</th><th>returned</th><th>delivered</th><th>duplicates</th><th>answered</th><th>timed out</th></tr>${acc}</table>
${errors === '' ? '' : `<h2>Errors</h2><ul>${errors}</ul>`}
</body></html>
`;
}
