import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatDuration,
  parseCount,
  parseDurationMs,
  parseDurationS,
  parseRatePerS,
  parseSize,
} from './units.ts';

const bad = { code: 'RPCSCOPE_BAD_ARGUMENT' };

test('durations: one grammar, plain numbers are seconds', () => {
  assert.equal(parseDurationS('500ms'), 0.5);
  assert.equal(parseDurationS('90'), 90);
  assert.equal(parseDurationS('90s'), 90);
  assert.equal(parseDurationS('15m'), 900);
  assert.equal(parseDurationS('2h'), 7200);
  assert.equal(parseDurationS('7d'), 604800);
  assert.equal(parseDurationS('1h30m'), 5400);
  assert.equal(parseDurationS('1.5s'), 1.5);
  assert.equal(parseDurationS(' 5s '), 5);
  assert.equal(parseDurationMs('7d'), 604_800_000);
  for (const s of ['', 'soon', '-3', '5x', '30m1h', '1m1m', '5 s', 's'])
    assert.throws(() => parseDurationS(s), bad, s);
  assert.equal(formatDuration(0.5), '500ms');
  assert.equal(formatDuration(5400), '1h30m');
  assert.equal(parseDurationS(formatDuration(93784.005)), 93784.005);
});

test('sizes: binary units whatever the spelling, plain numbers are bytes', () => {
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('64KiB'), 65536);
  assert.equal(parseSize('64k'), 65536);
  assert.equal(parseSize('1MiB'), 1048576);
  assert.equal(parseSize('10MB'), 10 * 1048576);
  assert.equal(parseSize('2G'), 2 * 1024 ** 3);
  assert.equal(parseSize('1.5 GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('100B'), 100);
  for (const s of ['big', '', '10 XB', '-1M', 'MiB']) assert.throws(() => parseSize(s), bad, s);
});

test('counts and rates', () => {
  assert.equal(parseCount('100'), 100);
  assert.equal(parseCount('10k'), 10_000);
  assert.equal(parseCount('2M'), 2_000_000);
  for (const s of ['1.5', 'ten', '-1', '']) assert.throws(() => parseCount(s), bad, s);
  assert.equal(parseRatePerS('2/s', 's'), 2);
  assert.equal(parseRatePerS('120/min', 's'), 2);
  assert.equal(parseRatePerS('120/m', 's'), 2);
  assert.equal(parseRatePerS('7200/h', 's'), 2);
  assert.equal(parseRatePerS('120', 'min'), 2);
  assert.equal(parseRatePerS('2', 's'), 2);
  for (const s of ['fast', '2/fortnight', '/s']) assert.throws(() => parseRatePerS(s, 's'), bad, s);
});
