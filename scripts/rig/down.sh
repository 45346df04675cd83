#!/bin/bash
# Stop what up.sh started (by recorded pid, never by name) and drop what it created: the vhost and
# user on RabbitMQ, the databases and user on MariaDB, the state folder. Neither server is stopped.
RIG=$(cd "$(dirname "$0")" && pwd); export RIG
. "$RIG/lib/common.sh"
# in parallel: each may take its SIGTERM grace period
for f in "$RUN"/*.pid; do [ -e "$f" ] && stop_pid "$(basename "$f" .pid)" & done
wait
VQ=$(urlq "$RIG_VHOST")
for t in $(mgmt GET "/traces/$VQ" 2>/dev/null | $PY -c 'import json,sys;[print(t["name"]) for t in json.load(sys.stdin)]' 2>/dev/null); do
  mgmt DELETE "/traces/$VQ/$t" >/dev/null 2>&1 || true
  mgmt DELETE "/trace-files/$t.log" >/dev/null 2>&1 || true
done
mgmt DELETE "/vhosts/$VQ" >/dev/null 2>&1 && echo "[rig down] deleted vhost $RIG_VHOST"
mgmt DELETE "/users/$(urlq "$RIG_AMQP_USER")" >/dev/null 2>&1 && echo "[rig down] deleted user $RIG_AMQP_USER"
for d in $RIG_DBS; do mysql_root -e "DROP DATABASE IF EXISTS \`$d\`" 2>/dev/null; done
mysql_root -e "DROP USER IF EXISTS '$RIG_DB_USER'@'127.0.0.1'" 2>/dev/null
echo "[rig down] dropped databases $RIG_DBS"
rm -rf "$STATE" "$CONF" "$RUN"
exit 0
