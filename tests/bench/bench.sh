#!/bin/bash
# SPDX-License-Identifier: MIT
# bench.sh BUILDDIR: the project's benchmarks (`make bench`). Every figure is printed next
# to a reference measured in the same run, as rows of a markdown table, under a line with
# the date and the machine. Work files go under a temp dir in /tmp, removed at the end;
# PowerDNS listens on 127.0.0.1 on a free high port; every process is stopped by PID.
#
# env: SECS     dnsperf seconds per end-to-end run (default 5)
#      REPEAT   end-to-end and raw runs per program, interleaved; medians shown (default 5)
#      ONLY     e.g. "raw e2e": run only these parts of: raw lists trie e2e scrape views restart
#               reload extremes scale health
set -euo pipefail
build=$1
SECS=${SECS:-5}
REPEAT=${REPEAT:-5}
ONLY=${ONLY:-raw lists trie e2e scrape views restart reload extremes scale health}
bench=$build/tests/bench
pdyndns=$build/daemon/pdyndns
dom=dyn.example.net
names=4
work=$(mktemp -d /tmp/pdyndns-bench.XXXXXX)
pdns_pid= sock_pid=
. "$(dirname "$0")/../procs.sh" # stop_pid, free_port
stop_pdns() {
    [ -z "$pdns_pid" ] || stop_pid "$pdns_pid"
    pdns_pid=
}
cleanup() {
    stop_pdns
    [ -z "$sock_pid" ] || stop_pid "$sock_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

has() { [[ " $ONLY " == *" $1 "* ]]; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; } # kv KEY "LINE": the value
row() { echo "| $1 | $2 | $3 | $4 | $5 |"; }

# --- fixtures: names × A and AAAA lists of 10 addresses, as the shared harness uses ------
handlers=
for ((n = 1; n <= names; n++)); do
    for ((i = 1; i <= 10; i++)); do echo "10.0.$n.$i"; done > "$work/t$n-v4.txt"
    for ((i = 1; i <= 10; i++)); do echo "2001:db8:$n::$i"; done > "$work/t$n-v6.txt"
    handlers+="${handlers:+,}
    {\"qname\": \"t$n.$dom\", \"qtype\": \"A\", \"file\": \"t$n-v4.txt\"},
    {\"qname\": \"t$n.$dom\", \"qtype\": \"AAAA\", \"file\": \"t$n-v6.txt\"}"
    printf 't%d.%s A\nt%d.%s AAAA\n' "$n" "$dom" "$n" "$dom" >> "$work/dnsperf.txt"
done
config() { # config ADVANCE
    cat <<JSON
{"domain": "$dom", "soa": "ns1.example.net. hostmaster.example.net. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.net", "ns2.example.net"], "ttl": 3600, "loglevel": "error",
 "advance": "$1", "handlers": [$handlers]}
JSON
}
config per-question > "$work/config.json"
config per-lookup > "$work/config-per-lookup.json"

echo "pdyndns benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cpus," \
     "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)"
echo
row figure pdyndns reference ratio goal
row --- --- --- --- ---

# --- raw pipe ----------------------------------------------------------------------------
if has raw; then
    ours=(--config "$work/config.json" --control-dir "$work/ctl")
    s_ours=() s_stub=() l_ours=() l_stick=() c_ours=() c_stick=() w_ours=() w_stick=()
    for ((r = 0; r < REPEAT; r++)); do
        # the stream is over in a fraction of a second: pinned (driver on CPU 0, backend on
        # CPU 1), or where the scheduler puts the two decides the figure
        s_ours+=("$(kv qps "$(taskset -c 0 "$bench/pipebench" stream 1000000 $dom $names taskset -c 1 "$pdyndns" "${ours[@]}")")")
        s_stub+=("$(kv qps "$(taskset -c 0 "$bench/pipebench" stream 1000000 $dom $names taskset -c 1 "$bench/ceiling" stub $dom)")")
        line=$("$bench/pipebench" lockstep 100000 $dom $names "$pdyndns" "${ours[@]}")
        l_ours+=("$(kv p50_us "$line")") c_ours+=("$(kv cpu_us_per_lookup "$line")")
        w_ours+=("$(ratio "$(kv max_us "$line")" "$(kv p99_us "$line")")")
        line=$("$bench/pipebench" lockstep 100000 $dom $names "$bench/ceiling" stick)
        l_stick+=("$(kv p50_us "$line")") c_stick+=("$(kv cpu_us_per_lookup "$line")")
        w_stick+=("$(ratio "$(kv max_us "$line")" "$(kv p99_us "$line")")")
    done
    a=$(median "${s_ours[@]}") b=$(median "${s_stub[@]}")
    row "raw stream, lookups/s (1 M read ahead, pinned)" "$a" "stub $b" "$(ratio "$a" "$b")" "≥ 0.5"
    a=$(median "${l_ours[@]}") b=$(median "${l_stick[@]}")
    row "raw lock-step round trip p50, µs" "$a" "stick $b" "$(ratio "$a" "$b")" "≤ 1.2"
    a=$(median "${c_ours[@]}") b=$(median "${c_stick[@]}")
    row "raw lock-step CPU per lookup, µs" "$a" "stick $b" "$(ratio "$a" "$b")" "—"
    # the machine's noise floor for issue 3's stall goal: the worst of 100 k idle round trips
    # against their p99, for pdyndns and for a program that only writes a fixed answer
    a=$(median "${w_ours[@]}") b=$(median "${w_stick[@]}")
    row "raw lock-step worst ÷ p99, idle (noise floor)" "$a" "stick $b" "$(ratio "$a" "$b")" "—"
fi

# --- lists -------------------------------------------------------------------------------
if has lists; then
    awk 'BEGIN {for (i = 0; i < 1000000; i++) printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256}' > "$work/m4.txt"
    awk 'BEGIN {for (i = 0; i < 1000000; i++) printf "2001:db8:%x::%x\n", int(i / 65536), i % 65536}' > "$work/m6.txt"
    sync # the files just written are not being flushed while we measure
    one() { # one FILE TYPE: a config with one handler
        cat <<JSON
{"domain": "$dom", "soa": "a.example.net. h.example.net. 1 2 3 4 5", "nameservers": ["a.example.net"],
 "ttl": 60, "loglevel": "error", "handlers": [{"qname": "m.$dom", "qtype": "$2", "file": "$1"}]}
JSON
    }
    one m4.txt A > "$work/m4.json"
    one m6.txt AAAA > "$work/m6.json"
    for t in 4 6; do
        ms=() kb=()
        for ((r = 0; r < 3; r++)); do
            /usr/bin/time -f '%e %M' -o "$work/time" "$pdyndns" --check --config "$work/m$t.json" > /dev/null
            read -r s k < "$work/time"
            ms+=("$(awk -v s="$s" 'BEGIN {print s * 1000}')") kb+=("$k")
        done
        goal=$([ $t = 4 ] && echo 12 || echo 30)
        row "load 1,000,000 IPv$t addresses (\`pdyndns --check\`), ms" "$(median "${ms[@]}")" "Python: cannot start" "—" "≤ 150"
        row "… its peak RSS, MiB" "$(awk -v k="$(median "${kb[@]}")" 'BEGIN {printf "%.1f", k / 1024}')" "—" "—" "≤ $goal"
    done
    h8=
    for i in 1 2 3 4; do
        cp "$work/m4.txt" "$work/big$i-v4.txt"
        cp "$work/m6.txt" "$work/big$i-v6.txt"
        h8+="${h8:+,} {\"qname\": \"b$i.$dom\", \"qtype\": \"A\", \"file\": \"big$i-v4.txt\"},"
        h8+=" {\"qname\": \"b$i.$dom\", \"qtype\": \"AAAA\", \"file\": \"big$i-v6.txt\"}"
    done
    sed "s|\"handlers\": .*|\"handlers\": [$h8]}|" "$work/m4.json" > "$work/big.json"
    sync
    ms=()
    for ((r = 0; r < 3; r++)); do
        ms+=("$(kv ms "$("$bench/pipebench" helo "$pdyndns" --config "$work/big.json" --control-dir "$work/ctl")")")
    done
    row "HELO → OK with 8 × 1,000,000 addresses, ms" "$(median "${ms[@]}")" "—" "—" "≤ 500"
    rm -f "$work"/big*.txt "$work"/m?.txt
fi

# --- the prefix trie of per-client views (common/prefixtrie), alone --------------------------
if has trie; then
    small=$(kv ns_per_lookup "$("$bench/triebench" 1000)")
    for n in 100000 1000000; do
        t=$("$bench/triebench" "$n")
        row "prefix trie, $n prefixes (half IPv4, half IPv6): ns per lookup" "$(kv ns_per_lookup "$t")" \
            "1,000 prefixes: $small" "$(ratio "$(kv ns_per_lookup "$t")" "$small")" "—"
        row "… built in ms / MiB" "$(kv build_ms "$t") / $(kv mib "$t")" "—" "—" "—"
    done
fi

# --- end to end: PowerDNS + dnsperf, pdns on cpu 0, dnsperf on cpu 1 ----------------------
# e2e "PIPE-COMMAND" [PDNS-LINE...]: sets line="qps=... avg_ms=... servfail=... lost=..."
# (not in a subshell, so that the EXIT trap can stop pdns_server). perf_extra: more dnsperf
# options (the views part's ECS option), none by default.
perf_extra=()
e2e() {
    local cmd=$1 port dir=$work/pdns i out
    shift
    port=$(free_port)
    mkdir -p "$dir"
    {
        printf '%s\n' launch=pipe "pipe-command=$cmd" pipe-abi-version=3 pipe-timeout=2000 \
            local-address=127.0.0.1 "local-port=$port" "socket-dir=$dir" daemon=no guardian=no \
            disable-syslog=yes loglevel=4 security-poll-suffix= webserver=no api=no \
            zone-cache-refresh-interval=0 cache-ttl=0 query-cache-ttl=0 negquery-cache-ttl=0 \
            distributor-threads=1 receiver-threads=1
        [ $# -eq 0 ] || printf '%s\n' "$@" # later lines win
    } > "$dir/pdns.conf"
    taskset -c 0 pdns_server --config-dir="$dir" > "$dir/pdns.log" 2>&1 &
    pdns_pid=$!
    for ((i = 0; i < 100; i++)); do
        dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 "t1.$dom" A 2>/dev/null | grep -q . && break
        kill -0 "$pdns_pid" 2>/dev/null || { cat "$dir/pdns.log" >&2; return 1; }
        sleep 0.1
    done
    taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$work/dnsperf.txt" -l 1 -c 4 -q 100 "${perf_extra[@]}" > /dev/null 2>&1 || true
    out=$(taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$work/dnsperf.txt" -l "$SECS" -c 4 -q 100 "${perf_extra[@]}" 2>&1 || true)
    stop_pdns
    line=$(awk '/Queries per second/ {q = $4} /Average Latency/ {l = $4 * 1000}
         /Queries lost/ {lost = $3}
         /Response codes/ {for (i = 3; i <= NF; i++) if ($i ~ /^[A-Z]+$/) {c = c sep $i "=" $(i + 1) + 0; sep = ","}
                           for (i = 3; i <= NF; i++) if ($i == "SERVFAIL") sf = $(i + 1) + 0}
         END {printf "qps=%d avg_ms=%.2f servfail=%d lost=%d rcodes=%s\n", q, l, sf + 0, lost, c}' <<<"$out")
}
if has e2e; then
    fast=(consistent-backends=no query-cache-ttl=20 negquery-cache-ttl=10)
    q_stub=() q_ours=() q_fast=() q_sock=() q_sstub=() l_stub=() l_ours=() l_fast=() rc=() bad=0
    for ((r = 0; r < REPEAT; r++)); do
        e2e "$bench/ceiling stub $dom" && l1=$line
        e2e "$pdyndns --config $work/config.json --control-dir $work/ctl" && l2=$line
        e2e "$pdyndns --config $work/config-per-lookup.json --control-dir $work/ctl" "${fast[@]}" && l3=$line
        # socket mode: one pdyndns (on pdns's CPU, where the coprocess runs too) for pdns
        rm -f "$work/pipe.sock"
        taskset -c 0 "$pdyndns" --config "$work/config.json" --control-dir "$work/ctl" \
            --listen "$work/pipe.sock" 2> "$work/sock.log" &
        sock_pid=$!
        for ((i = 0; i < 50; i++)); do [ -S "$work/pipe.sock" ] && break; sleep 0.1; done
        e2e "$work/pipe.sock" && l4=$line
        stop_pid "$sock_pid"
        # the ceiling of that path: the stub on the socket, a thread per connection, each in
        # a blocking read (the least a server of pdns's socket can do per lookup)
        rm -f "$work/stub.sock"
        taskset -c 0 "$bench/ceiling" stub-socket "$dom" "$work/stub.sock" &
        sock_pid=$!
        for ((i = 0; i < 50; i++)); do [ -S "$work/stub.sock" ] && break; sleep 0.1; done
        e2e "$work/stub.sock" && l5=$line
        stop_pid "$sock_pid"
        sock_pid=
        q_sock+=("$(kv qps "$l4")") q_sstub+=("$(kv qps "$l5")")
        q_stub+=("$(kv qps "$l1")") q_ours+=("$(kv qps "$l2")") q_fast+=("$(kv qps "$l3")")
        l_stub+=("$(kv avg_ms "$l1")") l_ours+=("$(kv avg_ms "$l2")") l_fast+=("$(kv avg_ms "$l3")")
        rc=("$(kv rcodes "$l2")" "$(kv rcodes "$l3")" "$(kv rcodes "$l1")") # the last run's
        for l in "$l1" "$l2" "$l3" "$l4" "$l5"; do
            [ "$(kv servfail "$l")" = 0 ] && [ "$(kv lost "$l")" = 0 ] || { bad=1; echo "# e2e run with SERVFAIL or lost queries: $l"; }
        done
    done
    a=$(median "${q_ours[@]}") b=$(median "${q_stub[@]}") c=$(median "${q_fast[@]}")
    row "end to end qps, caches off (\`advance\` per-question)" "$a" "stub $b" "$(ratio "$a" "$b")" "≥ 0.97"
    row "end to end qps, shipped settings (per-lookup, one lookup per question)" "$c" "stub $b" "$(ratio "$c" "$b")" "≥ 1.5"
    d=$(median "${q_sock[@]}")
    row "end to end qps, socket mode (\`--listen\`, caches off)" "$d" "coprocess $a" "$(ratio "$d" "$a")" "≥ 1.0"
    e=$(median "${q_sstub[@]}")
    row "end to end qps, the stub on the socket (ceiling of socket mode)" "$e" "stub $b" "$(ratio "$e" "$b")" "—"
    row "end to end qps, socket mode against its ceiling" "$d" "stub on the socket $e" "$(ratio "$d" "$e")" "—"
    row "end to end average latency, ms (caches off / shipped settings)" \
        "$(median "${l_ours[@]}") / $(median "${l_fast[@]}")" "stub $(median "${l_stub[@]}")" "—" "—"
    row "end to end rcodes, last run (caches off / shipped settings)" "${rc[0]} / ${rc[1]}" "stub ${rc[2]}" "—" "no SERVFAIL"
    [ $bad = 0 ] || echo "# (some end-to-end runs had SERVFAIL or lost queries, see above)"
fi

# --- the HTTP /metrics endpoint: socket mode end to end, scraped every 100 ms or not --------
# One pdyndns --listen --metrics-listen for both kinds of run (interleaved): only the scrapes
# differ. The scraper is one curl on dnsperf's CPU, at most 10 requests a second on a kept-alive
# connection, as Prometheus scrapes (a process per scrape would take dnsperf's CPU instead);
# pdyndns and pdns share the other CPU.
if has scrape; then
    q_plain=() q_scraped=() n_scrapes=() bad=0
    mport=$(free_port)
    rm -f "$work/pipe.sock"
    taskset -c 0 "$pdyndns" --config "$work/config.json" --control-dir "$work/ctl" \
        --listen "$work/pipe.sock" --metrics-listen "127.0.0.1:$mport" 2> "$work/sock.log" &
    sock_pid=$!
    for ((i = 0; i < 50; i++)); do [ -S "$work/pipe.sock" ] && break; sleep 0.1; done
    for ((r = 0; r < REPEAT; r++)); do
        e2e "$work/pipe.sock" && l1=$line
        : > "$work/scrapes"
        urls=()
        for ((i = 0; i < (SECS + 30) * 10; i++)); do urls+=("http://127.0.0.1:$mport/metrics"); done
        taskset -c 1 curl -sS --rate 10/s -o /dev/null -w '%{http_code}\n' "${urls[@]}" \
            > "$work/scrapes" 2>/dev/null &
        scraper=$!
        e2e "$work/pipe.sock" && l2=$line
        stop_pid "$scraper"
        q_plain+=("$(kv qps "$l1")") q_scraped+=("$(kv qps "$l2")")
        n_scrapes+=("$(grep -c '^200$' "$work/scrapes" || true)")
        for l in "$l1" "$l2"; do
            [ "$(kv servfail "$l")" = 0 ] && [ "$(kv lost "$l")" = 0 ] || { bad=1; echo "# scrape run with SERVFAIL or lost queries: $l"; }
        done
    done
    stop_pid "$sock_pid"
    sock_pid=
    a=$(median "${q_scraped[@]}") b=$(median "${q_plain[@]}")
    row "end to end qps, socket mode, /metrics scraped every 100 ms ($(median "${n_scrapes[@]}") scrapes per run)" \
        "$a" "not scraped $b" "$(ratio "$a" "$b")" "≥ 0.98"
    [ $bad = 0 ] || echo "# (some scrape runs had SERVFAIL or lost queries, see above)"
fi

# --- per-client views: the e2e config, its handlers carrying views -------------------------
# Every handler of the e2e config (the same names, files and questions) carries two views,
# "a" and "b", each with a prefix file of 50,000 prefixes: its views hold 100,000 prefixes
# in all, half IPv4 /24, half IPv6 /48, spread over the space by a multiplicative hash
# (odd multipliers are bijective, so no prefix repeats; none in 127/8). Without ECS the
# client is 127.0.0.1/32, in no view: every lookup walks the trie and gets the handler's
# list, as plain round-robin does without views. Then the same pair with an ECS option
# (dnsperf -E, edns-subnet-processing=yes) of a /24 in view "a": every answer is the view's.
if has views; then
    awk -v A="$work/views-a.txt" -v B="$work/views-b.txt" 'BEGIN {
        for (i = k = 0; k < 50000; i++) { # IPv4 /24s: 24 bits of i * 2654435761
            x = (i * 2654435761) % 16777216; o = int(x / 65536)
            if (o == 0 || o == 127 || o >= 224) continue
            printf "%d.%d.%d.0/24\n", o, int(x / 256) % 256, x % 256 > (k % 2 ? B : A); k++
        }
        for (i = 0; i < 50000; i++) { # IPv6 /48s: 32 bits below 2001::/16
            x = (i * 2654435761) % 4294967296
            printf "2001:%x:%x::/48\n", int(x / 65536), x % 65536 > (i % 2 ? B : A)
        }
    }'
    vhandlers=
    for ((n = 1; n <= names; n++)); do
        # the views' lists: 10.1.N.I and 10.2.N.I, 2001:db8:N:a::I and 2001:db8:N:b::I
        for v in a b; do
            sed "s/^10\.0\./10.$([ $v = a ] && echo 1 || echo 2)./" "$work/t$n-v4.txt" > "$work/t$n-v4-$v.txt"
            sed "s/::/:$v::/" "$work/t$n-v6.txt" > "$work/t$n-v6-$v.txt"
        done
        for f in "A v4" "AAAA v6"; do
            vhandlers+="${vhandlers:+,}
    {\"qname\": \"t$n.$dom\", \"qtype\": \"${f% *}\", \"file\": \"t$n-${f#* }.txt\", \"views\": [
      {\"name\": \"a\", \"prefix_file\": \"views-a.txt\", \"file\": \"t$n-${f#* }-a.txt\"},
      {\"name\": \"b\", \"prefix_file\": \"views-b.txt\", \"file\": \"t$n-${f#* }-b.txt\"}]}"
        done
    done
    cat > "$work/config-views.json" <<JSON
{"domain": "$dom", "soa": "ns1.example.net. hostmaster.example.net. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.net", "ns2.example.net"], "ttl": 3600, "loglevel": "error",
 "advance": "per-question", "handlers": [$vhandlers]}
JSON
    "$pdyndns" --check --config "$work/config-views.json" > "$work/views-check.out" 2>&1 ||
        { cat "$work/views-check.out" >&2; exit 1; }
    # ECS option 8: family 1, source 24, scope 0, the first 3 bytes of view a's first /24
    first=$(head -1 "$work/views-a.txt")
    ecs=8:00011800$(printf '%02x' $(echo "${first%.0/24}" | tr . ' '))
    # the ECS subnet gets view a's list, 127.0.0.1 the handler's (straight through the pipe)
    for c in "$first a 10.1.1.1" "127.0.0.1/32 - 10.0.1.1"; do
        set -- $c
        got=$(printf 'HELO\t3\nQ\tt1.%s\tIN\tANY\t1\t127.0.0.1\t127.0.0.1\t%s\n' "$dom" "$1" |
            "$pdyndns" --config "$work/config-views.json" --control-dir "$work/ctl" 2>/dev/null | awk -F'\t' '$6 == "A" {print $NF}')
        [ "$got" = "$3" ] || { echo "views: client $1 got '$got', not $3 (view $2)" >&2; exit 1; }
    done
    q_plain=() q_views=() q_plain_e=() q_views_e=() bad=0
    for ((r = 0; r < REPEAT; r++)); do
        perf_extra=()
        e2e "$pdyndns --config $work/config.json --control-dir $work/ctl" && l1=$line
        e2e "$pdyndns --config $work/config-views.json --control-dir $work/ctl" && l2=$line
        perf_extra=(-E "$ecs")
        e2e "$pdyndns --config $work/config.json --control-dir $work/ctl" edns-subnet-processing=yes && l3=$line
        e2e "$pdyndns --config $work/config-views.json --control-dir $work/ctl" edns-subnet-processing=yes && l4=$line
        perf_extra=()
        q_plain+=("$(kv qps "$l1")") q_views+=("$(kv qps "$l2")") q_plain_e+=("$(kv qps "$l3")") q_views_e+=("$(kv qps "$l4")")
        for l in "$l1" "$l2" "$l3" "$l4" "$l5"; do
            [ "$(kv servfail "$l")" = 0 ] && [ "$(kv lost "$l")" = 0 ] || { bad=1; echo "# views run with SERVFAIL or lost queries: $l"; }
        done
    done
    a=$(median "${q_views[@]}") b=$(median "${q_plain[@]}")
    row "end to end qps with views, 100,000 prefixes" "$a" "round-robin $b" "$(ratio "$a" "$b")" "≥ 0.95"
    a=$(median "${q_views_e[@]}") b=$(median "${q_plain_e[@]}")
    row "… with ECS of a client in a view (\`-E\`, edns-subnet-processing=yes)" "$a" "round-robin, same ECS $b" "$(ratio "$a" "$b")" "—"
    [ $bad = 0 ] || echo "# (some views runs had SERVFAIL or lost queries, see above)"
fi

# --- live reload ---------------------------------------------------------------------------
# --- socket mode: pdyndns killed and restarted under load while pdns runs on -------------------
if has restart; then
    kills=${KILLS:-10}
    out=$(PDYNDNS=$pdyndns KILLS=$kills bash "$(dirname "$0")/../integration/socket-kill.sh" 2>/dev/null |
        grep "kills under dnsperf")
    slow=$(sed -n 's/.*slowest \([0-9.]*\) s.*/\1/p' <<<"$out")
    lost=$(sed -n 's/.*answered, \([0-9]*\) lost.*/\1/p' <<<"$out")
    row "socket mode, $kills × SIGKILL + restart under dnsperf: slowest question, ms (questions lost)" \
        "$(awk -v s="${slow:-0}" 'BEGIN {printf "%.0f", s * 1000}') (${lost:-?} lost)" "—" "—" "≤ 1000 (0 lost)"
fi

if has reload; then
    "$bench/reloadbench" "$pdyndns" "$work" > "$work/reload.out"
    v() { awk -v k="$1" '$1 == k {print $2}' "$work/reload.out"; }
    row "rename of a 10-address file → first new answer, p99 ms" "$(v reload_rename_10_p99)" "—" "—" "≤ 10"
    row "rename of a 1,000,000-address file → first new answer, p99 ms" "$(v reload_rename_1000000_p99)" "—" "—" "≤ 200"
    idle=$(sed -n 's/^stall_idle .* p99 \([0-9.]*\) .* max \([0-9.]*\) ms.*/\1 \2/p' "$work/reload.out")
    busy=$(sed -n 's/^stall_busy .* max \([0-9.]*\) ms.*/\1/p' "$work/reload.out")
    row "worst lock-step round trip while 1 M addresses reload every second, ms" "$busy" \
        "idle p99 ${idle% *}, idle max ${idle#* }" "$(ratio "$busy" "${idle% *}") × idle p99" "≤ 2 × idle p99"
    peak=$(sed -n 's/^swap_rss_peak \([0-9.]*\) MiB (\([0-9.]*\) x.*/\1 \2/p' "$work/reload.out")
    row "peak RSS across full reloads of 8 × 1 M addresses, MiB" "${peak% *}" \
        "steady $(awk '$1 == "swap_rss_steady" {print $2}' "$work/reload.out")" "${peak#* }" "≤ 2.2"
fi

# --- the address-file extremes of tests/extremes.sh, swapped in under lock-step questions --
if has extremes; then
    "$bench/reloadbench" "$pdyndns" "$work" extremes > "$work/extremes.out"
    idle=$(sed -n 's/^extreme_idle p99 \([0-9.]*\) max \([0-9.]*\) ms.*/\1 \2/p' "$work/extremes.out")
    while IFS='|' read -r name what; do
        line=$(grep "^extreme_${name}_worst " "$work/extremes.out")
        row "worst lock-step round trip, from the rename until the reload is done: $what, ms" \
            "$(awk '{print $2}' <<<"$line")" "idle p99 ${idle% *}, idle max ${idle#* }" "—" "≤ 50"
    done <<'EOF'
10M_valid|a valid 10,000,000-address list
10M_last_line_bad|10,000,000 lines with a bad last one
10MiB_line|a line of 10 MiB
fifo|a FIFO
1MiB_random|1 MiB of random bytes
fifo_writer|a FIFO held open by a writer
dev_zero|a symlink to /dev/zero
symlink_loop|a symlink loop
EOF
    row "… the 10,000,000-line reloads were done after, ms (valid / bad last line)" \
        "$(sed -n 's/^extreme_10M_valid_worst .*done after \([0-9.]*\) ms.*/\1/p' "$work/extremes.out") / $(sed -n 's/^extreme_10M_last_line_bad_worst .*done after \([0-9.]*\) ms.*/\1/p' "$work/extremes.out")" \
        "—" "—" "—"
fi

# --- scale: 100,000 handlers in 1,000 directories (3 addresses each), against 1,000 --------
# HELO, idle CPU, the worst lock-step round trip while polls, a status and a reload fall in,
# one list edited, and the exit at EOF. The reference is the same figure at 1,000 handlers.
if has scale; then
    big() { # DIR N: N handlers tK (file dK/100/tK.txt), config DIR/config.json
        /usr/bin/python3 - "$1" "$2" "$dom" <<'PY'
import json, os, sys
d, n, dom = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hs = []
for k in range(1, n + 1):
    sub = "d%d" % ((k - 1) // 100)
    os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, sub, "t%d.txt" % k), "w") as f:
        f.write("".join("10.%d.%d.%d\n" % (k >> 16, (k >> 8) & 255, i) for i in (1, 2, 3)))
    hs.append({"qname": "t%d.%s" % (k, dom), "qtype": "A", "file": "%s/t%d.txt" % (sub, k)})
json.dump({"domain": dom, "soa": "ns1.example.net. hostmaster.example.net. 1 7200 3600 7200 120",
           "nameservers": ["ns1.example.net"], "ttl": 3600, "loglevel": "error", "handlers": hs},
          open(os.path.join(d, "config.json"), "w"))
PY
    }
    big "$work/s100k" 100000
    big "$work/s1k" 1000
    cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
    # a copy with an idle stdin: ITS pid in $cp, its control dir DIR/ctl
    start_copy() { # DIR
        rm -f "$1/in"; mkfifo "$1/in"
        "$pdyndns" --config "$1/config.json" --control-dir "$1/ctl" < "$1/in" > /dev/null 2>&1 &
        cp=$!
        exec {cpin}> "$1/in"
        for ((i = 0; i < 300; i++)); do ls "$1/ctl/"*.sock >/dev/null 2>&1 && break; sleep 0.05; done
        sleep 3 # the first reload (the check after the watches are armed)
    }
    stop_copy() { # EOF, then its own exit (5 s at most)
        exec {cpin}>&-
        for ((i = 0; i < 2500; i++)); do kill -0 "$cp" 2>/dev/null || break; sleep 0.002; done
        stop_pid "$cp"
    }
    declare -A helo idle edit_p50 edit_max worst_poll worst_status worst_reload quit
    for n in 1k 100k; do
        dir=$work/s$n
        ms=()
        for r in 1 2 3; do ms+=("$(kv ms "$("$bench/pipebench" helo "$pdyndns" --config "$dir/config.json" --control-dir "$dir/ctl")")"); done
        helo[$n]=$(median "${ms[@]}")
        start_copy "$dir"
        a=$(cpu_ticks "$cp"); sleep 20; b=$(cpu_ticks "$cp")
        idle[$n]=$(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", 100 * t / hz / 20}')
        lat=()
        for v in $(seq 1 10); do
            printf '10.99.%d.1\n' "$v" > "$dir/d0/t1.txt.tmp"
            t0=$(date +%s%N); mv "$dir/d0/t1.txt.tmp" "$dir/d0/t1.txt"
            for ((i = 0; i < 1000; i++)); do
                "$build/ctl/pdynctl" --dir "$dir/ctl" query "t1.$dom" A 2>/dev/null | grep -q "10\.99\.$v\.1" && break
                sleep 0.002
            done
            lat+=($(( ($(date +%s%N) - t0) / 1000000 )))
        done
        edit_p50[$n]=$(median "${lat[@]}")
        edit_max[$n]=$(printf '%s\n' "${lat[@]}" | sort -n | tail -1)
        t0=$(date +%s%N); stop_copy
        quit[$n]=$(( ($(date +%s%N) - t0) / 1000000 ))
        # lock-step questions for 8 s while polls fall in; then with status and reload asked
        worst_poll[$n]=$(kv max_us "$("$bench/pipebench" during 8 "$dom" 4 "$pdyndns" --config "$dir/config.json" --control-dir "$dir/ctl" 2>/dev/null)")
        ( sleep 3; for i in 1 2 3; do "$build/ctl/pdynctl" --dir "$dir/ctl" status >/dev/null 2>&1; sleep 1; done ) &
        worst_status[$n]=$(kv max_us "$("$bench/pipebench" during 8 "$dom" 4 "$pdyndns" --config "$dir/config.json" --control-dir "$dir/ctl" 2>/dev/null)")
        wait
        ( sleep 3; for i in 1 2; do "$build/ctl/pdynctl" --dir "$dir/ctl" reload >/dev/null 2>&1; sleep 1; done ) &
        worst_reload[$n]=$(kv max_us "$("$bench/pipebench" during 8 "$dom" 4 "$pdyndns" --config "$dir/config.json" --control-dir "$dir/ctl" 2>/dev/null)")
        wait
    done
    ms() { awk -v u="$1" 'BEGIN {printf "%.1f", u / 1000}'; }
    row "100,000 handlers in 1,000 directories: HELO → OK, ms" "${helo[100k]}" "1,000: ${helo[1k]}" "$(ratio "${helo[100k]}" "${helo[1k]}")" "≤ 500"
    row "… idle CPU, % of a core" "${idle[100k]}" "1,000: ${idle[1k]}" "—" "≤ 1"
    row "… worst lock-step round trip over 8 s of polls, ms" "$(ms "${worst_poll[100k]}")" "1,000: $(ms "${worst_poll[1k]}")" "—" "≤ 5"
    row "… the same while pdynctl status runs 3 times, ms" "$(ms "${worst_status[100k]}")" "1,000: $(ms "${worst_status[1k]}")" "—" "≤ 5"
    row "… the same while pdynctl reload runs 2 times, ms" "$(ms "${worst_reload[100k]}")" "1,000: $(ms "${worst_reload[1k]}")" "—" "≤ 5"
    row "… one list renamed over → first new answer (pdynctl query), p50 / max ms" "${edit_p50[100k]} / ${edit_max[100k]}" \
        "1,000: ${edit_p50[1k]} / ${edit_max[1k]}" "$(ratio "${edit_p50[100k]}" "${edit_p50[1k]}")" "in proportion to the list"
    row "… EOF → exit, ms" "${quit[100k]}" "1,000: ${quit[1k]}" "—" "≤ 100"
fi

# --- health checks: 10,000 addresses every second, on 127.0.0.0/8 only ----------------------
# tcp checks to a port nothing listens on, at 10,000 addresses 127.1.x.y: each is refused at
# once by the loopback (no listener bound to 0.0.0.0 anywhere), so this is the prober's own
# cost per check: a socket, a connect, its result, the state, the file for the other copies
if has health; then
    hp=$(free_port)
    awk 'BEGIN {for (i = 0; i < 10000; i++) printf "127.1.%d.%d\n", int(i / 250), i % 250 + 1}' > "$work/h10k.txt"
    hconf() { # hconf WITH: the 4 names of the lock-step, and with WITH=1 the 10,000 checked addresses
        local extra=
        [ "$1" = 1 ] && extra=", {\"qname\": \"h.$dom\", \"qtype\": \"A\", \"file\": \"h10k.txt\", \"health\": {\"check\": \"tcp\", \"port\": $hp, \"interval\": 1, \"timeout\": 0.5, \"rise\": 1, \"fall\": 2}}"
        config per-question | sed "s|\]}\$|$extra]}|"
    }
    hconf 1 > "$work/health.json"
    hconf 0 > "$work/nohealth.json"
    cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
    mkdir -p "$work/hc"
    rm -f "$work/hc/in"; mkfifo "$work/hc/in"
    "$pdyndns" --config "$work/health.json" --control-dir "$work/hc/ctl" < "$work/hc/in" > /dev/null 2>&1 &
    cp=$!
    exec {cpin}> "$work/hc/in"
    sleep 5 # the first checks (all fail: down after 2), then the steady state
    a=$(cpu_ticks "$cp"); sleep 20; b=$(cpu_ticks "$cp")
    hcpu=$(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", 100 * t / hz / 20}')
    exec {cpin}>&-
    for ((i = 0; i < 2500; i++)); do kill -0 "$cp" 2>/dev/null || break; sleep 0.002; done
    stop_pid "$cp"
    # the same copy idle without checks, for reference
    "$pdyndns" --config "$work/nohealth.json" --control-dir "$work/hc/ctl0" < "$work/hc/in" > /dev/null 2>&1 &
    cp=$!
    exec {cpin}> "$work/hc/in"
    sleep 5
    a=$(cpu_ticks "$cp"); sleep 20; b=$(cpu_ticks "$cp")
    h0cpu=$(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", 100 * t / hz / 20}')
    exec {cpin}>&-
    for ((i = 0; i < 2500; i++)); do kill -0 "$cp" 2>/dev/null || break; sleep 0.002; done
    stop_pid "$cp"
    # the least any prober can spend on the same checks: the kernel's work for 10,000
    # connects a second is most of it (tests/bench/ceiling.c, "probe")
    "$bench/ceiling" probe "$hp" 10000 &
    cp=$!
    sleep 5
    a=$(cpu_ticks "$cp"); sleep 20; b=$(cpu_ticks "$cp")
    ccpu=$(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", 100 * t / hz / 20}')
    stop_pid "$cp"
    row "10,000 addresses checked every second (tcp, refused on 127.1.x.y): the prober's CPU, % of a core" \
        "$hcpu" "ceiling probe: $ccpu" "$(ratio "$hcpu" "$ccpu")" "≤ 5, or ≤ 1.5 × the ceiling where it is over 5"
    row "… the same copy without checks, % of a core" "$h0cpu" "—" "—" "—"
    # lock-step questions to the other names for 8 s (after 1 s of warm-up: the prober has
    # started) while the checks run, against the same without
    p_with=() p_without=() o_with=() o_without=()
    for ((r = 0; r < REPEAT; r++)); do
        line=$("$bench/pipebench" during 8 $dom $names "$pdyndns" --config "$work/nohealth.json" --control-dir "$work/hc/l0")
        p_without+=("$(kv p99_us "$line")") o_without+=("$(kv over_1ms "$line")")
        line=$("$bench/pipebench" during 8 $dom $names "$pdyndns" --config "$work/health.json" --control-dir "$work/hc/l1")
        p_with+=("$(kv p99_us "$line")") o_with+=("$(kv over_1ms "$line")")
    done
    a=$(median "${p_with[@]}") b=$(median "${p_without[@]}")
    row "… lock-step round trip p99 while they run (8 s), µs" "$a" "no checks: $b" "$(ratio "$a" "$b")" "≤ 1.1"
    row "… round trips over 1 ms in those 8 s" "$(median "${o_with[@]}")" "no checks: $(median "${o_without[@]}")" "—" "—"
    # detection: a listener on 127.0.0.2 closes; questions until the first answer without it
    line=$(/usr/bin/python3 - "$pdyndns" "$work/hd" "$(free_port)" "$dom" "$REPEAT" <<'PY'
import json, os, random, socket, subprocess, sys, time
pdyndns, d, port, dom, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
os.makedirs(d, exist_ok=True)
open(os.path.join(d, "d.txt"), "w").write("127.0.0.1\n127.0.0.2\n")
interval, timeout, fall = 1.0, 0.5, 2
json.dump({"domain": dom, "soa": "a.example.net. h.example.net. 1 2 3 4 5", "nameservers": ["a.example.net"],
           "ttl": 0, "loglevel": "error", "advance": "per-lookup",
           "handlers": [{"qname": "d." + dom, "qtype": "A", "file": "d.txt", "policy": "all",
                         "health": {"check": "tcp", "port": port, "interval": interval, "timeout": timeout,
                                    "rise": 1, "fall": fall}}]},
          open(os.path.join(d, "config.json"), "w"))
def listen(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, port))
    s.listen(512)
    s.setblocking(False)
    return s
keep = [listen("127.0.0.1")]
two = listen("127.0.0.2")
p = subprocess.Popen([pdyndns, "--config", os.path.join(d, "config.json"), "--control-dir", os.path.join(d, "ctl")],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
p.stdin.write(b"HELO\t3\n")
p.stdout.readline()
q = ("Q\td.%s\tIN\tA\t1\t127.0.0.1\t127.0.0.1\t127.0.0.1/32\n" % dom).encode()
def answer():
    p.stdin.write(q)
    got = []
    while True:
        l = p.stdout.readline().decode().rstrip("\n").split("\t")
        if l[0] == "END":
            return got
        if l[0] == "DATA":
            got.append(l[-1])
def drain(s):  # accepts what the checks opened
    try:
        while True:
            s.accept()[0].close()
    except (BlockingIOError, OSError):
        pass
def wait(pred, limit):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        for s in keep + ([two] if two else []):
            drain(s)
        if pred(answer()):
            return time.monotonic() - t0
        time.sleep(0.0002)
    return None
wait(lambda a: False, 3)  # the first checks
took = []
for r in range(n):
    time.sleep(random.uniform(0, interval))  # any phase of the checks
    t0 = time.monotonic()
    two.close()
    two = None
    t = wait(lambda a: "127.0.0.2" not in a, 10)
    took.append(t * 1000 if t is not None else float("inf"))
    two = listen("127.0.0.2")
    wait(lambda a: "127.0.0.2" in a, 10)
p.stdin.close()
p.wait()
took.sort()
print("p50_ms=%.0f max_ms=%.0f goal_ms=%.0f" % (took[len(took) // 2], took[-1], (interval * fall + timeout) * 1000 + 10))
PY
)
    row "… detection: a server stops → the first answer without it (interval 1 s, fall 2, timeout 0.5 s), p50 / max ms" \
        "$(kv p50_ms "$line") / $(kv max_ms "$line")" "—" "—" "≤ $(kv goal_ms "$line")"
fi
