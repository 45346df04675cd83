#!/usr/bin/env bash
# Installs and starts everything the tests and the demo need on Debian 12: Debian packages,
# RabbitMQ with the management and tracing plugins (127.0.0.1:5672, :15672), MariaDB for the
# real-nova step (127.0.0.1:3306, root without a password over TCP, as scripts/rig expects), npm
# dependencies. Idempotent: what is installed is not reinstalled, what runs is reused, not restarted.
# Works without systemd (containers, CI): daemons are started directly when systemd is not PID 1.
#
#   RIG_MYSQL_ROOT_PASSWORD=...  use this root password for MariaDB instead of the empty one
#                                (then the root account is left as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*"; }
die() { echo "[setup] $*" >&2; exit 1; }
systemd=0; [ -d /run/systemd/system ] && systemd=1

# ---- Debian packages
PKGS="tshark tcpdump python3-oslo.messaging python3-pika chromium rabbitmq-server mariadb-server mariadb-client iproute2 procps curl prometheus zsh"
missing=""
for p in $PKGS; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "apt-get install:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  # Keep maintainer scripts from starting daemons: they are started below, the same way on every
  # machine. Only a policy file created here is removed.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  rc=0
  { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } >/tmp/rpcscope-apt.log 2>&1 || rc=$?
  [ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail -30 /tmp/rpcscope-apt.log; die "apt-get install failed (log: /tmp/rpcscope-apt.log)"; }
fi

# ---- RabbitMQ: the machine's broker, started when down
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  log "starting rabbitmq-server"
  if [ $systemd = 1 ]; then systemctl start rabbitmq-server; else rabbitmq-server -detached; fi
fi
# `await_startup` fails at once while the node is not yet reachable: retry until it answers
up=0
for _ in $(seq 1 120); do
  rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1 && { up=1; break; }
  sleep 1
done
[ $up = 1 ] || die "RabbitMQ did not start (see /var/log/rabbitmq/)"
need=""
enabled=$(rabbitmq-plugins list -e -m 2>/dev/null || true)
for p in rabbitmq_management rabbitmq_tracing; do
  grep -qx "$p" <<<"$enabled" || need="$need $p"
done
if [ -n "$need" ]; then
  log "enabling RabbitMQ plugins:$need"
  rabbitmq-plugins enable $need >/dev/null
fi
up=0
for _ in $(seq 1 60); do
  curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && { up=1; break; }
  sleep 1
done
[ $up = 1 ] || die "the RabbitMQ management API does not answer on 127.0.0.1:15672"

# ---- MariaDB: the machine's server on 127.0.0.1:3306 (scripts/ci-nova.sh, scripts/rig), reused
# when it answers; otherwise started bound to 127.0.0.1 only.
MYSQL_PW=${RIG_MYSQL_ROOT_PASSWORD:-}
db_tcp() { mariadb --no-defaults -h127.0.0.1 -P3306 -uroot ${MYSQL_PW:+-p"$MYSQL_PW"} "$@"; }
db_socket() { mariadb --no-defaults -uroot --socket=/run/mysqld/mysqld.sock "$@"; }
db_alive() { mariadb-admin --no-defaults --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1 \
  || mariadb-admin --no-defaults -h127.0.0.1 -P3306 ping >/dev/null 2>&1; }
if ! db_tcp -e 'select 1' >/dev/null 2>&1; then
  if ! db_alive; then
    log "starting MariaDB on 127.0.0.1:3306"
    install -d -o mysql -g mysql /run/mysqld
    if [ ! -d /var/lib/mysql/mysql ]; then
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/tmp/rpcscope-mariadb-install.log 2>&1 \
        || { tail -20 /tmp/rpcscope-mariadb-install.log; die "mariadb-install-db failed"; }
    fi
    if [ $systemd = 1 ]; then
      systemctl start mariadb
    else
      # skip-name-resolve: a TCP login from 127.0.0.1 is root@127.0.0.1 (below), never matched
      # to root@localhost, which Debian keeps for unix-socket logins of the system's root
      safe=$(command -v mariadbd-safe || command -v mysqld_safe) || die "mariadbd-safe not found (mariadb-server)"
      setsid "$safe" --bind-address=127.0.0.1 --port=3306 --skip-name-resolve \
        --socket=/run/mysqld/mysqld.sock </dev/null >/dev/null 2>&1 &
    fi
    up=0
    for _ in $(seq 1 60); do db_alive && { up=1; break; }; sleep 1; done
    [ $up = 1 ] || die "MariaDB did not start (see /var/log/mysql/error.log or the data directory's .err file)"
  fi
  if ! db_tcp -e 'select 1' >/dev/null 2>&1; then
    [ -z "$MYSQL_PW" ] || die "MariaDB refuses root with RIG_MYSQL_ROOT_PASSWORD on 127.0.0.1:3306"
    # a fresh Debian install lets root in over the unix socket only: add the TCP account the rig uses
    log "MariaDB: root@127.0.0.1 without a password (the server listens on 127.0.0.1 only)"
    db_socket -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES" \
      || die "cannot reach MariaDB over its unix socket as root to add root@127.0.0.1"
    db_tcp -e 'select 1' >/dev/null 2>&1 \
      || die "MariaDB still refuses root@127.0.0.1 over TCP (name resolution maps 127.0.0.1 to localhost: set skip-name-resolve, or set RIG_MYSQL_ROOT_PASSWORD)"
  fi
fi

# ---- npm
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi
log "ready: RabbitMQ 127.0.0.1:5672 (management :15672, tracing), MariaDB 127.0.0.1:3306"
