#!/bin/bash
# SPDX-License-Identifier: MIT
# control_group through a supplementary group, with the daemon where /proc shows it no
# client: pdyndns runs in a pid namespace of its own (as under systemd's ProtectProc=, where
# /proc/PID of another user is hidden), so the pid SO_PEERCRED gives for pdynctl names no
# process there. A member of the group (not its primary group) gets the read-only rights
# (status, query; not reload), a non-member is refused. Needs root, setpriv and unshare.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PDYNDNS=${PDYNDNS:-$top/daemon/pdyndns}
PDYNCTL=${PDYNCTL:-$top/ctl/pdynctl}
. "$top/tests/assert.sh" # passes, fails, ok, fail, expect_eq, expect_match

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (setpriv to another user)"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv not installed"; exit 77; }
unshare --pid --fork --mount-proc true 2>/dev/null || { echo "SKIP: unshare --pid not permitted here"; exit 77; }
group=daemon # a group nobody is not in by default
getent group "$group" >/dev/null || { echo "SKIP: no group $group"; exit 77; }

tmp=$(mktemp -d)
upid=
# unshare ignores TERM; at SIGKILL it ends, and its child gets SIGKILL (--kill-child); a zombie of it may stay,
# so no waiting on the daemon's pid
stop_daemon() { [ -n "$upid" ] && { kill -9 "$upid" 2>/dev/null; wait "$upid" 2>/dev/null; upid=; }; }
cleanup() { stop_daemon; rm -rf "$tmp"; }
trap cleanup EXIT
chmod 755 "$tmp"
printf '192.0.2.%d\n' 1 2 3 > "$tmp/v4.txt"
cat > "$tmp/config.json" <<JSON
{
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test"],
  "ttl": 60,
  "control_group": "$group",
  "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "v4.txt"}]
}
JSON

# the daemon as PID 1 of a new pid namespace, with that namespace's /proc; as PID 1 it takes only SIGKILL from outside, which unshare sends it when it ends (--kill-child)
unshare --pid --fork --mount-proc --kill-child "$PDYNDNS" --config "$tmp/config.json" --control-dir "$tmp/ctl" \
    --listen "$tmp/pipe.sock" 2> "$tmp/daemon.log" &
upid=$!
for _ in $(seq 100); do ls "$tmp"/ctl/pdyndns.*.sock >/dev/null 2>&1 && break; sleep 0.05; done
sock=$(ls "$tmp"/ctl/pdyndns.*.sock 2>/dev/null | head -1)
[ -S "$sock" ] || { fail "no control socket"; cat "$tmp/daemon.log"; exit 1; }
expect_match "the daemon's pid is 1: it runs in its own pid namespace" 'pdyndns\.1\.sock$' "$sock"
expect_eq "socket and directory belong to the group" "$group 660 $group 750" \
    "$(stat -c '%G %a' "$sock") $(stat -c '%G %a' "$tmp/ctl")"

# nobody, primary group nogroup, the control group only as a supplementary group
member() { setpriv --reuid nobody --regid nogroup --groups "$(getent group "$group" | cut -d: -f3)" \
    "$PDYNCTL" --socket "$sock" "$@"; }
stranger() { setpriv --reuid nobody --regid nogroup --clear-groups "$PDYNCTL" --socket "$sock" "$@"; }

out=$(member status 2>&1); rc=$?
expect_eq "a member by supplementary group may read status (exit 0)" 0 $rc
expect_match "and gets the status" 't1\.dyn\.example\.test +A +round-robin +3 ' "$out"
out=$(member query t1.dyn.example.test A 2>&1); rc=$?
expect_eq "a member may query" "0" "$rc"
out=$(member reload 2>&1); rc=$?
expect_eq "a member may not reload (exit 4)" 4 $rc
expect_match "and is told why" 'permission denied' "$out"
out=$(stranger status 2>&1); rc=$?
expect_eq "a non-member is refused (exit 4)" 4 $rc
out=$("$PDYNCTL" --socket "$sock" reload 2>&1); rc=$?
expect_eq "root may reload" 0 $rc

stop_daemon
echo "peergroups: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
