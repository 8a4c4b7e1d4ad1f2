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
cp "$src/units/pdyndns.socket" "$src/units/pdyndns-control.socket" "$src/units/pdyndns-metrics.socket" "$tmp/units/"
cd "$tmp/units" || exit 1

if out=$(systemd-analyze verify --man=no ./pdyndns.service ./pdyndns.socket ./pdyndns-control.socket ./pdyndns-metrics.socket 2>&1) &&
    [ -z "$out" ]; then ok; else fail "systemd-analyze verify: $out"; fi

out=$(systemd-analyze security --offline=true --threshold=20 ./pdyndns.service 2>&1); rc=$?
score=$(sed -n 's/.*Overall exposure level for pdyndns.service: \([0-9.]*\).*/\1/p' <<< "$out")
echo "systemd-analyze security pdyndns.service: ${score:-?}"
[ "$rc" -eq 0 ] && [ -n "$score" ] && ok || fail "exposure ${score:-unknown} is over 2.0 (exit $rc)"

# who owns what (issue 15 §6, seen under a real systemd; tests/systemd/check.sh boots it):
# /run/pdyndns comes from tmpfiles.d, never from RuntimeDirectory= (which chowned the
# directory with the sockets in it to pdyndns at the first start, so pdns could not connect)
if grep -q '^RuntimeDirectory' pdyndns.service; then fail "pdyndns.service: RuntimeDirectory= chowns the sockets' directory"; else ok; fi
grep -qx 'ReadWritePaths=/run/pdyndns' pdyndns.service && ok || fail "pdyndns.service: ReadWritePaths=/run/pdyndns (the keeper's socket)"
# the control socket: pdyndns's own (ExecReload runs pdynctl as User=pdyndns), its group's
expect_eq "pdyndns-control.socket: owner, group, mode" "SocketGroup=pdyndns SocketMode=0660 SocketUser=pdyndns" \
    "$(grep -E '^Socket(User|Group|Mode)=' pdyndns-control.socket | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "pdyndns.socket: group, mode" "SocketGroup=pdns SocketMode=0660" \
    "$(grep -E '^Socket(User|Group|Mode)=' pdyndns.socket | sort | tr '\n' ' ' | sed 's/ $//')"
# the tmpfiles.d line, applied by systemd-tmpfiles to a scratch root with both users
mkdir -p "$tmp/root/etc"
printf 'root:x:0:0::/root:/bin/sh\npdyndns:x:990:990::/:/usr/sbin/nologin\npdns:x:101:102::/:/bin/false\n' > "$tmp/root/etc/passwd"
printf 'root:x:0:\npdyndns:x:990:\npdns:x:102:\n' > "$tmp/root/etc/group"
if out=$(systemd-tmpfiles --root="$tmp/root" --create "$src/units/pdyndns.tmpfiles" 2>&1); then ok; else fail "systemd-tmpfiles: $out"; fi
expect_eq "tmpfiles.d: /run/pdyndns (pdyndns's keeper socket, pdns's copies' sockets)" "990:102 1775" \
    "$(stat -c '%u:%g %a' "$tmp/root/run/pdyndns" 2>&1)"

# what the units promise each other: the socket names the daemon looks for, Type=notify
grep -q '^FileDescriptorName=pipe$' pdyndns.socket && ok || fail "pdyndns.socket: FileDescriptorName=pipe"
grep -q '^FileDescriptorName=control$' pdyndns-control.socket && ok || fail "pdyndns-control.socket: FileDescriptorName=control"
# the metrics endpoint: its name, the loopback by default, and reachable from it by the service
grep -q '^FileDescriptorName=metrics$' pdyndns-metrics.socket && ok || fail "pdyndns-metrics.socket: FileDescriptorName=metrics"
grep -q '^ListenStream=127\.0\.0\.1:' pdyndns-metrics.socket && ok || fail "pdyndns-metrics.socket: on 127.0.0.1 by default"
grep -q '^IPAddressAllow=localhost$' pdyndns.service && ok || fail "pdyndns.service: IPAddressAllow=localhost (the metrics socket's clients)"
grep -q '^Type=notify$' pdyndns.service && ok || fail "pdyndns.service: Type=notify"

echo "units: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
