import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl } from './url.ts';

test('redactUrl hides passwords of every host and token-like parameters', () => {
  assert.equal(redactUrl('amqp://nova:s3cret@127.0.0.1:5672/nova'), 'amqp://nova:***@127.0.0.1:5672/nova');
  assert.equal(redactUrl('http://h/x?token=abc&a=1'), 'http://h/x?token=***&a=1');
  assert.equal(redactUrl('rabbit://u:p1@h:5672,v:p2@h2/'), 'rabbit://u:***@h:5672,v:***@h2/');
  assert.equal(redactUrl('amqp://127.0.0.1:5672'), 'amqp://127.0.0.1:5672');
});
