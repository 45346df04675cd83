import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advancedConfig, hostsFile, layoutNodes, nodeEnv, rabbitmqConf } from './layout.ts';

test('layout: names, namespaces, ports away from the main broker', () => {
  const nodes = layoutNodes({ dir: '/w', nodes: 3, tag: 'abc123' });
  assert.deepEqual(
    nodes.map((n) => [n.name, n.netns, n.address, n.amqpPort, n.mgmtPort, n.distPort]),
    [
      ['rpcscope-1@node1', 'rpcscope-abc123-n1', '10.213.0.1', 5701, 15701, 25701],
      ['rpcscope-2@node2', 'rpcscope-abc123-n2', '10.213.0.2', 5702, 15702, 25702],
      ['rpcscope-3@node3', 'rpcscope-abc123-n3', '10.213.0.3', 5703, 15703, 25703],
    ],
  );
  for (const n of nodes) assert.ok(![5672, 15672, 25672].includes(n.amqpPort));
  assert.equal(
    hostsFile(nodes),
    '127.0.0.1 localhost\n10.213.0.1 node1\n10.213.0.2 node2\n10.213.0.3 node3\n',
  );
  const conf2 = rabbitmqConf(nodes[1]!, { partitionHandling: 'pause_minority' }, nodes[0]);
  assert.match(conf2, /cluster_formation\.classic_config\.nodes\.1 = rpcscope-1@node1/);
  assert.match(conf2, /listeners\.tcp\.default = 127\.0\.0\.1:5702/);
  assert.doesNotMatch(rabbitmqConf(nodes[0]!, { partitionHandling: 'ignore' }, nodes[0]), /classic_config/);
  assert.equal(advancedConfig({ netTicktime: 10 }), '[{kernel, [{net_ticktime, 10}]}].\n');
  const env = nodeEnv(nodes[0]!, '/w', {
    PATH: '/bin',
    RABBITMQ_NODENAME: 'rabbit@localhost',
    ERL_EPMD_PORT: '1',
  });
  assert.equal(env.RABBITMQ_NODENAME, 'rpcscope-1@node1');
  assert.equal(env.HOME, '/w');
  assert.equal(env.ERL_EPMD_PORT, undefined, "the caller's Erlang settings never leak in");
  assert.equal(env.PATH, '/bin');
});
