/**
 * Child process that runs INSIDE a broker node's network namespace (started through
 * `ip netns exec`) and publishes the node's AMQP and management ports on the root namespace's
 * 127.0.0.1. The trick: the parent creates the listening sockets in the root namespace and hands
 * them over IPC (SCM_RIGHTS); a socket keeps the namespace it was created in, so this process
 * accepts on root-namespace loopback and connects to 127.0.0.1 of its own namespace.
 *
 * Messages from the parent: { kind: 'listen', target: <port inside the namespace> } with a
 * net.Server handle, then { kind: 'done' }, answered by { kind: 'ready' }.
 */
import net from 'node:net';

interface ListenMsg {
  readonly kind: 'listen' | 'done';
  readonly target?: number;
}

function forward(server: net.Server, target: number): void {
  server.on('connection', (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

process.on('message', (msg: ListenMsg, handle: unknown) => {
  if (msg.kind === 'listen' && handle instanceof net.Server && msg.target !== undefined) {
    forward(handle, msg.target);
  } else if (msg.kind === 'done') {
    // the parent disconnects after this; the server handles alone keep this process alive
    process.send?.({ kind: 'ready' });
  }
});
