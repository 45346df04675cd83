#!/bin/bash
# capture.sh OUTDIR NAME SETTLE -- COMMAND...
# Records the AMQP traffic of the rig's vhost while COMMAND runs plus SETTLE seconds, two ways:
#   OUTDIR/NAME.pcap          tcpdump -i lo 'tcp port 5672' (every connection on the port)
#   OUTDIR/NAME.tracing.json  rabbitmq_tracing log of the vhost (format json, pattern #)
#   OUTDIR/NAME.api.jsonl     the nova API calls COMMAND made, with their request ids
set -euo pipefail
RIG=$(cd "$(dirname "$0")" && pwd); export RIG
. "$RIG/lib/common.sh"
out=$1; name=$2; settle=$3; shift 3
[ "${1:-}" = "--" ] && shift
mkdir -p "$out" "$LOGS"
VQ=$(urlq "$RIG_VHOST"); TR=rpcscope-rig-$name
rm -f "$out/$name.pcap" "$out/$name.tracing.json" "$out/$name.api.jsonl"
tcpdump -Z root -i lo -s 0 -U -w "$out/$name.pcap" "tcp port $RIG_AMQP_PORT" 2> "$LOGS/tcpdump-$name.err" &
tpid=$!
cleanup() {
  kill -TERM "$tpid" 2>/dev/null || true
  mgmt DELETE "/traces/$VQ/$TR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
for _ in $(seq 1 40); do grep -q 'listening on' "$LOGS/tcpdump-$name.err" 2>/dev/null && break; sleep 0.25; done
mgmt DELETE "/traces/$VQ/$TR" >/dev/null 2>&1 || true
mgmt DELETE "/trace-files/$TR.log" >/dev/null 2>&1 || true
AMQP_PASS=$(secret amqp)
mgmt PUT "/traces/$VQ/$TR" "{\"format\":\"json\",\"pattern\":\"#\",\"tracer_connection_username\":\"$RIG_AMQP_USER\",\"tracer_connection_password\":\"$AMQP_PASS\"}" >/dev/null \
  || { echo "cannot create trace $TR (is rabbitmq_tracing enabled?)" >&2; exit 1; }
sleep 0.5
rc=0
SCEN_LOG=$out/$name.api.jsonl "$@" || rc=$?
sleep "$settle"
mgmt DELETE "/traces/$VQ/$TR" >/dev/null   # the last trace of a vhost turns its tracing off
sleep 1
kill -TERM "$tpid" 2>/dev/null || true
wait "$tpid" 2>/dev/null || true
mgmt GET "/trace-files/$TR.log" > "$out/$name.tracing.json"
mgmt DELETE "/trace-files/$TR.log" >/dev/null || true
echo "[capture] $name: $(wc -l < "$out/$name.tracing.json") tracing records, pcap $(stat -c %s "$out/$name.pcap") bytes (rc=$rc)"
exit $rc
