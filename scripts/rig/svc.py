#!/usr/bin/python3
"""Runs one rig service in the foreground: svc.py NAME [ARGS...].

The Debian service packages (nova-api, nova-compute, neutron-server, ...) would pull in debconf,
dbconfig and init scripts; the library packages (python3-nova, python3-placement, python3-neutron)
are enough, with these entry points. NAME becomes argv[0], so oslo.messaging names each AMQP
connection `NAME:<pid>:<uuid>` as the packaged services do. Always run with Debian's
/usr/bin/python3.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))

NOVA = {
    'nova-api': 'nova.cmd.api',
    'nova-conductor': 'nova.cmd.conductor',
    'nova-scheduler': 'nova.cmd.scheduler',
    'nova-compute': 'nova.cmd.compute',
    'nova-manage': 'nova.cmd.manage',
}
NEUTRON = {
    'neutron-server': 'neutron.cmd.eventlet.server',
    'neutron-openvswitch-agent': 'neutron.cmd.eventlet.plugins.ovs_neutron_agent',
    'neutron-dhcp-agent': 'neutron.cmd.eventlet.agents.dhcp',
    'neutron-l3-agent': 'neutron.cmd.eventlet.agents.l3',
    'neutron-metadata-agent': 'neutron.cmd.eventlet.agents.metadata',
    'neutron-db-manage': 'neutron.db.migration.cli',
}


def placement(port):
    # placement's WSGI app on a threaded wsgiref server (the Debian package would use uwsgi)
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from placement import wsgi

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, fmt, *args):
            pass

    srv = make_server('127.0.0.1', port, wsgi.init_application(), server_class=Server, handler_class=Quiet)
    print('placement-api listening on 127.0.0.1:%d' % port, file=sys.stderr, flush=True)
    srv.serve_forever()


def main():
    name = sys.argv[1]
    if name == 'placement-api':
        placement(int(sys.argv[2]))
        return
    import importlib
    mod = importlib.import_module(NOVA.get(name) or NEUTRON[name])
    if name == 'nova-compute':
        # nova loads compute_driver as nova.virt.<name>: make the rig's VIF-plugging fake driver
        # (lib/rigplug.py, used with neutron) one, after nova.cmd's eventlet monkey patching
        import rigplug
        sys.modules['nova.virt.rigplug'] = rigplug
    sys.argv = [name] + sys.argv[2:]
    sys.exit(mod.main())


if __name__ == '__main__':
    main()
