#!/bin/bash
# SPDX-License-Identifier: MIT
# Config reloads through the real PowerDNS: a handler added and one removed, the SOA and the
# domain changed, SIGHUP forcing a reload; rotation kept for an unchanged list and
# restarted for a changed one.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone
mkdir -p "$z"
printf '192.0.2.%d\n' 1 2 3 4 > "$z/t1.txt"
printf '198.51.100.%d\n' 1 2 3 > "$z/t2.txt"
config() { # DOMAIN SERIAL HANDLER-JSON...
    local domain=$1 serial=$2 hs
    shift 2
    hs=$(IFS=,; echo "$*")
    cat > "$z/config.json.new" <<JSON
{"domain": "$domain", "soa": "ns1.example.test. h.example.test. $serial 7200 3600 7200 120",
 "nameservers": ["ns1.example.test"], "ttl": 60, "handlers": [$hs]}
JSON
    mv "$z/config.json.new" "$z/config.json"
}
h() { echo "{\"qname\": \"$1\", \"qtype\": \"A\", \"file\": \"$2\"}"; }
wait_for() { # EXPECTED COMMAND...: until the command prints EXPECTED (3 s at most)
    local want=$1 i; shift
    for i in $(seq 150); do [ "$("$@")" = "$want" ] && return 0; sleep 0.02; done
    return 1
}
serial() { q +short dyn.example.test SOA | cut -d' ' -f3; }

config dyn.example.test 1 "$(h t1.dyn.example.test t1.txt)"
start_pdns "$work/pdns" "$z/config.json" 2 || { fail "start"; finish; }

# t1 at position 2
expect_eq "t1 starts at its first address" "192.0.2.1
192.0.2.2" "$(q +short t1.dyn.example.test A t1.dyn.example.test A)"

# add t2: it answers; t1's unchanged list keeps its position
config dyn.example.test 1 "$(h t1.dyn.example.test t1.txt)" "$(h t2.dyn.example.test t2.txt)"
wait_for 198.51.100.1 q +short t2.dyn.example.test A && ok || fail "added handler t2 does not answer"
expect_eq "t1 kept its position across the reload" 192.0.2.3 "$(q +short t1.dyn.example.test A)"

# a changed list restarts from its first address
printf '192.0.2.%d\n' 7 8 > "$z/t1.txt.new"; mv "$z/t1.txt.new" "$z/t1.txt"
wait_for 192.0.2.7 q +short t1.dyn.example.test A && ok || fail "changed list did not restart at its first address"
expect_eq "then goes on in order" 192.0.2.8 "$(q +short t1.dyn.example.test A)"

# a new SOA serial
config dyn.example.test 2026112299 "$(h t1.dyn.example.test t1.txt)" "$(h t2.dyn.example.test t2.txt)"
wait_for 2026112299 serial && ok || fail "SOA change not applied (serial $(serial))"

# remove t2: NXDOMAIN
config dyn.example.test 2026112299 "$(h t1.dyn.example.test t1.txt)"
wait_for NXDOMAIN status_of t2.dyn.example.test A && ok || fail "removed handler still answers"

# another domain: the old zone is REFUSED, the new one answers
config new.example.test 5 "$(h t1.new.example.test t1.txt)"
wait_for 192.0.2.7 q +short t1.new.example.test A && ok || fail "the new domain does not answer"
expect_eq "the old domain is refused" REFUSED "$(status_of t1.dyn.example.test A)"
expect_eq "the new apex has its SOA" 5 "$(q +short new.example.test SOA | cut -d' ' -f3)"

# SIGHUP forces a reload of every copy
gens=$(grep -c 'generation .* applied' "$work/pdns/pdns.log")
for p in $(pgrep -P "$PDNS_PID"); do kill -HUP "$p"; done
for _ in $(seq 50); do [ "$(grep -c 'generation .* applied' "$work/pdns/pdns.log")" -gt "$gens" ] && break; sleep 0.05; done
[ "$(grep -c 'generation .* applied' "$work/pdns/pdns.log")" -gt "$gens" ] && ok || fail "SIGHUP did not reload"
expect_match "SIGHUP logged" 'reload|generation' "$(tail -3 "$work/pdns/pdns.log")"
finish
