#!/bin/bash
# Stand up rpcscope's nova + neutron rig (OpenStack Zed, Debian 12 packages) on this machine's
# RabbitMQ (vhosts $RIG_VHOST=nova and $RIG_NEUTRON_VHOST=neutron, own users) and MariaDB (own
# databases): nova as scripts/rig/up.sh starts it, but on the real neutron API and with a fake virt
# driver that plugs each VIF into br-int as os-vif would (scripts/rig/lib/rigplug.py); neutron-server
# (ML2/openvswitch, noauth), the OVS agent on OVS's userspace `netdev` datapath (no openvswitch
# kernel module needed: the rig runs its own ovsdb-server and ovs-vswitchd), DHCP, L3 and metadata
# agents. Installs missing packages, starts MariaDB when it is down. Idempotent.
# Every pid goes to $RIG_VAR/run; down.sh stops exactly those and what they spawned.
set -euo pipefail
. "$(dirname "$0")/env.sh"
T0=$(date +%s)
step() { echo "[nrig up +$(( $(date +%s) - T0 ))s] $*"; }
mkdir -p "$RUN" "$LOGS/ovs" "$STATE/neutron/lock" "$CONF" "$OVS_RUNDIR" "$OVS_SYSCONFDIR"

# shellcheck disable=SC2086
need_packages $NOVA_PKGS $NEUTRON_PKGS mariadb-server
ensure_mariadb
mgmt GET /overview >/dev/null || { echo "RabbitMQ management API $RIG_MGMT_URL not answering (scripts/setup.sh)" >&2; exit 1; }
step "packages, MariaDB, RabbitMQ present"

# ---- RabbitMQ: neutron's vhost and user (nova's are made by scripts/rig/up.sh)
NPASS=$(secret amqp-neutron); DB_PASS=$(secret db)
NVQ=$(urlq "$RIG_NEUTRON_VHOST")
mgmt PUT "/vhosts/$NVQ" '{"tracing":false}' >/dev/null
mgmt PUT "/users/$(urlq "$RIG_NEUTRON_AMQP_USER")" "{\"password\":\"$NPASS\",\"tags\":\"\"}" >/dev/null
mgmt PUT "/permissions/$NVQ/$(urlq "$RIG_NEUTRON_AMQP_USER")" '{"configure":".*","write":".*","read":".*"}' >/dev/null

# ---- MariaDB: every rig database (nova's and neutron's), one user
for d in $RIG_DBS; do mysql_root -e "CREATE DATABASE IF NOT EXISTS \`$d\` CHARACTER SET utf8"; done
mysql_root -e "CREATE USER IF NOT EXISTS '$RIG_DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS'"
for d in $RIG_DBS; do mysql_root -e "GRANT ALL PRIVILEGES ON \`$d\`.* TO '$RIG_DB_USER'@'127.0.0.1'"; done

# ---- neutron configuration
DB="mysql+pymysql://$RIG_DB_USER:$DB_PASS@$RIG_MYSQL_HOST:$RIG_MYSQL_PORT/${RIG_DB_PREFIX}neutron?charset=utf8"
TRANSPORT="rabbit://$(urlq "$RIG_NEUTRON_AMQP_USER"):$NPASS@127.0.0.1:$RIG_AMQP_PORT/$NVQ"
(umask 077
 for f in neutron.conf ml2_conf.ini openvswitch_agent.ini dhcp_agent.ini l3_agent.ini metadata_agent.ini neutron-api-paste.ini; do
   sed "s#@STATE@#$STATE#g; s#@CONF@#$CONF#g; s#@DB@#$DB#g; s#@TRANSPORT_URL@#$TRANSPORT#g; s#@HOST@#$RIG_HOST#g;
        s#@API_PORT@#$RIG_NEUTRON_PORT#g; s#@NOVA_API_PORT@#$RIG_API_PORT#g; s#@OVSDB_PORT@#$RIG_OVSDB_PORT#g;
        s#@OF_PORT@#$RIG_OF_PORT#g; s#@META_PORT@#$RIG_META_PORT#g" "$NRIG/etc/$f" > "$CONF/$f"
 done)
