#!/bin/bash
# SPDX-License-Identifier: MIT
# Answers through the real PowerDNS: SOA and NS at the apex, NXDOMAIN and NODATA as a static
# zone would give them, REFUSED outside the zone, the question's case echoed, AXFR, and a
# handler with a bad file serving nothing while the rest of the zone works. ABI 1 and 5.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
write_zone "$work/zone"
printf '192.0.2.50\n10.0.0.300\n' > "$work/zone/bad-v4.txt"
sed -i 's|"handlers": \[|"handlers": [\n    {"qname": "broken.dyn.example.test", "qtype": "A", "file": "bad-v4.txt"},|' "$work/zone/config.json"

for abi in 1 5; do
    start_pdns "$work/abi$abi" "$work/zone/config.json" "$abi" || { fail "start abi $abi"; continue; }
    t="ABI $abi"

    expect_eq "$t: apex SOA" "dyn.example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 120" \
        "$(q +noall +answer dyn.example.test SOA | tr -s '\t ' ' ')"
    expect_match "$t: apex SOA is authoritative" 'flags: qr aa' "$(q dyn.example.test SOA)"
    expect_eq "$t: apex NS" "ns1.example.test.
ns2.example.test." "$(q +short dyn.example.test NS | sort)"

    out=$(q nothing.dyn.example.test A)
    expect_match "$t: unknown name NXDOMAIN" 'status: NXDOMAIN' "$out"
    expect_match "$t: NXDOMAIN carries the SOA, TTL min(ttl, minimum)" \
        'dyn\.example\.test\.[[:space:]]+120[[:space:]]+IN[[:space:]]+SOA' "$out"
    expect_eq "$t: deep unknown name below a handler" NXDOMAIN "$(status_of x.t1.dyn.example.test A)"
    expect_eq "$t: the parent of a depth-3 name (empty non-terminal, a pipe limit)" NXDOMAIN \
        "$(status_of b.c.dyn.example.test A)"

    out=$(q t1.dyn.example.test TXT)
    expect_match "$t: existing name, no TXT: NOERROR" 'status: NOERROR' "$out"
    expect_match "$t: NODATA has no answer" 'ANSWER: 0,' "$out"
    expect_match "$t: NODATA carries the SOA" 'dyn\.example\.test\.[[:space:]]+120[[:space:]]+IN[[:space:]]+SOA' "$out"
    expect_match "$t: apex A is NODATA" 'status: NOERROR.*ANSWER: 0,' "$(q dyn.example.test A | tr '\n' ' ')"
    expect_match "$t: AAAA-only name asked A is NODATA" 'status: NOERROR.*ANSWER: 0,' \
        "$(q only6.dyn.example.test A | tr '\n' ' ')"

    expect_eq "$t: outside the zone" REFUSED "$(status_of www.other.test A)"
    expect_eq "$t: a name that only shares a suffix" REFUSED "$(status_of xdyn.example.test A)"

    out=$(q +noall +answer T1.DyN.ExAmPlE.TeSt A | tr -s '\t ' ' ')
    expect_match "$t: mixed case: owner echoes the question" '^T1\.DyN\.ExAmPlE\.TeSt\. 0 IN A 192\.0\.2\.[1-5]$' "$out"

    out=$(q +noall +answer t1.dyn.example.test A | tr -s '\t ' ' ')
    expect_match "$t: address records have TTL 0" '^t1\.dyn\.example\.test\. 0 IN A ' "$out"

    # AXFR: SOA first and last, NS, one record per handler with the address its rotation
    # serves next. PowerDNS starts a fresh copy for every AXFR (pipe-protocol.md §1), which
    # shares the rotation of the copies that answer questions, and does not move it.
    before=$(q +short t1.dyn.example.test A)
    axfr=$(q +noall +answer dyn.example.test AXFR | tr -s '\t ' ' ')
    expect_eq "$t: AXFR starts and ends with the SOA" "dyn.example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 120
dyn.example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 120" \
        "$(echo "$axfr" | sed -n '1p;$p')"
    expect_eq "$t: AXFR records" "a.b.c.dyn.example.test. 0 IN A 198.51.100.1
dyn.example.test. 3600 IN NS ns1.example.test.
dyn.example.test. 3600 IN NS ns2.example.test.
only6.dyn.example.test. 0 IN AAAA 2001:db8:6::X
t1.dyn.example.test. 0 IN A 192.0.2.$(( ${before##*.} % 5 + 1 ))
t1.dyn.example.test. 0 IN AAAA 2001:db8::X" "$(echo "$axfr" | sed '1d;$d' | sort | sed 's/::[1-4]$/::X/')"
    after=$(q +short t1.dyn.example.test A)
    expect_eq "$t: AXFR does not advance the rotation" "192.0.2.$(( ${before##*.} % 5 + 1 ))" "$after"

    # The handler with a bad file serves nothing; the rest works, and the problem is logged.
    expect_eq "$t: bad file: that name is NXDOMAIN" NXDOMAIN "$(status_of broken.dyn.example.test A)"
    expect_match "$t: bad file: logged with FILE:LINE" 'bad-v4.txt:2: error: "10.0.0.300" is not an IPv4 address' \
        "$(cat "$work/abi$abi/pdns.log")"
    expect_match "$t: bad file: the banner says so" 'Backend launched with banner: OK.*5 handlers \(1 without addresses\)' \
        "$(cat "$work/abi$abi/pdns.log")"
    stop_pid "$PDNS_PID"
done
finish
