#!/bin/bash
# record.sh OUTDIR: every scenario of the nova + neutron rig (after up.sh), each as its own
# OUTDIR/NAME.{pcap,nova.tracing.json,neutron.tracing.json,meta.json} (capture.sh).
# RIG_IDLE (s, default 90) sets the idle recording; RIG_SETTLE (s, default 5) the quiet time
# recorded after each command.
set -euo pipefail
. "$(dirname "$0")/env.sh"
if [ "${1:-}" = "--agent-restart" ]; then
  # stop the OVS agent (SIGTERM, as systemctl restart does) and start it again; wait until it
  # reported in again and finished its first full sync loop
  log=$LOGS/neutron-openvswitch-agent.log
  before=$(grep -c 'Agent rpc_loop - iteration:0 completed' "$log" 2>/dev/null || true)
  bash "$NRIG/svc.sh" restart neutron-openvswitch-agent
  for _ in $(seq 1 180); do
    [ "$(grep -c 'Agent rpc_loop - iteration:0 completed' "$log" 2>/dev/null || true)" -gt "$before" ] && { echo "OVS agent resynced"; exit 0; }
    sleep 1
  done
  echo "WARNING: the restarted OVS agent did not complete its first rpc_loop" >&2
  exit 0
fi
out=${1:?record.sh OUTDIR}
IDLE=${RIG_IDLE:-90}; SETTLE=${RIG_SETTLE:-5}
T0=$(date +%s)
S="$PY $NRIG/scen.py"
cap() { echo "[record +$(( $(date +%s) - T0 ))s] $1"; bash "$NRIG/capture.sh" "$out" "$@"; }
$S setup
$S warmup
sleep 5
cap idle 0 -- sleep "$IDLE"
cap network-create "$SETTLE" -- $S network-create
cap subnet-create "$SETTLE" -- $S subnet-create
cap port-create "$SETTLE" -- $S port-create
cap port-update "$SETTLE" -- $S port-update
cap security-group-rule-create "$SETTLE" -- $S security-group-rule-create
cap router-create "$SETTLE" -- $S router-create
cap router-interface-add "$SETTLE" -- $S router-interface-add
cap floatingip-create "$SETTLE" -- $S floatingip-create
cap floatingip-delete "$SETTLE" -- $S floatingip-delete
cap router-interface-remove "$SETTLE" -- $S router-interface-remove
cap port-delete "$SETTLE" -- $S port-delete
cap server-create "$SETTLE" -- $S server-create
cap server-delete "$SETTLE" -- $S server-delete
cap network-delete "$SETTLE" -- $S network-delete
cap agent-restart "$SETTLE" -- bash "$NRIG/record.sh" --agent-restart
$S teardown
echo "[record +$(( $(date +%s) - T0 ))s] done: $out"
