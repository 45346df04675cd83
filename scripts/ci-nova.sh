#!/usr/bin/env bash
# CI step: a real nova (Zed, Debian 12 packages, fake virt driver) on this machine's RabbitMQ and
# MariaDB; server create / stop / start / reboot / delete and a 3-server create (one request,
# min_count 3) while rpcscope's inputs are captured (tcpdump pcap + rabbitmq_tracing log per
# scenario); then `rpcscope spec` over the captures and test/e2e/nova-spec.test.ts checks the spec
# against what nova's source does, and src/emulate/nova-conductor.test.ts runs 5 emulated
# nova-computes against the rig's real nova-conductor. Cleans up after itself (rig processes, vhost, user, databases).
#
#   scripts/ci-nova.sh [--keep DIR]     keep the captures and the spec (md, json, html) in DIR
#   RIG_RECORD=1 scripts/ci-nova.sh     also copy boot-3 and reboot into test/fixtures/nova-rig
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
T0=$(date +%s)
log() { echo "[ci-nova +$(( $(date +%s) - T0 ))s] $*"; }
keep=""
[ "${1:-}" = "--keep" ] && keep=${2:?--keep DIR}

# ---- packages (about 3-5 min on a bare machine; nothing when present)
PKGS="python3-nova python3-placement python3-pymysql mariadb-client tcpdump curl"
missing=""
for p in $PKGS; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "apt-get install:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # keep maintainer scripts from starting daemons; remove only a policy file we created
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1; fi
  rc=0
  { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } > /tmp/rpcscope-ci-nova-apt.log 2>&1 || rc=$?
  [ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail -30 /tmp/rpcscope-ci-nova-apt.log; exit 1; }
fi
# MariaDB: the machine's server on 127.0.0.1:3306 (root, empty password); start it if installed but down
if ! mariadb --no-defaults -h127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1; then
  if command -v mariadbd-safe >/dev/null || command -v mysqld_safe >/dev/null; then
    log "starting MariaDB"
    (mariadbd-safe --bind-address=127.0.0.1 >/dev/null 2>&1 || mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1) &
    for _ in $(seq 1 60); do mariadb --no-defaults -h127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
# rabbitmq_tracing records the vhost's messages (enabled by scripts/setup.sh)
curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null \
  || { echo "RabbitMQ management API not answering: run scripts/setup.sh" >&2; exit 1; }

export RIG_VAR=${RIG_VAR:-/tmp/rpcscope-rig-ci-$$}
OUT=${keep:-$RIG_VAR/captures}
mkdir -p "$OUT"
cleanup() {
  log "rig down"
  bash scripts/rig/down.sh || true
  [ -n "$keep" ] || rm -rf "$RIG_VAR"
}
trap cleanup EXIT

log "rig up"
bash scripts/rig/up.sh
log "rig ready"

PY=/usr/bin/python3
SCEN="$PY scripts/rig/scen.py"
SETTLE=${RIG_SETTLE:-3}
cap() { bash scripts/rig/capture.sh "$OUT" "$@"; }
cap boot "$SETTLE" -- $SCEN boot vm1
cap stop "$SETTLE" -- $SCEN stop vm1
cap start "$SETTLE" -- $SCEN start vm1
cap reboot "$SETTLE" -- $SCEN reboot vm1
cap delete "$SETTLE" -- $SCEN delete vm1
cap boot-3 "$SETTLE" -- $SCEN boot multi 3
cap delete-3 "$SETTLE" -- $SCEN delete multi
log "scenarios captured in $OUT"

TR=()
for s in boot stop start reboot delete boot-3 delete-3; do TR+=("$OUT/$s.tracing.json"); done
npx tsx src/cli/main.ts spec "${TR[@]}" --format json -o "$OUT/spec.json"
npx tsx src/cli/main.ts spec "${TR[@]}" --format md -o "$OUT/spec.md"
npx tsx src/cli/main.ts spec "${TR[@]}" --format html -o "$OUT/spec.html"
# the same scenarios from the wire: the pcap of the 3-server create must give the same operation
npx tsx src/cli/main.ts spec "$OUT/boot-3.pcap" --format json -o "$OUT/spec-boot-3-pcap.json"
log "spec written"

RPCSCOPE_NOVA_CAPTURES=$OUT node --import tsx --test --test-reporter=spec test/e2e/nova-spec.test.ts
# emulated nova-computes against this rig's real nova-conductor: 5 computes listed up by nova-api
RPCSCOPE_NOVA_RIG=$RIG_VAR node --import tsx --test --test-reporter=spec src/emulate/nova-conductor.test.ts

if [ "${RIG_RECORD:-0}" = 1 ]; then
  for s in boot-3 reboot; do cp "$OUT/$s.tracing.json" "$OUT/$s.api.jsonl" "$ROOT/test/fixtures/nova-rig/"; done
  log "recorded boot-3 and reboot into test/fixtures/nova-rig"
fi
log "done"
