/**
 * The dashboard page (runs in the browser; bundled with esbuild together with uPlot, no CDN).
 * Receives `LiveSnapshot`s over SSE (`/events`, event `state`) and redraws. All text goes in with
 * textContent; only the sequence diagrams (rendered server-side by rpcscope, text escaped there)
 * are inserted as SVG markup.
 */
import uPlot from 'uplot';
import type { CallRow, LiveSnapshot, MethodRow } from '../live.ts';

const KIND_COLORS: Record<string, string> = {
  call: '#2563eb',
  cast: '#16a34a',
  fanout: '#9333ea',
  reply: '#64748b',
  notification: '#ea580c',
  other: '#a8a29e',
};
const QUEUE_COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`missing #${id}`);
  return e;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | number,
  cls?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls !== undefined) e.className = cls;
  return e;
}

const fmtMs = (v: number | null): string =>
  v === null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
const fmtN = (v: number): string => v.toLocaleString('en-US');
const fmtTime = (ts: number): string => new Date(ts).toISOString().slice(11, 23);

/** A column: its heading and, for numbers and times, a class giving it a fixed width (style.css). */
type Col = readonly [label: string, cls?: 'num' | 'ms' | 'rate' | 'time' | 'topic'];

/**
 * Tables have a fixed layout: number columns keep their width and text columns share the rest,
 * cut with an ellipsis (full text in the tooltip), so the right-most numbers (p99) always show.
 */
function table(id: string, head: readonly Col[], rows: readonly (readonly (string | number)[])[]): void {
  const t = $(id);
  const thead = el('thead');
  const tr = el('tr');
  for (const [label, cls] of head) tr.append(el('th', label, cls));
  thead.append(tr);
  const tbody = el('tbody');
  for (const r of rows) {
    const row = el('tr');
    r.forEach((c, i) => {
      const cls = head[i]?.[1];
      const td = el('td', c, cls ?? 'text');
      if (typeof c === 'string') td.title = c;
      row.append(td);
    });
    tbody.append(row);
  }
  if (rows.length === 0) {
    const row = el('tr');
    const td = el('td', 'none', 'empty');
    td.colSpan = head.length;
    row.append(td);
    tbody.append(row);
  }
  t.replaceChildren(thead, tbody);
}

const methodRows = (rows: readonly MethodRow[]) =>
  rows.map((r) => [r.topic, r.method, r.count, r.errors, fmtMs(r.p50Ms), fmtMs(r.p99Ms)]);
const callRows = (rows: readonly CallRow[]) =>
  rows.map((r) => [fmtTime(r.ts), r.topic, r.method, r.outcome, r.exception, r.requestId]);

let rateChart: uPlot | undefined;
let queueChart: uPlot | undefined;
let queueNames = '';

function chartWidth(id: string): number {
  return Math.max(300, $(id).clientWidth - 8);
}

function drawRates(s: LiveSnapshot): void {
  const kinds = Object.keys(s.rate.byKind);
  const data: uPlot.AlignedData = [
    s.rate.t.slice(),
    ...kinds.map((k) => (s.rate.byKind[k] ?? []).slice()),
    s.rate.delivered.slice(),
  ];
  if (rateChart === undefined) {
    rateChart = new uPlot(
      {
        width: chartWidth('rate-chart'),
        height: 220,
        series: [
          {},
          ...kinds.map((k) => ({ label: `${k} published`, stroke: KIND_COLORS[k] ?? '#000', width: 2 })),
          { label: 'delivered (all kinds)', stroke: '#0f172a', width: 1.5, dash: [6, 4] },
        ],
        axes: [{}, { label: 'messages/s' }],
      },
      data,
      $('rate-chart'),
    );
  } else rateChart.setData(data);
}

function drawQueues(s: LiveSnapshot): void {
  const empty = $('queue-empty');
  empty.hidden = s.queues.empty === undefined;
  empty.textContent = s.queues.empty ?? '';
  $('queue-chart').hidden = s.queues.empty !== undefined;
  if (s.queues.empty !== undefined) return;
  const names = s.queues.series.map((q) => q.queue).join('\n');
  const data: uPlot.AlignedData = [s.queues.t.slice(), ...s.queues.series.map((q) => q.messages.slice())];
  if (queueChart === undefined || names !== queueNames) {
    queueChart?.destroy();
    queueNames = names;
    queueChart = new uPlot(
      {
        width: chartWidth('queue-chart'),
        height: 220,
        series: [
          {},
          ...s.queues.series.map((q, i) => ({
            label: q.queue,
            stroke: QUEUE_COLORS[i % QUEUE_COLORS.length] ?? '#000',
            width: 2,
          })),
        ],
        axes: [{}, { label: 'messages' }],
      },
      data,
      $('queue-chart'),
    );
  } else queueChart.setData(data);
}

