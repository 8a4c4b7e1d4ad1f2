#!/bin/bash
# SPDX-License-Identifier: MIT
# The systemd units of socket mode: systemd-analyze verify passes on them (with ExecStart=
# pointing at the binaries built here), and the offline security review of pdyndns.service
# scores 2.0 or lower (the goal of issue 7; the score is printed).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
src=${top_srcdir:-$top}
build=${top_builddir:-$top}
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
. "$(dirname "$0")/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/units"
ln -s "$build/daemon/pdyndns" "$tmp/bin/pdyndns"
ln -s "$build/ctl/pdynctl" "$tmp/bin/pdynctl"
sed -e "s|@bindir@|$tmp/bin|g" -e "s|@sysconfdir@|/etc|g" "$src/units/pdyndns.service.in" > "$tmp/units/pdyndns.service"
cp "$src/units/pdyndns.socket" "$src/units/pdyndns-control.socket" "$tmp/units/"
cd "$tmp/units" || exit 1

if out=$(systemd-analyze verify --man=no ./pdyndns.service ./pdyndns.socket ./pdyndns-control.socket 2>&1) &&
    [ -z "$out" ]; then ok; else fail "systemd-analyze verify: $out"; fi

out=$(systemd-analyze security --offline=true --threshold=20 ./pdyndns.service 2>&1); rc=$?
score=$(sed -n 's/.*Overall exposure level for pdyndns.service: \([0-9.]*\).*/\1/p' <<< "$out")
echo "systemd-analyze security pdyndns.service: ${score:-?}"
[ "$rc" -eq 0 ] && [ -n "$score" ] && ok || fail "exposure ${score:-unknown} is over 2.0 (exit $rc)"

# what the units promise each other: the socket names the daemon looks for, Type=notify
grep -q '^FileDescriptorName=pipe$' pdyndns.socket && ok || fail "pdyndns.socket: FileDescriptorName=pipe"
grep -q '^FileDescriptorName=control$' pdyndns-control.socket && ok || fail "pdyndns-control.socket: FileDescriptorName=control"
grep -q '^Type=notify$' pdyndns.service && ok || fail "pdyndns.service: Type=notify"

echo "units: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
