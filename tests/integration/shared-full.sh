#!/bin/bash
# SPDX-License-Identifier: MIT
# The shared rotation (the default in coprocess mode) with its control directory on a full
# filesystem, as /run can be (a volatile journal, a runaway writer), through the real
# PowerDNS with 3 threads, in a mount namespace of its own with a 2 MiB tmpfs:
#   - full while the copies run, then a list changes: the counter file's blocks were
#     reserved when it was set up, so nothing faults; the rotation stays one, exact;
#   - full before PowerDNS starts: pdns starts, every question is answered, each copy says
#     once that it rotates alone and why, pdynctl status says so; once there is room again
#     the copies share their rotation again, exact.
# (A sparse counter file made every question fault on a full filesystem: a loop of bus
# errors, a flood of warnings, no answers, and PowerDNS unable to start.)
set -u
if [ -z "${PDYNDNS_FULL_NS:-}" ]; then
    [ "$(id -u)" = 0 ] && command -v unshare >/dev/null || { echo "SKIP: needs root and unshare"; exit 77; }
    exec env PDYNDNS_FULL_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
write_zone "$work/zone"
ctl=$work/run
# under make check-powerdns, pdyndns runs in the root: the tmpfs goes where it sees it
mnt=$PDNS_ROOT$ctl
ctl() { "$PDYNCTL" --dir "$mnt" "$@"; }
fill() { dd if=/dev/zero of="$mnt/filler" bs=4k status=none 2>/dev/null; }
# in_turn TAG N: N questions for t1 A one after the other give the addresses in turn
in_turn() {
    local got first i want
    got=$(for i in $(seq "$2"); do q +short t1.dyn.example.test A; done | tr '\n' ' ')
    first=$(cut -d' ' -f1 <<< "$got")
    mapfile -t l < "$work/zone/t1-v4.txt"
    for i in "${!l[@]}"; do [ "${l[i]}" = "$first" ] && break; done
    want=$(for k in $(seq 0 $(($2 - 1))); do echo "${l[(i + k) % ${#l[@]}]}"; done | tr '\n' ' ')
    expect_eq "$1: $2 questions, the addresses in turn" "$want" "$got"
}
# answered TAG: 30 questions, 6 at a time: all NOERROR with an address
answered() {
    local res
    res=$(seq 30 | xargs -P 6 -I{} "$DIG" +time=2 +tries=1 @127.0.0.1 -p "$PORT" t1.dyn.example.test A 2>&1 |
        sed -n 's/.*status: \([A-Z]*\),.*/\1/p; s/.*\(timed out\).*/TIMEOUT/p' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    expect_match "$1: every question answered" '^ *30 NOERROR;$' "$res"
}
rotation_of_copies() { ctl --json status | jq -r '[.copies[].result.rotation] | unique | join(" ")'; }

for case_ in running start; do
    dir=$work/pdns-$case_
    mkdir -p "$mnt" "$dir"
    mount -t tmpfs -o size=2m tmpfs "$mnt" || { fail "mount a tmpfs on $mnt"; finish; }
    [ "$case_" = start ] && fill
    PIPE_COMMAND="$PDYNDNS --config $work/zone/config.json --control-dir $ctl" \
        start_pdns "$dir" "$work/zone/config.json" 3 "distributor-threads=3" ||
        { fail "$case_: pdns did not start"; umount "$mnt"; continue; }
    log=$dir/pdns.log
    for _ in $(seq 50); do [ "$(ctl --json list 2>/dev/null | jq '.copies | length')" -ge 4 ] && break; sleep 0.1; done
    if [ "$case_" = running ]; then
        expect_eq "running: the copies share one rotation" shared "$(rotation_of_copies)"
        fill
        from=$(wc -l < "$log")
        # a changed list: new counters claimed in the full filesystem's file
        printf '10.2.0.%d\n' 1 2 3 4 5 > "$work/zone/t1.new"; mv "$work/zone/t1.new" "$work/zone/t1-v4.txt"
        wait_log "generation 2 applied" 4 || fail "running: the changed list was not applied"
        answered "running, full"
        in_turn "running, full" 10
        expect_eq "running, full: still one rotation" shared "$(rotation_of_copies)"
        expect_eq "running, full: nothing said about the counter file" "" \
            "$(tail -n +$((from + 1)) "$log" | grep 'shared rotation')"
    else
        answered "start, full"
        expect_eq "start, full: each copy rotates alone" own "$(rotation_of_copies)"
        expect_match "start, full: pdynctl status says so" \
            "rotation: this copy's own: the copies PowerDNS starts \(one per thread\) do not answer in turn" "$(ctl status)"
        expect_eq "start, full: and pdynctl metrics" "pdyndns_rotation_alone 1" "$(ctl metrics | grep '^pdyndns_rotation_alone ')"
        # (PowerDNS may start and stop a copy before the ones that serve: the ones listed)
        pids=$(ctl --json list | jq -r '.copies[].pid')
        copies=$(wc -w <<< "$pids")
        for p in $pids; do
            expect_eq "start, full: one line by copy $p" 1 "$(grep -c "pdyndns\[$p\]: .*shared rotation" "$log")"
        done
        expect_match "start, full: the reason, at error level" \
            "error: shared rotation: $ctl/rotation.counters: cannot reserve [0-9]+ bytes for it: No space left on device; this copy rotates alone" \
            "$(grep 'shared rotation' "$log" | head -1)"
        rm -f "$mnt/filler"
        wait_log "shared rotation: $ctl/rotation.counters can be used again" "$copies" ||
            fail "start: not shared again once there was room"
        expect_eq "start, room again: one rotation" shared "$(rotation_of_copies)"
        expect_eq "start, room again: the gauge back to 0" "pdyndns_rotation_alone 0" "$(ctl metrics | grep '^pdyndns_rotation_alone ')"
        in_turn "start, room again" 10
    fi
    if grep -E 'Child closed pipe|Backend reported|bus error' "$log"; then fail "$case_: a copy died or faulted"; else ok; fi
    stop_pid "$PDNS_PID"
    umount "$mnt"
done
finish
