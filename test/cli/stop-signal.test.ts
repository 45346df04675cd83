/**
 * The one Ctrl-C policy (src/util/stop.ts) in a real process: the first signal asks to stop
 * (every live handle hears it, the command ends its own way), a second one exits 130 at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

const STOP = new URL('../../src/util/stop.ts', import.meta.url).href;

/** A process that installs two handles, then runs `after` on the first signal. */
function child(after: string) {
  const code = `
    import { onStopSignal } from ${JSON.stringify(STOP)};
    const outer = onStopSignal((s) => console.log('outer stop ' + s));
    const inner = onStopSignal(() => console.log('inner stop'));
    inner.stopped.then(() => { ${after} });
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stderr.setEncoding('utf8');
  p.stdout.on('data', (d: string) => {
    out += d;
  });
  p.stderr.on('data', (d: string) => {
    out += d;
  });
  const ready = new Promise<void>((resolve) => {
    const check = () => (out.includes('ready') ? resolve() : setTimeout(check, 20));
    check();
  });
  return { p, ready, out: () => out };
}

test('first signal: graceful stop heard by every handle; the command ends with its own status', async () => {
  const c = child('setTimeout(() => process.exit(0), 50);');
  await c.ready;
  c.p.kill('SIGTERM');
  const [code] = (await once(c.p, 'exit')) as [number | null];
  assert.equal(code, 0, c.out());
  assert.match(c.out(), /outer stop SIGTERM/);
  assert.match(c.out(), /inner stop/);
});

test('second signal while stopping: exit 130 at once', async () => {
  // the graceful stop never finishes: only the second signal ends the process
  const c = child("console.log('stopping');");
  await c.ready;
  c.p.kill('SIGINT');
  while (!c.out().includes('stopping')) await new Promise((r) => setTimeout(r, 20));
  c.p.kill('SIGINT');
  const [code] = (await once(c.p, 'exit')) as [number | null];
  assert.equal(code, 130, c.out());
  assert.match(c.out(), /RPCSCOPE_INTERRUPTED: second SIGINT/);
});

test('after dispose, the handle no longer listens', async () => {
  const code = `
    import { onStopSignal } from ${JSON.stringify(STOP)};
    const h = onStopSignal(() => console.log('should not run'));
    h.dispose();
    console.log('listeners ' + process.listenerCount('SIGINT') + ' ' + process.listenerCount('SIGTERM'));
  `;
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  await once(p, 'exit');
  assert.match(out, /listeners 0 0/);
});
