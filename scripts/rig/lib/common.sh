# Settings and helpers shared by up.sh, down.sh and capture.sh of rpcscope's real-nova rig.
# Every setting can be overridden from the environment; use the same values for up, capture, down.
# The rig reuses the machine's RabbitMQ (own vhost + user, through the management API) and
# MariaDB (own databases with a prefix, root over TCP); it never stops or reconfigures either.

RIG=${RIG:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
RIG_VAR=${RIG_VAR:-/tmp/rpcscope-rig}        # run/ (pids) logs/ state/ etc/
RIG_HOST=${RIG_HOST:-rpcscope-compute-1}     # nova-compute host name (routing key compute.<host>)
RIG_AMQP_PORT=${RIG_AMQP_PORT:-5672}
RIG_MGMT_URL=${RIG_MGMT_URL:-http://127.0.0.1:15672/api}
RIG_MGMT_USER=${RIG_MGMT_USER:-guest}
RIG_MGMT_PASS=${RIG_MGMT_PASS:-guest}
RIG_VHOST=${RIG_VHOST:-rpcscope-nova-rig}
RIG_AMQP_USER=${RIG_AMQP_USER:-rpcscope-nova}
RIG_MYSQL_HOST=${RIG_MYSQL_HOST:-127.0.0.1}
RIG_MYSQL_PORT=${RIG_MYSQL_PORT:-3306}
RIG_MYSQL_ROOT_PASSWORD=${RIG_MYSQL_ROOT_PASSWORD:-}
RIG_DB_PREFIX=${RIG_DB_PREFIX:-rpcscope_rig_}
RIG_DB_USER=${RIG_DB_USER:-rpcscope_nova}
RIG_API_PORT=${RIG_API_PORT:-18774}
RIG_PLACEMENT_PORT=${RIG_PLACEMENT_PORT:-18778}
RIG_GLANCE_PORT=${RIG_GLANCE_PORT:-19292}
RIG_NEUTRON_PORT=${RIG_NEUTRON_PORT:-19696}

# RIG_NEUTRON=1: a real neutron beside nova (scripts/rig-neutron sets it): nova talks to the real
# neutron API on RIG_NEUTRON_PORT instead of the stub, and nova-compute plugs VIFs (lib/rigplug.py)
RIG_NEUTRON=${RIG_NEUTRON:-0}
RIG_NEUTRON_VHOST=${RIG_NEUTRON_VHOST:-rpcscope-neutron-rig}
RIG_NEUTRON_AMQP_USER=${RIG_NEUTRON_AMQP_USER:-rpcscope-neutron}
RIG_NEUTRON_STUB_PORT=${RIG_NEUTRON_STUB_PORT:-$((RIG_NEUTRON_PORT + 1))}   # the stub, unused then
RIG_OVSDB_PORT=${RIG_OVSDB_PORT:-16650}      # ovsdb-server of the rig's own OVS (tcp, loopback)
RIG_OF_PORT=${RIG_OF_PORT:-16653}            # the OVS agent's OpenFlow controller
RIG_META_PORT=${RIG_META_PORT:-18775}        # nova metadata (nothing listens; the agent only proxies)

PY=/usr/bin/python3     # Debian's python (nova, pika); a pyenv python3 on PATH has neither
RUN=$RIG_VAR/run; LOGS=$RIG_VAR/logs; STATE=$RIG_VAR/state; CONF=$RIG_VAR/etc
RIG_DBS="${RIG_DB_PREFIX}nova_api ${RIG_DB_PREFIX}nova ${RIG_DB_PREFIX}nova_cell0 ${RIG_DB_PREFIX}placement"
[ "$RIG_NEUTRON" = 1 ] && RIG_DBS="$RIG_DBS ${RIG_DB_PREFIX}neutron"
export RIG RIG_VAR RIG_API_PORT RIG_PLACEMENT_PORT RIG_GLANCE_PORT RIG_NEUTRON_PORT RIG_NEUTRON RIG_HOST
# the rig's own Open vSwitch: own db/run/log dirs (the machine may have none), reached over tcp
export OVS_RUNDIR=$STATE/ovs/run OVS_DBDIR=$STATE/ovs OVS_LOGDIR=$LOGS/ovs OVS_SYSCONFDIR=$STATE/ovs/etc
export RIG_OVSDB=tcp:127.0.0.1:$RIG_OVSDB_PORT   # lib/rigplug.py (nova-compute) plugs VIFs there
VSCTL="ovs-vsctl --timeout=20 --db=unix:$OVS_RUNDIR/db.sock"
export OS_PLACEMENT_CONFIG_DIR=$CONF/placement

# secrets made once per rig (never printed): AMQP and DB passwords
secret() {  # secret NAME
  mkdir -p "$STATE"
  [ -s "$STATE/$1.secret" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$STATE/$1.secret")
  cat "$STATE/$1.secret"
}
urlq() { $PY -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
mgmt() {  # mgmt METHOD PATH [JSON]: management HTTP API, fails on HTTP >= 400
  if [ -n "${3:-}" ]; then
    curl -sf -u "$RIG_MGMT_USER:$RIG_MGMT_PASS" -X "$1" -H 'content-type: application/json' -d "$3" "$RIG_MGMT_URL$2"
  else
    curl -sf -u "$RIG_MGMT_USER:$RIG_MGMT_PASS" -X "$1" "$RIG_MGMT_URL$2"
  fi
}
mysql_root() {
  mariadb --no-defaults -h"$RIG_MYSQL_HOST" -P"$RIG_MYSQL_PORT" -uroot \
    ${RIG_MYSQL_ROOT_PASSWORD:+-p"$RIG_MYSQL_ROOT_PASSWORD"} "$@"
}
alive() { [ -s "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
svc_cmd() {
  # with neutron, nova reads nova-neutron.conf after its own (real neutron API, VIF plugging)
  local nx=""; [ "$RIG_NEUTRON" = 1 ] && nx="--config-file $CONF/nova-neutron.conf"
  local nc="--config-file $CONF/neutron.conf"
  case $1 in
    stubs)          echo "env RIG_NEUTRON_PORT=$([ "$RIG_NEUTRON" = 1 ] && echo "$RIG_NEUTRON_STUB_PORT" || echo "$RIG_NEUTRON_PORT") $PY $RIG/stubs.py" ;;
    placement-api)  echo "$PY $RIG/svc.py placement-api $RIG_PLACEMENT_PORT" ;;
    nova-compute)   echo "$PY $RIG/svc.py nova-compute --config-file $CONF/nova-cpu.conf $nx --log-file $LOGS/nova-compute.log" ;;
    nova-*)         echo "$PY $RIG/svc.py $1 --config-file $CONF/nova.conf $nx --log-file $LOGS/$1.log" ;;
    neutron-server) echo "$PY $RIG/svc.py $1 $nc --config-file $CONF/ml2_conf.ini --log-file $LOGS/$1.log" ;;
    neutron-openvswitch-agent) echo "$PY $RIG/svc.py $1 $nc --config-file $CONF/openvswitch_agent.ini --log-file $LOGS/$1.log" ;;
    neutron-*-agent) local a=${1#neutron-}; a=${a%-agent}
                    echo "$PY $RIG/svc.py $1 $nc --config-file $CONF/${a}_agent.ini --log-file $LOGS/$1.log" ;;
  esac
}
svc_start() {  # start unless running; the pid goes to run/NAME.pid (down.sh stops exactly these)
  if alive "$1"; then return 0; fi
  # shellcheck disable=SC2046
  nohup $(svc_cmd "$1") >> "$LOGS/$1.out" 2>&1 &
  echo $! > "$RUN/$1.pid"
}
stop_pid() {  # SIGTERM the recorded pid, SIGKILL after 10 s
  local f=$RUN/$1.pid pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}
