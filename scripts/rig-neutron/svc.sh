#!/bin/bash
# svc.sh stop|start|restart|status NAME: one rig process by its recorded pid (never by name)
. "$(dirname "$0")/env.sh"
case $1 in
  stop) stop_pid "$2" ;;
  start) svc_start "$2" ;;
  restart) stop_pid "$2"; svc_start "$2" ;;
  status) if alive "$2"; then echo "$2 running pid $(cat "$RUN/$2.pid")"; else echo "$2 not running"; fi ;;
  *) echo "usage: svc.sh stop|start|restart|status NAME" >&2; exit 2 ;;
esac
