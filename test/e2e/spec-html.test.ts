/**
 * The HTML spec in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core,
 * no browser download): the page loads without any request leaving it, every operation has its
 * inline SVG sequence diagram with one arrow per message, kinds styled apart, and a screenshot is
 * written to /tmp for a human to look at.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSpec } from '../../src/analyse/spec.ts';
import { loadSpecInput } from '../../src/analyse/spec-load.ts';
import { specResolver } from '../../src/correlate/spec-services.ts';
import { renderSpecHtml } from '../../src/render/spec-html.ts';
import { launchChromium } from '../harness/browser.ts';

const RIG = new URL('../fixtures/nova-rig/', import.meta.url).pathname;
const ZED = new URL('../../data/nova-zed/', import.meta.url).pathname;

test('spec HTML renders its sequence diagrams in Chromium', async (t) => {
  const loaded = await loadSpecInput([
    `${ZED}boot.tracing.json`,
    `${RIG}boot-3.tracing.json`,
    `${RIG}reboot.tracing.json`,
  ]);
  const spec = buildSpec(loaded, { resolve: specResolver(loaded) });
  assert.equal(spec.operations.length, 3);
  const html = renderSpecHtml(spec);
  // self-contained: no external reference of any kind
  assert.doesNotMatch(html, /<script|<link|src=|@import|url\(http/i);

  const dir = mkdtempSync(join(tmpdir(), 'rpcscope-spec-html-'));
  const file = join(dir, 'spec.html');
  writeFileSync(file, html);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const browser = await launchChromium(t, { width: 1300, height: 900 });
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(`file://${file}`);
  assert.equal(await page.title(), 'RPC specification — rpcscope');

  const diagrams = await page.$$eval('section.operation', (secs) =>
    secs.map((s) => {
      const svg = s.querySelector('svg.sequence');
      const box = svg?.getBoundingClientRect();
      return {
        title: s.querySelector('h3')?.textContent ?? '',
        arrows: svg?.querySelectorAll('g.messages g.msg').length ?? -1,
        lifelines: svg?.querySelectorAll('g.lifeline').length ?? -1,
        kinds: Array.from(svg?.querySelectorAll('g.msg') ?? []).map((g) => g.getAttribute('data-kind')),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        dashed: Array.from(svg?.querySelectorAll('g.msg.reply .arrow') ?? []).every(
          (l) => (l.getAttribute('stroke-dasharray') ?? '') !== '',
        ),
        callSolid: Array.from(svg?.querySelectorAll('g.msg.call .arrow') ?? []).every(
          (l) => l.getAttribute('stroke-dasharray') === null,
        ),
      };
    }),
  );
  assert.equal(diagrams.length, spec.operations.length);
  spec.operations.forEach((op, i) => {
    const d = diagrams[i];
    assert.ok(d !== undefined);
    // one arrow per message of the operation's first instance
    assert.equal(d.arrows, op.example.steps.length, d.title);
    assert.equal(d.lifelines, op.example.lifelines.length, d.title);
    assert.deepEqual(
      d.kinds,
      op.example.steps.map((s) => s.kind),
    );
    assert.ok(d.width > 300 && d.height > 200, `${d.title}: ${d.width}×${d.height}`);
    assert.ok(d.dashed, 'replies dashed');
    assert.ok(d.callSolid, 'calls solid');
  });
  // the 3-server create: 91 messages (checked against nova's source in nova-spec.test.ts)
  const boot3 = spec.operations.find((o) => o.servers === 3);
  assert.equal(boot3?.example.steps.length, 91);
  assert.deepEqual(requests, []);
  await page.screenshot({ path: '/tmp/rpcscope-spec-html.png', fullPage: false });
  const first = await page.$('section.operation svg.sequence');
  await first?.screenshot({ path: '/tmp/rpcscope-spec-diagram.png' });
});