wait_http() {  # wait_http URL SECONDS
  for _ in $(seq 1 "$2"); do curl -s -o /dev/null "$1" && return 0; sleep 1; done
  echo "timeout waiting for $1" >&2; return 1
}

# ---- shared by scripts/rig-neutron and the CI steps
need_packages() {  # need_packages PKG...: apt-get install the missing ones, daemons not started
  local missing="" p rc=0 created_policy=0
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "[rig] apt-get install:$missing"
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1; fi
  # shellcheck disable=SC2086
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing; } \
    > /tmp/rpcscope-rig-apt.log 2>&1 || rc=$?
  [ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail -30 /tmp/rpcscope-rig-apt.log >&2; return 1; }
}
ensure_mariadb() {  # the machine's MariaDB on RIG_MYSQL_HOST:PORT; start it when installed but down
  mysql_root -e 'select 1' >/dev/null 2>&1 && return 0
  echo "[rig] starting MariaDB"
  mkdir -p /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null 2>&1 || true
  (mariadbd-safe --bind-address=127.0.0.1 >/dev/null 2>&1 || mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1) &
  for _ in $(seq 1 60); do mysql_root -e 'select 1' >/dev/null 2>&1 && return 0; sleep 1; done
  echo "MariaDB did not come up on $RIG_MYSQL_HOST:$RIG_MYSQL_PORT" >&2; return 1
}
