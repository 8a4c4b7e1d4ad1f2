#!/bin/bash
# SPDX-License-Identifier: MIT
# data/pdns-socket.conf, the shipped settings for socket mode: pdyndns --check --pdns-config
# finds no conflict with the shipped config ("advance": "per-lookup") nor with one that
# advances per question (the Python pdyndns's); and pdns_server, run with exactly its lines
# (pipe-command pointing at this test's socket, and PowerDNS's default 3 distributor
# threads), rotates exactly for both.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
snippet=$top/data/pdns-socket.conf

mkdir -p "$work/lookup" "$work/question"
cp "$top"/data/config.json "$top"/data/*.txt "$work/lookup/"
cp "$top"/data/*.txt "$work/question/"
sed '/"advance"/d' "$top/data/config.json" > "$work/question/config.json"

for mode in lookup question; do
    out=$("$PDYNDNS" --check --config "$work/$mode/config.json" --pdns-config "$snippet" 2>&1); rc=$?
    expect_eq "per-$mode: --check --pdns-config data/pdns-socket.conf: exit 0" 0 $rc
    expect_eq "per-$mode: no conflict" "$work/$mode/config.json: ok: zone dyn.example.test, 3 handlers, 9 addresses
$snippet: ok: consistent with $work/$mode/config.json" "$out"
done

# the snippet's lines after start_pdns's own (the last of a key wins), its pipe-command
# replaced by this test's socket; distributor-threads back to PowerDNS's default
mapfile -t lines < <(grep -v '^#' "$snippet" | grep -v '^pipe-command=' | grep .)
want=$(for i in 1 2 3; do grep -v '^#' "$top/data/www-v4.txt"; done)
for mode in lookup question; do
    sock=$work/$mode.sock
    "$PDYNDNS" --config "$work/$mode/config.json" --control-dir "$work/$mode/ctl" --listen "$sock" \
        2>> "$work/daemon.log" &
    dpid=$!
    pdns_pids+=("$dpid")
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    PIPE_COMMAND=$sock start_pdns "$work/pdns-$mode" "$work/$mode/config.json" 5 "${lines[@]}" \
        "distributor-threads=3" || { fail "per-$mode: start pdns with the snippet"; continue; }
    expect_eq "per-$mode: pdns read the snippet's settings" "launch=pipe consistent-backends=no" \
        "$(grep -E '^(launch|consistent-backends)=' "$work/pdns-$mode/pdns.conf" | tail -2 | tr '\n' ' ' | sed 's/ $//')"
    got=$(for i in $(seq 9); do q +short www.dyn.example.test A; done)
    expect_eq "per-$mode: www A, 3 rounds in file order, across 3 threads" "$want" "$got"
    got=$(seq 9 | xargs -P 3 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" www.dyn.example.test A |
        sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
    expect_eq "per-$mode: 9 questions in parallel: each address 3 times" \
        "192.0.2.10=3 192.0.2.11=3 192.0.2.12=3 " "$got"
    stop_pid "$PDNS_PID"
    stop_pid "$dpid"
done
finish
