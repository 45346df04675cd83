import assert from 'node:assert/strict';
import { test } from 'node:test';
import { managementUrlFor, parseDuration, parseSize } from './watch.ts';

test('durations, sizes and the management URL derived from the AMQP URL', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('30'), 30_000);
  assert.throws(() => parseDuration('soon'), { code: 'RPCSCOPE_BAD_ARGUMENT' });
  assert.equal(parseSize('2G'), 2 * 1024 ** 3);
  assert.equal(parseSize('500MB'), 500 * 1024 ** 2);
  assert.equal(parseSize('4096'), 4096);
  assert.throws(() => parseSize('big'), { code: 'RPCSCOPE_BAD_ARGUMENT' });
  assert.equal(
    managementUrlFor('amqp://nova:s3cret@rabbit-1:5672/nova'),
    'http://nova:s3cret@rabbit-1:15672',
  );
});
