#!/bin/bash
# SPDX-License-Identifier: MIT
# A rotation never freezes without a word (issue 15). The Python pdyndns's config (no
# "advance": per question) behind the cache lines of data/pdns.conf, through the real
# PowerDNS: the SOA lookups that per-question advance counts questions by stop coming.
#   - ABI 3+ (data/pdns.conf has 5): the rotation stays exact, each copy that saw it logs one
#     warning naming the setting, and pdynctl status says the rotation is stalled. A live
#     switch to "advance": "per-lookup" applies at once (no address sits in the query cache).
#   - ABI 1 and 2 cannot mark answers uncacheable, so PowerDNS's query cache keeps the first
#     answer: frozen for query-cache-ttl, but warned and shown.
#   - The same with PowerDNS's 3 threads: exact across the copies.
#   - Caches off, consistent-backends yes and no: no warning and exact rotation (a normal
#     question sequence, NXDOMAIN, the apex, names outside the zone and AXFR).
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
write_zone "$work/zone"
shipped=(consistent-backends=no query-cache-ttl=20 negquery-cache-ttl=10 cache-ttl=0)
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
# the warnings, one line per copy that logged one: "COUNT PID"
warnings() { sed -n 's/^pdyndns\[\([0-9]*\)\]: warning: rotation stalled: .*/\1/p' "$dir/pdns.log" | sort | uniq -c; }
# each copy's status header: "PID STALLED STALLS"
copies() { ctl --json status | jq -r '.copies[] | select(.result) | "\(.result.pid) \(.result.rotation_stalled) \(.result.stalls)"' | sort; }

# --- per question behind data/pdns.conf's caches, ABI 5 and 3 -----------------------------
for abi in 5 3; do
    dir=$work/shipped$abi
    start_pdns "$dir" "$work/zone/config.json" "$abi" "${shipped[@]}" || { fail "start abi $abi"; continue; }
    tag="ABI $abi, per question, shipped caches"
    check_rotation "$tag" "$work/zone"
    got=$(warnings)
    expect_match "$tag: a warning" '^ *1 [0-9]+$' "$(echo "$got" | head -1)"
    expect_eq "$tag: each copy warned once" "" "$(echo "$got" | awk '$1 != 1')"
    expect_match "$tag: the warning names the setting" \
        'warning: rotation stalled: .*Set "advance": "per-lookup" in the config with consistent-backends=no and pipe-abi-version=3 or later .* or query-cache-ttl=0 and negquery-cache-ttl=0 in pdns.conf' \
        "$(cat "$dir/pdns.log")"
    # status: the copy that warned says stalled, with a count; pdynctl's words for it
    pid=$(echo "$got" | awk 'NR == 1 {print $2}')
    expect_match "$tag: status JSON of the copy that warned" "^$pid true [1-9][0-9]*\$" "$(copies | grep "^$pid ")"
    expect_match "$tag: pdynctl status says so" 'rotation STALLED: [1-9][0-9]* times questions came without the SOA lookups' \
        "$("$PDYNCTL" --socket "$dir/ctl/pdyndns.$pid.sock" status 2>&1)"
    # a question for another name, more of the same: still one warning
    for i in 1 2 3; do q +short only6.dyn.example.test AAAA >/dev/null; done
    expect_eq "$tag: still one warning per copy" "" "$(warnings | awk '$1 != 1')"

    # the fix the warning names, live: exact at once, and status no longer says stalled
    if [ "$abi" = 5 ]; then
        sed 's/"loglevel": "info",/&\n  "advance": "per-lookup",/' "$work/zone/config.json" > "$work/zone/per-lookup.json"
        cp "$work/zone/config.json" "$work/zone/per-question.json"
        cp "$work/zone/per-lookup.json" "$work/zone/config.json"
        ctl reload >/dev/null 2>&1 || fail "$tag: reload to per-lookup"
        got=$(for i in $(seq 10); do q +short t1.dyn.example.test A; done | sort | uniq -c | awk '{print $1}' | sort -u)
        expect_eq "$tag: per-lookup at once: 10 questions over 5 addresses, 2 each" 2 "$got"
        expect_eq "$tag: per-lookup: no copy says stalled" "" "$(copies | awk '$2 == "true"')"
        cp "$work/zone/per-question.json" "$work/zone/config.json"
    fi
    stop_pid "$PDNS_PID"
