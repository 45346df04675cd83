/** Human rendering of a Report: plain tables (cli-table3), headings via picocolors (NO_COLOR honoured). */
import Table from 'cli-table3';
import pc from 'picocolors';
import { type CallLine, KINDS, type Report } from '../outputs/report.ts';

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true } });
}

const ms = (x: number | undefined) => (x === undefined ? '' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const kb = (b: number) => (b < 10_000 ? `${b} B` : `${(b / 1024).toFixed(1)} KiB`);

function what(c: CallLine): string {
  return c.object !== undefined ? `${c.method} ${c.object}` : c.method;
}

function target(c: CallLine): string {
  return c.server !== undefined ? `${c.topic}.${c.server}` : c.topic;
}

export function renderReport(r: Report): string {
  const out: string[] = [];
  const h = (s: string) => out.push('', pc.bold(s));
  out.push(pc.bold('rpcscope report'));
  for (const i of r.inputs)
    out.push(
      `  ${i.input}: ${kb(i.bytes)}, ${i.packets} ${/\.p?cap(ng)?$/.test(i.input) ? 'packets' : 'records'}, ${i.connections} connections`,
    );
  out.push(`  window ${r.window.start} → ${r.window.end} (${r.window.durationS} s)`);
  out.push(
    `  messages published ${r.messages.published}, delivered ${r.messages.delivered}, returned ${r.messages.returned}`,
  );

  h('Messages by kind (published)');
  const k = table(['kind', 'published', 'bytes', 'delivered']);
  for (const kind of KINDS) k.push([kind, r.byKind[kind], kb(r.bytesByKind[kind]), r.deliveredByKind[kind]]);
  out.push(k.toString());

  h('RPC methods (published; latency of answered calls, ms)');
  const m = table(['kind', 'exchange', 'topic', 'method', 'object', 'count', 'bytes', 'p50', 'p99']);
  for (const row of r.methods)
    m.push([
      row.kind,
      row.exchange,
      row.topic,
      row.method,
      row.object ?? '',
      row.count,
      kb(row.bytes),
      ms(row.latencyMs?.p50),
      ms(row.latencyMs?.p99),
    ]);
  out.push(r.methods.length ? m.toString() : '  (none)');

  const c = r.calls;
  h('Calls');
  out.push(
    `  ${c.total} calls: ${c.answered} answered (${c.failed} remote errors), ${c.unanswered} unanswered, ${c.noRoute} no-route; ` +
      `${c.heartbeats} call-monitor heartbeats`,
  );
  out.push(
    `  latency ms: p50 ${ms(c.latencyMs.p50)}, p90 ${ms(c.latencyMs.p90)}, p99 ${ms(c.latencyMs.p99)}, max ${ms(c.latencyMs.max)}`,
  );
  if (c.duplicateCalls)
    out.push(
      `  ${c.duplicateCalls} publishes repeated the _msg_id of a pending call (retried publish; counted once)`,
    );
  if (c.lateReplies)
    out.push(`  ${c.lateReplies} replies came after their call had expired (the caller had given up)`);
  if (c.orphanReplies || c.orphanDeliveries)
    out.push(
      `  outside the capture: ${c.orphanReplies} replies to earlier calls, ${c.orphanDeliveries} deliveries of earlier calls`,
    );

  h('Failures by exception class');
  if (c.failures.length === 0) out.push('  (none)');
  else {
    const f = table(['class', 'count']);
    for (const x of c.failures) f.push([x.class, x.count]);
    out.push(f.toString());
  }

  h('Unanswered calls');
  if (c.unansweredCalls.length === 0) out.push('  (none)');
  else {
    const u = table(['time', 'target', 'method', 'outcome', 'request id']);
    for (const x of c.unansweredCalls)
      u.push([
        x.ts,
        target(x),
        what(x),
        x.reason !== undefined ? `${x.outcome} (${x.reason})` : x.outcome,
        x.requestId ?? '',
      ]);
    out.push(u.toString());
  }

  h('Slowest calls (ms: total = queue + server + return)');
  if (c.slowest.length === 0) out.push('  (none)');
  else {
    const s = table(['total', 'queue', 'server', 'return', 'target', 'method', 'outcome', 'request id']);
    for (const x of c.slowest)
      s.push([
        ms(x.latencyMs),
        ms(x.queueMs),
        ms(x.serverMs),
        ms(x.returnMs),
        target(x),
        what(x),
        x.outcome,
        x.requestId ?? '',
      ]);
    out.push(s.toString());
  }

  h('Connections');
  const t = table(['connection', 'service', 'evidence', 'pub', 'dlv', 'sent (most frequent)']);
  for (const x of r.connections) {
    const sent = x.sent
      .slice(0, 4)
      .map((s) => `${s.kind} ${s.target} ×${s.count}`)
      .join('\n');
    const more = x.sent.length > 4 ? `\n… ${x.sent.length - 4} more` : '';
    t.push([
      x.connection,
      x.host !== undefined ? `${x.service}\n@${x.host}` : x.service,
      x.evidence.join('\n').replaceAll(', ', ',\n  '),
      x.published,
      x.delivered,
      sent + more,
    ]);
  }
  out.push(r.connections.length ? t.toString() : '  (none)');

  h('Skipped input');
  const sk = r.skipped;
  out.push(`  ${sk.bytes} bytes, ${sk.frames} frames, ${sk.records} records`);
  for (const i of sk.issues) out.push(`  ${i}`);
  return `${out.join('\n')}\n`;
}
