#!/bin/bash
# SPDX-License-Identifier: MIT
# Socket activation and sd_notify without PID 1: systemd-socket-activate passes listening
# sockets named "pipe" and "control" and starts pdyndns at the first connection; pdynctl
# works through the control one; a datagram socket standing
# in for systemd's NOTIFY_SOCKET records what pdyndns says: READY=1 with STATUS= once serving,
# RELOADING=1 then READY=1 around a reload (STATUS= naming the failure when it fails), and
# STOPPING=1 at SIGTERM. The control socket from systemd renamed away is warned about once
# and not made again (systemd's to make). A coprocess (no --listen) says nothing even with
# NOTIFY_SOCKET set.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
. "$top/tests/procs.sh"
command -v systemd-socket-activate >/dev/null || { echo "SKIP: systemd-socket-activate not installed"; exit 77; }
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match
tmp=$(mktemp -d) pids=()
trap 'for p in "${pids[@]}"; do stop_pid "$p"; done; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

printf '10.0.0.1\n10.0.0.2\n' > v4.txt
cat > config.json <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"}]}
JSON

# the recorder: one line per datagram, newlines inside shown as '|'
python3 - "$tmp/notify.sock" "$tmp/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(0.5)
end = time.monotonic() + 60
with open(sys.argv[2], "a", buffering=1) as f:
    while time.monotonic() < end:
        try:
            f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
        except socket.timeout:
            pass
PY
pids+=($!)
for _ in $(seq 50); do [ -S notify.sock ] && break; sleep 0.1; done

mkdir sockets
systemd-socket-activate -l "$tmp/pipe.sock" -l "$tmp/sockets/pdyndns.control.sock" --fdname=pipe:control \
    -E NOTIFY_SOCKET="$tmp/notify.sock" \
    "$PDYNDNS" --config config.json --control-dir "$tmp/ctl" 2> daemon.log &
dpid=$!
pids+=("$dpid")
for _ in $(seq 50); do [ -S pipe.sock ] && break; sleep 0.1; done
ask() { # HELO and one question on a new connection; prints the answer's address
    python3 - "$tmp/pipe.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); f = s.makefile("rw")
f.write("HELO\t2\nQ\tt1.dyn.example.test\tIN\tA\t1\t127.0.0.1\t127.0.0.1\n"); f.flush()
lines = [f.readline().rstrip("\n") for _ in range(3)]
print(lines[1].split("\t")[-1] if lines[0].startswith("OK") and lines[2] == "END" else "bad: %r" % lines)
PY
}
expect_eq "activated socket: first answer" "10.0.0.1" "$(ask)"
expect_eq "activated socket: second connection, shared rotation" "10.0.0.2" "$(ask)"
grep -q "serving the pipe protocol on a socket from systemd" daemon.log && ok ||
    fail "the daemon did not take the passed socket: $(cat daemon.log)"
# the control socket from systemd, under the name units/pdyndns-control.socket gives it
out=$("$PDYNCTL" --dir "$tmp/sockets" status 2>&1); rc=$?
expect_eq "pdynctl on the control socket from systemd: exit status" 0 $rc
[[ $out == *"t1.dyn.example.test"* ]] && ok || fail "pdynctl status through the passed socket: $out"
[ -z "$(ls "$tmp/ctl" 2>/dev/null)" ] && ok || fail "a control socket of its own besides systemd's: $(ls "$tmp/ctl")"
# that socket's name carries no pid: pdynctl takes it from the reply
for cmd in reload list "query t1.dyn.example.test A"; do
    # shellcheck disable=SC2086
    out=$("$PDYNCTL" --dir "$tmp/sockets" $cmd 2>&1)
    expect_match "pdynctl $cmd on the socket from systemd names the daemon's pid" "^(pid )?$dpid[: ]" "$out"
done
wait_for() { for _ in $(seq 50); do grep -q "$1" notify.log 2>/dev/null && return 0; sleep 0.1; done; return 1; }
wait_for '^READY=1|STATUS=pdyndns .*generation 1' && ok || fail "no READY=1 with STATUS: $(cat notify.log)"

printf '10.0.0.3\n' > v4.new; mv v4.new v4.txt
wait_for 'generation 2' && ok || fail "no STATUS with generation 2 after a change: $(cat notify.log)"
expect_eq "a reload: RELOADING=1, then READY=1" "RELOADING=1 READY=1" \
    "$(grep -o '^RELOADING=1\|^READY=1' notify.log | tail -n +2 | head -2 | tr '\n' ' ' | sed 's/ $//')"
echo '{"domain": ' > config.json
wait_for 'STATUS=reload failed: .*config.json' && ok || fail "no failure STATUS: $(cat notify.log)"

# systemd's control socket renamed away: said once, and nothing made in its place (the name
# is systemd's); put back before the stop, which leaves it as it is
mv sockets/pdyndns.control.sock sockets/away.sock
lost='warning: control: '"$tmp"'/sockets/pdyndns\.control\.sock, the socket systemd passed, was removed or replaced'
for _ in $(seq 100); do grep -q "$lost" daemon.log && break; sleep 0.1; done
sleep 2.5 # one check more (every 2 s): nothing more is said
expect_eq "systemd's control socket lost: one warning" 1 "$(grep -c "$lost" daemon.log)"
expect_eq "systemd's control socket lost: nothing made in its place" "away.sock" "$(ls sockets)"
[ -z "$(ls "$tmp/ctl" 2>/dev/null)" ] && ok || fail "a control socket of its own after systemd's was lost: $(ls "$tmp/ctl")"
mv sockets/away.sock sockets/pdyndns.control.sock

kill -TERM "$dpid"; wait "$dpid"; expect_eq "SIGTERM: exit 0" 0 $?
[ -S sockets/pdyndns.control.sock ] && ok || fail "systemd's control socket was removed at exit"
wait_for '^STOPPING=1' && ok || fail "no STOPPING=1: $(cat notify.log)"

# a coprocess says nothing, even when PowerDNS's own NOTIFY_SOCKET is in its environment
before=$(wc -l < notify.log)
printf '{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120", "nameservers": ["ns1.example.test"], "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"}]}\n' > config.json
printf 'HELO\t1\n' | NOTIFY_SOCKET="$tmp/notify.sock" "$PDYNDNS" --config config.json --control-dir "$tmp/ctl" > /dev/null 2>&1
sleep 0.5
expect_eq "coprocess: no notification" "$before" "$(wc -l < notify.log)"

echo "notify: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
