import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Accounting } from '../emulate/accounting.ts';
import { buildLedger, byKind } from './ledger.ts';
import { baseline, bucketize, recoverySeconds } from './recovery.ts';

test('ledger: each message in exactly one class, duplicates apart, window respected', () => {
  const a = new Accounting({ keepMessages: true });
  // delivered once
  a.sent('c1', 'cast', 'client', 'h1', 'm', 1000);
  a.confirmed('c1', true, 1001);
  a.delivered('c1', 'srv');
  // delivered twice to the same server (redelivery after a node loss)
  a.sent('c2', 'cast', 'client', 'h1', 'm', 1000);
  a.confirmed('c2', true, 1001);
  a.delivered('c2', 'srv');
  a.delivered('c2', 'srv');
  // confirmed, then lost with its queue
  a.sent('c3', 'cast', 'client', 'h1', 'm', 1000);
  a.confirmed('c3', true, 1001);
  // never confirmed
  a.sent('c4', 'cast', 'client', 'h1', 'm', 1000);
  a.confirmed('c4', false, 1001);
  // held while its sender was disconnected, still held when the service stopped
  a.sent('c5', 'cast', 'client', 'h1', 'm', 1000);
  a.unsent('c5', 3000, 'service stopped while disconnected');
  // call that expired in its queue and timed out
  a.sent('k1', 'call', 'client', 'h1', 'm', 1000);
  a.confirmed('k1', true, 1001);
  a.timedOut('k1', 2000);
  // answered call
  a.sent('k2', 'call', 'client', 'h1', 'm', 1000);
  a.confirmed('k2', true, 1001);
  a.delivered('k2', 'srv');
  a.answered('k2', 1010);
  // outside the window
  a.sent('late', 'cast', 'client', 'h1', 'm', 5000);
  const l = buildLedger({
    messages: a.messages(),
    expired: new Set(['k1']),
    remoteErrors: new Map([['client', 1]]),
    from: 0,
    to: 4000,
  });
  assert.equal(l.closes, true);
  assert.equal(l.outsideWindow, 1);
  const cast = byKind(l, 'cast');
  assert.deepEqual(
    [
      cast.sent,
      cast.delivered,
      cast.duplicated,
      cast.lost,
      cast.lostAfterConfirm,
      cast.unconfirmed,
      cast.unsent,
      cast.expired,
    ],
    [5, 2, 1, 3, 1, 2, 1, 0],
  );
  const call = byKind(l, 'call');
  assert.deepEqual(
    [call.sent, call.delivered, call.expired, call.timedOut, call.answered, call.remoteErrors],
    [2, 1, 1, 1, 1, 1],
  );
  assert.equal(l.total.sent, l.total.delivered + l.total.expired + l.total.lost);
});

test('recovery: seconds until success rate and latency are back', () => {
  const calls = [];
  const t0 = 0;
  for (let s = 0; s < 40; s++) {
    const bad = s >= 10 && s < 17;
    for (let k = 0; k < 10; k++)
      calls.push({ sentAt: t0 + s * 1000 + k * 50, ok: !bad || k < 3, latencyMs: bad ? 900 : 10 + k });
  }
  const b = bucketize(calls, t0, 40);
  const base = baseline(b, 2, 10);
  assert.ok(base !== undefined);
  assert.equal(base.successRate, 1);
  assert.equal(recoverySeconds(b, base, 10), 7);
  assert.equal(recoverySeconds(b, base, 30), 0);
  // never healthy again → undefined
  const worse = bucketize(
    calls.map((c) => (c.sentAt >= 10000 ? { ...c, ok: false } : c)),
    t0,
    40,
  );
  assert.equal(recoverySeconds(worse, base, 10), undefined);
});
