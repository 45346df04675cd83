#!/usr/bin/env bash
# CI step: a real nova + neutron (Zed, Debian 12 packages) on this machine's RabbitMQ (vhosts nova
# and neutron) and MariaDB: neutron-server ML2/openvswitch, the OVS agent on OVS's userspace netdev
# datapath, DHCP, L3 and metadata agents, nova booting servers on a neutron network with its VIFs
# plugged into br-int (scripts/rig-neutron). Records every neutron scenario (idle, network / subnet /
# port create, update, delete, router, security group rule, floating IP, server create / delete on a
# network, OVS agent restart) as pcap + per-vhost tracing log + management snapshots, then
# test/e2e/neutron-rig.test.ts checks the captures and that the real neutron-server registers
# emulated OVS agents (bench/neutron-server.bench.ts at CI size). Installs what is missing; cleans up everything
# it started (processes, OVS bridges and folders, namespaces, vhosts, users, databases).
#
#   scripts/ci-neutron.sh [--keep DIR]        keep the captures in DIR
#   RIG_RECORD=1 scripts/ci-neutron.sh        also copy the captures into test/fixtures/neutron-rig
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
T0=$(date +%s)
log() { echo "[ci-neutron +$(( $(date +%s) - T0 ))s] $*"; }
keep=""
[ "${1:-}" = "--keep" ] && keep=${2:?--keep DIR}

export RIG_VAR=${RIG_VAR:-/tmp/rpcscope-nrig-ci-$$}
OUT=${keep:-$RIG_VAR/captures}
mkdir -p "$OUT"
cleanup() {
  log "rig down"
  bash scripts/rig-neutron/down.sh || true
  [ -n "$keep" ] || rm -rf "$RIG_VAR"
}
trap cleanup EXIT

# rabbitmq_tracing records each vhost's messages (enabled by scripts/setup.sh)
curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null \
  || { echo "RabbitMQ management API not answering: run scripts/setup.sh" >&2; exit 1; }

log "rig up (installs missing packages, starts MariaDB if down)"
bash scripts/rig-neutron/up.sh
log "rig ready"
RIG_IDLE=${RIG_IDLE:-60} bash scripts/rig-neutron/record.sh "$OUT"
log "scenarios recorded in $OUT"

# the rig still up: the captures' checks, plus 5 emulated OVS agents registering with the real
# neutron-server (report_state) and shown alive by its agents API, then deleted (~15 s)
RPCSCOPE_NEUTRON_CAPTURES=$OUT RPCSCOPE_NEUTRON_RIG_API=http://127.0.0.1:${RIG_NEUTRON_PORT:-29696}/v2.0 \
  node --import tsx --test --test-reporter=spec test/e2e/neutron-rig.test.ts
# spec and service naming on captures rpcscope has never seen: every neutron operation found and
# named, every agent named, report counts equal tshark's
RPCSCOPE_NEUTRON_CAPTURES=$OUT node --import tsx --test --test-reporter=spec test/e2e/neutron-spec.test.ts

if [ "${RIG_RECORD:-0}" = 1 ]; then
  cp "$OUT"/*.pcap "$OUT"/*.tracing.json "$OUT"/*.meta.json "$ROOT/test/fixtures/neutron-rig/"
  log "recorded into test/fixtures/neutron-rig"
fi
log "done"
