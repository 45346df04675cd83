/**
 * Hostile capture strings are inert in every rendering. A real nova capture (boot, firehose) is
 * rewritten so that one RPC's method name and one routing key carry terminal escape sequences,
 * `\r`, a bidi override, a Markdown fence, a mermaid statement break and HTML; the capture is
 * loaded by the real pipeline and rendered as text, Markdown, HTML and SVG.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pc from 'picocolors';
import { buildSpec } from '../analyse/spec.ts';
import { loadSpecInput } from '../analyse/spec-load.ts';
import { specResolver } from '../correlate/spec-services.ts';
import { buildReport } from '../outputs/report.ts';
import { loadCaptures } from '../pipeline/load.ts';
import { escapeHtml, escapeMarkdown, escapeMermaid, escapeTerminal, markdownCode } from './escape.ts';
import { renderReport } from './report-text.ts';
import { renderSequenceSvg } from './sequence-svg.ts';
import { renderSpecHtml } from './spec-html.ts';
import { renderSpecMarkdown } from './spec-md.ts';

const BOOT = fileURLToPath(new URL('../../data/nova-zed/boot.firehose.jsonl', import.meta.url));
const EVIL_METHOD = 'build\u001b[2J\u001b]0;pwned\u0007\r\u202eup`;\n```\n<img src=x onerror=alert(1)>|#x';
const EVIL_KEY = 'comp\u001b[31mute\u009b\u2066<b>.rig-compute-1';
/** Any byte that drives a terminal, or a bidi control: none may survive in terminal output. */
const c = (n: number) => String.fromCharCode(n);
const RAW_CONTROL = new RegExp(
  `[${c(0)}-${c(9)}${c(0xb)}-${c(0x1f)}${c(0x7f)}-${c(0x9f)}\u202a-\u202e\u2066-\u2069]`,
);

/** The boot capture with build_and_run_instance renamed and its routing key replaced. */
function hostileCapture(dir: string): string {
  const out: string[] = [];
  let planted = 0;
  for (const line of readFileSync(BOOT, 'utf8').split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as {
      oslo_message?: { method?: string };
      body_json?: { 'oslo.message'?: string };
      body_raw?: string;
      headers: { routing_keys: string[] };
    };
    if (r.oslo_message?.method === 'build_and_run_instance') {
      planted++;
      r.oslo_message.method = EVIL_METHOD;
      const inner = JSON.parse(r.body_json?.['oslo.message'] ?? '{}') as { method?: string };
      inner.method = EVIL_METHOD;
      r.body_json = { ...r.body_json, 'oslo.message': JSON.stringify(inner) };
      r.body_raw = JSON.stringify(r.body_json);
      r.headers.routing_keys = [EVIL_KEY];
    }
    out.push(JSON.stringify(r));
  }
  assert.ok(planted > 0, 'the capture has build_and_run_instance messages to rewrite');
  const p = join(dir, 'hostile.firehose.jsonl');
  writeFileSync(p, `${out.join('\n')}\n`);
  return p;
}

/** Markdown with its code spans removed (CommonMark: a run of N backticks ends at the next run of N). */
function withoutCodeSpans(md: string): string {
  return md.replace(/(`+)([\s\S]*?)(?<!`)\1(?!`)/g, '');
}

test('the helpers: controls visible, Markdown and mermaid structure unbreakable, HTML inert', () => {
  assert.equal(escapeTerminal('a\u001b[31mb\rc\u202ed\u0085e'), 'a\\x1b[31mb\\x0dc\\u202ed\\x85e');
  assert.equal(
    escapeTerminal('nova-compute.host_1 Instance.save ×3'),
    'nova-compute.host_1 Instance.save ×3',
  );
  assert.equal(escapeHtml('<a href="x">\'&'), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  assert.equal(escapeMarkdown('build_and_run | <b> _x_ *y*'), 'build_and_run \\| \\<b\\> \\_x\\_ \\*y\\*');
  assert.equal(markdownCode('a``b|c'), '```a``b\\|c```');
  assert.equal(markdownCode('`x'), '`` `x ``');
  assert.equal(escapeMermaid('m; x\n```<b>#'), 'm#59; x\\x0a#96;#96;#96;#60;b#62;#35;');
});

test('a hostile method name and routing key from a real capture stay inert in every output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-hostile-'));
  try {
    const file = hostileCapture(dir);
    const report = buildReport(await loadCaptures([file]));
    assert.ok(
      report.methods.some((m) => m.method === EVIL_METHOD),
      'the hostile method reached the report',
    );
    // Headings are bold when picocolors styles (a TTY, or CI set in the environment): those two
    // sequences are the renderer's own; anything else raw would have come from the capture.
    const [boldOn = '', boldOff = ''] = pc.bold('|').split('|');
    const text = renderReport(report);
    const plain = boldOn === '' ? text : text.replaceAll(boldOn, '').replaceAll(boldOff, '');
    assert.doesNotMatch(plain, RAW_CONTROL, 'no raw control character reaches the terminal');
    assert.ok(text.includes('build\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\u202eup'), 'shown escaped');
    assert.ok(text.includes('comp\\x1b[31mute\\x9b\\u2066<b>'), 'routing key (topic) shown escaped');

    const loaded = await loadSpecInput([file]);
    const spec = buildSpec(loaded, { resolve: specResolver(loaded) });
    const md = renderSpecMarkdown(spec);
    assert.doesNotMatch(md, RAW_CONTROL);
    // HTML only counts outside code spans (inside one, `<img …>` is shown as text)
    assert.doesNotMatch(withoutCodeSpans(md), /<img|(?<!\\)<b>/, 'no HTML injected');
    // the only fences are the ones the renderer opened and closed: one per operation, paired
    const fences = md.split('\n').filter((l) => l.startsWith('```'));
    assert.ok(fences.length >= 2 && fences.length % 2 === 0);
    for (let i = 0; i < fences.length; i += 2) {
      assert.equal(fences[i], '```mermaid');
      assert.equal(fences[i + 1], '```');
    }
    const mermaid = md.slice(md.indexOf('```mermaid'));
    const diagram = mermaid.slice(0, mermaid.indexOf('\n```\n'));
    assert.ok(diagram.includes('build\\x1b[2J'), 'the hostile step is in the diagram, escaped');
    // mermaid decodes `#60;` entity codes before parsing; no other `;`, backtick or tag
    for (const l of diagram.split('\n').slice(2))
      assert.match(
        l.replace(/#\d+;/g, ''),
        /^ {2}(participant P\d+ as |P\d+(->>|-->>|-\)|--\)|-x)P\d+: )[^;`<>]*$/,
        l,
      );
    // table rows keep their column count: no `|` of the capture splits a cell
    const row = md.split('\n').find((l) => l.includes('build\\x1b[2J') && l.startsWith('| '));
    assert.ok(row !== undefined);
    assert.equal(row.replace(/\\\|/g, '').split('|').length, 12, row);

    const html = renderSpecHtml(spec);
    assert.doesNotMatch(html, /<img src=x/);
    assert.doesNotMatch(html, RAW_CONTROL);
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    const op = spec.operations.find((o) => o.example.steps.some((s) => s.method === EVIL_METHOD));
    assert.ok(op !== undefined, 'the hostile step is in an operation');
    const svg = renderSequenceSvg(op.example, { title: op.name });
    assert.doesNotMatch(svg, /<img|<b>/);
    assert.doesNotMatch(svg, RAW_CONTROL, 'an SVG with raw controls is not even well-formed XML');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
