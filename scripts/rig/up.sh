#!/bin/bash
# Stand up a real nova control plane (Zed, Debian 12 packages) for rpcscope's tests: placement,
# nova-api, nova-conductor, nova-scheduler, nova-compute with the fake virt driver, noauth2, and an
# HTTP stub for glance/neutron (they are not on nova's message bus). Reuses the running RabbitMQ
# (own vhost/user) and MariaDB (own databases). Idempotent. About a minute once packages are in.
set -euo pipefail
RIG=$(cd "$(dirname "$0")" && pwd); export RIG
. "$RIG/lib/common.sh"
T0=$(date +%s)
step() { echo "[rig up +$(( $(date +%s) - T0 ))s] $*"; }
mkdir -p "$RUN" "$LOGS" "$STATE/nova/instances" "$STATE/nova/lock" "$CONF/placement"

for p in python3-nova python3-placement python3-pymysql mariadb-client curl; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] \
    || { echo "package $p missing: run scripts/ci-nova.sh, or apt-get install python3-nova python3-placement python3-pymysql mariadb-client" >&2; exit 1; }
done

AMQP_PASS=$(secret amqp); DB_PASS=$(secret db)
# ---- RabbitMQ: own vhost and user on the running broker
mgmt GET /overview >/dev/null || { echo "RabbitMQ management API $RIG_MGMT_URL not answering" >&2; exit 1; }
VQ=$(urlq "$RIG_VHOST")
mgmt PUT "/vhosts/$VQ" '{"tracing":false}' >/dev/null
mgmt PUT "/users/$(urlq "$RIG_AMQP_USER")" "{\"password\":\"$AMQP_PASS\",\"tags\":\"\"}" >/dev/null
mgmt PUT "/permissions/$VQ/$(urlq "$RIG_AMQP_USER")" '{"configure":".*","write":".*","read":".*"}' >/dev/null
step "vhost $RIG_VHOST, user $RIG_AMQP_USER"

# ---- MariaDB: own databases and user
mysql_root -e 'select 1' >/dev/null || { echo "MariaDB root login on $RIG_MYSQL_HOST:$RIG_MYSQL_PORT failed" >&2; exit 1; }
for d in $RIG_DBS; do mysql_root -e "CREATE DATABASE IF NOT EXISTS \`$d\` CHARACTER SET utf8"; done
mysql_root -e "CREATE USER IF NOT EXISTS '$RIG_DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS'"
mysql_root -e "ALTER USER '$RIG_DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS'"
for d in $RIG_DBS; do mysql_root -e "GRANT ALL PRIVILEGES ON \`$d\`.* TO '$RIG_DB_USER'@'127.0.0.1'"; done
step "databases $RIG_DBS"

# ---- configuration
DB="mysql+pymysql://$RIG_DB_USER:$DB_PASS@$RIG_MYSQL_HOST:$RIG_MYSQL_PORT"
TRANSPORT="rabbit://$RIG_AMQP_USER:$AMQP_PASS@127.0.0.1:$RIG_AMQP_PORT/$VQ"
SUBST="s#@STATE@#$STATE#g; s#@CONF@#$CONF#g; s#@DB@#$DB#g; s#@P@#$RIG_DB_PREFIX#g; s#@HOST@#$RIG_HOST#g;
       s#@TRANSPORT_URL@#$TRANSPORT#g; s#@API_PORT@#$RIG_API_PORT#g; s#@PLACEMENT_PORT@#$RIG_PLACEMENT_PORT#g;
       s#@GLANCE_PORT@#$RIG_GLANCE_PORT#g; s#@NEUTRON_PORT@#$RIG_NEUTRON_PORT#g"
(umask 077
 sed "$SUBST" "$RIG/etc/nova.conf" > "$CONF/nova.conf"
 # computes reach the database only through conductor RPC (nova-object indirection): no DB URLs
 grep -v '^connection = ' "$CONF/nova.conf" > "$CONF/nova-cpu.conf"
 sed "$SUBST" "$RIG/etc/placement.conf" > "$CONF/placement/placement.conf")
cp "$RIG/etc/api-paste.ini" "$CONF/api-paste.ini"
if [ "$RIG_NEUTRON" = 1 ]; then
  # a real neutron (scripts/rig-neutron/up.sh started it): its API, and VIFs plugged into br-int
  cat > "$CONF/nova-neutron.conf" <<EOC
# nova with the rig's real neutron (written by scripts/rig/up.sh, RIG_NEUTRON=1)
[DEFAULT]
compute_driver = rigplug.PlugFakeDriver
vif_plugging_is_fatal = False
vif_plugging_timeout = 60
[neutron]
auth_type = none
endpoint_override = http://127.0.0.1:$RIG_NEUTRON_PORT
service_metadata_proxy = false
EOC
fi

svc_start stubs
wait_http "http://127.0.0.1:$RIG_GLANCE_PORT/" 20
NM="$PY $RIG/svc.py nova-manage --config-file $CONF/nova.conf"
n=$(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE
      (table_schema='${RIG_DB_PREFIX}nova_api' AND table_name='cell_mappings') OR
      (table_schema='${RIG_DB_PREFIX}nova' AND table_name='instances')")
if [ "$n" != 2 ]; then
  step "nova-manage api_db sync / cells / db sync"
  $NM api_db sync > "$LOGS/db-sync.log" 2>&1
  $NM cell_v2 map_cell0 --database_connection "$DB/${RIG_DB_PREFIX}nova_cell0?charset=utf8" >> "$LOGS/db-sync.log" 2>&1 || true
  $NM cell_v2 create_cell --name cell1 >> "$LOGS/db-sync.log" 2>&1 || true
  $NM db sync >> "$LOGS/db-sync.log" 2>&1
fi

svc_start placement-api
wait_http "http://127.0.0.1:$RIG_PLACEMENT_PORT/" 60
for s in nova-conductor nova-scheduler nova-api nova-compute; do svc_start $s; done
wait_http "http://127.0.0.1:$RIG_API_PORT/" 90
step "nova-api answering"
H=(-H 'X-Auth-Token: admin:admin' -H 'Content-Type: application/json' -H 'X-OpenStack-Nova-API-Version: 2.79')
API=http://127.0.0.1:$RIG_API_PORT/v2.1
up=0
for _ in $(seq 1 120); do
  up=$(curl -s "${H[@]}" "$API/os-services?binary=nova-compute" \
      | $PY -c 'import json,sys; print(sum(s["state"]=="up" for s in json.load(sys.stdin)["services"]))' 2>/dev/null || echo 0)
  [ "$up" -ge 1 ] && break; sleep 1
done
[ "$up" -ge 1 ] || { echo "nova-compute did not report in; see $LOGS/nova-compute.log" >&2; exit 1; }
# the resource provider appears after nova-compute's first update_available_resource
for _ in $(seq 1 120); do
  curl -s -H 'X-Auth-Token: admin:admin' "http://127.0.0.1:$RIG_PLACEMENT_PORT/resource_providers" | grep -q "$RIG_HOST" && break
  sleep 1
done
$NM cell_v2 discover_hosts >> "$LOGS/db-sync.log" 2>&1
if ! curl -s "${H[@]}" "$API/flavors" | grep -q '"m1.tiny"'; then
  curl -sf "${H[@]}" -X POST "$API/flavors" -d '{"flavor":{"name":"m1.tiny","id":"1","ram":512,"vcpus":1,"disk":1}}' >/dev/null
fi
step "ready: nova-api $API, compute host $RIG_HOST, vhost $RIG_VHOST"
