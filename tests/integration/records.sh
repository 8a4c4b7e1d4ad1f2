#!/bin/bash
# SPDX-License-Identifier: MIT
# Handler kinds through the real PowerDNS: static records of every type (A, AAAA in canonical
# form, CNAME to an address list and to a static A, MX with its additional section, SRV,
# TXT with quotes, backslashes and more than 255 bytes, PTR, CAA at the apex with
# backslashes in its values, NS as a delegation); an address list and static records at one
# name (A rotates, TXT and MX fixed, ANY over TCP gives all); default and explicit TTLs;
# NODATA and NXDOMAIN; whoami under ABI 3 with edns-subnet-processing (address, subnet, ECS
# scope, AAAA NODATA, per client also with the query cache on) and under ABI 1; a live
# reload that changes a record and one that is refused; pdynctl status and query (--client)
# for the kinds.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
z=$work/zone
mkdir -p "$z"
printf '192.0.2.%d\n' 1 2 3 > "$z/www.txt"
printf '203.0.113.%d\n' 1 2 > "$z/pool.txt"
long=$(printf 'x%.0s' $(seq 200); printf 'y%.0s' $(seq 100)) # 300 bytes: strings of 255 and 45

# config WWW-TXT WWW-MX-JSON: writes the config atomically (temp file, then mv)
config() {
    cat > "$z/config.json.new" <<JSON
{
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026120201 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test", "ns2.example.test"],
  "ttl": 3600,
  "handlers": [
    {"qname": "www.dyn.example.test", "qtype": "A", "file": "www.txt"},
    {"qname": "www.dyn.example.test", "kind": "static", "qtype": "TXT", "content": ["$1"]},
    {"qname": "www.dyn.example.test", "kind": "static", "qtype": "MX", "content": $2},
    {"qname": "mx1.dyn.example.test", "kind": "static", "qtype": "A", "content": ["192.0.2.10"]},
    {"qname": "mx2.dyn.example.test", "kind": "static", "qtype": "A", "content": ["192.0.2.20"], "ttl": 60},
    {"qname": "pool.dyn.example.test", "qtype": "A", "file": "pool.txt"},
    {"qname": "v6.dyn.example.test", "kind": "static", "qtype": "AAAA", "content": ["2001:DB8:0::1", "2001:db8:0:0:0:0:0:2"]},
    {"qname": "alias.dyn.example.test", "kind": "static", "qtype": "CNAME", "content": ["pool.dyn.example.test"]},
    {"qname": "alias2.dyn.example.test", "kind": "static", "qtype": "CNAME", "content": ["mx1.dyn.example.test."]},
    {"qname": "_sip._udp.dyn.example.test", "kind": "static", "qtype": "SRV",
     "content": ["10 60 5060 sip1.dyn.example.test", "20 0 5061 sip2.example.net."]},
    {"qname": "txt.dyn.example.test", "kind": "static", "qtype": "TXT",
     "content": ["two words", "say \"hi\" \\\\ back"], "ttl": 300},
    {"qname": "long.dyn.example.test", "kind": "static", "qtype": "TXT", "content": ["$long"]},
    {"qname": "ptr.dyn.example.test", "kind": "static", "qtype": "PTR", "content": ["host.example.net"]},
    {"qname": "dyn.example.test", "kind": "static", "qtype": "CAA", "content": ["0 issue \"letsencrypt.org\"", "0 iodef \"mailto:a\\\\\"", "0 issue ca\\\\065x"]},
    {"qname": "sub.dyn.example.test", "kind": "static", "qtype": "NS", "content": ["ns.sub.dyn.example.test"]},
    {"qname": "ns.sub.dyn.example.test", "kind": "static", "qtype": "A", "content": ["192.0.2.53"]},
    {"qname": "whoami.dyn.example.test", "kind": "whoami"}
  ]
}
JSON
    mv "$z/config.json.new" "$z/config.json"
}
mx='["10 mx1.dyn.example.test", "20 mx2.dyn.example.test."]'
config "v=spf1 -all" "$mx"
"$PDYNDNS" --check --config "$z/config.json" >/dev/null 2>&1 && ok || fail "the test's config does not pass --check"