done

# --- the same with PowerDNS's default 3 threads: one copy each, one query cache for all ----
# The query cache, which every thread shares, keeps the NS probes of consistent-backends=no
# from all but the copy that saw them first: the others learn from it (a hint in the shared
# counter file), and the rotation stays exact across the copies.
dir=$work/shipped-threads
start_pdns "$dir" "$work/zone/config.json" 5 "${shipped[@]}" distributor-threads=3 ||
    fail "start with 3 threads"
check_rotation "ABI 5, per question, shipped caches, 3 threads" "$work/zone"
stop_pid "$PDNS_PID"

# --- ABI 1 and 2: the query cache keeps the answer; frozen, but said ------------------------
# (a short negquery-cache-ttl, so that the SOA walk gets through cut short sooner)
for abi in 1 2; do
    dir=$work/noscope$abi
    start_pdns "$dir" "$work/zone/config.json" "$abi" consistent-backends=no query-cache-ttl=60 negquery-cache-ttl=1 ||
        { fail "start abi $abi"; continue; }
    tag="ABI $abi, per question, query cache on"
    expect_eq "$tag: first answer" 192.0.2.1 "$(q +short t1.dyn.example.test A)"
    for i in $(seq 50); do
        [ -n "$(warnings)" ] && break
        sleep 0.2
        q +short t1.dyn.example.test A >/dev/null
    done
    got=$(warnings)
    expect_match "$tag: a warning" '^ *1 [0-9]+$' "$got"
    expect_match "$tag: it says the rotation moves once per query-cache-ttl" \
        'an SOA walk stopped short of the zone.s apex.*With pipe-abi-version 1 or 2 PowerDNS keeps each answer for query-cache-ttl' \
        "$(cat "$dir/pdns.log")"
    pid=$(echo "$got" | awk '{print $2}')
    expect_match "$tag: status says stalled" "^$pid true [1-9][0-9]*\$" "$(copies | grep "^$pid ")"
    stop_pid "$PDNS_PID"
done

# --- caches off: no false alarm, exact rotation ---------------------------------------------
for abi in 1 5; do
    for cb in yes no; do
        dir=$work/off$abi-$cb
        start_pdns "$dir" "$work/zone/config.json" "$abi" "consistent-backends=$cb" || { fail "start abi $abi cb $cb"; continue; }
        tag="ABI $abi, consistent-backends=$cb, caches off"
        check_rotation "$tag" "$work/zone"
        expect_eq "$tag: NXDOMAIN below t1" NXDOMAIN "$(status_of x.t1.dyn.example.test A)"
        expect_eq "$tag: NXDOMAIN" NXDOMAIN "$(status_of nope.dyn.example.test A)"
        expect_eq "$tag: the apex" NOERROR "$(status_of dyn.example.test A)"
        expect_eq "$tag: outside the zone" REFUSED "$(status_of www.other.test A)"
        expect_match "$tag: AXFR" 'dyn\.example\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+SOA' \
            "$(q dyn.example.test AXFR)"
        expect_eq "$tag: t1 A goes on after all that (x.t1 moved it once)" 192.0.2.1 "$(q +short t1.dyn.example.test A)"
        expect_eq "$tag: no warning" "" "$(grep 'rotation stalled' "$dir/pdns.log")"
        expect_eq "$tag: no copy stalled" "" "$(copies | awk '$2 != "false" || $3 != 0')"
        expect_match "$tag: the copies report" '^[0-9]+ false 0$' "$(copies | head -1)"
        stop_pid "$PDNS_PID"
    done
done
finish
