#!/bin/bash
# SPDX-License-Identifier: MIT
# Lists on a filesystem with whole-second timestamps (ext4 made with 128-byte inodes, as
# ext3 and old small filesystems; vfat keeps 2 s), through the real PowerDNS: a list
# rewritten in place twice within one second, both versions the same size, leaves the
# file's identity (inode, size, mtime and ctime) as it was after the first write. The
# second is still served: a file whose times are not yet 2 s older than its last read
# counts as changed, both for the reload the event of its close starts and for the poll.
# Runs in a private mount namespace on a loop device.
set -u
if [ -z "${COARSE_NS:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a loop mount)"; exit 77; }
    for t in unshare mkfs.ext4 losetup; do
        command -v "$t" > /dev/null || { echo "SKIP: $t not installed"; exit 77; }
    done
    exec env COARSE_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_pdns
# z: the lists' directory as pdyndns sees it; m: where the test mounts and writes it (under
# make check-powerdns pdyndns runs in the root, which sees the mount there)
img=$work/fs.img z=$work/zone
m=$PDNS_ROOT$z
truncate -s 16M "$img"
mkfs.ext4 -q -F -I 128 "$img" 2>&1 | grep -v 2038
mkdir -p "$m"
mount -o loop "$img" "$m" 2>/dev/null || { echo "SKIP: no loop device to mount on"; exit 77; }
# pdns stopped and the filesystem unmounted before the work directory goes
trap 'for p in "${pdns_pids[@]}"; do stop_pid "$p"; done; umount "$m"; cleanup' EXIT
list() { printf '10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1"; }
list 1 > "$m/x.txt"
expect_eq "whole-second timestamps on the test filesystem" 000000000 "$(stat -c %y "$m/x.txt" | sed 's/.*\.\([0-9]*\) .*/\1/')"
cat > "$m/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "info",
 "handlers": [{"qname": "x.dyn.example.test", "qtype": "A", "file": "x.txt", "policy": "all"}]}
JSON
start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }
answer() { q +short x.dyn.example.test A | sort | tr '\n' ' '; }
# within MS: the answer is the list of version V (a bounded wait, by count and time)
within() {
    local ms=$1 want t0 a
    want=$(list "$2" | tr '\n' ' ') t0=$(date +%s%N)
    for _ in $(seq 200); do
        a=$(answer)
        [ "$a" = "$want" ] && return 0
        [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt "$ms" ] || break
        sleep 0.02
    done
    echo "  still '$a' after $ms ms"
    return 1
}
for r in 1 2 3; do
    a=$((2 * r)) b=$((2 * r + 1))
    # the start of a second (bounded), then two writes 200 ms apart
    for _ in $(seq 200); do [ "$(date +%N | cut -c1)" = 0 ] && break; sleep 0.01; done
    list $a > "$m/x.txt"; sleep 0.2; list $b > "$m/x.txt"
    within 1000 $b && ok || fail "round $r: the second of two writes within a second, read at its close"
    sleep 3 # past a poll too
    expect_eq "round $r: the second write served 3 s later" "$(list $b | tr '\n' ' ')" "$(answer)"
done
finish
