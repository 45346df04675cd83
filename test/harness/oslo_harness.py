#!/usr/bin/python3
"""Real oslo.messaging traffic with a known answer, for rpcscope's end-to-end tests.

Run with Debian's python3 (python3-oslo.messaging):

    /usr/bin/python3 test/harness/oslo_harness.py \
        --url rabbit://guest:guest@127.0.0.1:5672/<vhost> --calls 6 --casts 4 --fanouts 3

It starts a real oslo.messaging RPC server (executor 'threading') on topic `rpcscope_harness`,
server `host-a.example.org` (a dotted host name, as nova computes have), control exchange
`rpcscope`, and an RPC client in a transport of its own (another AMQP connection, as another
service would be), then sends:

- N calls to `rpcscope_harness.host-a.example.org` (methods `echo` and `add`, alternating),
- one call whose method raises `HarnessError` (a custom exception, not in
  allowed_remote_exmods, so the client gets a RemoteError naming it),
- one call to `slow`, which sleeps past the call's `timeout=` (the client raises
  MessagingTimeout; the server's reply arrives later and the client drops it with
  "No calling threads waiting for msg_id"),
- M casts (`record`, to the topic without a server; each carries an `admin_password` argument),
- K fanouts (`prepare(fanout=True).cast`, method `ping_all`, exchange `rpcscope_harness_fanout`),
- notifications through a `messagingv2` Notifier (topic `notifications`): two at info, one at
  error priority,

every one of them with a request context that carries an `auth_token` secret. It then prints
one JSON manifest on stdout saying exactly what went over the wire, counted from what the
client sent and the server received (never assumed): the test compares rpcscope's report with it.

Wire facts relied on (oslo_messaging/_drivers/amqpdriver.py and impl_rabbit.py, 14.0.3):
calls and casts go to the control exchange (topic type) with routing key `topic[.server]`,
calls carry AMQP `expiration` = timeout × 1000; fanouts go to `<topic>_fanout`; replies go to the
default exchange with routing key `reply_<uuid>` (mandatory) and no reply is sent for casts
(`AMQPIncomingMessage.reply` returns without msg_id); notifications go to the control exchange
with routing key `<topic>.<priority>` and a queue of that name is declared for them
(`_publish_and_creates_default_queue`), which nothing consumes.
"""

import argparse
import json
import logging
import secrets
import sys
import threading
import time
import uuid

from oslo_config import cfg
import oslo_messaging

EXCHANGE = 'rpcscope'
TOPIC = 'rpcscope_harness'
SERVER = 'host-a.example.org'
NOTIFY_TOPIC = 'notifications'
PUBLISHER = 'rpcscope-harness.' + SERVER
CALL_TIMEOUT_S = 1
SLOW_SLEEP_S = 3.0
WAIT_S = 60.0

LOG = logging.getLogger('oslo_harness')


class HarnessError(Exception):
    """The remote exception a call raises on purpose."""


