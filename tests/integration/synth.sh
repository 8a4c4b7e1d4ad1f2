#!/bin/bash
# SPDX-License-Identifier: MIT
# Several zones, wildcards and kind reverse (issue 8) through the real PowerDNS: the SOA and
# NS of every apex (aa), a forward zone below the main one with its own SOA on NODATA and
# NXDOMAIN, AXFR per zone (its records only, no synthesized names); PTR and forward A
# agree for sampled addresses of an IPv4 prefix (first, last, random, upper case), TTLs
# (the zones' and an explicit one), addresses outside the prefix and other spellings are
# NXDOMAIN, a handler of the exact name wins; IPv6 in the short form and back; a wildcard
# TXT and address list (the asked owner, rotation across names, two labels below, a name
# that exists is not wildcard-answered); pdynctl status and query; a live reload that
# moves the prefix; pipe-regex must let the reverse zones through.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
z=$work/zone
mkdir -p "$z"
printf '203.0.113.%d\n' 1 2 3 4 > "$z/wild.txt"
printf '2001:db8:5::%d\n' 1 2 > "$z/sub6.txt"

# config PREFIX: the config with the IPv4 reverse handler on PREFIX, written atomically
config() {
    cat > "$z/config.json.new" <<JSON
{
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026120201 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test", "ns2.example.test"],
  "ttl": 3600,
  "zones": [
    {"domain": "2.0.192.in-addr.arpa",
     "soa": "ns1.example.test. hostmaster.example.test. 2026120202 7200 3600 1209600 300",
     "nameservers": ["ns1.example.test", "ns2.example.test"], "ttl": 600},
    {"domain": "8.b.d.0.1.0.0.2.ip6.arpa",
     "soa": "ns1.example.test. hostmaster.example.test. 2026120203 7200 3600 1209600 900",
     "nameservers": ["ns3.example.test"], "ttl": 1800},
    {"domain": "sub.dyn.example.test",
     "soa": "ns1.example.test. hostmaster.example.test. 2026120204 7200 3600 1209600 60",
     "nameservers": ["ns1.example.test", "ns3.example.test"], "ttl": 90}
  ],
  "handlers": [
    {"qname": "ip-*.dyn.example.test", "kind": "reverse", "prefix": "$1"},
    {"qname": "v6-*.dyn.example.test", "kind": "reverse", "prefix": "2001:db8::/64", "ttl": 120},
    {"qname": "10.2.0.192.in-addr.arpa", "kind": "static", "qtype": "PTR", "content": ["pinned.dyn.example.test"]},
    {"qname": "ip-192-0-2-11.dyn.example.test", "kind": "static", "qtype": "TXT", "content": ["pinned"]},
    {"qname": "*.wild.dyn.example.test", "kind": "static", "qtype": "TXT", "content": ["wildcard"]},
    {"qname": "*.wild.dyn.example.test", "qtype": "A", "file": "wild.txt"},
    {"qname": "exists.wild.dyn.example.test", "kind": "static", "qtype": "TXT", "content": ["exists"]},
    {"qname": "www.sub.dyn.example.test", "kind": "static", "qtype": "A", "content": ["198.51.100.1"]},
    {"qname": "*.sub.dyn.example.test", "qtype": "AAAA", "file": "sub6.txt"}
  ]
}
JSON
    mv "$z/config.json.new" "$z/config.json"
}
config 192.0.2.0/25
"$PDYNDNS" --check --config "$z/config.json" >/dev/null 2>&1 && ok || fail "the test's config does not pass --check"

