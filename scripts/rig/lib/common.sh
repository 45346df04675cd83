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

PY=/usr/bin/python3     # Debian's python (nova, pika); a pyenv python3 on PATH has neither
RUN=$RIG_VAR/run; LOGS=$RIG_VAR/logs; STATE=$RIG_VAR/state; CONF=$RIG_VAR/etc
RIG_DBS="${RIG_DB_PREFIX}nova_api ${RIG_DB_PREFIX}nova ${RIG_DB_PREFIX}nova_cell0 ${RIG_DB_PREFIX}placement"
export RIG RIG_VAR RIG_API_PORT RIG_PLACEMENT_PORT RIG_GLANCE_PORT RIG_NEUTRON_PORT
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
  case $1 in
    stubs)          echo "$PY $RIG/stubs.py" ;;
    placement-api)  echo "$PY $RIG/svc.py placement-api $RIG_PLACEMENT_PORT" ;;
    nova-compute)   echo "$PY $RIG/svc.py nova-compute --config-file $CONF/nova-cpu.conf --log-file $LOGS/nova-compute.log" ;;
    nova-*)         echo "$PY $RIG/svc.py $1 --config-file $CONF/nova.conf --log-file $LOGS/$1.log" ;;
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
