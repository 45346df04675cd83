/**
 * The Grafana dashboard's queries, checked by Prometheus' own tooling: every expression parses
 * (`promtool check rules`), and on a healthy scrape (calls flowing, no exception, no unanswered
 * call: those counters have no series yet) the stat panels evaluate to numbers, 0 where nothing
 * went wrong, not to an empty result that Grafana shows as "No data" (`promtool test rules`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  fieldConfig?: { defaults?: { noValue?: string } };
}
const dash = JSON.parse(readFileSync('grafana/rpcscope-watch.json', 'utf8')) as { panels: Panel[] };
const expr = (e: string) => e.replaceAll('$job', 'rpcscope');

function promtool(args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error !== undefined)
    throw new Error(`promtool not runnable (run scripts/setup.sh): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('every dashboard query is valid PromQL; stat panels evaluate to 0, not "No data", on healthy traffic', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-grafana-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const all = dash.panels.flatMap((p) => (p.targets ?? []).map((x) => expr(x.expr)));
  assert.ok(all.length > 10);
  // JSON is YAML: the rule files are written as JSON
  const rules = {
    groups: [{ name: 'dashboard', rules: all.map((e, i) => ({ record: `dashboard:q${i}`, expr: e })) }],
  };
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
  const check = promtool(['check', 'rules', 'rules.json'], dir);
  assert.equal(check.status, 0, check.out);

  const stats = dash.panels.filter((p) => p.type === 'stat');
  assert.ok(stats.length >= 5);
  const want: Record<string, string> = {
    'Published msg/s': '1',
    'RPC calls/s (oslo.metrics client)': '0.5',
    'Remote exceptions/s': '0',
    'Unanswered calls (5m)': '0',
    'Replies NO_ROUTE (5m)': '0',
    'Dropped by rpcscope': '0',
  };
  const series = (name: string, labels: string, values: string) => ({
    series: `${name}{job="rpcscope",instance="w:9100"${labels}}`,
    values,
  });
  const unit = {
    rule_files: [],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        // a healthy watch: 60 publishes and 30 calls a minute, nothing failed; the exception and
        // unanswered counters have no series at all (prom-client exports a labelled counter only
        // once a label set was seen)
        input_series: [
          series('rpcscope_messages_total', ',kind="call",event="publish"', '0+60x10'),
          series(
            'oslo_messaging_rpc_client_invocation_start_total',
            ',call_type="call",topic="compute"',
            '0+30x10',
          ),
          series('rpcscope_reply_no_route_total', '', '0x10'),
          series('rpcscope_source_dropped_total', ',source="firehose:/"', '0x10'),
        ],
        promql_expr_test: stats.map((p) => {
          const v = want[p.title];
          assert.ok(v !== undefined, `expected value for stat panel ${p.title}`);
          return {
            expr: expr(p.targets?.[0]?.expr ?? ''),
            eval_time: '8m',
            exp_samples: [{ labels: '{}', value: Number(v) }],
          };
        }),
      },
    ],
  };
  writeFileSync(join(dir, 'unit.json'), JSON.stringify(unit));
  const r = promtool(['test', 'rules', 'unit.json'], dir);
  assert.equal(r.status, 0, r.out);
  for (const p of dash.panels)
    if (p.type === 'stat' || p.type === 'timeseries')
      assert.equal(p.fieldConfig?.defaults?.noValue, '0', p.title);
});