# ans [DIG-ARGS] NAME TYPE: the answer section, one record a line, single spaces, sorted;
# sec SECTION ...: another section the same way; flags: the header flags
ans() { q +noall +answer "$@" | tr -s ' \t' ' ' | sort; }
sec() { local s=$1; shift; q +noall "+$s" "$@" | grep -v '^;' | grep . | tr -s ' \t' ' ' | sort; }
flags() { q "$@" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p'; }
D=dyn.example.test R4=2.0.192.in-addr.arpa R6=8.b.d.0.1.0.0.2.ip6.arpa S=sub.dyn.example.test
H=ns1.example.test.\ hostmaster.example.test.
soa_d="$D. 3600 IN SOA $H 2026120201 7200 3600 1209600 120"
soa_r4="$R4. 600 IN SOA $H 2026120202 7200 3600 1209600 300"
soa_r6="$R6. 1800 IN SOA $H 2026120203 7200 3600 1209600 900"
soa_s="$S. 90 IN SOA $H 2026120204 7200 3600 1209600 60"
# the SOA in the authority section of NXDOMAIN and NODATA: TTL min(ttl, minimum)
neg_d=${soa_d/ 3600 IN / 120 IN } neg_r4=${soa_r4/ 600 IN / 300 IN } neg_r6=${soa_r6/ 1800 IN / 900 IN }
neg_s=${soa_s/ 90 IN / 60 IN }

dir=$work/pdns
start_pdns "$dir" "$z/config.json" 3 || { fail "start"; finish; }

# --- zones: SOA and NS at every apex, authoritative
expect_eq "main zone SOA" "$soa_d" "$(ans $D SOA)"
expect_eq "main zone NS" "$D. 3600 IN NS ns1.example.test.
$D. 3600 IN NS ns2.example.test." "$(ans $D NS)"
expect_eq "IPv4 reverse zone SOA" "$soa_r4" "$(ans $R4 SOA)"
expect_eq "IPv4 reverse zone SOA: aa" "qr aa" "$(flags +norec $R4 SOA)"
expect_eq "IPv4 reverse zone NS" "$R4. 600 IN NS ns1.example.test.
$R4. 600 IN NS ns2.example.test." "$(ans $R4 NS)"
expect_eq "IPv4 reverse zone NS: aa" "qr aa" "$(flags +norec $R4 NS)"
expect_eq "IPv6 reverse zone SOA" "$soa_r6" "$(ans $R6 SOA)"
expect_eq "IPv6 reverse zone NS (its own ttl)" "$R6. 1800 IN NS ns3.example.test." "$(ans $R6 NS)"
expect_eq "upper-case apex SOA: the zone's, owner as asked" "${soa_r4/#$R4/2.0.192.IN-ADDR.ARPA}" "$(ans 2.0.192.IN-ADDR.ARPA SOA)"
expect_eq "sub zone SOA" "$soa_s" "$(ans $S SOA)"
expect_eq "sub zone NS" "$S. 90 IN NS ns1.example.test.
$S. 90 IN NS ns3.example.test." "$(ans $S NS)"
expect_eq "sub zone NS: aa (a zone, not a delegation)" "qr aa" "$(flags +norec $S NS)"
expect_eq "sub zone: a static A without ttl has its zone's" "www.$S. 90 IN A 198.51.100.1" "$(ans www.$S A)"
expect_eq "sub zone: www AAAA is NODATA" NOERROR "$(status_of www.$S AAAA)"
expect_eq "sub zone: NODATA has the sub zone's SOA" "$neg_s" "$(sec authority www.$S AAAA)"
expect_eq "sub zone: NXDOMAIN below www" NXDOMAIN "$(status_of x.www.$S A)"
expect_eq "sub zone: NXDOMAIN has the sub zone's SOA" "$neg_s" "$(sec authority x.www.$S A)"
expect_eq "sub zone apex A: NODATA, its SOA" "$neg_s" "$(sec authority $S A)"
expect_eq "reverse zone apex A: NODATA" NOERROR "$(status_of $R4 A)"
expect_eq "reverse zone apex A: its SOA" "$neg_r4" "$(sec authority $R4 A)"
expect_eq "main zone NXDOMAIN: the main SOA" "$neg_d" "$(sec authority nope.$D A)"
expect_eq "outside all zones: REFUSED" REFUSED "$(status_of www.other.test A)"
expect_eq "reverse outside the zones (198.51.100.1): REFUSED" REFUSED "$(status_of -x 198.51.100.1)"
expect_eq "the parent of a reverse zone: REFUSED" REFUSED "$(status_of 0.192.in-addr.arpa SOA)"

# --- reverse IPv4: PTR and forward agree
expect_eq "dig -x 192.0.2.3" "3.$R4. 600 IN PTR ip-192-0-2-3.$D." "$(ans -x 192.0.2.3)"
expect_eq "dig -x 192.0.2.3: aa" "qr aa" "$(flags +norec -x 192.0.2.3)"
expect_eq "ip-192-0-2-3 A (the main zone's ttl)" "ip-192-0-2-3.$D. 3600 IN A 192.0.2.3" "$(ans ip-192-0-2-3.$D A)"
expect_eq "ip-192-0-2-3 A: aa" "qr aa" "$(flags +norec ip-192-0-2-3.$D A)"
samples="0 127 1 126 64" # and 15 random ones, not 10 and 11 (they have handlers of their own)
for i in $(seq 15); do n=$((RANDOM % 126)); samples+=" $((n < 10 ? n : n + 2))"; done
bad=
for n in $samples; do
    a=192.0.2.$n name=ip-192-0-2-$n.$D.
    p=$(q +short -x $a); f=$(q +short $name A)
    [ "$p" = "$name" ] && [ "$f" = "$a" ] || bad+=" $a (PTR '$p', A '$f')"
done
expect_eq "20 addresses (0, 127, 1, 126, 64 and 15 random): PTR and A agree" "" "$bad"
expect_eq "upper-case reverse name" "3.2.0.192.IN-ADDR.ARPA. 600 IN PTR ip-192-0-2-3.$D." "$(ans 3.2.0.192.IN-ADDR.ARPA PTR)"
expect_eq "upper-case forward name" "IP-192-0-2-77.DYN.EXAMPLE.TEST. 3600 IN A 192.0.2.77" "$(ans IP-192-0-2-77.DYN.EXAMPLE.TEST A)"
expect_eq "mixed-case forward name" "Ip-192-0-2-127.Dyn.Example.Test. 3600 IN A 192.0.2.127" "$(ans Ip-192-0-2-127.Dyn.Example.Test A)"
expect_eq "forward name asked for AAAA: NODATA" NOERROR "$(status_of ip-192-0-2-3.$D AAAA)"
expect_eq "forward name asked for AAAA: no answer, the main SOA" "$neg_d" "$(sec authority ip-192-0-2-3.$D AAAA)"
expect_eq "reverse name asked for A: NODATA" NOERROR "$(status_of 3.$R4 A)"
expect_eq "reverse name asked for TXT: the reverse zone's SOA" "$neg_r4" "$(sec authority 3.$R4 TXT)"
expect_eq "ANY over TCP at a reverse name: the PTR" "3.$R4. 600 IN PTR ip-192-0-2-3.$D." "$(ans +tcp 3.$R4 ANY)"
expect_eq "ANY over TCP at a forward name: the A" "ip-192-0-2-3.$D. 3600 IN A 192.0.2.3" "$(ans +tcp ip-192-0-2-3.$D ANY)"
# outside the prefix (/25) and other spellings
for a in 192.0.2.128 192.0.2.200 192.0.2.255; do
    expect_eq "dig -x $a (outside 192.0.2.0/25): NXDOMAIN" NXDOMAIN "$(status_of -x $a)"
done
expect_eq "NXDOMAIN outside the prefix: the reverse zone's SOA" "$neg_r4" "$(sec authority -x 192.0.2.200)"
for n in ip-192-0-2-200 ip-192-0-2-03 ip-192-0-2-003 ip-192-000-2-3 ip-192-0-2 ip-192-0-2-3-4 ip-192.0.2.3 \
    ip-198-51-100-1 ip-3-2-0-192 ip- ip-192-0-2-3x x-192-0-2-3 ip-192-0-2-3.x ip-0300-0-2-3 ip-0xc0-0-2-3 ip-192-0-2-3.ip; do
    expect_eq "$n.$D A: NXDOMAIN" NXDOMAIN "$(status_of $n.$D A)"
done
expect_eq "NXDOMAIN of a non-canonical name: the main SOA" "$neg_d" "$(sec authority ip-192-0-2-03.$D A)"
for n in 03.$R4 3.3.$R4 x.3.$R4 03.2.0.192.in-addr.arpa 256.$R4 1a.$R4; do
    expect_eq "$n PTR: NXDOMAIN" NXDOMAIN "$(status_of $n PTR)"
done
# a handler of the exact name takes precedence over the synthesized records
expect_eq "dig -x 192.0.2.10: the static PTR, not the synthesized one" "10.$R4. 600 IN PTR pinned.$D." "$(ans -x 192.0.2.10)"
expect_eq "ip-192-0-2-10 A: still synthesized" "ip-192-0-2-10.$D. 3600 IN A 192.0.2.10" "$(ans ip-192-0-2-10.$D A)"
expect_eq "ip-192-0-2-11 with its own TXT: the TXT" '"pinned"' "$(q +short ip-192-0-2-11.$D TXT)"
expect_eq "ip-192-0-2-11 with its own TXT: A is NODATA" NOERROR "$(status_of ip-192-0-2-11.$D A)"
expect_eq "ip-192-0-2-11 with its own TXT: no A" "" "$(ans ip-192-0-2-11.$D A)"
expect_eq "dig -x 192.0.2.11: still synthesized" "ip-192-0-2-11.$D." "$(q +short -x 192.0.2.11)"

# --- reverse IPv6 (explicit ttl 120 for both)
expect_eq "dig -x 2001:db8::5" "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.$R6. 120 IN PTR v6-2001-db8--5.$D." "$(ans -x 2001:db8::5)"
expect_eq "v6-2001-db8--5 AAAA" "v6-2001-db8--5.$D. 120 IN AAAA 2001:db8::5" "$(ans v6-2001-db8--5.$D AAAA)"
bad=
for a in 2001:db8:: 2001:db8::1 2001:db8::ffff:ffff:ffff:ffff 2001:db8::1:0:0:1 2001:db8::abcd:0:12 2001:db8:0:0:1:: 2001:db8::a:b:c:d; do
    p=$(q +short -x $a)
    f=$(q +short "$p" AAAA)
    [ -n "$p" ] && [ "$f" = "$a" ] || bad+=" $a (PTR '$p', AAAA '$f')"
done
expect_eq "IPv6 addresses: PTR and AAAA agree" "" "$bad"
expect_eq "dig -x 2001:db8::: a trailing -- gets a 0" "v6-2001-db8--0.$D." "$(q +short -x 2001:db8::)"
expect_eq "dig -x 2001:db8::1:0:0:1: the first longest zero run is the ::" "v6-2001-db8--1-0-0-1.$D." "$(q +short -x 2001:db8::1:0:0:1)"
expect_eq "upper-case nibbles" "v6-2001-db8--abcd.$D." "$(q +short D.C.B.A.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA PTR)"
expect_eq "upper-case IPv6 forward name" "2001:db8::abcd" "$(q +short V6-2001-DB8--ABCD.$D AAAA)"
expect_eq "IPv6 forward name asked for A: NODATA" NOERROR "$(status_of v6-2001-db8--5.$D A)"
expect_eq "dig -x 2001:db8:0:1::5 (outside the /64): NXDOMAIN" NXDOMAIN "$(status_of -x 2001:db8:0:1::5)"
expect_eq "... with the IPv6 reverse zone's SOA" "$neg_r6" "$(sec authority -x 2001:db8:0:1::5)"
for n in v6-2001-db8-0-0-0-0-0-5 v6-2001-0db8--5 v6-2001-db8-0--5 v6-2001-db8--0005 v6-2001-db8-1--5 v6-2001-db8-0-0-0-0-5-0 v6-2001-db8-0-0-0-5--0 v6-2001-db8 v6-192-0-2-3; do
    expect_eq "$n.$D AAAA: NXDOMAIN" NXDOMAIN "$(status_of $n.$D AAAA)"
done
expect_eq "a short IPv6 reverse name (16 nibbles, the /64 itself): NXDOMAIN" NXDOMAIN "$(status_of 0.0.0.0.0.0.0.0.$R6 PTR)"

# --- wildcards: static TXT and an address list at *.wild (first: no question has advanced
# the list yet)
expect_eq "wildcard A: rotates in file order across names" "203.0.113.1
203.0.113.2
203.0.113.3
203.0.113.4
203.0.113.1
203.0.113.2" "$(for n in a b c d e f; do q +short $n.wild.$D A; done)"
expect_eq "wildcard TXT: the asked owner" "anything.wild.$D. 3600 IN TXT \"wildcard\"" "$(ans anything.wild.$D TXT)"
expect_eq "wildcard TXT: aa" "qr aa" "$(flags +norec anything.wild.$D TXT)"
expect_eq "wildcard TXT, upper case: the owner as asked" "Other.WILD.$D. 3600 IN TXT \"wildcard\"" "$(ans Other.WILD.$D TXT)"
expect_match "wildcard A: the asked owner, TTL 0" "^h\.wild\.$D\. 0 IN A 203\.0\.113\.[1-4]$" "$(ans h.wild.$D A)"
expect_eq "wildcard: AAAA is NODATA" NOERROR "$(status_of a.wild.$D AAAA)"
expect_eq "wildcard: NODATA, the main SOA" "$neg_d" "$(sec authority a.wild.$D AAAA)"
expect_eq "two labels below the wildcard: synthesized too" "x.y.wild.$D. 3600 IN TXT \"wildcard\"" "$(ans x.y.wild.$D TXT)"
expect_eq "three labels below the wildcard: synthesized too" "NOERROR 1" "$(status_of p.x.y.wild.$D TXT) $(ans p.x.y.wild.$D TXT | wc -l)"
expect_eq "*.wild asked literally" "*.wild.$D. 3600 IN TXT \"wildcard\"" "$(ans '*.wild.'$D TXT)"
expect_eq "a name that exists: its own TXT" "exists.wild.$D. 3600 IN TXT \"exists\"" "$(ans exists.wild.$D TXT)"
expect_eq "a name that exists, asked for A: NODATA, not the wildcard" NOERROR "$(status_of exists.wild.$D A)"
expect_eq "... no answer" "" "$(ans exists.wild.$D A)"
expect_eq "below a name that exists: NXDOMAIN (the closest encloser has no wildcard)" NXDOMAIN "$(status_of x.exists.wild.$D TXT)"
expect_eq "wild itself (an empty non-terminal): NXDOMAIN" NXDOMAIN "$(status_of wild.$D TXT)"
expect_eq "wildcard AAAA list in the sub zone" "2001:db8:5::1" "$(q +short anything.$S AAAA)"
expect_eq "wildcard in the sub zone: A is NODATA with the sub zone's SOA" "$neg_s" "$(sec authority anything.$S A)"
expect_eq "www.sub (exists): AAAA is NODATA, not the wildcard" "" "$(ans www.$S AAAA)"

# --- NXDOMAIN outside all handlers
for n in nope.$D x.nope.$D ip.$D x.ip-192-0-2-3.$D; do
    expect_eq "$n A: NXDOMAIN" NXDOMAIN "$(status_of $n A)"
done

# --- AXFR per zone: its records only, no synthesized names
axfr() { q +noall +answer "$1" AXFR | tr -s ' \t' ' '; }
# axfr_sorted ZONE [SED]: the transfer, its records between the two SOA sorted (SED applied)
axfr_sorted() { local got; got=$(axfr "$1"); echo "$got" | head -1; echo "$got" | sed '1d;$d' | sed "${2:-}" | sort; echo "$got" | tail -1; }
# in_order SOA RECORD...: the transfer as axfr_sorted shows it
in_order() { local s=$1; shift; echo "$s"; printf '%s\n' "$@" | sort; echo "$s"; }
expect_eq "AXFR $R4: SOA, NS, the static PTR, SOA" "$(in_order "$soa_r4" "$R4. 600 IN NS ns1.example.test." \
    "$R4. 600 IN NS ns2.example.test." "10.$R4. 600 IN PTR pinned.$D.")" "$(axfr_sorted $R4)"
got=$(axfr $R6)
expect_eq "AXFR $R6: SOA, NS, SOA" "$soa_r6
$R6. 1800 IN NS ns3.example.test.
$soa_r6" "$got"
expect_eq "AXFR $S: SOA, NS, www A, the wildcard list's address (X: where its rotation is)" \
    "$(in_order "$soa_s" "$S. 90 IN NS ns1.example.test." "$S. 90 IN NS ns3.example.test." \
        "*.$S. 0 IN AAAA 2001:db8:5::X" "www.$S. 90 IN A 198.51.100.1")" \
    "$(axfr_sorted $S 's/2001:db8:5::[12]$/2001:db8:5::X/')"
expect_eq "AXFR $D: its own records, not the sub zone's, not synthesized" \
    "$(in_order "$soa_d" "$D. 3600 IN NS ns1.example.test." "$D. 3600 IN NS ns2.example.test." \
        "*.wild.$D. 0 IN A 203.0.113.X" "*.wild.$D. 3600 IN TXT \"wildcard\"" \
        "exists.wild.$D. 3600 IN TXT \"exists\"" "ip-192-0-2-11.$D. 3600 IN TXT \"pinned\"")" \
    "$(axfr_sorted $D 's/203\.0\.113\.[1-4]$/203.0.113.X/')"

