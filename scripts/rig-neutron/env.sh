# Settings of the nova + neutron rig (sourced by every script here), then scripts/rig/lib/common.sh
# for the helpers shared with the nova-only rig. Its own ports, state folder, database prefix and
# users, so it can run beside scripts/rig; every value can be overridden from the environment.
NRIG=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); export NRIG
export RIG; RIG=$(cd "$NRIG/../rig" && pwd)
export RIG_NEUTRON=1
export RIG_VAR=${RIG_VAR:-/tmp/rpcscope-nrig}
export RIG_HOST=${RIG_HOST:-rpcscope-compute-1}   # nova-compute AND every neutron agent
export RIG_VHOST=${RIG_VHOST:-nova}
export RIG_NEUTRON_VHOST=${RIG_NEUTRON_VHOST:-neutron}
export RIG_AMQP_USER=${RIG_AMQP_USER:-rpcscope-nrig-nova}
export RIG_NEUTRON_AMQP_USER=${RIG_NEUTRON_AMQP_USER:-rpcscope-nrig-neutron}
export RIG_DB_PREFIX=${RIG_DB_PREFIX:-rpcscope_nrig_}
export RIG_DB_USER=${RIG_DB_USER:-rpcscope_nrig}
export RIG_API_PORT=${RIG_API_PORT:-28774}
export RIG_PLACEMENT_PORT=${RIG_PLACEMENT_PORT:-28778}
export RIG_GLANCE_PORT=${RIG_GLANCE_PORT:-29292}
export RIG_NEUTRON_PORT=${RIG_NEUTRON_PORT:-29696}
export RIG_META_PORT=${RIG_META_PORT:-28775}
export RIG_OVSDB_PORT=${RIG_OVSDB_PORT:-16650}
export RIG_OF_PORT=${RIG_OF_PORT:-16653}
# shellcheck source=../rig/lib/common.sh
. "$RIG/lib/common.sh"
NEUTRON_SERVICES="neutron-server neutron-openvswitch-agent neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent"
NEUTRON_AGENTS="neutron-openvswitch-agent neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent"
NOVA_PKGS="python3-nova python3-placement python3-pymysql mariadb-client"
NEUTRON_PKGS="python3-neutron openvswitch-switch kmod dnsmasq-base dnsmasq-utils haproxy iptables
  iputils-arping ebtables bridge-utils sudo iproute2 procps tcpdump curl"