# ans [DIG-ARGS] NAME TYPE: the answer section, one record a line, single spaces, sorted
# (PowerDNS shuffles records); sec SECTION ...: another section the same way
ans() { q +noall +answer "$@" | tr -s ' \t' ' ' | sort; }
sec() { local s=$1; shift; q +noall "+$s" "$@" | grep -v '^;' | grep . | tr -s ' \t' ' ' | sort; }
flags() { q "$@" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p'; }
counts() { q "$@" | sed -n 's/^;; flags: [a-z ]*; \(QUERY.*\)/\1/p'; }
soa='dyn.example.test. 120 IN SOA ns1.example.test. hostmaster.example.test. 2026120201 7200 3600 1209600 120'
D=dyn.example.test

dir=$work/pdns
start_pdns "$dir" "$z/config.json" 3 "edns-subnet-processing=yes" || { fail "start"; finish; }

# an address list and a static TXT at one name: A rotates in file order (the first questions
# at www), TXT stays fixed
expect_eq "www A rotates as before beside static records" "192.0.2.1
192.0.2.2
192.0.2.3
192.0.2.1" "$(for i in 1 2 3 4; do q +short www.$D A; done)"
expect_eq "www TXT beside the list: fixed" '"v=spf1 -all"
"v=spf1 -all"
"v=spf1 -all"' "$(for i in 1 2 3; do q +short www.$D TXT; done)"
expect_match "www A after TXT questions: still one address of the list" '^192\.0\.2\.[1-3]$' "$(q +short www.$D A)"
got=$(ans +tcp www.$D ANY)
expect_eq "www ANY over TCP: A, MX, MX, TXT" "A MX MX TXT" "$(echo "$got" | cut -d' ' -f4 | tr '\n' ' ' | sed 's/ $//')"
expect_match "www ANY over TCP: the address (TTL 0)" "www\.$D\. 0 IN A 192\.0\.2\.[1-3]" "$got"
expect_match "www ANY over TCP: the TXT" "www\.$D\. 3600 IN TXT \"v=spf1 -all\"" "$got"
expect_match "www ANY over TCP: both MX" "MX 10 mx1\.$D\..*MX 20 mx2\.$D\." "$(echo $got)"

# A (default TTL: the zone's) and an explicit ttl
expect_eq "static A, the zone's TTL" "mx1.$D. 3600 IN A 192.0.2.10" "$(ans mx1.$D A)"
expect_eq "static A, explicit ttl 60" "mx2.$D. 60 IN A 192.0.2.20" "$(ans mx2.$D A)"
expect_eq "static TXT, explicit ttl 300" "300 300" "$(ans txt.$D TXT | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')"
# AAAA in canonical form
expect_eq "static AAAA: canonical form" "v6.$D. 3600 IN AAAA 2001:db8::1
v6.$D. 3600 IN AAAA 2001:db8::2" "$(ans v6.$D AAAA)"
expect_eq "static AAAA asked for A: NODATA" "NOERROR" "$(status_of v6.$D A)"
# CNAME: to an address list, to a static A
got=$(ans alias.$D A)
expect_eq "CNAME to an address list: the CNAME and one A" 2 "$(echo "$got" | wc -l)"
expect_eq "CNAME to an address list: the CNAME" "alias.$D. 3600 IN CNAME pool.$D." "$(echo "$got" | head -1)"
expect_match "CNAME to an address list: the target's A" "pool\.$D\. 0 IN A 203\.0\.113\.[12]" "$got"
expect_eq "CNAME to a static A" "alias2.$D. 3600 IN CNAME mx1.$D.
mx1.$D. 3600 IN A 192.0.2.10" "$(ans alias2.$D A)"
expect_eq "CNAME asked for itself" "alias.$D. 3600 IN CNAME pool.$D." "$(ans alias.$D CNAME)"
expect_eq "CNAME asked for TXT: the CNAME (the target has no TXT)" "alias2.$D. 3600 IN CNAME mx1.$D." "$(ans alias2.$D TXT)"
# MX: two records, priorities, and the exchanges' addresses in the additional section
expect_eq "MX: two records with their preferences" "www.$D. 3600 IN MX 10 mx1.$D.
www.$D. 3600 IN MX 20 mx2.$D." "$(ans www.$D MX)"
expect_eq "MX: the additional section" "mx1.$D. 3600 IN A 192.0.2.10
mx2.$D. 60 IN A 192.0.2.20" "$(sec additional www.$D MX)"
expect_eq "MX: authoritative" "qr aa" "$(flags +norec www.$D MX)"
# SRV: all four fields
expect_eq "SRV: priority, weight, port, target" "_sip._udp.$D. 3600 IN SRV 10 60 5060 sip1.$D.
_sip._udp.$D. 3600 IN SRV 20 0 5061 sip2.example.net." "$(ans _sip._udp.$D SRV)"
# TXT: spaces, a quote and a backslash; more than 255 bytes as two strings
expect_eq "TXT: spaces, quote, backslash" '"say \"hi\" \\ back"
"two words"' "$(q +short txt.$D TXT | sort)"
expect_eq "TXT of 300 bytes: strings of 255 and 45" "\"${long:0:255}\" \"${long:255}\"" "$(q +short long.$D TXT)"
# PTR, CAA (at the apex, beside the SOA and NS)
expect_eq "PTR" "ptr.$D. 3600 IN PTR host.example.net." "$(ans ptr.$D PTR)"
# a backslash in a CAA value is text, not an escape for PowerDNS: "a\" is not a quote
# escaped (SERVFAIL), and "\065" is not 'A'
expect_eq "CAA at the apex, backslashes as written" "$D. 3600 IN CAA 0 iodef \"mailto:a\\\\\"
$D. 3600 IN CAA 0 issue \"ca\\\\065x\"
$D. 3600 IN CAA 0 issue \"letsencrypt.org\"" "$(ans $D CAA)"
expect_eq "apex SOA beside a static CAA (the zone's TTL)" "${soa/ 120 IN / 3600 IN }" "$(ans $D SOA)"
expect_eq "apex NS from nameservers" "$D. 3600 IN NS ns1.example.test.
$D. 3600 IN NS ns2.example.test." "$(ans $D NS)"
# NS below the apex: a delegation (referral: no aa, NS in authority, glue in additional)
for n in sub.$D www.sub.$D; do
    expect_eq "$n: referral, not authoritative" "qr" "$(flags +norec $n NS)"
    expect_eq "$n: NOERROR" NOERROR "$(status_of +norec $n A)"
    expect_eq "$n: no answer" "" "$(ans +norec $n A)"
    expect_eq "$n: NS in the authority section" "sub.$D. 3600 IN NS ns.sub.$D." "$(sec authority +norec $n A)"
    expect_eq "$n: glue" "ns.sub.$D. 3600 IN A 192.0.2.53" "$(sec additional +norec $n A)"
done

# NODATA and NXDOMAIN
expect_eq "static TXT name asked for A: NOERROR" NOERROR "$(status_of txt.$D A)"
expect_match "... with no answer" 'ANSWER: 0, AUTHORITY: 1' "$(counts txt.$D A)"
expect_eq "... and the SOA in authority" "$soa" "$(sec authority txt.$D A)"
expect_eq "... authoritative" "qr aa rd" "$(flags txt.$D A)"
expect_eq "a name outside all handlers: NXDOMAIN" NXDOMAIN "$(status_of nope.$D A)"
expect_eq "... with the SOA in authority" "$soa" "$(sec authority nope.$D A)"
expect_eq "a name below a static one: NXDOMAIN" NXDOMAIN "$(status_of x.txt.$D TXT)"

# AXFR lists the static records (as pdns serves them), not whoami (it depends on the client)
got=$(q +noall +answer $D AXFR | tr -s ' \t' ' ')
expect_match "AXFR: the static MX" "www\.$D\. 3600 IN MX 20 mx2\.$D\." "$got"
expect_match "AXFR: the static SRV" "_sip\._udp\.$D\. 3600 IN SRV 10 60 5060 sip1\.$D\." "$got"
expect_match "AXFR: the delegation" "sub\.$D\. 3600 IN NS ns\.sub\.$D\." "$got"
expect_eq "AXFR: the long TXT in two strings" 1 "$(echo "$got" | grep -cxF "long.$D. 3600 IN TXT \"${long:0:255}\" \"${long:255}\"")"
expect_eq "AXFR: no whoami records" 0 "$(echo "$got" | grep -c "^whoami\.")"

