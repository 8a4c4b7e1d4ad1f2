#!/bin/bash
# SPDX-License-Identifier: MIT
# Socket mode through the real PowerDNS: one pdyndns (--listen) serves every backend thread
# (distributor-threads=3), so rotation is exact across threads, also for questions asked in
# parallel; a daemon started after a SIGKILL takes over the stale socket; SIGTERM removes it.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
write_zone "$work/zone"
sock=$work/pipe.sock dpid=

start_daemon() {
    "$PDYNDNS" --config "$work/zone/config.json" --control-dir "$work/ctl" --listen "$sock" \
        2>> "$work/daemon.log" &
    dpid=$!
    pdns_pids+=("$dpid") # stopped by finish/cleanup with the rest
    for _ in $(seq 50); do [ -S "$sock" ] && grep -q "serving the pipe protocol" "$work/daemon.log" && return 0; sleep 0.1; done
    return 1
}
start_daemon || { fail "pdyndns --listen did not create $sock"; cat "$work/daemon.log"; finish; }
PIPE_COMMAND=$sock start_pdns "$work/pdns" "$work/zone/config.json" 3 "distributor-threads=3" ||
    { fail "start pdns"; finish; }
check_rotation "socket mode, 3 threads" "$work/zone"

# 30 questions for the 5 addresses of t1 A, ten at a time in parallel: each address 6 times
got=$(seq 30 | xargs -P 10 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" t1.dyn.example.test A |
    sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
expect_eq "parallel questions: each address 6 times" \
    "192.0.2.1=6 192.0.2.2=6 192.0.2.3=6 192.0.2.4=6 192.0.2.5=6 " "$got"
conns=$(ls -l /proc/"$dpid"/fd 2>/dev/null | grep -c socket)
[ "$conns" -ge 4 ] && ok || fail "expected a connection per pdns thread (+ listener, control), saw $conns sockets"

# A client that sends 20,000 questions without reading (its answers fill the socket) and one
# that sends half a line and waits: another connection is still answered at once, and the
# first one, when it reads at last, gets every answer in order.
slow=$(python3 - "$sock" <<'PY'
import socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); return s
def answer(f):
    lines = []
    while True:
        l = f.readline().rstrip("\n"); lines.append(l)
        if l in ("END", "FAIL") or l.startswith("OK"): return lines
hog, half, ok = conn(), conn(), conn()
hog.sendall(b"HELO\t1\n")
q = b"Q\tt1.dyn.example.test\tIN\tANY\t1\t127.0.0.1\n"
hog.settimeout(5)
sent = 0
try:
    for i in range(20000):
        hog.sendall(q); sent += 1
except socket.timeout:
    pass
half.sendall(b"HELO\t1\nQ\tt1.dyn.exa")
f = ok.makefile("rw"); f.write("HELO\t1\n"); f.flush(); answer(f)
t0 = time.monotonic()
f.write("Q\tt1.dyn.example.test\tIN\tSOA\t-1\t127.0.0.1\n"); f.flush(); answer(f)
f.write("Q\tt1.dyn.example.test\tIN\tANY\t1\t127.0.0.1\n"); f.flush()
other = answer(f)
took = time.monotonic() - t0
hog.settimeout(10)
hf = hog.makefile("r")
first = answer(hf)
ends = sum(1 for _ in range(sent) if answer(hf)[-1] == "END")
print(sent, ends, "ok" if other[-1] == "END" and len(other) == 3 else "bad:%r" % other,
      "fast" if took < 2 else "slow:%.1fs" % took)
PY
)
echo "  non-reading client: $slow (questions sent before its socket filled, answers read, other client)"
read -r sent ends other speed <<< "$slow"
expect_eq "a client not reading: every answer there once it reads" "$sent" "$ends"
expect_eq "a client not reading: another connection is answered" "ok fast" "$other $speed"
# if pdyndns kept reading while it could not write, memory would grow and all 20,000 would go
[ "${sent:-0}" -ge 100 ] && [ "${sent:-0}" -lt 20000 ] && ok ||
    fail "pdyndns should stop reading a client that does not read its answers (it took ${sent:-0} questions)"

# SIGKILL, then a new daemon on the same (now stale) socket path. PowerDNS 4.7.3 does not
# reconnect by itself: its write to the dead connection fails with an error its pipe backend
# does not catch (SERVFAIL until pdns restarts), so pdns is restarted here too.
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
start_daemon || { fail "restart on a stale socket"; cat "$work/daemon.log"; finish; }
stop_pid "$PDNS_PID"
PIPE_COMMAND=$sock start_pdns "$work/pdns2" "$work/zone/config.json" 3 "distributor-threads=3" ||
    { fail "start pdns again"; finish; }
got=$(for i in $(seq 5); do q +short t1.dyn.example.test A; done | tr '\n' ' ')
expect_eq "a new daemon on the stale socket: rotation from the start" \
    "192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 " "$got"

# SIGTERM: exits 0 and removes its socket
kill -TERM "$dpid"; wait "$dpid"; expect_eq "SIGTERM: exit status" 0 $?
[ -e "$sock" ] && fail "SIGTERM left $sock" || ok
finish
