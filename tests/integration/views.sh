#!/bin/bash
# SPDX-License-Identifier: MIT
# Per-client views through the real PowerDNS (ABI 3, edns-subnet-processing=yes): the EDNS
# client subnet picks the view (IPv4 and IPv6), each view rotates on its own and apart from
# the handler's own list, which everyone else gets; the reply's CLIENT-SUBNET scope is the
# number of bits that decided (a lone /24: 24; a /25 of another view inside it: 25); a
# prefix file, rewritten, moves a subnet into its view, and a bad line in it is logged with
# PATH:LINE while the previous prefixes keep answering; a rewritten view file serves its new
# list and leaves the handler's list alone; match "resolver" ignores ECS; without ECS the
# resolver (127.0.0.1) is the client; under ABI 1 the resolver decides; pdynctl query
# --client and status show the views; names outside every handler stay NXDOMAIN.
set -u
. "$(dirname "$0")/lib.sh"
need_pdns
z=$work/zone
mkdir -p "$z"
printf '192.0.2.%d\n' 1 2 3 > "$z/def.txt"
printf '192.0.2.%d\n' 11 12 13 > "$z/nl.txt"
printf '192.0.2.%d\n' 21 22 > "$z/wide.txt"
printf '192.0.2.%d\n' 31 32 > "$z/narrow.txt"
printf '192.0.2.%d\n' 41 42 > "$z/probes-addr.txt"
printf '192.0.2.%d\n' 51 52 > "$z/loc.txt"
printf '192.0.2.%d\n' 61 > "$z/res-nl.txt"
printf '192.0.2.%d\n' 71 72 > "$z/lo.txt"
printf '# the probes\n203.0.113.0/24\n  2001:db8:99::/48  # v6 probes\n' > "$z/probes.txt"
cat > "$z/config.json" <<JSON
{
  "domain": "dyn.example.test",
  "soa": "ns1.example.test. hostmaster.example.test. 2026120201 7200 3600 1209600 120",
  "nameservers": ["ns1.example.test"],
  "ttl": 60,
  "handlers": [
    {"qname": "www.dyn.example.test", "qtype": "A", "file": "def.txt",
     "views": [{"name": "nl", "prefixes": ["198.51.100.0/24", "2001:db8:1::/48"], "file": "nl.txt"}]},
    {"qname": "nest.dyn.example.test", "qtype": "A", "file": "def.txt",
     "views": [{"name": "wide", "prefixes": ["198.51.100.0/24"], "file": "wide.txt"},
               {"name": "narrow", "prefixes": ["198.51.100.128/25"], "file": "narrow.txt"}]},
    {"qname": "probe.dyn.example.test", "qtype": "A", "file": "def.txt",
     "views": [{"name": "probes", "prefix_file": "probes.txt", "file": "probes-addr.txt"}]},
    {"qname": "res.dyn.example.test", "qtype": "A", "file": "def.txt", "match": "resolver",
     "views": [{"name": "local", "prefixes": ["127.0.0.0/8"], "file": "loc.txt"},
               {"name": "res-nl", "prefixes": ["198.51.100.0/24"], "file": "res-nl.txt"}]},
    {"qname": "lo.dyn.example.test", "qtype": "A", "file": "def.txt",
     "views": [{"name": "lo", "prefixes": ["127.0.0.0/8"], "file": "lo.txt"}]}
  ]
}
JSON

# ask SUBNET NAME: one A question, with ECS SUBNET ("-": none); prints the addresses of the
# answer section and the reply's CLIENT-SUBNET option ("-": none), e.g.
# "192.0.2.11 198.51.100.0/24/24".
ask() {
    local out addrs ecs
    if [ "$1" = - ]; then out=$(q "$2" A); else out=$(q +subnet="$1" "$2" A); fi
    addrs=$(echo "$out" | awk '$1 !~ /^;/ && $4 == "A" { print $5 }' | sort | paste -sd,)
    ecs=$(echo "$out" | sed -n 's/^; CLIENT-SUBNET: //p')
    echo "${addrs:--} ${ecs:--}"
}
# asks SUBNET NAME N: N questions, one line each
asks() { local i; for ((i = 0; i < $3; i++)); do ask "$1" "$2"; done; }
ctl() { "$PDYNCTL" --dir "$dir/ctl" "$@"; }
# next_of NAME CLIENT: what pdynctl query --client says every copy would answer, sorted
next_of() { ctl query "$1" A --client "$2" | awk '$4 == "A" { print $5 }' | sort -u | paste -sd' '; }
wait_for() { # EXPECTED COMMAND...: until the command prints EXPECTED (10 s at most)
    local want=$1 i; shift
    for i in $(seq 200); do [ "$("$@")" = "$want" ] && return 0; sleep 0.05; done
    return 1
}
wait_log() { # REGEX: until pdns.log has a line matching it (10 s at most)
    local i
    for i in $(seq 200); do grep -qE -- "$1" "$dir/pdns.log" && return 0; sleep 0.05; done
    return 1
}
# replace FILE: stdin becomes FILE atomically (temp file + mv)
replace() { cat > "$1.new" && mv "$1.new" "$1"; }

