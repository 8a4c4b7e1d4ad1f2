#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-systemd: the .deb under a real systemd (issue 15 §6). Needs root, debootstrap and
# the network for the first run (the root is cached in BUILDDIR/tests/systemd/root).
#
# Boots a Debian bookworm root (systemd 252 as PID 1 of a new PID namespace), installs the
# package built from this tree with dpkg-buildpackage, and checks, through PowerDNS from that
# root (user pdns, Debian's pdns.service) on 127.0.0.1 and a free port:
#   socket mode: exact answers over the units' sockets, the sockets' and /run/pdyndns's
#     owners, systemctl reload and restart, pdynctl status as root, as a member of the group
#     pdyndns (read-only: its reload is refused) and as nobody in it (refused);
#   a reboot (poweroff, boot again: /run is new, the units start in boot order): the same
#     owners, pdns reaches pdyndns without anything done by hand;
#   coprocess mode (pdns runs pdyndns itself, the units stay enabled as the package left
#     them): every copy has its control socket in /run/pdyndns, pdynctl status as root and
#     as a control_group member, pdynctl reload, answers after systemctl restart pdns.
# PrivateUsers=yes cannot work in this nesting (217/USER even for /bin/true), so a drop-in
# turns it off; nothing else of the units is changed.
#
# tests/systemd/check.sh SRCDIR BUILDDIR   (PDYNDNS_DEB=FILE: install that .deb instead)
set -u
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
bt=$(cd "${2:-$src}" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: check-systemd needs root (mounts, namespaces)"; exit 77; }
for c in unshare nsenter dig python3; do
    command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
. "$src/tests/assert.sh"
. "$src/tests/procs.sh"
. "$src/tests/systemd/lib.sh"

dir=$bt/tests/systemd
mkdir -p "$dir"
root_build "$dir/root" || exit $?

# --- the package, built from this tree's files (tracked and new, not ignored) ------------
deb=${PDYNDNS_DEB-}
if [ -z "$deb" ]; then
    command -v dpkg-buildpackage >/dev/null || { echo "SKIP: dpkg-buildpackage not installed"; exit 77; }
    rm -rf "$dir/deb"
    mkdir -p "$dir/deb/src"
    if ! git -C "$src" ls-files -z --cached --others --exclude-standard |
        (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$dir/deb/src"; then
        echo "cannot copy the tree (needs a git checkout; or give PDYNDNS_DEB=FILE)"
        exit 1
    fi
    echo "building the .deb (dpkg-buildpackage, nocheck; log: $dir/deb/build.log)"
    if ! (cd "$dir/deb/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
        > "$dir/deb/build.log" 2>&1; then
        echo "dpkg-buildpackage failed:"; tail -n 30 "$dir/deb/build.log"; exit 1
    fi
    deb=$(ls "$dir"/deb/pdyndns_*.deb | head -n1)
fi
[ -f "$deb" ] || { echo "no .deb: $deb"; exit 1; }

state=$dir/state
rm -rf "$state"
trap boot_cleanup EXIT
port=$(free_port)
echo "booting (root $dir/root, state $state); PowerDNS on 127.0.0.1:$port"
boot_up "$dir/root" "$state" || exit 1
sysroot() { echo "/proc/$SYSD_PID/root"; }

# the drop-in for the nesting, then the package as apt would install it (postinst starts it)
mkdir -p "$(sysroot)/etc/systemd/system/pdyndns.service.d"
printf '[Service]\n# tests/systemd: PrivateUsers= cannot work nested\nPrivateUsers=no\n' \
    > "$(sysroot)/etc/systemd/system/pdyndns.service.d/nested.conf"
cp "$deb" "$(sysroot)/root/pdyndns.deb"
if out=$(in_sys env DEBIAN_FRONTEND=noninteractive dpkg -i /root/pdyndns.deb 2>&1); then ok; else
    fail "dpkg -i: $out"
fi
expect_eq "the package leaves pdns.service alone (no drop-in)" "" \
    "$(in_sys sh -c 'ls /lib/systemd/system/pdns.service.d /usr/lib/systemd/system/pdns.service.d /etc/systemd/system/pdns.service.d 2>/dev/null')"
in_sys groupadd -f dnsops
in_sys useradd -M -G pdyndns,dnsops alice   # the pdyndns group (socket mode), control_group (coprocess)
in_sys useradd -M bob                       # in neither
in_sys usermod -a -G dnsops pdns

# dig NAME TYPE: the answers, one a line
ask() { dig +short +time=3 +tries=1 -p "$port" @127.0.0.1 "$1" "$2" 2>&1; }
owner() { in_sys stat -c '%U:%G %a' "$1" 2>&1; }
as_user() { local u=$1; shift; in_sys setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }
# N questions for www A; prints each address with its count, sorted
rotation() { for _ in $(seq 1 "$1"); do ask www.dyn.example.test A; done | sort | uniq -c | sed 's/^ *//'; }
exact="3 192.0.2.10
3 192.0.2.11
3 192.0.2.12"
# until pdns answers (at most 30 s)
wait_answer() {
    local i
    for i in $(seq 1 60); do
        [ -n "$(ask dyn.example.test SOA | grep -v '^;')" ] && return 0
        sleep 0.5
    done
    return 1
}
# what pdns and pdyndns logged since boot, for a failure
show_logs() { in_sys journalctl -b --no-pager -n 40 -u pdns -u pdyndns -u pdyndns.socket -u pdyndns-control.socket; }

# --- socket mode --------------------------------------------------------------------------
# the package ships pdns's drop-in only as an example: socket mode puts it in place
mkdir -p "$(sysroot)/etc/systemd/system/pdns.service.d"
cp "$(sysroot)/usr/share/doc/pdyndns/examples/pdns-after-pdyndns.conf" \
    "$(sysroot)/etc/systemd/system/pdns.service.d/pdyndns.conf"
in_sys systemctl daemon-reload
{
    cat "$(sysroot)/usr/share/doc/pdyndns/examples/pdns-socket.conf"
    printf 'local-address=127.0.0.1\nlocal-port=%s\n' "$port"
} > "$(sysroot)/etc/powerdns/pdns.d/pdyndns.conf"
expect_eq "pdyndns.service after install" active "$(in_sys systemctl is-active pdyndns.service)"
in_sys systemctl restart pdns
if wait_answer; then ok; else fail "socket mode: pdns does not answer"; show_logs; fi
expect_eq "socket mode: 9 questions, each address 3 times" "$exact" "$(rotation 9)"

socket_owners() { # $1: when
    expect_eq "$1: /run/pdyndns" "pdyndns:pdns 1775" "$(owner /run/pdyndns)"
    expect_eq "$1: pipe.sock" "root:pdns 660" "$(owner /run/pdyndns/pipe.sock)"
    expect_eq "$1: the control socket" "pdyndns:pdyndns 660" "$(owner /run/pdyndns/pdyndns.control.sock)"
}
socket_owners "socket mode"

# fault 1: ExecReload (pdynctl as User=pdyndns) reaches the control socket
if out=$(in_sys systemctl reload pdyndns 2>&1); then ok; else
    fail "systemctl reload pdyndns: $out"; in_sys journalctl -b --no-pager -n 10 -u pdyndns
fi
expect_match "reload: the journal has the result" 'reload|generation' \
    "$(in_sys journalctl -b --no-pager -u pdyndns -n 5 -o cat 2>&1)"
if out=$(in_sys systemctl restart pdyndns 2>&1); then ok; else fail "systemctl restart pdyndns: $out"; fi
expect_eq "after restart: pdyndns.service" active "$(in_sys systemctl is-active pdyndns.service)"
# the new daemon (with the connections the keeper held) answers, exactly again
expect_eq "after restart: 9 questions, each address 3 times" "$exact" "$(rotation 9)"
socket_owners "after restart"

out=$(in_sys pdynctl --dir /run/pdyndns status 2>&1); rc=$?
expect_eq "pdynctl status as root: exit" 0 "$rc"
expect_match "pdynctl status as root" 'www\.dyn\.example\.test' "$out"
out=$(as_user alice pdynctl --dir /run/pdyndns status 2>&1); rc=$?
expect_eq "pdynctl status as a member of pdyndns: exit ($out)" 0 "$rc"
expect_match "pdynctl status as a member of pdyndns" 'www\.dyn\.example\.test' "$out"
out=$(as_user alice pdynctl --dir /run/pdyndns reload 2>&1); rc=$?
expect_eq "pdynctl reload as a member of pdyndns is refused: exit ($out)" 4 "$rc"
out=$(as_user bob pdynctl --dir /run/pdyndns status 2>&1); rc=$?
expect_eq "pdynctl status as bob (no group) is refused: exit ($out)" 4 "$rc"

# --- a reboot: /run is new, the units start in boot order -------------------------------------
echo "rebooting"
boot_down
boot_up "$dir/root" "$state" || exit 1
if wait_answer; then ok; else fail "after reboot: pdns does not answer"; show_logs; fi
expect_eq "after reboot: 9 questions, each address 3 times" "$exact" "$(rotation 9)"
socket_owners "after reboot"
expect_eq "after reboot: pdns" active "$(in_sys systemctl is-active pdns.service)"
expect_eq "after reboot: no failed units" "" "$(in_sys systemctl --failed --no-legend --plain 2>&1)"
expect_eq "after reboot: pdns never failed to connect" "" \
    "$(in_sys journalctl -b --no-pager -u pdns -o cat 2>&1 | grep -i 'unable to connect\|permission denied')"
if out=$(in_sys systemctl reload pdyndns 2>&1); then ok; else fail "after reboot: systemctl reload pdyndns: $out"; fi

# --- coprocess mode, the units still enabled as the package left them ------------------------
# (without socket mode's pdns drop-in, as a coprocess user has it)
rm -f "$(sysroot)/etc/systemd/system/pdns.service.d/pdyndns.conf"
{
    cat "$(sysroot)/usr/share/doc/pdyndns/examples/pdns.conf"
    printf 'local-address=127.0.0.1\nlocal-port=%s\n' "$port"
} > "$(sysroot)/etc/powerdns/pdns.d/pdyndns.conf"
sed -i 's|^{|{\n  "control_group": "dnsops",|' "$(sysroot)/etc/pdyndns/config.json"
echo "rebooting into coprocess mode"
boot_down
boot_up "$dir/root" "$state" || exit 1
if wait_answer; then ok; else fail "coprocess mode: pdns does not answer"; show_logs; fi
expect_match "coprocess mode: www A" '^192\.0\.2\.1[012]$' "$(ask www.dyn.example.test A)"
expect_eq "coprocess mode: /run/pdyndns" "pdyndns:pdns 1775" "$(owner /run/pdyndns)"
copies=$(in_sys find /run/pdyndns -maxdepth 1 -name 'pdyndns.[0-9]*.sock' -user pdns -printf '%f\n' 2>&1 | sort)
n=$(grep -c . <<< "$copies")
[ "$n" -ge 1 ] && ok || fail "coprocess mode: no control socket of a copy (user pdns) in /run/pdyndns: $(in_sys ls -l /run/pdyndns)"
expect_eq "coprocess mode: no copy without a control socket" "" \
    "$(in_sys journalctl -b --no-pager -u pdns -o cat 2>&1 | grep -i 'no control socket')"
first=$(head -n1 <<< "$copies")
expect_eq "coprocess mode: a copy's socket" "pdns:dnsops 660" "$(owner "/run/pdyndns/$first")"
out=$(in_sys pdynctl --dir /run/pdyndns status 2>&1); rc=$?
expect_eq "coprocess mode: pdynctl status as root: exit" 0 "$rc"
for c in $copies; do
    pid=${c#pdyndns.}; pid=${pid%.sock}
    expect_match "coprocess mode: pdynctl status shows copy $pid" "$pid" "$out"
done
out=$(as_user alice pdynctl --socket "/run/pdyndns/$first" status 2>&1); rc=$?
expect_eq "coprocess mode: pdynctl status as a control_group member: exit ($out)" 0 "$rc"
expect_match "coprocess mode: pdynctl status as a control_group member" 'www\.dyn\.example\.test' "$out"
out=$(as_user bob pdynctl --socket "/run/pdyndns/$first" status 2>&1); rc=$?
expect_eq "coprocess mode: pdynctl status as bob is refused: exit ($out)" 4 "$rc"
if out=$(in_sys pdynctl --dir /run/pdyndns reload 2>&1); then ok; else fail "coprocess mode: pdynctl reload: $out"; fi
if out=$(in_sys systemctl restart pdns 2>&1); then ok; else fail "coprocess mode: systemctl restart pdns: $out"; fi
if wait_answer; then ok; else fail "coprocess mode: no answer after restart"; show_logs; fi
expect_match "coprocess mode: www A after restart" '^192\.0\.2\.1[012]$' "$(ask www.dyn.example.test A)"

boot_down
if [ "$fails" -eq 0 ]; then rm -rf "$state"; else echo "kept: $state (console.log, upper/)"; fi
echo "check-systemd: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