# --- pdynctl: status describes the reverse handlers, query synthesizes
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
for _ in $(seq 50); do [ "$(ctl --json list 2>/dev/null | jq '.copies | length')" -ge 2 ] && break; sleep 0.1; done
out=$(ctl status)
expect_match "status: the IPv4 reverse handler" "ip-\*\.$D +A/PTR +reverse +PTR for every address of 192\.0\.2\.0/25 under $R4, and A for the names it gives, ttl 3600" "$out"
expect_match "status: the IPv6 reverse handler" "v6-\*\.$D +AAAA/PTR +reverse +PTR for every address of 2001:db8::/64 under 0\.0\.0\.0\.0\.0\.0\.0\.${R6//./\\.}, and AAAA for the names it gives, ttl 120" "$out"
expect_match "status: the wildcard TXT" "\*\.wild\.$D +TXT +static +1 record, ttl 3600: \"wildcard\"" "$out"
expect_match "status: the wildcard list" "\*\.wild\.$D +A +round-robin +4 " "$out"
expect_match "status: every zone in the header" "  zone $D \(and ${R4//./\\.}, " "$out"
out=$(ctl query 3.$R4 PTR)
expect_match "query PTR: NOERROR" "^pid [0-9]+: NOERROR" "$out"
expect_eq "query PTR: the synthesized record per copy" "$(echo "$out" | grep -c '^pid ')" "$(echo "$out" | grep -c "^  3\.$R4	600	IN	PTR	ip-192-0-2-3\.$D\.$")"
expect_match "query forward A" "ip-192-0-2-3\.$D	3600	IN	A	192\.0\.2\.3" "$(ctl query ip-192-0-2-3.$D A)"
expect_match "query outside the prefix: NXDOMAIN" "^pid [0-9]+: NXDOMAIN" "$(ctl query 200.$R4 PTR)"