dir=$work/pdns
start_pdns "$dir" "$z/config.json" 3 "edns-subnet-processing=yes" || { fail "start"; finish; }
# the control sockets of both copies (UDP and TCP) are up
for _ in $(seq 100); do [ "$(ctl list 2>/dev/null | grep -c 'gen 1')" -ge 2 ] && break; sleep 0.05; done

# --- the ECS subnet picks the view; its own rotation; the scope of the decision ---------
expect_eq "www: a /24 client of view nl gets its list in rotation order, scope 24" \
    "192.0.2.11 198.51.100.0/24/24
192.0.2.12 198.51.100.0/24/24
192.0.2.13 198.51.100.0/24/24" "$(asks 198.51.100.0/24 www.dyn.example.test 3)"
expect_eq "www: no ECS (client 127.0.0.1): the handler's own list, no CLIENT-SUBNET" \
    "192.0.2.1 -" "$(ask - www.dyn.example.test)"
# 203 (11001011) and 198 (11000110) part at their fifth bit: five bits decided
expect_eq "www: a subnet outside every view: the handler's list, its own rotation, scope 5" \
    "192.0.2.2 203.0.113.0/24/5" "$(ask 203.0.113.0/24 www.dyn.example.test)"
expect_eq "www: view nl went on from where it was (wraps)" \
    "192.0.2.11 198.51.100.0/24/24" "$(ask 198.51.100.0/24 www.dyn.example.test)"
expect_eq "www: a host inside the /24: view nl, scope 24" \
    "192.0.2.12 198.51.100.7/32/24" "$(ask 198.51.100.7/32 www.dyn.example.test)"
expect_eq "www: the handler's list went on from where it was" \
    "192.0.2.3 -" "$(ask - www.dyn.example.test)"

# IPv6 subnets
expect_eq "www: an IPv6 /48 of view nl, scope 48" \
    "192.0.2.13 2001:db8:1::/48/48" "$(ask 2001:db8:1::/48 www.dyn.example.test)"
expect_eq "www: a /56 inside the view's /48, scope 48" \
    "192.0.2.11 2001:db8:1:ab00::/56/48" "$(ask 2001:db8:1:ab00::/56 www.dyn.example.test)"
# 2001:db8:1:: and 2001:db8:2:: part at bit 47 (0x0001 and 0x0002 in bits 33-48)
expect_eq "www: an IPv6 /48 outside: the handler's list, scope 47" \
    "192.0.2.1 2001:db8:2::/48/47" "$(ask 2001:db8:2::/48 www.dyn.example.test)"

# nested prefixes: the longest wins, and the /25 inside decides the scope
expect_eq "nest: the /24 client of view wide: scope 25 (the /25 of view narrow lies inside)" \
    "192.0.2.21 198.51.100.0/24/25" "$(ask 198.51.100.0/24 nest.dyn.example.test)"
expect_eq "nest: a /25 client inside view narrow's /25: narrow, scope 25" \
    "192.0.2.31 198.51.100.128/25/25" "$(ask 198.51.100.128/25 nest.dyn.example.test)"
expect_eq "nest: the lower /25: view wide, next address, scope 25" \
    "192.0.2.22 198.51.100.0/25/25" "$(ask 198.51.100.0/25 nest.dyn.example.test)"
expect_eq "nest: a host in the upper half: narrow, next address" \
    "192.0.2.32 198.51.100.200/32/25" "$(ask 198.51.100.200/32 nest.dyn.example.test)"
expect_eq "nest: everyone else: the handler's list (first question of it)" \
    "192.0.2.1 203.0.113.0/24/5" "$(ask 203.0.113.0/24 nest.dyn.example.test)"

# --- match resolver: the resolver (dig's source, 127.0.0.1) decides, whatever ECS says --
expect_eq "res: match resolver: ECS in view res-nl's /24 still gets view local (127/8), scope 8" \
    "192.0.2.51 198.51.100.0/24/8
192.0.2.52 198.51.100.0/24/8" "$(asks 198.51.100.0/24 res.dyn.example.test 2)"
expect_eq "res: match resolver: ECS outside every view: view local too" \
    "192.0.2.51 203.0.113.0/24/8" "$(ask 203.0.113.0/24 res.dyn.example.test)"
