#!/bin/bash
# SPDX-License-Identifier: MIT
# soak.sh (`make soak`; not part of make check or CI): PowerDNS with pdyndns as its pipe
# backend under dnsperf for SOAK_SECS, while the address lists are rewritten every CHURN_MS
# (by rename and in place, by turns) and `pdynctl reload` runs every RELOAD_SECS. Samples the
# RSS of every pdyndns copy every SAMPLE_SECS and prints the figures. Fails on any SERVFAIL,
# on lost queries, on a failed reload, or on RSS that keeps growing (last sample more than
# 10 % + 1 MiB above the first one taken after the warm-up).
#
# env: SOAK_SECS (600), LISTS (4), ADDRS (1000 per list), CHURN_MS (100), RELOAD_SECS (1),
#      SAMPLE_SECS (10), THREADS (distributor-threads, 2), QPS (dnsperf -Q; default unlimited)
set -u
. "$(dirname "$0")/integration/lib.sh"
need_pdns
command -v dnsperf >/dev/null || { echo "SKIP: dnsperf not installed"; exit 77; }
SOAK_SECS=${SOAK_SECS:-600} LISTS=${LISTS:-4} ADDRS=${ADDRS:-1000} CHURN_MS=${CHURN_MS:-100}
RELOAD_SECS=${RELOAD_SECS:-1} SAMPLE_SECS=${SAMPLE_SECS:-10} THREADS=${THREADS:-2}
z=$work/zone ctl=$work/pdns/ctl
mkdir -p "$z"

# list VERSION N: N addresses that carry the version in their second octet
list() { awk -v v="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "10.%d.%d.%d\n", v % 250, int(i / 250), i % 250 + 1 }'; }
handlers=
for i in $(seq "$LISTS"); do
    list 1 "$ADDRS" > "$z/l$i.txt"
    handlers+="${handlers:+,}{\"qname\": \"t$i.dyn.example.test\", \"qtype\": \"A\", \"file\": \"l$i.txt\"}"
    printf 't%d.dyn.example.test A\n' "$i" >> "$work/queries.txt"
done
printf 'nx.dyn.example.test A\ndyn.example.test SOA\n' >> "$work/queries.txt"
cat > "$z/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "handlers": [$handlers]}
JSON
start_pdns "$work/pdns" "$z/config.json" 3 "distributor-threads=$THREADS" || { fail "start"; finish; }
end=$(($(date +%s) + SOAK_SECS))

copies() { cat /proc/"$PDNS_PID"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -v '^$' | sort -n; }
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null; }

# churn: one list rewritten every CHURN_MS, by rename and in place by turns
(
    v=2
    while [ "$(date +%s)" -lt "$end" ]; do
        i=$((v % LISTS + 1))
        if [ $((v % 2)) = 0 ]; then
            list "$v" "$ADDRS" > "$z/l$i.tmp" && mv "$z/l$i.tmp" "$z/l$i.txt"
        else
            list "$v" "$ADDRS" > "$z/l$i.txt"
        fi
        v=$((v + 1))
        sleep "$(awk -v ms="$CHURN_MS" 'BEGIN { print ms / 1000 }')"
    done
    echo "$((v - 2))" > "$work/churned"
) &
churner=$!

# reloads through the control socket of every copy
(
    n=0 bad=0
    while [ "$(date +%s)" -lt "$end" ]; do
        if "$PDYNCTL" --dir "$ctl" reload > "$work/reload.out" 2>&1; then
            n=$((n + 1))
        else
            bad=$((bad + 1)); cat "$work/reload.out" >> "$work/reload.failures"
        fi
        sleep "$RELOAD_SECS"
    done
    echo "$n $bad" > "$work/reloads"
) &
reloader=$!

# RSS samples: "SECONDS PID KB" per copy
(
    t0=$(date +%s)
    while [ "$(date +%s)" -lt "$end" ]; do
        for p in $(copies); do echo "$(($(date +%s) - t0)) $p $(rss_kb "$p")"; done
        sleep "$SAMPLE_SECS"
    done
) > "$work/rss" &
sampler=$!

qps=()
[ -n "${QPS:-}" ] && qps=(-Q "$QPS")
dnsperf -s 127.0.0.1 -p "$PORT" -d "$work/queries.txt" -l "$SOAK_SECS" -c 4 -q 100 "${qps[@]}" \
    > "$work/dnsperf.out" 2>&1
for p in $churner $reloader $sampler; do wait "$p"; done

out=$(cat "$work/dnsperf.out")
sent=$(sed -n 's/.*Queries sent: *\([0-9]*\).*/\1/p' <<< "$out")
lost=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' <<< "$out")
rate=$(sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p' <<< "$out")
lat=$(sed -n 's/.*Average Latency (s): *\([0-9.]*\).*/\1/p' <<< "$out")
codes=$(sed -n 's/.*Response codes: *//p' <<< "$out")
servfail=$(grep -o 'SERVFAIL [0-9]*' <<< "$codes" | awk '{ print $2 }')
read -r reloads reload_bad < "$work/reloads"
echo "soak: ${SOAK_SECS} s, $LISTS lists of $ADDRS addresses, distributor-threads=$THREADS"
echo "  dnsperf: ${sent:-?} queries, ${rate:-?} qps, average latency ${lat:-?} s, lost ${lost:-?}; rcodes: ${codes:-?}"
echo "  churn: $(cat "$work/churned") list rewrites; pdynctl reload: $reloads done, $reload_bad failed"
expect_eq "no SERVFAIL" 0 "${servfail:-0}"
expect_eq "no lost queries" 0 "${lost:-missing}"
expect_eq "every pdynctl reload succeeded" 0 "$reload_bad"
[ -s "$work/reload.failures" ] && head -5 "$work/reload.failures"

# RSS per copy: the first sample after a warm-up of a fifth of the run, the last, the peak
warm=$((SOAK_SECS / 5))
for p in $(awk '{ print $2 }' "$work/rss" | sort -un); do
    read -r first last peak n < <(awk -v p="$p" -v w="$warm" '$2 == p && $1 >= w {
        if (!n++) f = $3; l = $3; if ($3 > m) m = $3 } END { print f + 0, l + 0, m + 0, n + 0 }' "$work/rss")
    echo "  pdyndns $p: RSS after warm-up $first kB, at the end $last kB, peak $peak kB ($n samples)"
    [ "$n" -lt 2 ] && continue # a copy that did not live through the run
    if [ "$last" -le $((first + first / 10 + 1024)) ]; then ok; else
        fail "pdyndns $p: RSS grew from $first kB to $last kB"
    fi
done
# Every list written is good, so an error can only be a list read while it was written by
# a reload that had already been rebuilt three times in a row for that reason (the bound that
# keeps a busy machine from rebuilding forever); the previous list is kept then. Counted.
halves=$(grep -cE 'pdyndns\[[0-9]+\]: error: .*: keeping the previous list' "$work/pdns/pdns.log")
others=$(grep -E 'pdyndns\[[0-9]+\]: error' "$work/pdns/pdns.log" |
    grep -vE 'keeping the previous list|no addresses in the file|is not an IPv4 address' | head -5)
echo "  lists read half-written and kept (retry bound reached): $halves"
expect_eq "no other errors logged" "" "$others"
finish
