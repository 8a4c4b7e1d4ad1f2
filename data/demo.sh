#!/bin/bash
# SPDX-License-Identifier: MIT
# demo.sh PDYNDNS PDYNCTL DATADIR: runs PowerDNS on 127.0.0.1:$DEMO_PORT (default 5300) with
# pdyndns answering from a copy of DATADIR/config.json and its lists, prints commands to try,
# and stops everything on Ctrl-C (SIGINT) or SIGTERM. tests/demo.sh runs every command it
# prints, exactly as printed: keep the two in step.
set -u
pdyndns=$1 pdynctl=$2 data=$3
port=${DEMO_PORT:-5300}
if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || [ "$port" -gt 65535 ]; then
    echo "demo: DEMO_PORT=$port is not a port number (1-65535); nothing started" >&2
    exit 2
fi
pdns=$(command -v pdns_server || echo /usr/sbin/pdns_server)
[ -x "$pdns" ] || { echo "demo: pdns_server not found (run ./autogen.sh --deps)" >&2; exit 1; }
for p in "$pdyndns" "$pdynctl"; do
    [ -x "$p" ] || { echo "demo: $p not built (run make demo)" >&2; exit 1; }
done
case "$pdyndns$data" in *' '*) echo "demo: paths must not contain spaces (PowerDNS splits pipe-command on spaces)" >&2; exit 1 ;; esac

dir=$(mktemp -d /tmp/pdyndns-demo.XXXXXX)
pid=
# Stops pdns_server, then waits (bounded) for the pdyndns copies it started: they exit on
# EOF of their pipe, so nothing is left running when the demo returns.
cleanup() {
    local kids k i
    trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kids=$(pgrep -P "$pid" 2>/dev/null || true)
        kill "$pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        for k in $kids; do
            for ((i = 0; i < 30; i++)); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$k" 2>/dev/null
        done
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'trap "" INT TERM; echo; echo "demo: stopped"; exit 0' INT TERM

# Serve a copy, so that live edits during the demo leave data/ as it is.
mkdir "$dir/data"
cp "$data"/config.json "$data"/*.txt "$dir/data/"
src=$data
data=$dir/data
"$pdyndns" --check --config "$data/config.json" || { echo "demo: the sample config does not validate" >&2; exit 1; }

# data/pdns.conf holds what PowerDNS needs for pdyndns; add what the demo needs to run
# unprivileged on loopback. Later lines win. The copies' control sockets go to a private
# directory (also as root), so that pdynctl sees the demo's copies and no others.
ctl=$dir/ctl
sed "s|^pipe-command=.*|pipe-command=$pdyndns --config $data/config.json --control-dir $ctl|" \
    "$src/pdns.conf" > "$dir/pdns.conf"
cat >> "$dir/pdns.conf" <<CONF
local-address=127.0.0.1
local-port=$port
socket-dir=$dir
daemon=no
guardian=no
disable-syslog=yes
security-poll-suffix=
CONF

"$pdns" --config-dir="$dir" > "$dir/pdns.log" 2>&1 &
pid=$!
ready=
for ((i = 0; i < 100; i++)); do
    [ -n "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" dyn.example.test SOA 2>/dev/null)" ] && { ready=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$ready" ]; then
    cat "$dir/pdns.log" >&2
    echo "demo: PowerDNS did not answer on 127.0.0.1:$port (port taken? DEMO_PORT=N picks another); stopped" >&2
    exit 1
fi

cat <<MSG

PowerDNS is answering from $data/config.json on 127.0.0.1:$port (pdns pid $pid).
Another port: DEMO_PORT=5301 make demo
Try, in another terminal:

  dig @127.0.0.1 -p $port www.dyn.example.test A +short          # repeat: 192.0.2.10, .11, .12, .10, ...
  dig @127.0.0.1 -p $port www.dyn.example.test AAAA +short
  dig @127.0.0.1 -p $port probe.atlas.dyn.example.test A +short
  dig @127.0.0.1 -p $port dyn.example.test SOA
  dig @127.0.0.1 -p $port dyn.example.test NS +short
  dig @127.0.0.1 -p $port nothing.dyn.example.test A             # NXDOMAIN
  dig @127.0.0.1 -p $port www.dyn.example.test TXT               # NOERROR, no data
  dig @127.0.0.1 -p $port dyn.example.test AXFR
  $pdynctl --dir $ctl status                   # rotation state of each copy
  $pdynctl --dir $ctl query www.dyn.example.test A   # what would be answered, no rotation
  echo 198.51.100.99 >> $data/targets-v4.txt   # edit a list: repeat the probe.atlas dig to see it served

PowerDNS runs its default 3 threads here, a copy of pdyndns each; the copies share one
rotation, so the answers come in turn whichever thread answers.
The PowerDNS log is in $dir/pdns.log. Press Ctrl-C to stop.
MSG
wait "$pid"
echo "demo: pdns_server exited; its log:" >&2
cat "$dir/pdns.log" >&2
exit 1