n=$(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='${RIG_DB_PREFIX}neutron' AND table_name='ports'")
dbm=""
if [ "$n" = 0 ]; then
  # the schema migration runs while nova comes up
  $PY "$RIG/svc.py" neutron-db-manage --config-file "$CONF/neutron.conf" --config-file "$CONF/ml2_conf.ini" upgrade heads \
    > "$LOGS/neutron-db-manage.log" 2>&1 &
  dbm=$!
  step "neutron-db-manage upgrade heads (background)"
fi

# ---- Open vSwitch: own db/run/log dirs, userspace (netdev) datapath
[ -e "$OVS_DBDIR/conf.db" ] || ovsdb-tool create "$OVS_DBDIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema
if ! alive ovsdb-server; then
  ovsdb-server "$OVS_DBDIR/conf.db" --remote=punix:"$OVS_RUNDIR/db.sock" --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
    --pidfile="$RUN/ovsdb-server.pid" --unixctl="$OVS_RUNDIR/ovsdb-server.ctl" \
    --log-file="$LOGS/ovs/ovsdb-server.log" --detach --no-chdir
  $VSCTL --no-wait init
fi
$VSCTL --no-wait set-manager "ptcp:$RIG_OVSDB_PORT:127.0.0.1"
if ! alive ovs-vswitchd; then
  ovs-vswitchd "unix:$OVS_RUNDIR/db.sock" --pidfile="$RUN/ovs-vswitchd.pid" --unixctl="$OVS_RUNDIR/ovs-vswitchd.ctl" \
    --log-file="$LOGS/ovs/ovs-vswitchd.log" --detach --no-chdir
fi
# the agent would create br-int with the 'system' datapath first; make it netdev now
$VSCTL --may-exist add-br br-int -- set bridge br-int datapath_type=netdev
[ -e "$RUN/netns.before" ] || ip netns list | awk '{print $1}' > "$RUN/netns.before"
step "OVS up (netdev datapath, ovsdb tcp:127.0.0.1:$RIG_OVSDB_PORT)"

# ---- nova (scripts/rig/up.sh with RIG_NEUTRON=1)
bash "$RIG/up.sh"
step "nova up"

if [ -n "$dbm" ]; then
  wait "$dbm" || { tail -20 "$LOGS/neutron-db-manage.log" >&2; exit 1; }
  step "neutron schema at heads"
fi
START_UTC=$(date -u '+%Y-%m-%d %H:%M:%S')
svc_start neutron-server
wait_http "http://127.0.0.1:$RIG_NEUTRON_PORT/" 180
step "neutron-server answering on 127.0.0.1:$RIG_NEUTRON_PORT"
for a in $NEUTRON_AGENTS; do svc_start "$a"; done
n=0
for _ in $(seq 1 240); do
  # alive and heard from since this start (not a heartbeat left in the database)
  n=$(curl -s "http://127.0.0.1:$RIG_NEUTRON_PORT/v2.0/agents" | $PY -c 'import json,sys
print(sum(a["alive"] and a["heartbeat_timestamp"] >= sys.argv[1] for a in json.load(sys.stdin)["agents"]))' "$START_UTC" 2>/dev/null || echo 0)
  [ "$n" -ge 4 ] && break; sleep 1
done
[ "$n" -ge 4 ] || { echo "only $n/4 neutron agents reported; see $LOGS/neutron-*.log" >&2; exit 1; }
step "ready: 4 neutron agents alive; neutron API http://127.0.0.1:$RIG_NEUTRON_PORT/v2.0, nova API http://127.0.0.1:$RIG_API_PORT/v2.1, vhosts $RIG_VHOST + $RIG_NEUTRON_VHOST"
