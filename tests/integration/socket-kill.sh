#!/bin/bash
# SPDX-License-Identifier: MIT
# Socket mode: SIGKILL of pdyndns at random moments under a running pdns_server
# (distributor-threads=3) with dnsperf asking all the while, KILLS times (default 5; the
# reliability figure uses KILLS=100). After each kill a new daemon takes over pdns's
# connections from the keeper: no question is lost (dnsperf waits 5 s for each), every answer
# has the right response code, every thread answers afterwards, and the rotation is exact. No keeper is left once pdns stops. The
# slowest answer is printed; `make bench` holds it to the goal of a second.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v dnsperf >/dev/null || { echo "SKIP: dnsperf not installed"; exit 77; }
KILLS=${KILLS:-5}
write_zone "$work/zone"
sock=$work/pipe.sock dpid=

start_socket_daemon || { fail "pdyndns --listen did not start"; cat "$work/daemon.log"; finish; }
PIPE_COMMAND=$sock start_pdns "$work/pdns" "$work/zone/config.json" 3 "distributor-threads=3" ||
    { fail "start pdns"; finish; }
printf 't1.dyn.example.test A\nt1.dyn.example.test AAAA\nmissing.dyn.example.test A\n' > "$work/perf.txt"

lost_all=0 answered_all=0 slowest=0 took_over=0 wrong=0
for ((k = 1; k <= KILLS; k++)); do
    dnsperf -s 127.0.0.1 -p "$PORT" -d "$work/perf.txt" -l 2 -c 4 -q 20 > "$work/perf.log" 2>&1 &
    perf=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$dpid"
    wait "$dpid" 2>/dev/null
    start_socket_daemon || { fail "kill $k: no new daemon"; cat "$work/daemon.log"; break; }
    wait "$perf"
    lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$work/perf.log")
    done_=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$work/perf.log")
    max=$(sed -n 's/^ *Average Latency (s): .*max \([0-9.]*\).*/\1/p' "$work/perf.log")
    # every answer right: no SERVFAIL or other rcode (an answer off by one on a connection
    # would give those), and NXDOMAIN for exactly the third of the questions that ask for it
    codes=$(sed -n 's/^ *Response codes: *//p' "$work/perf.log")
    nx=$(sed -n 's/.*NXDOMAIN \([0-9]*\).*/\1/p' <<<"$codes")
    other=$(tr ',' '\n' <<<"$codes" | grep -v -e 'NOERROR' -e 'NXDOMAIN' | grep -c '[A-Z]')
    if [ "$other" != 0 ] || [ $(( ${nx:-0} * 3 - ${done_:-0} )) -lt -3 ] || [ $(( ${nx:-0} * 3 - ${done_:-0} )) -gt 3 ]; then
        wrong=$((wrong + 1))
        echo "  kill $k: response codes $codes ($done_ answered)"
    fi
    lost_all=$((lost_all + ${lost:-1000000})) answered_all=$((answered_all + ${done_:-0}))
    slowest=$(awk -v a="$slowest" -v b="${max:-99}" 'BEGIN { print (b > a ? b : a) }')
    grep -q "pdyndns\[$dpid\]: info: took over 4 PowerDNS connections" "$work/daemon.log" &&
        took_over=$((took_over + 1))
done
echo "  $KILLS kills under dnsperf: $answered_all questions answered, $lost_all lost, slowest ${slowest} s"
expect_eq "$KILLS kills: questions lost" 0 "$lost_all"
expect_eq "$KILLS kills: rounds with a wrong response code" 0 "$wrong"
expect_eq "$KILLS kills: each new daemon took over pdns's 4 connections" "$KILLS" "$took_over"
# every thread still answers, with the rotation exact
got=$(for i in $(seq 5); do q +short t1.dyn.example.test A; done | tr '\n' ' ')
case "$got$got" in
    *"192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 "*) ok ;;
    *) fail "after the kills: rotation not exact: $got" ;;
esac
expect_eq "after the kills: NXDOMAIN still" NXDOMAIN "$(status_of missing.dyn.example.test A)"

# every keeper exits once pdns has closed its connections
kill -TERM "$dpid"; wait "$dpid"
stop_pid "$PDNS_PID"
left=$(keepers_left)
expect_eq "keepers left after pdns stopped" "" "$left"
finish
