#!/bin/bash
# Stop what up.sh started (by recorded pid, never by name) and what those processes spawned
# (privsep helpers, dnsmasq, haproxy: found by a pid file under the rig's state folder or a
# command line naming the rig's folder), remove the OVS ports/bridges (ovs-vswitchd exit --cleanup)
# and the qdhcp-/qrouter- namespaces made since up.sh, drop neutron's vhost and user, then
# scripts/rig/down.sh drops nova's vhost and user, every rig database and the state folder.
# Neither RabbitMQ nor MariaDB is stopped.
. "$(dirname "$0")/env.sh"
for f in "$RUN"/tcpdump-*.pid "$RUN"/poll-*.pid; do [ -e "$f" ] && stop_pid "$(basename "$f" .pid)"; done
# in parallel: each may take its SIGTERM grace period
for s in $NEUTRON_SERVICES; do stop_pid "$s" & done
wait
recorded=" $(cat "$RUN"/*.pid 2>/dev/null | tr '\n' ' ') "   # nova, OVS: stopped below
for f in $(find "$STATE/neutron" \( -name '*.pid' -o -name pid \) 2>/dev/null); do
  p=$(cat "$f" 2>/dev/null); [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
done
for d in /proc/[0-9]*; do
  p=${d#/proc/}; [ "$p" = $$ ] && continue
  [[ $recorded == *" $p "* ]] && continue
  c=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
  case $c in *"$RIG_VAR/"*)
    case $c in *ovsdb-server*|*ovs-vswitchd*|*rig-neutron/down.sh*) ;; *)
      echo "[nrig down] stopping helper $p: ${c:0:90}"; kill -TERM "$p" 2>/dev/null ;; esac ;;
  esac
done
if alive ovs-vswitchd; then
  # removes the userspace datapath's tap devices (br-int, br-tun, the plugged VIFs)
  ovs-appctl -t "$OVS_RUNDIR/ovs-vswitchd.ctl" exit --cleanup >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do alive ovs-vswitchd || break; sleep 0.5; done
fi
stop_pid ovs-vswitchd
stop_pid ovsdb-server
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  case $ns in qdhcp-*|qrouter-*)
    grep -qx "$ns" "$RUN/netns.before" 2>/dev/null || { ip netns delete "$ns" && echo "[nrig down] deleted netns $ns"; } ;;
  esac
done
NVQ=$(urlq "$RIG_NEUTRON_VHOST")
for t in $(mgmt GET "/traces/$NVQ" 2>/dev/null | $PY -c 'import json,sys;[print(t["name"]) for t in json.load(sys.stdin)]' 2>/dev/null); do
  mgmt DELETE "/traces/$NVQ/$t" >/dev/null 2>&1 || true
  mgmt DELETE "/trace-files/$t.log" >/dev/null 2>&1 || true
done
mgmt DELETE "/vhosts/$NVQ" >/dev/null 2>&1 && echo "[nrig down] deleted vhost $RIG_NEUTRON_VHOST"
mgmt DELETE "/users/$(urlq "$RIG_NEUTRON_AMQP_USER")" >/dev/null 2>&1 && echo "[nrig down] deleted user $RIG_NEUTRON_AMQP_USER"
bash "$RIG/down.sh"
exit 0
