/** The dashboard HTML shell; the data arrives by SSE and is drawn by page/app.ts. */
export function pageHtml(title: string): string {
  const t = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const card = (id: string, label: string, extra = '') =>
    `<div class="card"${extra}><div class="v" id="${id}">–</div><div class="l">${label}</div></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${t}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="assets/app.css"></head>
<body>
<header><h1>${t}</h1><span id="status">connecting…</span><span id="updated"></span></header>
<div class="cards">
${card('total-messages', 'messages published')}
${card('rate-now', 'published msg/s')}
${card('total-delivered', 'deliveries to consumers')}
${card('rate-delivered', 'delivered msg/s')}
${card('total-calls', 'calls finished')}
${card('total-failures', 'remote errors')}
${card('total-unanswered', 'unanswered calls')}
${card('total-noroute', 'returned NO_ROUTE')}
<div class="card" id="dropped-card"><div class="v" id="total-dropped">–</div><div class="l">dropped by rpcscope</div></div>
<div class="card" id="hazards-card"><div class="v" id="total-hazards">–</div><div class="l">broker hazards</div></div>
</div>
<div class="grid">
<section class="wide"><h2>Messages per second: published by kind, delivered (dashed)</h2><div id="kinds"></div><div id="rate-chart"></div></section>
<section><h2>Topics</h2><table id="topics"></table></section>
<section><h2>Broker hazards</h2><ul id="hazards"></ul></section>
<section><h2>Top methods by count</h2><table id="methods-count"></table></section>
<section><h2>Top methods by p99</h2><table id="methods-p99"></table></section>
<section><h2>Recent failures</h2><table id="failures"></table></section>
<section><h2>Unanswered calls</h2><table id="unanswered"></table></section>
<section class="wide"><h2>Queue depth</h2><p id="queue-empty" class="empty" hidden></p><div id="queue-chart"></div></section>
<section class="wide"><h2>Last operations</h2><div id="operations"></div></section>
</div>
<script type="module" src="assets/app.js"></script>
</body></html>
`;
}
