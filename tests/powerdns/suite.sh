#!/bin/bash
# SPDX-License-Identifier: MIT
# One release of make check-powerdns (run by tests/powerdns/check.sh inside unshare --mount):
# mounts /proc, /tmp and the source and build trees into the root, runs every
# tests/integration/*.sh with PDNS_ROOT set (two at a time, PDNS_JOBS), writes each one's
# output to LOGDIR/NAME.log and "PASS FAIL SKIP" to LOGDIR/counts, and undoes the mounts at
# exit (also on a failure, SIGINT or SIGTERM).
#
# suite.sh SRCDIR BUILDDIR ROOT LOGDIR VERSION
set -u
src=$1 bt=$2 root=$3 logs=$4 version=$5
mounted=()
running=()
cleanup() {
    local i p
    for p in "${running[@]}"; do kill -TERM -- -"$p" 2>/dev/null; done
    for p in "${running[@]}"; do wait "$p" 2>/dev/null; done
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" ||
            echo "cannot unmount ${mounted[i]} (it goes with this mount namespace)"
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bind DIR: DIR of the host at the same path inside the root
bind() {
    [ -n "$(findmnt -n -o TARGET --mountpoint "$root$1" 2>/dev/null)" ] && return 0 # same tree twice
    mkdir -p "$root$1" && mount --bind "$1" "$root$1" && mounted+=("$root$1")
}
mount -t proc proc "$root/proc" && mounted+=("$root/proc") || exit 1
tmp=${TMPDIR:-/tmp}
for d in "$tmp" "$src" "$bt"; do
    bind "$d" || { echo "cannot bind-mount $d into $root"; exit 1; }
done

pass=0 fail=0 skip=0
jobs=${PDNS_JOBS:-2}
declare -A name_of
# reap: waits for one test to end and counts it
reap() {
    local p rc name keep=()
    wait -n -p p "${running[@]}"
    rc=$?
    name=${name_of[$p]}
    for k in "${running[@]}"; do [ "$k" = "$p" ] || keep+=("$k"); done
    running=("${keep[@]}")
    case $rc in
    0) pass=$((pass + 1)); echo "PASS: $name" ;;
    77) skip=$((skip + 1)); echo "SKIP: $name: $(grep -m1 '^SKIP' "$logs/$name.log")" ;;
    *) fail=$((fail + 1)); echo "FAIL: $name (exit $rc); the end of $logs/$name.log:"
       tail -n 25 "$logs/$name.log" | sed 's/^/    /' ;;
    esac
}
for t in ${ONLY_TESTS:-"$src"/tests/integration/*.sh}; do
    name=$(basename "$t" .sh)
    [ "$name" = lib ] && continue
    while [ "${#running[@]}" -ge "$jobs" ]; do reap; done
    # each test in a process group of its own (setsid) so that an interrupt can end it whole;
    # timeout bounds a test that hangs
    PDNS_ROOT=$root PDYNDNS=$bt/daemon/pdyndns PDYNCTL=$bt/ctl/pdynctl top_srcdir=$src \
        top_builddir=$bt TESTDATA=$src/tests/data \
        setsid timeout 600 bash "$t" > "$logs/$name.log" 2>&1 < /dev/null &
    running+=("$!")
    name_of[$!]=$name
done
while [ "${#running[@]}" -gt 0 ]; do reap; done
echo "$pass $fail $skip" > "$logs/counts"
