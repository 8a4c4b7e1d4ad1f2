#!/bin/bash
# SPDX-License-Identifier: MIT
# Empty non-terminals and wildcards (RFC 4592), compared with a static zone: the same records
# as a zone file served by PowerDNS's bind backend.
#   PowerDNS 5.1 and later, "empty_non_terminals": true: every question, under every ABI, gets
#   exactly the static zone's answer (rcode, answer and authority sections).
#   Without the option (any version) pdyndns answers as before: a name that exists only
#   because a name below it does is NXDOMAIN, or gets a wildcard above it.
#   PowerDNS 4.x with the option: it refuses ENT lines, so a question at or below an empty
#   non-terminal fails (SERVFAIL); what pdyndns --check --pdns-config warns about.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
ls "$PDNS_ROOT"/usr/lib/*/pdns/libbindbackend.so >/dev/null 2>&1 ||
    { echo "SKIP: pdns-backend-bind not installed${PDNS_ROOT:+ in $PDNS_ROOT} (the static zone to compare with)"; exit 77; }

z=$work/zone
mkdir -p "$z"
echo 192.0.2.7 > "$z/abc.txt"
config() { # ENT(true|false)
    cat <<JSON
{"domain": "dyn.example.test", "soa": "ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 120",
 "nameservers": ["ns1.example.test", "ns2.example.test"], "ttl": 3600,
 "empty_non_terminals": $1,
 "handlers": [
  {"qname": "*.w.dyn.example.test", "kind": "static", "qtype": "TXT", "content": ["wild"]},
  {"qname": "deep.under.w.dyn.example.test", "kind": "static", "qtype": "TXT", "content": ["deep"]},
  {"qname": "a.b.c.dyn.example.test", "qtype": "A", "file": "abc.txt"}]}
JSON
}
config true > "$z/ent.json"
config false > "$z/plain.json"
cat > "$z/dyn.example.test.zone" <<'ZONE'
$TTL 3600
@ IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 120
@ IN NS ns1.example.test.
@ IN NS ns2.example.test.
*.w IN TXT "wild"
deep.under.w IN TXT "deep"
a.b.c IN A 192.0.2.7
ZONE
printf 'zone "dyn.example.test" { type master; file "%s"; };\n' "$z/dyn.example.test.zone" > "$z/named.conf"

# the static zone: pdns with the bind backend, on its own port
static=$work/static
mkdir -p "$static"
for try in 1 2 3; do
    SPORT=$(free_port)
    printf '%s\n' launch=bind "bind-config=$z/named.conf" local-address=127.0.0.1 "local-port=$SPORT" \
        "socket-dir=$static" daemon=no guardian=no disable-syslog=yes security-poll-suffix= \
        zone-cache-refresh-interval=0 cache-ttl=0 query-cache-ttl=0 negquery-cache-ttl=0 > "$static/pdns.conf"
    run_pdns --config-dir="$static" > "$static/pdns.log" 2>&1 &
    pdns_pids+=("$!")
    for _ in $(seq 100); do
        "$DIG" +short +time=1 +tries=1 @127.0.0.1 -p "$SPORT" dyn.example.test SOA 2>/dev/null | grep -q ns1 && break 2
        sleep 0.1
    done
    stop_pid "${pdns_pids[-1]}"
done
"$DIG" +short +time=1 +tries=1 @127.0.0.1 -p "$SPORT" dyn.example.test SOA | grep -q ns1 ||
    { fail "the bind backend did not start; its log:"; cat "$static/pdns.log"; finish; }

# answer PORT NAME TYPE: rcode, then the answer and authority records without their TTLs
answer() {
    "$DIG" +time=2 +tries=1 @127.0.0.1 -p "$1" +noall +comments +answer +authority "$2" "$3" |
        awk '/status:/ { sub(/.*status: /, ""); sub(/,.*/, ""); print; next }
             /^;/ || NF == 0 { next }
             { $2 = ""; $0 = $0; $1 = $1; print tolower($0) }' | sort
}
questions=(
    "other.under.w.dyn.example.test TXT"   # NXDOMAIN: under.w exists, *.under.w does not
    "under.w.dyn.example.test TXT"         # NODATA: an empty non-terminal
    "w.dyn.example.test TXT"               # NODATA: above the wildcard
    "x.w.dyn.example.test TXT"             # the wildcard
    "x.y.w.dyn.example.test TXT"           # the wildcard, two labels below
    "deep.under.w.dyn.example.test TXT"    # data
    "deep.under.w.dyn.example.test A"      # NODATA
    "a.deep.under.w.dyn.example.test TXT"  # NXDOMAIN
    "b.c.dyn.example.test A"               # NODATA: above an address list
    "c.dyn.example.test AAAA"              # NODATA
    "x.c.dyn.example.test A"               # NXDOMAIN
    "a.b.c.dyn.example.test A"             # data
    "nx.dyn.example.test A"                # NXDOMAIN
)
declare -A want
for qu in "${questions[@]}"; do
    # shellcheck disable=SC2086
    want[$qu]=$(answer "$SPORT" $qu)
