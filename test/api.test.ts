/**
 * docs/api.md's example, run as written against the packed and installed package: the module is
 * written into a folder whose node_modules/rpcscope is the installed package, so `'rpcscope'`
 * resolves through package.json `exports` to dist/index.js, on plain Node. Its output must be the
 * one the document shows.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installedPackage } from './harness/package.ts';

const doc = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');

/** The first ```js block after "## Example", and the plain block that follows it (its output). */
function example(): { code: string; output: string } {
  const at = doc.indexOf('## Example');
  const m = /```js\n([\s\S]*?)```[\s\S]*?```\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(at >= 0 && m !== null, 'docs/api.md has an example and its output');
  return { code: m[1] as string, output: m[2] as string };
}

test("docs/api.md's example runs against the installed package", { timeout: 600_000 }, async (t) => {
  const p = await installedPackage();
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-api-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'node_modules'));
  await symlink(p.root, join(dir, 'node_modules', 'rpcscope'), 'dir');
  const { code, output } = example();
  await writeFile(join(dir, 'example.mjs'), code);
  // the example names the bundled capture by its path in the checkout; use the package's copy
  const r = spawnSync(process.execPath, ['example.mjs', join(p.root, 'data', 'nova-zed', 'boot.pcap')], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, output);

  // the declarations resolve through the same exports (what a TypeScript user imports)
  const types = readFileSync(join(p.root, 'dist', 'index.d.ts'), 'utf8');
  for (const name of ['loadCaptures', 'RecordSink', 'buildSpec', 'runEmulation', 'runChaos', 'RpcscopeError'])
    assert.match(types, new RegExp(`\\b${name}\\b`), name);
});