class Received:
    """What the server actually dispatched, per method; waited on before shutdown."""

    def __init__(self):
        self._cond = threading.Condition()
        self.by_method = {}

    def add(self, method):
        with self._cond:
            self.by_method[method] = self.by_method.get(method, 0) + 1
            self._cond.notify_all()

    def wait_for(self, expected):
        deadline = time.monotonic() + WAIT_S
        with self._cond:
            while any(self.by_method.get(m, 0) < n for m, n in expected.items()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError('server did not receive %r, got %r' % (expected, self.by_method))
                self._cond.wait(left)


class Endpoint:
    target = oslo_messaging.Target(version='1.0')

    def __init__(self, received):
        self.received = received

    def echo(self, ctxt, value):
        self.received.add('echo')
        return value

    def add(self, ctxt, a, b):
        self.received.add('add')
        return a + b

    def record(self, ctxt, item, admin_password):
        self.received.add('record')

    def ping_all(self, ctxt, n):
        self.received.add('ping_all')

    # expected_exceptions: the server replies with the failure without logging a traceback
    # as an unexpected error (rpc/server.py expected_exceptions).
    @oslo_messaging.expected_exceptions(HarnessError)
    def fail(self, ctxt, reason):
        self.received.add('fail')
        raise HarnessError(reason)

    def slow(self, ctxt, seconds):
        self.received.add('slow')
        time.sleep(seconds)
        return 'too late'


class LateReplySeen(logging.Handler):
    """Sets an event when the reply waiter drops a reply nobody waits for any more
    (amqpdriver.ReplyWaiters.put logs "No calling threads waiting for msg_id")."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.msg_ids = []
        self.event = threading.Event()

    def emit(self, record):
        if 'No calling threads waiting for msg_id' in record.getMessage():
            self.msg_ids.append(record.args[0] if isinstance(record.args, tuple) else record.args)
            self.event.set()


def redact(url):
    head, sep, tail = url.partition('@')
    if not sep or '://' not in head:
        return url
    scheme, _, cred = head.partition('://')
    user = cred.split(':', 1)[0]
    return '%s://%s:***@%s' % (scheme, user, tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--url', required=True, help='transport URL, e.g. rabbit://guest:guest@127.0.0.1:5672/vh')
    ap.add_argument('--calls', type=int, default=6)
    ap.add_argument('--casts', type=int, default=4)
    ap.add_argument('--fanouts', type=int, default=3)
    ap.add_argument('--secret', default=None, help='auth_token to put into every context (default: random)')
    args = ap.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format='harness %(levelname)s %(name)s: %(message)s')
    late = LateReplySeen()
    amqp_log = logging.getLogger('oslo_messaging._drivers.amqpdriver')
    amqp_log.setLevel(logging.INFO)
    amqp_log.addHandler(late)
    amqp_log.propagate = False

    secret = args.secret or ('rpcscope-secret-' + secrets.token_hex(12))
    # The global CONF, as services use: oslo.messaging registers some options (metrics) only there.
    conf = cfg.CONF
    conf([], project='rpcscope-harness', default_config_files=[], default_config_dirs=[])
    oslo_messaging.set_transport_defaults(control_exchange=EXCHANGE)
    # The RPC client starts a (non-daemon) metrics sender thread that lingers this long after the
    # last metric even with metrics disabled (_metrics/client.py send_loop); do not wait 10 s on exit.
    conf.set_override('metrics_thread_stop_timeout', 0, group='oslo_messaging_metrics')

    def context(op):
        return {'auth_token': secret, 'request_id': 'req-' + str(uuid.uuid4()),
                'user': 'harness', 'project_id': 'rpcscope', 'op': op}

    received = Received()
    server_transport = oslo_messaging.get_rpc_transport(conf, url=args.url)
    server = oslo_messaging.get_rpc_server(
        server_transport, oslo_messaging.Target(topic=TOPIC, server=SERVER), [Endpoint(received)],
        executor='threading', access_policy=oslo_messaging.DefaultRPCAccessPolicy)
    client_transport = oslo_messaging.get_rpc_transport(conf, url=args.url)
    notify_transport = oslo_messaging.get_notification_transport(conf, url=args.url)
    client = oslo_messaging.get_rpc_client(client_transport, oslo_messaging.Target(topic=TOPIC, version='1.0'))
    direct = client.prepare(server=SERVER)

    sent_calls = {}
    ok = 0
    failures = {}
    timed_out = []
    server.start()
    try:
        for i in range(args.calls):
            method = 'echo' if i % 2 == 0 else 'add'
            if method == 'echo':
                got = direct.call(context('echo'), 'echo', value='v%d' % i)
                want = 'v%d' % i
            else:
                got = direct.call(context('add'), 'add', a=i, b=1000)
                want = i + 1000
            if got != want:
                raise RuntimeError('call %s returned %r, expected %r' % (method, got, want))
            sent_calls[method] = sent_calls.get(method, 0) + 1
            ok += 1

        try:
            direct.call(context('fail'), 'fail', reason='harness failure on purpose')
            raise RuntimeError('fail did not raise')
        except oslo_messaging.RemoteError as e:
            failures[e.exc_type] = failures.get(e.exc_type, 0) + 1
        sent_calls['fail'] = 1

        try:
            direct.prepare(timeout=CALL_TIMEOUT_S).call(context('slow'), 'slow', seconds=SLOW_SLEEP_S)
            raise RuntimeError('slow did not time out')
        except oslo_messaging.MessagingTimeout:
            timed_out.append('slow')
        sent_calls['slow'] = 1

        for i in range(args.casts):
            client.cast(context('record'), 'record', item=i, admin_password=secret)
        for i in range(args.fanouts):
            client.prepare(fanout=True).cast(context('ping_all'), 'ping_all', n=i)

        notifier = oslo_messaging.Notifier(notify_transport, publisher_id=PUBLISHER,
                                           driver='messagingv2', topics=[NOTIFY_TOPIC])
        notes = [('info', 'harness.widget.create'), ('info', 'harness.widget.update'),
                 ('error', 'harness.widget.fail')]
        for priority, event_type in notes:
            getattr(notifier, priority)(context('notify'), event_type, {'widget': event_type, 'n': 1})

        expected_rx = {'record': args.casts, 'ping_all': args.fanouts, 'slow': 1, 'fail': 1}
        if args.calls:
            expected_rx['echo'] = sent_calls.get('echo', 0)
        if args.calls > 1:
            expected_rx['add'] = sent_calls.get('add', 0)
        received.wait_for(expected_rx)
    finally:
        # stop() ends consuming; wait() joins the executor, so the slow method has returned and
        # its (late) reply has been published before we go on.
        server.stop()
        server.wait()

    if not late.event.wait(WAIT_S):
        raise RuntimeError('the late reply to the timed-out call never reached the client')

    for t in (client_transport, notify_transport, server_transport):
        t.cleanup()

    calls_total = sum(sent_calls.values())
    replies = calls_total  # every call got exactly one reply: ok, failure, and the late one
    notif = {}
    for priority, event_type in notes:
        key = (event_type, priority)
        notif[key] = notif.get(key, 0) + 1
    n_notif = sum(notif.values())
    manifest = {
        'transportUrl': redact(args.url),
        'exchange': EXCHANGE,
        'topic': TOPIC,
        'server': SERVER,
        'calls': {
            'total': calls_total,
            'ok': ok,
            'failed': sum(failures.values()),
            'unanswered': len(timed_out),
            'byMethod': sent_calls,
            'failures': [{'class': c, 'count': n} for c, n in sorted(failures.items())],
            'timedOut': [{'method': m, 'timeoutS': CALL_TIMEOUT_S, 'serverSleptS': SLOW_SLEEP_S}
                         for m in timed_out],
        },
        'casts': {'total': args.casts, 'byMethod': {'record': args.casts} if args.casts else {}},
        'fanouts': {'total': args.fanouts, 'byMethod': {'ping_all': args.fanouts} if args.fanouts else {},
                    'exchange': TOPIC + '_fanout', 'servers': 1},
        'notifications': {
            'total': n_notif,
            'topic': NOTIFY_TOPIC,
            'byEventType': [{'eventType': e, 'priority': p, 'count': n}
                            for (e, p), n in sorted(notif.items())],
        },
        'replies': {'total': replies, 'late': len(late.msg_ids)},
        'messages': {
            'published': calls_total + args.casts + args.fanouts + n_notif + replies,
            # one server: each call, cast and fanout is delivered once, each reply once to the
            # client; notifications sit in their queue unconsumed.
            'delivered': calls_total + args.casts + args.fanouts + replies,
        },
        'serverReceived': received.by_method,
        'secret': secret,
    }
    json.dump(manifest, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
