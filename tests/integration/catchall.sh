#!/bin/bash
# SPDX-License-Identifier: MIT
# catch_all through the real PowerDNS: a name in none of the zones gets the catch-all SOA and
# NS as an apex of its own (NOERROR with the SOA on NODATA, AA), while the zones keep their
# NXDOMAIN and the root stays REFUSED; without catch_all the same names are REFUSED.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
zone=$work/zone
write_zone "$zone"
catch='"catch_all": {"soa": "ns.catch.test. hostmaster.catch.test. 77 7200 3600 1209600 30", "nameservers": ["ns.catch.test", "ns2.catch.test"], "ttl": 45},'
sed "s|  \"handlers\": \\[|  $catch\\n  \"handlers\": [|" "$zone/config.json" > "$zone/catch.json"
grep -q catch_all "$zone/catch.json" || { fail "could not write the config"; finish; }

start_pdns "$work/pdns" "$zone/catch.json" 1 || { fail "pdns did not start"; finish; }

# an unknown name: NOERROR, no answer, the catch-all SOA at that very name in authority
out=$(q www.elsewhere.test A)
expect_match "unknown name, A: NOERROR" 'status: NOERROR' "$out"
expect_match "unknown name, A: authoritative" 'flags: qr aa' "$out"
expect_match "unknown name, A: no answer, SOA in authority" 'ANSWER: 0, AUTHORITY: 1' "$out"
expect_eq "unknown name, A: the catch-all SOA at the name" \
    "www.elsewhere.test. 30 IN SOA ns.catch.test. hostmaster.catch.test. 77 7200 3600 1209600 30" \
    "$(q +noall +authority www.elsewhere.test A | tr -s ' \t' ' ')"
expect_eq "unknown name, NS" "ns.catch.test.
ns2.catch.test." "$(q +short www.elsewhere.test NS | sort)"
expect_eq "unknown name, SOA" "ns.catch.test. hostmaster.catch.test. 77 7200 3600 1209600 30" \
    "$(q +short Deep.Below.ELSEWHERE.test SOA)"
expect_eq "unknown name, NS TTL" "45" "$(q +noall +answer www.elsewhere.test NS | awk '{print $2}' | sort -u)"
# the zones are unchanged: their names answer, the others inside are NXDOMAIN
expect_eq "zone name still answers" "192.0.2.1" "$(q +short t1.dyn.example.test A)"
expect_eq "inside the zone: NXDOMAIN" NXDOMAIN "$(status_of nx.dyn.example.test A)"
expect_eq "inside the zone: its own SOA" "ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 120" \
    "$(q +noall +authority nx.dyn.example.test A | awk '{$1=$2=$3=$4=""; print}' | sed 's/^ *//')"
expect_eq "the root: REFUSED" REFUSED "$(status_of . SOA)"
stop_pid "$PDNS_PID"

# without catch_all: REFUSED, as before
start_pdns "$work/pdns2" "$zone/config.json" 1 || { fail "pdns did not start"; finish; }
expect_eq "without catch_all: REFUSED" REFUSED "$(status_of www.elsewhere.test A)"
finish