# whoami (ABI 3, edns-subnet-processing=yes)
expect_eq "whoami A: the resolver" "whoami.$D. 0 IN A 127.0.0.1" "$(ans whoami.$D A)"
expect_eq "whoami A from 127.0.0.2" "127.0.0.2" "$(q +short -b 127.0.0.2 whoami.$D A)"
expect_eq "whoami TXT: the resolver as /32" '"127.0.0.1/32"' "$(q +short whoami.$D TXT)"
got=$(q +subnet=198.51.100.0/24 whoami.$D TXT)
expect_eq "whoami TXT with ECS: the client subnet" "whoami.$D. 0 IN TXT \"198.51.100.0/24\"" \
    "$(echo "$got" | sed -n '/^;; ANSWER SECTION:/,/^$/p' | grep -v '^;' | grep . | tr -s ' \t' ' ')"
expect_match "whoami TXT with ECS: scope 24" '; CLIENT-SUBNET: 198\.51\.100\.0/24/24([^0-9]|$)' "$got"
expect_eq "whoami A with ECS: still the resolver" 127.0.0.1 "$(q +short +subnet=198.51.100.0/24 whoami.$D A)"
expect_match "whoami A with ECS: scope 24" '; CLIENT-SUBNET: 198\.51\.100\.0/24/24([^0-9]|$)' "$(q +subnet=198.51.100.0/24 whoami.$D A)"
expect_eq "whoami AAAA from an IPv4 client: NOERROR" NOERROR "$(status_of whoami.$D AAAA)"
expect_match "whoami AAAA from an IPv4 client: no answer, the SOA" 'ANSWER: 0, AUTHORITY: 1' "$(counts whoami.$D AAAA)"
expect_eq "whoami MX: NODATA" "$soa" "$(sec authority whoami.$D MX)"

