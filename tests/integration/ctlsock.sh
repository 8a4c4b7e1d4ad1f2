#!/bin/bash
# SPDX-License-Identifier: MIT
# Control sockets that come back, with the copies the real PowerDNS starts
# (distributor-threads=3): every socket removed ("cleaning stale sockets"), then the whole
# control directory removed, then the directory replaced by a new empty one. Each time every
# copy is listed again by pdynctl within a bounded wait, a reload reaches every one of them,
# and each copy warned once, saying what happened, and said when it was reachable again; a
# directory it had to make has mode 0750.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
write_zone "$work/zone"
dir=$work/pdns ctl=$work/pdns/ctl
start_pdns "$dir" "$work/zone/config.json" 3 "distributor-threads=3" || { fail "start"; finish; }
C() { timeout 20 "$PDYNCTL" --dir "$ctl" --timeout 5 "$@"; }
listed() { C --json list 2>/dev/null | jq -r '[.copies[].pid] | sort | join(" ")'; }

# every copy is up once each has its socket: 3 UDP + 1 TCP
for _ in $(seq 50); do [ "$(C --json list 2>/dev/null | jq '.copies | length')" -ge 4 ] && break; sleep 0.1; done
pids=$(listed)
n=$(wc -w <<< "$pids")
[ "$n" -ge 4 ] && ok || fail "pdynctl list sees $n copies, expected at least 4 (3 UDP + 1 TCP)"

# back TAG FROM WHAT: after an attack on the sockets made at line FROM of pdns.log, every copy
# listed again within 20 s, a reload through every one, and in the log, for each copy, one
# warning matching WHAT (@PID@: its pid) and one line saying it listens again
back() {
    local tag=$1 from=$2 what=$3 p i out log
    for ((i = 0; i < 100; i++)); do [ "$(listed)" = "$pids" ] && break; sleep 0.2; done
    expect_eq "$tag: every copy listed again" "$pids" "$(listed)"
    out=$(C reload 2>&1)
    expect_eq "$tag: pdynctl reload exit status ($out)" 0 $?
    expect_eq "$tag: the reload applied by every copy" "$n" "$(grep -c 'generation [0-9]* applied' <<< "$out")"
    # (the shared rotation's counter file is there too: shared.sh checks it)
    expect_eq "$tag: one socket for each copy, no other socket or name being set up" \
        "$(for p in $pids; do echo "pdyndns.$p.sock"; done | sort)" \
        "$(ls -A "$ctl" | grep -v '^rotation\.counters$' | sort)"
    sleep 2.5 # one check more (every 2 s): nothing more is said
    for p in $pids; do
        log=$(tail -n +"$from" "$dir/pdns.log" | grep "pdyndns\[$p\]: ")
        expect_eq "$tag: pid $p warned once" 1 "$(grep -c ': warning: control: ' <<< "$log")"
        expect_match "$tag: pid $p said what happened" "warning: control: ${what//@PID@/$p}" "$log"
        expect_eq "$tag: pid $p: no error" 0 "$(grep -c ': error: ' <<< "$log")"
        expect_eq "$tag: pid $p said it listens again" 1 \
            "$(grep -c "info: control: listening on $ctl/pdyndns\.$p\.sock again; pdynctl reaches this copy" <<< "$log")"
    done
}
logline() { echo $(($(wc -l < "$dir/pdns.log") + 1)); }

# the sockets removed by an operator "cleaning stale sockets"
from=$(logline)
rm -f "$ctl"/*.sock
back "sockets removed" "$from" \
    "$ctl/pdyndns\.@PID@\.sock was removed; pdynctl cannot reach this copy: binding its socket again"

# the directory removed: made again by the copies, as at start
from=$(logline)
rm -rf "$ctl"
back "directory removed" "$from" \
    "the control directory $ctl was (removed|replaced \(removed and made again, or renamed over\));"
expect_eq "directory removed: made again with mode 0750" 750 "$(stat -c %a "$ctl")"

# the directory replaced by a new empty one, in one step (renameat2 RENAME_EXCHANGE); its
# mode is the operator's and stays
from=$(logline)
mkdir -m 0755 "$ctl.new"
python3 - "$ctl.new" "$ctl" <<'PY' || fail "renameat2 RENAME_EXCHANGE"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
if libc.renameat2(AT_FDCWD, sys.argv[1].encode(), AT_FDCWD, sys.argv[2].encode(), RENAME_EXCHANGE) != 0:
    sys.exit(os.strerror(ctypes.get_errno()))
PY
rm -rf "$ctl.new"
back "directory replaced" "$from" \
    "the control directory $ctl was replaced \(removed and made again, or renamed over\);"
expect_eq "directory replaced: its mode left as it was" 755 "$(stat -c %a "$ctl")"

# still answering, and no copy was started again meanwhile
expect_match "questions answered" '^192\.0\.2\.[1-5]$' "$(q +short t1.dyn.example.test A)"
expect_eq "the same copies as at the start" "$pids" "$(listed)"
finish
