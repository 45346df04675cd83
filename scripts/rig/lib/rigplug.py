"""Fake virt driver that plugs/unplugs VIFs into OVS br-int like os-vif does
(ovs-vsctl add-port <devname> type=internal with external_ids iface-id,
attached-mac, iface-status, vm-uuid) and, like the libvirt driver, waits
for neutron's network-vif-plugged events around the plug (deadline
CONF.vif_plugging_timeout, vif_plugging_is_fatal honoured).
Found on svc.py's path (scripts/rig/lib; nova tries nova.virt.<name> first, then <name>);
compute_driver = rigplug.PlugFakeDriver.  OVSDB: $RIG_OVSDB (default
tcp:127.0.0.1:16650, set by scripts/rig/lib/common.sh)."""
import os
import subprocess

import eventlet
from oslo_log import log as logging

import nova.conf
from nova import exception
from nova.virt import fake

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)
DB = os.environ.get('RIG_OVSDB', 'tcp:127.0.0.1:16650')


def _vsctl(*args):
    cmd = ['ovs-vsctl', '--timeout=10', '--db=%s' % DB] + list(args)
    LOG.info('rigplug: %s', ' '.join(cmd))
    subprocess.check_call(cmd)


class PlugFakeDriver(fake.FakeDriver):

    def _dev(self, vif):
        return vif.get('devname') or ('tap' + vif['id'])[:14]

    def plug_vifs(self, instance, network_info):
        for vif in network_info or []:
            dev = self._dev(vif)
            _vsctl('--', '--may-exist', 'add-port', 'br-int', dev,
                   '--', 'set', 'Interface', dev, 'type=internal',
                   'external_ids:iface-id=%s' % vif['id'],
                   'external_ids:iface-status=active',
                   'external_ids:attached-mac=%s' % vif['address'],
                   'external_ids:vm-uuid=%s' % instance.uuid)

    def unplug_vifs(self, instance, network_info):
        for vif in network_info or []:
            _vsctl('--', '--if-exists', 'del-port', 'br-int', self._dev(vif))

    def _failed(self, event_name, instance):
        LOG.error('Neutron Reported failure on event %s for instance %s',
                  event_name, instance.uuid, instance=instance)
        if CONF.vif_plugging_is_fatal:
            raise exception.VirtualInterfaceCreateException()

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        timeout = CONF.vif_plugging_timeout
        events = []
        if network_info and power_on and timeout:
            events = [('network-vif-plugged', vif['id'])
                      for vif in network_info
                      if vif.get('active', True) is False]
        try:
            with self.virtapi.wait_for_instance_event(
                    instance, events, deadline=timeout,
                    error_callback=self._failed):
                self.plug_vifs(instance, network_info)
        except eventlet.timeout.Timeout:
            LOG.warning('rigplug: timeout waiting for %s', events,
                        instance=instance)
            if CONF.vif_plugging_is_fatal:
                raise exception.VirtualInterfaceCreateException()
        super().spawn(context, instance, image_meta, injected_files,
                      admin_password, allocations, network_info=network_info,
                      block_device_info=block_device_info, power_on=power_on,
                      accel_info=accel_info)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        super().destroy(context, instance, network_info,
                        block_device_info=block_device_info,
                        destroy_disks=destroy_disks,
                        destroy_secrets=destroy_secrets)
        try:
            self.unplug_vifs(instance, network_info)
        except Exception:
            LOG.exception('rigplug: unplug failed', instance=instance)
