#!/bin/bash
# SPDX-License-Identifier: MIT
# make install DESTDIR=...: what lands where, and the paths inside agree with each other.
# The unit and the installed pdns.conf example name the same pdyndns binary (the one
# installed) and the same config; the pdns drop-in (Wants=pdyndns.socket) is not installed
# by make install, only by make install-socket-mode, and uninstall-socket-mode removes it;
# the pdns settings of both modes are installed as examples.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${top_builddir:-$top}
. "$top/tests/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# a make of its own, outside the one running the tests
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$build" "$@" > "$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log"; return 1; }; }
var() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$build" --no-print-directory \
    -f Makefile -f - print-var VAR="$1" <<'MK'
print-var:
	@echo $($(VAR))
MK
}

bindir=$(var bindir) sysconfdir=$(var sysconfdir) unitdir=$(var systemdsystemunitdir) docdir=$(var docdir)
[ -n "$bindir" ] && [ -n "$unitdir" ] && [ -n "$docdir" ] && ok || fail "cannot read the install directories"

d=$tmp/plain
mk install DESTDIR="$d" && ok || fail "make install"
for f in "$bindir/pdyndns" "$bindir/pdynctl" "$unitdir/pdyndns.service" "$unitdir/pdyndns.socket" \
    "$unitdir/pdyndns-control.socket" "$unitdir/pdyndns-metrics.socket" "$docdir/examples/pdns.conf" "$docdir/examples/pdns-socket.conf" \
    "$docdir/examples/pdns-after-pdyndns.conf"; do
    [ -f "$d$f" ] && ok || fail "make install: no $f"
done
expect_eq "make install: no pdns.service.d drop-in (coprocess mode needs none)" "" \
    "$(cd "$d" && find . -path '*pdns.service.d*')"

# the unit and the pdns.conf example: one binary, one config
unit=$d$unitdir/pdyndns.service
conf=$d$docdir/examples/pdns.conf
unit_config=$(sed -n 's/^Environment=PDYNDNS_CONFIG=//p' "$unit")
unit_bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
pipe=$(sed -n 's/^pipe-command=//p' "$conf")
expect_eq "the unit reads the config under sysconfdir" "$sysconfdir/pdyndns/config.json" "$unit_config"
expect_eq "the unit runs the installed pdyndns" "$bindir/pdyndns" "$unit_bin"
expect_eq "pdns.conf example: the same binary and config as the unit" "$unit_bin --config $unit_config" "$pipe"
[ -x "$d${pipe%% *}" ] && ok || fail "pdns.conf example: $pipe: no such binary installed"
expect_eq "pdns.conf example: no other path left" "" "$(grep -n '/usr/local\|/etc/pdyndns' "$conf" | grep -v -F "$bindir/" | grep -v -F "$sysconfdir/pdyndns/")"
expect_eq "ExecReload runs the installed pdynctl" "$bindir/pdynctl --dir /run/pdyndns reload" \
    "$(sed -n 's/^ExecReload=//p' "$unit")"
expect_eq "pdns-socket.conf example: as shipped" "" "$(diff "$top/data/pdns-socket.conf" "$d$docdir/examples/pdns-socket.conf")"

# socket mode: the drop-in too
s=$tmp/socket
mk install-socket-mode DESTDIR="$s" && ok || fail "make install-socket-mode"
drop=$s$unitdir/pdns.service.d/pdyndns.conf
[ -f "$drop" ] && ok || fail "make install-socket-mode: no $unitdir/pdns.service.d/pdyndns.conf"
expect_eq "the drop-in: pdns wants the pipe socket, after it" "Wants=pdyndns.socket After=pdyndns.socket" \
    "$(grep -E '^(Wants|After)=' "$drop" | tr '\n' ' ' | sed 's/ $//')"
[ -x "$s$bindir/pdyndns" ] && [ -f "$s$unitdir/pdyndns.service" ] && ok || fail "install-socket-mode: not a full install"
mk uninstall-socket-mode DESTDIR="$s" && ok || fail "make uninstall-socket-mode"
expect_eq "uninstall-socket-mode: nothing left but directories" "" "$(cd "$s" && find . ! -type d)"

echo "install: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