done
expect_eq "the static zone: an empty non-terminal is NODATA" "NOERROR
dyn.example.test. in soa ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 120" \
    "${want[under.w.dyn.example.test TXT]}"
expect_match "the static zone: no wildcard below an existing name" "^NXDOMAIN" \
    "${want[other.under.w.dyn.example.test TXT]}"

version=$(pdns_version)
if pdns_at_least 5.1; then
    for abi in 1 2 3 4 5; do
        start_pdns "$work/ent$abi" "$z/ent.json" "$abi" || { fail "start (ABI $abi)"; continue; }
        for qu in "${questions[@]}"; do
            # shellcheck disable=SC2086
            expect_eq "pdns $version, ABI $abi, empty_non_terminals: $qu as the static zone" \
                "${want[$qu]}" "$(answer "$PORT" $qu)"
        done
        stop_pid "$PDNS_PID"
    done
else
    start_pdns "$work/ent" "$z/ent.json" 3 || { fail "start"; finish; }
    # the referral probe asks for every name between the apex and the one asked, so a question
    # at or below an empty non-terminal fails
    expect_eq "pdns $version refuses ENT lines: a question at an empty non-terminal fails" SERVFAIL \
        "$(answer "$PORT" under.w.dyn.example.test TXT | head -n1)"
    expect_eq "pdns $version refuses ENT lines: so does one below it" SERVFAIL \
        "$(answer "$PORT" a.b.c.dyn.example.test A | head -n1)"
    stop_pid "$PDNS_PID"
fi

# without the option: as before, on every version (a name that exists only because of a name
# below it is unknown to PowerDNS)
start_pdns "$work/plain" "$z/plain.json" 3 || { fail "start"; finish; }
wild="NOERROR
$(printf '%s.dyn.example.test. in txt "wild"' "%s")"
expect_eq "without the option, under.w TXT gets the wildcard" "$(printf "$wild" under.w)" \
    "$(answer "$PORT" under.w.dyn.example.test TXT)"
expect_eq "without the option, other.under.w TXT gets the wildcard" "$(printf "$wild" other.under.w)" \
    "$(answer "$PORT" other.under.w.dyn.example.test TXT)"
expect_match "without the option, b.c A is NXDOMAIN" "^NXDOMAIN" "$(answer "$PORT" b.c.dyn.example.test A)"
for qu in "x.w.dyn.example.test TXT" "deep.under.w.dyn.example.test TXT" "a.deep.under.w.dyn.example.test TXT" \
    "a.b.c.dyn.example.test A" "nx.dyn.example.test A"; do
    # shellcheck disable=SC2086
    expect_eq "without the option: $qu as the static zone" "${want[$qu]}" "$(answer "$PORT" $qu)"
done
finish
