/**
 * Oslo-shaped traffic into a vhost with amqplib, for the dashboard test: a nova-like API caller
 * sends `build_instances` calls to the conductor (and an occasional failing one), the "conductor"
 * answers them and casts `build_and_run_instance` to a compute host, notifications go to
 * `notifications.info`. Every message is encoded by src/wire/oslo/encode.ts (the exact wire format).
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import {
  encodeCall,
  encodeCast,
  encodeNotification,
  encodeReply,
  remoteFailure,
  replyQueueName,
} from '../../src/wire/oslo/encode.ts';

export interface Traffic {
  sent: { calls: number; casts: number; notifications: number; replies: number };
  stop(): Promise<void>;
}

export async function startTraffic(vhost: string, everyMs = 40): Promise<Traffic> {
  const url = `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`;
  const server = await amqp.connect(url, { clientProperties: { connection_name: 'nova-conductor:1:a' } });
  const client = await amqp.connect(url, { clientProperties: { connection_name: 'nova-api:2:b' } });
  const sch = await server.createChannel();
  const cch = await client.createChannel();
  await sch.assertExchange('nova', 'topic', { durable: false });
  await sch.assertQueue('conductor', { durable: false });
  await sch.bindQueue('conductor', 'nova', 'conductor');
  await sch.assertQueue('compute.host1', { durable: false });
  await sch.bindQueue('compute.host1', 'nova', 'compute.host1');
  await sch.assertQueue('notifications.info', { durable: false });
  await sch.bindQueue('notifications.info', 'nova', 'notifications.info');
  const replyQ = replyQueueName();
  await cch.assertQueue(replyQ, { durable: false, arguments: { 'x-expires': 1_800_000 } });
  await cch.consume(replyQ, () => {}, { noAck: true });
  const sent = { calls: 0, casts: 0, notifications: 0, replies: 0 };
  let stopped = false;
  // The vhost may be deleted under us at the end of a test: stop instead of throwing.
  for (const c of [server, client]) c.on('close', () => (stopped = true)).on('error', () => (stopped = true));

  // the "conductor": answers calls after a few ms, fails every 7th
  let n = 0;
  await sch.consume(
    'conductor',
    (m) => {
      if (m === null) return;
      const inner = JSON.parse(JSON.parse(m.content.toString())['oslo.message']) as {
        _msg_id: string;
        _reply_q: string;
        _context_request_id: string;
      };
      const fail = ++n % 7 === 0;
      setTimeout(
        () => {
          if (stopped) return;
          const r = encodeReply({
            msgId: inner._msg_id,
            replyQ: inner._reply_q,
            result: fail ? null : { ok: true },
            failure: fail ? remoteFailure('NoValidHost', 'nova.exception', 'No valid host was found.') : null,
          });
          sch.publish(r.exchange, r.routingKey, r.body, { ...r.properties, mandatory: true });
          sent.replies++;
          const c = encodeCast({
            exchange: 'nova',
            topic: 'compute',
            server: 'host1',
            method: 'build_and_run_instance',
            version: '6.0',
            args: { instance: 'x' },
            context: { user_id: 'u1', project_id: 'p1', request_id: inner._context_request_id },
          });
          sch.publish(c.exchange, c.routingKey, c.body, c.properties);
          sent.casts++;
        },
        2 + (n % 5) * 3,
      );
    },
    { noAck: true },
  );
  await sch.consume('compute.host1', () => {}, { noAck: true });

  const timer = setInterval(() => {
    if (stopped) return;
    const req = `req-${randomUUID()}`;
    const ctx = { user_id: 'u1', project_id: 'p1', request_id: req, auth_token: 'tok-SECRET-never-shown' };
    const c = encodeCall(
      {
        exchange: 'nova',
        topic: 'conductor',
        method: 'build_instances',
        version: '1.25',
        args: {},
        context: ctx,
      },
      { replyQ, timeoutS: 60 },
    );
    cch.publish(c.exchange, c.routingKey, c.body, c.properties);
    sent.calls++;
    const note = encodeNotification({
      exchange: 'nova',
      topic: 'notifications',
      priority: 'info',
      eventType: 'compute.instance.create.start',
      publisherId: 'compute.host1',
      payload: {},
      context: ctx,
    });
    cch.publish(note.exchange, note.routingKey, note.body, note.properties);
    sent.notifications++;
  }, everyMs);
  return {
    sent,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await client.close().catch(() => {});
      await server.close().catch(() => {});
    },
  };
}
