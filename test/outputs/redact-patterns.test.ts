/** Redaction of secret keys (every spelling) and secret values inside free text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl } from '../../src/util/url.ts';
import { isSecretKey, redactString, redactValue } from '../../src/wire/oslo/redact.ts';

test('secret keys in every case and separator spelling', () => {
  for (const k of [
    'pwd',
    'Passwd',
    'db_password',
    'api-key',
    'api_key',
    'apikey',
    'ApiKey',
    'X-API-KEY',
    'authorization',
    'Cookie',
    'private-key',
    'private_key',
    'PrivateKey',
    'client_secret',
    'X-Auth-Token',
    'credentials',
    'aws.access.key',
  ])
    assert.ok(isSecretKey(k), k);
  for (const k of ['request_id', 'user_id', 'roles', 'project_name', 'key_name', 'keystone', 'instance_uuid'])
    assert.ok(!isSecretKey(k), k);
});

test('secret values anywhere in a string, the rest kept', () => {
  const cases: [string, string][] = [
    ['Authorization: Bearer gAAAAABk1secretTOKEN', 'Authorization: Bearer ***'],
    ['auth failed: Basic dXNlcjpodW50ZXIy', 'auth failed: Basic ***'],
    ['connect failed password=hunter2 host=db', 'connect failed password=*** host=db'],
    [
      '(1045, "Access denied"), password: "s3 cret", user: nova',
      '(1045, "Access denied"), password: "***", user: nova',
    ],
    ['{"admin_password": "hunter2", "x": 1}', '{"admin_password": "***", "x": 1}'],
    ['X-Auth-Token: abcdef123456 X-Api-Key=kkkkk', 'X-Auth-Token: *** X-Api-Key=***'],
    [
      'bad key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY----- end',
      'bad key -----BEGIN RSA PRIVATE KEY-----*** end',
    ],
    [
      'cut -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'cut -----BEGIN PRIVATE KEY-----***',
    ],
    ['see mysql+pymysql://nova:dbpass@127.0.0.1/nova now', 'see mysql+pymysql://nova:***@127.0.0.1/nova now'],
    ['GET https://h/v3?api_key=abc&x=1 failed', 'GET https://h/v3?api_key=***&x=1 failed'],
  ];
  for (const [input, want] of cases) assert.equal(redactString(input), want, input);
  for (const plain of [
    'passed: 3 tests',
    'no secrets here: a:b@c',
    'Basic auth failed',
    '2024-01-01T00:00:00.000000',
    'b9c1a3d0-0000-4000-8000-000000000000',
  ])
    assert.equal(redactString(plain), plain);
  assert.deepEqual(redactValue({ headers: { 'X-Api-Key': 'k1', Cookie: 'c=1' }, msg: ['token: t1 x'] }), {
    headers: { 'X-Api-Key': '***', Cookie: '***' },
    msg: ['token: *** x'],
  });
  assert.equal(redactUrl('amqp://u:p@h/?x=1&sig=2&Signature=3'), 'amqp://u:***@h/?x=1&sig=2&Signature=***');
});
