#!/bin/bash
# SPDX-License-Identifier: MIT
# inotify exhausted by another process of the same user, through the real PowerDNS: every
# copy says so once (not at every poll: 107,500 identical lines in 30 s were seen), edits
# are still served by the poll, and once inotify has room again the copies watch again and
# say so. PowerDNS and pdyndns run as nobody, beside a process of nobody's that holds every
# inotify instance nobody may have (fs.inotify.max_user_instances).
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null || { echo "SKIP: needs root and setpriv"; exit 77; }
z=$work/zone
mkdir -p "$z/a" "$z/b"
chmod 755 "$work" "$z" "$z/a" "$z/b"
list() { printf '10.%d.0.1\n10.%d.0.2\n10.%d.0.3\n' "$1" "$1" "$1"; }
list 1 > "$z/a/t1.txt"; list 1 > "$z/b/t2.txt"
cat > "$z/config.json" <<'JSON'
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60,
 "handlers": [{"qname": "t1.dyn.example.test", "qtype": "A", "file": "a/t1.txt"},
              {"qname": "t2.dyn.example.test", "qtype": "A", "file": "b/t2.txt"}]}
JSON
chmod 644 "$z"/*/*.txt "$z/config.json"

# the hog: as nobody, every inotify instance it can get, held until it is stopped (by PID)
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while libc.inotify_init1(0o2000000) >= 0:
    n += 1
print(n, ctypes.get_errno(), flush=True)
import time
time.sleep(600)
' > "$work/hog.out" &
hog=$!
for ((i = 0; i < 100; i++)); do [ -s "$work/hog.out" ] && break; sleep 0.05; done
read -r held err < "$work/hog.out"
expect_eq "the hog holds every instance (EMFILE)" 24 "$err"

PDNS_AS=nobody start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }
log=$work/pdns/pdns.log
version() { q +short "$1.dyn.example.test" A | head -1 | cut -d. -f2; }
wait_version() { # NAME VERSION: until served (6 s at most: the poll covers it)
    local i; for ((i = 0; i < 300; i++)); do [ "$(version "$1")" = "$2" ] && return 0; sleep 0.02; done; return 1
}
expect_eq "t1 served" 1 "$(version t1)"
for v in 2 3 4; do
    list "$v" > "$z/a/t1.txt.tmp"; chmod 644 "$z/a/t1.txt.tmp"; mv "$z/a/t1.txt.tmp" "$z/a/t1.txt"
    wait_version t1 "$v" && ok || fail "without inotify, edit $v of t1 was not served"
done
sleep 4.5 # two more polls, each retrying the watches
warned=$(grep -c 'warning: watch: cannot watch' "$log")
copies=$(grep -o 'pdyndns\[[0-9]*\]: warning: watch: cannot watch' "$log" | sort -u | wc -l)
[ "$copies" -ge 1 ] && ok || fail "no copy said it cannot watch"
expect_eq "one warning per copy, not one per poll or directory" "$copies" "$warned"
expect_match "the warning names the limit" "inotify instance limit fs.inotify.max_user_instances" \
    "$(grep -m1 'warning: watch: cannot watch' "$log")"

# room again: the copies watch again at a later poll, and say so
stop_pid "$hog"
# (the copy PowerDNS starts to fill its zone cache, and kills at once, warned too)
live=$(for p in $(grep -o 'pdyndns\[[0-9]*\]: warning: watch: cannot watch' "$log" | grep -o '[0-9]*' | sort -u); do
    kill -0 "$p" 2>/dev/null && echo "$p"; done | wc -l)
[ "$live" -ge 1 ] && ok || fail "no copy that warned is still running"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'info: watch: every directory is watched again' "$log")" -ge "$live" ] && break; sleep 0.1
done
expect_eq "each running copy that warned watches again" "$live" "$(grep -c 'info: watch: every directory is watched again' "$log")"
list 5 > "$z/b/t2.txt.tmp"; chmod 644 "$z/b/t2.txt.tmp"; mv "$z/b/t2.txt.tmp" "$z/b/t2.txt"
wait_version t2 5 && ok || fail "after inotify came back, an edit of t2 was not served"
stop_pid "$hog"
finish
