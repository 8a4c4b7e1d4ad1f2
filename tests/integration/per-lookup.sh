#!/bin/bash
# SPDX-License-Identifier: MIT
# "advance": "per-lookup" with consistent-backends=no, through the real PowerDNS: rotation
# stays exact with PowerDNS's query and negative caches on, NXDOMAIN stays correct, and
# after the first question each question costs one lookup. Also: per-lookup is exact with
# caches off on ABI 1 and 2 (which warn about the query cache). The default per-question
# advance under the same caches: stalled.sh.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
write_zone "$work/zone"
sed 's/"loglevel": "info",/&\n  "advance": "per-lookup",/' "$work/zone/config.json" > "$work/zone/per-lookup.json"
caches=(consistent-backends=no query-cache-ttl=60 negquery-cache-ttl=60)
lookups() { grep -c "Query: 'Q" "$1/pdns.log"; }

for abi in 3 4 5; do
    dir=$work/abi$abi
    start_pdns "$dir" "$work/zone/per-lookup.json" "$abi" "${caches[@]}" query-logging=yes ||
        { fail "start abi $abi"; continue; }
    tag="ABI $abi, per-lookup, caches on"
    check_rotation "$tag" "$work/zone"
    for i in 1 2; do
        expect_eq "$tag: unknown name, ask $i" NXDOMAIN "$(status_of nope.dyn.example.test A)"
        expect_eq "$tag: below a handler, ask $i" NXDOMAIN "$(status_of x.t1.dyn.example.test A)"
    done
    expect_eq "$tag: apex SOA" NOERROR "$(status_of dyn.example.test SOA)"
    # warm now: 20 questions at t1 are 20 lookups, one ANY each
    before=$(lookups "$dir")
    got=$(for i in $(seq 20); do q +short t1.dyn.example.test A; done | sort | uniq -c | awk '{print $1}' | sort -u)
    expect_eq "$tag: 20 questions over 5 addresses, 4 each" 4 "$got"
    expect_eq "$tag: lookups for 20 warm questions" 20 "$(($(lookups "$dir") - before))"
    # ECS: no scope shows without edns-subnet-processing
    expect_eq "$tag: no ECS option in the reply" "" "$(q +subnet=192.0.2.0/24 t1.dyn.example.test A | grep -i CLIENT-SUBNET)"
    stop_pid "$PDNS_PID"
done

# per-lookup with caches off is exact on every ABI, ABI 1 and 2 included (no scope field),
# and ABI 1/2 get a warning that the query cache must stay off
for abi in 1 2; do
    dir=$work/nocache$abi
    start_pdns "$dir" "$work/zone/per-lookup.json" "$abi" consistent-backends=no || { fail "start abi $abi"; continue; }
    check_rotation "ABI $abi, per-lookup, caches off" "$work/zone"
    expect_match "ABI $abi: warning about the query cache" \
        "pipe-abi-version $abi cannot mark answers uncacheable" "$(cat "$dir/pdns.log")"
    stop_pid "$PDNS_PID"
done

finish
