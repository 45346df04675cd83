/**
 * `rpcscope capture --amqp` as a process: SIGTERM and --duration both end it cleanly with
 * tracing restored, and the password of the URL is never printed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, makeVhost, mgmt, startCli } from '../harness/oslo.ts';

test('SIGTERM stops capture --amqp and restores tracing', async (t) => {
  const vh = await makeVhost('rpcscope-test-capture-cli');
  t.after(vh.remove);
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'x.json');
  const cap = await startCli(
    ['capture', '--amqp', 'amqp://guest:guest@127.0.0.1:5672', '--vhost', vh.name, '--out', out],
    /Ctrl-C to stop/,
  );
  assert.equal((await mgmt.vhost(vh.name)).tracing, true);
  cap.child.kill('SIGTERM');
  const r = await cap.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /stopped \(SIGTERM\): 0 published, 0 delivered, 0 dropped.*tracing restored off/);
  assert.doesNotMatch(r.stderr, /guest:guest/);
  assert.equal((await mgmt.vhost(vh.name)).tracing, false);
  assert.equal(await readFile(out, 'utf8'), '');
});

test('--duration ends the capture by itself', async (t) => {
  const vh = await makeVhost('rpcscope-test-capture-cli');
  t.after(vh.remove);
  const dir = await mkdtemp(join(tmpdir(), 'rpcscope-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = await cli([
    'capture',
    '--amqp',
    'amqp://guest:guest@127.0.0.1:5672',
    '--vhost',
    vh.name,
    '--out',
    join(dir, 'x.json'),
    '--duration',
    '0.5',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /stopped \(duration 0\.5 s\)/);
  assert.equal((await mgmt.vhost(vh.name)).tracing, false);
});

test('bad arguments are errors with exit code 2', async () => {
  const none = await cli(['capture', '--out', '/tmp/never-written.json']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give --amqp URL --vhost V/);
  const dur = await cli(['capture', '--tcpdump', 'lo', '--out', '/tmp/never.pcap', '--duration', '-3']);
  assert.notEqual(dur.code, 0);
  assert.match(dur.stderr, /--duration must be a positive number/);
});
