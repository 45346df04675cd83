#!/usr/bin/env bash
# Installs and starts everything the tests and the demo need: Debian packages, RabbitMQ and its
# plugins, npm dependencies. Idempotent; safe to run on a machine that has them already.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*"; }

PKGS="tshark tcpdump python3-oslo.messaging python3-pika chromium rabbitmq-server iproute2 procps curl prometheus"
missing=""
for p in $PKGS; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "apt-get install:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # tshark asks whether non-root users may capture; answer no without a prompt
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -q --no-install-recommends $missing >/tmp/rpcscope-apt.log 2>&1 || { tail -30 /tmp/rpcscope-apt.log; exit 1; }
fi

if ! rabbitmqctl -q status >/dev/null 2>&1; then
  log "starting rabbitmq-server"
  rabbitmq-server -detached
fi
rabbitmqctl -q wait --timeout 120 --pid "$(pgrep -f 'beam.*rabbit' | head -1)" >/dev/null 2>&1 || rabbitmqctl -q await_startup >/dev/null
need=""
enabled=$(rabbitmq-plugins list -e -m 2>/dev/null || true)
for p in rabbitmq_management rabbitmq_tracing; do
  grep -qx "$p" <<<"$enabled" || need="$need $p"
done
if [ -n "$need" ]; then
  log "enabling RabbitMQ plugins:$need"
  rabbitmq-plugins enable $need >/dev/null
fi
for _ in $(seq 1 60); do
  curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break
  sleep 1
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi
log "ready"