function render(s: LiveSnapshot): void {
  const last = s.rate.t.length - 1;
  let nowRate = 0;
  for (const k of Object.keys(s.rate.byKind)) nowRate += s.rate.byKind[k]?.[last] ?? 0;
  $('total-messages').textContent = fmtN(s.totals.messages);
  $('rate-now').textContent = fmtN(nowRate);
  $('total-delivered').textContent = fmtN(s.totals.delivered);
  $('rate-delivered').textContent = fmtN(s.rate.delivered[last] ?? 0);
  $('total-calls').textContent = fmtN(s.totals.calls);
  $('total-failures').textContent = fmtN(s.totals.failures);
  $('total-unanswered').textContent = fmtN(s.totals.unanswered);
  $('total-noroute').textContent = fmtN(s.totals.noRoute);
  $('total-dropped').textContent = fmtN(s.totals.dropped);
  $('total-hazards').textContent = fmtN(s.hazards.length);
  $('dropped-card').classList.toggle('bad', s.totals.dropped > 0);
  $('hazards-card').classList.toggle('bad', s.hazards.length > 0);
  $('updated').textContent =
    `updated ${fmtTime(s.ts)} UTC · ${s.sources.map((x) => `${x.name}: ${fmtN(x.received)} events, ${fmtN(x.dropped)} dropped`).join(' · ')}`;

  const kinds = $('kinds');
  kinds.replaceChildren(
    ...Object.entries(s.totals.byKind).map(([k, v]) => {
      const b = el(
        'span',
        `${k}: ${fmtN(v)} published · ${fmtN(s.totals.deliveredByKind[k] ?? 0)} delivered`,
        'kind',
      );
      b.style.borderColor = KIND_COLORS[k] ?? '#000';
      return b;
    }),
  );
  drawRates(s);
  table(
    'topics',
    [['topic'], ['msg/s (10 s)', 'rate'], ['total', 'num']],
    s.topics.map((t) => [t.topic, t.perSecond.toFixed(1), t.total]),
  );
  const mh: Col[] = [
    ['topic', 'topic'],
    ['method'],
    ['calls', 'num'],
    ['errors', 'num'],
    ['p50', 'ms'],
    ['p99', 'ms'],
  ];
  table('methods-count', mh, methodRows(s.methodsByCount));
  table('methods-p99', mh, methodRows(s.methodsByP99));
  const ch: Col[] = [
    ['time', 'time'],
    ['topic', 'topic'],
    ['method'],
    ['outcome'],
    ['detail'],
    ['request id'],
  ];
  table('failures', ch, callRows(s.failures));
  table('unanswered', ch, callRows(s.unansweredCalls));
  const hz = $('hazards');
  hz.replaceChildren(
    ...(s.hazards.length === 0
      ? [el('li', 'no hazards', 'empty')]
      : s.hazards.map((h) => {
          const li = el('li');
          li.dataset.kind = h.kind;
          li.append(el('b', h.kind), ' ', el('code', h.object), ' — ', h.detail);
          return li;
        })),
  );
  drawQueues(s);
  const ops = $('operations');
  ops.replaceChildren(
    ...(s.operations.length === 0
      ? [el('p', 'no operation seen yet', 'empty')]
      : s.operations.map((o, i) => {
          const d = el('details');
          d.open = i === 0;
          d.append(el('summary', `${o.name} · ${o.rpcs} RPCs · ${fmtMs(o.durationMs)} · ${o.requestId}`));
          const fig = el('div', undefined, 'seq');
          const svg = new DOMParser().parseFromString(o.svg, 'image/svg+xml').documentElement;
          if (svg.nodeName.toLowerCase() === 'svg') fig.append(document.importNode(svg, true));
          d.append(fig);
          return d;
        })),
  );
}

function connect(): void {
  const es = new EventSource('events');
  const status = $('status');
  es.addEventListener('open', () => {
    status.textContent = 'live';
    status.className = 'live';
  });
  es.addEventListener('error', () => {
    status.textContent = 'reconnecting…';
    status.className = 'down';
  });
  es.addEventListener('state', (ev) => {
    render(JSON.parse((ev as MessageEvent<string>).data) as LiveSnapshot);
  });
}

connect();
