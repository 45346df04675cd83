#!/usr/bin/python3
"""snapshot.py VHOST...: the broker state of the rig's vhosts from the management API, one JSON
object {vhost: {connections, channels, queues, exchanges, bindings}} on stdout.

Connections carry the client's `connection_name` (oslo.messaging: `<binary>:<pid>:<uuid>`), so
each queue's consumers name the process that holds it. Only the fields a footprint needs are kept.
Settings: RIG_MGMT_URL, RIG_MGMT_USER, RIG_MGMT_PASS (scripts/rig/lib/common.sh).
"""
import base64
import json
import os
import sys
import urllib.parse
import urllib.request

E = os.environ.get
BASE = E('RIG_MGMT_URL', 'http://127.0.0.1:15672/api')
AUTH = base64.b64encode(('%s:%s' % (E('RIG_MGMT_USER', 'guest'), E('RIG_MGMT_PASS', 'guest'))).encode()).decode()


def get(path):
    req = urllib.request.Request(BASE + path, headers={'Authorization': 'Basic ' + AUTH})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def vhost_state(vhost):
    q = urllib.parse.quote(vhost, safe='')
    conns = [c for c in get('/connections') if c.get('vhost') == vhost]
    cname = {c['name']: (c.get('client_properties') or {}).get('connection_name') for c in conns}
    consumers = {}
    for c in get('/consumers/' + q):
        conn = (c.get('channel_details') or {}).get('connection_name')
        consumers.setdefault(c['queue']['name'], []).append(cname.get(conn) or conn)
    return {
        'connections': [{'name': c['name'], 'peer_port': c.get('peer_port'), 'user': c.get('user'),
                         'connection_name': cname[c['name']], 'channels': c.get('channels'),
                         'product': (c.get('client_properties') or {}).get('product')} for c in conns],
        'channels': [{'name': ch['name'], 'connection': (ch.get('connection_details') or {}).get('name'),
                      'number': ch.get('number'), 'consumer_count': ch.get('consumer_count'),
                      'prefetch_count': ch.get('prefetch_count'), 'confirm': ch.get('confirm')}
                     for ch in get('/vhosts/%s/channels' % q)],
        'queues': [{'name': x['name'], 'durable': x['durable'], 'auto_delete': x['auto_delete'],
                    'exclusive': x.get('exclusive'), 'arguments': x.get('arguments'),
                    'messages': x.get('messages'), 'consumers': x.get('consumers'),
                    'consumed_by': consumers.get(x['name'], [])} for x in get('/queues/' + q)],
        'exchanges': [{'name': x['name'], 'type': x['type'], 'durable': x['durable'],
                       'auto_delete': x['auto_delete'], 'internal': x['internal'],
                       'arguments': x.get('arguments')} for x in get('/exchanges/' + q)],
        'bindings': [{'source': b['source'], 'destination': b['destination'],
                      'destination_type': b['destination_type'], 'routing_key': b['routing_key']}
                     for b in get('/bindings/' + q)],
    }


def main():
    json.dump({v: vhost_state(v) for v in sys.argv[1:]}, sys.stdout, sort_keys=True, separators=(',', ':'))


if __name__ == '__main__':
    main()
