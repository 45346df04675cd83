import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { isRpcscopeError } from '../errors.ts';
import { isNotFound, ManagementApiError, ManagementClient } from './management.ts';

interface Seen {
  method: string;
  url: string;
  auth: string;
  accept: string;
  body: string;
}

/** A loopback stand-in for the management API that records what it was asked. */
async function fakeApi(handler: (req: Seen, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: req.url ?? '',
        auth: req.headers.authorization ?? '',
        accept: req.headers.accept ?? '',
        body,
      };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { seen, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

test('credentials from the URL become basic auth and never appear in baseUrl', async (t) => {
  const api = await fakeApi((_req, res) => json(res, 200, [{ name: 'v1', tracing: false }]));
  t.after(api.close);
  const c = new ManagementClient({ url: `http://admin:s3cr%40t@127.0.0.1:${api.port}/`, env: {} });
  assert.equal(c.baseUrl, `http://127.0.0.1:${api.port}`);
  const vhosts = await c.vhosts();
  assert.deepEqual(vhosts, [{ name: 'v1', tracing: false }]);
  assert.equal(api.seen[0]?.auth, `Basic ${Buffer.from('admin:s3cr@t').toString('base64')}`);
  assert.equal(api.seen[0]?.url, '/api/vhosts');
});

test('credentials from RPCSCOPE_MGMT_USER/PASS when the URL has none', async (t) => {
  const api = await fakeApi((_req, res) =>
    json(res, 200, { management_version: '3.10.8', node: 'rabbit@x' }),
  );
  t.after(api.close);
  const c = new ManagementClient({
    url: `http://127.0.0.1:${api.port}`,
    env: { RPCSCOPE_MGMT_USER: 'ops', RPCSCOPE_MGMT_PASS: 'pw' },
  });
  const o = await c.overview();
  assert.equal(o.node, 'rabbit@x');
  assert.equal(api.seen[0]?.auth, `Basic ${Buffer.from('ops:pw').toString('base64')}`);
});

test('vhost names are path-encoded and PUT sends the tracing flag as JSON', async (t) => {
  const api = await fakeApi((_req, res) => {
    res.writeHead(204);
    res.end();
  });
  t.after(api.close);
  const c = new ManagementClient({ url: `http://127.0.0.1:${api.port}`, env: {} });
  await c.putVhost('/', { tracing: true });
  await c.deleteVhost('a/b c');
  assert.deepEqual(
    api.seen.map((s) => [s.method, s.url, s.body]),
    [
      ['PUT', '/api/vhosts/%2F', '{"tracing":true}'],
      ['DELETE', '/api/vhosts/a%2Fb%20c', ''],
    ],
  );
});

test('HTTP errors carry code, status and a redacted URL, never the password', async (t) => {
  const api = await fakeApi((_req, res) =>
    json(res, 404, { error: 'Object Not Found', reason: 'Not Found' }),
  );
  t.after(api.close);
  const c = new ManagementClient({ url: `http://admin:hunter2@127.0.0.1:${api.port}`, env: {} });
  await assert.rejects(c.vhost('nope'), (e: unknown) => {
    assert.ok(e instanceof ManagementApiError);
    assert.equal(e.code, 'RPCSCOPE_MANAGEMENT_API');
    assert.equal(e.status, 404);
    assert.ok(isNotFound(e));
    assert.match(e.message, /HTTP 404: Not Found/);
    assert.match(e.where(), /^http:\/\/127\.0\.0\.1:\d+\/api\/vhosts\/nope: GET: HTTP 404/);
    assert.doesNotMatch(e.message, /hunter2/);
    assert.doesNotMatch(e.where(), /hunter2/);
    return true;
  });
});

test('a closed port gives RPCSCOPE_BROKER_UNREACHABLE without the password', async (t) => {
  // Take a free port, then close it so nothing listens there.
  const api = await fakeApi(() => {});
  const port = api.port;
  await api.close();
  t.diagnostic(`port ${port}`);
  const c = new ManagementClient({ url: `http://u:topsecret@127.0.0.1:${port}`, env: {}, timeoutMs: 2000 });
  await assert.rejects(c.nodes(), (e: unknown) => {
    assert.ok(isRpcscopeError(e));
    assert.equal(e.code, 'RPCSCOPE_BROKER_UNREACHABLE');
    assert.doesNotMatch(e.message, /topsecret/);
    assert.equal(e.context.input, `http://127.0.0.1:${port}/api/nodes`);
    return true;
  });
});

test('a non-JSON 200 answer is an RPCSCOPE_MANAGEMENT_API error', async (t) => {
  const api = await fakeApi((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>proxy login</html>');
  });
  t.after(api.close);
  const c = new ManagementClient({ url: `http://127.0.0.1:${api.port}`, env: {} });
  await assert.rejects(c.queues('v'), { code: 'RPCSCOPE_MANAGEMENT_API' });
  assert.equal(api.seen[0]?.url, '/api/queues/v');
});

test('trace files are fetched as text (the API answers 406 to accept: application/json)', async (t) => {
  const api = await fakeApi((req, res) => {
    if (req.accept === 'application/json') {
      res.writeHead(406);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.url === '/api/trace-files/t.log' ? '{"a":1}\n' : '');
  });
  t.after(api.close);
  const c = new ManagementClient({ url: `http://127.0.0.1:${api.port}`, env: {} });
  assert.equal(await c.traceFile('t.log'), '{"a":1}\n');
});