expect_eq "res: match resolver, no ECS: view local" "192.0.2.52 -" "$(ask - res.dyn.example.test)"

# --- match subnet without ECS: the client is the resolver, 127.0.0.1/32 --------------------
expect_eq "lo: no ECS: the resolver 127.0.0.1 is the client, view lo" \
    "192.0.2.71 -
192.0.2.72 -" "$(asks - lo.dyn.example.test 2)"
expect_eq "lo: ECS outside 127/8: the handler's list" \
    "192.0.2.1 198.51.100.0/24/1" "$(ask 198.51.100.0/24 lo.dyn.example.test)"

# --- pdynctl: query --client does not move the rotation; status lists the views ----------
# www: view nl's next is 192.0.2.12, the handler's list's 192.0.2.2, in both copies (UDP and
# TCP), which share the rotation, each view's apart
expect_eq "pdynctl query --client 198.51.100.7: view nl's next address, the same in each copy" \
    "192.0.2.12" "$(next_of www.dyn.example.test 198.51.100.7)"
expect_eq "pdynctl query --client 198.51.100.0/24: the same" \
    "192.0.2.12" "$(next_of www.dyn.example.test 198.51.100.0/24)"
expect_eq "pdynctl query --client 203.0.113.1: the handler's next address, the same in each copy" \
    "192.0.2.2" "$(next_of www.dyn.example.test 203.0.113.1)"
expect_eq "pdynctl query --client 2001:db8:1::5: view nl" \
    "192.0.2.12" "$(next_of www.dyn.example.test 2001:db8:1::5)"
expect_eq "after the queries, view nl goes on at its next address" \
    "192.0.2.12 198.51.100.0/24/24" "$(ask 198.51.100.0/24 www.dyn.example.test)"
out=$(ctl status)
expect_match "status: www's row says its views" \
    'www\.dyn\.example\.test +A +round-robin +3 [^
]*def\.txt
 +1 view by the client subnet, 2 prefixes in all \(other clients: this list\)' "$out"
expect_match "status: view nl's row, its file and prefixes" \
    'www\.dyn\.example\.test +A +round-robin +3 [^
]*nl\.txt
 +view "nl": 2 inline prefixes' "$out"
expect_match "status: a prefix-file view" \
    "view \"probes\": 0 inline prefixes, and those of $z/probes.txt" "$out"
expect_match "status: match resolver" \
    '2 views by the resolver'"'"'s address, 2 prefixes in all' "$out"
expect_match "status: nest's views" 'view "wide": 1 inline prefixes' "$out"
expect_match "status: nest's views" 'view "narrow": 1 inline prefixes' "$out"

# --- prefix files: read at start, rewritten (a subnet moves in), a bad line --------------
expect_eq "probe: a /24 of the prefix file: view probes, scope 24" \
    "192.0.2.41 203.0.113.0/24/24" "$(ask 203.0.113.0/24 probe.dyn.example.test)"
expect_eq "probe: the file's IPv6 /48: view probes, scope 48" \
    "192.0.2.42 2001:db8:99:1::/64/48" "$(ask 2001:db8:99:1::/64 probe.dyn.example.test)"
expect_eq "probe: 198.51.100.0/24, not in the file yet: the handler's list" \
    "192.0.2.1 198.51.100.0/24/5" "$(ask 198.51.100.0/24 probe.dyn.example.test)"
printf '# the probes\n203.0.113.0/24\n2001:db8:99::/48\n198.51.100.0/24 # moved in\n' | replace "$z/probes.txt"
wait_for "192.0.2.41" next_of probe.dyn.example.test 198.51.100.1 && ok ||
    fail "the rewritten prefix file did not move 198.51.100.0/24 into view probes: $(ctl query probe.dyn.example.test A --client 198.51.100.1)"
expect_eq "probe: the next question from the subnet moved in gets view probes, scope 24" \
    "192.0.2.41 198.51.100.0/24/24" "$(ask 198.51.100.0/24 probe.dyn.example.test)"
# 192 (11000000) and 198 (11000110) part at their sixth bit
expect_eq "probe: a client still outside: the handler's list, where it was, scope 6" \
    "192.0.2.2 192.0.2.0/24/6" "$(ask 192.0.2.0/24 probe.dyn.example.test)"
gens=$(grep -c 'generation .* applied' "$dir/pdns.log")
printf '203.0.113.0/24\n2001:db8:99::/48\n198.51.100.0/24\n192.0.2.0/24\nnot-a-prefix\n' | replace "$z/probes.txt"
wait_log "$z/probes.txt:5: error: \"not-a-prefix\" is not a prefix \\(ADDRESS/LENGTH, IPv4 or IPv6\\)" && ok ||
    fail "the bad prefix line is not logged with PATH:LINE: $(grep -i 'error' "$dir/pdns.log" | tail -3)"
