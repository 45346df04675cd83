/** The terminal summary of an emulation result (plain text; capture-derived names escaped). */
import type { EmulationResult } from '../emulate/types.ts';
import { escapeTerminal as esc } from './escape.ts';
import { textTable } from './text-table.ts';

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const ms = (x: number | undefined) => (x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(0));

export function renderSummary(r: EmulationResult): string {
  const lines: string[] = [];
  const shard = r.shard === undefined ? '' : ` (shard ${r.shard.index + 1}/${r.shard.count})`;
  lines.push(
    `scenario ${esc(r.scenario)}${shard}: ${r.services.connected}/${r.services.planned} services connected, ramp-up ${r.rampUpS.toFixed(1)} s, steady ${r.steadyS.toFixed(1)} s${r.speedup !== 1 ? `, periods ÷${r.speedup} (speed-up)` : ''}`,
  );
  for (const [g, v] of Object.entries(r.services.byGroup))
    lines.push(`  ${esc(g)}: ${v.connected}/${v.planned}`);
  if (r.services.upAtEnd < r.services.connected)
    lines.push(`  only ${r.services.upAtEnd} services were connected at the end of the steady state`);
  const methods = Object.values(r.methods).map((m) => [
    m.key,
    m.calls,
    m.ok,
    m.remoteErrors,
    m.timeouts,
    ms(m.p50Ms),
    ms(m.p90Ms),
    ms(m.p99Ms),
    ms(m.latency.max),
  ]);
  if (methods.length > 0)
    lines.push(
      textTable(
        ['method', 'calls', 'ok', 'remote err', 'timeouts', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        methods,
        Number.POSITIVE_INFINITY,
      ),
    );
  const accounting = Object.entries(r.accounting).map(([k, c]) => [
    k,
    c.sent,
    c.confirmed,
    c.nacked,
    c.returned,
    c.delivered,
    c.duplicates,
    c.answered,
    c.timedOut,
  ]);
  if (accounting.length > 0)
    lines.push(
      textTable(
        [
          'kind/group',
          'sent',
          'confirmed',
          'nacked',
          'returned',
          'delivered',
          'dup',
          'answered',
          'timed out',
        ],
        accounting,
        Number.POSITIVE_INFINITY,
      ),
    );
  lines.push(
    `publish confirms: ${r.publishConfirms.confirmed} ok, ${r.publishConfirms.nacked} failed; reconnects: ${r.reconnects}${r.pendingCallsAtEnd ? `; calls outstanding at the end (unanswered, not timed out): ${r.pendingCallsAtEnd}` : ''}`,
  );
  const last = [...r.samples]
    .reverse()
    .find((s) => s.broker !== undefined && s.broker.error === undefined)?.broker;
  if (last !== undefined)
    lines.push(
      `broker (last sample): ${last.connections ?? '?'} connections, ${last.channels ?? '?'} channels, ${last.queues ?? '?'} queues, memory ${last.memBytes !== undefined ? mib(last.memBytes) : '?'}, fds ${last.fdUsed ?? '?'}/${last.fdTotal ?? '?'}, sockets ${last.socketsUsed ?? '?'}, Erlang processes ${last.procUsed ?? '?'}${last.alarms.length > 0 ? `, ALARMS: ${esc(last.alarms.join('; '))}` : ''}`,
    );
  lines.push(
    `emulator: peak RSS ${mib(r.emulator.peakRssBytes)}, peak heap ${mib(r.emulator.peakHeapUsedBytes)} (Node's own ~100 MiB included; per-service cost: npm run bench emulate), mean CPU ${(r.emulator.meanCpu * 100).toFixed(0)} % of a core`,
  );
  if (!r.complete)
    lines.push(`INCOMPLETE: ended by ${r.stoppedBy}; the figures above are what was measured until then`);
  for (const e of r.errors.slice(0, 10)) lines.push(`  ! ${esc(e)}`);
  if (r.errors.length > 10) lines.push(`  ! ... ${r.errors.length - 10} more in the JSON result`);
  return `${lines.join('\n')}\n`;
}