# pdynctl: status shows the kinds, query answers for --client
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
for _ in $(seq 50); do [ "$(ctl --json list 2>/dev/null | jq '.copies | length')" -ge 2 ] && break; sleep 0.1; done
out=$(ctl status)
expect_match "status: static MX, its records" "www\.$D +MX +static +2 records, ttl 3600: 10 mx1\.$D\. 20 mx2\.$D\." "$out"
expect_match "status: static A, explicit ttl" "mx2\.$D +A +static +1 record, ttl 60: 192\.0\.2\.20" "$out"
expect_match "status: static AAAA, canonical" "v6\.$D +AAAA +static +2 records, ttl 3600: 2001:db8::1 2001:db8::2" "$out"
expect_match "status: static TXT, quoted" "txt\.$D +TXT +static +2 records, ttl 300: \"two words\" \"say \\\\\"hi\\\\\" \\\\\\\\ back\"" "$out"
expect_match "status: whoami" "whoami\.$D +A/AAAA/TXT +whoami +the resolver's address \(A or AAAA\) and the client subnet \(TXT\), ttl 0" "$out"
expect_match "status: the address list beside them" "www\.$D +A +round-robin +3 " "$out"
out=$(ctl query www.$D MX)
expect_eq "query www MX: both records per copy" "$(ctl --json list | jq '.copies | length')" "$(echo "$out" | grep -c "^  www\.$D	3600	IN	MX	10 mx1\.$D\.$")"
expect_eq "query www MX: the second record per copy" "$(echo "$out" | grep -c '^pid ')" "$(echo "$out" | grep -c "^  www\.$D	3600	IN	MX	20 mx2\.$D\.$")"
expect_match "query www MX: NOERROR" "^pid [0-9]+: NOERROR" "$out"
out=$(ctl query whoami.$D TXT --client 198.51.100.7)
expect_match "query whoami TXT --client ADDR: the /32" "whoami\.$D	0	IN	TXT	\"198\.51\.100\.7/32\"" "$out"
expect_eq "query whoami TXT --client ADDR: nothing else" 0 "$(echo "$out" | grep -v '^pid ' | grep -vc '198\.51\.100\.7/32')"
out=$(ctl query whoami.$D TXT --client 198.51.100.0/24)
expect_match "query whoami TXT --client SUBNET: the subnet" "whoami\.$D	0	IN	TXT	\"198\.51\.100\.0/24\"" "$out"
expect_match "query whoami A --client ADDR" "whoami\.$D	0	IN	A	198\.51\.100\.7" "$(ctl query whoami.$D A --client 198.51.100.7)"
expect_match "query whoami AAAA --client IPv4: NODATA" "NODATA" "$(ctl query whoami.$D AAAA --client 198.51.100.7)"

# live reload: a changed static record is served; a bad one is refused, the old kept
log=$dir/pdns.log
wait_for() { # EXPECTED COMMAND...: until the command prints EXPECTED (3 s at most)
    local want=$1 i; shift
    for i in $(seq 150); do [ "$("$@")" = "$want" ] && return 0; sleep 0.02; done
    return 1
}
config "v=spf1 ip4:192.0.2.0/24 -all" "$mx"
wait_for '"v=spf1 ip4:192.0.2.0/24 -all"' q +short www.$D TXT && ok || fail "reload: the new TXT is not served: $(q +short www.$D TXT)"
expect_eq "reload: the MX unchanged" "10 mx1.$D.
20 mx2.$D." "$(q +short www.$D MX | sort)"
# the reload's summary counts address lists only: www's list did not change
expect_match "reload: no list new or changed (static records are no lists)" \
    'generation [0-9]+ applied: zone dyn\.example\.test, [0-9]+ handlers, [0-9]+ addresses; 0 lists new or changed' \
    "$(grep 'applied: zone' "$log" | tail -n 1)"