# --- live reload: the prefix moves to 192.0.2.128/25
wait_for() { # EXPECTED COMMAND...: until the command prints EXPECTED (3 s at most)
    local want=$1 i; shift
    for i in $(seq 150); do [ "$("$@")" = "$want" ] && return 0; sleep 0.02; done
    return 1
}
config 192.0.2.128/25
wait_for "ip-192-0-2-200.$D." q +short -x 192.0.2.200 && ok || fail "reload: 192.0.2.200 has no PTR: $(q +short -x 192.0.2.200)"
expect_eq "reload: the new forward name" "ip-192-0-2-200.$D. 3600 IN A 192.0.2.200" "$(ans ip-192-0-2-200.$D A)"
expect_eq "reload: the new prefix's first address" "ip-192-0-2-128.$D." "$(q +short -x 192.0.2.128)"
expect_eq "reload: the new prefix's last address" "192.0.2.255" "$(q +short ip-192-0-2-255.$D A)"
expect_eq "reload: an old address's PTR is NXDOMAIN" NXDOMAIN "$(status_of -x 192.0.2.3)"
expect_eq "reload: an old forward name is NXDOMAIN" NXDOMAIN "$(status_of ip-192-0-2-3.$D A)"
expect_eq "reload: the old first address is NXDOMAIN" NXDOMAIN "$(status_of -x 192.0.2.0)"
expect_eq "reload: the static PTR stays" "pinned.$D." "$(q +short -x 192.0.2.10)"
expect_match "reload: status shows the new prefix" "PTR for every address of 192\.0\.2\.128/25 under $R4" "$(ctl status)"
stop_pid "$PDNS_PID"

# pipe-regex (README): one that lets in only the forward zone keeps the reverse zones out
# (REFUSED: their SOA lookups never reach pdyndns); one that lets in-addr.arpa through works
dir=$work/regex-fwd
start_pdns "$dir" "$z/config.json" 3 'pipe-regex=(^|\.)dyn\.example\.test$' || { fail "start regex-fwd"; finish; }
expect_eq "pipe-regex for the forward zone only: the forward name answers" 192.0.2.200 "$(q +short ip-192-0-2-200.$D A)"
expect_eq "pipe-regex for the forward zone only: dig -x is REFUSED" REFUSED "$(status_of -x 192.0.2.200)"
stop_pid "$PDNS_PID"
dir=$work/regex-all
start_pdns "$dir" "$z/config.json" 3 'pipe-regex=(^|\.)(dyn\.example\.test|in-addr\.arpa|ip6\.arpa)$' || { fail "start regex-all"; finish; }
expect_eq "pipe-regex with in-addr.arpa: dig -x answers" "ip-192-0-2-200.$D." "$(q +short -x 192.0.2.200)"
expect_eq "pipe-regex with ip6.arpa: dig -x answers" "v6-2001-db8--5.$D." "$(q +short -x 2001:db8::5)"
finish
