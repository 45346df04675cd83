#!/usr/bin/python3
"""Tiny nova REST client for the rig (noauth2, token admin:admin, microversion 2.79).

scen.py boot NAME [COUNT]       POST /servers (one request, min_count = max_count = COUNT), wait ACTIVE
scen.py stop|start|reboot NAME  server action, wait for the resulting state
scen.py delete NAME             DELETE every server whose name starts with NAME, wait until gone

Each non-GET call is appended as a JSON line (ts, method, path, status, request_id =
x-openstack-request-id) to $SCEN_LOG when set: the request id is `_context_request_id` in the
RPC messages the call caused.
"""
import json
import os
import sys
import time
import urllib.request

API = 'http://127.0.0.1:%s/v2.1' % os.environ.get('RIG_API_PORT', '18774')
IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
HDR = {'X-Auth-Token': 'admin:admin', 'Content-Type': 'application/json',
       'X-OpenStack-Nova-API-Version': '2.79'}
LOG = os.environ.get('SCEN_LOG')


def call(method, path, body=None):
    t = time.time()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(API + path, data=data, method=method, headers=HDR)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text, rid = r.status, r.read().decode(), r.headers.get('x-openstack-request-id')
    except urllib.error.HTTPError as e:
        status, text, rid = e.code, e.read().decode(), e.headers.get('x-openstack-request-id')
    if LOG and method != 'GET':
        with open(LOG, 'a') as f:
            f.write(json.dumps({'ts': t, 'method': method, 'path': path, 'status': status,
                                'request_id': rid}) + '\n')
    if status >= 400:
        raise SystemExit('%s %s -> %s %s' % (method, path, status, text[:500]))
    return json.loads(text) if text else None


def servers(prefix):
    return [s for s in call('GET', '/servers/detail')['servers'] if s['name'].startswith(prefix)]


def wait(prefix, want, count=1, timeout=180):
    t0 = time.time()
    states = []
    while time.time() - t0 < timeout:
        ss = servers(prefix)
        states = [(s['name'], s['status'], s.get('OS-EXT-STS:task_state')) for s in ss]
        if want == 'GONE' and not ss:
            return
        if want != 'GONE' and len(ss) >= count and all(
                s['status'] == want and not s.get('OS-EXT-STS:task_state') for s in ss):
            print('%s -> %s after %.1f s' % (prefix, want, time.time() - t0), flush=True)
            return
        if any(s['status'] == 'ERROR' for s in ss):
            raise SystemExit('ERROR state: %s' % states)
        time.sleep(0.5)
    raise SystemExit('timeout waiting for %s %s: %s' % (prefix, want, states))


def main():
    cmd, name = sys.argv[1], sys.argv[2]
    if cmd == 'boot':
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        server = {'name': name, 'imageRef': IMAGE_ID, 'flavorRef': '1', 'networks': 'none'}
        if n > 1:
            server['min_count'] = n
            server['max_count'] = n
        call('POST', '/servers', {'server': server})
        wait(name, 'ACTIVE', count=n)
        return
    ss = servers(name)
    if not ss:
        raise SystemExit('no server %s' % name)
    if cmd == 'delete':
        for s in ss:
            call('DELETE', '/servers/' + s['id'])
        wait(name, 'GONE')
        return
    action, want = {
        'stop': ({'os-stop': None}, 'SHUTOFF'),
        'start': ({'os-start': None}, 'ACTIVE'),
        'reboot': ({'reboot': {'type': 'SOFT'}}, 'ACTIVE'),
    }[cmd]
    call('POST', '/servers/%s/action' % ss[0]['id'], action)
    time.sleep(0.5)
    wait(name, want)


if __name__ == '__main__':
    main()
