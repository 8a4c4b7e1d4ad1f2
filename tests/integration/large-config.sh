#!/bin/bash
# SPDX-License-Identifier: MIT
# A config above 1,024 handlers answers before its watches are armed (they are worked out by
# the first reload, off the question path), through the real PowerDNS: a list rewritten
# right after start is served once they are, a directory renamed over later is followed,
# and an edit of one list among 1,200 is served and changes nothing else.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone
N=1200
mkdir -p "$z"
handlers=
for ((k = 0; k < N; k++)); do
    d=d$((k / 100))
    mkdir -p "$z/$d"
    printf '10.%d.%d.1\n10.%d.%d.2\n' $((k / 250)) $((k % 250)) $((k / 250)) $((k % 250)) > "$z/$d/t$k.txt"
    handlers+="${handlers:+,}{\"qname\": \"t$k.dyn.example.test\", \"qtype\": \"A\", \"file\": \"$d/t$k.txt\"}"
done
cat > "$z/config.json" <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. h.example.test. 1 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "loglevel": "info", "handlers": [$handlers]}
JSON
first() { q +short "$1.dyn.example.test" A | sort | head -1; }
wait_first() { # NAME ADDRESS: until NAME's answer holds ADDRESS first (3 s at most)
    local i; for ((i = 0; i < 150; i++)); do [ "$(first "$1")" = "$2" ] && return 0; sleep 0.02; done; return 1
}

start_pdns "$work/pdns" "$z/config.json" 1 || { fail "start"; finish; }
# at once: written in place while the watches may not be armed yet
printf '10.200.0.1\n' > "$z/d3/t300.txt"
wait_first t300 10.200.0.1 && ok || fail "a list written right after start was not served"
# a directory renamed over by a copy
mkdir "$z/d5.new"
for ((k = 500; k < 600; k++)); do printf '10.201.%d.1\n' $((k - 500)) > "$z/d5.new/t$k.txt"; done
mv -T "$z/d5" "$z/d5.old"; mv -T "$z/d5.new" "$z/d5"; rm -rf "$z/d5.old"
wait_first t550 10.201.50.1 && ok || fail "the lists of a directory renamed over were not served"
wait_first t599 10.201.99.1 && ok || fail "the last list of that directory was not served"
# then an edit in the new directory, by rename
printf '10.202.0.1\n' > "$z/d5/t510.tmp"; mv "$z/d5/t510.tmp" "$z/d5/t510.txt"
wait_first t510 10.202.0.1 && ok || fail "an edit in the new directory was not served"
expect_eq "another list unchanged" "10.4.0.1" "$(first t1000)"
expect_eq "nothing logged at error level" "" "$(grep 'pdyndns\[[0-9]*\]: error: ' "$work/pdns/pdns.log")"
finish
