#!/bin/bash
# capture.sh OUTDIR NAME SETTLE -- COMMAND...
# Records the rig's AMQP traffic, both vhosts, while COMMAND runs plus SETTLE seconds:
#   OUTDIR/NAME.pcap                  tcpdump -i lo 'tcp port 5672', only the rig's connections
#                                     (pcapfilter.py: the broker is shared with other clients)
#   OUTDIR/NAME.<vhost>.tracing.json  rabbitmq_tracing log (the firehose, JSON lines) per vhost
#   OUTDIR/NAME.meta.json             times, command, exit status, the REST calls COMMAND made
#                                     (with request ids) and management-API snapshots of both
#                                     vhosts at start and end (snapshot.py)
set -euo pipefail
. "$(dirname "$0")/env.sh"
out=$1; name=$2; settle=$3; shift 3
[ "${1:-}" = "--" ] && shift
mkdir -p "$out" "$LOGS" "$RUN"
tmp=$RIG_VAR/capture-tmp; mkdir -p "$tmp"
VHOSTS=("$RIG_VHOST" "$RIG_NEUTRON_VHOST")
declare -A TUSER=(["$RIG_VHOST"]=$RIG_AMQP_USER ["$RIG_NEUTRON_VHOST"]=$RIG_NEUTRON_AMQP_USER)
declare -A TPASS=(["$RIG_VHOST"]=$(secret amqp) ["$RIG_NEUTRON_VHOST"]=$(secret amqp-neutron))
TR=rpcscope-nrig-$name
rm -f "$out/$name".* "$tmp/$name".*
now() { date +%s.%N; }
cleanup() {
  stop_pid "tcpdump-$name"; stop_pid "poll-$name"
  for v in "${VHOSTS[@]}"; do mgmt DELETE "/traces/$(urlq "$v")/$TR-$v" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

tcpdump -Z root -i lo -s 0 -U -w "$tmp/$name.raw.pcap" "tcp port $RIG_AMQP_PORT" 2> "$LOGS/tcpdump-$name.err" &
echo $! > "$RUN/tcpdump-$name.pid"
# the client ports of the rig's connections, polled (pcapfilter.py keeps exactly those)
( while :; do
    mgmt GET "/connections?columns=peer_port,vhost" 2>/dev/null | $PY -c 'import json,sys
vs=set(sys.argv[1:]); [print(c["peer_port"]) for c in json.load(sys.stdin) if c.get("vhost") in vs]' "${VHOSTS[@]}" \
      >> "$tmp/$name.ports" 2>/dev/null || true
    sleep 1
  done ) &
echo $! > "$RUN/poll-$name.pid"
for _ in $(seq 1 40); do grep -q 'listening on' "$LOGS/tcpdump-$name.err" 2>/dev/null && break; sleep 0.25; done
for v in "${VHOSTS[@]}"; do
  VQ=$(urlq "$v")
  mgmt DELETE "/traces/$VQ/$TR-$v" >/dev/null 2>&1 || true
  mgmt DELETE "/trace-files/$TR-$v.log" >/dev/null 2>&1 || true
  mgmt PUT "/traces/$VQ/$TR-$v" "{\"format\":\"json\",\"pattern\":\"#\",\"tracer_connection_username\":\"${TUSER[$v]}\",\"tracer_connection_password\":\"${TPASS[$v]}\"}" >/dev/null \
    || { echo "cannot create trace $TR in $v (is rabbitmq_tracing enabled?)" >&2; exit 1; }
done
$PY "$NRIG/snapshot.py" "${VHOSTS[@]}" > "$tmp/$name.snap-start.json"
sleep 0.5
t_start=$(now)
rc=0
SCEN_LOG=$tmp/$name.api.jsonl "$@" || rc=$?
t_done=$(now)
sleep "$settle"
$PY "$NRIG/snapshot.py" "${VHOSTS[@]}" > "$tmp/$name.snap-end.json"
t_end=$(now)
# deleting a vhost's last trace turns its tracing off
for v in "${VHOSTS[@]}"; do mgmt DELETE "/traces/$(urlq "$v")/$TR-$v" >/dev/null; done
sleep 1
stop_pid "tcpdump-$name"; stop_pid "poll-$name"
for v in "${VHOSTS[@]}"; do
  # the tracing plugin names a trace's file after the trace (one folder for all vhosts)
  mgmt GET "/trace-files/$TR-$v.log" > "$out/$name.$v.tracing.json"
  mgmt DELETE "/trace-files/$TR-$v.log" >/dev/null 2>&1 || true
done
$PY "$NRIG/pcapfilter.py" "$tmp/$name.raw.pcap" "$out/$name.pcap" "$tmp/$name.ports" "${VHOSTS[@]}"
touch "$tmp/$name.api.jsonl"
$PY - "$out" "$name" "$tmp" "$rc" "$t_start" "$t_done" "$t_end" "$*" "${VHOSTS[@]}" <<'PYEOF'
import json, subprocess, sys
out, name, tmp, rc, t0, t1, t2, cmd = sys.argv[1:9]
vhosts = sys.argv[9:]
def ver(p):
    return subprocess.run(['dpkg-query', '-W', '-f=${Version}', p], capture_output=True, text=True).stdout
meta = {
    'scenario': name, 'command': cmd, 'rc': int(rc),
    'start': float(t0), 'command_done': float(t1), 'end': float(t2),
    'vhosts': vhosts, 'amqp_port': 5672,
    'versions': {p: ver(p) for p in ('python3-nova', 'python3-neutron', 'python3-oslo.messaging',
                                      'openvswitch-switch', 'rabbitmq-server')},
    'api_calls': [json.loads(l) for l in open('%s/%s.api.jsonl' % (tmp, name)) if l.strip()],
    'snapshot_start': json.load(open('%s/%s.snap-start.json' % (tmp, name))),
    'snapshot_end': json.load(open('%s/%s.snap-end.json' % (tmp, name))),
}
json.dump(meta, open('%s/%s.meta.json' % (out, name), 'w'), sort_keys=True, separators=(',', ':'))
PYEOF
rm -f "$tmp/$name".*
echo "[capture] $name: pcap $(stat -c %s "$out/$name.pcap") B, tracing $(for v in "${VHOSTS[@]}"; do echo -n "$v $(wc -l < "$out/$name.$v.tracing.json") "; done)records (rc=$rc)"
exit $rc
