#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGKILL at random moments under the real PowerDNS, KILLS times (default 30; the
# reliability figure uses KILLS=1000): after each kill a question is answered again by a new
# copy within 2 s, every copy's HELO is answered (PowerDNS logs its banner), the dead copy's
# control socket never blocks the next one, and no copy is left behind once pdns stops.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
KILLS=${KILLS:-30}
write_zone "$work/zone"
dir=$work/pdns
start_pdns "$dir" "$work/zone/config.json" 3 || { fail "start"; finish; }
coproc_of() { pgrep -P "$PDNS_PID" -f "$PDYNDNS" | head -1; }
worst_ms=0 gaps=0
for ((k = 1; k <= KILLS; k++)); do
    victim=$(coproc_of)
    [ -n "$victim" ] || { q +short t1.dyn.example.test A > /dev/null; victim=$(coproc_of); }
    # a random moment: while idle, or while questions are in flight
    load=
    if [ $((RANDOM % 2)) = 0 ]; then
        (for i in 1 2 3; do q +short t1.dyn.example.test A; done > /dev/null 2>&1) &
        load=$!
        sleep "0.00$((RANDOM % 10))"
    fi
    kill -9 "$victim" 2>/dev/null
    t0=$(date +%s%N)
    answered=
    for ((i = 0; i < 40; i++)); do
        if [ -n "$(q +short +tries=1 +time=1 t1.dyn.example.test A 2>/dev/null)" ]; then answered=1; break; fi
        sleep 0.05
    done
    [ -z "$load" ] || wait "$load"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$ms" -gt "$worst_ms" ] && worst_ms=$ms
    [ -n "$answered" ] || { gaps=$((gaps + 1)); echo "  kill $k: no answer within 2 s"; }
done
expect_eq "$KILLS kills: every time answered again within 2 s" 0 "$gaps"
banners=$(grep -c 'Backend launched with banner: OK' "$dir/pdns.log")
[ "$banners" -gt "$KILLS" ] && ok || fail "only $banners copies said OK to HELO after $KILLS kills"
grep -q 'config error' "$dir/pdns.log" && fail "a copy started without its config" || ok
# sockets of killed copies are swept by the next copy: at most the live ones remain
live=$(pgrep -P "$PDNS_PID" -f "$PDYNDNS" | wc -l)
socks=$(ls "$dir/ctl" | wc -l)
[ "$socks" -le $((live + 1)) ] && ok || fail "$socks control sockets for $live live copies"
pids=$(pgrep -P "$PDNS_PID" -f "$PDYNDNS" | tr '\n' ' ')
stop_pid "$PDNS_PID"
left=0; for p in $pids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
expect_eq "no copy left after pdns stops" 0 "$left"
echo "  $KILLS kills, worst kill-to-answer $worst_ms ms, $banners banners"
finish