wait_log 'probe\.dyn\.example\.test A: keeping the previous prefixes of its views \(3\)' && ok ||
    fail "keeping the previous prefixes not logged: $(tail -3 "$dir/pdns.log")"
expect_eq "the bad prefix file is logged by each copy, nothing else about it" 2 \
    "$(grep -c 'probes.txt:5: error' "$dir/pdns.log")"
expect_eq "the bad file's good new line is not taken: 192.0.2.0/24 still the handler's list" \
    "192.0.2.3 192.0.2.0/24/6" "$(ask 192.0.2.0/24 probe.dyn.example.test)"
expect_eq "the previous prefixes keep answering: 198.51.100.0/24 in view probes" \
    "192.0.2.42 198.51.100.0/24/24" "$(ask 198.51.100.0/24 probe.dyn.example.test)"
expect_eq "the previous prefixes keep answering: 203.0.113.0/24" \
    "192.0.2.41 203.0.113.0/24/24" "$(ask 203.0.113.0/24 probe.dyn.example.test)"
expect_match "status says the prefix file's problem" 'prefixes: .*probes\.txt' "$(ctl status)"

# --- a view's address file rewritten: the view's new list; the handler's list unaffected -
printf '192.0.2.%d\n' 14 15 | replace "$z/nl.txt"
wait_for "192.0.2.14" next_of www.dyn.example.test 198.51.100.7 && ok ||
    fail "view nl did not load its new file: $(ctl query www.dyn.example.test A --client 198.51.100.7)"
expect_eq "www: view nl serves its new list from its first address" \
    "192.0.2.14 198.51.100.0/24/24
192.0.2.15 198.51.100.0/24/24
192.0.2.14 2001:db8:1::/48/48" "$(asks 198.51.100.0/24 www.dyn.example.test 2; ask 2001:db8:1::/48 www.dyn.example.test)"
expect_eq "www: the handler's list kept its file and its position" \
    "192.0.2.2 -
192.0.2.3 203.0.113.0/24/5" "$(ask - www.dyn.example.test; ask 203.0.113.0/24 www.dyn.example.test)"

# --- NXDOMAIN outside every handler, with and without ECS ---------------------------------
expect_eq "NXDOMAIN outside every handler" NXDOMAIN "$(status_of nope.dyn.example.test A)"
expect_eq "NXDOMAIN outside every handler, with ECS of a view" NXDOMAIN \
    "$(status_of +subnet=198.51.100.0/24 nope.dyn.example.test A)"
expect_eq "a view's name has no AAAA: NODATA for a client of the view" "NOERROR" \
    "$(status_of +subnet=198.51.100.0/24 www.dyn.example.test AAAA)"
expect_eq "... with an empty answer" "" "$(q +short +subnet=198.51.100.0/24 www.dyn.example.test AAAA)"
expect_eq "pdns logged no backend error or exception" "" "$(grep -iE 'backend error|exception' "$dir/pdns.log")"
stop_pid "$PDNS_PID"

# --- ABI 1: no real-remote; the resolver 127.0.0.1 decides ------------------------------
printf '192.0.2.%d\n' 11 12 13 | replace "$z/nl.txt"
printf '# the probes\n203.0.113.0/24\n' | replace "$z/probes.txt"
dir=$work/abi1
start_pdns "$dir" "$z/config.json" 1 "edns-subnet-processing=yes" || { fail "start ABI 1"; finish; }
# (no scope bits in ABI 1's answers: pdns echoes ECS with scope 0)
expect_eq "ABI 1: ECS in view nl, but the resolver 127.0.0.1 decides: the handler's list" \
    "192.0.2.1 198.51.100.0/24/0
192.0.2.2 198.51.100.0/24/0" "$(asks 198.51.100.0/24 www.dyn.example.test 2)"
expect_eq "ABI 1: view lo (127.0.0.0/8) answers, whatever ECS says" \
    "192.0.2.71
192.0.2.72
192.0.2.71" "$({ ask 198.51.100.0/24 lo.dyn.example.test; ask - lo.dyn.example.test
         ask 203.0.113.0/24 lo.dyn.example.test; } | cut -d' ' -f1)"
expect_eq "ABI 1: ECS in the prefix file's /24: the resolver decides, the handler's list" \
    "192.0.2.1" "$(ask 203.0.113.0/24 probe.dyn.example.test | cut -d' ' -f1)"
expect_eq "ABI 1: NXDOMAIN outside every handler" NXDOMAIN "$(status_of +subnet=198.51.100.0/24 nope.dyn.example.test A)"
stop_pid "$PDNS_PID"
finish