before=$(wc -l < "$log")
config "v=spf1 redirect=_spf.example.test" '["mx1.dyn.example.test"]'
want="error: $z/config.json: error: /handlers/2/content/0: \"mx1.dyn.example.test\" is not \"PREFERENCE EXCHANGE\" (a number from 0 to 65535, one space, a host name or \".\")"
for _ in $(seq 150); do tail -n +"$((before + 1))" "$log" | grep -qF -- "$want" && break; sleep 0.02; done
tail -n +"$((before + 1))" "$log" | sed 's/^pdyndns\[[0-9]*\]: //' | grep -qxF -- "$want" && ok ||
    fail "bad MX: '$want' not logged; the log since: $(tail -n +"$((before + 1))" "$log")"
expect_match "bad MX: the config is not applied" "config\.json: config not applied; keeping generation [0-9]+ \(17 handlers, 5 addresses\)" \
    "$(tail -n +"$((before + 1))" "$log")"
expect_eq "bad MX: the old TXT still served" '"v=spf1 ip4:192.0.2.0/24 -all"' "$(q +short www.$D TXT)"
expect_eq "bad MX: the old MX still served" "10 mx1.$D.
20 mx2.$D." "$(q +short www.$D MX | sort)"
stop_pid "$PDNS_PID"

# whoami with PowerDNS's query cache on (as data/pdns.conf has it): its answers carry a
# scope, so they are never cached, not even for a client that sent ECS 0.0.0.0/0
config "v=spf1 -all" "$mx"
dir=$work/cache
start_pdns "$dir" "$z/config.json" 3 "edns-subnet-processing=yes" "query-cache-ttl=20" || { fail "start cache"; finish; }
expect_eq "query cache: whoami A from 127.0.0.1" 127.0.0.1 "$(q +short whoami.$D A)"
expect_eq "query cache: whoami A from 127.0.0.2" 127.0.0.2 "$(q +short -b 127.0.0.2 whoami.$D A)"
got=$(q +subnet=0.0.0.0/0 whoami.$D TXT)
expect_match "query cache: ECS /0: the subnet" "IN	TXT	\"0\.0\.0\.0/0\"" "$got"
expect_match "query cache: ECS /0: a scope, not 0" '; CLIENT-SUBNET: 0\.0\.0\.0/0/32([^0-9]|$)' "$got"
expect_eq "query cache: ECS /0 from 127.0.0.1: A" 127.0.0.1 "$(q +short +subnet=0.0.0.0/0 whoami.$D A)"
expect_eq "query cache: then 127.0.0.2 gets its own A" 127.0.0.2 "$(q +short -b 127.0.0.2 whoami.$D A)"
expect_eq "query cache: then 127.0.0.2 gets its own TXT" '"127.0.0.2/32"' "$(q +short -b 127.0.0.2 whoami.$D TXT)"
expect_eq "query cache: static records still answer" "10 mx1.$D.
20 mx2.$D." "$(q +short www.$D MX | sort)"
stop_pid "$PDNS_PID"

# ABI 1: no client subnet, the resolver's address as /32, also when the client sends ECS
dir=$work/abi1
start_pdns "$dir" "$z/config.json" 1 "edns-subnet-processing=yes" || { fail "start ABI 1"; finish; }
expect_eq "ABI 1: whoami A" 127.0.0.1 "$(q +short whoami.$D A)"
expect_eq "ABI 1: whoami TXT" '"127.0.0.1/32"' "$(q +short whoami.$D TXT)"
expect_eq "ABI 1: whoami TXT with ECS: still the resolver" '"127.0.0.1/32"' "$(q +short +subnet=198.51.100.0/24 whoami.$D TXT)"
expect_eq "ABI 1: static MX" "10 mx1.$D.
20 mx2.$D." "$(q +short www.$D MX | sort)"
expect_eq "ABI 1: static SRV" "10 60 5060 sip1.$D.
20 0 5061 sip2.example.net." "$(q +short _sip._udp.$D SRV | sort)"
finish
