#!/usr/bin/python3
"""REST scenarios of the nova + neutron rig: scen.py COMMAND.

neutron (noauth: admin context; project `admin`, the project nova's noauth2 token admin:admin
stands for, so nova's servers may use the networks):
  setup             external network rig-ext (router:external, vxlan) + subnet, no DHCP
  warmup            network + subnet, a server on it, server and network deleted again: first-use
                    effects (the project's default security group, lazily opened RPC connections)
                    stay out of the recordings
  network-create | subnet-create | port-create (+ the os-vif style plug into br-int, wait ACTIVE)
  port-update | port-delete (unplug first) | network-delete | security-group-rule-create
  router-create (gateway on rig-ext) | router-interface-add | router-interface-remove
  floatingip-create (on rig-ext, to rig-port) | floatingip-delete | teardown
nova: server-create (one server on rig-net, wait ACTIVE: nova waits for network-vif-plugged)
      server-delete
Each non-GET call is appended as a JSON line (ts, service, method, path, status, request_id) to
$SCEN_LOG when set. Waits end in a warning, not a failure: what the rig did is still recorded.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

E = os.environ.get
NEUTRON = 'http://127.0.0.1:%s/v2.0' % E('RIG_NEUTRON_PORT', '29696')
NOVA = 'http://127.0.0.1:%s/v2.1' % E('RIG_API_PORT', '28774')
HOST = E('RIG_HOST', 'rpcscope-compute-1')
PROJECT = 'admin'
IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'   # scripts/rig/stubs.py's glance image
VSCTL = ['ovs-vsctl', '--timeout=20', '--db=' + E('RIG_OVSDB', 'tcp:127.0.0.1:16650')]
LOG = E('SCEN_LOG')


def call(service, method, path, body=None):
    base, hdr = (NEUTRON, {'Content-Type': 'application/json'}) if service == 'neutron' else (
        NOVA, {'X-Auth-Token': 'admin:admin', 'Content-Type': 'application/json',
               'X-OpenStack-Nova-API-Version': '2.79'})
    t = time.time()
    req = urllib.request.Request(base + path, method=method, headers=hdr,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, text, rid = r.status, r.read().decode(), r.headers.get('x-openstack-request-id')
    except urllib.error.HTTPError as e:
        status, text, rid = e.code, e.read().decode(), e.headers.get('x-openstack-request-id')
    if LOG and method != 'GET':
        with open(LOG, 'a') as f:
            f.write(json.dumps({'ts': t, 'service': service, 'method': method, 'path': path,
                                'status': status, 'request_id': rid}) + '\n')
    if status >= 400:
        raise SystemExit('%s %s %s -> %s %s' % (service, method, path, status, text[:400]))
    return json.loads(text) if text else None


def neutron(method, path, body=None):
    return call('neutron', method, path, body)


def find(kind, name):
    res = neutron('GET', '/%s?name=%s' % (kind, name))[kind.replace('-', '_')]
    return res[0] if res else None


def need(kind, name):
    r = find(kind, name)
    if r is None:
        raise SystemExit('no %s named %s' % (kind, name))
    return r


def wait(what, check, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if check():
            print('%s after %.1f s' % (what, time.time() - t0), flush=True)
            return True
        time.sleep(0.5)
    print('WARNING: timeout waiting for %s' % what, file=sys.stderr, flush=True)
    return False


def port_status(pid, want):
    return wait('port %s %s' % (pid[:8], want), lambda: neutron('GET', '/ports/' + pid)['port']['status'] == want)


def dev(port_id):
    return ('tap' + port_id)[:14]


def network_create(name='rig-net'):
    return neutron('POST', '/networks', {'network': {'name': name, 'project_id': PROJECT}})['network']


def subnet_create(net, name='rig-sub', cidr='10.20.0.0/24'):
    sub = neutron('POST', '/subnets', {'subnet': {'name': name, 'network_id': net['id'], 'project_id': PROJECT,
                                                  'ip_version': 4, 'cidr': cidr, 'enable_dhcp': True}})['subnet']
    # the DHCP agent creates its port in the network and reports it up
    wait('DHCP port ACTIVE', lambda: any(p['status'] == 'ACTIVE' for p in neutron(
        'GET', '/ports?network_id=%s&device_owner=network:dhcp' % net['id'])['ports']))
    return sub


def server_create(name, net):
    call('nova', 'POST', '/servers', {'server': {'name': name, 'imageRef': IMAGE_ID, 'flavorRef': '1',
                                                 'networks': [{'uuid': net['id']}]}})
    ok = wait('server %s ACTIVE' % name, lambda: any(
        s['status'] == 'ACTIVE' and not s.get('OS-EXT-STS:task_state') for s in servers(name)), 180)
    if not ok or any(s['status'] == 'ERROR' for s in servers(name)):
        raise SystemExit('server %s not ACTIVE: %s' % (name, [(s['status'], s.get('fault')) for s in servers(name)]))


def server_delete(name):
    for s in servers(name):
        call('nova', 'DELETE', '/servers/' + s['id'])
    wait('server %s gone' % name, lambda: not servers(name), 120)


def servers(prefix):
    return [s for s in call('nova', 'GET', '/servers/detail')['servers'] if s['name'].startswith(prefix)]


def main():
    cmd = sys.argv[1]
    if cmd == 'setup':
        if not find('networks', 'rig-ext'):
            ext = neutron('POST', '/networks', {'network': {
                'name': 'rig-ext', 'project_id': PROJECT, 'router:external': True,
                'provider:network_type': 'vxlan'}})['network']
            neutron('POST', '/subnets', {'subnet': {'name': 'rig-ext-sub', 'network_id': ext['id'],
                                                    'project_id': PROJECT, 'ip_version': 4,
                                                    'cidr': '172.24.4.0/24', 'enable_dhcp': False}})
    elif cmd == 'warmup':
        net = network_create('warm-net')
        subnet_create(net, 'warm-sub', '10.30.0.0/24')
        server_create('warm-vm', net)
        server_delete('warm-vm')
        neutron('DELETE', '/networks/' + net['id'])
        # the project's default security group exists from here on
        neutron('GET', '/security-groups?project_id=%s&name=default' % PROJECT)
    elif cmd == 'network-create':
        network_create()
    elif cmd == 'subnet-create':
        subnet_create(need('networks', 'rig-net'))
    elif cmd == 'port-create':
        net = need('networks', 'rig-net')
        vm = str(uuid.uuid4())
        port = neutron('POST', '/ports', {'port': {'name': 'rig-port', 'network_id': net['id'], 'project_id': PROJECT,
                                                   'device_owner': 'compute:nova', 'device_id': vm,
                                                   'binding:host_id': HOST}})['port']
        d = dev(port['id'])
        # as os-vif's OVS plugin does for a VM's tap: the OVS agent then sees the port
        subprocess.check_call(VSCTL + ['--', '--may-exist', 'add-port', 'br-int', d, '--', 'set', 'Interface', d,
                                       'type=internal', 'external_ids:iface-id=%s' % port['id'],
                                       'external_ids:iface-status=active',
                                       'external_ids:attached-mac=%s' % port['mac_address'],
                                       'external_ids:vm-uuid=%s' % vm])
        port_status(port['id'], 'ACTIVE')
    elif cmd == 'port-update':
        p = need('ports', 'rig-port')
        neutron('PUT', '/ports/' + p['id'], {'port': {'description': 'updated by the rig'}})
    elif cmd == 'port-delete':
        p = need('ports', 'rig-port')
        subprocess.call(VSCTL + ['--', '--if-exists', 'del-port', 'br-int', dev(p['id'])])
        port_status(p['id'], 'DOWN')
        neutron('DELETE', '/ports/' + p['id'])
    elif cmd == 'network-delete':
        neutron('DELETE', '/networks/' + need('networks', 'rig-net')['id'])
    elif cmd == 'security-group-rule-create':
        sg = neutron('GET', '/security-groups?project_id=%s&name=default' % PROJECT)['security_groups'][0]
        neutron('POST', '/security-group-rules', {'security_group_rule': {
            'security_group_id': sg['id'], 'project_id': PROJECT, 'direction': 'ingress', 'ethertype': 'IPv4',
            'protocol': 'tcp', 'port_range_min': 22, 'port_range_max': 22, 'remote_ip_prefix': '0.0.0.0/0'}})
    elif cmd == 'router-create':
        ext = need('networks', 'rig-ext')
        r = neutron('POST', '/routers', {'router': {'name': 'rig-router', 'project_id': PROJECT,
                                                    'external_gateway_info': {'network_id': ext['id']}}})['router']
        wait('router gateway port ACTIVE', lambda: any(p['status'] == 'ACTIVE' for p in neutron(
            'GET', '/ports?device_id=%s&device_owner=network:router_gateway' % r['id'])['ports']))
    elif cmd == 'router-interface-add':
        r = need('routers', 'rig-router')
        neutron('PUT', '/routers/%s/add_router_interface' % r['id'], {'subnet_id': need('subnets', 'rig-sub')['id']})
        wait('router interface port ACTIVE', lambda: any(p['status'] == 'ACTIVE' for p in neutron(
            'GET', '/ports?device_id=%s&device_owner=network:router_interface' % r['id'])['ports']))
    elif cmd == 'router-interface-remove':
        r = need('routers', 'rig-router')
        neutron('PUT', '/routers/%s/remove_router_interface' % r['id'], {'subnet_id': need('subnets', 'rig-sub')['id']})
    elif cmd == 'floatingip-create':
        fip = neutron('POST', '/floatingips', {'floatingip': {
            'floating_network_id': need('networks', 'rig-ext')['id'], 'project_id': PROJECT,
            'port_id': need('ports', 'rig-port')['id'], 'description': 'rig-fip'}})['floatingip']
        wait('floating IP ACTIVE', lambda: neutron('GET', '/floatingips/' + fip['id'])['floatingip']['status'] == 'ACTIVE')
    elif cmd == 'floatingip-delete':
        for f in neutron('GET', '/floatingips?description=rig-fip')['floatingips']:
            neutron('DELETE', '/floatingips/' + f['id'])
    elif cmd == 'server-create':
        server_create('rig-vm', need('networks', 'rig-net'))
    elif cmd == 'server-delete':
        server_delete('rig-vm')
    elif cmd == 'teardown':
        for f in neutron('GET', '/floatingips')['floatingips']:
            neutron('DELETE', '/floatingips/' + f['id'])
        r = find('routers', 'rig-router')
        if r:
            neutron('DELETE', '/routers/' + r['id'])
        for n in ('rig-net', 'rig-ext'):
            x = find('networks', n)
            if x:
                neutron('DELETE', '/networks/' + x['id'])
    else:
        raise SystemExit('unknown command %s' % cmd)


if __name__ == '__main__':
    main()
