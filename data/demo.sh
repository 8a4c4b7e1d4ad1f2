#!/bin/bash
# SPDX-License-Identifier: MIT
# demo.sh PDYNDNS DATADIR: runs PowerDNS on 127.0.0.1:5300 with pdyndns answering from a
# copy of DATADIR/config.json and its lists, prints commands to try, and stops everything
# on Ctrl-C.
set -u
pdyndns=$1 data=$2
port=${DEMO_PORT:-5300}
pdynctl=$(cd "$(dirname "$pdyndns")/../ctl" && pwd)/pdynctl
pdns=$(command -v pdns_server || echo /usr/sbin/pdns_server)
[ -x "$pdns" ] || { echo "demo: pdns_server not found (run ./autogen.sh --deps)" >&2; exit 1; }
case "$pdyndns$data" in *' '*) echo "demo: paths must not contain spaces (PowerDNS splits pipe-command on spaces)" >&2; exit 1 ;; esac

dir=$(mktemp -d /tmp/pdyndns-demo.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Serve a copy, so that live edits during the demo leave data/ as it is.
mkdir "$dir/data"
cp "$data"/config.json "$data"/*.txt "$dir/data/"
src=$data
data=$dir/data
"$pdyndns" --check --config "$data/config.json" || { echo "demo: the sample config does not validate" >&2; exit 1; }

# data/pdns.conf holds what PowerDNS needs for pdyndns; add what the demo needs to run
# unprivileged on loopback. Later lines win.
sed "s|^pipe-command=.*|pipe-command=$pdyndns --config $data/config.json|" "$src/pdns.conf" > "$dir/pdns.conf"
[ "$(id -u)" = 0 ] || sed -i "s|^pipe-command=.*|& --control-dir $dir/ctl|" "$dir/pdns.conf"
cat >> "$dir/pdns.conf" <<CONF
local-address=127.0.0.1
local-port=$port
socket-dir=$dir
daemon=no
guardian=no
disable-syslog=yes
security-poll-suffix=
distributor-threads=1
CONF

"$pdns" --config-dir="$dir" > "$dir/pdns.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" dyn.example.test SOA >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/pdns.log" >&2; echo "demo: pdns_server did not start" >&2; exit 1; }
    sleep 0.1
done

cat <<MSG

PowerDNS is answering from $data/config.json on 127.0.0.1:$port (pdns pid $pid).
Try, in another terminal:

  dig @127.0.0.1 -p $port www.dyn.example.test A +short          # repeat: 192.0.2.10, .11, .12, .10, ...
  dig @127.0.0.1 -p $port www.dyn.example.test AAAA +short
  dig @127.0.0.1 -p $port probe.atlas.dyn.example.test A +short
  dig @127.0.0.1 -p $port dyn.example.test SOA
  dig @127.0.0.1 -p $port dyn.example.test NS +short
  dig @127.0.0.1 -p $port nothing.dyn.example.test A             # NXDOMAIN
  dig @127.0.0.1 -p $port www.dyn.example.test TXT               # NOERROR, no data
  dig @127.0.0.1 -p $port dyn.example.test AXFR
  $pdynctl status                                # rotation state of each copy
  $pdynctl query www.dyn.example.test A          # what would be answered, no rotation
  echo 198.51.100.99 >> $data/targets-v4.txt     # a live update, picked up at once

distributor-threads=1 here: one UDP coprocess, so rotation is visible per question.
(Not as root? Add --dir $dir/ctl to the pdynctl commands.)
The PowerDNS log is in $dir/pdns.log. Press Ctrl-C to stop.
MSG
wait "$pid"
echo "demo: pdns_server exited; its log:" >&2
cat "$dir/pdns.log" >&2
