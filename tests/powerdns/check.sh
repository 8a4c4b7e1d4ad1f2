#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-powerdns: the integration tests (tests/integration/*.sh) against the PowerDNS of
# other Debian releases: trixie (4.9.x) and sid (5.1.x) by default (PDNS_SUITES="trixie sid");
# ONLY_TESTS="PATH..." runs only those test scripts (whole paths).
#
# Each release's pdns_server runs from a cached minimal root (tests/powerdns/roots.sh, built
# once with debootstrap) under chroot, started by tests/integration/lib.sh with PDNS_ROOT set.
# For each release, tests/powerdns/suite.sh runs in a mount namespace of its own, where the
# root gets /proc, /tmp and the source and build trees bind-mounted at their own paths (the
# tests' work directories, pdyndns and its control sockets are then one path inside and out).
# Those mounts exist only in that namespace: the host never sees them, suite.sh undoes them at
# exit, and they go with the namespace in any case, also when a run is killed.
#
# Prints one line per release ("pdns 4.9.18: N passed, N failed, N skipped") and a last line
# with the totals; exits 1 when any test failed (or a root could not be built), 77 when it
# cannot run at all here (not root, no unshare/chroot, no debootstrap to build a root).
#
# tests/powerdns/check.sh SRCDIR BUILDDIR
set -u
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
bt=$(cd "${2:-$src}" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: check-powerdns needs root (chroot, mounts)"; exit 77; }
for c in unshare chroot mount dig; do
    command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
for b in daemon/pdyndns ctl/pdynctl; do
    [ -x "$bt/$b" ] || { echo "FAIL: $bt/$b not built"; exit 1; }
done
. "$src/tests/powerdns/roots.sh"

# an interrupt reaches suite.sh too, which ends its tests and undoes its mounts: then stop here
trap 'exit 130' INT
trap 'exit 143' TERM

total_pass=0 total_fail=0 total_skip=0 status=0 summary=
for suite in ${PDNS_SUITES:-trixie sid}; do
    root=$PDYNDNS_ROOTS/$suite
    started=$SECONDS
    root_ensure "$suite" "$root"
    r=$?
    [ "$r" = 77 ] && exit 77
    if [ "$r" != 0 ]; then
        summary+="pdns ($suite): no root, 0 passed, 1 failed"$'\n'
        total_fail=$((total_fail + 1)) status=1
        continue
    fi
    version=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' pdns-server 2>/dev/null)
    version=${version%%-*}
    logs=$bt/tests/powerdns/$suite
    rm -rf "$logs"
    mkdir -p "$logs"
    echo "=== pdns $version ($suite, $root): tests/integration/*.sh; logs in $logs"
    unshare --mount --propagation private \
        bash "$src/tests/powerdns/suite.sh" "$src" "$bt" "$root" "$logs" "$version"
    r=$?
    [ "$r" -ge 128 ] && { echo "check-powerdns: interrupted"; exit "$r"; }
    read -r pass fail skip < "$logs/counts" 2>/dev/null || { pass=0 fail=0 skip=0; }
    [ "$r" != 0 ] && [ "$fail" = 0 ] && fail=1 # the runner itself failed
    line="pdns $version: $pass passed, $fail failed, $skip skipped ($((SECONDS - started)) s)"
    echo "$line"
    summary+=$line$'\n'
    total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
    [ "$fail" = 0 ] || status=1
    # nothing of the run may stay mounted where the host sees it
    if grep -q " $root/" /proc/self/mountinfo; then
        echo "FAIL: mounts under $root are left on the host:"; grep " $root/" /proc/self/mountinfo
        total_fail=$((total_fail + 1)) status=1
    fi
done
echo "=== check-powerdns"
printf '%s' "$summary"
echo "${total_pass} passed, ${total_fail} failed, ${total_skip} skipped"
exit "$status"
