import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fanoutExchangeName,
  fanoutQueueName,
  isReplyQueue,
  notificationKey,
  parseQueueName,
  replyQueueName,
  serverKey,
  splitNotificationKey,
  splitTopic,
  topicOfFanoutExchange,
} from './naming.ts';

test('names are built as oslo.messaging builds them', () => {
  assert.equal(replyQueueName('3dc19944f9f74ddebb6265fa67e5ef8a'), 'reply_3dc19944f9f74ddebb6265fa67e5ef8a');
  assert.equal(serverKey('compute'), 'compute');
  assert.equal(serverKey('compute', 'rig-compute-1.example.org'), 'compute.rig-compute-1.example.org');
  assert.equal(fanoutExchangeName('scheduler'), 'scheduler_fanout');
  assert.equal(fanoutQueueName('scheduler', '0b3d1c2e'), 'scheduler_fanout_0b3d1c2e');
  assert.equal(notificationKey('versioned_notifications', 'INFO'), 'versioned_notifications.info');
});

test('names are read back', () => {
  assert.ok(isReplyQueue(replyQueueName('abc')));
  assert.ok(!isReplyQueue('compute'));
  assert.deepEqual(splitTopic('compute.host.example.org'), { topic: 'compute', server: 'host.example.org' });
  assert.deepEqual(splitTopic('conductor'), { topic: 'conductor' });
  assert.equal(topicOfFanoutExchange('scheduler_fanout'), 'scheduler');
  assert.equal(topicOfFanoutExchange('nova'), undefined);
  assert.deepEqual(splitNotificationKey('notifications.error'), {
    topic: 'notifications',
    priority: 'error',
  });
  assert.deepEqual(splitNotificationKey('a.b.info'), { topic: 'a.b', priority: 'info' });
  assert.deepEqual(splitNotificationKey('notifications'), { topic: 'notifications' });
});

test('a queue name is parsed into its kind', () => {
  assert.deepEqual(parseQueueName('reply_3dc19944f9f74ddebb6265fa67e5ef8a'), { kind: 'reply' });
  assert.deepEqual(parseQueueName('amq.gen-JzTY20BRgKO-HjmUJj0wLg'), { kind: 'anonymous' });
  assert.deepEqual(parseQueueName('scheduler_fanout_0b3d1c2e'), { kind: 'fanout', topic: 'scheduler' });
  assert.deepEqual(parseQueueName('conductor'), { kind: 'topic', topic: 'conductor' });
  assert.deepEqual(parseQueueName('compute.rig-compute-1.example.org'), {
    kind: 'server',
    topic: 'compute',
    server: 'rig-compute-1.example.org',
  });
  assert.deepEqual(parseQueueName('notifications.info'), {
    kind: 'notification',
    topic: 'notifications',
    priority: 'info',
  });
  // every builder's output reads back as its kind
  assert.equal(parseQueueName(fanoutQueueName('compute', 'ab12')).kind, 'fanout');
  assert.equal(parseQueueName(serverKey('compute', 'h1')).kind, 'server');
  assert.equal(parseQueueName(notificationKey('notifications', 'WARN')).kind, 'notification');
});
