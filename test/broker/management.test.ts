/**
 * ManagementClient against the local RabbitMQ's management API: the fields other modules rely
 * on (watch's broker health, emulate/chaos polling) are there with the types declared.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import amqp from 'amqplib';
import { ManagementClient } from '../../src/broker/management.ts';
import { amqpUrlForVhost } from '../../src/capture/firehose.ts';

const mgmt = new ManagementClient({ url: 'http://127.0.0.1:15672', user: 'guest', password: 'guest' });

async function until<T>(what: string, get: () => Promise<T | undefined>, limitMs = 20_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('vhost, queue, connection, channel, exchange and node views of a live broker', async (t) => {
  const vhost = `rpcscope-test-mgmt-${randomBytes(4).toString('hex')}`;
  await mgmt.putVhost(vhost, { description: 'mgmt test', tracing: false });
  t.after(() => mgmt.deleteVhost(vhost).catch(() => {}));
  await mgmt.setPermissions(vhost, 'guest');

  const v = await mgmt.vhost(vhost);
  assert.equal(v.name, vhost);
  assert.equal(v.tracing, false);
  assert.equal(v.description, 'mgmt test');
  await mgmt.putVhost(vhost, { tracing: true, description: 'mgmt test' });
  assert.equal((await mgmt.vhost(vhost)).tracing, true);
  assert.ok((await mgmt.vhosts()).some((x) => x.name === vhost && x.tracing === true));

  const connName = `mgmt-test:${process.pid}`;
  const conn = await amqp.connect(amqpUrlForVhost('amqp://guest:guest@127.0.0.1:5672', vhost), {
    clientProperties: { connection_name: connName },
  });
  t.after(() => conn.close().catch(() => {}));
  const ch = await conn.createChannel();
  await ch.assertExchange('svc_fanout', 'fanout', { durable: false, autoDelete: true });
  await ch.assertQueue('svc_fanout_1', { durable: false, arguments: { 'x-expires': 1_800_000 } });
  await ch.bindQueue('svc_fanout_1', 'svc_fanout', '');
  await ch.consume('svc_fanout_1', () => {}, { noAck: true });
  ch.publish('', 'nobody', Buffer.from('x'));

  const q = await until('queue stats with consumers', async () => {
    const qs = await mgmt.queues(vhost);
    const found = qs.find((x) => x.name === 'svc_fanout_1');
    // The broker lists a queue before its first stats emission fills in the message counts.
    return found?.consumers === 1 && typeof found.messages === 'number' ? found : undefined;
  });
  assert.equal(q.vhost, vhost);
  assert.equal(q.durable, false);
  assert.deepEqual(q.arguments, { 'x-expires': 1_800_000 });
  assert.equal(typeof q.messages, 'number');
  assert.equal((await mgmt.queue(vhost, 'svc_fanout_1')).name, 'svc_fanout_1');

  const c = await until('the connection', async () =>
    (await mgmt.connections(vhost)).find((x) => x.client_properties.connection_name === connName),
  );
  assert.equal(c.vhost, vhost);
  assert.equal(c.user, 'guest');
  assert.equal(c.peer_host, '127.0.0.1');
  assert.equal(typeof c.peer_port, 'number');
  assert.match(c.name, new RegExp(`^127\\.0\\.0\\.1:${c.peer_port} -> 127\\.0\\.0\\.1:5672$`));
  assert.ok((await mgmt.connections()).some((x) => x.name === c.name));

  const chs = await until('the channel', async () => {
    const list = await mgmt.channels(vhost);
    return list.length > 0 ? list : undefined;
  });
  assert.equal(chs[0]?.connection_details?.name, c.name);
  assert.equal(chs[0]?.number, 1);

  const ex = await mgmt.exchanges(vhost);
  assert.ok(ex.some((e) => e.name === 'svc_fanout' && e.type === 'fanout' && e.auto_delete));
  assert.ok(ex.some((e) => e.name === 'amq.rabbitmq.trace' && e.internal));

  const nodes = await mgmt.nodes();
  assert.ok(nodes.length >= 1);
  const n = nodes[0]!;
  assert.equal(n.running, true);
  for (const k of ['mem_used', 'mem_limit', 'fd_used', 'fd_total', 'sockets_used', 'proc_used'] as const)
    assert.equal(typeof n[k], 'number', k);
  assert.equal(n.mem_alarm, false);
  assert.equal(n.disk_free_alarm, false);

  const o = await mgmt.overview();
  assert.match(o.management_version, /^\d+\.\d+/);
  assert.equal(o.node, n.name);

  await conn.close();
  await mgmt.deleteVhost(vhost);
  await assert.rejects(mgmt.vhost(vhost), { code: 'RPCSCOPE_MANAGEMENT_API', status: 404 });
});
