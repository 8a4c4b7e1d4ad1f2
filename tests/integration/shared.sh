#!/bin/bash
# SPDX-License-Identifier: MIT
# The shared rotation (coprocess mode's default) through the real PowerDNS (distributor-
# threads=3): the copies share one rotation through the counter file in the control directory, so rotation
# is exact whichever copy answers, also for questions in parallel; a changed list starts at
# its first address in every copy, an unchanged one goes on. Then the counter file is
# truncated, grown, removed, renamed over, overwritten and replaced by what is not a file
# under the running copies: they answer every question, none dies, each logs one line per
# event, and they share their rotation again once the file is usable. Last, with
# --no-shared-rotation each copy rotates on its own, and says so.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
write_zone "$work/zone"
dir=$work/pdns
start_pdns "$dir" "$work/zone/config.json" 3 "distributor-threads=3" || { fail "start"; finish; }
check_rotation "shared rotation, 3 copies" "$work/zone"
[ -f "$dir/ctl/rotation.counters" ] && ok || fail "no counter file in the control directory"

# 30 questions for the 5 addresses of t1 A, ten at a time: each address 6 times
got=$(seq 30 | xargs -P 10 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" t1.dyn.example.test A |
    sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
expect_eq "parallel questions: each address 6 times" \
    "192.0.2.1=6 192.0.2.2=6 192.0.2.3=6 192.0.2.4=6 192.0.2.5=6 " "$got"
copies=$(cat /proc/"$PDNS_PID"/task/*/children | wc -w)
[ "$copies" -ge 3 ] && ok || fail "expected at least 3 copies, saw $copies"

# a changed list starts from its first address in every copy; t1 AAAA (unchanged) goes on
# every question for t1 advances both of its lists: 19 in check_rotation, 30 above, 2 here,
# 6 below; so AAAA answers next with #57 % 4 = 1 if it goes on, #0 had it started again
q +short t1.dyn.example.test AAAA t1.dyn.example.test AAAA > /dev/null
printf '192.0.2.%d\n' 11 12 13 > "$work/zone/t1-v4.new"
mv "$work/zone/t1-v4.new" "$work/zone/t1-v4.txt"
for _ in $(seq 50); do
    n=$(grep -c "generation 2 applied" "$dir/pdns.log")
    [ "$n" -ge "$copies" ] && break
    sleep 0.1
done
got=$(for i in $(seq 6); do q +short t1.dyn.example.test A; done | tr '\n' ' ')
expect_eq "a changed list: from its first address, across copies" \
    "192.0.2.11 192.0.2.12 192.0.2.13 192.0.2.11 192.0.2.12 192.0.2.13 " "$got"
got=$(for i in $(seq 4); do q +short t1.dyn.example.test AAAA; done | tr '\n' ' ')
expect_eq "an unchanged list goes on" "2001:db8::2 2001:db8::3 2001:db8::4 2001:db8::1 " "$got"
# back to the list before: from its first address too (its old counter does not go on)
printf '192.0.2.%d\n' 1 2 3 4 5 > "$work/zone/t1-v4.new"
mv "$work/zone/t1-v4.new" "$work/zone/t1-v4.txt"
for _ in $(seq 50); do
    [ "$(grep -c "generation 3 applied" "$dir/pdns.log")" -ge "$copies" ] && break
    sleep 0.1
done
got=$(for i in $(seq 6); do q +short t1.dyn.example.test A; done | tr '\n' ' ')
expect_eq "a list switched back: from its first address, across copies" \
    "192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.1 " "$got"

# --- the counter file under attack --------------------------------------------------------
counters=$dir/ctl/rotation.counters
copies_now() { tr ' ' '\n' < <(cat /proc/"$PDNS_PID"/task/*/children) | grep . | sort -n | tr '\n' ' '; }
pids=$(copies_now)
# the log since line $from matching PATTERN
since() { tail -n +"$((from + 1))" "$dir/pdns.log" | grep -E -- "$1"; }
# unanswered N: how many of N questions for t1 A got no address (SERVFAIL, timeout, ...)
unanswered() {
    local i out bad=0
    for i in $(seq "$1"); do
        out=$(q t1.dyn.example.test A)
        grep -q 'status: NOERROR' <<< "$out" && grep -qE '^t1\.dyn\.example\.test\..*IN.A.192\.0\.2\.' <<< "$out" ||
            bad=$((bad + 1))
    done
    echo "$bad"
}
# settled PATTERN: every copy has logged a line matching PATTERN about the file since $from
settled() {
    local p missing
    for _ in $(seq 100); do # the copies check the file every 2 s
        missing=0
        for p in $pids; do since "pdyndns\[$p\]: $1" > /dev/null || missing=1; done
        [ "$missing" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}
# episode TAG PATTERN: after an attack, questions are answered, no copy died, every copy
# logged exactly one line (matching PATTERN) about the file, and at least one is a warning
episode() {
    local tag=$1 pat=$2 p n
    expect_eq "$tag: questions answered" 0 "$(unanswered 10)"
    settled "[a-z]*: shared rotation: $counters" || fail "$tag: not every copy noticed"
    expect_eq "$tag: the same copies" "$pids" "$(copies_now)"
    if since 'Child closed pipe|Backend launched|Backend reported'; then fail "$tag: a copy died"; else ok; fi
    for p in $pids; do
        n=$(since "pdyndns\[$p\]: [a-z]*: shared rotation: $counters" | wc -l)
        expect_eq "$tag: lines logged by copy $p" 1 "$n"
        since "pdyndns\[$p\]: [a-z]*: shared rotation: $counters" | grep -qE -- "$pat" ||
            fail "$tag: copy $p: expected /$pat/: $(since "pdyndns\[$p\]: [a-z]*: shared rotation:")"
    done
    since "warning: shared rotation: $counters" > /dev/null && ok || fail "$tag: no warning"
}
# shared_exact TAG: 6 questions per address of t1 A, ten at a time: each address 6 times
shared_exact() {
    local want got n
    n=$(grep -c . "$work/zone/t1-v4.txt")
    want=$(sed 's/$/=6/' "$work/zone/t1-v4.txt" | sort | tr '\n' ' ')
    got=$(seq $((6 * n)) | xargs -P 10 -I{} "$DIG" +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" \
        t1.dyn.example.test A | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
    expect_eq "$1: the copies share their rotation" "$want" "$got"
}
back='set it up again|sharing the counters of the file now there|set up again by another copy'
alone='cannot be used: .*this copy rotates alone until it can'

from=$(wc -l < "$dir/pdns.log"); truncate -s 0 "$counters"
episode "truncated to 0" "$back"; shared_exact "truncated to 0"
from=$(wc -l < "$dir/pdns.log"); truncate -s 100 "$counters"
episode "truncated to 100 bytes" "$back"; shared_exact "truncated to 100 bytes"
# a larger file changes nothing: the next episode counts one line per copy since this one
from=$(wc -l < "$dir/pdns.log"); truncate -s +1M "$counters"
expect_eq "grown: questions answered" 0 "$(unanswered 10)"
rm "$counters"
episode "grown, then removed" "$back"; shared_exact "removed"
cp "$counters" "$work/counters.copy"
from=$(wc -l < "$dir/pdns.log"); mv "$work/counters.copy" "$counters"
episode "renamed over with a copy" "sharing the counters of the file now there"; shared_exact "renamed over"
# a header of 0 counters, then of 2^40 with a reload at once: the table's size is never read back
from=$(wc -l < "$dir/pdns.log"); printf '\0\0\0\0\0\0\0\0' | dd of="$counters" bs=1 seek=8 conv=notrunc status=none
episode "0 counters in the header" "$back"; shared_exact "0 counters in the header"
from=$(wc -l < "$dir/pdns.log")
printf '\0\0\0\0\0\1\0\0' | dd of="$counters" bs=1 seek=8 conv=notrunc status=none
printf '192.0.2.%d\n' 21 22 > "$work/zone/t1-v4.new"; mv "$work/zone/t1-v4.new" "$work/zone/t1-v4.txt"
episode "2^40 counters in the header, and a reload" "$alone"
grep -q "generation 4 applied" "$dir/pdns.log" && ok || fail "the reload was not applied"
from=$(wc -l < "$dir/pdns.log"); rm "$counters"
settled "info: shared rotation: $counters can be used again" && ok || fail "not used again after 2^40"
shared_exact "removed after 2^40 counters"
# overwritten with garbage in place; then a FIFO in its place
from=$(wc -l < "$dir/pdns.log")
head -c 64 /dev/urandom | dd of="$counters" conv=notrunc status=none
episode "garbage header" "$alone"
rm "$counters"; mkfifo "$counters"
from=$(wc -l < "$dir/pdns.log"); rm "$counters"
settled "info: shared rotation: $counters can be used again" && ok || fail "not used again after garbage"
expect_eq "no line about the FIFO (the copies were alone already)" "" \
    "$(since "warning: shared rotation: $counters")"
shared_exact "removed after garbage"
from=$(wc -l < "$dir/pdns.log"); rm "$counters"; mkfifo "$counters"
episode "a FIFO" "cannot be used: it is not a regular file \\(a FIFO\\); this copy rotates alone"
from=$(wc -l < "$dir/pdns.log"); rm "$counters"
settled "info: shared rotation: $counters can be used again" && ok || fail "not used again after the FIFO"
shared_exact "removed after the FIFO"
expect_eq "status: one rotation, shared" shared \
    "$("$PDYNCTL" --dir "$dir/ctl" --json status | jq -r '[.copies[].result.rotation] | unique | join(" ")')"
stop_pid "$PDNS_PID"

# --no-shared-rotation: each copy its own counters, said at start and by status; no file
dir=$work/pdns-own
PIPE_COMMAND="$PDYNDNS --config $work/zone/config.json --control-dir $dir/ctl --no-shared-rotation" \
    start_pdns "$dir" "$work/zone/config.json" 3 "distributor-threads=3" || { fail "start --no-shared-rotation"; finish; }
for _ in $(seq 50); do [ "$("$PDYNCTL" --dir "$dir/ctl" --json list 2>/dev/null | jq '.copies | length')" -ge 4 ] && break; sleep 0.1; done
expect_eq "--no-shared-rotation: each copy its own" own \
    "$("$PDYNCTL" --dir "$dir/ctl" --json status | jq -r '[.copies[].result.rotation] | unique | join(" ")')"
expect_match "--no-shared-rotation: pdynctl status says so" "rotation: this copy's own" "$("$PDYNCTL" --dir "$dir/ctl" status)"
grep -q "info: rotation: this copy's own (--no-shared-rotation)" "$dir/pdns.log" && ok || fail "--no-shared-rotation: not logged"
[ ! -e "$dir/ctl/rotation.counters" ] && ok || fail "--no-shared-rotation: a counter file was made"
stop_pid "$PDNS_PID"

# a counter file made by root (a copy started by hand, or by pdnsutil) goes to the owner and
# group of its directory, 0660, so that the copies PowerDNS runs as its own user can use it
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    top_d=$(mktemp -d /tmp/pdyndns-owned.XXXXXX) && chmod 755 "$top_d" # (nobody passes)
    d=$top_d/run
    mkdir -p "$d" && chown nobody:nogroup "$d" && chmod 1775 "$d"
    # (a config with a health check, so that the copy takes part in the election: its lock)
    sed 's|"file": "t1-v4.txt"}|"file": "t1-v4.txt", "health": {"check": "tcp", "port": 9}}|' \
        "$work/zone/config.json" > "$work/zone/health.json"
    printf 'HELO\t3\n' | "$PDYNDNS" --config "$work/zone/health.json" --control-dir "$d" >/dev/null 2>&1
    expect_eq "made by root: its directory's owner and group, 0660" "nobody:nogroup 660" \
        "$(stat -c '%U:%G %a' "$d/rotation.counters" 2>&1)"
    expect_eq "made by root: the health checks' lock too" "nobody:nogroup 660" \
        "$(stat -c '%U:%G %a' "$d/health.lock" 2>&1)"
    out=$(printf 'HELO\t3\n' | setpriv --reuid nobody --regid nogroup --clear-groups \
        "$PDYNDNS" --config "$work/zone/config.json" --control-dir "$d" 2>&1 >/dev/null)
    if grep 'shared rotation:' <<< "$out" | grep -qv '^pdyndns\[[0-9]*\]: info: shared rotation: [^:]*$'; then
        fail "made by root: a copy running as nobody cannot share it: $out"
    else ok; fi
    rm -rf "$top_d"
fi
finish
