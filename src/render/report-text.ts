/**
 * Human rendering of a Report: box-drawn tables, headings via picocolors (NO_COLOR honoured). Every
 * capture string is escaped for the terminal (escapeTerminal) and each table shows at most
 * `maxRows` rows with "… N more rows" under it, so the text stays linear in the capture.
 */
import pc from 'picocolors';
import { type CallLine, KINDS, type Report } from '../outputs/report.ts';
import { escapeTerminal as esc } from './escape.ts';
import { DEFAULT_MAX_ROWS, type TextCell, textTable } from './text-table.ts';

export interface RenderReportOptions {
  /** Rows per table (default 30); `Infinity` prints every row. */
  readonly maxRows?: number;
}

const ms = (x: number | undefined) => (x === undefined ? '' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const kb = (b: number) => (b < 10_000 ? `${b} B` : `${(b / 1024).toFixed(1)} KiB`);

function what(c: CallLine): string {
  return c.object !== undefined ? `${c.method} ${c.object}` : c.method;
}

function target(c: CallLine): string {
  return c.server !== undefined ? `${c.topic}.${c.server}` : c.topic;
}

export function renderReport(r: Report, opts: RenderReportOptions = {}): string {
  const max = opts.maxRows ?? DEFAULT_MAX_ROWS;
  const table = (head: string[], rows: TextCell[][]) => textTable(head, rows, max);
  const out: string[] = [];
  const h = (s: string) => out.push('', pc.bold(s));
  out.push(pc.bold('rpcscope report'));
  for (const i of r.inputs)
    out.push(
      `  ${esc(i.input)}: ${kb(i.bytes)}, ${i.packets} ${/\.p?cap(ng)?$/.test(i.input) ? 'packets' : 'records'}, ${i.connections} connections`,
    );
  out.push(`  window ${r.window.start} → ${r.window.end} (${r.window.durationS} s)`);
  out.push(
    `  messages published ${r.messages.published}, delivered ${r.messages.delivered}, returned ${r.messages.returned}`,
  );

  if (r.vhostFilter !== undefined) {
    const f = r.vhostFilter;
    const other = Object.entries(f.droppedByVhost)
      .sort((a, b) => b[1] - a[1])
      .map(([v, n]) => `${esc(v)} ${n}`)
      .join(', ');
    out.push(
      `  vhost ${f.kept.map(esc).join(', ')} only: ${f.droppedMessages} messages of other vhosts dropped${other ? ` (${other})` : ''}`,
    );
  }

  h('Messages by vhost');
  out.push(
    r.vhosts.length
      ? table(
          ['vhost', 'published', 'delivered', 'connections', 'vhost known by'],
          r.vhosts.map((v) => [
            v.vhost === '?' ? '? (unknown)' : v.vhost,
            v.published,
            v.delivered,
            v.connections,
            [
              v.knownBy.open ? `Connection.Open ${v.knownBy.open}` : '',
              v.knownBy.learned ? `learned ${v.knownBy.learned}` : '',
              v.knownBy.exchange ? `control exchange (inferred) ${v.knownBy.exchange}` : '',
            ]
              .filter(Boolean)
              .join(', '),
          ]),
        )
      : '  (none)',
  );

  h('Messages by kind (published)');
  out.push(
    table(
      ['kind', 'published', 'bytes', 'delivered'],
      KINDS.map((kind) => [kind, r.byKind[kind], kb(r.bytesByKind[kind]), r.deliveredByKind[kind]]),
    ),
  );

  h('RPC methods (published; latency of answered calls, ms)');
  const m = r.methods.map((row) => [
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
  out.push(
    m.length
      ? table(['kind', 'exchange', 'topic', 'method', 'object', 'count', 'bytes', 'p50', 'p99'], m)
      : '  (none)',
  );

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
    out.push(
      table(
        ['class', 'count'],
        c.failures.map((x) => [x.class, x.count]),
      ),
    );
  }

  h('Unanswered calls');
  if (c.unansweredCalls.length === 0) out.push('  (none)');
  else {
    const u = c.unansweredCalls.map((x) => [
      x.ts,
      target(x),
      what(x),
      x.reason !== undefined ? `${x.outcome} (${x.reason})` : x.outcome,
      x.requestId ?? '',
    ]);
    out.push(table(['time', 'target', 'method', 'outcome', 'request id'], u));
  }

  h('Slowest calls (ms: total = queue + server + return)');
  if (c.slowest.length === 0) out.push('  (none)');
  else {
    const s = c.slowest.map((x) => [
      ms(x.latencyMs),
      ms(x.queueMs),
      ms(x.serverMs),
      ms(x.returnMs),
      target(x),
      what(x),
      x.outcome,
      x.requestId ?? '',
    ]);
    out.push(table(['total', 'queue', 'server', 'return', 'target', 'method', 'outcome', 'request id'], s));
  }

  h('Hazards');
  out.push(
    r.hazards.length
      ? table(
          ['hazard', 'exchange / queue', 'count', 'detail'],
          r.hazards.map((x) => [x.kind, x.object, x.count, x.detail]),
        )
      : '  (none)',
  );

  h('Connections');
  const t = r.connections.map((x) => {
    const sent = x.sent
      .slice(0, 4)
      .map((s) => `${s.kind} ${s.target} ×${s.count}`)
      .join('\n');
    const more = x.sent.length > 4 ? `\n… ${x.sent.length - 4} more` : '';
    return [
      x.connection,
      x.host !== undefined ? `${x.service}\n@${x.host}` : x.service,
      x.evidence.join('\n').replaceAll(', ', ',\n  '),
      x.published,
      x.delivered,
      sent + more,
    ];
  });
  out.push(
    t.length
      ? table(['connection', 'service', 'evidence', 'pub', 'dlv', 'sent (most frequent)'], t)
      : '  (none)',
  );

  h('Skipped input');
  const sk = r.skipped;
  out.push(`  ${sk.bytes} bytes, ${sk.frames} frames, ${sk.records} records`);
  for (const i of sk.issues.slice(0, max)) out.push(`  ${esc(i)}`);
  if (sk.issues.length > max) out.push(`  … ${sk.issues.length - max} more issues`);
  return `${out.join('\n')}\n`;
}
