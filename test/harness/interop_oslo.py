#!/usr/bin/python3
"""Real oslo.messaging peers for rpcscope's emulator interop tests (Debian python3-oslo.messaging).

    /usr/bin/python3 test/harness/interop_oslo.py MODE --url rabbit://guest:guest@127.0.0.1:5672/VHOST ...

Modes (each prints JSON lines on stdout; the last line is a summary object):
  call      a real RPC client (get_rpc_client) calls TOPIC[.SERVER] METHOD once and prints the result (or the error)
  server    a real RPC server on TOPIC / SERVER; endpoint methods `ping`, `object_action` and
            neutron's `report_state` (version 1.2) answer and print what they received; prints
            {"ready": true} once consuming;
            stops after --seconds
  notify-listen  a real notification listener on TOPIC (messagingv2 wire format, exchange
            --exchange); prints every notification; stops after --seconds or --count
  fanout    a real RPCClient casts METHOD with fanout=True to TOPIC once
"""

import argparse
import json
import sys
import threading
import datetime
import time

from oslo_config import cfg
import oslo_messaging


def out(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def transport(args, notification=False):
    oslo_messaging.set_transport_defaults(control_exchange=args.exchange)
    # oslo's RPC client reads options registered on the global CONF (oslo_messaging_metrics).
    conf = cfg.CONF
    conf([], project='rpcscope-interop')
    if notification:
        return oslo_messaging.get_notification_transport(conf, url=args.url)
    return oslo_messaging.get_rpc_transport(conf, url=args.url)


def do_call(args):
    t = transport(args)
    target = oslo_messaging.Target(topic=args.topic, server=args.server, version='1.0')
    client = oslo_messaging.get_rpc_client(t, target, timeout=args.timeout)
    try:
        result = client.call({'request_id': 'req-interop'}, args.method, host='python-client')
        out({'ok': True, 'result': result})
    except Exception as e:  # the test reads the error class
        out({'ok': False, 'error': type(e).__name__, 'message': str(e)})
    finally:
        t.cleanup()


def do_fanout(args):
    t = transport(args)
    client = oslo_messaging.get_rpc_client(t, oslo_messaging.Target(topic=args.topic, fanout=True, version='1.0'))
    client.cast({'request_id': 'req-interop-fanout'}, args.method, host='python-client')
    out({'ok': True, 'sent': args.method})
    t.cleanup()


class Endpoint(object):
    target = oslo_messaging.Target(version='1.0')

    def __init__(self):
        self.count = 0

    def ping(self, ctxt, **kwargs):
        self.count += 1
        out({'received': 'ping', 'host': kwargs.get('host'), 'request_id': ctxt.get('request_id')})
        return {'pong': kwargs.get('host')}

    def object_action(self, ctxt, objinst, objmethod, args, kwargs):
        self.count += 1
        out({'received': 'object_action', 'object': objinst.get('nova_object.name'), 'objmethod': objmethod})
        return [{'saved': True}, None]


class ReportStateEndpoint(object):
    """neutron's AgentExtRpcCallback.report_state (Zed, RPC API 1.2), reduced to what it reads
    before touching the database: kwargs['time'] parsed as oslo's timeutils.parse_strtime does
    ('%Y-%m-%dT%H:%M:%S.%f'), kwargs['agent_state']['agent_state'] with the keys
    create_or_update_agent requires. A payload neutron would reject raises here too (a remote
    error for the caller); a valid one answers 'new' then 'alive', as neutron's AGENT_NEW/ALIVE."""
    target = oslo_messaging.Target(version='1.2')

    def __init__(self, counter):
        self.counter = counter
        self.seen = set()

    def report_state(self, ctxt, **kwargs):
        when = datetime.datetime.strptime(kwargs['time'], '%Y-%m-%dT%H:%M:%S.%f')
        state = kwargs['agent_state']['agent_state']
        for key in ('binary', 'host', 'topic', 'agent_type', 'configurations'):
            if key not in state:
                raise ValueError('agent_state lacks %s' % key)
        self.counter.count += 1
        agent = (state['agent_type'], state['host'])
        status = 'alive' if agent in self.seen else 'new'
        self.seen.add(agent)
        out({'received': 'report_state', 'binary': state['binary'], 'host': state['host'],
             'agent_type': state['agent_type'], 'time': when.isoformat(), 'status': status})
        return status


def do_server(args):
    t = transport(args)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    ep = Endpoint()
    server = oslo_messaging.get_rpc_server(t, target, [ep, ReportStateEndpoint(ep)], executor='threading')
    server.start()
    out({'ready': True})
    time.sleep(args.seconds)
    server.stop()
    server.wait()
    t.cleanup()
    out({'done': True, 'count': ep.count})


class NotifyEndpoint(object):
    def __init__(self, want, done):
        self.got = 0
        self.want = want
        self.done = done

    def _on(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        self.got += 1
        out({'priority': priority, 'publisher_id': publisher_id, 'event_type': event_type,
             'payload_keys': sorted(payload.keys()) if isinstance(payload, dict) else None,
             'message_id': metadata.get('message_id'), 'request_id': ctxt.get('request_id')})
        if self.want and self.got >= self.want:
            self.done.set()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._on('info', ctxt, publisher_id, event_type, payload, metadata)


def do_notify_listen(args):
    t = transport(args, notification=True)
    done = threading.Event()
    ep = NotifyEndpoint(args.count, done)
    listener = oslo_messaging.get_notification_listener(
        t, [oslo_messaging.Target(topic=args.topic)], [ep], executor='threading')
    listener.start()
    out({'ready': True})
    done.wait(args.seconds)
    listener.stop()
    listener.wait()
    t.cleanup()
    out({'done': True, 'count': ep.got})


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['call', 'server', 'notify-listen', 'fanout'])
    p.add_argument('--url', required=True)
    p.add_argument('--exchange', default='nova')
    p.add_argument('--topic', required=True)
    p.add_argument('--server')
    p.add_argument('--method', default='ping')
    p.add_argument('--timeout', type=float, default=10)
    p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--count', type=int, default=0)
    args = p.parse_args()
    {'call': do_call, 'server': do_server, 'notify-listen': do_notify_listen, 'fanout': do_fanout}[args.mode](args)


if __name__ == '__main__':
    main()
